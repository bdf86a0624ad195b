#include "name.h"

#include <stdlib.h>

int nm_name_read_hops(nm_reader *r, uint8_t *out, size_t *outlen, int *hopsp)
{
    const uint8_t *buf = r->buf;
    size_t pos = r->pos, end = r->len;
    size_t after = 0; /* where the name ends in place: set at the first pointer */
    size_t n = 0;     /* octets of the uncompressed name so far */
    int hops = 0;

    for (;;) {
        size_t len;
        if (pos >= end) return NM_ESHORT;
        len = buf[pos];
        if (len < 64) {
            if (len == 0) break;
            /* the label and its length byte in the message, and in the
             * name with room left for at least the root */
            if (len >= end - pos) return NM_ESHORT;
            if (n + len + 2 > NM_NAME_MAX) return NM_ENAME;
            if (out) {
                /* A label is at most 64 bytes with its length: when both
                 * sides have room, copy 64 at once (a fixed size compiles
                 * to a few moves; bytes past the label are overwritten
                 * later or lie past the name), else byte by byte. */
                if (end - pos >= 64 && NM_NAME_MAX - n >= 64) {
                    memcpy(out + n, buf + pos, 64);
                } else {
                    for (size_t k = 0; k <= len; k++) out[n + k] = buf[pos + k];
                }
            }
            n += len + 1;
            pos += len + 1;
            continue;
        }
        if (len < 0xC0) return NM_ELABELTYPE; /* 01xxxxxx and 10xxxxxx */
        {
            size_t target;
            if (end - pos < 2) return NM_ESHORT;
            target = ((len & 0x3F) << 8) | buf[pos + 1];
            if (target >= pos) return NM_EPTRFWD;
            if (++hops > NM_PTR_HOPS) return NM_EPTRLOOP;
            if (!after) after = pos + 2;
            pos = target;
        }
    }
    /* the root: every label left room for it */
    if (out) out[n] = 0;
    n++;
    r->pos = after ? after : pos + 1;
    if (outlen) *outlen = n;
    if (hopsp) *hopsp = hops;
    return NM_OK;
}

int nm_name_read(nm_reader *r, uint8_t *out, size_t *outlen)
{
    return nm_name_read_hops(r, out, outlen, NULL);
}

static int digit(char c)
{
    return c >= '0' && c <= '9';
}

int nm_name_from_text(const char *text, size_t len, uint8_t *out, size_t *outlen)
{
    size_t i = 0, n = 0, label_at = 0;
    uint8_t lablen = 0;

    if (len == 0 || (len == 1 && text[0] == '.')) {
        out[0] = 0;
        *outlen = 1;
        return NM_OK;
    }
    out[0] = 0;
    n = 1;
    while (i < len) {
        unsigned c = (unsigned char)text[i++];
        if (c == '.') {
            if (lablen == 0) return NM_EEMPTYLABEL;
            out[label_at] = lablen;
            label_at = n;
            lablen = 0;
            if (n + 1 > NM_NAME_MAX) return NM_ENAME;
            out[n++] = 0;
            continue;
        }
        if (c == '\\') {
            if (i >= len) return NM_ESYNTAX;
            if (digit(text[i])) {
                if (i + 3 > len || !digit(text[i + 1]) || !digit(text[i + 2]))
                    return NM_ESYNTAX;
                c = (unsigned)((text[i] - '0') * 100 + (text[i + 1] - '0') * 10 + (text[i + 2] - '0'));
                if (c > 255) return NM_ESYNTAX;
                i += 3;
            } else {
                c = (unsigned char)text[i++];
            }
        }
        if (lablen == NM_LABEL_MAX) return NM_ELABEL;
        if (n + 1 > NM_NAME_MAX) return NM_ENAME;
        out[n++] = (uint8_t)c;
        lablen++;
    }
    if (lablen) {
        /* no final dot: close the last label and add the root */
        out[label_at] = lablen;
        if (n + 1 > NM_NAME_MAX) return NM_ENAME;
        out[n++] = 0;
    }
    *outlen = n;
    return NM_OK;
}

/* The characters BIND escapes with a backslash in names. */
static int special(unsigned c)
{
    switch (c) {
    case '"': case '(': case ')': case '.': case ';': case '\\': case '@': case '$':
        return 1;
    default:
        return 0;
    }
}

size_t nm_name_to_text(const uint8_t *wire, char *out, int flags)
{
    size_t o = 0;
    const uint8_t *p = wire;

    if (*p == 0) {
        if (flags & NM_TEXT_DOT) out[o++] = '.';
        out[o] = 0;
        return o;
    }
    while (*p) {
        uint8_t len = *p++;
        for (uint8_t k = 0; k < len; k++) {
            unsigned c = p[k];
            if (special(c)) {
                out[o++] = '\\';
                out[o++] = (char)c;
            } else if (c <= 0x20 || c >= 0x7F) {
                out[o++] = '\\';
                out[o++] = (char)('0' + c / 100);
                out[o++] = (char)('0' + c / 10 % 10);
                out[o++] = (char)('0' + c % 10);
            } else {
                out[o++] = (char)c;
            }
        }
        p += len;
        if (*p || (flags & NM_TEXT_DOT)) out[o++] = '.';
    }
    out[o] = 0;
    return o;
}

size_t nm_name_len(const uint8_t *wire)
{
    const uint8_t *p = wire;
    while (*p) p += *p + 1;
    return (size_t)(p - wire) + 1;
}

int nm_name_labels(const uint8_t *wire)
{
    int n = 0;
    for (const uint8_t *p = wire; *p; p += *p + 1) n++;
    return n;
}

static inline uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

int nm_name_equal(const uint8_t *a, const uint8_t *b)
{
    for (;;) {
        uint8_t len = *a;
        if (len != *b) return 0;
        if (len == 0) return 1;
        a++, b++;
        for (uint8_t k = 0; k < len; k++)
            if (lower(a[k]) != lower(b[k])) return 0;
        a += len, b += len;
    }
}

void nm_name_lower(uint8_t *wire)
{
    for (uint8_t *p = wire; *p; p += *p + 1)
        for (uint8_t k = 1; k <= *p; k++) p[k] = lower(p[k]);
}

/* Does the suffix at `name` equal the name written at message offset `at`?
 * Targets are recorded only once their whole name is written, and every
 * pointer in them is one this writer wrote; the reads stay below w->len
 * all the same. */
static int suffix_matches(const nm_writer *w, size_t at, const uint8_t *name)
{
    const uint8_t *buf = w->buf;
    for (int hops = 0; hops <= NM_PTR_HOPS;) {
        uint8_t len;
        if (at >= w->len) return 0;
        len = buf[at];
        if ((len & 0xC0) == 0xC0) {
            if (at + 1 >= w->len) return 0;
            at = ((size_t)(len & 0x3F) << 8) | buf[at + 1];
            hops++;
            continue;
        }
        if (len != *name) return 0;
        if (len == 0) return 1;
        if (at + 1 + len > w->len || memcmp(buf + at + 1, name + 1, len) != 0) return 0;
        at += (size_t)len + 1;
        name += len + 1;
    }
    return 0;
}

void nm_wr_name(nm_writer *w, const uint8_t *wire, int compress)
{
    const uint8_t *p = wire;
    uint16_t fresh[NM_NAME_MAX / 2];
    int nfresh = 0;

    if (w->err) return;
    while (*p) {
        if (compress) {
            for (int i = 0; i < w->ncomp; i++) {
                if (w->buf[w->comp[i]] == *p && suffix_matches(w, w->comp[i], p)) {
                    nm_wr_u16(w, (uint16_t)(0xC000 | w->comp[i]));
                    goto done;
                }
            }
        }
        /* Names written whole (RFC 3597 rdata) are fair targets too. */
        if (w->len < 0x4000) fresh[nfresh++] = (uint16_t)w->len;
        nm_wr_bytes(w, p, (size_t)*p + 1);
        p += *p + 1;
    }
    nm_wr_u8(w, 0);
done:
    /* the new labels become targets now that their name is complete */
    for (int i = 0; i < nfresh && w->ncomp < NM_COMPRESS_SLOTS && !w->err; i++)
        w->comp[w->ncomp++] = fresh[i];
}
