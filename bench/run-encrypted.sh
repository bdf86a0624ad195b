#!/bin/sh
# DNS over TLS and DNS over HTTPS beside UDP and TCP, on one named of the
# benchmark's own (spec/support/servers.sh with its state in build/benchenv:
# port BENCH_PORT, TLS listeners from BENCH_PORT+150, all on 127.0.0.1),
# through names.client (bench/encrypted_bench.lua):
#   W1  N1 lookups one after the other (latency)
#   W2  N2 lookups, K in flight (throughput)
# then the cost of a connection with a full and with a resumed TLS
# handshake, and kdig +tls and dig +https as reference clients (one
# connection per query, as they work).  Bounded: every run stops by itself.
#   N1=1000 N2=10000 K=200 sh bench/run-encrypted.sh
set -u
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
BENCH_PORT=${BENCH_PORT:-53700}
N1=${N1:-1000}
N2=${N2:-10000}
K=${K:-200}
NREF=${NREF:-200}
NAMES_TESTENV=$root/build/benchenv
NAMES_TEST_PORT=$BENCH_PORT
NAMES_TEST_BAD_BASE=$((BENCH_PORT + 10))
NAMES_TEST_TLS_BASE=$((BENCH_PORT + 150))
export NAMES_TESTENV NAMES_TEST_PORT NAMES_TEST_BAD_BASE NAMES_TEST_TLS_BASE

DEPS_EXTRA="knot-dnsutils time" sh spec/support/deps.sh || exit 1
make -s all || exit 1
sh spec/support/servers.sh start >"$root/build/bench-servers.log" 2>&1 ||
    { cat "$root/build/bench-servers.log" >&2; exit 1; }
trap 'sh spec/support/servers.sh stop >/dev/null 2>&1' EXIT
trap 'exit 1' INT TERM
CA=$NAMES_TESTENV/certs/ca.pem
TLS=$NAMES_TEST_TLS_BASE
DOH=$((NAMES_TEST_TLS_BASE + 1))
lua() { LUA_PATH="lua/?.lua;;" LUA_CPATH="build/?.so;;" timeout 600 lua5.4 "$@"; }

echo "| transport | workload | queries | answered | seconds | queries/s | CPU µs/query |"
echo "|---|---|---:|---:|---:|---:|---:|"
lua bench/encrypted_bench.lua "$BENCH_PORT" "$TLS" "$DOH" "$CA" "$N1" "$N2" "$K" |
    awk '{ printf "| %s | %s | %d | %d | %.2f | %d | %.1f |\n", $1, $2, $3, $4, $5, $6, $7 }'
echo
echo "| connection | connections | resumed | ms/connection (handshake + one query) | CPU µs/connection |"
echo "|---|---:|---:|---:|---:|"
lua bench/encrypted_bench.lua handshakes "$TLS" "$CA" 200 |
    awk '{ sub("resumed=", "", $4); printf "| %s | %d | %d | %.2f | %d |\n", $2, $3, $4, $5, $7 }'
echo

# kdig and dig: NREF names on one command line, each its own connection
names=
i=1
while [ $i -le "$NREF" ]; do names="$names r$i.example.test"; i=$((i + 1)); done
echo "| reference client | queries | seconds | queries/s | CPU µs/query |"
echo "|---|---:|---:|---:|---:|"
ref() { # ref LABEL COMMAND...
    label=$1
    shift
    /usr/bin/time -o "$root/build/bench-time.txt" -f "%e %U %S" "$@" >/dev/null 2>&1
    tail -n 1 "$root/build/bench-time.txt" | awk -v l="$label" -v n="$NREF" '{ printf "| %s | %d | %.2f | %d | %.0f |\n", l, n, $1, ($1 > 0 ? n / $1 : 0), ($2 + $3) * 1e6 / n }'
}
# shellcheck disable=SC2086 # a list of names
ref "kdig +tls (knot-dnsutils)" timeout 300 kdig @127.0.0.1 -p "$TLS" +tls-ca="$CA" \
    +tls-hostname=dns.example.test +noall +answer $names
# shellcheck disable=SC2086
ref "dig +https (bind9-dnsutils)" timeout 300 dig @127.0.0.1 -p "$DOH" +https +noall +answer $names
# shellcheck disable=SC2086
ref "dig +tls (bind9-dnsutils)" timeout 300 dig @127.0.0.1 -p "$TLS" +tls +noall +answer $names
