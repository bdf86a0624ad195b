#!/bin/sh
# Stage: the API reference builds (make docs: LDoc over config.ld's files,
# every warning a failure), so that the doc comments cannot rot.
set -u
root=${NAMES_TEST_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
cd "$root" || exit 1
if ! command -v ldoc >/dev/null 2>&1; then
    echo "FAIL make docs: ldoc is not installed (Debian: lua-ldoc lua-markdown)"
    echo "0 passed, 1 failed"
    exit 1
fi
if make --no-print-directory -s docs >/dev/null 2>"${TMPDIR:-/tmp}/names-docs.$$"; then
    rm -f "${TMPDIR:-/tmp}/names-docs.$$"
    echo "1 passed, 0 failed"
else
    echo "FAIL make docs:"
    cat "${TMPDIR:-/tmp}/names-docs.$$"
    rm -f "${TMPDIR:-/tmp}/names-docs.$$"
    echo "0 passed, 1 failed"
    exit 1
fi
