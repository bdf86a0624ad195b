#!/bin/sh
# names-dig's bulk mode against the library it is built on and against
# adnshost, in the same run, on an NSD of our own (a benchmark, not a test):
#
#   W1        bench/client_bench.lua: 20,000 distinct PTR lookups, 500 in
#             flight, through names.client (the library's own figure; median
#             of RUNS runs)
#   names-dig bin/names-dig -f over Q PTR questions (default 1,000,000, one
#             "NAME PTR" a line, cycling over the zone's Z names), -c 500,
#             output to a file; its RSS sampled every 0.5 s
#   adnshost  adns-tools' adnshost --asynch --type ptr- -f on the same names (ptr-:
#             the raw PTR, as names-dig asks; adns's checked ptr would also
#             look up each target's address), for at most ADNS_SECONDS (default
#             60): adnshost sends every question it reads at once, with no
#             bound, so on a million it fills memory and the server drops most
#             of them; the row gives what it answered in that time
#
# NSD serves 10.in-addr.arpa with Z PTR records (default 65,536) on
# 127.0.0.1#BENCH_PORT, and on ADNS_ADDR#53 (default 127.54.70.1) for
# adnshost, whose resolv.conf syntax takes no port: binding port 53 needs
# root; without it the adnshost row is left out. Everything lives in
# build/bench-dig/; NSD runs in the foreground as a child of this script, on
# loopback only, and is stopped by its pid at the end, on failure and on
# interrupt too. Every client run is bounded by `timeout`.
#
#   sh bench/run-dig.sh
#   Q=200000 RUNS=3 BENCH_PORT=54700 sh bench/run-dig.sh

set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root" || exit 1

PORT=${BENCH_PORT:-53700}
ADNS_ADDR=${ADNS_ADDR:-127.54.70.1}
Q=${Q:-1000000}
Z=${Z:-65536}
K=${K:-500}
RUNS=${RUNS:-3}
ADNS_SECONDS=${ADNS_SECONDS:-60}
dir=$root/build/bench-dig
nsd_pid=
sampler_pid=

say() { echo "bench: $*" >&2; }
die() { say "error: $*"; exit 1; }

stop_nsd() {
    if [ -n "$sampler_pid" ]; then
        kill "$sampler_pid" 2>/dev/null
        wait "$sampler_pid" 2>/dev/null
        sampler_pid=
    fi
    if [ -n "$nsd_pid" ]; then
        kill "$nsd_pid" 2>/dev/null
        i=0
        while kill -0 "$nsd_pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$nsd_pid" 2>/dev/null
        wait "$nsd_pid" 2>/dev/null
        nsd_pid=
    fi
}
trap stop_nsd EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

NSD=$(command -v nsd 2>/dev/null || echo /usr/sbin/nsd)
[ -x "$NSD" ] || die "nsd is not installed (Debian: apt-get install nsd)"
make -s all || die "the module does not build"
mkdir -p "$dir"

# ---- the zone, the questions ------------------------------------------------------
zone=$dir/10.in-addr.arpa.zone
{
    echo '$ORIGIN 10.in-addr.arpa.'
    echo '$TTL 3600'
    echo '@ SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 300'
    echo '@ NS ns.bench.test.'
    awk -v n="$Z" 'BEGIN { for (i = 0; i < n; i++) printf "%d.%d.0 PTR host-%d.bench.test.\n", i % 256, int(i / 256) % 256, i }'
} >"$zone"
names=$dir/names.txt
awk -v q="$Q" -v z="$Z" 'BEGIN { for (i = 0; i < q; i++) { j = i % z; printf "%d.%d.0.10.in-addr.arpa\n", j % 256, int(j / 256) % 256 } }' >"$names"
questions=$dir/questions.txt
sed 's/$/ PTR/' "$names" >"$questions"

# ---- NSD ---------------------------------------------------------------------------
write_conf() { # ADDRESSES...
    {
        echo "# written by bench/run-dig.sh"
        echo "server:"
        for a in "$@"; do echo "    ip-address: $a"; done
        cat <<EOF
    do-ip4: yes
    do-ip6: no
    server-count: 1
    reuseport: no
    username: ""
    chroot: ""
    zonesdir: "$dir"
    database: ""
    zonelistfile: "$dir/zone.list"
    xfrdfile: "$dir/xfrd.state"
    xfrdir: "$dir"
    pidfile: "$dir/nsd.pid"
    logfile: "$dir/nsd.log"
    verbosity: 1
    hide-version: yes
    receive-buffer-size: 8388608
    send-buffer-size: 8388608
    tcp-count: 16
    refuse-any: yes
remote-control:
    control-enable: no
zone:
    name: "10.in-addr.arpa"
    zonefile: "$zone"
EOF
    } >"$dir/nsd.conf"
    nsd-checkconf "$dir/nsd.conf" || die "nsd-checkconf rejects $dir/nsd.conf"
}

pin_server= pin_client=
if [ "${PIN:-1}" != 0 ] && command -v taskset >/dev/null 2>&1 && [ "$(nproc 2>/dev/null || echo 1)" -ge 2 ]; then
    pin_server="taskset -c 1"
    pin_client="taskset -c 0"
fi

answers() { # ADDRESS: whether NSD answers there (dig, at that address only)
    dig +time=1 +tries=1 +short -p "$2" "@$1" 1.0.0.10.in-addr.arpa PTR 2>/dev/null | grep -q host-
}

start_nsd() { # ADDRESSES...
    write_conf "$@"
    rm -f "$dir/zone.list" "$dir/xfrd.state" "$dir/nsd.log"
    $pin_server "$NSD" -d -c "$dir/nsd.conf" >"$dir/nsd.out" 2>&1 &
    nsd_pid=$!
    i=0
    until answers 127.0.0.1 "$PORT"; do
        if ! kill -0 "$nsd_pid" 2>/dev/null; then
            wait "$nsd_pid" 2>/dev/null
            nsd_pid=
            return 1
        fi
        i=$((i + 1))
        [ $i -lt 100 ] || die "nsd does not answer on 127.0.0.1#$PORT"
        sleep 0.1
    done
}

adns=0
if command -v adnshost >/dev/null 2>&1 && start_nsd "127.0.0.1@$PORT" "$ADNS_ADDR@53" && answers "$ADNS_ADDR" 53; then
    adns=1
else
    stop_nsd
    say "adnshost left out (not installed, or NSD cannot listen on $ADNS_ADDR#53: root is needed)"
    start_nsd "127.0.0.1@$PORT" || { cat "$dir/nsd.out" "$dir/nsd.log" >&2 2>/dev/null; die "nsd did not start"; }
fi
say "nsd (pid $nsd_pid) serves $Z PTR records on 127.0.0.1#$PORT$( [ $adns = 1 ] && echo " and $ADNS_ADDR#53")"

# ---- the runs -------------------------------------------------------------------------
# timed RESULT-FILE COMMAND...: wall seconds, user and system CPU seconds,
# peak RSS (kB) of the command, into RESULT-FILE
timed() {
    f=$1
    shift
    /usr/bin/time -f "%e %U %S %M" -o "$f" "$@"
}

results=$dir/results.txt
: >"$results"
r=1
while [ $r -le "$RUNS" ]; do
    line=$(LUA_PATH="$root/lua/?.lua;;" LUA_CPATH="$root/build/?.so;;" $pin_client timeout 300 \
        lua5.4 bench/client_bench.lua 127.0.0.1 "$PORT" 20000 "$K") || die "client_bench failed: $line"
    echo "$line" >>"$results"
    say "W1 run $r: $line"
    r=$((r + 1))
done
median() { # FIELD of the W1 lines
    awk -v f="$1" '$1 ~ /^lua/ { print $f }' "$results" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
w1=$(median 5)
w1_cpu=$(median 6)

# names-dig, its RSS sampled every half second
rss=$dir/rss.txt
: >"$rss"
env -u LUA_PATH -u LUA_CPATH $pin_client timeout 900 /usr/bin/time -f "%e %U %S %M" -o "$dir/time.dig" \
    bin/names-dig @127.0.0.1 -p "$PORT" -f "$questions" -c "$K" +time=5 +tries=2 \
    >"$dir/out.dig" 2>"$dir/err.dig" &
dig_pid=$!
descendants() { # PID: it and every process below it
    echo "$1"
    for c in $(pgrep -P "$1" 2>/dev/null); do descendants "$c"; done
}
(
    t0=$(date +%s.%N)
    while kill -0 "$dig_pid" 2>/dev/null; do
        # the Lua process, below timeout and time
        for p in $(descendants "$dig_pid"); do
            kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null)
            cmd=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)
            case $cmd in *lua*names-dig*) echo "$(echo "$(date +%s.%N) - $t0" | bc) $kb $(wc -l <"$dir/out.dig")" ;; esac
        done
        sleep 0.5
    done
) >>"$rss" &
sampler_pid=$!
wait "$dig_pid" || die "names-dig failed: $(tail -3 "$dir/err.dig")"
wait "$sampler_pid" 2>/dev/null
sampler_pid=
read -r dig_wall dig_user dig_sys dig_rss <"$dir/time.dig"
dig_lines=$(wc -l <"$dir/out.dig")
dig_ok=$(grep -c 'NOERROR' "$dir/out.dig")

if [ $adns = 1 ]; then
    # time outside timeout: it still reports when timeout stops adnshost
    $pin_client /usr/bin/time -f "%e %U %S %M" -o "$dir/time.adns" \
        timeout "$ADNS_SECONDS" adnshost +e --config "nameserver $ADNS_ADDR" --asynch --type ptr- -f \
        <"$names" >"$dir/out.adns" 2>"$dir/err.adns"
    adns_status=$?
    tail -n 1 "$dir/time.adns" >"$dir/time.adns.last"
    read -r adns_wall adns_user adns_sys adns_rss <"$dir/time.adns.last"
    adns_ok=$(grep -c ' PTR ' "$dir/out.adns")
    # one status line a finished question: "ID NRRS STATUS ..."
    adns_lines=$(awk '$1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+$/ && $3 ~ /^[a-z]+$/' "$dir/out.adns" | wc -l)
    [ "$adns_status" = 124 ] && say "adnshost stopped after $ADNS_SECONDS s: $adns_lines of $Q questions finished"
fi

# ---- the table ---------------------------------------------------------------------------
echo
echo "$Q PTR questions (the $Z names of the zone, in turn), $K in flight, NSD $("$NSD" -v 2>&1 | sed -n 's/^NSD version //p') on loopback${pin_client:+ (server on CPU 1, client on CPU 0)}"
echo
printf '| %-34s | %10s | %9s | %12s | %9s | %10s |\n' client questions "queries/s" "CPU us/query" "peak RSS" "/ W1 q/s"
printf '|%s|%s|%s|%s|%s|%s|\n' "------------------------------------" "-----------:" "----------:" "-------------:" "----------:" "-----------:"
awk -v w1="$w1" -v c="$w1_cpu" 'BEGIN { printf "| %-34s | %10s | %9.0f | %12.2f | %9s | %10.2f |\n", "W1: names.client, 20,000 lookups", "20,000", w1, c, "", 1 }'
awk -v n="$dig_lines" -v w="$dig_wall" -v u="$dig_user" -v s="$dig_sys" -v m="$dig_rss" -v w1="$w1" -v ok="$dig_ok" \
    'BEGIN { printf "| %-34s | %10d | %9.0f | %12.2f | %6.1f MB | %10.2f |\n", "names-dig -f (" ok " answered)", n, n / w, (u + s) * 1e6 / n, m / 1024, n / w / w1 }'
if [ $adns = 1 ]; then
    awk -v n="$adns_lines" -v q="$Q" -v w="$adns_wall" -v u="$adns_user" -v s="$adns_sys" -v m="$adns_rss" -v w1="$w1" \
        -v ok="$adns_ok" -v v="$(dpkg-query -W -f='${Version}' adns-tools 2>/dev/null)" \
        'BEGIN { printf "| %-34s | %10s | %9.0f | %12.2f | %6.1f MB | %10.2f |\n", "adnshost " v " --asynch (" ok " answered)", n " of " q, ok / w, (u + s) * 1e6 / (n > 0 ? n : 1), m / 1024, ok / w / w1 }'
fi
echo
echo "names-dig's RSS during the run (seconds, MB, lines written), every ~10 % of the samples:"
echo
awk 'NF == 3 { t[NR] = $1; m[NR] = $2; l[NR] = $3 } END {
    step = int(NR / 10); if (step < 1) step = 1
    for (i = 1; i <= NR; i += step) printf "  %6.1f s  %6.1f MB  %8d\n", t[i], m[i] / 1024, l[i]
    if ((NR - 1) % step) printf "  %6.1f s  %6.1f MB  %8d\n", t[NR], m[NR] / 1024, l[NR]
}' "$rss"
echo
echo "names-dig's summary:"
sed 's/^/  /' "$dir/err.dig"

stop_nsd
