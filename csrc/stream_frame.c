#include "stream_frame.h"

#include <stdlib.h>
#include <string.h>

#include "wire.h"

int nm_frame_feed(nm_frame_reader *fr, const uint8_t *data, size_t n, nm_frame_cb cb, void *arg)
{
    size_t at = 0;
    uint8_t *acc = realloc(fr->acc, fr->len + n);
    if (!acc) return NM_ENOMEM;
    fr->acc = acc;
    memcpy(fr->acc + fr->len, data, n);
    fr->len += n;
    while (fr->len - at >= NM_FRAME_PREFIX) {
        size_t len = nm_get16(fr->acc + at);
        if (fr->len - at - NM_FRAME_PREFIX < len) break;
        if (cb(arg, fr->acc + at + NM_FRAME_PREFIX, len)) return 1;
        at += NM_FRAME_PREFIX + len;
    }
    memmove(fr->acc, fr->acc + at, fr->len - at);
    fr->len -= at;
    return NM_OK;
}

void nm_frame_reader_free(nm_frame_reader *fr)
{
    free(fr->acc);
    fr->acc = NULL;
    fr->len = 0;
}

size_t nm_frame_put(uint8_t *out, const uint8_t *msg, size_t len)
{
    out[0] = (uint8_t)(len >> 8);
    out[1] = (uint8_t)len;
    memcpy(out + NM_FRAME_PREFIX, msg, len);
    return len + NM_FRAME_PREFIX;
}
