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
#define NM_ERROR_TEXT(name, code, text) \
    case NM_##name: return text;
        NM_ERROR_LIST(NM_ERROR_TEXT)
#undef NM_ERROR_TEXT
    default: return "unknown error";
    }
}

const char *nm_error_name(int err)
{
    switch (err) {
#define NM_ERROR_NAME(name, code, text) \
    case NM_##name: return #name;
        NM_ERROR_LIST(NM_ERROR_NAME)
#undef NM_ERROR_NAME
    default: return "EUNKNOWN";
    }
}
