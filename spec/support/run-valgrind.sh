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

# no --track-origins: it doubles the time (timed checks in the tests would
# miss their bounds); add it by hand to find an origin
WRAP="$VALGRIND -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible
    --errors-for-leak-kinds=definite,indirect,possible"
FINDING_RC=99
FINDING_RE='^==[0-9]+== .*(Invalid|uninitialised|definitely lost|indirectly lost|possibly lost|Mismatched)'
SHOW_RE='FAIL|^==[0-9]+=='
SKIP=${NAMES_VALGRIND_SKIP:-}
. "$here/checked-runs.sh"
