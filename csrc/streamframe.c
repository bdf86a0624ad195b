/* Two-octet length framing of DNS messages on a stream (streamframe.h). */
#include "streamframe.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"

void nm_sframe_init(nm_sframe *f)
{
    memset(f, 0, sizeof *f);
}

void nm_sframe_free(nm_sframe *f)
{
    free(f->buf);
    memset(f, 0, sizeof *f);
}

int nm_sframe_partial(const nm_sframe *f)
{
    return f->nlen > 0;
}

void nm_sframe_prefix(uint8_t out[2], size_t len)
{
    out[0] = (uint8_t)(len >> 8);
    out[1] = (uint8_t)len;
}

int nm_sframe_feed(nm_sframe *f, const uint8_t *p, size_t n, nm_sframe_cb cb, void *arg)
{
    while (n > 0) {
        if (f->nlen < 2) {
            f->lenbuf[f->nlen++] = *p++;
            n--;
            if (f->nlen < 2) continue;
            f->want = (size_t)f->lenbuf[0] << 8 | f->lenbuf[1];
            f->have = 0;
            if (f->want == 0) {
                f->nlen = 0;
                return NM_ESYNTAX;
            }
        }
        size_t left = f->want - f->have;
        if (f->have == 0 && n >= left) {
            /* the whole message is in this piece: no copy */
            f->nlen = 0;
            int rc = cb(arg, p, left);
            p += left;
            n -= left;
            if (rc) return rc;
            continue;
        }
        if (f->cap < f->want) {
            uint8_t *b = realloc(f->buf, f->want);
            if (!b) return NM_ENOMEM;
            f->buf = b;
            f->cap = f->want;
        }
        size_t take = n < left ? n : left;
        memcpy(f->buf + f->have, p, take);
        f->have += take;
        p += take;
        n -= take;
        if (f->have == f->want) {
            f->nlen = 0;
            int rc = cb(arg, f->buf, f->want);
            if (rc) return rc;
        }
    }
    return NM_OK;
}
