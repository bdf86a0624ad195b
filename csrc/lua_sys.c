/* The binding of the core's system files and cache: resolv.conf, the hosts
 * file, the answer cache, and reverse names.  Each object is a userdata
 * holding a pointer to the core's malloc'd struct, freed by close or
 * __gc (no libuv handles here, so freeing is immediate). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>

#include "lua_loop.h"

#define CONF_MT "names.resolvconf"
#define HOSTS_MT "names.hosts"
#define CACHE_MT "names.cache"

/* ------------------------------------------------------------ resolv.conf */

typedef struct lconf {
    nm_resolv_conf conf;
    nm_file_stamp stamp;
    int missing;
    char path[];
} lconf;

static lconf *check_conf(lua_State *L)
{
    lconf **box = nm_lua_check_box(L, 1, CONF_MT);
    if (!*box) luaL_error(L, "closed");
    return *box;
}

static void load_conf(lconf *c)
{
    nm_resolvconf_defaults(&c->conf);
    nm_file_changed(c->path, &c->stamp);
    c->missing = nm_resolvconf_load(&c->conf, c->path) == NM_ENOTFOUND;
}

/* resolvconf(path) -> conf */
static int l_resolvconf(lua_State *L)
{
    size_t n;
    const char *path = luaL_checklstring(L, 1, &n);
    luaL_argcheck(L, strlen(path) == n, 1, "a path with a NUL byte");
    lconf **box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = NULL;
    luaL_setmetatable(L, CONF_MT);
    if (!(*box = calloc(1, sizeof **box + n + 1))) return luaL_error(L, "out of memory");
    memcpy((*box)->path, path, n + 1);
    nm_file_stamp_init(&(*box)->stamp);
    load_conf(*box);
    return 1;
}

/* conf:reload() -> whether the file changed and was read again */
static int l_conf_reload(lua_State *L)
{
    lconf *c = check_conf(L);
    nm_file_stamp probe = c->stamp;
    int changed = nm_file_changed(c->path, &probe);
    if (changed) load_conf(c);
    lua_pushboolean(L, changed);
    return 1;
}

/* conf:info() -> { servers = {...}, search = {...}, ndots = ..., ... }
 * From a snapshot of the configuration (held by a userdata on the stack),
 * since each table made may run a finalizer that reloads or closes it. */
static int l_conf_info(lua_State *L)
{
    nm_resolv_conf *conf = lua_newuserdatauv(L, sizeof *conf, 0);
    int missing;
    char buf[80];
    *conf = check_conf(L)->conf;
    missing = check_conf(L)->missing;
    lua_createtable(L, 0, 10);
    lua_createtable(L, conf->nservers, 0);
    for (int i = 0; i < conf->nservers; i++) {
        lua_pushstring(L, nm_addr_text(&conf->servers[i], buf, sizeof buf));
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "servers");
    lua_createtable(L, conf->nsearch, 0);
    for (int i = 0; i < conf->nsearch; i++) {
        lua_pushstring(L, conf->search[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "search");
    nm_lua_setint(L, "ndots", conf->ndots);
    if (conf->timeout >= 0) nm_lua_setint(L, "timeout", conf->timeout);
    if (conf->attempts >= 0) nm_lua_setint(L, "attempts", conf->attempts);
    nm_lua_setbool(L, "rotate", conf->rotate);
    nm_lua_setbool(L, "edns0", conf->edns0);
    nm_lua_setbool(L, "usevc", conf->use_vc);
    nm_lua_setbool(L, "missing", missing);
    return 1;
}

/* conf:candidates(name) -> the names to try, search list applied */
static int l_conf_candidates(lua_State *L)
{
    const char *name = luaL_checkstring(L, 2);
    /* on the C stack: a block of the collector's per lookup (9 KB) made
     * the collector run several times as often */
    char out[NM_MAX_SEARCH + 1][NM_NAME_TEXT_MAX];
    int n = nm_resolvconf_candidates(&check_conf(L)->conf, name, out, NM_MAX_SEARCH + 1);
    if (n < 0) return luaL_argerror(L, 2, lua_pushfstring(L, "%s: '%s'", nm_strerror(n), name));
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushstring(L, out[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* close, __close and __gc of the three: freeing is all there is to it */
static void conf_release(lua_State *L, void *boxp, int finalizing)
{
    lconf **box = boxp;
    (void)L;
    (void)finalizing;
    free(*box);
    *box = NULL;
}

/* ---------------------------------------------------------------- hosts */

typedef struct lhosts {
    nm_hosts *hosts;
    nm_file_stamp stamp;
    char path[];
} lhosts;

static lhosts *check_hosts(lua_State *L)
{
    lhosts **box = nm_lua_check_box(L, 1, HOSTS_MT);
    if (!*box) luaL_error(L, "closed");
    return *box;
}

/* hosts(path) -> hosts */
static int l_hosts(lua_State *L)
{
    size_t n;
    const char *path = luaL_checklstring(L, 1, &n);
    luaL_argcheck(L, strlen(path) == n, 1, "a path with a NUL byte");
    lhosts **box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = NULL;
    luaL_setmetatable(L, HOSTS_MT);
    if (!(*box = calloc(1, sizeof **box + n + 1))) return luaL_error(L, "out of memory");
    memcpy((*box)->path, path, n + 1);
    if (!((*box)->hosts = nm_hosts_new())) return luaL_error(L, "out of memory");
    nm_file_stamp_init(&(*box)->stamp);
    nm_hosts_reload_if_changed((*box)->hosts, path, &(*box)->stamp);
    return 1;
}

static int l_hosts_reload(lua_State *L)
{
    lhosts *h = check_hosts(L);
    lua_pushboolean(L, nm_hosts_reload_if_changed(h->hosts, h->path, &h->stamp) == 1);
    return 1;
}

/* Pushes the n addresses of out as a list of strings. */
static void push_address_list(lua_State *L, int family, uint8_t (*out)[16], int n)
{
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        char buf[INET6_ADDRSTRLEN];
        inet_ntop(family, out[i], buf, sizeof buf);
        lua_pushstring(L, buf);
        lua_rawseti(L, -2, i + 1);
    }
}

/* hosts:addresses(name, 4|6) -> {"192.0.2.1", ...} */
static int l_hosts_addresses(lua_State *L)
{
    const char *name = luaL_checkstring(L, 2);
    int family = luaL_checkinteger(L, 3) == 6 ? AF_INET6 : AF_INET;
    uint8_t out[64][16];
    /* the hosts after the arguments: converting one allocates */
    int n = nm_hosts_addresses(check_hosts(L)->hosts, name, family, out, 64);
    push_address_list(L, family, out, n);
    return 1;
}

/* hosts:find(name, 4|6) -> {"192.0.2.1", ...} | nil, listed: the name's
 * addresses of that family, or nil and whether it has one of the other
 * (the hosts resolver, first in every chain, asks this of every A and
 * AAAA lookup: one call and no table for the common miss) */
static int l_hosts_find(lua_State *L)
{
    const char *name = luaL_checkstring(L, 2);
    int family = luaL_checkinteger(L, 3) == 6 ? AF_INET6 : AF_INET;
    uint8_t out[64][16];
    const nm_hosts *h = check_hosts(L)->hosts;
    uint8_t first6[16], first4[16];
    int found = nm_hosts_first(h, name, first6, first4), n;
    if (!(found & (family == AF_INET6 ? 1 : 2))) { /* the common miss: one look */
        lua_pushnil(L);
        lua_pushboolean(L, found != 0);
        return 2;
    }
    n = nm_hosts_addresses(h, name, family, out, 64);
    push_address_list(L, family, out, n);
    return 1;
}

/* hosts:address(name) -> the first IPv6 address the file gives name, else
 * its first IPv4 one, else nil: getHostByName's answer from the file */
static int l_hosts_address(lua_State *L)
{
    const char *name = luaL_checkstring(L, 2);
    const nm_hosts *h = check_hosts(L)->hosts;
    char buf[INET6_ADDRSTRLEN];
    uint8_t out6[16], out4[16];
    int found = nm_hosts_first(h, name, out6, out4);
    if (found & 1) inet_ntop(AF_INET6, out6, buf, sizeof buf);
    else if (found & 2) inet_ntop(AF_INET, out4, buf, sizeof buf);
    else return 0;
    lua_pushstring(L, buf);
    return 1;
}

/* The names the hosts object at stack index 1 has for addr, copied one
 * after another (each with its NUL) into a userdata left on the stack;
 * returns how many.  The names point into the file's text, and a
 * finalizer run by the allocation may reload that text or close the
 * object: so they are looked up again after it, and copied with no Lua
 * allocation between lookup and copy. */
static int copy_names(lua_State *L, int family, const uint8_t *addr)
{
    const char *out[64];
    for (;;) {
        size_t need = 0, have = 0;
        int n = nm_hosts_names(check_hosts(L)->hosts, family, addr, out, 64);
        char *p;
        for (int i = 0; i < n; i++) need += strlen(out[i]) + 1;
        p = lua_newuserdatauv(L, need, 0);
        n = nm_hosts_names(check_hosts(L)->hosts, family, addr, out, 64);
        for (int i = 0; i < n; i++) have += strlen(out[i]) + 1;
        if (have <= need) {
            for (int i = 0; i < n; i++) {
                size_t len = strlen(out[i]) + 1;
                memcpy(p, out[i], len);
                p += len;
            }
            return n;
        }
        lua_pop(L, 1); /* reloaded with longer names meanwhile: again */
    }
}

static int l_hosts_count(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)nm_hosts_count(check_hosts(L)->hosts));
    return 1;
}

static void hosts_release(lua_State *L, void *boxp, int finalizing)
{
    lhosts **box = boxp;
    (void)L;
    (void)finalizing;
    if (*box) {
        nm_hosts_free((*box)->hosts);
        free(*box);
    }
    *box = NULL;
}

/* ---------------------------------------------------------------- cache */

static nm_cache **check_cache_box(lua_State *L, int idx)
{
    nm_cache **box = nm_lua_check_box(L, idx, CACHE_MT);
    if (!*box) luaL_error(L, "closed");
    return box;
}

nm_cache *nm_lua_check_cache(lua_State *L, int idx)
{
    return *check_cache_box(L, idx);
}

/* cache(maxEntries, maxTTL, maxNegativeTTL) -> cache */
static int l_cache(lua_State *L)
{
    lua_Integer entries = luaL_optinteger(L, 1, 10000);
    lua_Integer max_ttl = luaL_optinteger(L, 2, 86400 * 7);
    lua_Integer max_neg = luaL_optinteger(L, 3, 10800);
    nm_cache **box;
    luaL_argcheck(L, entries >= 0 && entries <= 1 << 24, 1, "0..16777216 expected");
    luaL_argcheck(L, max_ttl >= 0 && max_ttl <= 0x7FFFFFFF, 2, "0..2147483647 expected");
    luaL_argcheck(L, max_neg >= 0 && max_neg <= 0x7FFFFFFF, 3, "0..2147483647 expected");
    box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = NULL;
    luaL_setmetatable(L, CACHE_MT);
    if (!(*box = nm_cache_new((size_t)entries, (uint32_t)max_ttl, (uint32_t)max_neg)))
        return luaL_error(L, "out of memory");
    return 1;
}

static void check_key(lua_State *L, uint8_t *wire, uint16_t *type, uint16_t *cls)
{
    size_t n, wl;
    const char *name = luaL_checklstring(L, 2, &n);
    lua_Integer t = luaL_checkinteger(L, 3), c = luaL_checkinteger(L, 4);
    int err = nm_name_from_text(name, n, wire, &wl);
    if (err) luaL_argerror(L, 2, nm_strerror(err));
    luaL_argcheck(L, t >= 0 && t <= 65535, 3, "type out of range");
    luaL_argcheck(L, c >= 0 && c <= 65535, 4, "class out of range");
    *type = (uint16_t)t;
    *cls = (uint16_t)c;
}

/* cache:get(name, type, cls, now) -> Message | nil */
static int l_cache_get(lua_State *L)
{
    uint8_t wire[NM_NAME_MAX], *out = NULL;
    uint16_t type, cls;
    size_t len;
    int err, rcode;
    lua_Number now;
    check_key(L, wire, &type, &cls);
    now = luaL_checknumber(L, 5);
    /* the cache after the arguments: converting one allocates, and a
     * finalizer run then may have closed it */
    err = nm_cache_get(*check_cache_box(L, 1), wire, type, cls, now, &out, &len);
    if (err == NM_ENOTFOUND) return 0;
    if (err) return luaL_error(L, "cache: %s", nm_strerror(err));
    /* the copy goes into a Lua string first, so nothing leaks on error */
    lua_pushlstring(L, (const char *)out, len);
    free(out);
    /* parsed and checked when it was stored, and held only with rcode
     * NOERROR or NXDOMAIN: the header's four bits are the whole rcode.
     * An answer with records is parsed now and its answers decoded (every
     * hit a lookup takes reads them); the other sections are decoded when
     * they are read. */
    if (len < NM_HEADER_LEN) return 0;
    {
        const uint8_t *bytes = (const uint8_t *)lua_tostring(L, -1);
        nm_msg m;
        int ok;
        rcode = bytes[3] & 0x0F;
        if (rcode != 0 || nm_get16(bytes + 6) == 0)
            ok = nm_lua_push_message_lazy_rcode(L, NULL, rcode, -1);
        else if (nm_msg_parse(&m, bytes, len) == NM_OK) {
            ok = nm_lua_push_message_lazy(L, &m, -1);
            nm_msg_release(&m);
        } else {
            /* stored parsed: never expected; the sections say so when read */
            nm_msg_release(&m);
            ok = nm_lua_push_message_lazy_rcode(L, NULL, rcode, -1);
        }
        if (!ok) return luaL_error(L, "names.dns is not loaded");
    }
    return 1;
}

/* The address getHostByName takes from the answers of m for `name`
 * (common.lua's extract, Twisted's extractRecord: an A6, AAAA or A record
 * owned by the name, in that order of types, or the CNAME it owns followed
 * within the same answers, at most `level` names deep), written to out;
 * 0 when there is none, or when an A6 would be taken (its text is left to
 * the Lua path). */
static size_t extract_address(const nm_msg *m, const uint8_t *name, int level, char *out)
{
    static const uint16_t order[] = { 38, 28, 1 };
    uint8_t cur[NM_NAME_MAX], owner[NM_NAME_MAX];
    size_t n;
    nm_reader r;
    memcpy(cur, name, nm_name_len(name));
    for (; level > 0; level--) {
        int cname = -1;
        for (size_t t = 0; t < sizeof order / sizeof *order; t++) {
            for (int k = 0; k < m->count[NM_ANSWER] && k < m->nrr; k++) {
                const nm_rr *rr = &m->rr[k];
                if (rr->type != order[t]) continue;
                nm_reader_init(&r, m->wire, m->len);
                r.pos = rr->owner;
                if (nm_name_read(&r, owner, &n) != NM_OK || !nm_name_equal(owner, cur)) continue;
                if (rr->type == 38) return 0;
                if (rr->rdlen != (rr->type == 1 ? 4 : 16)) return 0;
                return nm_ip_to_text(m->wire + rr->rdata, rr->rdlen, out);
            }
        }
        for (int k = 0; k < m->count[NM_ANSWER] && k < m->nrr && cname < 0; k++) {
            const nm_rr *rr = &m->rr[k];
            if (rr->type != 5) continue;
            nm_reader_init(&r, m->wire, m->len);
            r.pos = rr->owner;
            if (nm_name_read(&r, owner, &n) == NM_OK && nm_name_equal(owner, cur)) cname = k;
        }
        if (cname < 0) return 0;
        nm_reader_init(&r, m->wire, m->len);
        r.pos = m->rr[cname].rdata;
        if (nm_name_read(&r, cur, &n) != NM_OK) return 0;
    }
    return 0;
}

/* cache:address(name, cls, now, effort) -> address | nil | false: what
 * getHostByName makes of the AAAA and A answers held for name, when it is
 * an address found in them (a string); nil when neither is held (a chain
 * asks on); false when only one is, or when the address is not in them at
 * once (a CNAME leading elsewhere, an error, no address): the Deferred way
 * then decides.  No Lua table is made: a server that resolves a name on
 * every request pays a cache lookup, not a decoded message. */
static int l_cache_address(lua_State *L)
{
    static const uint16_t types[2] = { 28, 1 };
    uint8_t wire[NM_NAME_MAX];
    const uint8_t *held[2] = { NULL, NULL };
    size_t len[2], n, wl;
    const char *name = luaL_checklstring(L, 2, &n);
    lua_Integer cls = luaL_checkinteger(L, 3), effort = luaL_optinteger(L, 5, 10);
    lua_Number now = luaL_checknumber(L, 4);
    char text[NM_IP_TEXT_MAX];
    size_t found = 0;
    int have = 0;
    nm_cache *c;
    if (nm_name_from_text(name, n, wire, &wl) != NM_OK) return luaL_argerror(L, 2, "bad name");
    luaL_argcheck(L, cls >= 0 && cls <= 65535, 3, "class out of range");
    c = *check_cache_box(L, 1); /* after the arguments, whose conversion may run a finalizer */
    /* in place (no TTL is read): a peek drops only the entry it looks
     * up, and nothing is stored in between */
    for (int i = 0; i < 2; i++)
        if (nm_cache_peek(c, wire, types[i], (uint16_t)cls, now, &held[i], &len[i]) == NM_OK) have++;
    for (int i = 0; i < 2 && have == 2 && !found; i++) {
        nm_msg m;
        /* no answer record, no address (a NODATA, as most AAAA are) */
        if (len[i] < NM_HEADER_LEN || nm_get16(held[i] + 6) == 0) continue;
        if (nm_msg_parse(&m, held[i], len[i]) == NM_OK && m.rcode == 0)
            found = extract_address(&m, wire, effort > 64 ? 64 : (int)effort, text);
        nm_msg_release(&m);
    }
    if (have == 0) return 0;
    if (!found) {
        lua_pushboolean(L, 0);
        return 1;
    }
    lua_pushlstring(L, text, found);
    return 1;
}

/* cache:put(name, type, cls, bytes, now) -> true | false, reason */
static int l_cache_put(lua_State *L)
{
    uint8_t wire[NM_NAME_MAX];
    uint16_t type, cls;
    size_t len;
    const char *msg;
    lua_Number now;
    int rc;
    check_key(L, wire, &type, &cls);
    msg = luaL_checklstring(L, 5, &len);
    now = luaL_checknumber(L, 6);
    /* the cache last, as in get */
    rc = nm_cache_put(*check_cache_box(L, 1), wire, type, cls, (const uint8_t *)msg, len, now);
    if (rc == NM_OK) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushboolean(L, 0);
    lua_pushstring(L, nm_cache_reason(rc));
    return 2;
}

static int l_cache_clear(lua_State *L)
{
    nm_cache_clear(*check_cache_box(L, 1));
    return 0;
}

static int l_cache_count(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)nm_cache_count(*check_cache_box(L, 1)));
    return 1;
}

/* (a resolver holding the cache keeps its own reference) */
static void cache_release(lua_State *L, void *boxp, int finalizing)
{
    nm_cache **box = boxp;
    (void)L;
    (void)finalizing;
    if (*box) nm_cache_free(*box);
    *box = NULL;
}

/* ----------------------------------------------------------- reverse names */

/* reverse_name(address) -> "1.0.0.127.in-addr.arpa" | nil */
static int l_reverse_name(lua_State *L)
{
    const char *text = luaL_checkstring(L, 1);
    uint8_t a[16];
    char buf[80];
    if (inet_pton(AF_INET, text, a) == 1) {
        snprintf(buf, sizeof buf, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
        lua_pushstring(L, buf);
        return 1;
    }
    if (inet_pton(AF_INET6, text, a) == 1) {
        static const char hex[] = "0123456789abcdef";
        char *p = buf;
        for (int i = 15; i >= 0; i--) {
            *p++ = hex[a[i] & 15];
            *p++ = '.';
            *p++ = hex[a[i] >> 4];
            *p++ = '.';
        }
        strcpy(p, "ip6.arpa");
        lua_pushstring(L, buf);
        return 1;
    }
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The address a full reverse name (in-addr.arpa or ip6.arpa, a final dot
 * allowed) stands for: its family (AF_INET or AF_INET6), 0 for any other
 * name. */
static int reverse_bytes(const char *s, size_t n, uint8_t a[16])
{
    if (n && s[n - 1] == '.') n--;
    if (n > 13 && strncasecmp(s + n - 13, ".in-addr.arpa", 13) == 0) {
        /* four decimal labels of 1 to 3 digits, each at most 255 (by hand:
         * sscanf cost more than the rest of a hosts-file miss) */
        const char *p = s, *end = s + n - 13;
        for (int i = 0; i < 4; i++) {
            unsigned v = 0;
            int digits = 0;
            while (p < end && *p >= '0' && *p <= '9' && digits < 4) {
                v = v * 10 + (unsigned)(*p++ - '0');
                digits++;
            }
            if (digits == 0 || digits > 3 || v > 255) return 0;
            if (i < 3 && (p >= end || *p++ != '.')) return 0;
            a[3 - i] = (uint8_t)v;
        }
        return p == end ? AF_INET : 0;
    }
    if (n == 64 + 8 && strncasecmp(s + 64, "ip6.arpa", 8) == 0) {
        for (int i = 0; i < 32; i++) {
            int v = hexval(s[2 * i]);
            if (v < 0 || s[2 * i + 1] != '.') return 0;
            if (i % 2 == 0) a[15 - i / 2] = (uint8_t)v;
            else a[15 - i / 2] |= (uint8_t)(v << 4);
        }
        return AF_INET6;
    }
    return 0;
}

/* reverse_address(name) -> "127.0.0.1" | nil: the address a full reverse
 * name stands for */
static int l_reverse_address(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    char buf[INET6_ADDRSTRLEN];
    uint8_t a[16];
    int family = reverse_bytes(s, n, a);
    if (!family) return 0;
    inet_ntop(family, a, buf, sizeof buf);
    lua_pushstring(L, buf);
    return 1;
}

/* hosts:pointer(reverse name) -> {"localhost", ...} | nil: the names the
 * file gives the address a reverse name stands for, nil when none (the
 * hosts resolver, first in every chain, asks this for every PTR lookup:
 * no address string and no empty table for the common miss) */
static int l_hosts_pointer(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 2, &len), *name, *none[1];
    uint8_t addr[16];
    int family = reverse_bytes(s, len, addr), n;
    if (!family || nm_hosts_names(check_hosts(L)->hosts, family, addr, none, 1) == 0) return 0;
    n = copy_names(L, family, addr);
    if (n == 0) return 0;
    name = lua_touserdata(L, -1);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushstring(L, name);
        lua_rawseti(L, -2, i + 1);
        name += strlen(name) + 1;
    }
    return 1;
}

void nm_lua_open_sys(lua_State *L)
{
    static const luaL_Reg conf_methods[] = {
        { "reload", l_conf_reload },
        { "info", l_conf_info },
        { "candidates", l_conf_candidates },
        { NULL, NULL },
    };
    static const luaL_Reg hosts_methods[] = {
        { "reload", l_hosts_reload },
        { "addresses", l_hosts_addresses },
        { "find", l_hosts_find },
        { "address", l_hosts_address },
        { "pointer", l_hosts_pointer },
        { "count", l_hosts_count },
        { NULL, NULL },
    };
    static const luaL_Reg cache_methods[] = {
        { "get", l_cache_get },
        { "address", l_cache_address },
        { "put", l_cache_put },
        { "clear", l_cache_clear },
        { "count", l_cache_count },
        { NULL, NULL },
    };
    static const luaL_Reg funcs[] = {
        { "resolvconf", l_resolvconf },
        { "hosts", l_hosts },
        { "cache", l_cache },
        { "reverse_name", l_reverse_name },
        { "reverse_address", l_reverse_address },
        { NULL, NULL },
    };
    static const nm_lua_class classes[] = {
        { CONF_MT, conf_methods, conf_release, 1 },
        { HOSTS_MT, hosts_methods, hosts_release, 1 },
        { CACHE_MT, cache_methods, cache_release, 1 },
    };
    for (size_t i = 0; i < sizeof classes / sizeof *classes; i++) nm_lua_new_class(L, &classes[i]);
    luaL_setfuncs(L, funcs, 0);
}
