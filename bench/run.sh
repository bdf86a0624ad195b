#!/bin/sh
# make bench: every benchmark of lua-names, each beside its peers in the
# same run, as markdown tables (medians of RUNS runs, default 5):
#
#   1. Deferreds: create, one callback, fire       bench/defer_bench.lua
#   2. the codec: core, c-ares, ldns, Lua           bench/run-codec.sh
#   3. the resolver: raw UDP, c-ares, the core, the Lua client, Twisted
#      Names, dnspython, 20,000 PTR lookups on an NSD of its own
#                                                   bench/run-resolver.sh
#
# Installs the peers first when they are missing (nsd, libc-ares-dev,
# libldns-dev, python3-twisted, python3-dnspython). Every server it starts
# listens on 127.0.0.1 only and is stopped by pid at the end.
#   RUNS=9 sh bench/run.sh      CALLGRIND=0 sh bench/run.sh (no instruction counts)
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
sh bench/run-resolver.sh 2>/dev/null || echo "bench: the resolver benchmark failed" >&2
