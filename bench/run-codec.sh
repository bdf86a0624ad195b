#!/bin/sh
# The codec benchmark: decoding a ~90-byte PTR answer and a ~1.2 KB answer
# of 20 A/AAAA/TXT records (plus NS and glue), in ns per message, median of
# RUNS runs (default 5):
#
#   core                nm_msg_parse + a visit of every field of every record
#   c-ares 1.18         ares_parse_ptr_reply; ares_parse_a/aaaa/txt_reply
#   ldns 1.8            ldns_wire2pkt
#   lua core.decode     into names.dns Message objects (bench/codec_lua_bench.lua)
#   lua constructors    the same Lua objects built by generated table
#                       constructors, nothing decoded: the floor for Lua
#
#   sh bench/run-codec.sh                 # from the checkout root (make bench-codec)
#   RUNS=9 ROUNDS=500000 sh bench/run-codec.sh
#   CALLGRIND=0 sh bench/run-codec.sh     # skip the instruction counts
#
# Times on a shared or virtual machine wander; so the table also gives
# instructions per message (valgrind --tool=callgrind, the difference
# between 1000 and 3000 decodes, so start-up does not count), which do not.
#
# Builds the module (make) and build/bench/codec_bench (cc -O2, linked with
# build/libnames.a, -lcares, -lldns: apt-get install libc-ares-dev
# libldns-dev); the two messages are written to build/bench/*.bin.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root" || exit 1

RUNS=${RUNS:-5}
CALLGRIND=${CALLGRIND:-1}
ROUNDS=${ROUNDS:-200000}
LUA=${LUA:-lua5.4}
CC=${CC:-cc}
dir=build/bench
mkdir -p "$dir" || exit 1

make -s all >/dev/null || { echo "bench: make failed" >&2; exit 1; }
# shellcheck disable=SC2046 # pkg-config prints a list of flags
$CC -std=c99 -D_GNU_SOURCE -O2 -g -Icsrc $(pkg-config --cflags libuv 2>/dev/null) \
    -o "$dir/codec_bench" bench/codec_bench.c build/libnames.a \
    -lcares -lldns $(pkg-config --libs libuv 2>/dev/null || echo -luv) \
    $(pkg-config --libs libssl libcrypto libnghttp2 2>/dev/null || echo -lssl -lcrypto -lnghttp2) ||
    { echo "bench: cannot build codec_bench (libc-ares-dev, libldns-dev?)" >&2; exit 1; }

out=$dir/codec-results.txt
"$dir/codec_bench" "$dir" "$ROUNDS" "$RUNS" >"$out" || exit 1
"$LUA" bench/codec_lua_bench.lua "$dir" "$ROUNDS" "$RUNS" >>"$out" || exit 1

# instructions per message: callgrind's count for 3000 decodes less 1000's
irs() { # irs COMMAND... (with N last, filled in)
    a=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 1000 2>&1 | sed -n 's/.*Collected : //p')
    b=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 3000 2>&1 | sed -n 's/.*Collected : //p')
    if [ -n "$a" ] && [ -n "$b" ]; then echo $(((b - a) / 2000)); else echo 0; fi
}
: >"$dir/codec-irs.txt"
if [ "$CALLGRIND" = 1 ] && command -v valgrind >/dev/null 2>&1; then
    while IFS="$(printf '\t')" read -r name msg bytes ns; do
        case $name in
        "lua core.decode") ir=$(irs "$LUA" bench/codec_lua_bench.lua --only "$dir" "$msg") ;;
        lua*) ir=$(irs "$LUA" bench/codec_lua_bench.lua --only-floor "$dir" "$msg") ;;
        *) ir=$(irs "$dir/codec_bench" --only "$name" "$msg") ;;
        esac
        printf '%s\t%s\t%s\n' "$name" "$msg" "$ir" >>"$dir/codec-irs.txt"
    done <"$out"
fi

awk -F '\t' '
    FILENAME ~ /irs/ { ir[$1 "\t" $2] = $3; next }
    { n++; name[n] = $1; msg[n] = $2; size[$2] = $3; ns[n] = $4
      if ($1 == "c-ares ptr_reply") cares["ptr"] = $4
      if ($1 ~ /^c-ares (a|aaaa|txt)_reply$/ && (!("large" in cares) || $4 < cares["large"])) cares["large"] = $4 }
    END {
        printf "%-26s %-7s %6s %11s %9s %13s\n", "decoder", "message", "bytes", "ns/message", "x c-ares", "instructions"
        for (i = 1; i <= n; i++) {
            k = name[i] "\t" msg[i]
            printf "%-26s %-7s %6d %11d %9.2f %13s\n", name[i], msg[i], size[msg[i]], ns[i], ns[i] / cares[msg[i]],
                (k in ir && ir[k] > 0) ? ir[k] : "-"
        }
        printf "(x c-ares: against ares_parse_ptr_reply for ptr, and the fastest of ares_parse_a/aaaa/txt_reply\n"
        printf " for large, each of which walks the whole message and extracts one type; times are medians of\n"
        printf " '"$RUNS"' interleaved runs; instructions per message from callgrind)\n"
    }' "$dir/codec-irs.txt" "$out"
