#!/bin/sh
# make bench: every benchmark of lua-names, each beside its peers in the
# same run, as markdown tables (medians of RUNS runs, default 5):
#
#   1. Deferreds: create, one callback, fire       bench/defer_bench.lua
#   2. the codec: core, c-ares, ldns, Lua           bench/run-codec.sh
#   3. the resolver on an NSD of its own: W1 (20,000 distinct PTR lookups,
#      500 in flight), W2 (one in flight), W3 (A lookups) for raw UDP,
#      c-ares, the core, lua-names from Lua (createResolver under both
#      collectors, client.Resolver), cqueues.dns, lua-resty-dns in nginx,
#      Twisted Names and dnspython; peak RSS from 20,000 to 200,000
#      lookups; the cache-hit and hosts-hit micro-benchmarks; callgrind
#      counts; the tables of bench/results/table.md and the chart
#      bench/results/chart.png               bench/run-resolver.sh, report.sh
#   4. encrypted DNS: W1/W2 over UDP, TCP, DoT, DoH, handshakes, kdig/dig
#                                                   bench/run-encrypted.sh
#   5. names-dig's bulk mode: 1,000,000 PTR questions beside W1 and adnshost
#                                                   bench/run-dig.sh
#
# Installs the peers first when they are missing (DEPS_EXTRA below). Every
# server it starts listens on 127.0.0.1 only (nginx on nothing) and is
# stopped by pid at the end. About 12 minutes on 2 CPUs with RUNS=5.
#   RUNS=9 sh bench/run.sh      CALLGRIND=0 sh bench/run.sh (no instruction counts)
#   RUNS=1 CALLGRIND=0 NBIG=0 make bench    (a quick look, 2 minutes)
set -u
cd "$(dirname "$0")/.." || exit 1

DEPS_EXTRA="nsd libc-ares-dev libldns-dev python3-twisted python3-dnspython lua-cqueues nginx libnginx-mod-http-lua lua-nginx-dns gnuplot-nox" \
    sh spec/support/deps.sh || exit 1
make -s all || exit 1

echo "## Deferreds"
echo
LUA_PATH="lua/?.lua;;" lua5.4 bench/defer_bench.lua
echo
echo "## The codec"
echo
sh bench/run-codec.sh 2>/dev/null || echo "bench: the codec benchmark failed" >&2
echo
echo "## The resolver"
echo
mkdir -p build/bench
echo "(progress: build/bench/run-resolver.log)" >&2
command="make bench"
[ "${RUNS:-5}" = 5 ] || command="RUNS=$RUNS $command"
BENCH_COMMAND=$command sh bench/run-resolver.sh 2>build/bench/run-resolver.log ||
    { tail -n 5 build/bench/run-resolver.log >&2; echo "bench: the resolver benchmark failed" >&2; }
echo
echo "## Encrypted DNS"
echo
sh bench/run-encrypted.sh 2>/dev/null || echo "bench: the encrypted DNS benchmark failed" >&2
echo
echo "## names-dig's bulk mode"
echo
# bench/run-dig.sh: 1,000,000 PTR questions beside W1 and adnshost (adns-tools)
DEPS_EXTRA="adns-tools" sh spec/support/deps.sh >&2 &&
    sh bench/run-dig.sh 2>/dev/null || echo "bench: the names-dig benchmark failed" >&2
