# lua-names: the Makefile is the only list of sources.
#
#   make              build build/names/core.so (the checkout is usable in place)
#   make demo         install what is missing, build, run examples/reverse_lookup.lua 127.0.0.1
#   make test         install what is missing, start the test servers, run every test
#   make check        run the tests against servers that are already up
#   make asan         C tests and the hostile corpus under ASan + UBSan
#   make valgrind     C tests under valgrind
#   make fuzz         run every libFuzzer target for a bounded time
#   make bench        print the benchmark table
#   make bench-resolver   the resolver against raw UDP and c-ares, on NSD (bench/run-resolver.sh)
#   make bench-codec  decoding against c-ares and ldns, and into Lua (bench/run-codec.sh)
#   make lint         cppcheck + luacheck
#   make docs         the API reference with LDoc (config.ld) in build/doc; a warning fails it
#   make install PREFIX=DIR   LuaRocks-style tree under DIR
#   make clean

LUA_VERSION ?= 5.4
LUA         ?= lua$(LUA_VERSION)
PKG_CONFIG  ?= pkg-config
CC          ?= cc

# LuaRocks passes these; the defaults serve a plain `make`.
LUA_INCDIR  ?= $(shell $(PKG_CONFIG) --variable=includedir lua$(LUA_VERSION) 2>/dev/null)/lua$(LUA_VERSION)
UV_CFLAGS   ?= $(shell $(PKG_CONFIG) --cflags libuv 2>/dev/null)
UV_LIBS     ?= $(shell $(PKG_CONFIG) --libs libuv 2>/dev/null || echo -luv)
# DNS over TLS and HTTPS: OpenSSL and nghttp2 (Debian: libssl-dev, libnghttp2-dev).
TLS_CFLAGS  ?= $(shell $(PKG_CONFIG) --cflags libssl libcrypto libnghttp2 2>/dev/null)
TLS_LIBS    ?= $(shell $(PKG_CONFIG) --libs libssl libcrypto libnghttp2 2>/dev/null || echo -lssl -lcrypto -lnghttp2)
LIBFLAG     ?= -shared

PREFIX      ?= /usr/local
LUADIR      ?= $(PREFIX)/share/lua/$(LUA_VERSION)
LIBDIR      ?= $(PREFIX)/lib/lua/$(LUA_VERSION)
BINDIR      ?= $(PREFIX)/bin

WARNINGS    = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wcast-align \
              -Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings \
              -Wvla -Wformat=2 -Wundef
OPTFLAGS    ?= -O2 -g
CFLAGS      ?= $(OPTFLAGS)
ALL_CFLAGS  = -std=c99 -D_GNU_SOURCE -fPIC $(WARNINGS) $(CFLAGS) $(UV_CFLAGS) $(TLS_CFLAGS) -Icsrc -MMD -MP

BUILD       = build

# The core: plain C, no Lua headers (checked by `make lint`).
CORE_SRC    = csrc/wire.c csrc/name.c csrc/rrtype.c csrc/rdata.c csrc/message.c \
              csrc/rdata_text.c csrc/edns.c csrc/addr.c csrc/random.c \
              csrc/reply.c csrc/clock.c csrc/transport.c csrc/udp.c csrc/tcp.c csrc/stream_frame.c \
              csrc/resolver.c \
              csrc/hash.c csrc/filestamp.c csrc/resolvconf.c csrc/hosts.c csrc/cache.c \
              csrc/route.c csrc/serverurl.c csrc/tls_provider.c \
              csrc/tls.c csrc/doh.c csrc/dot.c csrc/https.c csrc/tls_builtin.c
# The binding: the only files that include lua.h.
BIND_SRC    = csrc/lua_core.c csrc/lua_class.c csrc/lua_dns.c csrc/lua_loop.c csrc/lua_resolver.c \
              csrc/lua_transport.c csrc/lua_sys.c csrc/lua_repl.c csrc/lua_route.c

CORE_OBJ    = $(CORE_SRC:csrc/%.c=$(BUILD)/obj/%.o)
BIND_OBJ    = $(BIND_SRC:csrc/%.c=$(BUILD)/obj/%.o)
MODULE      = $(BUILD)/names/core.so
# The encrypted transports, a module of their own: names.core never names
# their functions (tls_provider.h), so OpenSSL and nghttp2 (1.7 MB of RSS
# when loaded) are linked to names.tls alone, which names.core loads when
# a tls:// or https:// server first needs it.
TLS_MODULE  = $(BUILD)/names/tls.so
TLS_BUILTIN = $(BUILD)/obj/tls_builtin.o
CORE_LIB    = $(BUILD)/libnames.a

LUA_MODULES = $(wildcard lua/names/*.lua)
BIN_SCRIPTS = $(wildcard bin/*)

# C unit tests: spec/c/test_*.c, each a program linked with the core.
CTEST_SRC   = $(wildcard spec/c/test_*.c)
CTEST_BIN   = $(CTEST_SRC:spec/c/%.c=$(BUILD)/ctest/%)
# Test support programs (misbehaving servers, corpus replay).
SUPPORT_SRC = $(wildcard spec/support/*.c)
SUPPORT_BIN = $(SUPPORT_SRC:spec/support/%.c=$(BUILD)/support/%)

.PHONY: all demo test check asan valgrind fuzz bench bench-resolver bench-codec lint docs install clean ctest support

all: $(MODULE) $(TLS_MODULE)

$(BUILD)/obj/lua_%.o: csrc/lua_%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(LUA_INCDIR) -c $< -o $@

$(BUILD)/obj/%.o: csrc/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(CORE_LIB): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(MODULE): $(BIND_OBJ) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LIBFLAG) -o $@ $(BIND_OBJ) $(CORE_LIB) $(UV_LIBS) $(LDFLAGS)

$(TLS_MODULE): $(BUILD)/obj/lua_tls.o $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LIBFLAG) -o $@ $(BUILD)/obj/lua_tls.o $(CORE_LIB) $(UV_LIBS) $(TLS_LIBS) $(LDFLAGS)

# C programs link the whole core, the encrypted transports' provider too
$(BUILD)/ctest/%: spec/c/%.c $(CORE_LIB) spec/c/ctest.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ispec/c -o $@ $< $(TLS_BUILTIN) $(CORE_LIB) $(UV_LIBS) $(TLS_LIBS) $(LDFLAGS)

# The misbehaving server stands alone: it must build even when the core does not.
$(BUILD)/support/badserver: spec/support/badserver.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS)

$(BUILD)/support/%: spec/support/%.c $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(TLS_BUILTIN) $(CORE_LIB) $(UV_LIBS) $(TLS_LIBS) $(LDFLAGS)

ctest: $(CTEST_BIN)
support: $(SUPPORT_BIN)

# The main job, on a fresh machine: the seed's reverse lookup of 127.0.0.1,
# answered from the hosts file (no network).
demo:
	@sh spec/support/deps.sh
	@$(MAKE) --no-print-directory -s all
	@LUA_PATH="lua/?.lua;;" LUA_CPATH="$(BUILD)/?.so;;" $(LUA) examples/reverse_lookup.lua 127.0.0.1

# Everything, on a fresh Debian machine too: packages, servers, tests.
test:
	@sh spec/support/deps.sh
	@$(MAKE) --no-print-directory all ctest support
	@sh spec/support/run-tests.sh

# The tests alone, for a machine already set up.
check: all ctest support
	@sh spec/support/run-tests.sh

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan CC=clang \
	    OPTFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
	    LDFLAGS="-fsanitize=address,undefined" all ctest support
	@sh spec/support/run-sanitized.sh build/asan

valgrind: ctest support
	@sh spec/support/run-valgrind.sh $(BUILD)

fuzz:
	@sh fuzz/run.sh

bench: all
	@sh bench/run.sh

bench-resolver:
	@sh bench/run-resolver.sh

bench-codec:
	@sh bench/run-codec.sh

lint:
	@! grep -l 'include *[<"]l\(ua\|auxlib\|ualib\)\.h' $(CORE_SRC) csrc/names_core.h 2>/dev/null \
	  || (echo "a core file includes Lua headers" >&2; false)
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --std=c99 -Icsrc --suppress=missingIncludeSystem csrc
	luacheck lua spec examples bin

# LDoc says what it did and warns on stdout alike: any line but those two
# is a warning, and fails the target
docs:
	@out=$$(ldoc . 2>&1) || { printf '%s\n' "$$out" >&2; exit 1; }; \
	 warnings=$$(printf '%s\n' "$$out" | grep -v '^reading configuration from\|^output written to'); \
	 if [ -n "$$warnings" ]; then printf '%s\n' "$$warnings" >&2; echo "docs: LDoc warns (above)" >&2; exit 1; fi; \
	 echo "docs: build/doc/index.html"

install: all
	install -d $(DESTDIR)$(LUADIR)/names $(DESTDIR)$(LIBDIR)/names $(DESTDIR)$(BINDIR)
	install -m 644 $(LUA_MODULES) $(DESTDIR)$(LUADIR)/names/
	install -m 755 $(MODULE) $(TLS_MODULE) $(DESTDIR)$(LIBDIR)/names/
	$(if $(BIN_SCRIPTS),install -m 755 $(BIN_SCRIPTS) $(DESTDIR)$(BINDIR)/)

clean:
	rm -rf build

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/ctest/*.d $(BUILD)/support/*.d)
