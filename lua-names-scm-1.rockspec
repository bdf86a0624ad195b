rockspec_format = "3.0"
package = "lua-names"
version = "scm-1"
source = {
  url = "git+https://example.invalid/lua-names.git",
}
description = {
  summary = "A DNS client for Lua 5.4 with Twisted Names' API, on a C core and libuv",
  detailed = [[
lua-names gives Lua the client API of Twisted Names (names.client,
names.dns, Deferreds, task.react) on a C core that does the work: the wire
format for every common record type, UDP and TCP transports on libuv,
retries and failover, EDNS0, anti-spoofing checks, DNS cookies, DNS over
TLS and DNS over HTTPS (OpenSSL, nghttp2), a cache, the hosts file and
resolv.conf. It runs on its own libuv loop, on luv's, or inside any
poll loop.
]],
  license = "MIT",
  labels = { "dns", "libuv", "twisted", "async" },
}
-- The library needs Lua alone. bin/names-dig also needs argparse (>= 0.7)
-- and lua-cjson (>= 2.1): Debian's lua-argparse and lua-cjson, installed by
-- the set-up script (spec/support/deps.sh, which `make test` runs). They are
-- not listed here because Debian's luarocks does not see Debian's Lua
-- packages, so `luarocks make` would refuse to build without a registry.
dependencies = {
  "lua >= 5.4, < 5.5",
}
external_dependencies = {
  LIBUV = { header = "uv.h", library = "uv" },
  -- DNS over TLS and HTTPS (Debian: libssl-dev, libnghttp2-dev; the system
  -- CAs: ca-certificates)
  OPENSSL = { header = "openssl/ssl.h", library = "ssl" },
  NGHTTP2 = { header = "nghttp2/nghttp2.h", library = "nghttp2" },
}
build = {
  type = "make",
  -- the Makefile is the only list of sources
  build_target = "all",
  build_variables = {
    CFLAGS = "$(CFLAGS)",
    LIBFLAG = "$(LIBFLAG)",
    LUA_INCDIR = "$(LUA_INCDIR)",
    LUA = "$(LUA)",
    UV_CFLAGS = "-I$(LIBUV_INCDIR)",
    UV_LIBS = "-L$(LIBUV_LIBDIR) -luv",
    TLS_CFLAGS = "-I$(OPENSSL_INCDIR) -I$(NGHTTP2_INCDIR)",
    TLS_LIBS = "-L$(OPENSSL_LIBDIR) -lssl -lcrypto -L$(NGHTTP2_LIBDIR) -lnghttp2",
  },
  install_target = "install",
  install_variables = {
    LUADIR = "$(LUADIR)",
    LIBDIR = "$(LIBDIR)",
    BINDIR = "$(BINDIR)",
  },
}
test = {
  type = "command",
  command = "make test",
}
