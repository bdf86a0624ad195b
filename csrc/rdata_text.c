/* The text forms dig prints, per field kind.  Checked against dig 9.18
 * field by field in spec/dns_text_spec.lua. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "message.h"
#include "name.h"
#include "rdata.h"
#include "text.h"

/* dig breaks long base64 and hex runs into words of this many characters. */
#define WORD 56

void nm_text_init(nm_text *t)
{
    t->buf = NULL;
    t->len = t->cap = 0;
    t->err = 0;
    t->flags = 0;
}

void nm_text_free(nm_text *t)
{
    free(t->buf);
    nm_text_init(t);
}

static int grow(nm_text *t, size_t n)
{
    size_t cap;
    char *p;
    if (t->err) return 0;
    if (t->len + n + 1 <= t->cap) return 1;
    cap = t->cap ? t->cap * 2 : 256;
    while (cap < t->len + n + 1) cap *= 2;
    if (!(p = realloc(t->buf, cap))) {
        t->err = NM_ENOMEM;
        return 0;
    }
    t->buf = p;
    t->cap = cap;
    return 1;
}

void nm_text_put(nm_text *t, const char *s, size_t n)
{
    if (!grow(t, n)) return;
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = 0;
}

void nm_text_putc(nm_text *t, char c)
{
    if (!grow(t, 1)) return;
    t->buf[t->len++] = c;
    t->buf[t->len] = 0;
}

void nm_text_puts(nm_text *t, const char *s)
{
    nm_text_put(t, s, strlen(s));
}

void nm_text_printf(nm_text *t, const char *fmt, ...)
{
    char small[128];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        nm_text_put(t, small, (size_t)n);
        return;
    }
    if (!grow(t, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(t->buf + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* Emits a word break before every WORD-th character of a run. */
static void word_break(nm_text *t, size_t *col)
{
    if (*col == WORD && !(t->flags & NM_TEXT_ONE_WORD)) {
        nm_text_putc(t, ' ');
        *col = 0;
    }
    (*col)++;
}

static void hex_words(nm_text *t, const uint8_t *p, size_t n, int upper, int split)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    size_t col = 0;
    for (size_t i = 0; i < n; i++) {
        if (split) word_break(t, &col);
        nm_text_putc(t, digits[p[i] >> 4]);
        if (split) word_break(t, &col);
        nm_text_putc(t, digits[p[i] & 15]);
    }
}

void nm_text_hex(nm_text *t, const uint8_t *p, size_t n, int upper)
{
    hex_words(t, p, n, upper, 0);
}

static void base64_words(nm_text *t, const uint8_t *p, size_t n, int split)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t col = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        char out[4];
        if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        out[0] = b64[(v >> 18) & 63];
        out[1] = b64[(v >> 12) & 63];
        out[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[3] = i + 2 < n ? b64[v & 63] : '=';
        for (int k = 0; k < 4; k++) {
            if (split) word_break(t, &col);
            nm_text_putc(t, out[k]);
        }
    }
}

void nm_text_base64(nm_text *t, const uint8_t *p, size_t n)
{
    base64_words(t, p, n, 0);
}

void nm_text_base32hex(nm_text *t, const uint8_t *p, size_t n)
{
    static const char b32[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
    uint32_t acc = 0;
    int bits = 0;
    /* NSEC3 hashes are printed without padding (RFC 5155, 3.3). */
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | p[i];
        bits += 8;
        while (bits >= 5) {
            nm_text_putc(t, b32[(acc >> (bits - 5)) & 31]);
            bits -= 5;
        }
    }
    if (bits > 0) nm_text_putc(t, b32[(acc << (5 - bits)) & 31]);
}

static void escaped_byte(nm_text *t, uint8_t c)
{
    if (c < 0x20 || c >= 0x7F) {
        nm_text_printf(t, "\\%03u", (unsigned)c);
    } else {
        if (c == '"' || c == '\\') nm_text_putc(t, '\\');
        nm_text_putc(t, (char)c);
    }
}

void nm_text_quoted(nm_text *t, const uint8_t *p, size_t n)
{
    nm_text_putc(t, '"');
    for (size_t i = 0; i < n; i++) escaped_byte(t, p[i]);
    nm_text_putc(t, '"');
}

void nm_text_name(nm_text *t, const uint8_t *wire)
{
    char buf[NM_NAME_TEXT_MAX];
    size_t n = nm_name_to_text(wire, buf, NM_TEXT_DOT);
    nm_text_put(t, buf, n);
}

static size_t ipv4_text(const uint8_t *p, char *out)
{
    size_t o = 0;
    for (int i = 0; i < 4; i++) {
        unsigned v = p[i];
        if (i) out[o++] = '.';
        if (v >= 100) out[o++] = (char)('0' + v / 100);
        if (v >= 10) out[o++] = (char)('0' + v / 10 % 10);
        out[o++] = (char)('0' + v % 10);
    }
    out[o] = 0;
    return o;
}

/* glibc's inet_ntop6, step for step: the first longest run of two or more
 * zero words becomes "::"; ::a.b.c.d and ::ffff:a.b.c.d end dotted. */
static size_t ipv6_text(const uint8_t *p, char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned words[8];
    int best = -1, bestlen = 0, cur = -1, curlen = 0;
    size_t o = 0;

    for (int i = 0; i < 8; i++) words[i] = (unsigned)p[2 * i] << 8 | p[2 * i + 1];
    for (int i = 0; i < 8; i++) {
        if (words[i] == 0) {
            if (cur < 0) {
                cur = i;
                curlen = 1;
            } else {
                curlen++;
            }
        } else if (cur >= 0) {
            if (best < 0 || curlen > bestlen) best = cur, bestlen = curlen;
            cur = -1;
        }
    }
    if (cur >= 0 && (best < 0 || curlen > bestlen)) best = cur, bestlen = curlen;
    if (best >= 0 && bestlen < 2) best = -1;
    for (int i = 0; i < 8; i++) {
        unsigned w = words[i];
        int started = 0;
        if (best >= 0 && i >= best && i < best + bestlen) {
            if (i == best) out[o++] = ':';
            continue;
        }
        if (i) out[o++] = ':';
        if (i == 6 && best == 0 && (bestlen == 6 || (bestlen == 5 && words[5] == 0xffff)))
            return o + ipv4_text(p + 12, out + o);
        for (int shift = 12; shift >= 0; shift -= 4) {
            unsigned d = (w >> shift) & 15;
            if (d || started || shift == 0) {
                out[o++] = hex[d];
                started = 1;
            }
        }
    }
    if (best >= 0 && best + bestlen == 8) out[o++] = ':';
    out[o] = 0;
    return o;
}

size_t nm_ip_to_text(const uint8_t *addr, size_t len, char *out)
{
    if (len == 4) return ipv4_text(addr, out);
    if (len == 16) return ipv6_text(addr, out);
    out[0] = 0;
    return 0;
}

static void text_address(nm_text *t, int family, const uint8_t *p)
{
    char buf[NM_IP_TEXT_MAX];
    size_t n = nm_ip_to_text(p, family == AF_INET ? 4 : 16, buf);
    nm_text_put(t, buf, n);
}

/* RRSIG times are 32-bit serial numbers (RFC 4034, 3.1.5): a value
 * stands for the moment nearest to now that it matches modulo 2^32, within
 * 68 years either way.  BIND (so dig) prints them so; so do we. */
static void text_time(nm_text *t, uint32_t when)
{
    int64_t now = (int64_t)time(NULL);
    int32_t delta = (int32_t)(when - (uint32_t)now);
    time_t tt = (time_t)(now + delta);
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        nm_text_printf(t, "%u", (unsigned)when);
        return;
    }
    nm_text_printf(t, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                   tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void text_type(nm_text *t, uint16_t type)
{
    char buf[16];
    nm_text_puts(t, nm_type_name(type, buf));
}

static void text_strings(nm_text *t, const nm_value *v)
{
    const uint8_t *p = v->data, *end = v->data + v->len, *s;
    size_t n;
    int first = 1;
    while (nm_strings_next(&p, end, &s, &n) == 1) {
        if (!first) nm_text_putc(t, ' ');
        nm_text_quoted(t, s, n);
        first = 0;
    }
}

static void text_bitmap(nm_text *t, const nm_value *v)
{
    size_t state = 0;
    uint16_t type;
    int first = 1;
    while (nm_bitmap_next(v->data, v->len, &state, &type)) {
        if (!first) nm_text_putc(t, ' ');
        text_type(t, type);
        first = 0;
    }
}

/* The WKS ports, each after a space when `lead`, else space separated. */
static void text_ports(nm_text *t, const nm_value *v, int lead)
{
    for (size_t i = 0; i < v->len * 8; i++) {
        if (!(v->data[i / 8] & (0x80 >> (i % 8)))) continue;
        nm_text_printf(t, lead ? " %zu" : "%zu", i);
        lead = 1;
    }
}

void nm_text_opaque(nm_text *t, const uint8_t *p, size_t n)
{
    nm_text_printf(t, "\\# %zu", n);
    if (n) {
        nm_text_putc(t, ' ');
        hex_words(t, p, n, 1, 1);
    }
}

static const char *const svc_keys[] = {
    "mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint"
};

static void text_svc_key(nm_text *t, uint16_t key)
{
    if (key < sizeof svc_keys / sizeof svc_keys[0]) nm_text_puts(t, svc_keys[key]);
    else nm_text_printf(t, "key%u", (unsigned)key);
}

/* One SvcParam's value, or 0 when it does not have its key's layout and
 * must be shown in the generic form. */
static int text_svc_value(nm_text *t, uint16_t key, const uint8_t *p, size_t n)
{
    size_t i;
    switch (key) {
    case 0: /* mandatory */
        if (n == 0 || n % 2) return 0;
        nm_text_putc(t, '=');
        for (i = 0; i < n; i += 2) {
            if (i) nm_text_putc(t, ',');
            text_svc_key(t, nm_get16(p + i));
        }
        return 1;
    case 1: /* alpn: a list of character-strings, in one quoted value */
        for (i = 0; i < n; i += 1 + (size_t)p[i])
            if (p[i] == 0 || i + 1 + p[i] > n) return 0;
        nm_text_puts(t, "=\"");
        for (i = 0; i < n; i += 1 + (size_t)p[i]) {
            if (i) nm_text_putc(t, ',');
            for (size_t k = 1; k <= p[i]; k++) {
                /* BIND escapes twice: a comma or backslash of an alpn id
                 * gets a backslash in the list, and then the list's
                 * backslashes and quotes get one each in the quoted value;
                 * spaces too are \DDD here, unlike in other quoted strings. */
                uint8_t c = p[i + k];
                if (c == ' ') {
                    nm_text_puts(t, "\\032");
                    continue;
                }
                if (c == ',' || c == '\\') nm_text_puts(t, "\\\\");
                escaped_byte(t, c);
            }
        }
        nm_text_putc(t, '"');
        return 1;
    case 2: /* no-default-alpn */
        return n == 0;
    case 3: /* port */
        if (n != 2) return 0;
        nm_text_printf(t, "=%u", (unsigned)nm_get16(p));
        return 1;
    case 4: /* ipv4hint */
    case 6: /* ipv6hint */
    {
        size_t step = key == 4 ? 4 : 16;
        if (n == 0 || n % step) return 0;
        nm_text_putc(t, '=');
        for (i = 0; i < n; i += step) {
            if (i) nm_text_putc(t, ',');
            text_address(t, key == 4 ? AF_INET : AF_INET6, p + i);
        }
        return 1;
    }
    case 5: /* ech: the key alone when empty, as BIND prints it */
        if (n) nm_text_putc(t, '=');
        nm_text_base64(t, p, n);
        return 1;
    default:
        return 0;
    }
}

static void text_params(nm_text *t, const nm_value *v)
{
    for (size_t i = 0; i + 4 <= v->len;) {
        uint16_t key = nm_get16(v->data + i), n = nm_get16(v->data + i + 2);
        const uint8_t *p = v->data + i + 4;
        size_t mark;
        if (i) nm_text_putc(t, ' ');
        mark = t->len;
        text_svc_key(t, key);
        if (!text_svc_value(t, key, p, n)) {
            /* the generic form: keyNNNNN="..." */
            t->len = mark;
            nm_text_printf(t, "key%u", (unsigned)key);
            if (n) {
                nm_text_putc(t, '=');
                nm_text_quoted(t, p, n);
            }
        }
        i += 4 + (size_t)n;
    }
}

/* An extended rcode (TSIG and TKEY error) as BIND names it. */
static void text_rcode(nm_text *t, uint16_t e)
{
    static const char *const names[] = {
        "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN",
        "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", NULL, NULL, NULL, NULL, NULL,
        "BADSIG", "BADKEY", "BADTIME", "BADMODE", "BADNAME", "BADALG", "BADTRUNC"
    };
    if (e < sizeof names / sizeof names[0] && names[e]) nm_text_puts(t, names[e]);
    else if (e >= 11 && e <= 15) nm_text_printf(t, "RESERVED%u", (unsigned)e);
    else nm_text_printf(t, "%u", (unsigned)e);
}

int nm_text_field(nm_text *t, const nm_field *f, const nm_value *v)
{
    switch ((enum nm_field_kind)f->kind) {
    case NM_FK_U8:
    case NM_FK_U16:
    case NM_FK_U32:
    case NM_FK_U48:
    case NM_FK_A6LEN:
        nm_text_printf(t, "%llu", (unsigned long long)v->num);
        break;
    case NM_FK_TYPE:
        text_type(t, (uint16_t)v->num);
        break;
    case NM_FK_TIME:
        text_time(t, (uint32_t)v->num);
        break;
    case NM_FK_NAME:
    case NM_FK_NAME_NC:
    case NM_FK_A6PREFIX:
        nm_text_name(t, v->name);
        break;
    case NM_FK_IPV4:
        text_address(t, AF_INET, v->data);
        break;
    case NM_FK_IPV6:
        text_address(t, AF_INET6, v->data);
        break;
    case NM_FK_A6SUFFIX: {
        /* with a prefix of 128 bits no suffix is left, and BIND prints
         * nothing between the two spaces */
        uint8_t addr[16] = { 0 };
        if (v->len == 0) break;
        memcpy(addr + 16 - v->len, v->data, v->len);
        text_address(t, AF_INET6, addr);
        break;
    }
    case NM_FK_STRING:
    case NM_FK_TEXT:
        nm_text_quoted(t, v->data, v->len);
        break;
    case NM_FK_TAG:
        for (size_t i = 0; i < v->len; i++) escaped_byte(t, v->data[i]);
        break;
    case NM_FK_STRINGS:
        text_strings(t, v);
        break;
    case NM_FK_HEX:
        if (v->len == 0) nm_text_putc(t, '-');
        hex_words(t, v->data, v->len, 1, 1);
        break;
    case NM_FK_BASE64:
        base64_words(t, v->data, v->len, 1);
        break;
    case NM_FK_OPAQUE:
        nm_text_opaque(t, v->data, v->len);
        break;
    case NM_FK_SALT:
        if (v->len == 0) nm_text_putc(t, '-');
        nm_text_hex(t, v->data, v->len, 1);
        break;
    case NM_FK_HASH:
        nm_text_base32hex(t, v->data, v->len);
        break;
    case NM_FK_B64_16:
        nm_text_printf(t, "%zu", v->len);
        if (v->len) nm_text_putc(t, ' ');
        base64_words(t, v->data, v->len, 1);
        break;
    case NM_FK_OTHER16:
        nm_text_printf(t, "%zu ", v->len);
        base64_words(t, v->data, v->len, 1);
        break;
    case NM_FK_RCODE:
        text_rcode(t, (uint16_t)v->num);
        break;
    case NM_FK_BITMAP:
        text_bitmap(t, v);
        break;
    case NM_FK_PORTS:
        text_ports(t, v, 0);
        break;
    case NM_FK_PARAMS:
        text_params(t, v);
        break;
    }
    return t->err;
}

int nm_text_rdata(nm_text *t, const uint8_t *wire, size_t rdata, size_t rdlen, uint16_t type,
                  uint16_t cls)
{
    const nm_rrtype *d = nm_rr_layout(type, cls, rdlen);
    nm_rdata_iter it;
    const nm_field *f;
    nm_value v;
    size_t sep = 0, mark;
    int rc, n = 0, last_empty = 0;

    /* No typed form can show empty rdata (a TXT with no string, say, which
     * BIND refuses and dig does not print): RFC 3597's form can. */
    if (rdlen == 0) d = NULL;
    nm_rdata_begin(&it, wire, rdata, rdlen, d);
    while ((rc = nm_rdata_next(&it, &f, &v)) == 1) {
        if (f->kind == NM_FK_PORTS) {
            text_ports(t, &v, 1);
            continue;
        }
        if (f->kind == NM_FK_A6PREFIX && v.namelen == 0) continue;
        if (f->kind == NM_FK_PARAMS && v.len == 0) continue;
        sep = t->len;
        if (n++) nm_text_putc(t, ' ');
        mark = t->len;
        nm_text_field(t, f, &v);
        last_empty = t->len == mark;
    }
    if (rc < 0) return rc;
    /* A last field with no text (an empty key or type bitmap, which BIND
     * refuses) leaves no space at the end of the line; one in the middle
     * (A6's suffix under a 128-bit prefix) keeps both, as BIND prints it. */
    if (last_empty && n > 1 && !t->err) {
        t->len = sep;
        t->buf[t->len] = 0;
    }
    return t->err;
}

/* BIND's column layout (masterdump.c's indent()): fields start at tab
 * stops 24, 32, 40, 48 (tab width 8).  A field that reached or overran its
 * stop moves the next one on by at least a column, and that column is
 * reached with a tab when it crosses a tab stop (a field ending in column
 * 31 is followed by a tab, one ending in column 30 by a space). */
static void indent(nm_text *t, size_t *col, size_t to)
{
    size_t from = *col, ntabs;
    if (to < from + 1) to = from + 1;
    ntabs = to / 8 - from / 8;
    for (size_t i = 0; i < ntabs; i++) nm_text_putc(t, '\t');
    if (ntabs) from = to / 8 * 8;
    for (; from < to; from++) nm_text_putc(t, ' ');
    *col = to;
}

int nm_text_rr(nm_text *t, const nm_msg *m, const nm_rr *rr)
{
    uint8_t name[NM_NAME_MAX];
    char buf[16];
    nm_reader r;
    size_t mark, col;
    int err;

    /* Not cut at the rdata: a pointer goes backwards, but the labels it
     * leads to may run on past the record (the parser read it so too). */
    nm_reader_init(&r, m->wire, m->len);
    r.pos = rr->owner;
    if ((err = nm_name_read(&r, name, NULL))) return err;
    mark = t->len;
    nm_text_name(t, name);
    col = t->len - mark;
    indent(t, &col, 24);
    mark = t->len;
    nm_text_printf(t, "%u", (unsigned)rr->ttl);
    col += t->len - mark;
    indent(t, &col, 32);
    mark = t->len;
    nm_text_puts(t, nm_class_name(rr->cls, buf));
    col += t->len - mark;
    indent(t, &col, 40);
    mark = t->len;
    nm_text_puts(t, nm_type_name(rr->type, buf));
    col += t->len - mark;
    indent(t, &col, 48);
    return nm_text_rdata(t, m->wire, rr->rdata, rr->rdlen, rr->type, rr->cls);
}
