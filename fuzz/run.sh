#!/bin/sh
# Build and run every libFuzzer target fuzz/fuzz_*.c for a bounded time.
#
#   sh fuzz/run.sh [TARGET...]      (make fuzz; default: every target)
#
# Each target links with the core (csrc/*.c but the lua_* binding files),
# built with clang -fsanitize=fuzzer,address,undefined into build/fuzz/.
# A target fuzz/fuzz_NAME.c runs for FUZZ_SECONDS (default 60) over a work
# corpus build/fuzz/corpus/NAME/ (kept between runs, never committed) seeded
# from fuzz/corpus/NAME/ when that exists; fuzz_message also takes
# spec/data/c-ares-fuzzinput/ and spec/data/regressions/ as seeds. A crash
# leaves its input in build/fuzz/crashes/ (copy it into spec/data/regressions/
# when fixed) and makes the script exit non-zero.
#
# Environment: FUZZ_SECONDS, FUZZ_ARGS (more libFuzzer flags, e.g.
# "-jobs=2 -workers=2"), CLANG (default clang).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root" || exit 1

SECONDS_EACH=${FUZZ_SECONDS:-60}
CLANG=${CLANG:-clang}
out=build/fuzz
mkdir -p "$out/obj" "$out/corpus" "$out/crashes" || exit 1

if ! command -v "$CLANG" >/dev/null 2>&1; then
    echo "fuzz: $CLANG not found (apt-get install clang)" >&2
    exit 1
fi

CFLAGS="-std=c99 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
 -Wall -Wextra -Werror -Icsrc -Ifuzz $(pkg-config --cflags libuv libssl libnghttp2 2>/dev/null)"
LIBS="$(pkg-config --libs libuv 2>/dev/null || echo -luv) \
 $(pkg-config --libs libssl libcrypto libnghttp2 2>/dev/null || echo -lssl -lcrypto -lnghttp2)"

# The core, once: every csrc/*.c that is not a Lua binding file.
objs=
for src in csrc/*.c; do
    case $src in csrc/lua_*) continue ;; esac
    obj=$out/obj/$(basename "$src" .c).o
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find csrc -name '*.h' -newer "$obj" 2>/dev/null | head -n 1)" ]; then
        # shellcheck disable=SC2086 # CFLAGS is a list of flags
        $CLANG $CFLAGS -c "$src" -o "$obj" || { echo "fuzz: cannot build $src" >&2; exit 1; }
    fi
    objs="$objs $obj"
done

if [ $# -gt 0 ]; then
    targets=
    for t in "$@"; do targets="$targets fuzz/fuzz_${t#fuzz_}.c"; done
else
    targets=$(ls fuzz/fuzz_*.c 2>/dev/null)
fi

status=0
summary=
for src in $targets; do
    name=$(basename "$src" .c)
    short=${name#fuzz_}
    bin=$out/$name
    echo "== $name: building"
    # shellcheck disable=SC2086
    if ! $CLANG $CFLAGS -fsanitize=fuzzer -o "$bin" "$src" $objs $LIBS; then
        echo "!! $name does not build"
        status=1
        summary="$summary $name:build-failed"
        continue
    fi
    work=$out/corpus/$short
    mkdir -p "$work"
    seeds=
    [ -d "fuzz/corpus/$short" ] && seeds="$seeds fuzz/corpus/$short"
    if [ "$short" = message ]; then
        for d in spec/data/c-ares-fuzzinput spec/data/regressions; do
            [ -d "$d" ] && seeds="$seeds $d"
        done
    fi
    echo "== $name: ${SECONDS_EACH}s over $work$seeds"
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$out/crashes/$name-" \
        ${FUZZ_ARGS:-} "$work" $seeds >"$out/$name.log" 2>&1
    rc=$?
    tail -n 12 "$out/$name.log" | grep -E 'stat::number_of_executed_runs|stat::new_units_added|Done|ERROR|SUMMARY|#[0-9]+' | tail -n 4
    if [ $rc -ne 0 ]; then
        echo "!! $name failed (status $rc); see $out/$name.log and $out/crashes/"
        status=1
        summary="$summary $name:FAILED"
    else
        summary="$summary $name:ok"
    fi
done
echo "fuzz:$summary"
exit $status
