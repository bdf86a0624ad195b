/* The codec's binding: decoded messages are built in C straight into the
 * Lua tables of names.dns (Message, Query, RRHeader, Name, Record_*), and
 * such tables are encoded back to wire form.  names.dns registers its
 * classes with dns_setup; this file knows them only as metatables. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lua_util.h"

/* Registry key of the classes table: {Name=, Query=, RRHeader=, Message=,
 * Unknown=, [type number] = record class}. */
static const char classes_key = 'c';


/* Raises a codec error without a position: the names.dns function the
 * user called re-raises it at the user's line (error(msg, 2)). */
static int codec_error(lua_State *L, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    return lua_error(L);
}

static int push_classes(lua_State *L)
{
    return lua_rawgetp(L, LUA_REGISTRYINDEX, &classes_key) == LUA_TTABLE;
}

/* ---------------------------------------------------------------- decode */

/* Field names as Lua strings, made once: lua_setfield would look each C
 * string up in Lua's string cache (a strcmp) for every field of every
 * record; a key taken from this list by number costs a table index.
 * Registry key: the list.  The record types' field names follow the fixed
 * keys, NM_MAX_FIELDS slots per type of the table. */
static const char keys_key = 'k';

enum {
    K_NAME = 1, K_TYPE, K_CLS, K_TTL, K_AUTH, K_PAYLOAD, K_ID, K_ANSWER, K_OPCODE, K_TRUNC,
    K_RECDES, K_RECAV, K_RCODE, K_AD, K_CD, K_MAXSIZE, K_EDNSVERSION, K_DNSSECOK,
    K_EDNSOPTIONS, K_QUERIES, K_ANSWERS, K_AUTHORITY, K_ADDITIONAL, K_CODE, K_DATA, K_FAMILY,
    K_SOURCE, K_SCOPE, K_ADDRESS, K_CLIENTCOOKIE, K_SERVERCOOKIE, K_LENGTH, K_INFOCODE,
    K_EXTRATEXT, K_KEY, K_VALUE, K_FIELDS
};

static const char *const fixed_keys[] = {
    NULL, "name", "type", "cls", "ttl", "auth", "payload", "id", "answer", "opCode", "trunc",
    "recDes", "recAv", "rCode", "authenticData", "checkingDisabled", "maxSize", "ednsVersion",
    "dnssecOK", "ednsOptions", "queries", "answers", "authority", "additional", "code", "data",
    "family", "sourcePrefixLength", "scopePrefixLength", "address", "clientCookie",
    "serverCookie", "length", "infoCode", "extraText", "key", "value"
};

static void make_keys(lua_State *L)
{
    int ntypes = nm_rrtype_count();
    lua_createtable(L, K_FIELDS + ntypes * NM_MAX_FIELDS, 0);
    for (int k = 1; k < K_FIELDS; k++) {
        lua_pushstring(L, fixed_keys[k]);
        lua_rawseti(L, -2, k);
    }
    for (int i = 0; i < ntypes; i++) {
        const nm_rrtype *t = nm_rrtype_at(i);
        for (int f = 0; f < NM_MAX_FIELDS; f++) {
            lua_pushstring(L, f < t->nfields ? t->fields[f].name : "");
            lua_rawseti(L, -2, K_FIELDS + i * NM_MAX_FIELDS + f);
        }
    }
    lua_rawsetp(L, LUA_REGISTRYINDEX, &keys_key);
}

/* Recently made Name objects, kept on the stack: the records of an answer
 * mostly share their owner, and one Name object (and one string) serves
 * them all.  Names are compared octet for octet, case included. */
#define NAME_CACHE 4

struct decoder {
    lua_State *L;
    const nm_msg *m;
    int classes;  /* stack index of the classes table */
    int name_mt;  /* stack index of Name's metatable */
    int query_mt; /* stack index of Query's */
    int rr_mt;    /* stack index of RRHeader's */
    int keys;     /* stack index of the key list */
    int fields;   /* stack index of the field keys of `ftype` (NM_MAX_FIELDS slots) */
    const nm_rrtype *ftype;
    int cache;    /* stack index of the first cached Name */
    nm_value v;   /* the field being pushed (per decode: a finalizer run by an
                   * allocation may decode another message meanwhile) */
    int ncache, next;
    size_t at[NAME_CACHE];  /* where in the message it was read (0: unknown) */
    size_t len[NAME_CACHE];
    uint8_t wire[NAME_CACHE][NM_NAME_MAX];
};

/* Pushes the key k, for a value pushed next and lua_rawset(L, -3): an
 * index into the key list (no copy of the list on the stack: a lazy
 * message decodes one short section at a time, and copying every key
 * first cost more than the section). */
static inline void key(struct decoder *d, int k)
{
    lua_rawgeti(d->L, d->keys, k);
}

/* Pushes field i's key of type t (the keys of the last type used wait on
 * the stack: records of one type come in runs). */
static void field_key(struct decoder *d, const nm_rrtype *t, int i)
{
    if (d->ftype != t) {
        int base = K_FIELDS + (int)(t - nm_rrtype_at(0)) * NM_MAX_FIELDS;
        for (int f = 0; f < t->nfields; f++) {
            lua_rawgeti(d->L, d->keys, base + f);
            lua_replace(d->L, d->fields + f);
        }
        d->ftype = t;
    }
    lua_pushvalue(d->L, d->fields + i);
}

static inline void set_int(struct decoder *d, int k, lua_Integer v)
{
    key(d, k);
    lua_pushinteger(d->L, v);
    lua_rawset(d->L, -3);
}

static inline void set_bool(struct decoder *d, int k, int v)
{
    key(d, k);
    lua_pushboolean(d->L, v);
    lua_rawset(d->L, -3);
}

static inline void set_str(struct decoder *d, int k, const void *s, size_t n)
{
    key(d, k);
    lua_pushlstring(d->L, (const char *)s, n);
    lua_rawset(d->L, -3);
}

/* A Name read at message offset `at` (0 when unknown) whose wire form is
 * given. */
static void push_name_at(struct decoder *d, size_t at, const uint8_t *wire, size_t len)
{
    lua_State *L = d->L;
    char text[NM_NAME_TEXT_MAX];
    size_t n;
    for (int i = 0; i < d->ncache; i++) {
        if (d->len[i] == len && memcmp(d->wire[i], wire, len) == 0) {
            lua_pushvalue(L, d->cache + i);
            return;
        }
    }
    n = nm_name_to_text(wire, text, 0);
    lua_createtable(L, 0, 1);
    key(d, K_NAME);
    lua_pushlstring(L, text, n);
    lua_rawset(L, -3);
    lua_pushvalue(L, d->name_mt);
    lua_setmetatable(L, -2);
    /* remember it in the next slot, round robin */
    memcpy(d->wire[d->next], wire, len);
    d->len[d->next] = len;
    d->at[d->next] = at;
    lua_pushvalue(L, -1);
    lua_replace(L, d->cache + d->next);
    d->next = (d->next + 1) % NAME_CACHE;
    if (d->ncache < NAME_CACHE) d->ncache++;
}

static void push_name(struct decoder *d, const uint8_t *wire, size_t len)
{
    push_name_at(d, 0, wire, len);
}

/* The name at message offset `at`: when it is one compression pointer to
 * where a cached Name was read (an owner pointing at the question, as in
 * most answers), that Name, without decompressing anything. */
static void push_name_in_message(struct decoder *d, size_t at)
{
    const uint8_t *w = d->m->wire;
    uint8_t name[NM_NAME_MAX];
    size_t n = 1;
    nm_reader r;
    if ((w[at] & 0xC0) == 0xC0) {
        size_t target = ((size_t)(w[at] & 0x3F) << 8) | w[at + 1];
        for (int i = 0; i < d->ncache; i++) {
            if (d->at[i] && (d->at[i] == target || d->at[i] == at)) {
                lua_pushvalue(d->L, d->cache + i);
                return;
            }
        }
    }
    nm_reader_init(&r, w, d->m->len);
    r.pos = at;
    nm_name_read(&r, name, &n); /* checked by the parser */
    /* cached under where its labels start: later pointers lead there */
    push_name_at(d, (w[at] & 0xC0) == 0xC0 ? 0 : at, name, n);
}

static void push_address(lua_State *L, const uint8_t *p, size_t len)
{
    char buf[NM_IP_TEXT_MAX];
    size_t n = nm_ip_to_text(p, len, buf);
    lua_pushlstring(L, buf, n);
}

static void push_strings(lua_State *L, const nm_value *v)
{
    const uint8_t *p = v->data, *end = v->data + v->len, *s;
    size_t n;
    lua_Integer i = 0;
    lua_createtable(L, 2, 0);
    while (nm_strings_next(&p, end, &s, &n) == 1) {
        lua_pushlstring(L, (const char *)s, n);
        lua_rawseti(L, -2, ++i);
    }
}

static void push_bitmap(lua_State *L, const nm_value *v)
{
    size_t state = 0;
    uint16_t type;
    lua_Integer i = 0;
    lua_createtable(L, 4, 0);
    while (nm_bitmap_next(v->data, v->len, &state, &type)) {
        lua_pushinteger(L, type);
        lua_rawseti(L, -2, ++i);
    }
}

static void push_params(struct decoder *d, const nm_value *v)
{
    lua_State *L = d->L;
    lua_Integer i = 0;
    lua_createtable(L, 4, 0);
    for (size_t at = 0; at + 4 <= v->len;) {
        uint16_t n = nm_get16(v->data + at + 2);
        lua_createtable(L, 0, 2);
        set_int(d, K_KEY, nm_get16(v->data + at));
        set_str(d, K_VALUE, v->data + at + 4, n);
        lua_rawseti(L, -2, ++i);
        at += 4 + (size_t)n;
    }
}

static void push_field(struct decoder *d, const nm_field *f, const nm_value *v)
{
    lua_State *L = d->L;
    switch ((enum nm_field_kind)f->kind) {
    case NM_FK_U8:
    case NM_FK_U16:
    case NM_FK_U32:
    case NM_FK_U48:
    case NM_FK_TYPE:
    case NM_FK_TIME:
    case NM_FK_A6LEN:
    case NM_FK_RCODE:
        lua_pushinteger(L, (lua_Integer)v->num);
        break;
    case NM_FK_NAME:
    case NM_FK_NAME_NC:
    case NM_FK_A6PREFIX:
        if (v->namelen) push_name(d, v->name, v->namelen);
        else push_name(d, (const uint8_t *)"", 1);
        break;
    case NM_FK_IPV4:
    case NM_FK_IPV6:
        push_address(L, v->data, v->len);
        break;
    case NM_FK_A6SUFFIX: {
        uint8_t addr[16] = { 0 };
        memcpy(addr + 16 - v->len, v->data, v->len);
        push_address(L, addr, 16);
        break;
    }
    case NM_FK_STRINGS:
        push_strings(L, v);
        break;
    case NM_FK_BITMAP:
        push_bitmap(L, v);
        break;
    case NM_FK_PARAMS:
        push_params(d, v);
        break;
    case NM_FK_STRING:
    case NM_FK_TAG:
    case NM_FK_TEXT:
    case NM_FK_HEX:
    case NM_FK_BASE64:
    case NM_FK_OPAQUE:
    case NM_FK_SALT:
    case NM_FK_HASH:
    case NM_FK_B64_16:
    case NM_FK_OTHER16:
    case NM_FK_PORTS:
        lua_pushlstring(L, (const char *)v->data, v->len);
        break;
    }
}

/* The payload of one record: a Record_* table, or UnknownRecord. */
static void push_payload(struct decoder *d, const nm_rr *rr)
{
    lua_State *L = d->L;
    const nm_rrtype *type = nm_rr_type(rr);
    nm_rdata_iter it;
    const nm_field *f;
    nm_value *v = &d->v;
    int i = 0;

    lua_createtable(L, 0, type ? type->nfields + 1 : 2);
    nm_rdata_begin(&it, d->m->wire, rr->rdata, rr->rdlen, type);
    /* the parser checked every field already: no errors here */
    while (nm_rdata_next(&it, &f, v) == 1) {
        if (type) field_key(d, type, i++);
        else key(d, K_DATA);
        push_field(d, f, v);
        lua_rawset(L, -3);
    }
    set_int(d, K_TTL, rr->ttl);
    if (!type || lua_rawgeti(L, d->classes, rr->type) != LUA_TTABLE) {
        if (type) lua_pop(L, 1);
        lua_getfield(L, d->classes, "Unknown");
    }
    lua_setmetatable(L, -2);
}

static void push_rr(struct decoder *d, const nm_rr *rr, int auth)
{
    lua_State *L = d->L;

    lua_createtable(L, 0, 6);
    key(d, K_NAME);
    push_name_in_message(d, rr->owner);
    lua_rawset(L, -3);
    set_int(d, K_TYPE, rr->type);
    set_int(d, K_CLS, rr->cls);
    set_int(d, K_TTL, rr->ttl);
    set_bool(d, K_AUTH, auth);
    key(d, K_PAYLOAD);
    push_payload(d, rr);
    lua_rawset(L, -3);
    lua_pushvalue(L, d->rr_mt);
    lua_setmetatable(L, -2);
}

static void push_edns_option(struct decoder *d, uint16_t code, const uint8_t *p, uint16_t n)
{
    lua_State *L = d->L;
    lua_createtable(L, 0, 4);
    set_int(d, K_CODE, code);
    set_str(d, K_DATA, p, n);
    switch (code) {
    case NM_OPT_ECS: {
        nm_ecs ecs;
        if (nm_ecs_decode(p, n, &ecs) == NM_OK) {
            set_int(d, K_FAMILY, ecs.family);
            set_int(d, K_SOURCE, ecs.source);
            set_int(d, K_SCOPE, ecs.scope);
            key(d, K_ADDRESS);
            push_address(L, ecs.addr, ecs.family == 1 ? 4 : 16);
            lua_rawset(L, -3);
        }
        break;
    }
    case NM_OPT_COOKIE:
        if (n >= 8) {
            set_str(d, K_CLIENTCOOKIE, p, 8);
            set_str(d, K_SERVERCOOKIE, p + 8, n - 8u);
        }
        break;
    case NM_OPT_PADDING:
        set_int(d, K_LENGTH, n);
        break;
    case NM_OPT_EDE:
        if (n >= 2) {
            set_int(d, K_INFOCODE, nm_get16(p));
            set_str(d, K_EXTRATEXT, p + 2, n - 2u);
        }
        break;
    default:
        break;
    }
}

static void push_section(struct decoder *d, int section)
{
    lua_State *L = d->L;
    const nm_msg *m = d->m;
    int auth = (m->flags & NM_AA) != 0;
    lua_Integer i = 0;
    lua_createtable(L, m->count[section], 0);
    /* records are in section order: start at the section's first */
    for (int k = section == NM_ANSWER ? 0 : section == NM_AUTHORITY ? m->count[NM_ANSWER]
                                                                    : m->count[NM_ANSWER] + m->count[NM_AUTHORITY];
         k < m->nrr && m->rr[k].section == section; k++) {
        push_rr(d, &m->rr[k], auth);
        lua_rawseti(L, -2, ++i);
    }
}

/* Sets up a decoder for m: pushes the classes and the keys (and stack
 * slots for the name cache and the field keys) above `top`.  0 when
 * names.dns has not handed over its classes. */
static int decoder_open(struct decoder *d, lua_State *L, const nm_msg *m, int top)
{
    luaL_checkstack(L, 32 + NAME_CACHE + NM_MAX_FIELDS, "decoding a message");
    if (!push_classes(L)) {
        lua_settop(L, top);
        return 0;
    }
    d->L = L;
    d->m = m;
    d->classes = top + 1;
    lua_getfield(L, d->classes, "Name");
    d->name_mt = top + 2;
    lua_getfield(L, d->classes, "Query");
    d->query_mt = top + 3;
    lua_getfield(L, d->classes, "RRHeader");
    d->rr_mt = top + 4;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &keys_key);
    d->keys = top + 5;
    d->cache = top + 6;
    for (int i = 0; i < NAME_CACHE; i++) lua_pushnil(L);
    d->ncache = d->next = 0;
    d->fields = d->cache + NAME_CACHE;
    for (int i = 0; i < NM_MAX_FIELDS; i++) lua_pushnil(L);
    d->ftype = NULL;
    return 1;
}

static void push_queries(struct decoder *d)
{
    lua_State *L = d->L;
    const nm_msg *m = d->m;
    lua_createtable(L, m->nq, 0);
    for (int k = 0; k < m->nq; k++) {
        lua_createtable(L, 0, 3);
        key(d, K_NAME);
        push_name_in_message(d, m->q[k].name);
        lua_rawset(L, -3);
        set_int(d, K_TYPE, m->q[k].type);
        set_int(d, K_CLS, m->q[k].cls);
        lua_pushvalue(L, d->query_mt);
        lua_setmetatable(L, -2);
        lua_rawseti(L, -2, k + 1);
    }
}

/* The header's fields and EDNS's, into the table on top. */
static void set_header(struct decoder *d)
{
    lua_State *L = d->L;
    const nm_msg *m = d->m;
    uint16_t fl = m->flags;
    set_int(d, K_ID, m->id);
    set_bool(d, K_ANSWER, (fl & NM_QR) != 0);
    set_int(d, K_OPCODE, NM_OPCODE(fl));
    set_bool(d, K_AUTH, (fl & NM_AA) != 0);
    set_bool(d, K_TRUNC, (fl & NM_TC) != 0);
    set_bool(d, K_RECDES, (fl & NM_RD) != 0);
    set_bool(d, K_RECAV, (fl & NM_RA) != 0);
    set_int(d, K_RCODE, m->rcode);
    set_bool(d, K_AD, (fl & NM_AD) != 0);
    set_bool(d, K_CD, (fl & NM_CD) != 0);
    if (m->edns.present) {
        nm_opt_iter it;
        uint16_t code, n;
        const uint8_t *p;
        lua_Integer i = 0;
        set_int(d, K_MAXSIZE, m->edns.udp_size);
        set_int(d, K_EDNSVERSION, m->edns.version);
        set_bool(d, K_DNSSECOK, (m->edns.flags & NM_EDNS_DO) != 0);
        key(d, K_EDNSOPTIONS);
        lua_createtable(L, 0, 0);
        nm_opt_begin(&it, m->wire + m->edns.rdata, m->edns.rdlen);
        while (nm_opt_next(&it, &code, &p, &n)) {
            push_edns_option(d, code, p, n);
            lua_rawseti(L, -2, ++i);
        }
        lua_rawset(L, -3);
    } else {
        /* Twisted's Message.decode sets maxSize 0: a decoded message
         * states no size (it matters only to a message sent with EDNS). */
        set_int(d, K_MAXSIZE, 0);
        set_bool(d, K_DNSSECOK, 0);
    }
}

int nm_lua_push_message(lua_State *L, const nm_msg *m)
{
    struct decoder d;
    int top = lua_gettop(L);
    if (!decoder_open(&d, L, m, top)) return 0;
    lua_createtable(L, 0, m->edns.present ? 18 : 16);
    set_header(&d);
    key(&d, K_QUERIES);
    push_queries(&d);
    lua_rawset(L, -3);
    key(&d, K_ANSWERS);
    push_section(&d, NM_ANSWER);
    lua_rawset(L, -3);
    key(&d, K_AUTHORITY);
    push_section(&d, NM_AUTHORITY);
    lua_rawset(L, -3);
    key(&d, K_ADDITIONAL);
    push_section(&d, NM_ADDITIONAL);
    lua_rawset(L, -3);
    lua_getfield(L, d.classes, "Message");
    lua_setmetatable(L, -2);

    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
    return 1;
}

/* A Message whose header fields are set and whose question and record
 * sections are decoded when first read (names.dns's Message.__index, from
 * the wire bytes kept under the classes' private key): most lookups read
 * the answers alone, and a record table costs more than its bytes.  `wire`
 * is the stack index of m's bytes as a Lua string. */
int nm_lua_push_message_lazy(lua_State *L, const nm_msg *m, int wire)
{
    return nm_lua_push_message_lazy_rcode(L, m, m->rcode, wire);
}

int nm_lua_push_message_lazy_rcode(lua_State *L, const nm_msg *m, int rcode, int wire)
{
    int top = lua_gettop(L);
    wire = lua_absindex(L, wire);
    luaL_checkstack(L, 8, "decoding a message");
    if (!push_classes(L)) {
        lua_settop(L, top);
        return 0;
    }
    if (lua_getfield(L, top + 1, "lazyKey") != LUA_TTABLE) {
        /* no private key handed over: everything now */
        lua_settop(L, top);
        if (m) return nm_lua_push_message(L, m);
        {
            size_t len;
            const uint8_t *bytes = (const uint8_t *)lua_tolstring(L, wire, &len);
            nm_msg parsed;
            int ok = nm_msg_parse(&parsed, bytes, len) == NM_OK && nm_lua_push_message(L, &parsed);
            nm_msg_release(&parsed);
            return ok;
        }
    }
    /* the rcode now (every lookup reads it), the rest when first read;
     * no decoder set up for two fields.  Room for the bytes, the rcode
     * and the answers: the header's fields are rarely read, and 18 slots
     * made a 1 KB block per reply. */
    lua_createtable(L, 0, 4);
    lua_insert(L, top + 2);           /* classes, message, lazyKey */
    lua_pushvalue(L, wire);
    lua_rawset(L, top + 2);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &keys_key);
    lua_rawgeti(L, -1, K_RCODE);
    lua_pushinteger(L, rcode);
    lua_rawset(L, top + 2);
    lua_pop(L, 1);
    if (m && m->count[NM_ANSWER] > 0) {
        /* parsed already (a reply): its answers now, which nearly every
         * lookup reads, rather than parse the bytes again for them */
        struct decoder d;
        int t = lua_gettop(L);
        if (decoder_open(&d, L, m, t)) {
            key(&d, K_ANSWERS);
            push_section(&d, NM_ANSWER);
            lua_rawset(L, top + 2);
            lua_settop(L, t);
        }
    }
    lua_getfield(L, top + 1, "Message");
    lua_setmetatable(L, top + 2);
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
    return 1;
}

/* Parses the bytes at stack index 1, or raises "malformed DNS message". */
static void parse_or_raise(lua_State *L, nm_msg *m)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    char why[160];
    int err = nm_msg_parse(m, (const uint8_t *)s, len);
    if (err) {
        nm_msg_describe_error(m, err, why, sizeof why);
        nm_msg_release(m);
        codec_error(L, "malformed DNS message: %s", why);
    }
}

/* parse_or_raise, then a decoder over the stack above its two arguments. */
static void open_or_raise(lua_State *L, nm_msg *m, struct decoder *d)
{
    parse_or_raise(L, m);
    lua_settop(L, 2);
    if (!decoder_open(d, L, m, 2)) {
        nm_msg_release(m);
        codec_error(L, "names.dns is not loaded");
    }
}

/* decode_header(bytes, message): sets the header's and EDNS's fields of
 * the decoded bytes in the message table (a lazy message's, when one of
 * them is first read); raises as decode does on malformed bytes. */
static int l_decode_header(lua_State *L)
{
    struct decoder d;
    nm_msg m;
    luaL_checktype(L, 2, LUA_TTABLE);
    open_or_raise(L, &m, &d);
    lua_pushvalue(L, 2);
    set_header(&d);
    nm_msg_release(&m);
    return 0;
}

/* decode_section(bytes, name) -> the list of one section ("queries",
 * "answers", "authority" or "additional") of a message; raises as decode
 * does on malformed bytes. */
static int l_decode_section(lua_State *L)
{
    static const char *const sections[] = { "queries", "answers", "authority", "additional", NULL };
    int which = luaL_checkoption(L, 2, NULL, sections);
    struct decoder d;
    nm_msg m;
    open_or_raise(L, &m, &d);
    if (which == 0) push_queries(&d);
    else push_section(&d, which == 1 ? NM_ANSWER : which == 2 ? NM_AUTHORITY : NM_ADDITIONAL);
    nm_msg_release(&m);
    lua_replace(L, 3);
    lua_settop(L, 3);
    return 1;
}

/* decode(bytes) -> Message; raises "malformed DNS message: ..." */
static int l_decode(lua_State *L)
{
    nm_msg m;
    parse_or_raise(L, &m);
    if (!nm_lua_push_message(L, &m)) {
        nm_msg_release(&m);
        return codec_error(L, "names.dns is not loaded");
    }
    nm_msg_release(&m);
    return 1;
}

/* ---------------------------------------------------------------- encode */

/* A writer whose buffer the collector frees if an error unwinds past it. */
typedef struct writer_box {
    nm_writer w;
} writer_box;

static int writer_box_gc(lua_State *L)
{
    writer_box *b = lua_touserdata(L, 1);
    nm_writer_free(&b->w);
    return 0;
}

static nm_writer *push_writer(lua_State *L)
{
    writer_box *b = lua_newuserdatauv(L, sizeof *b, 0);
    nm_writer_init(&b->w, NULL, 0, 0);
    if (luaL_newmetatable(L, "names.writer")) {
        lua_pushcfunction(L, writer_box_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return &b->w;
}

/* Where a value came from, for error messages: "answers[2].payload.name". */
struct path {
    const char *section;
    int index;
    const char *field;
};

static int path_error(lua_State *L, const struct path *p, const char *fmt, const char *detail)
{
    if (p->section)
        lua_pushfstring(L, "%s[%d]", p->section, p->index);
    else
        lua_pushliteral(L, "record");
    if (p->field) lua_pushfstring(L, "%s.%s", lua_tostring(L, -1), p->field);
    return codec_error(L, fmt, lua_tostring(L, -1), detail);
}

/* Reads a name from a Name object or a string at idx. */
static void check_name(lua_State *L, int idx, uint8_t *out, const struct path *p)
{
    const char *s;
    size_t n, wl;
    int err;
    /* the text stays on the stack until it is used: a number field is
     * converted into a string that only the stack holds */
    if (lua_istable(L, idx)) lua_getfield(L, idx, "name");
    else lua_pushvalue(L, idx);
    s = lua_type(L, idx) == LUA_TSTRING || lua_istable(L, idx) ? lua_tolstring(L, -1, &n) : NULL;
    if (!s) {
        path_error(L, p, "%s: a name (string or Name) expected, got %s", luaL_typename(L, idx));
        return;
    }
    err = nm_name_from_text(s, n, out, &wl);
    if (err) path_error(L, p, "%s: %s", nm_strerror(err));
    lua_pop(L, 1);
}

static lua_Integer check_int(lua_State *L, int idx, const struct path *p)
{
    int ok;
    lua_Integer v = lua_tointegerx(L, idx, &ok);
    if (!ok) path_error(L, p, "%s: an integer expected, got %s", luaL_typename(L, idx));
    return v;
}

static const char *check_bytes(lua_State *L, int idx, size_t *n, const struct path *p)
{
    if (lua_type(L, idx) != LUA_TSTRING)
        path_error(L, p, "%s: a string expected, got %s", luaL_typename(L, idx));
    return lua_tolstring(L, idx, n);
}

static void check_address(lua_State *L, int idx, int family, uint8_t *out, const struct path *p)
{
    size_t n;
    const char *s = check_bytes(L, idx, &n, p);
    if (inet_pton(family, s, out) != 1)
        path_error(L, p, family == AF_INET ? "%s: bad IPv4 address '%s'" : "%s: bad IPv6 address '%s'", s);
}

/* STRINGS: a list of strings (or one string) into character-strings. */
static void put_strings(lua_State *L, int idx, nm_writer *w, const struct path *p)
{
    size_t n;
    if (lua_type(L, idx) == LUA_TSTRING) {
        const char *s = lua_tolstring(L, idx, &n);
        if (n > 255) path_error(L, p, "%s: %s", "a character-string is at most 255 bytes");
        nm_wr_u8(w, (uint8_t)n);
        nm_wr_bytes(w, s, n);
        return;
    }
    luaL_checktype(L, idx, LUA_TTABLE);
    for (lua_Integer i = 1;; i++) {
        const char *s;
        if (lua_geti(L, idx, i) == LUA_TNIL) {
            lua_pop(L, 1);
            break;
        }
        s = check_bytes(L, -1, &n, p);
        if (n > 255) path_error(L, p, "%s: %s", "a character-string is at most 255 bytes");
        nm_wr_u8(w, (uint8_t)n);
        nm_wr_bytes(w, s, n);
        lua_pop(L, 1);
    }
}

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static void put_bitmap(lua_State *L, int idx, nm_writer *w, const struct path *p)
{
    uint16_t *types;
    size_t n = 0, len;
    if (!lua_istable(L, idx))
        path_error(L, p, "%s: a list of types expected, got %s", luaL_typename(L, idx));
    /* Scratch the collector owns (an error may unwind past it): every
     * type of the list, however many (there were 512 at most once, and
     * the rest were silently dropped). */
    len = lua_rawlen(L, idx);
    types = lua_newuserdatauv(L, (len ? len : 1) * sizeof *types, 0);
    for (size_t i = 1; i <= len; i++) {
        lua_Integer t;
        lua_rawgeti(L, idx, (lua_Integer)i);
        t = check_int(L, -1, p);
        if (t < 0 || t > 65535) path_error(L, p, "%s: %s", "a type is 0..65535");
        types[n++] = (uint16_t)t;
        lua_pop(L, 1);
    }
    qsort(types, n, sizeof types[0], cmp_u16);
    nm_wr_bitmap(w, types, n);
    lua_pop(L, 1);
}

static void put_params(lua_State *L, int idx, nm_writer *w, const struct path *p)
{
    if (!lua_istable(L, idx))
        path_error(L, p, "%s: a list of {key=, value=} expected, got %s", luaL_typename(L, idx));
    for (lua_Integer i = 1;; i++) {
        lua_Integer key;
        const char *s;
        size_t n;
        if (lua_geti(L, idx, i) == LUA_TNIL) {
            lua_pop(L, 1);
            break;
        }
        lua_getfield(L, -1, "key");
        key = check_int(L, -1, p);
        lua_getfield(L, -2, "value");
        s = lua_isnil(L, -1) ? "" : check_bytes(L, -1, &n, p);
        if (lua_isnil(L, -1)) n = 0;
        if (key < 0 || key > 65535 || n > 65535) path_error(L, p, "%s: %s", "bad SvcParam");
        nm_wr_u16(w, (uint16_t)key);
        nm_wr_u16(w, (uint16_t)n);
        nm_wr_bytes(w, s, n);
        lua_pop(L, 3);
    }
}

/* Writes the payload at idx as rdata of the given type; names may be
 * compressed against what w already holds. */
static void put_rdata(lua_State *L, int idx, uint16_t type, uint16_t cls, nm_writer *w,
                      struct path *p)
{
    const nm_rrtype *t = nm_rrtype_for(type, cls);
    nm_rdata_out out = { w, 0 };
    uint8_t addr[16];
    int unknown, ptype, isint;

    /* The record's class says which type it holds: a Record_MX cannot be
     * the rdata of an A record, and its fields would be silently missing. */
    lua_getfield(L, idx, "__unknown");
    unknown = lua_toboolean(L, -1);
    lua_getfield(L, idx, "TYPE");
    ptype = (int)lua_tointegerx(L, -1, &isint);
    lua_pop(L, 2);
    if (!unknown && isint && ptype != type) {
        char b[16];
        p->field = "payload";
        lua_getfield(L, idx, "__name");
        lua_pushfstring(L, "a %s for a record of type %s", lua_tostring(L, -1),
                        nm_type_name(type, b));
        path_error(L, p, "%s: %s", lua_tostring(L, -1));
    }
    /* A typed record in a class where its layout does not hold (an A
     * record in class CH) is still written as the object describes it; it
     * decodes as opaque data in that class. */
    if (!t && !unknown && isint) t = nm_rrtype_find(type);
    if (!t || unknown) {
        size_t n;
        const char *s;
        p->field = "payload.data";
        lua_getfield(L, idx, "data");
        s = lua_isnil(L, -1) ? "" : check_bytes(L, -1, &n, p);
        if (lua_isnil(L, -1)) n = 0;
        nm_wr_bytes(w, s, n);
        lua_pop(L, 1);
        return;
    }
    for (int i = 0; i < t->nfields; i++) {
        const nm_field *f = &t->fields[i];
        nm_value v;
        int err = NM_OK, vi;
        char fieldpath[64];
        snprintf(fieldpath, sizeof fieldpath, "payload.%s", f->name);
        p->field = fieldpath;
        lua_getfield(L, idx, f->name);
        vi = lua_gettop(L);
        v.len = 0;
        v.data = NULL;
        v.num = 0;
        switch ((enum nm_field_kind)f->kind) {
        case NM_FK_U8:
        case NM_FK_U16:
        case NM_FK_U32:
        case NM_FK_U48:
        case NM_FK_TYPE:
        case NM_FK_TIME:
        case NM_FK_A6LEN:
        case NM_FK_RCODE: {
            lua_Integer x = lua_isnil(L, vi) ? 0 : check_int(L, vi, p);
            if (x < 0) path_error(L, p, "%s: %s", "must not be negative");
            v.num = (uint64_t)x;
            break;
        }
        case NM_FK_NAME:
        case NM_FK_NAME_NC:
        case NM_FK_A6PREFIX:
            if (lua_isnil(L, vi)) {
                v.name[0] = 0;
            } else {
                check_name(L, vi, v.name, p);
            }
            break;
        case NM_FK_IPV4:
            check_address(L, vi, AF_INET, addr, p);
            v.data = addr;
            v.len = 4;
            break;
        case NM_FK_IPV6:
        case NM_FK_A6SUFFIX:
            check_address(L, vi, AF_INET6, addr, p);
            v.data = addr;
            v.len = 16;
            break;
        case NM_FK_STRINGS:
            put_strings(L, vi, w, p);
            lua_pop(L, 1);
            continue;
        case NM_FK_BITMAP:
            put_bitmap(L, vi, w, p);
            lua_pop(L, 1);
            continue;
        case NM_FK_PARAMS:
            put_params(L, vi, w, p);
            lua_pop(L, 1);
            continue;
        case NM_FK_STRING:
        case NM_FK_TAG:
        case NM_FK_TEXT:
        case NM_FK_HEX:
        case NM_FK_BASE64:
        case NM_FK_OPAQUE:
        case NM_FK_SALT:
        case NM_FK_HASH:
        case NM_FK_B64_16:
        case NM_FK_OTHER16:
        case NM_FK_PORTS:
            if (!lua_isnil(L, vi)) v.data = (const uint8_t *)check_bytes(L, vi, &v.len, p);
            break;
        }
        err = nm_rdata_put(&out, f, &v);
        if (err) path_error(L, p, "%s: %s", nm_strerror(err));
        lua_pop(L, 1);
    }
}

static uint32_t check_ttl(lua_State *L, int idx, struct path *p)
{
    lua_Integer ttl;
    if (lua_isnil(L, idx)) return 0;
    ttl = check_int(L, idx, p);
    if (ttl < 0 || ttl > 0xFFFFFFFF) path_error(L, p, "%s: %s", "ttl out of range");
    return (uint32_t)ttl;
}

static uint16_t check_u16(lua_State *L, int idx, struct path *p, lua_Integer dflt)
{
    lua_Integer v = lua_isnil(L, idx) ? dflt : check_int(L, idx, p);
    if (v < 0 || v > 65535) path_error(L, p, "%s: %s", "must be 0..65535");
    return (uint16_t)v;
}

/* One RRHeader (table at idx) into w. */
static void put_rr(lua_State *L, int idx, nm_writer *w, struct path *p)
{
    uint8_t owner[NM_NAME_MAX];
    uint16_t type, cls;
    uint32_t ttl;
    size_t at;
    int top = lua_gettop(L);

    if (!lua_istable(L, idx)) path_error(L, p, "%s: an RRHeader expected, got %s", luaL_typename(L, idx));
    p->field = "name";
    lua_getfield(L, idx, "name");
    if (lua_isnil(L, -1)) owner[0] = 0;
    else check_name(L, -1, owner, p);
    p->field = "type";
    lua_getfield(L, idx, "type");
    type = check_u16(L, -1, p, 1);
    p->field = "cls";
    lua_getfield(L, idx, "cls");
    cls = check_u16(L, -1, p, 1);
    p->field = "ttl";
    lua_getfield(L, idx, "ttl");
    ttl = check_ttl(L, -1, p);
    lua_getfield(L, idx, "payload");
    at = nm_wr_rr_begin(w, owner, type, cls, ttl);
    if (!lua_isnil(L, -1)) {
        p->field = "payload";
        if (!lua_istable(L, -1)) path_error(L, p, "%s: a record expected, got %s", luaL_typename(L, -1));
        put_rdata(L, lua_gettop(L), type, cls, w, p);
    }
    nm_wr_rr_end(w, at);
    lua_settop(L, top);
}

static int get_flag(lua_State *L, int idx, const char *k)
{
    int v;
    lua_getfield(L, idx, k);
    v = lua_toboolean(L, -1) && !(lua_isinteger(L, -1) && lua_tointeger(L, -1) == 0);
    lua_pop(L, 1);
    return v;
}

static lua_Integer get_int(lua_State *L, int idx, const char *k, lua_Integer dflt)
{
    lua_Integer v;
    int ok;
    lua_getfield(L, idx, k);
    if (lua_isnil(L, -1)) v = dflt;
    else {
        v = lua_tointegerx(L, -1, &ok);
        if (!ok) codec_error(L, "message field '%s': an integer expected, got %s", k, luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    return v;
}

/* The EDNS options list at idx, encoded as OPT rdata into w. */
static void put_options(lua_State *L, int idx, nm_writer *w)
{
    for (lua_Integer i = 1;; i++) {
        lua_Integer code;
        size_t n = 0;
        const char *s = "";
        if (lua_geti(L, idx, i) == LUA_TNIL) {
            lua_pop(L, 1);
            break;
        }
        if (!lua_istable(L, -1)) codec_error(L, "ednsOptions[%d]: a table expected", (int)i);
        code = get_int(L, -1, "code", -1);
        if (code < 0 || code > 65535) codec_error(L, "ednsOptions[%d].code: 0..65535 expected", (int)i);
        lua_getfield(L, -1, "data");
        if (lua_type(L, -1) == LUA_TSTRING) s = lua_tolstring(L, -1, &n);
        else if (!lua_isnil(L, -1)) codec_error(L, "ednsOptions[%d].data: a string expected", (int)i);
        nm_wr_option(w, (uint16_t)code, (const uint8_t *)s, n);
        lua_pop(L, 2);
    }
}

static int put_section(lua_State *L, int msg, const char *name, nm_writer *w)
{
    struct path p = { name, 0, NULL };
    int count = 0, sect;
    lua_getfield(L, msg, name);
    sect = lua_gettop(L);
    if (lua_isnil(L, sect)) {
        lua_pop(L, 1);
        return 0;
    }
    if (!lua_istable(L, sect)) codec_error(L, "message field '%s': a list expected, got %s", name, luaL_typename(L, sect));
    for (lua_Integer i = 1;; i++) {
        if (lua_geti(L, sect, i) == LUA_TNIL) {
            lua_pop(L, 1);
            break;
        }
        p.index = (int)i;
        if (strcmp(name, "queries") == 0) {
            uint8_t qname[NM_NAME_MAX];
            uint16_t qtype;
            int q = lua_gettop(L);
            if (!lua_istable(L, q)) path_error(L, &p, "%s: a Query expected, got %s", luaL_typename(L, q));
            p.field = "name";
            lua_getfield(L, q, "name");
            check_name(L, -1, qname, &p);
            p.field = "type";
            lua_getfield(L, q, "type");
            qtype = check_u16(L, -1, &p, 1);
            p.field = "cls";
            lua_getfield(L, q, "cls");
            nm_wr_question(w, qname, qtype, check_u16(L, -1, &p, 1));
            lua_settop(L, q);
        } else {
            put_rr(L, lua_gettop(L), w, &p);
        }
        lua_pop(L, 1);
        count++;
        if (count > 65535) codec_error(L, "message field '%s': too many records", name);
    }
    lua_pop(L, 1);
    return count;
}

/* encode(message) -> bytes */
static int l_encode(lua_State *L)
{
    nm_writer *w;
    int qd, an, ns, ar, edns;
    uint16_t flags;
    lua_Integer rcode, opcode;

    luaL_checktype(L, 1, LUA_TTABLE);
    w = push_writer(L);
    opcode = get_int(L, 1, "opCode", 0);
    rcode = get_int(L, 1, "rCode", 0);
    lua_getfield(L, 1, "ednsVersion");
    edns = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (opcode < 0 || opcode > 15) return codec_error(L, "message field 'opCode': 0..15 expected");
    if (rcode < 0 || rcode > (edns ? 4095 : 15))
        return codec_error(L, "message field 'rCode': 0..%d expected", edns ? 4095 : 15);
    flags = (uint16_t)((get_flag(L, 1, "answer") ? NM_QR : 0) | (opcode << 11) |
                       (get_flag(L, 1, "auth") ? NM_AA : 0) | (get_flag(L, 1, "trunc") ? NM_TC : 0) |
                       (get_flag(L, 1, "recDes") ? NM_RD : 0) | (get_flag(L, 1, "recAv") ? NM_RA : 0) |
                       (get_flag(L, 1, "authenticData") ? NM_AD : 0) |
                       (get_flag(L, 1, "checkingDisabled") ? NM_CD : 0) | (rcode & 15));
    {
        lua_Integer id = get_int(L, 1, "id", 0);
        if (id < 0 || id > 65535) return codec_error(L, "message field 'id': 0..65535 expected");
        nm_wr_header(w, (uint16_t)id, flags);
    }
    qd = put_section(L, 1, "queries", w);
    an = put_section(L, 1, "answers", w);
    ns = put_section(L, 1, "authority", w);
    ar = put_section(L, 1, "additional", w);
    if (edns) {
        lua_Integer version = get_int(L, 1, "ednsVersion", 0);
        lua_Integer size = get_int(L, 1, "maxSize", 512);
        nm_writer *opts;
        if (version < 0 || version > 255) return codec_error(L, "message field 'ednsVersion': 0..255 expected");
        if (size < 0 || size > 65535) return codec_error(L, "message field 'maxSize': 0..65535 expected");
        /* the options, in a writer of their own that the collector frees
         * (not 64 KB of C stack) */
        opts = push_writer(L);
        lua_getfield(L, 1, "ednsOptions");
        if (lua_istable(L, -1)) put_options(L, lua_gettop(L), opts);
        lua_pop(L, 1);
        if (opts->err) return codec_error(L, "message field 'ednsOptions': %s", nm_strerror(opts->err));
        nm_wr_opt(w, (uint16_t)size, (uint8_t)(rcode >> 4), (uint8_t)version,
                  get_flag(L, 1, "dnssecOK") ? NM_EDNS_DO : 0, opts->buf, opts->len);
        nm_writer_free(opts);
        ar++;
    }
    nm_wr_counts(w, qd, an, ns, ar);
    if (w->err) return codec_error(L, "cannot encode message: %s", nm_strerror(w->err));
    lua_pushlstring(L, (const char *)w->buf, w->len);
    nm_writer_free(w);
    return 1;
}

/* ------------------------------------------------------- text and checks */

/* Encodes one RRHeader alone into a fresh message and parses it back, so
 * that the text forms have a single path: from wire. */
static const nm_rr *encode_one(lua_State *L, int idx, nm_writer *w, nm_msg *m)
{
    struct path p = { NULL, 0, NULL };
    int err;
    nm_wr_header(w, 0, 0);
    put_rr(L, idx, w, &p);
    nm_wr_counts(w, 0, 1, 0, 0);
    if (w->err) codec_error(L, "cannot encode record: %s", nm_strerror(w->err));
    err = nm_msg_parse(m, w->buf, w->len);
    if (err || m->nrr != 1) {
        char why[160];
        nm_msg_describe_error(m, err, why, sizeof why);
        nm_msg_release(m);
        codec_error(L, "record does not round-trip: %s", err ? why : "it is an OPT record");
    }
    return &m->rr[0];
}

/* rr_text(rrheader) -> "name.\tttl\tIN\tTYPE\trdata" as dig prints it */
static int l_rr_text(lua_State *L)
{
    nm_writer *w;
    nm_msg m;
    nm_text t;
    const nm_rr *rr;
    int err;
    luaL_checktype(L, 1, LUA_TTABLE);
    w = push_writer(L);
    rr = encode_one(L, 1, w, &m);
    nm_text_init(&t);
    err = nm_text_rr(&t, &m, rr);
    nm_msg_release(&m);
    if (err || t.err) {
        nm_text_free(&t);
        return codec_error(L, "cannot print record: %s", nm_strerror(err ? err : t.err));
    }
    lua_pushlstring(L, t.buf ? t.buf : "", t.len);
    nm_text_free(&t);
    return 1;
}

/* rdata_text(type, cls, payload [, field]) -> the rdata as dig prints it,
 * or one field of it (field: 1-based index). */
static int l_rdata_text(lua_State *L)
{
    lua_Integer type = luaL_checkinteger(L, 1), cls = luaL_optinteger(L, 2, 1);
    lua_Integer field = luaL_optinteger(L, 4, 0);
    nm_writer *w;
    nm_msg m;
    nm_text t;
    const nm_rr *rr;
    int err;
    luaL_checktype(L, 3, LUA_TTABLE);
    luaL_argcheck(L, type >= 0 && type <= 65535, 1, "type out of range");
    luaL_argcheck(L, cls >= 0 && cls <= 65535, 2, "class out of range");
    /* an RRHeader around the payload */
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, type);
    lua_setfield(L, -2, "type");
    lua_pushinteger(L, cls);
    lua_setfield(L, -2, "cls");
    lua_pushvalue(L, 3);
    lua_setfield(L, -2, "payload");
    w = push_writer(L);
    rr = encode_one(L, lua_gettop(L) - 1, w, &m);
    nm_text_init(&t);
    if (field > 0) {
        /* one field alone */
        nm_rdata_iter it;
        const nm_field *f = NULL;
        nm_value v;
        int rc, i = 0;
        t.flags |= NM_TEXT_ONE_WORD;
        nm_rdata_begin(&it, m.wire, rr->rdata, rr->rdlen, nm_rr_type(rr));
        while ((rc = nm_rdata_next(&it, &f, &v)) == 1 && ++i < field) {}
        err = rc == 1 ? nm_text_field(&t, f, &v) : NM_EVALUE;
    } else {
        err = nm_text_rdata(&t, m.wire, rr->rdata, rr->rdlen, rr->type, rr->cls);
    }
    nm_msg_release(&m);
    if (err || t.err) {
        nm_text_free(&t);
        return codec_error(L, "cannot print record: %s", nm_strerror(err ? err : t.err));
    }
    lua_pushlstring(L, t.buf ? t.buf : "", t.len);
    nm_text_free(&t);
    return 1;
}

/* Whether a valid name's text is its canonical text as it is: letters,
 * digits, '-' and '_' in labels, no final dot (nothing that
 * nm_name_to_text would escape or drop).  Most names a lookup is given. */
static int is_plain_text(const char *s, size_t n)
{
    if (n == 0 || s[n - 1] == '.') return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

/* name_check(text) -> the canonical text (no final dot), or nil and why */
static int l_name_check(lua_State *L)
{
    size_t n, wl;
    const char *s = luaL_checklstring(L, 1, &n);
    uint8_t wire[NM_NAME_MAX];
    char text[NM_NAME_TEXT_MAX];
    int err = nm_name_from_text(s, n, wire, &wl);
    if (err) {
        lua_pushnil(L);
        lua_pushstring(L, nm_strerror(err));
        return 2;
    }
    if (is_plain_text(s, n)) {
        lua_settop(L, 1); /* the canonical text already */
        return 1;
    }
    n = nm_name_to_text(wire, text, 0);
    lua_pushlstring(L, text, n);
    return 1;
}

/* address(text, family) -> canonical text, or nil */
static int l_address(lua_State *L)
{
    const char *s = luaL_checkstring(L, 1);
    int family = (int)luaL_checkinteger(L, 2) == 6 ? AF_INET6 : AF_INET;
    uint8_t addr[16];
    if (inet_pton(family, s, addr) != 1) return 0;
    push_address(L, addr, family == AF_INET ? 4 : 16);
    return 1;
}

/* types() -> the type table as data, for names.dns to build its classes */
static int l_types(lua_State *L)
{
    int n = nm_rrtype_count();
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        const nm_rrtype *t = nm_rrtype_at(i);
        lua_createtable(L, 0, 6);
        nm_lua_setint(L, "type", t->type);
        lua_pushstring(L, t->mnemonic);
        lua_setfield(L, -2, "mnemonic");
        lua_pushstring(L, t->cls);
        lua_setfield(L, -2, "cls");
        lua_pushstring(L, t->repr);
        lua_setfield(L, -2, "repr");
        nm_lua_setbool(L, "meta", (t->flags & NM_RT_META) != 0);
        lua_createtable(L, t->nfields, 0);
        for (int k = 0; k < t->nfields; k++) {
            lua_createtable(L, 0, 2);
            lua_pushstring(L, t->fields[k].name);
            lua_setfield(L, -2, "name");
            lua_pushstring(L, nm_field_kind_name(t->fields[k].kind));
            lua_setfield(L, -2, "kind");
            lua_rawseti(L, -2, k + 1);
        }
        lua_setfield(L, -2, "fields");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* type_name(n) / class_name(n) -> mnemonic */
static int l_type_name(lua_State *L)
{
    char buf[16];
    lua_Integer t = luaL_checkinteger(L, 1);
    luaL_argcheck(L, t >= 0 && t <= 65535, 1, "type out of range");
    lua_pushstring(L, nm_type_name((uint16_t)t, buf));
    return 1;
}

static int l_class_name(lua_State *L)
{
    char buf[16];
    lua_Integer c = luaL_checkinteger(L, 1);
    luaL_argcheck(L, c >= 0 && c <= 65535, 1, "class out of range");
    lua_pushstring(L, nm_class_name((uint16_t)c, buf));
    return 1;
}

/* dns_setup(classes): names.dns hands over its metatables */
static int l_dns_setup(lua_State *L)
{
    /* a copy, checked: the decoder sets these as metatables, and a table
     * the caller may still change (or give an __index) is no ground for
     * that */
    static const char *const named[] = { "Name", "Query", "RRHeader", "Message", "Unknown" };
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1); /* the copy is index 2, whatever else was passed */
    lua_createtable(L, 0, 64);
    for (size_t i = 0; i < sizeof named / sizeof *named; i++) {
        if (lua_getfield(L, 1, named[i]) != LUA_TTABLE)
            return luaL_error(L, "dns_setup: classes.%s is not a table", named[i]);
        lua_setfield(L, 2, named[i]);
    }
    /* the private key under which a Message keeps the bytes of the
     * sections it has not decoded yet (optional) */
    if (lua_getfield(L, 1, "lazyKey") == LUA_TTABLE) lua_setfield(L, 2, "lazyKey");
    else lua_pop(L, 1);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        if (lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 0 && lua_tointeger(L, -2) <= 65535) {
            if (!lua_istable(L, -1))
                return luaL_error(L, "dns_setup: classes[%d] is not a table", (int)lua_tointeger(L, -2));
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, 2);
        } else {
            lua_pop(L, 1);
        }
    }
    lua_rawsetp(L, LUA_REGISTRYINDEX, &classes_key);
    return 0;
}

void nm_lua_open_dns(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "decode", l_decode },
        { "decode_section", l_decode_section },
        { "decode_header", l_decode_header },
        { "encode", l_encode },
        { "rr_text", l_rr_text },
        { "rdata_text", l_rdata_text },
        { "name_check", l_name_check },
        { "address", l_address },
        { "types", l_types },
        { "type_name", l_type_name },
        { "class_name", l_class_name },
        { "dns_setup", l_dns_setup },
        { NULL, NULL },
    };
    make_keys(L);
    luaL_setfuncs(L, funcs, 0);
}
