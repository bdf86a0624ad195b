# The resolver benchmark as a chart (bench/report.sh runs it):
#   gnuplot -e "datafile='bench/results/chart.dat'; outfile='bench/results/chart.png'; when='DATE'" bench/chart.gp
# Left: client CPU per lookup, W1 (PTR) and W3 (A), 500 in flight;
# right: queries per second with one in flight (W2) and with 500 (W1).
# Log scales: the clients span two orders of magnitude.
set terminal pngcairo size 1400,620 font "DejaVu Sans,11"
set output outfile
set datafile separator whitespace
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set grid ytics mytics lc rgb "#dddddd"
set xtics rotate by 35 right nomirror
set ytics nomirror
set key top left
set multiplot layout 1,2 title "lua-names and its peers, 20,000 distinct lookups on NSD over loopback (medians), ".when
set title "client CPU per lookup (µs, user + system; lower is better)"
set yrange [1:1000]
set format y "%g"
plot datafile using 2:xtic(1) title "W1: PTR, 500 in flight" lc rgb "#1f77b4", \
     '' using 3 title "W3: A, 500 in flight" lc rgb "#ff7f0e"
set title "queries per second (higher is better)"
set yrange [1000:400000]
set format y "%.0f"
plot datafile using 5:xtic(1) title "W2: PTR, 1 in flight" lc rgb "#2ca02c", \
     '' using 4 title "W1: PTR, 500 in flight" lc rgb "#9467bd"
unset multiplot
