#!/bin/sh
# Install the Debian packages the build and the tests need, when some are
# missing. Quick when everything is there: one dpkg-query, no apt call.
#
#   sh spec/support/deps.sh          install what is missing (root or sudo)
#   sh spec/support/deps.sh --check  only report what is missing (exit 1 if any)
#   DEPS_EXTRA="nsd ..." sh spec/support/deps.sh   more packages (make bench's peers)
#
# Installing bind9 must not start the system's named on port 53: while apt
# runs, a /usr/sbin/policy-rc.d that exits 101 forbids every service start
# (created here only when the machine has none, and removed afterwards).
# The tests run their own named on an unprivileged loopback port
# (spec/support/servers.sh).

set -u

PACKAGES="gcc libc6-dev make pkg-config lua5.4 liblua5.4-dev libuv1-dev lua-busted
bind9 bind9-dnsutils bind9-utils openssl ca-certificates libssl-dev libnghttp2-dev lua-luv lua-luv-dev lua-cqueues lua-readline lua-socket
clang libclang-rt-14-dev valgrind lua-ldoc lua-markdown lua-argparse lua-cjson ${DEPS_EXTRA:-}"

if ! command -v dpkg-query >/dev/null 2>&1; then
    # not Debian: check for the tools themselves and leave the rest to the user
    for t in cc make pkg-config lua5.4 named named-checkzone dig; do
        PATH=$PATH:/usr/sbin command -v "$t" >/dev/null 2>&1 ||
            { echo "deps: no dpkg here and $t is missing; install it by hand" >&2; exit 1; }
    done
    exit 0
fi

# missing_from LIST: the packages of LIST not installed (one dpkg-query call)
missing_from() {
    # shellcheck disable=SC2086 # a list of package names
    installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' $1 2>/dev/null |
        awk '$2 ~ /^ii/ { print $1 }')
    for p in $1; do
        case " $(echo $installed) " in
        *" $p "*) ;;
        *) printf ' %s' "$p" ;;
        esac
    done
}

missing=$(missing_from "$PACKAGES")
[ -z "$missing" ] && exit 0

echo "deps: missing Debian packages:$missing"
if [ "${1:-}" = --check ]; then
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=
elif command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
else
    echo "deps: not root and no sudo: install them by hand:" >&2
    echo "  apt-get install --no-install-recommends$missing" >&2
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: no apt-get on this machine; install the equivalents of:$missing" >&2
    exit 1
fi

policy=/usr/sbin/policy-rc.d
made_policy=
cleanup() {
    if [ -n "$made_policy" ]; then
        $SUDO rm -f "$policy"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ ! -e "$policy" ]; then
    # forbid service starts while apt installs (bind9 would start named on port 53)
    printf '#!/bin/sh\n# lua-names deps.sh: no service starts during apt-get install\nexit 101\n' |
        $SUDO tee "$policy" >/dev/null && $SUDO chmod 755 "$policy" && made_policy=1
    if [ -z "$made_policy" ]; then
        echo "deps: cannot create $policy; refusing to install bind9 without it" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "deps: apt-get update"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q || {
    echo "deps: apt-get update failed" >&2
    exit 1
}
echo "deps: apt-get install$missing"
# shellcheck disable=SC2086 # a list of package names
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $missing || {
    echo "deps: apt-get install failed" >&2
    exit 1
}

still=$(missing_from "$missing")
if [ -n "$still" ]; then
    echo "deps: still missing after apt-get install:$still" >&2
    exit 1
fi
echo "deps: installed$missing"
exit 0
