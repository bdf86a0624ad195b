/* Fuzzes DNS over TLS framing (stream_frame.h, as dot.c uses it): the
 * plaintext of a TLS connection arrives in pieces cut wherever TLS records
 * end.  The input's first bytes choose the cuts; the rest is the stream.
 * Whatever the cuts, the messages handed on are the same, in the same
 * order, as when the stream comes in one piece: same lengths, same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "stream_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seen {
    uint64_t hash;  /* of every message, in order */
    size_t count, bytes;
} seen;

static int on_message(void *arg, const uint8_t *msg, size_t len)
{
    seen *s = arg;
    s->count++;
    s->bytes += len;
    s->hash = s->hash * 1099511628211u + len;
    for (size_t i = 0; i < len; i++) s->hash = (s->hash ^ msg[i]) * 1099511628211u;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4 || size > 1 << 18) return 0;
    unsigned ncuts = data[0] % 16;
    if (size < 1 + 2 * ncuts) return 0;
    const uint8_t *cuts = data + 1;
    const uint8_t *stream = data + 1 + 2 * ncuts;
    size_t len = size - 1 - 2 * ncuts;

    nm_frame_reader whole, pieces;
    seen a = {14695981039346656037u, 0, 0}, b = {14695981039346656037u, 0, 0};
    memset(&whole, 0, sizeof whole);
    memset(&pieces, 0, sizeof pieces);
    if (nm_frame_feed(&whole, stream, len, on_message, &a) != NM_OK) abort();

    /* the stream in pieces: each cut a length of 0..65535, what is left last */
    size_t at = 0;
    for (unsigned i = 0; i < ncuts && at < len; i++) {
        size_t n = (size_t)cuts[2 * i] << 8 | cuts[2 * i + 1];
        if (n > len - at) n = len - at;
        /* a copy of exactly the piece: a read past it is ASan's to see */
        uint8_t *piece = malloc(n ? n : 1);
        if (!piece) abort();
        memcpy(piece, stream + at, n);
        if (nm_frame_feed(&pieces, piece, n, on_message, &b) != NM_OK) abort();
        free(piece);
        at += n;
    }
    if (nm_frame_feed(&pieces, stream + at, len - at, on_message, &b) != NM_OK) abort();
    if (a.count != b.count || a.bytes != b.bytes || a.hash != b.hash) abort();
    if (whole.len != pieces.len) abort();
    nm_frame_reader_free(&whole);
    nm_frame_reader_free(&pieces);
    return 0;
}
