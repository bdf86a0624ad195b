/* DNS over HTTPS (RFC 8484): an HTTP/2 client session (nghttp2) on a TLS
 * stream of tls.h.  One nm_doh is one connection to one server; each query
 * is a stream of its own, so many are in flight at once and answered in any
 * order.  Queries go as POST with application/dns-message bodies, or as GET
 * with the message in base64url in the "dns" parameter (RFC 8484 4.1).  The
 * message id is the caller's: RFC 8484 4.1 asks for 0, the stream matches
 * the answer to its question.
 *
 * What a query can come to:
 *   NM_DOH_OK       200 with application/dns-message: body, len
 *   NM_DOH_EHTTP    another status (detail: it, e.g. 404, 500)
 *   NM_DOH_ECONTENT 200 with another content type, or a body over 65535
 *   NM_DOH_ERESET   the server reset or refused the stream (detail: the
 *                   HTTP/2 error code), or went away before answering it
 *   NM_DOH_EPROTO   the server broke HTTP/2 (a bad or truncated frame): the
 *                   connection is closed
 *   NM_DOH_ETLS     the TLS connection failed (detail: its nm_tls status;
 *                   nm_doh_error has the sentence)
 *   NM_DOH_ECLOSED  the connection was closed by its owner or the server
 *
 * No Lua headers here. */
#ifndef NAMES_DOH_H
#define NAMES_DOH_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "addr.h"
#include "tls.h"

enum nm_doh_status {
    NM_DOH_OK = 0,
    NM_DOH_EHTTP = -1,
    NM_DOH_ECONTENT = -2,
    NM_DOH_ERESET = -3,
    NM_DOH_EPROTO = -4,
    NM_DOH_ETLS = -5,
    NM_DOH_ECLOSED = -6,
    NM_DOH_ENOMEM = -7,
    NM_DOH_ETOOBIG = -8     /* a query over 65535 bytes */
};

const char *nm_doh_strstatus(int status);

typedef struct nm_doh nm_doh;

/* A query's end: called once, unless cancelled. */
typedef void (*nm_doh_cb)(void *arg, int status, int detail, const uint8_t *body, size_t len);

typedef struct nm_doh_hooks {
    void *owner;
    /* the connection can take no more queries (failed, the server went
     * away, or closed): status as for a query; may be NULL */
    void (*done)(void *owner, nm_doh *d, int status);
    /* memory released; d is only an identity now (may be NULL) */
    void (*freed)(void *owner, nm_doh *d);
    /* the TLS handshake is done and HTTP/2 may flow (may be NULL) */
    void (*ready)(void *owner, nm_doh *d);
} nm_doh_hooks;

typedef struct nm_doh_target {
    const nm_addr *peer;     /* where to connect */
    const char *authname;    /* the certificate's name and SNI (NULL: the address) */
    const char *authority;   /* :authority, "dns.example" or "dns.example:8443" */
    const char *path;        /* "/dns-query" */
    int use_get;
} nm_doh_target;

/* ctx must have been made with alpn "h2".  NULL with *err (libuv's code)
 * when the connection cannot even start. */
nm_doh *nm_doh_open(uv_loop_t *loop, nm_tls_ctx *ctx, const nm_doh_target *target,
                    unsigned handshake_ms, const nm_doh_hooks *hooks, int *err);
/* Sends msg (copied) and returns a handle for nm_doh_cancel (> 0), or a
 * negative NM_DOH_* when the connection cannot take it. */
int32_t nm_doh_query(nm_doh *d, const uint8_t *msg, size_t len, nm_doh_cb cb, void *arg);
/* No callback for that query afterwards; its stream is reset. */
void nm_doh_cancel(nm_doh *d, int32_t handle);
/* Queries still waiting are called back with NM_DOH_ECLOSED first; then
 * hooks->done does not run, only freed. Safe inside any callback. */
void nm_doh_close(nm_doh *d);
/* Whether new queries may go on this connection. */
int nm_doh_usable(const nm_doh *d);
int nm_doh_pending(const nm_doh *d);
/* The TLS connection under it (for its version, cipher, verification). */
nm_tls *nm_doh_tls(nm_doh *d);
/* A sentence for the connection's failure ("" when none). */
const char *nm_doh_error(const nm_doh *d);

/* RFC 4648 section 5 without padding, as RFC 8484 4.1 wants it; returns the
 * length written (out holds 4 * ceil(n / 3) + 1 bytes). */
size_t nm_base64url(const uint8_t *in, size_t n, char *out);

/* The HTTP/2 side alone, for the fuzz target: a client session that takes
 * bytes as if the server had sent them, with one POST stream open.  Returns
 * how many queries were answered (any status); never crashes. */
int nm_doh_fuzz_feed(const uint8_t *data, size_t len);

#endif
