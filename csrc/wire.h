/* The one bounded reader and the one growable writer of the codec.
 *
 * Every byte the codec reads from a message goes through nm_reader: each
 * fetch checks what remains and fails with NM_ESHORT instead of reading past
 * the end.  Every byte it writes goes through nm_writer, whose error is
 * sticky: builders write a whole record as a straight line and check
 * w->err once at the end.
 */
#ifndef NAMES_WIRE_H
#define NAMES_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "errors.h"

/* The largest DNS message: TCP's two-byte length prefix. */
#define NM_MAX_MESSAGE 65535

typedef struct nm_reader {
    const uint8_t *buf; /* the whole message: compression pointers index it */
    size_t len;
    size_t pos;
} nm_reader;

static inline void nm_reader_init(nm_reader *r, const uint8_t *buf, size_t len)
{
    r->buf = buf;
    r->len = len;
    r->pos = 0;
}

static inline size_t nm_rd_left(const nm_reader *r)
{
    return r->len - r->pos;
}

static inline int nm_rd_u8(nm_reader *r, uint8_t *out)
{
    if (r->len - r->pos < 1) return NM_ESHORT;
    *out = r->buf[r->pos++];
    return NM_OK;
}

static inline int nm_rd_u16(nm_reader *r, uint16_t *out)
{
    if (r->len - r->pos < 2) return NM_ESHORT;
    *out = (uint16_t)((r->buf[r->pos] << 8) | r->buf[r->pos + 1]);
    r->pos += 2;
    return NM_OK;
}

static inline int nm_rd_u32(nm_reader *r, uint32_t *out)
{
    const uint8_t *p;
    if (r->len - r->pos < 4) return NM_ESHORT;
    p = r->buf + r->pos;
    *out = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    r->pos += 4;
    return NM_OK;
}

/* Points *out at the next n bytes, in place. */
static inline int nm_rd_bytes(nm_reader *r, size_t n, const uint8_t **out)
{
    if (r->len - r->pos < n) return NM_ESHORT;
    *out = r->buf + r->pos;
    r->pos += n;
    return NM_OK;
}

static inline int nm_rd_skip(nm_reader *r, size_t n)
{
    if (r->len - r->pos < n) return NM_ESHORT;
    r->pos += n;
    return NM_OK;
}

static inline uint16_t nm_get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t nm_get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Compression: offsets of names already written, for suffix reuse. */
#define NM_COMPRESS_SLOTS 128

typedef struct nm_writer {
    uint8_t *buf;
    size_t len;
    size_t cap;
    int err;        /* sticky: the first error wins */
    int owned;      /* buf is malloc'd by the writer and may grow */
    size_t limit;   /* never grow past this many bytes */
    uint16_t comp[NM_COMPRESS_SLOTS]; /* where names start, for compression */
    int ncomp;
} nm_writer;

/* A writer over a caller's fixed buffer (no allocation), or a growing one
 * when buf is NULL.  limit caps the message (NM_MAX_MESSAGE at most). */
void nm_writer_init(nm_writer *w, uint8_t *buf, size_t cap, size_t limit);
void nm_writer_free(nm_writer *w);
/* Makes room for n more bytes; sets the sticky error when it cannot. */
int nm_wr_reserve(nm_writer *w, size_t n);

static inline void nm_wr_u8(nm_writer *w, uint8_t v)
{
    if (w->err || nm_wr_reserve(w, 1)) return;
    w->buf[w->len++] = v;
}

static inline void nm_wr_u16(nm_writer *w, uint16_t v)
{
    if (w->err || nm_wr_reserve(w, 2)) return;
    w->buf[w->len++] = (uint8_t)(v >> 8);
    w->buf[w->len++] = (uint8_t)v;
}

static inline void nm_wr_u32(nm_writer *w, uint32_t v)
{
    if (w->err || nm_wr_reserve(w, 4)) return;
    w->buf[w->len++] = (uint8_t)(v >> 24);
    w->buf[w->len++] = (uint8_t)(v >> 16);
    w->buf[w->len++] = (uint8_t)(v >> 8);
    w->buf[w->len++] = (uint8_t)v;
}

static inline void nm_wr_bytes(nm_writer *w, const void *p, size_t n)
{
    if (w->err || nm_wr_reserve(w, n)) return;
    if (n) memcpy(w->buf + w->len, p, n);
    w->len += n;
}

/* Rewrites two bytes already written (rdlength, TCP length prefix). */
static inline void nm_wr_put16_at(nm_writer *w, size_t at, uint16_t v)
{
    if (w->err || at + 2 > w->len) return;
    w->buf[at] = (uint8_t)(v >> 8);
    w->buf[at + 1] = (uint8_t)v;
}

#endif
