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
retries and failover, EDNS0, anti-spoofing checks, a cache, the hosts file
and resolv.conf. It runs on its own libuv loop, on luv's, or inside any
poll loop.
]],
  license = "MIT",
  labels = { "dns", "libuv", "twisted", "async" },
}
dependencies = {
  "lua >= 5.4, < 5.5",
  -- names-dig's options and JSON (Debian: lua-argparse, lua-cjson)
  "argparse >= 0.7",
  "lua-cjson >= 2.1",
}
external_dependencies = {
  LIBUV = { header = "uv.h", library = "uv" },
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
