#!/bin/sh
# Stage: the test zones, spec/data/zone-types.txt and the running named agree.
#   - every zone file passes named-checkzone -i local
#   - zone-types.txt lists every RRset of the zones (but for the exclusions
#     noted in its "#   owner TYPE" comment lines), and nothing else
#   - named answers each listed RRset: NOERROR, AA, and an answer of that
#     owner and type (one dig process, TCP, every query in turn)
# Run by spec/support/run-tests.sh with the servers up; ends with the line
# "N passed, N failed". NAMES_TEST_VERBOSE=1 lists every check.

set -u
root=${NAMES_TEST_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
PORT=${NAMES_TEST_PORT:-53535}
zdir=$root/spec/support/named
list=$root/spec/data/zone-types.txt
ZONES="example.test other.test 2.0.192.in-addr.arpa 8.b.d.0.1.0.0.2.ip6.arpa"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zone-data.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
# NAMES_TEST_VERBOSE=1 shows every check; otherwise failures and a summary
ok() {
    passed=$((passed + 1))
    [ "${NAMES_TEST_VERBOSE:-0}" = 1 ] && echo "ok   $*"
    return 0
}
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

tool() { command -v "$1" 2>/dev/null || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; }; }
CHECKZONE=$(tool named-checkzone)
DIG=$(tool dig)

# 1. the zone files load
: >"$tmp/dump"
for z in $ZONES axfr.test; do
    if [ -n "$CHECKZONE" ] && "$CHECKZONE" -i local -D -o "$tmp/$z.dump" "$z" "$zdir/$z.zone" >"$tmp/out" 2>&1; then
        ok "named-checkzone -i local $z"
        case $z in axfr.test) ;; *) cat "$tmp/$z.dump" >>"$tmp/dump" ;; esac
    else
        fail "named-checkzone -i local $z"
        cat "$tmp/out" 2>/dev/null
    fi
done

# 2. zone-types.txt and the zones list the same RRsets
awk 'NF >= 4 { print tolower($1) " " $4 }' "$tmp/dump" | sort -u >"$tmp/zones"
sed -n 's/^#   \([^ ]*\.\) \([A-Z0-9]*\)$/\1 \2/p; s/^#   \([^ ]*\.\) \([A-Z0-9]*\) .*$/\1 \2/p' "$list" |
    awk '{ print tolower($1) " " $2 }' | sort -u >"$tmp/excluded"
grep -v '^[[:space:]]*#' "$list" | awk 'NF == 2 { print tolower($1) " " $2 }' | sort >"$tmp/listed"
if [ -n "$(uniq -d "$tmp/listed")" ]; then
    fail "zone-types.txt lists an RRset twice: $(uniq -d "$tmp/listed" | tr '\n' ' ')"
else
    ok "zone-types.txt lists each RRset once"
fi
comm -23 "$tmp/zones" "$tmp/listed" | comm -23 - "$tmp/excluded" >"$tmp/unlisted"
if [ -s "$tmp/unlisted" ]; then
    fail "RRsets of the zones missing from zone-types.txt: $(tr '\n' ',' <"$tmp/unlisted")"
else
    ok "zone-types.txt lists every RRset of the zones"
fi
comm -13 "$tmp/zones" "$tmp/listed" >"$tmp/extra"
if [ -s "$tmp/extra" ]; then
    fail "zone-types.txt entries that no zone has: $(tr '\n' ',' <"$tmp/extra")"
else
    ok "every zone-types.txt entry is in a zone"
fi

# 3. named answers every listed RRset
if [ -z "$DIG" ]; then
    fail "dig not found"
else
    set --
    while read -r owner rtype; do
        set -- "$@" "$owner" "$rtype"
    done <<EOF
$(grep -v '^[[:space:]]*#' "$list" | awk 'NF == 2')
EOF
    "$DIG" @127.0.0.1 -p "$PORT" +tcp +norecurse +time=2 +tries=1 +noall +comments +answer \
        "$@" >"$tmp/dig" 2>&1
    # one block per query, in order: print "owner type status aa found"
    grep -v '^[[:space:]]*#' "$list" | awk 'NF == 2' >"$tmp/queries"
    awk -v qfile="$tmp/queries" '
        BEGIN { n = 0; while ((getline l < qfile) > 0) { split(l, f, " "); qo[++n] = tolower(f[1]); qt[n] = f[2] } i = 0 }
        /->>HEADER<<-/ { i++; st[i] = $0; sub(/.*status: /, "", st[i]); sub(/,.*/, "", st[i]); next }
        /^;; flags:/ { aa[i] = ($0 ~ /flags:[^;]* aa[ ;]/) ? 1 : 0; next }
        /^;/ || NF < 4 { next }
        { if (i > 0 && tolower($1) == qo[i] && $4 == qt[i]) found[i]++ }
        END {
            for (k = 1; k <= n; k++)
                printf "%s %s %s %d %d\n", qo[k], qt[k], (k in st) ? st[k] : "none", aa[k] + 0, found[k] + 0
        }' "$tmp/dig" >"$tmp/results"
    while read -r owner rtype status aa found; do
        if [ "$status" = NOERROR ] && [ "$aa" = 1 ] && [ "$found" -gt 0 ]; then
            ok "named answers $owner $rtype ($found records)"
        else
            fail "named answers $owner $rtype: status $status, aa $aa, $found records of that type"
        fi
    done <"$tmp/results"
    echo "named answered $(grep -c . "$tmp/results") RRsets of zone-types.txt"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
