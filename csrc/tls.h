/* A TLS client stream on a libuv TCP connection, with OpenSSL working
 * through memory BIOs so that the loop stays libuv's (no socket of
 * OpenSSL's, no blocking call).  One nm_tls is one connection; the
 * nm_tls_ctx it comes from holds the trust settings shared by a resolver's
 * connections and the sessions kept for resumption.
 *
 * Authentication follows RFC 8310's two profiles:
 *  - strict: the server's chain must lead to a trusted CA and name the
 *    authentication name (or, without one, the server's IP address), or,
 *    when SPKI pins are set (RFC 7858 4.2), some certificate of the chain
 *    must carry a pinned key; otherwise the connection fails before a byte
 *    of DNS is written, with the reason (expired, wrong name, unknown CA,
 *    pin mismatch);
 *  - opportunistic: the same checks are made and their outcome recorded
 *    (nm_tls_verified, nm_tls_error), but the connection is used anyway.
 *
 * The handshake has a time bound: when it has not finished handshake_ms
 * after the connect began, the connection fails with NM_TLS_ETIMEOUT.
 *
 * No Lua headers here: the core stays usable from C alone. */
#ifndef NAMES_TLS_H
#define NAMES_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "addr.h"

/* Why a TLS connection failed (or, opportunistic, what its check found). */
enum nm_tls_status {
    NM_TLS_OK = 0,
    NM_TLS_ECONNECT = -1,   /* TCP connect failed */
    NM_TLS_ETIMEOUT = -2,   /* the handshake did not finish in time */
    NM_TLS_EEXPIRED = -3,   /* a certificate of the chain expired (or is not yet valid) */
    NM_TLS_ENAME = -4,      /* the certificate names neither the authentication name nor the address */
    NM_TLS_EUNKNOWNCA = -5, /* the chain does not lead to a trusted CA (self-signed included) */
    NM_TLS_EPIN = -6,       /* no certificate of the chain carries a pinned key */
    NM_TLS_ECERT = -7,      /* another certificate problem (bad signature, revoked, purpose...) */
    NM_TLS_EHANDSHAKE = -8, /* the handshake failed otherwise (an alert, no common protocol) */
    NM_TLS_ECLOSED = -9,    /* the server closed the connection */
    NM_TLS_EIO = -10,       /* a socket error, or a TLS error after the handshake */
    NM_TLS_EALPN = -11,     /* the server did not agree to the application protocol asked */
    NM_TLS_ENOMEM = -12
};

/* "certificate expired", "wrong name", ...; never NULL. */
const char *nm_tls_strstatus(int status);

typedef struct nm_tls_ctx nm_tls_ctx;
typedef struct nm_tls nm_tls;

typedef struct nm_tls_config {
    int strict;              /* 1: RFC 8310 strict; 0: opportunistic */
    const char *ca_file;     /* PEM bundle; NULL with ca_path NULL: the system store */
    const char *ca_path;     /* a hashed directory (c_rehash) */
    const char *const *pins; /* base64 SHA-256 of SubjectPublicKeyInfo, npins of them */
    size_t npins;
    const char *alpn;        /* "dot", "h2", or NULL for none */
} nm_tls_config;

/* NULL on failure, with a message in err (a CA file that cannot be read,
 * a pin that is not 32 bytes of base64). */
nm_tls_ctx *nm_tls_ctx_new(const nm_tls_config *cfg, char *err, size_t errlen);
/* Connections made from ctx keep it alive: it is freed when the last of
 * them has been freed. */
void nm_tls_ctx_free(nm_tls_ctx *ctx);

typedef struct nm_tls_hooks {
    void *owner;
    /* The handshake is done and the server authenticated as the profile
     * requires: data written so far goes out now. */
    void (*ready)(void *owner, nm_tls *t);
    /* Plaintext from the server, in whatever pieces TLS records give. */
    void (*data)(void *owner, nm_tls *t, const uint8_t *p, size_t n);
    /* The connection is over (before or after ready): status says why
     * (NM_TLS_ECLOSED for a server that closed after the handshake).
     * Nothing more arrives; the handles are closing. */
    void (*failed)(void *owner, nm_tls *t, int status);
    /* Memory released: t is only an identity now (may be NULL). */
    void (*freed)(void *owner, nm_tls *t);
} nm_tls_hooks;

/* Starts a connection to peer.  authname: the name to check the
 * certificate against (and to send as SNI), or NULL to check the peer's
 * address.  *err holds libuv's code when NULL is returned. */
nm_tls *nm_tls_open(uv_loop_t *loop, nm_tls_ctx *ctx, const nm_addr *peer, const char *authname,
                    unsigned handshake_ms, const nm_tls_hooks *hooks, int *err);
/* Queues plaintext (sent once the handshake is done).  NM_TLS_EIO when the
 * connection has failed or is closing, NM_TLS_ENOMEM. */
int nm_tls_write(nm_tls *t, const uint8_t *p, size_t n);
/* Closes (a close_notify when the handshake was done); no hook but freed
 * runs afterwards.  Safe to call from any hook, and again. */
void nm_tls_close(nm_tls *t);

/* Whether the connection holds the loop open (by default it does); an
 * idle one need not. */
void nm_tls_ref(nm_tls *t, int ref);
/* Another holder of ctx (nm_tls_ctx_free drops one). */
void nm_tls_ctx_ref(nm_tls_ctx *ctx);

/* The handshake finished and the connection may carry data. */
int nm_tls_is_ready(const nm_tls *t);
/* 1 when the server was authenticated (chain and name, or a pin). */
int nm_tls_verified(const nm_tls *t);
/* The status of the last failure or, opportunistic, of the check that did
 * not pass (NM_TLS_OK when it did). */
int nm_tls_check_status(const nm_tls *t);
/* A sentence for the last failure or failed check ("certificate has
 * expired (depth 0)", "tlsv1 alert protocol version"); "" when none. */
const char *nm_tls_error(const nm_tls *t);
/* The session was resumed from an earlier connection to the same server. */
int nm_tls_resumed(const nm_tls *t);
/* "TLSv1.3", the cipher, the negotiated ALPN ("" when none) */
const char *nm_tls_version(const nm_tls *t);
const char *nm_tls_cipher(const nm_tls *t);
const char *nm_tls_alpn(const nm_tls *t);
/* What a connection's handshake came to, copied out. */
typedef struct nm_tls_info {
    int verified, check_status, resumed;
    char version[16], cipher[64], alpn[32], error[200];
} nm_tls_info;
void nm_tls_get_info(const nm_tls *t, nm_tls_info *out);
/* Bytes queued to the socket and not yet written. */
size_t nm_tls_backlog(const nm_tls *t);

#endif
