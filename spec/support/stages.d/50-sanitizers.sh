#!/bin/sh
# Stage: the C tests and the hostile corpus under the sanitizers.
#   1. make -s asan      clang -fsanitize=address,undefined build in build/asan,
#                        then spec/support/run-sanitized.sh build/asan: the C
#                        tests, the corpus, and the binding's busted specs
#                        with the sanitized module
#   2. make -s valgrind  spec/support/run-valgrind.sh build: the C unit tests
#                        and the corpus replayer over the seed corpora under
#                        valgrind (not the busted suite: that would take long)
# Each prints its own "N passed, N failed"; the last line here is their sum.
# A part that fails without a count line (say, it does not build) counts as
# 1 failed. Takes about a minute on 2 cores.
set -u
root=${NAMES_TEST_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
cd "$root" || exit 1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sanitizers.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
for part in asan valgrind; do
    echo "== make $part"
    make -s "$part" </dev/null >"$tmp/$part" 2>&1
    rc=$?
    grep -v '^ok ' "$tmp/$part" | tail -n 60
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$tmp/$part" | tail -n 1)
    if [ -z "$line" ]; then
        echo "!! make $part: no count line (status $rc): counted as 1 failed"
        failed=$((failed + 1))
        continue
    fi
    p=${line%% passed*}
    f=${line#* passed, }
    f=${f%% failed*}
    echo "make $part: $line"
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "!! make $part: status $rc with nothing failed: counted as 1 failed"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
