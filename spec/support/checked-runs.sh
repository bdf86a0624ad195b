# The part run-sanitized.sh and run-valgrind.sh share (sourced, not run):
# every BUILD/ctest/* program, then BUILD/support/replay_corpus over the
# seed corpora, each under $WRAP; a program's own "N passed, N failed" line
# is added up, and a finding of the tool, a crash, a hang or a missing
# count line counts as 1 failed beside it. The last line is the total.
#
# The caller sets: BUILD, TIMEOUT, WRAP (a command prefix, may be empty),
# FINDING_RC (the status the tool exits with on a finding), FINDING_RE (an
# egrep pattern of its reports), SHOW_RE (what to show of a failure), SKIP
# (ctest program names to leave out).

passed=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/checked.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# run_counted NAME COMMAND...: run it, add its count line, show failures
run_counted() {
    name=$1
    shift
    # shellcheck disable=SC2086 # WRAP is a list of words
    set -- $WRAP "$@"
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
    if [ "$rc" -eq "$FINDING_RC" ] || grep -q -E "$FINDING_RE" "$tmp/out"; then
        extra=1
        why="(the tool reported errors)"
    elif [ "$rc" -eq 124 ]; then
        extra=1
        why="(timed out after $TIMEOUT s)"
    elif [ "$rc" -gt 128 ] || [ -z "$line" ]; then
        extra=1
        why="(status $rc, no count line)"
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        extra=1
        why="(status $rc with nothing failed)"
    fi
    passed=$((passed + p))
    failed=$((failed + f + extra))
    if [ "$f" -ne 0 ] || [ "$extra" -ne 0 ]; then
        echo "!! $name: $line $why"
        grep -E "$SHOW_RE" "$tmp/out" | head -n 40
    else
        echo "ok $name: $line"
    fi
}

n=0
for t in "$BUILD"/ctest/*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    case $t in *.d|*.o) continue ;; esac
    case " ${SKIP:-} " in *" $(basename "$t") "*) echo "-- $t skipped"; continue ;; esac
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

# busted specs that drive the binding hard, with the module of BUILD (the
# caller sets LUA_SPECS, and LUA_WRAP: what to put before lua5.4's run,
# e.g. the sanitizer's runtime in LD_PRELOAD)
if [ -n "${LUA_SPECS:-}" ]; then
    if [ -f "$BUILD/names/core.so" ]; then
        # shellcheck disable=SC2086 # LUA_SPECS and LUA_WRAP are lists of words
        run_counted "busted with $BUILD/names/core.so" env ${LUA_WRAP:-} \
            sh spec/support/busted-counted.sh "$BUILD" $LUA_SPECS
    else
        echo "!! $BUILD/names/core.so is missing"
        failed=$((failed + 1))
    fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
