#!/bin/sh
# Run the C tests and the hostile corpus under AddressSanitizer and
# UndefinedBehaviorSanitizer:
#
#   sh spec/support/run-sanitized.sh BUILD      (make asan: BUILD=build/asan)
#
# BUILD holds programs built with clang -fsanitize=address,undefined
# -fno-sanitize-recover=all: every BUILD/ctest/* program is run, then
# BUILD/support/replay_corpus over spec/data/c-ares-fuzzinput,
# spec/data/regressions and every fuzz/corpus/*/ (fuzz/check_message.h and
# fuzz/check_name.h on each input). A program's own "N passed, N failed"
# line is added up; a sanitizer report, a crash, a hang or a missing count
# line counts as 1 failed beside it. The last line is the total,
# "N passed, N failed". NAMES_SANITIZE_TIMEOUT bounds each program (300 s).
set -u

BUILD=${1:?usage: run-sanitized.sh BUILD}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 1
TIMEOUT=${NAMES_SANITIZE_TIMEOUT:-300}

# Sanitizer findings end the program with status 86 and a report on stderr.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:exitcode=86:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=86}
export ASAN_OPTIONS UBSAN_OPTIONS

passed=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sanitized.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# run_counted NAME COMMAND...: run it, add its count line, show failures
run_counted() {
    name=$1
    shift
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
    if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: .*Sanitizer' "$tmp/out"; then
        extra=1
        why="a sanitizer report"
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
        echo "!! $name: $line${extra:+ }$( [ "$extra" -ne 0 ] && echo "($why)")"
        grep -E 'FAIL|ERROR|runtime error|SUMMARY|^    #[0-9]' "$tmp/out" | head -n 40
    else
        echo "ok $name: $line"
    fi
}

n=0
for t in "$BUILD"/ctest/*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    case $t in *.d|*.o) continue ;; esac
    n=$((n + 1))
    run_counted "$t" "$t"
done
[ "$n" -gt 0 ] || { echo "!! no C test programs in $BUILD/ctest"; failed=$((failed + 1)); }

replay=$BUILD/support/replay_corpus
if [ -x "$replay" ]; then
    set -- spec/data/c-ares-fuzzinput spec/data/regressions
    for d in fuzz/corpus/*/; do [ -d "$d" ] && set -- "$@" "${d%/}"; done
    run_counted "$replay (corpus)" "$replay" "$@"
else
    echo "!! $replay is missing (make support)"
    failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
