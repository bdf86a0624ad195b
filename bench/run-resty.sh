#!/bin/sh
# One run of lua-resty-dns inside nginx (bench/resty_bench.lua): N distinct
# lookups with K in flight against SERVER PORT. Prints the line
# resty_bench.lua writes, as bench/resolver_bench.c prints it:
#   resty queries answered seconds qps cpu_us_per_query user_us sys_us peak_rss_kb
#
#   sh bench/run-resty.sh SERVER PORT N K
#   QTYPE=a PIN="taskset -c 0" sh bench/run-resty.sh 127.0.0.1 53700 20000 500
#   WRAP="valgrind --tool=callgrind --callgrind-out-file=F" sh bench/run-resty.sh ...
#
# nginx (Debian nginx + libnginx-mod-http-lua + lua-nginx-dns) runs in the
# foreground as one process (master_process off: that process is the
# worker, and the one measured), with a prefix of its own, a fresh temporary
# directory under build/bench/, and a configuration that listens on
# nothing: no server block; the benchmark starts from init_worker_by_lua
# with a timer and writes its line to a file there. This script waits for
# that file (at most TIMEOUT seconds, default 300), then stops nginx by its
# pid (SIGQUIT, a graceful stop, so that callgrind writes its output; SIGKILL
# after 10 s), and removes the directory (KEEP=1 keeps it).
# PIN runs nginx under it (the script's own waiting is left unpinned);
# WRAP runs nginx under it (callgrind).

set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

[ $# -ge 4 ] || { echo "usage: sh bench/run-resty.sh SERVER PORT N K" >&2; exit 2; }
server=$1 port=$2 n=$3 k=$4
qtype=${QTYPE:-ptr}
case $server in 127.*) ;; *) echo "run-resty: the server must be on 127.0.0.0/8" >&2; exit 2 ;; esac
case $qtype in ptr | a) ;; *) echo "run-resty: QTYPE: ptr or a" >&2; exit 2 ;; esac

NGINX=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
MODULES=${NGINX_MODULES:-/usr/lib/nginx/modules}
[ -x "$NGINX" ] || { echo "run-resty: nginx is not installed (Debian: nginx)" >&2; exit 1; }
[ -r "$MODULES/ngx_http_lua_module.so" ] ||
    { echo "run-resty: no $MODULES/ngx_http_lua_module.so (Debian: libnginx-mod-http-lua)" >&2; exit 1; }

mkdir -p "$root/build/bench"
prefix=$(mktemp -d "$root/build/bench/nginx.XXXXXX") || exit 1
pid=
cleanup() {
    if [ -n "$pid" ]; then
        kill -QUIT "$pid" 2>/dev/null
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        pid=
    fi
    [ "${KEEP:-0}" = 1 ] || rm -rf "$prefix"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

mkdir -p "$prefix/logs" "$prefix/tmp"
out=$prefix/result.txt
ndk=
[ -r "$MODULES/ndk_http_module.so" ] && ndk="load_module $MODULES/ndk_http_module.so;"
cat >"$prefix/nginx.conf" <<EOF
# written by bench/run-resty.sh: no listener; the benchmark runs from a timer
$ndk
load_module $MODULES/ngx_http_lua_module.so;
daemon off;
master_process off;
worker_processes 1;
pid $prefix/nginx.pid;
error_log $prefix/logs/error.log warn;
events {
    worker_connections 4096;
}
http {
    access_log off;
    client_body_temp_path $prefix/tmp/body;
    proxy_temp_path $prefix/tmp/proxy;
    fastcgi_temp_path $prefix/tmp/fastcgi;
    uwsgi_temp_path $prefix/tmp/uwsgi;
    scgi_temp_path $prefix/tmp/scgi;
    lua_package_path "$root/bench/?.lua;/usr/share/lua/5.1/?.lua;/usr/share/lua/5.1/?/init.lua;;";
    lua_socket_log_errors off;
    init_worker_by_lua_block {
        require("resty_bench").start{
            host = "$server", port = $port, n = $n, k = $k, qtype = "$qtype", out = "$out",
        }
    }
}
EOF

# shellcheck disable=SC2086 # PIN and WRAP are command prefixes
${PIN:-} ${WRAP:-} "$NGINX" -p "$prefix/" -c "$prefix/nginx.conf" -e "$prefix/logs/error.log" \
    >"$prefix/logs/stdout" 2>&1 &
pid=$!

limit=$(( ${TIMEOUT:-300} * 10 ))
i=0
while [ ! -e "$out" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "run-resty: nginx stopped before the run ended:" >&2
        cat "$prefix/logs/stdout" "$prefix/logs/error.log" >&2 2>/dev/null
        pid=
        exit 1
    fi
    i=$((i + 1))
    [ $i -lt "$limit" ] || { echo "run-resty: no result after ${TIMEOUT:-300} s" >&2; exit 1; }
    sleep 0.1
done
line=$(cat "$out")
echo "$line"
case $line in
resty\ "$n"\ "$n"\ *) exit 0 ;;
*) exit 1 ;;
esac
