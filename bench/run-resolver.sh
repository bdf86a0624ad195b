#!/bin/sh
# The resolver benchmark, every client on the same NSD of our own on
# 127.0.0.1#BENCH_PORT (default 53700), in one run:
#
#   W1  N = 20,000 distinct PTR lookups, K = 500 in flight
#   W2  the same, one in flight (queries per second)
#   W3  N distinct A lookups (host-I.bench.test), K in flight
#
# The clients (each prints one line, bench/resolver_bench.c's):
#   raw            a UDP client on sendmmsg/recvmmsg (the floor)
#   cares          c-ares (libc-ares-dev), ares_query on a poll loop
#   core           our resolver through its C API (EDNS off, no cache)
#   lua-chain-inc  lua-names from Lua as a user has it:
#   lua-chain-gen    client.createResolver{servers = ...} and lookupPointer /
#                    lookupAddress, Deferreds and result objects, under the
#                    incremental and the generational collector
#                    (bench/client_bench.lua)
#   lua-resolver   lua-names' client.Resolver alone (no hosts file, no
#                  cache, EDNS off), incremental collector
#   cqueues        cqueues.dns (lua-cqueues, Lua 5.4; bench/cqueues_bench.lua)
#   resty          lua-resty-dns in nginx's LuaJIT (lua-nginx-dns,
#                  libnginx-mod-http-lua; bench/run-resty.sh)
#   twisted        Twisted Names' client.Resolver (bench/twisted_bench.py)
#   dnspython      dnspython's asyncio queries (bench/dnspython_bench.py)
# (PEERS=0: the C clients and lua-names only; a peer that is not installed
# is left out.)
#
# RUNS runs (default 5), interleaved: each run does W1, W2 and W3 with
# every client in turn; the table gives the medians. Then:
#   - peak RSS of lua-names' chain at N and at NBIG (default 200,000)
#     distinct PTR lookups, one run each collector (NBIG=0 skips it), each
#     name made when it is asked (NAMES=lazy: the program's own list of
#     names would grow with N);
#   - the micro-benchmarks (bench/micro_bench.lua), both collectors;
#   - callgrind (CALLGRIND=0 skips it): the C clients' timed part (user
#     space), for W1 and W3; the Lua clients' whole process, the difference
#     between a run of N and one of N/10 lookups, for W1 (lua-names and its
#     Lua peers) and W3 (lua-names, incremental collector); the
#     micro-benchmarks' calls, the difference between 10,000 and 2,000 calls.
# The server is pinned to CPU 1 and each client to CPU 0 (taskset) when
# there are two CPUs or more (PIN=0: the scheduler's choice).
#
#   sh bench/run-resolver.sh                 # from the checkout root
#   RUNS=1 CALLGRIND=0 NBIG=0 sh bench/run-resolver.sh   # a quick look
#   RUNS=9 N=20000 K=500 sh bench/run-resolver.sh
#
# The raw numbers go to bench/results/ (runs.txt, rss.txt, micro.txt,
# callgrind.txt, meta.txt; per run, not committed); bench/report.sh turns
# them into bench/results/table.md and bench/results/chart.png and prints
# the table. Scratch (nsd.conf, the zones, NSD's pid, log and state, the
# benchmark binary, callgrind's output, nginx's prefixes) lives in
# build/bench/. NSD runs in the foreground (-d) as a child of this script,
# with no remote control, IPv4 on loopback only; it is stopped by its pid
# when the script ends, on failure and on interrupt too.

set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root" || exit 1

PORT=${BENCH_PORT:-53700}
N=${N:-20000}
K=${K:-500}
RUNS=${RUNS:-5}
NBIG=${NBIG:-200000}
CALLGRIND=${CALLGRIND:-1}
PEERS=${PEERS:-1}
BUILD=${BUILD:-build}
dir=$root/build/bench
out=$root/bench/results
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
mkdir -p "$dir" "$out"
make --no-print-directory BUILD="$BUILD" all "$BUILD/libnames.a" >&2 || die "the core does not build"
UV_CFLAGS=$(pkg-config --cflags libuv 2>/dev/null)
UV_LIBS=$(pkg-config --libs libuv 2>/dev/null || echo -luv)
# the core's encrypted transports: OpenSSL and nghttp2
TLS_LIBS=$(pkg-config --libs libssl libcrypto libnghttp2 2>/dev/null || echo -lssl -lcrypto -lnghttp2)
${CC:-cc} -std=c99 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Icsrc $UV_CFLAGS \
    -o "$bin" bench/resolver_bench.c "$BUILD/libnames.a" -lcares $UV_LIBS $TLS_LIBS ||
    die "bench/resolver_bench.c does not build"

# ---- NSD and its zones -------------------------------------------------------------
# 10.in-addr.arpa: Z.X.Y PTR host-I.bench.test. (I = Z*65536 + X*256 + Y);
# bench.test: host-I A 10.Z.X.Y; as many as the largest run asks, so that
# every name of every run is distinct and answered
records=$N
[ "$NBIG" -gt "$records" ] && records=$NBIG
ptr_zone=$dir/10.in-addr.arpa.zone
a_zone=$dir/bench.test.zone
{
    echo '$ORIGIN 10.in-addr.arpa.'
    echo '$TTL 3600'
    echo '@ SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 300'
    echo '@ NS ns.bench.test.'
    awk -v n="$records" 'BEGIN { for (i = 0; i < n; i++)
        printf "%d.%d.%d PTR host-%d.bench.test.\n", i % 256, int(i / 256) % 256, int(i / 65536), i }'
} >"$ptr_zone"
{
    echo '$ORIGIN bench.test.'
    echo '$TTL 3600'
    echo '@ SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 300'
    echo '@ NS ns.bench.test.'
    echo 'ns A 127.0.0.1'
    awk -v n="$records" 'BEGIN { for (i = 0; i < n; i++)
        printf "host-%d A 10.%d.%d.%d\n", i, int(i / 65536), int(i / 256) % 256, i % 256 }'
} >"$a_zone"
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
    # no response rate limiting: it counts every NODATA of a zone as one
    # answer (the AAAA lookups of getHostByName, bench/micro_bench.lua) and
    # drops most of them past 200 a second
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: "10.in-addr.arpa"
    zonefile: "$ptr_zone"
zone:
    name: "bench.test"
    zonefile: "$a_zone"
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

# wait until it answers the last name of each zone (a raw run of one query
# asks the first; 100 ms apart)
i=0
until timeout 10 "$bin" raw 127.0.0.1 "$PORT" 1 1 >/dev/null 2>&1 &&
    QTYPE=a timeout 10 "$bin" raw 127.0.0.1 "$PORT" 1 1 >/dev/null 2>&1; do
    kill -0 "$nsd_pid" 2>/dev/null || { cat "$dir/nsd.out" "$dir/nsd.log" >&2 2>/dev/null; die "nsd did not start"; }
    i=$((i + 1))
    [ $i -lt 300 ] || die "nsd does not answer on 127.0.0.1#$PORT"
    sleep 0.1
done
say "nsd (pid $nsd_pid) serves $records PTR and $records A records on 127.0.0.1#$PORT"

# ---- the clients ---------------------------------------------------------------------
clients="raw cares core lua-chain-inc lua-chain-gen lua-resolver"
if [ "$PEERS" != 0 ]; then
    lua5.4 -e 'require "cqueues.dns.resolver"' 2>/dev/null && clients="$clients cqueues"
    if command -v nginx >/dev/null 2>&1 && [ -r /usr/lib/nginx/modules/ngx_http_lua_module.so ] &&
        [ -r /usr/share/lua/5.1/nginx/dns/resolver.lua ]; then
        clients="$clients resty"
    fi
    /usr/bin/python3 -c "import twisted.names" 2>/dev/null && clients="$clients twisted"
    /usr/bin/python3 -c "import dns.asyncquery" 2>/dev/null && clients="$clients dnspython"
fi

names_mode=
lua_env() { env LUA_PATH="$root/lua/?.lua;;" LUA_CPATH="$root/$BUILD/?.so;;" "$@"; }

# run_client CLIENT QTYPE N K [WRAP...]: one run, its line on stdout
run_client() {
    rc_c=$1 rc_q=$2 rc_n=$3 rc_k=$4
    shift 4
    case $rc_c in
    lua-chain-inc) lua_env QTYPE=$rc_q NAMES=$names_mode $pin_client timeout 900 "$@" lua5.4 bench/client_bench.lua 127.0.0.1 "$PORT" "$rc_n" "$rc_k" chain inc ;;
    lua-chain-gen) lua_env QTYPE=$rc_q NAMES=$names_mode $pin_client timeout 900 "$@" lua5.4 bench/client_bench.lua 127.0.0.1 "$PORT" "$rc_n" "$rc_k" chain gen ;;
    lua-resolver) lua_env QTYPE=$rc_q NAMES=$names_mode $pin_client timeout 900 "$@" lua5.4 bench/client_bench.lua 127.0.0.1 "$PORT" "$rc_n" "$rc_k" resolver inc ;;
    cqueues) QTYPE=$rc_q $pin_client timeout 900 "$@" lua5.4 bench/cqueues_bench.lua 127.0.0.1 "$PORT" "$rc_n" "$rc_k" ;;
    resty) QTYPE=$rc_q PIN="$pin_client" WRAP="$*" TIMEOUT=900 sh bench/run-resty.sh 127.0.0.1 "$PORT" "$rc_n" "$rc_k" ;;
    twisted) QTYPE=$rc_q $pin_client timeout 300 /usr/bin/python3 bench/twisted_bench.py 127.0.0.1 "$PORT" "$rc_n" "$rc_k" ;;
    dnspython) QTYPE=$rc_q $pin_client timeout 300 /usr/bin/python3 bench/dnspython_bench.py 127.0.0.1 "$PORT" "$rc_n" "$rc_k" ;;
    *) QTYPE=$rc_q $pin_client timeout 300 "$@" "$bin" "$rc_c" 127.0.0.1 "$PORT" "$rc_n" "$rc_k" ;;
    esac
}

workload() { # W -> "QTYPE K"
    case $1 in
    W1) echo "ptr $K" ;;
    W2) echo "ptr 1" ;;
    W3) echo "a $K" ;;
    esac
}

# ---- the runs, interleaved -------------------------------------------------------------
runs=$out/runs.txt
: >"$runs"
r=1
while [ "$r" -le "$RUNS" ]; do
    for w in W1 W2 W3; do
        set -- $(workload $w)
        for c in $clients; do
            line=$(run_client "$c" "$1" "$N" "$2") || die "$c on $w failed: $line"
            echo "$w $c $line" >>"$runs"
            say "run $r $w: $line"
        done
    done
    r=$((r + 1))
done

# ---- peak RSS from N to NBIG lookups -------------------------------------------------
rss=$out/rss.txt
: >"$rss"
if [ "$NBIG" -gt "$N" ]; then
    names_mode=lazy
    for c in lua-chain-inc lua-chain-gen; do
        for n in "$N" "$NBIG"; do
            line=$(run_client "$c" ptr "$n" "$K") || die "$c, $n lookups, failed: $line"
            echo "RSS $c $line" >>"$rss"
            say "peak RSS: $line"
        done
    done
    names_mode=
fi

# ---- micro-benchmarks ---------------------------------------------------------------
micro=$out/micro.txt
: >"$micro"
for gc in inc gen; do
    lua_env $pin_client timeout 300 lua5.4 bench/micro_bench.lua 127.0.0.1 "$PORT" "$dir/hosts" "$gc" >>"$micro" ||
        die "bench/micro_bench.lua failed"
done
say "micro: $(tr '\n' ';' <"$micro")"

# ---- callgrind ----------------------------------------------------------------------
cg=$out/callgrind.txt
: >"$cg"
totals() { # FILE -> instructions
    callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }'
}
# callgrind's counts do not depend on the timing, so its runs go two at a
# time, unpinned (the client pinned to CPU 0 above would have them queue)
job_pids=
cg_job() { # COMMAND...: run it in the background, at most two at once
    "$@" &
    job_pids="$job_pids $!"
    set -- $job_pids
    if [ $# -ge 2 ]; then
        wait "$@"
        job_pids=
    fi
}
cg_wait() {
    [ -z "$job_pids" ] || wait $job_pids
    job_pids=
}
# cg_client W CLIENT N FILE [VALGRIND OPTIONS...]: one run under callgrind
cg_client() {
    cw=$1 cc=$2 cn=$3 cf=$4
    shift 4
    cq=$(workload "$cw")
    ck=${cq#* } cq=${cq% *}
    run_client "$cc" "$cq" "$cn" "$ck" valgrind --tool=callgrind --callgrind-out-file="$cf" "$@" \
        >"${cf%.out}.txt" 2>"${cf%.out}.log" || say "$cc under callgrind: $(cat "${cf%.out}.txt")"
}
if [ "$CALLGRIND" != 0 ] && command -v valgrind >/dev/null 2>&1; then
    rm -f "$dir"/callgrind.*
    pinned_client=$pin_client
    pin_client=
    n1=$((N / 10))
    # the C clients: the timed part only (CALLGRIND_TOGGLE_COLLECT)
    for w in W1 W3; do
        for c in raw cares core; do
            cg_job cg_client "$w" "$c" "$N" "$dir/callgrind.$w.$c.out" --collect-atstart=no
        done
    done
    # the Lua clients: the whole process, N less N/10 lookups; W3 for
    # lua-names only
    lua_clients=lua-chain-inc
    for c in lua-chain-gen lua-resolver cqueues resty; do
        case " $clients " in *" $c "*) lua_clients="$lua_clients $c" ;; esac
    done
    # (the long runs first, so that the pairs are of runs of about one length)
    for n in "$N" "$n1"; do
        for w in W1 W3; do
            for c in $lua_clients; do
                [ "$w" = W1 ] || [ "$c" = lua-chain-inc ] || continue
                cg_job cg_client "$w" "$c" "$n" "$dir/callgrind.$w.$c.$n.out"
            done
        done
    done
    # the micro-benchmarks: 10,000 calls less 2,000, incremental collector
    micro_cases="cache-lookupAddress cache-getHostByName hosts-getHostByName"
    for n in 10000 2000; do
        for case in $micro_cases; do
            cg_job lua_env timeout 600 valgrind --tool=callgrind \
                --callgrind-out-file="$dir/callgrind.micro.$case.$n.out" \
                lua5.4 bench/micro_bench.lua 127.0.0.1 "$PORT" "$dir/hosts.$case.$n" inc "$case" "$n" \
                >/dev/null 2>"$dir/callgrind.micro.$case.$n.log"
        done
    done
    cg_wait
    pin_client=$pinned_client

    for w in W1 W3; do
        for c in raw cares core; do
            awk -v w="$w" -v c="$c" -v ir="$(totals "$dir/callgrind.$w.$c.out")" -v n="$N" \
                'BEGIN { if (ir > 0) printf "CG %s %s %.0f\n", w, c, ir / n }' >>"$cg"
        done
        for c in $lua_clients; do
            [ "$w" = W1 ] || [ "$c" = lua-chain-inc ] || continue
            awk -v w="$w" -v c="$c" -v a="$(totals "$dir/callgrind.$w.$c.$n1.out")" \
                -v b="$(totals "$dir/callgrind.$w.$c.$N.out")" -v n="$((N - n1))" \
                'BEGIN { if (a > 0 && b > 0) printf "CG %s %s %.0f\n", w, c, (b - a) / n }' >>"$cg"
        done
    done
    for case in $micro_cases; do
        awk -v c="$case" -v a="$(totals "$dir/callgrind.micro.$case.2000.out")" \
            -v b="$(totals "$dir/callgrind.micro.$case.10000.out")" \
            'BEGIN { if (a > 0 && b > 0) printf "CG micro %s %.0f\n", c, (b - a) / 8000 }' >>"$cg"
    done
    say "callgrind: $(tr '\n' ';' <"$cg")"
fi

stop_nsd

# ---- what and where -------------------------------------------------------------------
{
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "nproc=$(nproc 2>/dev/null)"
    echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
    echo "kernel=$(uname -sr)"
    echo "commit=$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- lua csrc bench ':!bench/results' 2>/dev/null || echo '+changes')"
    echo "command=${BENCH_COMMAND:-sh bench/run-resolver.sh}"
    echo "runs=$RUNS"
    echo "n=$N"
    echo "k=$K"
    echo "nbig=$NBIG"
    echo "pinned=${pin_client:+yes}"
    echo "nsd=$("$NSD" -v 2>&1 | sed -n 's/^NSD version //p')"
    echo "cares=$(pkg-config --modversion libcares 2>/dev/null)"
    echo "lua=$(lua5.4 -v 2>&1 | awk '{ print $2 }')"
    echo "cqueues=$(dpkg-query -W -f='${Version}' lua-cqueues 2>/dev/null)"
    echo "nginx=$(dpkg-query -W -f='${Version}' nginx 2>/dev/null)"
    echo "nginxlua=$(dpkg-query -W -f='${Version}' libnginx-mod-http-lua 2>/dev/null)"
    echo "restydns=$(dpkg-query -W -f='${Version}' lua-nginx-dns 2>/dev/null)"
    echo "twisted=$(/usr/bin/python3 -c 'import twisted; print(twisted.__version__)' 2>/dev/null)"
    echo "dnspython=$(/usr/bin/python3 -c 'import dns.version; print(dns.version.version)' 2>/dev/null)"
    echo "clients=$clients"
} >"$out/meta.txt"

sh bench/report.sh
