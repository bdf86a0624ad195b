#!/bin/sh
# Run every test of lua-names and add the counts up. `make test` calls it from
# the checkout root after the build; by hand: sh spec/support/run-tests.sh
#
#   1. start the test servers (spec/support/servers.sh start); they are
#      stopped again on exit, on failure and on interrupt
#   2. every C unit test program build/ctest/* (last line "N passed, N failed";
#      a crash, a hang (NAMES_TEST_CTEST_TIMEOUT, 300 s) or a missing count
#      line counts as 1 failed, beside what its count line said)
#   3. busted: lua5.4 /usr/bin/busted with the root .busted, plus BUSTED_ARGS
#      (split on spaces; NAMES_TEST_LUA and NAMES_TEST_BUSTED override the
#      two paths); spec/support/counting_output.lua writes its counts to
#      NAMES_TEST_COUNTS
#   4. every extra stage spec/support/stages.d/*.sh, in name order (to add a
#      stage, drop a script there; zone-data.sh is an example): each is run
#      with sh from the checkout root, with the environment below, and must end
#      its output with "N passed, N failed" (", N skipped" may follow); a stage
#      without that line, or that fails with no failure counted, counts as 1
#      failed
#
# Exported to every stage: NAMES_TEST_PORT (53535), NAMES_TEST_BAD_BASE
# (53600), NAMES_TEST_TLS_BASE (53800), NAMES_TEST_CERTS (the test CA's
# directory), NAMES_TEST_ROOT (the checkout), NAMES_TEST_IPV6 (1 when ::1
# exists; set it to 0 to test IPv4 only).
# NAMES_TEST_SERVERS=0 skips starting and stopping the servers (they are
# already up); NAMES_TEST_ONLY=ctest,busted,stages picks stages.
#
# The last line of output is "N passed, N failed" (", N skipped" when some
# were pending); it is also written to build/testenv/summary. The exit status
# is 0 only when nothing failed and every stage ran.

set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 1

NAMES_TEST_PORT=${NAMES_TEST_PORT:-53535}
NAMES_TEST_BAD_BASE=${NAMES_TEST_BAD_BASE:-53600}
NAMES_TEST_TLS_BASE=${NAMES_TEST_TLS_BASE:-53800}
NAMES_TEST_CERTS=$root/build/testenv/certs
NAMES_TEST_ROOT=$root
if [ "${NAMES_TEST_IPV6:-}" = 0 ]; then
    NAMES_TEST_IPV6=0
elif grep -qi '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null; then
    NAMES_TEST_IPV6=1
else
    NAMES_TEST_IPV6=0
fi
export NAMES_TEST_PORT NAMES_TEST_BAD_BASE NAMES_TEST_TLS_BASE NAMES_TEST_CERTS NAMES_TEST_ROOT NAMES_TEST_IPV6

LUA=${NAMES_TEST_LUA:-lua5.4}
BUSTED=${NAMES_TEST_BUSTED:-/usr/bin/busted}
CTEST_TIMEOUT=${NAMES_TEST_CTEST_TIMEOUT:-300}
ONLY=${NAMES_TEST_ONLY:-ctest,busted,stages}

mkdir -p build/testenv
summary=build/testenv/summary
rm -f "$summary"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/names-tests.XXXXXX") || exit 1

passed=0
failed=0
skipped=0
servers_up=0

stop_servers() {
    if [ "$servers_up" = 1 ]; then
        servers_up=0
        sh "$here/servers.sh" stop
    fi
}
on_exit() {
    stop_servers
    rm -rf "$tmp"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

note() { echo "== $*"; }

# count NAME FILE STATUS: add up the last "N passed, N failed[, N skipped]"
# line of FILE (one word and a colon may stand before it); no such line, or a
# failing status with nothing failed, counts as one failure.
count() {
    line=$(sed 's/^[A-Za-z_-]*: //' "$2" |
        grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?[[:space:]]*$' | tail -n 1)
    set -- "$1" "$2" "$3" $(echo "$line" | tr -c '0-9\n' ' ')
    if [ $# -lt 5 ]; then
        echo "!! $1: no \"N passed, N failed\" line (status $3): counted as 1 failed"
        failed=$((failed + 1))
        return
    fi
    passed=$((passed + $4))
    failed=$((failed + $5))
    skipped=$((skipped + ${6:-0}))
    if [ "$3" -ne 0 ] && [ "$5" -eq 0 ]; then
        echo "!! $1: exit status $3 with no failure counted: counted as 1 failed"
        failed=$((failed + 1))
    fi
}

# run OUTFILE COMMAND...: run it with its output shown as it comes and kept
# in OUTFILE; sets rc to its exit status
run() {
    out=$1
    shift
    { "$@" </dev/null 2>&1; echo $? >"$tmp/rc"; } | tee "$out"
    rc=$(cat "$tmp/rc" 2>/dev/null || echo 1)
}

wants() {
    case ",$ONLY," in *",$1,"*) return 0 ;; esac
    return 1
}

# ---- 1. servers -------------------------------------------------------------
if [ "${NAMES_TEST_SERVERS:-1}" != 0 ]; then
    note "starting the test servers"
    servers_up=1
    if ! sh "$here/servers.sh" start; then
        echo "!! the test servers did not start: counted as 1 failed"
        failed=$((failed + 1))
    fi
fi

# ---- 2. C unit tests ----------------------------------------------------------
if wants ctest; then
    n=0
    for t in build/ctest/*; do
        [ -f "$t" ] && [ -x "$t" ] || continue
        case $t in *.d|*.o|*.dSYM) continue ;; esac
        n=$((n + 1))
        note "C test $t"
        if command -v timeout >/dev/null 2>&1; then
            run "$tmp/out" timeout "$CTEST_TIMEOUT" "$t"
        else
            run "$tmp/out" "$t"
        fi
        if [ "$rc" -gt 128 ] || [ "$rc" -eq 124 ]; then
            echo "!! $t died (status $rc)"
        fi
        count "$t" "$tmp/out" "$rc"
    done
    [ $n -eq 0 ] && note "no C test programs in build/ctest"
fi

# ---- 3. busted ----------------------------------------------------------------
if wants busted; then
    note "busted"
    counts=$tmp/busted.counts
    rm -f "$counts"
    if ! command -v "$LUA" >/dev/null 2>&1 || [ ! -r "$BUSTED" ]; then
        echo "!! busted cannot run ($LUA or $BUSTED missing): counted as 1 failed"
        failed=$((failed + 1))
    else
        # shellcheck disable=SC2086 # BUSTED_ARGS is a list of arguments
        NAMES_TEST_COUNTS=$counts "$LUA" "$BUSTED" ${BUSTED_ARGS:-} </dev/null
        rc=$?
        if [ -r "$counts" ]; then
            # passed failed errors pending
            read -r bp bf be bs <"$counts"
            for v in "${bp:-}" "${bf:-}" "${be:-}" "${bs:-}"; do
                case $v in
                ''|*[!0-9]*)
                    echo "!! bad counts file: $(cat "$counts")"
                    bp=0 bf=1 be=0 bs=0
                    break
                    ;;
                esac
            done
            passed=$((passed + bp))
            failed=$((failed + bf + be))
            skipped=$((skipped + bs))
            if [ $rc -ne 0 ] && [ $((bf + be)) -eq 0 ]; then
                echo "!! busted exited with status $rc and no failure counted: counted as 1 failed"
                failed=$((failed + 1))
            fi
        else
            echo "!! busted (status $rc) wrote no counts: counted as 1 failed"
            failed=$((failed + 1))
        fi
    fi
fi

# ---- 4. extra stages ------------------------------------------------------------
if wants stages; then
    for st in "$here"/stages.d/*.sh; do
        [ -f "$st" ] || continue
        name=${st#"$root"/}
        note "stage $name"
        run "$tmp/out" sh "$st"
        count "$name" "$tmp/out" "$rc"
    done
fi

# ---- the total ----------------------------------------------------------------------
stop_servers
result="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && result="$result, $skipped skipped"
echo "$result" >"$summary"
echo "$result"
[ "$failed" -eq 0 ]
