#!/bin/sh
# The resolver benchmark: 20,000 PTR lookups, 500 in flight, against an NSD
# of our own on 127.0.0.1:53700, in the same run:
#
#   raw     a UDP client on sendmmsg/recvmmsg (the floor)
#   c-ares  c-ares 1.18 (libc-ares-dev), ares_query on a poll loop
#   core    our resolver through its C API (nm_resolver_query; EDNS off, no cache)
#   lua     names.client from Lua: the whole stack, Deferreds and result objects
#           (bench/client_bench.lua; EDNS off, no cache)
#   twisted Twisted Names' client.Resolver (bench/twisted_bench.py)
#   dnspython  dnspython's asyncio queries (bench/dnspython_bench.py)
#   (PEERS=0: the C clients only; the Python peers run when installed)
#
# For each: the median over RUNS runs (default 5, interleaved) of queries per
# second and CPU microseconds per query (getrusage user+sys / queries), and
# the ratios to the raw client; then one run of each C client under
# `valgrind --tool=callgrind` for instructions per query (user space only,
# the timed part only), and for the Lua client the difference between a
# run of N and one of N/10 lookups.
#
#   sh bench/run-resolver.sh            # from the checkout root
#   RUNS=9 N=20000 K=500 sh bench/run-resolver.sh
#   CALLGRIND=0 sh bench/run-resolver.sh   # skip callgrind
#
# Everything lives in build/bench/: nsd.conf, the zone (10.in-addr.arpa with
# N PTR records), NSD's pid, log and state, the benchmark binary, the raw
# results (results.txt) and callgrind's output. NSD runs in the foreground
# (-d) as a child of this script, with no remote control, IPv4 on loopback
# only; it is stopped by its pid when the script ends, on failure and on
# interrupt too.

set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root" || exit 1

PORT=${BENCH_PORT:-53700}
N=${N:-20000}
K=${K:-500}
RUNS=${RUNS:-5}
CALLGRIND=${CALLGRIND:-1}
BUILD=${BUILD:-build}
dir=$root/build/bench
bin=$dir/resolver_bench
nsd_pid=

say() { echo "bench: $*" >&2; }
die() { say "error: $*"; exit 1; }

stop_nsd() {
    if [ -n "$nsd_pid" ]; then
        kill "$nsd_pid" 2>/dev/null
        i=0
        while kill -0 "$nsd_pid" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
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
[ -r /usr/include/ares.h ] || die "c-ares headers missing (Debian: apt-get install libc-ares-dev)"

# ---- build ---------------------------------------------------------------------
mkdir -p "$dir"
make --no-print-directory BUILD="$BUILD" "$BUILD/libnames.a" >&2 || die "the core does not build"
UV_CFLAGS=$(pkg-config --cflags libuv 2>/dev/null)
UV_LIBS=$(pkg-config --libs libuv 2>/dev/null || echo -luv)
${CC:-cc} -std=c99 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Icsrc $UV_CFLAGS \
    -o "$bin" bench/resolver_bench.c "$BUILD/libnames.a" -lcares $UV_LIBS ||
    die "bench/resolver_bench.c does not build"

# ---- NSD and its zone ------------------------------------------------------------
zone=$dir/10.in-addr.arpa.zone
{
    echo '$ORIGIN 10.in-addr.arpa.'
    echo '$TTL 3600'
    echo '@ SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 300'
    echo '@ NS ns.bench.test.'
    awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "%d.%d.0 PTR host-%d.bench.test.\n", i % 256, int(i / 256), i }'
} >"$zone"
cat >"$dir/nsd.conf" <<EOF
# written by bench/run-resolver.sh
server:
    ip-address: 127.0.0.1
    port: $PORT
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
nsd-checkconf "$dir/nsd.conf" || die "nsd-checkconf rejects $dir/nsd.conf"
rm -f "$dir/zone.list" "$dir/xfrd.state" "$dir/nsd.log"
# with two CPUs or more, the server and the client each get one (less noise
# from the scheduler moving them); PIN=0 leaves that to the scheduler
pin_server= pin_client=
if [ "${PIN:-1}" != 0 ] && command -v taskset >/dev/null 2>&1 && [ "$(nproc 2>/dev/null || echo 1)" -ge 2 ]; then
    pin_server="taskset -c 1"
    pin_client="taskset -c 0"
fi
$pin_server "$NSD" -d -c "$dir/nsd.conf" >"$dir/nsd.out" 2>&1 &
nsd_pid=$!

# wait until it answers (a raw run of one query, 100 ms apart)
i=0
until timeout 10 "$bin" raw 127.0.0.1 "$PORT" 1 1 >/dev/null 2>&1; do
    kill -0 "$nsd_pid" 2>/dev/null || { cat "$dir/nsd.out" "$dir/nsd.log" >&2 2>/dev/null; die "nsd did not start"; }
    i=$((i + 1))
    [ $i -lt 100 ] || die "nsd does not answer on 127.0.0.1#$PORT"
    sleep 0.1
done
say "nsd (pid $nsd_pid) serves $N PTR records on 127.0.0.1#$PORT"

# ---- the runs ----------------------------------------------------------------------
results=$dir/results.txt
: >"$results"
# the C clients, then (PEERS=0 leaves them out) whole stacks on the same
# load: lua-names from Lua (names.client, Deferreds and all), Twisted Names
# and dnspython (asyncio), each printing the same line as resolver_bench
cclients="raw cares core"
clients=$cclients
if [ "${PEERS:-1}" != 0 ]; then
    clients="$clients lua"
    /usr/bin/python3 -c "import twisted.names" 2>/dev/null && clients="$clients twisted"
    /usr/bin/python3 -c "import dns.asyncquery" 2>/dev/null && clients="$clients dnspython"
fi
run_client() { # MODE
    case $1 in
    lua) LUA_PATH="$root/lua/?.lua;;" LUA_CPATH="$root/$BUILD/?.so;;" \
        $pin_client timeout 300 lua5.4 bench/client_bench.lua 127.0.0.1 "$PORT" "$N" "$K" ;;
    twisted) $pin_client timeout 300 /usr/bin/python3 bench/twisted_bench.py 127.0.0.1 "$PORT" "$N" "$K" ;;
    dnspython) $pin_client timeout 300 /usr/bin/python3 bench/dnspython_bench.py 127.0.0.1 "$PORT" "$N" "$K" ;;
    *) $pin_client timeout 120 "$bin" "$1" 127.0.0.1 "$PORT" "$N" "$K" ;;
    esac
}
r=1
while [ $r -le "$RUNS" ]; do
    for c in $clients; do
        line=$(run_client "$c") || die "$c failed: $line"
        echo "$line" >>"$results"
        say "run $r: $line"
    done
    r=$((r + 1))
done

median() { # MODE FIELD
    awk -v m="$1" -v f="$2" '$1 == m { print $f }' "$results" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

raw_qps=$(median raw 5)
raw_cpu=$(median raw 6)
echo
echo "$N PTR lookups, $K in flight, NSD $("$NSD" -v 2>&1 | sed -n 's/^NSD version //p') on 127.0.0.1${pin_client:+ (server on CPU 1, client on CPU 0)}, median of $RUNS runs"
echo
printf '| %-30s | %9s | %12s | %9s | %9s | %9s | %9s |\n' client qps "CPU us/query" user sys "qps / raw" "CPU / raw"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' "--------------------------------" "-----------" "--------------" "-----------" "-----------" "-----------" "-----------"
for c in $clients; do
    qps=$(median "$c" 5)
    cpu=$(median "$c" 6)
    usr=$(median "$c" 7)
    sys=$(median "$c" 8)
    case $c in
    raw) label="raw UDP (sendmmsg/recvmmsg)" ;;
    cares) label="c-ares $(pkg-config --modversion libcares 2>/dev/null)" ;;
    core) label="lua-names core (C API)" ;;
    lua) label="lua-names from Lua (client)" ;;
    twisted) label="Twisted Names $(/usr/bin/python3 -c 'import twisted; print(twisted.__version__)' 2>/dev/null)" ;;
    dnspython) label="dnspython $(/usr/bin/python3 -c 'import dns.version; print(dns.version.version)' 2>/dev/null)" ;;
    esac
    awk -v l="$label" -v q="$qps" -v c="$cpu" -v u="$usr" -v s="$sys" -v rq="$raw_qps" -v rc="$raw_cpu" \
        'BEGIN { printf "| %-30s | %9.0f | %12.2f | %9.2f | %9.2f | %9.2f | %9.2f |\n", l, q, c, u, s, q / rq, c / rc }'
done

if [ "$CALLGRIND" != 0 ] && command -v valgrind >/dev/null 2>&1; then
    echo
    echo "Instructions per query (callgrind, user space, the timed part only; one run each):"
    echo
    for c in $cclients; do
        out=$dir/callgrind.$c.out
        $pin_client timeout 600 valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$out" \
            "$bin" "$c" 127.0.0.1 "$PORT" "$N" "$K" >"$dir/callgrind.$c.txt" 2>"$dir/callgrind.$c.log" ||
            say "$c under callgrind: $(cat "$dir/callgrind.$c.txt")"
        ir=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
        awk -v c="$c" -v ir="${ir:-0}" -v n="$N" 'BEGIN { printf "  %-6s %8.0f instructions/query\n", c, ir / n }'
    done
    case " $clients " in
    *" lua "*)
        # the Lua client counts from start (module loading, the names): the
        # difference between N and N/10 lookups is the cost of the lookups
        n1=$((N / 10))
        for n in "$n1" "$N"; do
            out=$dir/callgrind.lua.$n.out
            LUA_PATH="$root/lua/?.lua;;" LUA_CPATH="$root/$BUILD/?.so;;" $pin_client timeout 900 \
                valgrind --tool=callgrind --callgrind-out-file="$out" \
                lua5.4 bench/client_bench.lua 127.0.0.1 "$PORT" "$n" "$K" >"$dir/callgrind.lua.$n.txt" \
                2>"$dir/callgrind.lua.$n.log" || say "lua under callgrind: $(cat "$dir/callgrind.lua.$n.txt")"
        done
        ir1=$(callgrind_annotate "$dir/callgrind.lua.$n1.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
        ir2=$(callgrind_annotate "$dir/callgrind.lua.$N.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
        awk -v a="${ir1:-0}" -v b="${ir2:-0}" -v n="$((N - n1))" -v n1="$n1" -v n2="$N" \
            'BEGIN { printf "  %-6s %8.0f instructions/query (the whole run of %d lookups less that of %d)\n", "lua", (b - a) / n, n2, n1 }'
        ;;
    esac
    echo "  (callgrind_annotate $dir/callgrind.core.out shows where)"
fi

stop_nsd
