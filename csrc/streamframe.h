/* DNS messages on a byte stream, each after a two-octet length (RFC 1035
 * 4.2.2, RFC 7858 for TLS): bytes go in in whatever pieces the stream (or
 * TLS records) delivers, whole messages come out.
 *
 * A message of length 0 is a framing error: no DNS message is that short,
 * and a peer sending one is not speaking DNS. */
#ifndef NAMES_STREAMFRAME_H
#define NAMES_STREAMFRAME_H

#include <stddef.h>
#include <stdint.h>

typedef struct nm_sframe {
    uint8_t *buf;     /* the message being gathered, up to 65535 bytes */
    size_t have;      /* bytes of it so far */
    size_t want;      /* its length, once both length octets came */
    uint8_t lenbuf[2];
    int nlen;         /* length octets seen (0, 1, 2) */
    size_t cap;
} nm_sframe;

/* Called for each whole message; a non-zero return stops nm_sframe_feed
 * (the owner closed the stream) and is returned from it. */
typedef int (*nm_sframe_cb)(void *arg, const uint8_t *msg, size_t len);

void nm_sframe_init(nm_sframe *f);
/* NM_OK, the callback's stop value, NM_ENOMEM, or NM_ESYNTAX for a
 * zero length. */
int nm_sframe_feed(nm_sframe *f, const uint8_t *p, size_t n, nm_sframe_cb cb, void *arg);
/* Whether part of a message is waiting for the rest. */
int nm_sframe_partial(const nm_sframe *f);
void nm_sframe_free(nm_sframe *f);

/* Writes the two length octets for a message of len bytes (len <= 65535). */
void nm_sframe_prefix(uint8_t out[2], size_t len);

#endif
