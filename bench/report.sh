#!/bin/sh
# The resolver benchmark's report: reads the raw numbers bench/run-resolver.sh
# left in bench/results/ (runs.txt, rss.txt, micro.txt, callgrind.txt,
# meta.txt), writes bench/results/table.md (the README's performance tables,
# markdown) and bench/results/chart.png (gnuplot-nox; its data in
# chart.dat), and prints the table.
#
#   sh bench/report.sh        # again, from the same raw numbers
#
# Every figure of a client is the median of its RUNS runs; the ratios are
# of those medians (CPU per query: the client's over c-ares' and over the
# raw client's; queries per second: the same way round, so that more than
# 1 is faster for both).
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=$here/results
[ -s "$out/runs.txt" ] || { echo "report: no $out/runs.txt: run bench/run-resolver.sh first" >&2; exit 1; }
touch "$out/rss.txt" "$out/micro.txt" "$out/callgrind.txt" "$out/meta.txt"

awk -v chartdat="$out/chart.dat" '
function median(key,    n, i, j, t, v) {
    n = count[key]
    if (n == 0) return ""
    for (i = 1; i <= n; i++) v[i] = vals[key, i]
    for (i = 2; i <= n; i++) {            # insertion sort: a handful of values
        t = v[i]
        for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]
        v[j + 1] = t
    }
    return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function add(key, v) { vals[key, ++count[key]] = v }
function num(v, d) { return v == "" ? "–" : sprintf("%." d "f", v) }
function thousands(v,    s, r) {
    if (v == "") return "–"
    s = sprintf("%.0f", v)
    r = ""
    while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
    return s r
}
function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "–" : sprintf(a / b < 1 ? "%.2f×" : "%.1f×", a / b) }
function mb(kb) { return kb == "" ? "–" : sprintf("%.1f MB", kb / 1024) }
function label(c) {
    if (c == "raw") return "raw C UDP, `sendmmsg`/`recvmmsg`"
    if (c == "cares") return "c-ares " meta["cares"] " (C)"
    if (c == "core") return "lua-names core (C API, no cache)"
    if (c == "lua-chain-inc") return "**lua-names from Lua**, `createResolver`, incremental GC"
    if (c == "lua-chain-gen") return "**lua-names from Lua**, `createResolver`, generational GC"
    if (c == "lua-resolver") return "lua-names from Lua, `client.Resolver` (no hosts, no cache)"
    if (c == "cqueues") return "cqueues.dns " meta["cqueues"] " (Lua 5.4)"
    if (c == "resty") return "lua-resty-dns " meta["restydns"] " (LuaJIT, in nginx " meta["nginx"] ")"
    if (c == "twisted") return "Twisted Names " meta["twisted"] " (CPython)"
    if (c == "dnspython") return "dnspython " meta["dnspython"] " (asyncio)"
    return c
}
function short(c) {
    if (c == "raw") return "raw UDP"
    if (c == "cares") return "c-ares"
    if (c == "core") return "core (C)"
    if (c == "lua-chain-inc") return "lua-names inc"
    if (c == "lua-chain-gen") return "lua-names gen"
    if (c == "lua-resolver") return "lua-names Resolver"
    if (c == "cqueues") return "cqueues.dns"
    if (c == "resty") return "lua-resty-dns"
    if (c == "twisted") return "Twisted"
    if (c == "dnspython") return "dnspython"
    return c
}
FILENAME ~ /meta.txt$/ { i = index($0, "="); if (i) meta[substr($0, 1, i - 1)] = substr($0, i + 1); next }
FILENAME ~ /runs.txt$/ {
    w = $1; c = $2
    if (!(c in seen)) { seen[c] = 1; order[++nclients] = c }
    add(w SUBSEP c SUBSEP "qps", $7); add(w SUBSEP c SUBSEP "cpu", $8)
    add(w SUBSEP c SUBSEP "user", $9); add(w SUBSEP c SUBSEP "sys", $10)
    add(w SUBSEP c SUBSEP "rss", $11)
    next
}
FILENAME ~ /rss.txt$/ { rss[$2, $4] = $11; if (!($4 in rssn)) { rssn[$4] = 1; rsssizes[++nrss] = $4 } ; next }
FILENAME ~ /micro.txt$/ { micro[$1] = $2 " " $3 " " $4; nmicro++; next }
FILENAME ~ /callgrind.txt$/ { if ($2 == "micro") cgmicro[$3] = $4; else cg[$2, $3] = $4; next }
END {
    for (i = 1; i <= nclients; i++) {
        c = order[i]
        for (wi = 1; wi <= 3; wi++) {
            w = "W" wi
            split("qps cpu user sys rss", fs, " ")
            for (f = 1; f <= 5; f++) m[w, c, fs[f]] = median(w SUBSEP c SUBSEP fs[f])
        }
    }
    printf "Measured %s on %s CPUs (%s, %s), lua-names %s: `%s`.\n", meta["date"], meta["nproc"],
        meta["cpu"], meta["kernel"], meta["commit"], meta["command"] == "" ? "make bench" : meta["command"]
    printf "NSD %s on 127.0.0.1%s; %s distinct names per run; medians of %s runs, interleaved.\n",
        meta["nsd"], meta["pinned"] == "yes" ? ", pinned to CPU 1, each client pinned to CPU 0" : "",
        thousands(meta["n"]), meta["runs"]
    printf "W1: PTR lookups, %s in flight. W2: the same, one in flight. W3: A lookups, %s in flight.\n", meta["k"], meta["k"]
    printf "CPU: the client process'"'"'s user + system time per lookup; peak RSS: its VmHWM. Instructions: callgrind, user space, per lookup (C clients: the timed part; Lua clients: the whole process, a run of %s lookups less one of %s).\n\n",
        thousands(meta["n"]), thousands(meta["n"] / 10)
    print "| client | W1 CPU µs/query | × c-ares | × raw | W1 instr./lookup | W3 CPU µs/query | × c-ares | × raw | W3 instr./lookup |"
    print "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= nclients; i++) {
        c = order[i]
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", label(c),
            num(m["W1", c, "cpu"], 1), ratio(m["W1", c, "cpu"], m["W1", "cares", "cpu"]), ratio(m["W1", c, "cpu"], m["W1", "raw", "cpu"]),
            thousands(cg["W1", c]),
            num(m["W3", c, "cpu"], 1), ratio(m["W3", c, "cpu"], m["W3", "cares", "cpu"]), ratio(m["W3", c, "cpu"], m["W3", "raw", "cpu"]),
            thousands(cg["W3", c])
    }
    print ""
    print "| client | W1 queries/s | W3 queries/s | W2 queries/s | W2 × c-ares | W2 × raw | peak RSS W1 | peak RSS W2 |"
    print "|---|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= nclients; i++) {
        c = order[i]
        printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", label(c),
            thousands(m["W1", c, "qps"]), thousands(m["W3", c, "qps"]), thousands(m["W2", c, "qps"]),
            ratio(m["W2", c, "qps"], m["W2", "cares", "qps"]), ratio(m["W2", c, "qps"], m["W2", "raw", "qps"]),
            mb(m["W1", c, "rss"]), mb(m["W2", c, "rss"])
    }
    if (nrss >= 2) {
        print ""
        printf "Peak RSS of lua-names from Lua (`createResolver`, W1 with %s in flight) by the number of distinct lookups; the chain'"'"'s cache keeps at most 10,000 answers (its default `maxEntries`), so every name misses it and from the 10,001st on the oldest answers leave it; each name is made when it is asked (a list of them made beforehand, as in the runs above, would grow with N); one run each:\n\n", meta["k"]
        hdr = "| collector |"; sep = "|---|"
        for (j = 1; j <= nrss; j++) { hdr = hdr " " thousands(rsssizes[j]) " lookups |"; sep = sep "---:|" }
        print hdr " × |"
        print sep "---:|"
        split("lua-chain-inc lua-chain-gen", rc, " ")
        for (j = 1; j <= 2; j++) {
            c = rc[j]
            row = "| " (c == "lua-chain-inc" ? "incremental" : "generational") " |"
            for (q = 1; q <= nrss; q++) row = row " " mb(rss[c, rsssizes[q]]) " |"
            row = row " " ratio(rss[c, rsssizes[nrss]], rss[c, rsssizes[1]]) " |"
            print row
        }
    }
    if (nmicro > 0) {
        print ""
        print "Answers that never touch the network, through a `createResolver{servers = ..., hosts = path}` chain: µs per call over a loop of 20,000 calls (cycling over 1,000 names), each Deferred fired before the call returns; best and median of 5 rounds; bytes allocated per call with the collector stopped (2,000 calls); instructions per call (callgrind, 10,000 calls less 2,000, incremental collector):\n"
        print "| call | µs/call incremental (best / median) | µs/call generational (best / median) | bytes/call | instr./call |"
        print "|---|---:|---:|---:|---:|"
        split("cache-lookupAddress cache-getHostByName hosts-getHostByName", cs, " ")
        split("`lookupAddress` answered from the cache|`getHostByName` answered from the cache|`getHostByName` answered from the hosts file", cl, "|")
        for (j = 1; j <= 3; j++) {
            split(micro["micro-" cs[j] "-inc"], a, " "); split(micro["micro-" cs[j] "-gen"], b, " ")
            printf "| %s | %s / %s | %s / %s | %s | %s |\n", cl[j], num(a[1], 2), num(a[2], 2), num(b[1], 2), num(b[2], 2),
                thousands(a[3]), thousands(cgmicro[cs[j]])
        }
    }
    # the chart data: one row per client
    print "# client w1_cpu w3_cpu w1_qps w2_qps w3_qps" > chartdat
    for (i = 1; i <= nclients; i++) {
        c = order[i]
        printf "\"%s\" %s %s %s %s %s\n", short(c), m["W1", c, "cpu"], m["W3", c, "cpu"], m["W1", c, "qps"],
            m["W2", c, "qps"], m["W3", c, "qps"] > chartdat
    }
}' "$out/meta.txt" "$out/runs.txt" "$out/rss.txt" "$out/micro.txt" "$out/callgrind.txt" >"$out/table.md" ||
    { echo "report: awk failed" >&2; exit 1; }

if command -v gnuplot >/dev/null 2>&1; then
    date=$(sed -n 's/^date=//p' "$out/meta.txt")
    gnuplot -e "datafile='$out/chart.dat'; outfile='$out/chart.png'; when='$date'" "$here/chart.gp" ||
        echo "report: gnuplot failed" >&2
else
    echo "report: no gnuplot (Debian: gnuplot-nox): no chart" >&2
fi

cat "$out/table.md"
echo
echo "(raw numbers in bench/results/*.txt; the chart: bench/results/chart.png)"
