#!/bin/sh
# Runs busted over the given spec files with the module of BUILD (through
# spec/support/helper.lua) and prints its counts as the line "N passed,
# N failed" (failures and errors together), for the runners of
# checked-runs.sh. The caller sets the rest of the environment (LD_PRELOAD).
#
#   sh spec/support/busted-counted.sh BUILD SPEC...
set -u
build=${1:?usage: busted-counted.sh BUILD SPEC...}
shift
counts=$(mktemp "${TMPDIR:-/tmp}/counts.XXXXXX") || exit 1
trap 'rm -f "$counts"' EXIT
NAMES_TEST_COUNTS=$counts NAMES_TEST_OUTPUT=plainTerminal NAMES_TEST_BUILD=$build \
    lua5.4 "${NAMES_TEST_BUSTED:-/usr/bin/busted}" "$@" </dev/null
rc=$?
if read -r p f e _ <"$counts" && [ -n "${p:-}" ]; then
    echo "$p passed, $((f + e)) failed"
else
    echo "busted-counted: busted (status $rc) wrote no counts" >&2
    exit 1
fi
exit $rc
