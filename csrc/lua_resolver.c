/* The resolver's binding: queries from Lua, results back as Lua tables.
 *
 * Lifetime: the resolver and each query live in malloc'd structs (libuv
 * touches them); the userdata boxes only point at them.  A pending query
 * holds one registry reference to its Lua callback, released in its
 * completion (which nm_query_cancel also runs); the resolver pins its own
 * box while queries are pending, so that it is collected only when idle.
 * close, __gc and __close share one path: nm_resolver_close, which cancels
 * the queries and frees the struct when libuv is done. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua_loop.h"
#include "serverurl.h"
#include "tls_provider.h"

#define RESOLVER_MT "names.resolver"
#define QUERY_MT "names.query"

typedef struct lresolver {
    nm_resolver *r;
    lua_State *L;   /* the main thread */
    int pending;    /* queries not yet completed */
    int self;       /* registry ref pinning the box while pending > 0 */
    int finalizing; /* closed from __gc: never call Lua again */
    struct lresolver **box;
    int own_clock;  /* on a clock of Lua's (set_clock) */
    double clock_s; /* its time, in seconds */
} lresolver;

/* A pending query pins its handle with one registry reference, and the
 * handle holds the Lua callback as its user value: the handle cannot be
 * collected before the query ends, so it needs no finalizer (a finalizer
 * on every query's handle cost the collector a separate pass and a call
 * per query). */
typedef struct lquery {
    nm_query *q;
    lresolver *owner;
    int ref;               /* registry ref of the handle, LUA_NOREF once over */
    int report;            /* attempts even for a plain answer */
    int has_arg;           /* the callback's first argument is user value 2 */
    struct lquery **box;   /* the handle's block */
} lquery;

/* ------------------------------------------------------------- results */

static const char *status_name(int status)
{
    switch (status) {
    case NM_OK: return "ok";
    case NM_ERCODE: return "rcode";
    case NM_ETIMEOUT: return "timeout";
    case NM_ECANCELLED: return "cancelled";
    case NM_ENOSERVER: return "noserver";
    case NM_ENOMEM: return "nomem";
    default: return "error";
    }
}

static void push_attempts(lua_State *L, const nm_result *res)
{
    lua_createtable(L, res->nattempts, 0);
    for (int i = 0; i < res->nattempts; i++) {
        const nm_attempt *a = &res->attempts[i];
        char buf[80];
        lua_createtable(L, 0, 9);
        lua_pushstring(L, nm_addr_text(&a->addr, buf, sizeof buf));
        lua_setfield(L, -2, "server");
        lua_pushstring(L, nm_transport_name(a->transport));
        lua_setfield(L, -2, "transport");
        lua_pushstring(L, nm_outcome_name(a->outcome));
        lua_setfield(L, -2, "outcome");
        if (a->rcode >= 0) nm_lua_setint(L, "rcode", a->rcode);
        if (a->err) {
            char why[80];
            /* libuv's words, or what the TLS or HTTP layer said */
            lua_pushstring(L, nm_transport_strerror(a->err, why, sizeof why));
            lua_setfield(L, -2, "error");
        }
        nm_lua_setbool(L, "edns", a->edns);
        lua_pushnumber(L, a->sent_ms / 1000.0);
        lua_setfield(L, -2, "sent");
        lua_pushnumber(L, a->took_ms / 1000.0);
        lua_setfield(L, -2, "took");
        nm_lua_setint(L, "ignored", a->ignored);
        lua_rawseti(L, -2, i + 1);
    }
}

/* A plain answer: NOERROR (or a whole zone transfer).  Its attempts are
 * built only on request: a table per try on every lookup was the largest
 * single cost of the binding's per-query path, and nobody reads them when
 * nothing went wrong. */
static int plain_answer(const nm_result *res)
{
    return res->status == NM_OK && (res->nmessages > 0 || (res->msg && res->msg->rcode == NM_RCODE_NOERROR));
}

/* Runs protected: pushes (message | nil, error | nil, attempts | nil) and
 * calls the callback below them. */
static int l_deliver(lua_State *L)
{
    const nm_result *res = lua_touserdata(L, 1);
    int report = lua_toboolean(L, 3);
    int nargs = 3;
    if (lua_gettop(L) >= 4) { /* the callback's own first argument */
        lua_copy(L, 4, 3);
        lua_settop(L, 3);
        nargs = 4;
    } else {
        lua_settop(L, 2); /* the callback */
    }
    if (res->status == NM_OK && res->nmessages > 0) {
        lua_createtable(L, res->nmessages, 0);
        for (int i = 0; i < res->nmessages; i++) {
            if (!nm_lua_push_message(L, res->messages[i])) return luaL_error(L, "names.dns is not loaded");
            lua_rawseti(L, -2, i + 1);
        }
        lua_pushnil(L);
    } else if (res->status == NM_OK) {
        /* the bytes copied: the sections are decoded when first read */
        lua_pushlstring(L, (const char *)res->msg->wire, res->msg->len);
        if (!nm_lua_push_message_lazy(L, res->msg, -1)) return luaL_error(L, "names.dns is not loaded");
        lua_remove(L, -2);
        lua_pushnil(L);
    } else {
        lua_pushnil(L);
        lua_createtable(L, 0, 4);
        lua_pushstring(L, status_name(res->status));
        lua_setfield(L, -2, "status");
        lua_pushstring(L, nm_strerror(res->status));
        lua_setfield(L, -2, "reason");
        if (res->msg && nm_lua_push_message(L, res->msg)) lua_setfield(L, -2, "message");
    }
    if (report || !plain_answer(res))
        push_attempts(L, res);
    else
        lua_pushnil(L);
    lua_call(L, nargs, 0);
    return 0;
}

static void unpin(lresolver *lr)
{
    if (--lr->pending == 0 && lr->self != LUA_NOREF && !lr->finalizing) {
        luaL_unref(lr->L, LUA_REGISTRYINDEX, lr->self);
        lr->self = LUA_NOREF;
    }
}

static void on_done(void *arg, const nm_result *res)
{
    lquery *lq = arg;
    lresolver *lr = lq->owner;
    lua_State *L = lr->L;
    int ref = lq->ref;
    int report = lq->report, has_arg = lq->has_arg, handle;

    /* the query leaves every Lua-side index before Lua runs; the handle
     * is still pinned, so its block is there to clear (also in lua_close,
     * which frees no object before every finalizer has run) */
    *lq->box = NULL;
    free(lq);
    unpin(lr);
    if (lr->finalizing) return;

    lua_pushcfunction(L, l_deliver);
    lua_pushlightuserdata(L, (void *)(uintptr_t)res);
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    handle = lua_gettop(L);
    lua_getiuservalue(L, handle, 1);
    lua_pushboolean(L, report);
    if (has_arg) lua_getiuservalue(L, handle, 2);
    /* a handle kept by the user keeps no callback (nor what it holds) */
    lua_pushnil(L);
    lua_setiuservalue(L, handle, 1);
    if (has_arg) {
        lua_pushnil(L);
        lua_setiuservalue(L, handle, 2);
    }
    lua_remove(L, handle);
    nm_lua_pcall(L, 3 + has_arg, 0);
}

/* ------------------------------------------------------------ resolvers */

static lresolver *check_resolver(lua_State *L, int idx)
{
    lresolver **box = nm_lua_check_box(L, idx, RESOLVER_MT);
    if (!*box) luaL_error(L, "the resolver is closed");
    return *box;
}

static void on_resolver_freed(void *arg)
{
    free(arg);
}

/* close, __close and __gc.  A resolver is pinned while queries are
 * pending, so it is collected idle; the exception is one that another
 * finalizer revived to start a query: that query is dropped with it, its
 * callback not run (Lua offers no way to tell this finalizer from the ones
 * of lua_close, where no callback may run either). */
static void resolver_close(lua_State *L, void *boxp, int finalizing)
{
    lresolver **box = boxp, *lr = *box;
    if (!lr) return;
    *box = NULL;
    lr->box = NULL;
    lr->finalizing = finalizing;
    nm_resolver_close(lr->r, on_resolver_freed, lr);
    if (lr->self != LUA_NOREF) {
        if (!finalizing) luaL_unref(L, LUA_REGISTRYINDEX, lr->self);
        lr->self = LUA_NOREF;
    }
}

/* The errors of options name the option: "maxInflight: a number
 * expected, got boolean".  They are raised as plain strings inside
 * parse_options and handed back structured (caught()). */
static int opt_type_error(lua_State *L, const char *k, const char *expected)
{
    return luaL_error(L, "%s: %s expected, got %s", k, expected, luaL_typename(L, -1));
}

static double opt_number(lua_State *L, int t, const char *k, double dflt)
{
    double v = dflt;
    lua_getfield(L, t, k);
    if (lua_type(L, -1) == LUA_TNUMBER) v = lua_tonumber(L, -1);
    else if (!lua_isnil(L, -1)) opt_type_error(L, k, "a number");
    lua_pop(L, 1);
    return v;
}

/* An option of table 1, times scale, in [lo, hi]; checked before it is
 * converted, so that no value makes the conversion undefined. */
static int opt_int(lua_State *L, const char *k, int dflt, int lo, int hi, double scale)
{
    double v = opt_number(L, 1, k, dflt / scale) * scale;
    if (!(v >= lo && v <= hi)) {
        if (scale == 1) luaL_error(L, "%s: %d..%d expected", k, lo, hi);
        luaL_error(L, "%s: %f..%f expected", k, lo / scale, hi / scale);
    }
    return (int)v;
}

static int opt_bool(lua_State *L, int t, const char *k, int dflt)
{
    int v = dflt;
    lua_getfield(L, t, k);
    if (lua_isboolean(L, -1)) v = lua_toboolean(L, -1);
    else if (!lua_isnil(L, -1)) opt_type_error(L, k, "a boolean");
    lua_pop(L, 1);
    return v;
}

/* Reads a list of timeouts at idx into out; returns the count. */
static int check_timeouts(lua_State *L, int idx, double *out, const char *what)
{
    int n = 0;
    if (lua_type(L, idx) == LUA_TNUMBER) {
        out[0] = lua_tonumber(L, idx);
        if (!(out[0] > 0)) luaL_error(L, "%s: timeouts must be positive numbers", what);
        return 1;
    }
    if (!lua_istable(L, idx)) luaL_error(L, "%s: a list of seconds expected, got %s", what, luaL_typename(L, idx));
    for (lua_Integer i = 1; n < NM_MAX_TIMEOUTS; i++) {
        int isnum;
        double v;
        if (lua_geti(L, idx, i) == LUA_TNIL) {
            lua_pop(L, 1);
            break;
        }
        v = lua_tonumberx(L, -1, &isnum);
        lua_pop(L, 1);
        if (!isnum || !(v > 0)) luaL_error(L, "%s: timeouts must be positive numbers", what);
        out[n++] = v;
    }
    if (n == 0) luaL_error(L, "%s: the timeout list is empty", what);
    return n;
}

/* Runs fn protected on the nargs values at the top.  0 when it returned;
 * when it raised a string (an option or a server the caller gave wrongly:
 * every error these functions raise themselves), pushes nil, that message
 * and the code EVALUE and returns 3, the failure handed back structured
 * (STYLE.md's second tier) so that the Lua layer words it for its own
 * function without reading the text; anything else (out of memory, an
 * error object of a metamethod's) goes on up as it was. */
static int caught(lua_State *L, lua_CFunction fn, int nargs)
{
    int rc;
    lua_pushcfunction(L, fn);
    lua_insert(L, -nargs - 1);
    rc = lua_pcall(L, nargs, 0, 0);
    if (rc == LUA_OK) return 0;
    if (rc != LUA_ERRRUN || lua_type(L, -1) != LUA_TSTRING) lua_error(L);
    lua_pushnil(L);
    lua_insert(L, -2);
    lua_pushstring(L, nm_error_name(NM_EVALUE));
    return 3;
}

/* parse_options(table, options *): the options of resolver_new into o */
static int parse_options(lua_State *L)
{
    nm_resolver_options *o = lua_touserdata(L, 2);
    lua_settop(L, 1);
    {
        nm_resolver_options_default(o);
        lua_getfield(L, 1, "timeout");
        if (!lua_isnil(L, -1)) o->ntimeouts = check_timeouts(L, lua_gettop(L), o->timeouts, "timeout");
        lua_pop(L, 1);
        lua_getfield(L, 1, "edns");
        if (lua_isboolean(L, -1)) o->edns_size = lua_toboolean(L, -1) ? 1232 : 0;
        else if (!lua_isnil(L, -1)) {
            lua_Integer size = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
            if (!(size == 0 || (size >= 512 && size <= 65535)))
                luaL_error(L, "edns: a boolean, 0 or 512..65535 expected");
            o->edns_size = (uint16_t)size;
        }
        lua_pop(L, 1);
        o->use_tcp = (uint8_t)opt_bool(L, 1, "tcp", 0);
        o->rotate = (uint8_t)opt_bool(L, 1, "rotate", 0);
        o->dns0x20 = (uint8_t)opt_bool(L, 1, "dns0x20", 0);
        o->recurse = (uint8_t)opt_bool(L, 1, "recurse", 1);
        o->cookies = (uint8_t)opt_bool(L, 1, "cookies", 1);
        o->max_inflight = opt_int(L, "maxInflight", o->max_inflight, 1, 65536, 1);
        o->udp_max_queries = opt_int(L, "udpMaxQueries", o->udp_max_queries, 1, 65536, 1);
        /* seconds, to the millisecond; at most a day */
        o->tcp_idle_ms = opt_int(L, "tcpIdle", o->tcp_idle_ms, 1, 86400000, 1000);
        /* 0: UDP sockets close whenever nothing is in flight */
        o->udp_idle_ms = opt_int(L, "udpIdle", o->udp_idle_ms, 0, 86400000, 1000);
    }
    return 0;
}

/* resolver_new{timeout=, edns=, tcp=, rotate=, dns0x20=, recurse=,
 *              maxInflight=, udpMaxQueries=, tcpIdle=, udpIdle=} -> resolver, or
 * nil, message, "EVALUE" for an option it cannot take (the message names
 * it: "maxInflight: a number expected, got boolean") */
static int l_resolver_new(lua_State *L)
{
    nm_resolver_options o;
    lresolver **box, *lr;
    uv_loop_t *loop;
    int n;

    nm_resolver_options_default(&o);
    if (lua_istable(L, 1)) {
        lua_pushvalue(L, 1);
        lua_pushlightuserdata(L, &o);
        if ((n = caught(L, parse_options, 2)) != 0) return n;
    }
    box = lua_newuserdatauv(L, sizeof *box, 1); /* uservalue: the cache it fills */
    /* after the options' metamethods and the last allocation: either may
     * have moved the module to luv's loop */
    loop = nm_lua_loop(L);
    *box = NULL;
    luaL_setmetatable(L, RESOLVER_MT);
    if (!(lr = calloc(1, sizeof *lr))) return luaL_error(L, "out of memory");
    if (!(lr->r = nm_resolver_new(loop, &o))) {
        free(lr);
        return luaL_error(L, "out of memory");
    }
    lr->L = nm_lua_main(nm_lua_reactor(L));
    lr->self = LUA_NOREF;
    lr->box = box;
    *box = lr;
    nm_lua_io_started(L);
    return 1;
}

/* The encrypted transports, loaded (require "names.tls") the first time
 * a tls:// or https:// server or a TLS option needs them: a program that
 * never does never loads OpenSSL and nghttp2 (tls_provider.h). */
static void need_tls(lua_State *L)
{
    if (nm_tls_provider_get()) return;
    lua_getglobal(L, "require");
    lua_pushliteral(L, "names.tls");
    lua_call(L, 1, 0);
    if (!nm_tls_provider_get()) luaL_error(L, "names.tls did not install the encrypted transports");
}

/* Reads a server: "addr", "[addr]:port", or {host, port}. */
static void check_server(lua_State *L, int idx, nm_server_url *out, int n)
{
    int err;
    idx = lua_absindex(L, idx);
    memset(out, 0, sizeof *out);
    if (lua_istable(L, idx)) {
        const char *host;
        lua_Integer port;
        lua_geti(L, idx, 1);
        lua_geti(L, idx, 2);
        host = lua_tostring(L, -2);
        port = lua_isnil(L, -1) ? 53 : lua_tointeger(L, -1);
        if (!host || port < 1 || port > 65535)
            luaL_error(L, "server %d: {host, port} with a port in 1..65535 expected", n);
        err = nm_addr_from_host(host, (uint16_t)port, &out->addr);
        if (err) luaL_error(L, "server %d: bad address '%s'", n, host);
        out->kind = NM_UDP;
        lua_pop(L, 2);
    } else if (lua_type(L, idx) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        const char *why;
        if (nm_server_url_parse(s, len, out, &why) != NM_OK) {
            if (out->kind == NM_UDP && strcmp(why, "bad address") == 0)
                luaL_error(L, "server %d: bad address '%s'", n, s);
            luaL_error(L, "server %d: '%s': %s", n, s, why);
        }
        if (out->needs_address)
            luaL_error(L, "server %d: '%s': the host %s needs an address: add #ADDRESS (a bootstrap "
                          "address) or list it in the hosts file", n, s, out->host);
    } else {
        luaL_error(L, "server %d: an address string or {host, port} expected, got %s", n, luaL_typename(L, idx));
    }
}

typedef struct server_list {
    nm_server_url urls[NM_MAX_SERVERS_ASKED];
    int n;
} server_list;

/* read_servers(list, server_list *) */
static int read_servers(lua_State *L)
{
    server_list *out = lua_touserdata(L, 2);
    lua_settop(L, 1);
    out->n = 0;
    for (lua_Integer i = 1;; i++) {
        if (lua_geti(L, 1, i) == LUA_TNIL) {
            lua_pop(L, 1);
            break;
        }
        if (out->n == NM_MAX_SERVERS_ASKED) return luaL_error(L, "at most %d servers", NM_MAX_SERVERS_ASKED);
        check_server(L, -1, &out->urls[out->n], (int)i);
        out->n++;
        lua_pop(L, 1);
    }
    return 0;
}

/* resolver:set_servers({server, ...} [, {get = true}]) -> true, or nil,
 * message, "EVALUE" for a server it cannot take ("server 2: bad address
 * '300.1.2.3'").  Servers are addresses, or tls:// and https:// URLs. */
static int l_set_servers(lua_State *L)
{
    lresolver *lr;
    server_list *list;
    nm_server_spec specs[NM_MAX_SERVERS_ASKED];
    int n, get = 0;
    check_resolver(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 3);
    /* the URLs' strings are read by the core from here: a userdata, freed
     * by the collector after the call */
    list = lua_newuserdatauv(L, sizeof *list, 0);
    lua_pushvalue(L, 2);
    lua_pushlightuserdata(L, list);
    if ((n = caught(L, read_servers, 2)) != 0) return n;
    for (int i = 0; i < list->n; i++)
        if (list->urls[i].kind != NM_UDP) need_tls(L);
    lr = check_resolver(L, 1); /* again: reading the list ran metamethods, loading ran a module */
    if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "get");
        get = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    for (int i = 0; i < list->n; i++) {
        specs[i].addr = list->urls[i].addr;
        specs[i].kind = list->urls[i].kind;
        specs[i].authname = list->urls[i].authname[0] ? list->urls[i].authname : NULL;
        specs[i].authority = list->urls[i].authority;
        specs[i].path = list->urls[i].path;
        specs[i].use_get = get;
    }
    if (nm_resolver_set_servers_ex(lr->r, specs, list->n)) return luaL_error(L, "out of memory");
    lua_pushboolean(L, 1);
    return 1;
}

/* resolver:security() -> {false | {verified=, check=, version=, cipher=,
 * alpn=, resumed=, error=, clear=} | {} , ...}: per server, false for a
 * plain one, an empty table before its first encrypted connection; clear
 * when an opportunistic query fell back to clear text with it */
static int l_security(lua_State *L)
{
    lresolver *lr = check_resolver(L, 1);
    int n = nm_resolver_nservers(lr->r);
    nm_tls_info info[NM_MAX_SERVERS_ASKED];
    int kind[NM_MAX_SERVERS_ASKED] = {0}, has[NM_MAX_SERVERS_ASKED] = {0};
    int clear[NM_MAX_SERVERS_ASKED] = {0};
    if (n > NM_MAX_SERVERS_ASKED) n = NM_MAX_SERVERS_ASKED;
    /* copied before Lua allocates (a finalizer may change the servers) */
    for (int i = 0; i < n; i++) {
        const nm_tls_info *t = nm_resolver_server_tls(lr->r, i);
        kind[i] = nm_resolver_server_kind(lr->r, i);
        has[i] = t != NULL;
        if (t) info[i] = *t;
        clear[i] = nm_resolver_server_fell_back(lr->r, i);
    }
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        if (kind[i] == NM_UDP) {
            lua_pushboolean(L, 0);
        } else {
            lua_createtable(L, 0, 8);
            if (clear[i]) nm_lua_setbool(L, "clear", 1);
            if (has[i]) {
                nm_lua_setbool(L, "verified", info[i].verified);
                nm_lua_setbool(L, "resumed", info[i].resumed);
                lua_pushstring(L, info[i].version);
                lua_setfield(L, -2, "version");
                lua_pushstring(L, info[i].cipher);
                lua_setfield(L, -2, "cipher");
                lua_pushstring(L, info[i].alpn);
                lua_setfield(L, -2, "alpn");
                if (info[i].check_status != NM_TLS_OK) {
                    /* a connection was made: the provider is there */
                    lua_pushstring(L, nm_tls_provider_get()->tls_strstatus(info[i].check_status));
                    lua_setfield(L, -2, "check");
                    lua_pushstring(L, info[i].error);
                    lua_setfield(L, -2, "error");
                }
            }
        }
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* resolver:set_tls{strict=, caFile=, caPath=, pins={...}, handshakeTimeout=} */
static int l_set_tls(lua_State *L)
{
    lresolver *lr;
    check_resolver(L, 1);
    need_tls(L);
    lr = check_resolver(L, 1); /* again: loading ran a module */
    const char *pins[64];
    nm_tls_config cfg;
    char err[200];
    lua_Number hs;
    luaL_checktype(L, 2, LUA_TTABLE);
    memset(&cfg, 0, sizeof cfg);
    lua_getfield(L, 2, "strict");
    cfg.strict = lua_isnil(L, -1) ? 1 : lua_toboolean(L, -1);
    lua_getfield(L, 2, "caFile");
    cfg.ca_file = luaL_optstring(L, -1, NULL);
    lua_getfield(L, 2, "caPath");
    cfg.ca_path = luaL_optstring(L, -1, NULL);
    lua_getfield(L, 2, "handshakeTimeout");
    hs = luaL_optnumber(L, -1, 0);
    if (hs < 0 || hs > 3600) return luaL_error(L, "handshakeTimeout: seconds in 0..3600 expected");
    if (lua_getfield(L, 2, "pins") == LUA_TTABLE) {
        for (lua_Integer i = 1;; i++) {
            if (lua_geti(L, -1, i) == LUA_TNIL) {
                lua_pop(L, 1);
                break;
            }
            if (cfg.npins == 64) return luaL_error(L, "pins: at most 64");
            if (lua_type(L, -1) != LUA_TSTRING) return luaL_error(L, "pins: pin %d is not a string", (int)i);
            pins[cfg.npins++] = lua_tostring(L, -1);
            /* the string stays on the stack, referenced, until we return */
        }
        cfg.pins = pins;
    }
    lua_getfield(L, 2, "clearPort");
    lua_Integer cp = luaL_optinteger(L, -1, 53);
    if (cp < 1 || cp > 65535) return luaL_error(L, "clearPort: a port in 1..65535 expected");
    if (nm_resolver_set_tls(lr->r, &cfg, (unsigned)(hs * 1000), err, sizeof err) != NM_OK)
        return luaL_error(L, "%s", err);
    nm_resolver_set_clear_port(lr->r, (uint16_t)cp);
    return 0;
}

/* resolver:servers() -> {"127.0.0.1:53", ...} */
static int l_servers(lua_State *L)
{
    lresolver *lr = check_resolver(L, 1);
    char text[NM_MAX_SERVERS_ASKED][700];
    int n = nm_resolver_nservers(lr->r);
    /* copied before Lua allocates: a finalizer may change the list or
     * close the resolver meanwhile */
    if (n > NM_MAX_SERVERS_ASKED) n = NM_MAX_SERVERS_ASKED;
    for (int i = 0; i < n; i++) {
        char addr[80];
        int kind = nm_resolver_server_kind(lr->r, i);
        if (kind == NM_HTTPS) nm_addr_host(nm_resolver_server(lr->r, i), addr, sizeof addr);
        else nm_addr_text(nm_resolver_server(lr->r, i), addr, sizeof addr);
        const nm_secure *sec = nm_resolver_server_secure(lr->r, i);
        if (kind == NM_TLS)
            snprintf(text[i], sizeof text[i], "tls://%s%s%s", addr, sec->authname[0] ? "#" : "", sec->authname);
        else if (kind == NM_HTTPS)
            snprintf(text[i], sizeof text[i], "https://%s%s#%s", sec->authority, sec->path, addr);
        else
            snprintf(text[i], sizeof text[i], "%s", addr);
    }
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushstring(L, text[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* The handle of a query, made before the query starts: between the start
 * and the handle's completion nothing may allocate from Lua (a finalizer
 * run by an allocation may close the resolver, which would complete the
 * query and free it under us). */
static lquery **new_handle(lua_State *L)
{
    lquery **box = lua_newuserdatauv(L, sizeof *box, 2);
    *box = NULL;
    luaL_setmetatable(L, QUERY_MT);
    return box;
}

/* The query has started: its handle (at the top) points to it.  Its
 * callback never runs before the core returns it. */
static int set_handle(lquery **box, lquery *lq, nm_query *q)
{
    lq->q = q;
    *box = lq;
    return 1;
}

/* The resolver at 1, again after the allocations of the call: a finalizer
 * may have closed it (its memory stays until the loop runs, which a
 * finalizer may not do).  The handle is at the top: it takes the callback
 * as its user value and is pinned until the query ends. */
static lquery *new_lquery(lua_State *L, int cbidx)
{
    lresolver *lr;
    lquery *lq;
    int ref;
    lua_pushvalue(L, cbidx);
    lua_setiuservalue(L, -2, 1);
    lua_pushvalue(L, -1);
    ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lr = *(lresolver **)nm_lua_check_box(L, 1, RESOLVER_MT);
    if (!lr || !(lq = calloc(1, sizeof *lq))) {
        luaL_unref(L, LUA_REGISTRYINDEX, ref);
        luaL_error(L, lr ? "out of memory" : "the resolver is closed");
        return NULL;
    }
    lq->ref = ref;
    lq->owner = lr;
    lq->box = lua_touserdata(L, -1);
    if (lr->pending == 0 && lr->box) {
        /* pinned while it has queries: collected only when idle */
        lua_pushvalue(L, 1);
        lr->self = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lr->pending++;
    return lq;
}

static void drop_lquery(lua_State *L, lquery *lq)
{
    luaL_unref(L, LUA_REGISTRYINDEX, lq->ref);
    unpin(lq->owner);
    free(lq);
}

/* resolver:query(name, type, class, timeouts|nil, flags, callback [, arg]) -> handle
 * callback(message, err, attempts), or callback(arg, message, err,
 * attempts) when arg is given (a lookup's state: no closure per lookup).
 * flags: a string of letters: t (TCP), d (DO bit), n (no recursion),
 * c (CD), x (zone transfer), a (alone: never shared), r (report the
 * attempts for a plain answer too; they always come with a failure) */
static int l_query(lua_State *L)
{
    lresolver *lr;
    lquery **box;
    size_t n, wl;
    const char *name = luaL_checklstring(L, 2, &n);
    lua_Integer type = luaL_checkinteger(L, 3), cls = luaL_optinteger(L, 4, 1);
    int has_arg = lua_gettop(L) >= 8;
    const char *flags = luaL_optstring(L, 6, "");
    double timeouts[NM_MAX_TIMEOUTS];
    nm_query_options o = { NULL, 0, 0 };
    uint8_t wire[NM_NAME_MAX];
    lquery *lq;
    nm_query *q;
    int err;

    luaL_argcheck(L, type >= 0 && type <= 65535, 3, "type out of range");
    luaL_argcheck(L, cls >= 0 && cls <= 65535, 4, "class out of range");
    luaL_checktype(L, 7, LUA_TFUNCTION);
    if ((err = nm_name_from_text(name, n, wire, &wl)) != NM_OK)
        return luaL_argerror(L, 2, lua_pushfstring(L, "%s: '%s'", nm_strerror(err), name));
    if (!lua_isnoneornil(L, 5)) {
        o.ntimeouts = check_timeouts(L, 5, timeouts, "timeout");
        o.timeouts = timeouts;
    }
    for (const char *f = flags; *f; f++) {
        switch (*f) {
        case 't': o.flags |= NM_Q_TCP; break;
        case 'd': o.flags |= NM_Q_DNSSEC; break;
        case 'n': o.flags |= NM_Q_NORECURSE; break;
        case 'c': o.flags |= NM_Q_CD; break;
        case 'x': o.flags |= NM_Q_XFR; break;
        case 'a': o.flags |= NM_Q_ALONE; break;
        case 'r': break;
        default: return luaL_argerror(L, 6, "unknown flag");
        }
    }
    /* the resolver last: the timeouts' metamethods may have closed it */
    check_resolver(L, 1);
    /* the loop's clock; wakes a poller; raises when the reactor is gone
     * (lua_close): before anything is pinned */
    nm_lua_prepare_work(L);
    box = new_handle(L);
    if (has_arg) {
        lua_pushvalue(L, 8);
        lua_setiuservalue(L, -2, 2);
    }
    lq = new_lquery(L, 7);
    lr = lq->owner;
    lq->report = strchr(flags, 'r') != NULL;
    lq->has_arg = has_arg;
    q = nm_resolver_query(lr->r, wire, (uint16_t)type, (uint16_t)cls, &o, on_done, lq);
    if (!q) {
        drop_lquery(L, lq);
        return luaL_error(L, "cannot start the query (out of memory)");
    }
    return set_handle(box, lq, q);
}

/* resolver:exchange(bytes, server, transport ("udp"|"tcp"), timeout, callback [, via])
 * One message to one server; the reply whatever it says.  via: a port or
 * connection of lua_transport.c to send through. */
static int l_exchange(lua_State *L)
{
    lresolver *lr;
    lquery **box;
    int has_via;
    size_t len;
    const char *msg = luaL_checklstring(L, 2, &len);
    nm_server_url server;
    nm_exchange_options o;
    lquery *lq;
    nm_query *q;

    memset(&o, 0, sizeof o);
    luaL_argcheck(L, len >= NM_HEADER_LEN && len <= NM_MAX_MESSAGE, 2, "not a DNS message");
    check_server(L, 3, &server, 1);
    if (server.kind != NM_UDP) return luaL_argerror(L, 3, "a plain address expected (no tls:// or https://)");
    o.server = &server.addr;
    o.transport = nm_transport_find(luaL_optstring(L, 4, "udp"));
    luaL_argcheck(L, o.transport >= 0, 4, "no such transport");
    if (o.transport == NM_TLS || o.transport == NM_HTTPS) need_tls(L);
    o.timeout = luaL_optnumber(L, 5, 10);
    luaL_checktype(L, 6, LUA_TFUNCTION);
    if (!lua_isnoneornil(L, 7)) o.transport = nm_lua_check_via(L, 7)->ops->kind;
    /* the resolver last (and the port after the server): the server's
     * metamethods may have closed either */
    check_resolver(L, 1);
    has_via = !lua_isnoneornil(L, 7);
    nm_lua_prepare_work(L); /* as in query: before anything is pinned */
    box = new_handle(L);
    lq = new_lquery(L, 6);
    lr = lq->owner;
    lq->report = 1; /* one exchange: which transport answered is its news */
    if (has_via) {
        /* again: the allocations above may have run a finalizer closing it */
        if (!(o.via = nm_lua_via_if_open(L, 7))) {
            drop_lquery(L, lq);
            return luaL_error(L, "the port is closed");
        }
    }
    q = nm_resolver_exchange(lr->r, (const uint8_t *)msg, len, &o, on_done, lq);
    if (!q) {
        drop_lquery(L, lq);
        return luaL_error(L, "cannot start the exchange");
    }
    return set_handle(box, lq, q);
}

/* ---- a clock of Lua's (clock.h): time stands still until Lua moves it */

static uint64_t lua_clock_ms(void *ctx)
{
    return (uint64_t)(((lresolver *)ctx)->clock_s * 1000.0 + 0.5);
}

static double lua_clock_seconds(void *ctx)
{
    return ((lresolver *)ctx)->clock_s;
}

/* resolver:set_clock(seconds | nil)
 * The lookups' deadlines on a clock of Lua's, for tests and for Twisted's
 * task.Clock.  The first call takes the resolver off the loop's clock (only
 * while nothing is in flight) with the time `seconds`; each later call
 * moves the time there (never backwards) and runs at once whatever falls
 * due, callbacks included, as task.Clock.advance runs its calls.  nil puts
 * it back on the loop's clock (nothing in flight).  A task.Clock drives a
 * resolver by calling, after each advance, resolver:set_clock(clock:seconds()). */
static int l_set_clock(lua_State *L)
{
    lresolver *lr = check_resolver(L, 1);
    nm_clock c = { lua_clock_ms, lua_clock_seconds, NULL, NULL };
    int own = !lua_isnoneornil(L, 2), rc;
    lua_Number secs = own ? luaL_checknumber(L, 2) : 0;
    luaL_argcheck(L, secs >= 0 && secs < 1e12, 2, "time out of range");
    lr = check_resolver(L, 1); /* converting the number may have run a finalizer */
    if (own && lr->own_clock) {
        luaL_argcheck(L, secs >= lr->clock_s, 2, "the clock cannot go back");
        lr->clock_s = secs;
        nm_resolver_clock_moved(lr->r);
        return 0;
    }
    c.ctx = lr;
    rc = nm_resolver_set_clock(lr->r, own ? &c : NULL);
    if (rc == NM_EBUSY) return luaL_error(L, "the resolver has queries in flight");
    if (rc != NM_OK) return luaL_error(L, "set_clock: %s", nm_strerror(rc));
    lr->own_clock = own;
    lr->clock_s = secs;
    return 0;
}

/* resolver:set_cache(cache | nil): answers fill the cache */
static int l_set_cache(lua_State *L)
{
    lresolver *lr = check_resolver(L, 1);
    if (lua_isnoneornil(L, 2)) {
        nm_resolver_set_cache(lr->r, NULL);
        lua_pushnil(L);
    } else {
        nm_resolver_set_cache(lr->r, nm_lua_check_cache(L, 2));
        lua_pushvalue(L, 2);
    }
    /* the resolver holds the cache for as long as it uses it */
    lua_setiuservalue(L, 1, 1);
    return 0;
}

static int l_stats(lua_State *L)
{
    lresolver *lr = check_resolver(L, 1);
    nm_resolver_stats s;
    int pending = lr->pending; /* lr may be gone once Lua allocates */
    nm_resolver_stats_get(lr->r, &s);
    lua_createtable(L, 0, 13);
    nm_lua_setint(L, "queries", (lua_Integer)s.queries);
    nm_lua_setint(L, "exchanges", (lua_Integer)s.exchanges);
    nm_lua_setint(L, "shared", (lua_Integer)s.shared);
    for (int k = 0; k < NM_NTRANSPORTS; k++) {
        /* sentUDP, sentTCP, ...: "sent" and the transport's name in capitals */
        char key[16] = "sent";
        const char *name = nm_transport_name(k);
        size_t i = 4;
        for (; *name && i < sizeof key - 1; name++) key[i++] = (char)(*name & ~0x20);
        key[i] = 0;
        nm_lua_setint(L, key, (lua_Integer)s.sent[k]);
    }
    nm_lua_setint(L, "queued", (lua_Integer)s.queued_now);
    nm_lua_setint(L, "inflight", (lua_Integer)s.inflight_now);
    nm_lua_setint(L, "socketsOpen", (lua_Integer)s.sockets_open);
    nm_lua_setint(L, "socketsOpened", (lua_Integer)s.opened[NM_UDP]);
    nm_lua_setint(L, "tcpOpened", (lua_Integer)s.opened[NM_TCP]);
    nm_lua_setint(L, "tlsOpened", (lua_Integer)s.opened[NM_TLS]);
    nm_lua_setint(L, "httpsOpened", (lua_Integer)s.opened[NM_HTTPS]);
    nm_lua_setint(L, "dropped", (lua_Integer)s.dropped);
    nm_lua_setint(L, "timers", (lua_Integer)s.timers_now);
    nm_lua_setint(L, "pending", pending);
    return 1;
}

/* --------------------------------------------------------------- queries */

static int l_query_cancel(lua_State *L)
{
    lquery **box = luaL_checkudata(L, 1, QUERY_MT);
    lquery *lq = *box;
    if (lq && lq->q) nm_query_cancel(lq->q); /* runs on_done, which clears *box */
    return 0;
}

static int l_query_active(lua_State *L)
{
    lquery **box = luaL_checkudata(L, 1, QUERY_MT);
    lua_pushboolean(L, *box != NULL);
    return 1;
}

void nm_lua_open_resolver(lua_State *L)
{
    static const luaL_Reg resolver_methods[] = {
        { "set_servers", l_set_servers },
        { "set_tls", l_set_tls },
        { "security", l_security },
        { "servers", l_servers },
        { "query", l_query },
        { "exchange", l_exchange },
        { "stats", l_stats },
        { "set_cache", l_set_cache },
        { "set_clock", l_set_clock },
        { NULL, NULL },
    };
    static const luaL_Reg query_methods[] = {
        { "cancel", l_query_cancel },
        { "active", l_query_active },
        { NULL, NULL },
    };
    static const nm_lua_class resolver = { RESOLVER_MT, resolver_methods, resolver_close, 1 };
    /* a query ends by cancel (or its answer); it is not a thing to close,
     * and it needs no finalizer (see lquery) */
    static const nm_lua_class query = { QUERY_MT, query_methods, NULL, 0 };
    nm_lua_new_class(L, &resolver);
    nm_lua_new_class(L, &query);
    lua_pushcfunction(L, l_resolver_new);
    lua_setfield(L, -2, "resolver_new");
}
