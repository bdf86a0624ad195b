/* DNS messages over a byte stream (RFC 1035 4.2.2, RFC 7766 8): each
 * message preceded by its length in two octets.  The reader gathers whole
 * messages out of reads of any size; the writer frames one message.  TCP
 * uses both today; a TLS stream reads and writes the same frames inside
 * its session. */
#ifndef NAMES_STREAM_FRAME_H
#define NAMES_STREAM_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define NM_FRAME_PREFIX 2

/* Bytes read and not yet a whole message.  Zeroed to start. */
typedef struct nm_frame_reader {
    uint8_t *acc;
    size_t len;
} nm_frame_reader;

/* Called with each whole message; returns nonzero to stop (the stream
 * closed under it: the reader is then left as it is, to be freed). */
typedef int (*nm_frame_cb)(void *arg, const uint8_t *msg, size_t len);

/* Adds n bytes read and hands on every message they complete.  NM_OK;
 * NM_ENOMEM (nothing handed on); or 1 when a callback stopped it.  A
 * message is at most 65535 + 2 bytes, so what is kept never grows past
 * that plus one read. */
int nm_frame_feed(nm_frame_reader *fr, const uint8_t *data, size_t n, nm_frame_cb cb, void *arg);
void nm_frame_reader_free(nm_frame_reader *fr);

/* Writes the frame of msg (len <= 65535) into out, which holds
 * len + NM_FRAME_PREFIX bytes; returns that size. */
size_t nm_frame_put(uint8_t *out, const uint8_t *msg, size_t len);

#endif
