/* Transports for Lua's low-level protocols: a UDP port (reactor.listenUDP)
 * and a TCP connection (reactor.connectTCP).  Queries through them go by
 * resolver:exchange(..., via); messages nobody waits for go to Lua.
 *
 * Lifetime: the struct is malloc'd and freed by the transport's closed
 * hook; while open, the box is pinned by a registry reference (a listening
 * port lives until stopListening, as in Twisted), released by close. */
#include <stdlib.h>

#include "lua_loop.h"

#define UDP_MT "names.udp_port"
#define TCP_MT "names.tcp_connection"

typedef struct ltransport {
    nm_transport *conn;  /* a UDP port or a TCP connection */
    lua_State *L;
    int on_message; /* registry refs: the Lua callbacks */
    int on_connected;
    int on_lost;    /* TCP: the connection went by itself, after opening */
    int self;       /* pins the box while open */
    int opened;
    int closed;
    struct ltransport **box;
    nm_rxbuf rx;
} ltransport;

static void push_from(lua_State *L, const struct sockaddr *from)
{
    nm_addr a;
    char buf[80];
    memset(&a, 0, sizeof a);
    if (from->sa_family == AF_INET) memcpy(&a.u.in4, from, sizeof a.u.in4);
    else memcpy(&a.u.in6, from, sizeof a.u.in6);
    lua_pushstring(L, nm_addr_host(&a, buf, sizeof buf));
    lua_pushinteger(L, nm_addr_port(&a));
}

static void on_unsolicited(void *owner, void *transport, const uint8_t *msg, size_t len,
                           const struct sockaddr *from)
{
    ltransport *t = owner;
    lua_State *L = t->L;
    (void)transport;
    if (t->closed || t->on_message == LUA_NOREF) return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->on_message);
    lua_pushlstring(L, (const char *)msg, len);
    push_from(L, from);
    nm_lua_pcall(L, 3, 0);
}

static void on_connected(void *owner, void *transport, int status)
{
    ltransport *t = owner;
    lua_State *L = t->L;
    (void)transport;
    if (status == 0) t->opened = 1;
    if (t->closed || t->on_connected == LUA_NOREF) return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->on_connected);
    if (status == 0) lua_pushnil(L);
    else lua_pushstring(L, uv_strerror(status));
    nm_lua_pcall(L, 1, 0);
}

static void release(lua_State *L, ltransport *t);

/* The transport is gone.  When it went by itself (the server closed the
 * connection, or it never opened), its box still points here: the box
 * becomes closed and lets go of what it pinned.  (When close or __gc closed
 * it, that was done then, and Lua may be closing: leave it alone.) */
static void on_closed(void *owner, void *transport)
{
    ltransport *t = owner;
    (void)transport;
    if (!t->closed) {
        t->closed = 1;
        if (t->box) *t->box = NULL;
        t->box = NULL;
        if (t->opened && t->on_lost != LUA_NOREF) {
            lua_rawgeti(t->L, LUA_REGISTRYINDEX, t->on_lost);
            lua_pushliteral(t->L, "the connection was closed by the other side or lost");
            nm_lua_pcall(t->L, 1, 0);
        }
        release(t->L, t);
    }
    nm_rxbuf_free(&t->rx);
    free(t);
}

static void release(lua_State *L, ltransport *t)
{
    int *refs[] = { &t->on_message, &t->on_connected, &t->on_lost, &t->self };
    for (size_t i = 0; i < sizeof refs / sizeof *refs; i++) {
        if (*refs[i] != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, *refs[i]);
        *refs[i] = LUA_NOREF;
    }
}

/* close, __gc and __close: the same path, for ports and connections */
static void transport_close(lua_State *L, void *boxp, int finalizing)
{
    ltransport **box = boxp, *t = *box;
    if (!t) return;
    *box = NULL;
    t->box = NULL;
    t->closed = 1;
    if (!finalizing) release(L, t);
    if (t->conn) nm_transport_close(t->conn);
}

static ltransport *new_transport(lua_State *L, const char *mt, int on_message, int on_connected)
{
    ltransport **box = lua_newuserdatauv(L, sizeof *box, 0);
    ltransport *t;
    *box = NULL;
    luaL_setmetatable(L, mt);
    if (!(t = calloc(1, sizeof *t))) luaL_error(L, "out of memory");
    t->L = nm_lua_main(nm_lua_reactor(L));
    t->on_message = t->on_connected = t->on_lost = t->self = LUA_NOREF;
    nm_rxbuf_init(&t->rx, 1);
    if (on_message) {
        lua_pushvalue(L, on_message);
        t->on_message = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    if (on_connected) {
        lua_pushvalue(L, on_connected);
        t->on_connected = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    t->box = box;
    *box = t;
    return t;
}

/* The failure of an opener, structured: nil, a message, and a code for
 * Lua to map (an nm_error name such as "ESYNTAX" for an address that is
 * no IP address, or libuv's name of a socket error, "EADDRINUSE"). */
static int open_failed(lua_State *L, const char *message, const char *code)
{
    lua_pushnil(L);
    lua_pushstring(L, message);
    lua_pushstring(L, code);
    return 3;
}

/* Opens t's transport of this kind (to peer, or on bind_to; idle_ms for a
 * connection) and pins t's box, at the top of the stack, while it is open.
 * Returns the box's results, or open_failed's, t freed, when it cannot. */
static int open_transport(lua_State *L, ltransport *t, int kind, const nm_addr *peer,
                          const nm_addr *bind_to, int idle_ms)
{
    nm_transport_hooks hooks = { NULL, on_closed, on_unsolicited, on_connected, NULL };
    nm_transport_config c;
    int err = 0;
    hooks.owner = t;
    memset(&c, 0, sizeof c);
    c.loop = nm_lua_loop(L);
    c.peer = peer;
    c.bind_to = bind_to;
    c.idle_ms = idle_ms;
    c.rx = &t->rx;
    c.hooks = &hooks; /* copied by the transport */
    if (!(t->conn = nm_transport_open(kind, &c, &err))) {
        release(L, t);
        *t->box = NULL;
        free(t);
        return open_failed(L, uv_strerror(err), uv_err_name(err));
    }
    lua_pushvalue(L, -1);
    t->self = luaL_ref(L, LUA_REGISTRYINDEX);
    nm_lua_io_started(L);
    return 1;
}

/* udp_listen(host, port, on_datagram(bytes, host, port)) -> port, or nil,
 * message, code (open_failed) */
static int l_udp_listen(lua_State *L)
{
    const char *host = luaL_optstring(L, 1, "0.0.0.0");
    lua_Integer port = luaL_checkinteger(L, 2);
    nm_addr bind_to;
    ltransport *t;
    luaL_argcheck(L, port >= 0 && port <= 65535, 2, "port out of range");
    luaL_checktype(L, 3, LUA_TFUNCTION);
    if (nm_addr_from_host(host, (uint16_t)port, &bind_to))
        return open_failed(L, "bad address", nm_error_name(NM_ESYNTAX));
    t = new_transport(L, UDP_MT, 3, 0);
    return open_transport(L, t, NM_UDP, NULL, &bind_to, 0);
}

/* tcp_connect(host, port, on_connected(err), on_message(bytes)
 *             [, on_lost(reason) [, bind_host, bind_port]]) -> connection,
 *             or nil, message, code
 * on_lost runs when an open connection goes by itself (not on close);
 * bind_host and bind_port: the local address to connect from. */
static int l_tcp_connect(lua_State *L)
{
    const char *host = luaL_checkstring(L, 1);
    lua_Integer port = luaL_checkinteger(L, 2);
    nm_addr peer, local;
    int bind = !lua_isnoneornil(L, 6);
    ltransport *t;
    luaL_argcheck(L, port > 0 && port <= 65535, 2, "port out of range");
    luaL_checktype(L, 3, LUA_TFUNCTION);
    luaL_checktype(L, 4, LUA_TFUNCTION);
    if (nm_addr_from_host(host, (uint16_t)port, &peer))
        return open_failed(L, "bad address", nm_error_name(NM_ESYNTAX));
    if (!lua_isnoneornil(L, 5)) luaL_checktype(L, 5, LUA_TFUNCTION);
    if (bind) {
        const char *bhost = luaL_checkstring(L, 6);
        lua_Integer bport = luaL_optinteger(L, 7, 0);
        luaL_argcheck(L, bport >= 0 && bport <= 65535, 7, "port out of range");
        if (nm_addr_from_host(bhost, (uint16_t)bport, &local))
            return open_failed(L, "bad bind address", nm_error_name(NM_ESYNTAX));
        if (local.u.sa.sa_family != peer.u.sa.sa_family)
            return open_failed(L, "the bind address is not of the peer's address family",
                               nm_error_name(NM_ESYNTAX));
    }
    lua_settop(L, 5); /* the connection goes above: index 5 stays on_lost or nil */
    t = new_transport(L, TCP_MT, 4, 3);
    if (!lua_isnil(L, 5)) {
        lua_pushvalue(L, 5);
        t->on_lost = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    /* a user's connection stays until closed: no idle close */
    return open_transport(L, t, NM_TCP, &peer, bind ? &local : NULL, 0x7FFFFFFF);
}

static ltransport *check_open(lua_State *L, int idx, const char *mt)
{
    ltransport **box = luaL_checkudata(L, idx, mt);
    if (!*box) luaL_error(L, "the transport is closed");
    return *box;
}

/* port:write(bytes, host, port) */
/* (the transport is looked up after the arguments: turning a number into
 * a string allocates, and a finalizer run then may close it) */
static int l_udp_write(lua_State *L)
{
    ltransport *t;
    size_t len;
    const char *msg = luaL_checklstring(L, 2, &len);
    const char *host = luaL_checkstring(L, 3);
    lua_Integer port = luaL_checkinteger(L, 4);
    nm_addr to;
    luaL_argcheck(L, port > 0 && port <= 65535, 4, "port out of range");
    if (nm_addr_from_host(host, (uint16_t)port, &to)) return luaL_argerror(L, 3, "bad address");
    t = check_open(L, 1, UDP_MT);
    lua_pushboolean(L, nm_udp_send_raw(nm_udp_of(t->conn), (const uint8_t *)msg, len, &to) == NM_OK);
    return 1;
}

static int l_udp_port(lua_State *L)
{
    lua_pushinteger(L, nm_udp_port(nm_udp_of(check_open(L, 1, UDP_MT)->conn)));
    return 1;
}

/* connection:write(bytes): one framed message */
static int l_tcp_write(lua_State *L)
{
    ltransport *t;
    size_t len;
    const char *msg = luaL_checklstring(L, 2, &len);
    t = check_open(L, 1, TCP_MT);
    lua_pushboolean(L, nm_tcp_write_raw(nm_tcp_of(t->conn), (const uint8_t *)msg, len) == NM_OK);
    return 1;
}

nm_transport *nm_lua_check_via(lua_State *L, int idx)
{
    ltransport **box = luaL_testudata(L, idx, UDP_MT);
    if (box) {
        if (!*box) luaL_error(L, "the port is closed");
        return (*box)->conn;
    }
    box = luaL_checkudata(L, idx, TCP_MT);
    if (!*box) luaL_error(L, "the connection is closed");
    return (*box)->conn;
}

nm_transport *nm_lua_via_if_open(lua_State *L, int idx)
{
    ltransport **box = luaL_testudata(L, idx, UDP_MT);
    if (!box) box = luaL_testudata(L, idx, TCP_MT);
    return box && *box ? (*box)->conn : NULL;
}

void nm_lua_open_transport(lua_State *L)
{
    static const luaL_Reg udp_methods[] = {
        { "write", l_udp_write },
        { "port", l_udp_port },
        { NULL, NULL },
    };
    static const luaL_Reg tcp_methods[] = {
        { "write", l_tcp_write },
        { NULL, NULL },
    };
    static const nm_lua_class udp = { UDP_MT, udp_methods, transport_close, 1 };
    static const nm_lua_class tcp = { TCP_MT, tcp_methods, transport_close, 1 };
    nm_lua_new_class(L, &udp);
    nm_lua_new_class(L, &tcp);
    lua_pushcfunction(L, l_udp_listen);
    lua_setfield(L, -2, "udp_listen");
    lua_pushcfunction(L, l_tcp_connect);
    lua_setfield(L, -2, "tcp_connect");
}
