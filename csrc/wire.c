#include "wire.h"

#include <stdlib.h>

void nm_writer_init(nm_writer *w, uint8_t *buf, size_t cap, size_t limit)
{
    w->buf = buf;
    w->len = 0;
    w->cap = buf ? cap : 0;
    w->err = NM_OK;
    w->owned = buf == NULL;
    w->limit = limit && limit < NM_MAX_MESSAGE ? limit : NM_MAX_MESSAGE;
    w->ncomp = 0;
}

void nm_writer_free(nm_writer *w)
{
    if (w->owned) free(w->buf);
    w->buf = NULL;
    w->cap = w->len = 0;
}

int nm_wr_reserve(nm_writer *w, size_t n)
{
    size_t want, cap;
    uint8_t *p;

    if (w->err) return w->err;
    want = w->len + n;
    if (want <= w->cap) return NM_OK;
    if (want > w->limit) return w->err = NM_ETOOBIG;
    if (!w->owned) return w->err = NM_ETOOBIG;
    cap = w->cap ? w->cap * 2 : 512;
    while (cap < want) cap *= 2;
    if (cap > w->limit) cap = w->limit;
    p = realloc(w->buf, cap);
    if (!p) return w->err = NM_ENOMEM;
    w->buf = p;
    w->cap = cap;
    return NM_OK;
}

const char *nm_strerror(int err)
{
    switch (err) {
    case NM_OK: return "success";
    case NM_ESHORT: return "truncated";
    case NM_ELABELTYPE: return "bad label type";
    case NM_EPTRFWD: return "compression pointer does not point backwards";
    case NM_EPTRLOOP: return "too many compression pointers (pointer loop)";
    case NM_ELABEL: return "label longer than 63 octets";
    case NM_ENAME: return "name longer than 255 octets";
    case NM_ERDLONG: return "rdata longer than its type needs";
    case NM_ERDSHORT: return "rdata shorter than its type needs";
    case NM_EOPT: return "misplaced or repeated OPT record";
    case NM_ENOMEM: return "out of memory";
    case NM_ETOOBIG: return "message too large";
    case NM_ESYNTAX: return "syntax error";
    case NM_EEMPTYLABEL: return "empty label";
    case NM_EVALUE: return "value out of range";
    case NM_ECOUNT: return "too many records";
    case NM_ECLOSED: return "closed";
    case NM_ETIMEOUT: return "timed out";
    case NM_ECANCELLED: return "cancelled";
    case NM_ERCODE: return "error response";
    case NM_ENOSERVER: return "no name servers";
    case NM_EIO: return "socket error";
    case NM_EBUSY: return "busy";
    case NM_ENOTFOUND: return "not found";
    default: return "unknown error";
    }
}
