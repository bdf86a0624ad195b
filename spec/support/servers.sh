#!/bin/sh
# The test DNS servers, on loopback only:
#   named      BIND 9 authoritative for the zones in spec/support/named/,
#              127.0.0.1 and ::1, port NAMES_TEST_PORT (default 53535), UDP+TCP
#   badserver  the misbehaving servers of spec/support/badserver.c, ports
#              NAMES_TEST_BAD_BASE+k (default 53600+k), UDP+TCP
#   encrypted  listeners of the same named on ports NAMES_TEST_TLS_BASE+k
#              (default 53800+k), 127.0.0.1 (and ::1 for k 0 and 1), with
#              certificates made by spec/support/certs.sh in build/testenv/certs:
#                k 0  DNS over TLS, a valid chain for dns.example.test
#                k 1  DNS over HTTPS (HTTP/2), the same chain, path /dns-query
#                k 2  DNS over TLS, an expired certificate
#                k 3  DNS over TLS, a certificate for another name
#                k 4  DNS over TLS, a self-signed certificate
#                k 5  openssl s_server speaking only TLS 1.1 (a TLS alert
#                     to any client of ours), 127.0.0.1 only
#              and k 6-10: spec/support/tlsbad.c (a DoT server that closes
#              mid-message, an HTTP/2 one answering 500, one sending a
#              truncated frame, a DoT one telling each query's length, a DoT
#              one answering each burst last first), 127.0.0.1 only
#
#   sh spec/support/servers.sh start|stop|restart|status
#
# All state lives in build/testenv/ (named/ and badserver/ below it); start
# writes build/testenv/env.sh with the ports, for `. build/testenv/env.sh`.
# start stops what an earlier start left running (by its recorded pid, after
# checking the pid is still that program) and is safe to repeat; stop kills
# only the recorded pids and waits until they are gone.
#
# Environment: NAMES_TEST_PORT, NAMES_TEST_BAD_BASE, NAMES_BADSERVER (a
# prebuilt badserver; default build/support/badserver, built here with cc if
# missing or older than its source), NAMES_TEST_BAD_ARGS (extra badserver
# options, e.g. "--slow-ms 500"), NAMES_TEST_IPV6=0 (serve 127.0.0.1 only, as
# on a machine without ::1), CC.

set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PORT=${NAMES_TEST_PORT:-53535}
BAD_BASE=${NAMES_TEST_BAD_BASE:-53600}
BAD_COUNT=26
TLS_BASE=${NAMES_TEST_TLS_BASE:-53800}
# NAMES_TESTENV: another state directory (the benchmarks run their own set)
TESTENV=${NAMES_TESTENV:-$root/build/testenv}
STATE=$TESTENV/named
BADDIR=$TESTENV/badserver
BADSERVER=${NAMES_BADSERVER:-$root/build/support/badserver}
CERTS=$TESTENV/certs
ALERTDIR=$TESTENV/tlsalert
ZONES="example.test other.test 2.0.192.in-addr.arpa 8.b.d.0.1.0.0.2.ip6.arpa axfr.test"

say() { echo "servers: $*"; }
die() { echo "servers: error: $*" >&2; exit 1; }

find_tool() {
    for d in "" /usr/sbin/ /usr/bin/ /usr/local/sbin/; do
        if [ -z "$d" ]; then
            p=$(command -v "$1" 2>/dev/null) && { echo "$p"; return 0; }
        elif [ -x "$d$1" ]; then
            echo "$d$1"; return 0
        fi
    done
    return 1
}

is_port() {
    case $1 in ''|*[!0-9]*) return 1 ;; esac
    [ "$1" -ge 1024 ] && [ "$1" -le 65535 ]
}

have_ipv6() {
    # ::1 configured on lo (NAMES_TEST_IPV6=0 forces IPv4 only)
    [ "${NAMES_TEST_IPV6:-}" = 0 ] && return 1
    grep -qi '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null
}

# alive PID: the process exists and is not a zombie
alive() {
    kill -0 "$1" 2>/dev/null || return 1
    if [ -r "/proc/$1/stat" ]; then
        st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
        [ "$st" != Z ] || return 1
    fi
    return 0
}

# is_ours PID WORD: the process's command line mentions WORD
is_ours() {
    [ -r "/proc/$1/cmdline" ] || return 0   # no /proc: trust the pid file
    tr '\000' ' ' <"/proc/$1/cmdline" | grep -q -- "$2"
}

# stop_pidfile NAME PIDFILE WORD
stop_pidfile() {
    [ -f "$2" ] || return 0
    pid=$(cat "$2" 2>/dev/null)
    case $pid in ''|*[!0-9]*) rm -f "$2"; return 0 ;; esac
    if alive "$pid" && is_ours "$pid" "$3"; then
        kill -TERM "$pid" 2>/dev/null
        i=0
        while alive "$pid" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        if alive "$pid"; then
            say "$1 (pid $pid) ignored SIGTERM for 10 s, sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null
            i=0
            while alive "$pid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        fi
        if alive "$pid"; then
            say "$1 (pid $pid) would not exit"
            return 1
        fi
        say "stopped $1 (pid $pid)"
    fi
    rm -f "$2"
    return 0
}

dig_ok() { # dig_ok ADDR PORT NAME TYPE -> 0 when an authoritative NOERROR comes back
    out=$("$DIG" @"$1" -p "$2" "$3" "$4" +time=1 +tries=1 +norecurse 2>&1) || return 1
    echo "$out" | grep -q 'status: NOERROR' && echo "$out" | grep -q 'flags: qr aa'
}

named_answers() { dig_ok "$1" "$PORT" example.test SOA; }

bad_answers() { # bad_answers ADDR PORT
    "$DIG" @"$1" -p "$2" stats. TXT +time=1 +tries=1 +short 2>/dev/null | grep -q '^"[0-9][0-9]*"$'
}

apparmor_hint() {
    if grep -q named /sys/kernel/security/apparmor/profiles 2>/dev/null; then
        echo "servers: AppArmor confines /usr/sbin/named here, which keeps it out of" >&2
        echo "servers: build/testenv; try: aa-complain /usr/sbin/named" >&2
    fi
}

log_tail() {
    echo "---- last lines of $1 ----" >&2
    tail -n "${2:-20}" "$1" >&2 2>/dev/null
    echo "----" >&2
}

build_badserver() {
    src=$here/badserver.c
    if [ -n "${NAMES_BADSERVER:-}" ]; then
        [ -x "$BADSERVER" ] || die "NAMES_BADSERVER=$BADSERVER is not an executable"
        return 0
    fi
    if [ -x "$BADSERVER" ] && ! [ "$src" -nt "$BADSERVER" ]; then
        return 0
    fi
    mkdir -p "$(dirname "$BADSERVER")"
    say "building $BADSERVER"
    ${CC:-cc} -std=c99 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wshadow \
        -Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings -Wvla -Wformat=2 \
        -Wundef -o "$BADSERVER" "$src" || die "cannot build $BADSERVER"
}

stop_all() {
    rc=0
    stop_pidfile tls-alert "$ALERTDIR/s_server.pid" s_server || rc=1
    stop_pidfile tlsbad "$ALERTDIR/tlsbad.pid" tlsbad || rc=1
    stop_pidfile badserver "$BADDIR/badserver.pid" badserver || rc=1
    stop_pidfile named "$STATE/named.pid" "$STATE/named.conf" || rc=1
    return $rc
}

start_named() {
    NAMED=$(find_tool named) || die "named not found (install bind9: sh spec/support/deps.sh)"
    CHECKZONE=$(find_tool named-checkzone) || die "named-checkzone not found (bind9-utils)"
    CHECKCONF=$(find_tool named-checkconf) || die "named-checkconf not found (bind9-utils)"

    mkdir -p "$STATE/managed-keys" || die "cannot create $STATE"
    # fresh state each time: no journal, key or log from an earlier run
    rm -f "$STATE"/*.zone "$STATE"/*.jnl "$STATE"/named.log* "$STATE"/queries.log* \
          "$STATE"/session.key "$STATE"/named.lock "$STATE"/named.out "$STATE"/managed-keys/*

    if have_ipv6; then listen6="::1;"; else listen6="none;"; fi
    sed -e "s|@STATE@|$STATE|g" -e "s|@PORT@|$PORT|g" -e "s|@LISTEN6@|$listen6|g" \
        "$here/named/named.conf.in" >"$STATE/named.conf" || die "cannot write named.conf"
    if ! have_ipv6; then
        # no ::1 on this machine: drop the IPv6 source addresses too
        sed -i '/\/\/ ipv6$/d' "$STATE/named.conf"
    fi
    write_tls_conf
    out=$("$CHECKCONF" "$STATE/named.conf" 2>&1) || { echo "$out" >&2; die "named-checkconf rejected $STATE/named.conf"; }

    for z in $ZONES; do
        cp "$here/named/$z.zone" "$STATE/$z.zone" || die "cannot copy zone $z"
        # -i local: integrity checks inside the zone only (no lookups through
        # the system resolver)
        out=$("$CHECKZONE" -i local "$z" "$STATE/$z.zone" 2>&1) || {
            echo "$out" >&2
            die "named-checkzone rejected zone $z"
        }
    done

    if named_answers 127.0.0.1; then
        die "something already answers DNS on 127.0.0.1 port $PORT (set NAMES_TEST_PORT)"
    fi

    "$NAMED" -f -c "$STATE/named.conf" </dev/null >"$STATE/named.out" 2>&1 &
    pid=$!
    echo "$pid" >"$STATE/named.pid"

    i=0
    until named_answers 127.0.0.1; do
        if ! alive "$pid"; then
            log_tail "$STATE/named.out"
            log_tail "$STATE/named.log"
            rm -f "$STATE/named.pid"
            apparmor_hint
            die "named exited during start-up"
        fi
        i=$((i + 1))
        if [ $i -ge 60 ]; then
            log_tail "$STATE/named.log"
            stop_all
            die "named (pid $pid) does not answer on 127.0.0.1 port $PORT after 15 s"
        fi
        sleep 0.25
    done
    if grep -E 'could not listen|address in use|failed to listen' "$STATE/named.log" >/dev/null 2>&1; then
        log_tail "$STATE/named.log"
        stop_all
        die "named could not listen on every socket (port $PORT in use?)"
    fi
    if have_ipv6; then
        i=0
        until named_answers ::1; do
            i=$((i + 1))
            if [ $i -ge 20 ]; then
                log_tail "$STATE/named.log"
                stop_all
                die "named (pid $pid) answers on 127.0.0.1 but not on ::1 port $PORT"
            fi
            sleep 0.25
        done
        say "named (pid $pid) answers on 127.0.0.1 and ::1 port $PORT"
    else
        say "named (pid $pid) answers on 127.0.0.1 port $PORT (this machine has no ::1)"
    fi
    i=0
    until tls_answers "$TLS_BASE"; do
        i=$((i + 1))
        if [ $i -ge 20 ]; then
            log_tail "$STATE/named.log"
            stop_all
            die "named (pid $pid) does not answer DNS over TLS on port $TLS_BASE"
        fi
        sleep 0.25
    done
    say "named (pid $pid) serves DNS over TLS and HTTPS on ports $TLS_BASE-$((TLS_BASE + 4))"
}

# write_tls_conf: the tls/http blocks and listen-on lines named.conf includes
write_tls_conf() {
    sh "$here/certs.sh" "$CERTS" || die "cannot make the test certificates in $CERTS"
    {
        for c in good expired wrongname selfsigned; do
            printf 'tls %s { cert-file "%s/%s.chain.pem"; key-file "%s/%s.key"; };\n' \
                "$c" "$CERTS" "$c" "$CERTS" "$c"
        done
        # BIND's default of 100 streams at once per connection: the pipelining
        # tests keep 1,000 queries in flight, so the client must queue the rest
        printf 'http doh { endpoints { "/dns-query"; }; streams-per-connection 100; };\n'
    } >"$STATE/tls.conf"
    {
        printf 'listen-on port %s tls good { 127.0.0.1; };\n' "$TLS_BASE"
        printf 'listen-on port %s tls good http doh { 127.0.0.1; };\n' $((TLS_BASE + 1))
        printf 'listen-on port %s tls expired { 127.0.0.1; };\n' $((TLS_BASE + 2))
        printf 'listen-on port %s tls wrongname { 127.0.0.1; };\n' $((TLS_BASE + 3))
        printf 'listen-on port %s tls selfsigned { 127.0.0.1; };\n' $((TLS_BASE + 4))
        if have_ipv6; then
            printf 'listen-on-v6 port %s tls good { ::1; };\n' "$TLS_BASE"
            printf 'listen-on-v6 port %s tls good http doh { ::1; };\n' $((TLS_BASE + 1))
        fi
    } >"$STATE/tls-listen.conf"
}

# tls_answers PORT: named answers DNS over TLS there (kdig when installed)
tls_answers() {
    KDIG=$(find_tool kdig) || return 0
    "$KDIG" @127.0.0.1 -p "$1" +tls +time=2 +retry=0 example.test SOA 2>/dev/null | grep -q 'status: NOERROR'
}

# start_tls_alert: openssl s_server limited to TLS 1.1, which our clients
# (TLS 1.2 at least) cannot speak: it answers their hello with an alert
start_tls_alert() {
    OPENSSL=$(find_tool openssl) || die "openssl not found"
    mkdir -p "$ALERTDIR" || die "cannot create $ALERTDIR"
    port=$((TLS_BASE + 5))
    "$OPENSSL" s_server -accept "127.0.0.1:$port" -cert "$CERTS/good.pem" -key "$CERTS/good.key" \
        -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' -quiet -naccept 100000 \
        </dev/null >"$ALERTDIR/s_server.log" 2>&1 &
    pid=$!
    echo "$pid" >"$ALERTDIR/s_server.pid"
    i=0
    until grep -q ":$(printf '%04X' "$port") 00000000:0000 0A" /proc/net/tcp 2>/dev/null; do
        alive "$pid" || { log_tail "$ALERTDIR/s_server.log"; stop_all; die "openssl s_server exited"; }
        i=$((i + 1))
        [ $i -lt 40 ] || { stop_all; die "openssl s_server does not listen on port $port"; }
        sleep 0.25
    done
    say "tls alert server (pid $pid) listens on 127.0.0.1 port $port"

    TLSBAD=$root/build/support/tlsbad
    if ! [ -x "$TLSBAD" ] || [ "$here/tlsbad.c" -nt "$TLSBAD" ]; then
        mkdir -p "$(dirname "$TLSBAD")"
        say "building $TLSBAD"
        ${CC:-cc} -std=c99 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -o "$TLSBAD" "$here/tlsbad.c" \
            -lssl -lcrypto || { stop_all; die "cannot build $TLSBAD"; }
    fi
    "$TLSBAD" --base "$TLS_BASE" --cert "$CERTS/good.chain.pem" --key "$CERTS/good.key" \
        </dev/null >"$ALERTDIR/tlsbad.log" 2>&1 &
    pid=$!
    echo "$pid" >"$ALERTDIR/tlsbad.pid"
    port=$((TLS_BASE + 10))
    i=0
    until grep -q ":$(printf '%04X' "$port") 00000000:0000 0A" /proc/net/tcp 2>/dev/null; do
        alive "$pid" || { log_tail "$ALERTDIR/tlsbad.log"; stop_all; die "tlsbad exited"; }
        i=$((i + 1))
        [ $i -lt 40 ] || { stop_all; die "tlsbad does not listen on port $port"; }
        sleep 0.25
    done
    say "tlsbad (pid $pid) listens on 127.0.0.1 ports $((TLS_BASE + 6))-$port"
}

start_badserver() {
    build_badserver
    mkdir -p "$BADDIR" || die "cannot create $BADDIR"
    last=$((BAD_BASE + BAD_COUNT - 1))
    if bad_answers 127.0.0.1 "$BAD_BASE"; then
        stop_all
        die "something already answers on 127.0.0.1 port $BAD_BASE (set NAMES_TEST_BAD_BASE)"
    fi
    v6opt=
    have_ipv6 || v6opt=--no-ipv6
    # shellcheck disable=SC2086 # NAMES_TEST_BAD_ARGS is a list of options
    "$BADSERVER" --base "$BAD_BASE" $v6opt ${NAMES_TEST_BAD_ARGS:-} \
        </dev/null >"$BADDIR/badserver.log" 2>&1 &
    pid=$!
    echo "$pid" >"$BADDIR/badserver.pid"
    i=0
    until bad_answers 127.0.0.1 "$BAD_BASE" && bad_answers 127.0.0.1 "$last"; do
        if ! alive "$pid"; then
            log_tail "$BADDIR/badserver.log"
            rm -f "$BADDIR/badserver.pid"
            stop_all
            die "badserver exited during start-up"
        fi
        i=$((i + 1))
        if [ $i -ge 40 ]; then
            log_tail "$BADDIR/badserver.log"
            stop_all
            die "badserver (pid $pid) does not answer on ports $BAD_BASE-$last"
        fi
        sleep 0.25
    done
    if have_ipv6 && ! bad_answers ::1 "$BAD_BASE"; then
        log_tail "$BADDIR/badserver.log"
        stop_all
        die "badserver (pid $pid) does not answer on ::1 port $BAD_BASE"
    fi
    say "badserver (pid $pid) answers on ports $BAD_BASE-$last"
}

write_env() {
    if have_ipv6; then v6=1; else v6=0; fi
    cat >"$TESTENV/env.sh" <<EOF
# written by spec/support/servers.sh start; source it: . build/testenv/env.sh
NAMES_TEST_PORT=$PORT; export NAMES_TEST_PORT
NAMES_TEST_BAD_BASE=$BAD_BASE; export NAMES_TEST_BAD_BASE
NAMES_TEST_TLS_BASE=$TLS_BASE; export NAMES_TEST_TLS_BASE
NAMES_TEST_CERTS=$CERTS; export NAMES_TEST_CERTS
NAMES_TEST_ROOT=$root; export NAMES_TEST_ROOT
NAMES_TEST_IPV6=$v6; export NAMES_TEST_IPV6
EOF
}

status() {
    rc=0
    for s in "named:$STATE/named.pid" "badserver:$BADDIR/badserver.pid"; do
        name=${s%%:*}
        file=${s#*:}
        pid=$(cat "$file" 2>/dev/null)
        if [ -n "$pid" ] && alive "$pid"; then
            say "$name running (pid $pid)"
        else
            say "$name not running"
            rc=1
        fi
    done
    if named_answers 127.0.0.1; then say "127.0.0.1#$PORT answers"; else say "127.0.0.1#$PORT does not answer"; rc=1; fi
    if have_ipv6; then
        if named_answers ::1; then say "::1#$PORT answers"; else say "::1#$PORT does not answer"; rc=1; fi
    fi
    if bad_answers 127.0.0.1 "$BAD_BASE"; then say "badserver 127.0.0.1#$BAD_BASE answers"; else say "badserver 127.0.0.1#$BAD_BASE does not answer"; rc=1; fi
    return $rc
}

is_port "$PORT" || die "NAMES_TEST_PORT=$PORT is not a port number between 1024 and 65535"
is_port "$TLS_BASE" && is_port $((TLS_BASE + 19)) ||
    die "NAMES_TEST_TLS_BASE=$TLS_BASE: ports BASE..BASE+19 must lie within 1024-65535"
is_port "$BAD_BASE" && is_port $((BAD_BASE + BAD_COUNT - 1)) ||
    die "NAMES_TEST_BAD_BASE=$BAD_BASE: ports BASE..BASE+$((BAD_COUNT - 1)) must lie within 1024-65535"
if [ "$PORT" -ge "$BAD_BASE" ] && [ "$PORT" -lt $((BAD_BASE + BAD_COUNT)) ]; then
    die "NAMES_TEST_PORT=$PORT falls among the badserver ports $BAD_BASE-$((BAD_BASE + BAD_COUNT - 1))"
fi
DIG=$(find_tool dig) || die "dig not found (install bind9-dnsutils: sh spec/support/deps.sh)"

case ${1:-} in
start)
    mkdir -p "$TESTENV" || die "cannot create $TESTENV"
    stop_all || die "servers from an earlier start would not stop"
    start_named
    start_badserver
    start_tls_alert
    write_env
    ;;
stop)
    stop_all
    ;;
restart)
    sh "$0" stop && exec sh "$0" start
    ;;
status)
    status
    ;;
*)
    echo "usage: sh spec/support/servers.sh start|stop|restart|status" >&2
    exit 2
    ;;
esac
