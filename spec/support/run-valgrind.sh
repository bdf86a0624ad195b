#!/bin/sh
# Run the C tests and the seed corpora under valgrind (memcheck):
#
#   sh spec/support/run-valgrind.sh BUILD       (make valgrind: BUILD=build)
#
# Every BUILD/ctest/* program and BUILD/support/replay_corpus over the seed
# corpora (spec/data/c-ares-fuzzinput, spec/data/regressions, fuzz/corpus/*/)
# run under valgrind --error-exitcode=1 --leak-check=full. A program's own
# "N passed, N failed" line is added up; a valgrind error (exit 99 here), a
# leak, a crash or a missing count line counts as 1 failed beside it. The
# last line is the total, "N passed, N failed". NAMES_VALGRIND_TIMEOUT
# bounds each program (600 s); NAMES_VALGRIND_SKIP lists ctest programs to
# leave out (by name, e.g. "test_resolver"). NAMES_UNDER_VALGRIND=1 is
# exported, for a test that wants to relax a time bound.
set -u
NAMES_UNDER_VALGRIND=1
export NAMES_UNDER_VALGRIND

BUILD=${1:?usage: run-valgrind.sh BUILD}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 1
TIMEOUT=${NAMES_VALGRIND_TIMEOUT:-600}
VALGRIND=${VALGRIND:-valgrind}

if ! command -v "$VALGRIND" >/dev/null 2>&1; then
    echo "!! valgrind not found (apt-get install valgrind)"
    echo "0 passed, 1 failed"
    exit 1
fi

passed=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/valgrind.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

run_counted() {
    name=$1
    shift
    # no --track-origins: it doubles the time (timed checks in the tests
    # would miss their bounds); add it by hand to find an origin
    set -- "$VALGRIND" -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible "$@"
    if command -v timeout >/dev/null 2>&1; then
        timeout "$TIMEOUT" "$@" >"$tmp/out" 2>&1 </dev/null
    else
        "$@" >"$tmp/out" 2>&1 </dev/null
    fi
    rc=$?
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$tmp/out" | tail -n 1)
    p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    f=$(echo "$line" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p')
    p=${p:-0}
    f=${f:-0}
    extra=0
    why=
    if [ "$rc" -eq 99 ] || grep -q -E '^==[0-9]+== .*(Invalid|uninitialised|definitely lost|indirectly lost|possibly lost|Mismatched)' "$tmp/out"; then
        extra=1
        why="valgrind found errors"
    elif [ "$rc" -eq 124 ]; then
        extra=1
        why="timed out after $TIMEOUT s"
    elif [ "$rc" -gt 128 ] || [ -z "$line" ]; then
        extra=1
        why="status $rc, no count line"
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        extra=1
        why="status $rc with nothing failed"
    fi
    passed=$((passed + p))
    failed=$((failed + f + extra))
    if [ "$f" -ne 0 ] || [ "$extra" -ne 0 ]; then
        echo "!! $name: $line ${why}"
        grep -E 'FAIL|^==[0-9]+==' "$tmp/out" | head -n 40
    else
        echo "ok $name: $line"
    fi
}

n=0
for t in "$BUILD"/ctest/*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    case $t in *.d|*.o) continue ;; esac
    case " ${NAMES_VALGRIND_SKIP:-} " in *" $(basename "$t") "*) echo "-- $t skipped"; continue ;; esac
    n=$((n + 1))
    run_counted "$t" "$t"
done
[ "$n" -gt 0 ] || { echo "!! no C test programs in $BUILD/ctest"; failed=$((failed + 1)); }

replay=$BUILD/support/replay_corpus
if [ -x "$replay" ]; then
    set -- spec/data/c-ares-fuzzinput spec/data/regressions
    for d in fuzz/corpus/*/; do [ -d "$d" ] && set -- "$@" "${d%/}"; done
    run_counted "$replay (seed corpora)" "$replay" "$@"
else
    echo "!! $replay is missing (make support)"
    failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
