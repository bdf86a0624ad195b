/* Transports on libuv: the interface the resolver sees, and its registry.
 *
 * A transport sends queries and hands back only the replies that answer
 * them: a reply must come from the address the query went to, carry the
 * id that was sent, have QR set, parse, and repeat the question that was
 * asked (a zone transfer's messages after the first may omit it, RFC 5936).
 * Everything else is dropped and counted: on the query it pretended to
 * answer, or, with an id nobody waits for, on every query waiting on that
 * transport then.  Time is not the transports' business: the resolver
 * decides when to stop waiting (resolver.c).
 *
 * Memory libuv touches (the handles, the write requests) is malloc'd here;
 * a transport is freed from its close callback, never before.
 */
#ifndef NAMES_TRANSPORT_H
#define NAMES_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "addr.h"
#include "message.h"
#include "random.h"

typedef struct nm_transport nm_transport;
typedef struct nm_transport_ops nm_transport_ops;
typedef struct nm_udp nm_udp;
typedef struct nm_tcp nm_tcp;
typedef struct nm_pending nm_pending;

/* Every transport, once: its kind (an index), its name (what the binding
 * and the attempts' reports call it) and its table of operations.  A new
 * transport is one file defining its nm_transport_ops and one line here. */
#define NM_TRANSPORT_LIST(X) \
    X(NM_UDP, "udp", nm_udp_ops) \
    X(NM_TCP, "tcp", nm_tcp_ops) \
    X(NM_TLS, "tls", nm_dot_ops) \
    X(NM_HTTPS, "https", nm_https_ops)

#define NM_TRANSPORT_KIND(kind, name, ops) kind,
enum nm_transport_kind { NM_TRANSPORT_LIST(NM_TRANSPORT_KIND) NM_NTRANSPORTS };
#undef NM_TRANSPORT_KIND

/* A reply (status NM_OK, msg parsed and checked) or the end of the
 * exchange's chance on this transport (NM_EIO: a socket error or the
 * connection closed; err holds libuv's code). */
typedef void (*nm_reply_cb)(nm_pending *p, int status, const nm_msg *msg, int err);

/* One query waiting on a transport.  The owner fills id, the question,
 * sent/sentlen, to, cb and owner; the transport fills the rest. */
struct nm_pending {
    uint16_t id;
    uint8_t case_sensitive; /* 0x20: the question must match byte for byte */
    uint8_t stream;         /* a stream: keep it after a reply (zone transfers) */
    /* The query carried an OPT record: a FORMERR or NOTIMP without the
     * question may be the server refusing EDNS (and is taken for nothing
     * else).  Direct exchanges (qname NULL) take such replies as they
     * come. */
    uint8_t edns;
    /* The question a reply must repeat: qname (uncompressed wire form),
     * qtype, qcls.  With qname NULL the reply must repeat the questions of
     * `sent`, which then stays valid while the query waits (a message of
     * the caller's); otherwise `sent` need only live through the send call
     * (the transport copies what it keeps). */
    const uint8_t *qname;
    uint16_t qtype, qcls;
    const uint8_t *sent;
    size_t sentlen;
    const nm_addr *to;
    /* The client cookie sent (RFC 7873, 8 octets), or NULL: a reply with
     * a COOKIE option that does not start with it is dropped as a spoof. */
    const uint8_t *cookie;
    nm_reply_cb cb;
    void *owner;
    /* Replies dropped as not answering this query: its id with a wrong
     * question, no QR or bad bytes, plus every message on its transport
     * that answered no query at all (a wrong id) while it waited.  Final
     * once the query has left the transport. */
    uint16_t ignored;
    /* the transport's */
    uint8_t answered;       /* a stream had its first message */
    uint8_t reused;         /* a stream: its connection had answered something (at send; at close) */
    uint32_t unmatched_at;  /* the transport's count of unmatched messages at send */
    uint32_t outslot;       /* UDP batching: 1 + its place in the queue to send, or 0 */
    nm_transport *via;      /* the transport it waits on; NULL once it left */
};

/* Why transports drop datagrams, counted on the transport. */
typedef struct nm_drop_stats {
    uint32_t unknown_id, bad_source, malformed, wrong_question, not_response, bad_cookie;
} nm_drop_stats;

/* Hooks into the owner (the resolver). */
typedef struct nm_transport_hooks {
    void *owner;
    /* the transport's handles are closed and its memory freed: `transport`
     * is only an identity now, to forget */
    void (*closed)(void *owner, void *transport);
    /* a datagram or TCP message nobody waits for: for protocols that also
     * serve requests (may be NULL) */
    void (*unsolicited)(void *owner, void *transport, const uint8_t *msg, size_t len,
                        const struct sockaddr *from);
    /* TCP: the connection is open (status 0) or could not be (may be NULL) */
    void (*connected)(void *owner, void *transport, int status);
    /* counts every message dropped (may be NULL) */
    uint64_t *dropped;
} nm_transport_hooks;

/* The receive buffer a transport reads into, shared by an owner's
 * transports (replies are handled before the next read): chunks of
 * NM_RX_CHUNK bytes, one datagram each, read with one recvmmsg when there
 * are several.  Allocated on first use; nm_rxbuf_free when the last
 * transport using it has closed. */
#define NM_RX_CHUNK 65536
typedef struct nm_rxbuf {
    char *data;
    size_t len;
    int chunks;
} nm_rxbuf;
void nm_rxbuf_init(nm_rxbuf *rx, int chunks);
/* The buffer for libuv's alloc callback (len 0 when out of memory). */
void nm_rxbuf_get(nm_rxbuf *rx, uv_buf_t *buf);
void nm_rxbuf_free(nm_rxbuf *rx);

/* ---- the interface every transport gives the resolver */

struct nm_tls_ctx;

/* An encrypted transport's server (DNS over TLS, DNS over HTTPS). */
typedef struct nm_secure {
    struct nm_tls_ctx *ctx;  /* trust settings (tls.h); the holder keeps a reference */
    char authname[256];      /* the name the certificate must carry; "": the address */
    char authority[300];     /* DoH: the URL's host[:port], sent as :authority */
    char path[300];          /* DoH: the URL's path, "/dns-query" */
    int use_get;             /* DoH: GET with ?dns= rather than POST */
    unsigned handshake_ms;   /* a bound on the TLS handshake */
} nm_secure;

/* Errors of the encrypted transports, in the err of a failed query beside
 * libuv's (which are above -4096): a TLS status (tls.h), a DoH status
 * (doh.h), an HTTP status.  nm_transport_strerror names any of them. */
#define NM_ERR_TLS(status) (-7000 + (status))
#define NM_ERR_DOH(status) (-7100 + (status))
#define NM_ERR_HTTP(code) (-8000 - (code))
const char *nm_transport_strerror(int err, char *buf, size_t cap);
/* The TLS stream under a tls or https transport (NULL for another kind). */
struct nm_tls;
struct nm_tls *nm_dot_tls(nm_transport *t);
struct nm_tls *nm_https_tls(nm_transport *t);

/* What opening a transport needs; each kind takes what concerns it. */
typedef struct nm_transport_config {
    uv_loop_t *loop;
    const nm_addr *peer;     /* the server; NULL: none (a UDP port answering anyone) */
    const nm_addr *bind_to;  /* the local address; NULL: a random port (UDP) */
    nm_random *rnd;          /* for that random port (may be NULL with bind_to) */
    nm_rxbuf *rx;
    const nm_transport_hooks *hooks;
    /* After this many queries the transport takes no more (usable says 0)
     * and the owner opens another; 0: no limit.  UDP's source ports keep
     * changing this way (c-ares' udp_max_queries). */
    uint32_t max_queries;
    /* Queries sent in one loop callback go out together on the loop's
     * next turn (UDP: one sendmmsg); a failure to send then reaches the
     * query's callback.  Without it each query is sent at once. */
    int batch;
    int idle_ms;             /* a stream closes after this long with nothing to do */
    const nm_secure *secure; /* tls and https: the server's settings (copied) */
} nm_transport_config;

struct nm_transport_ops {
    const char *name;        /* "udp", "tcp": as the binding names it */
    int kind;                /* its place in NM_TRANSPORT_LIST */
    /* A byte stream (messages framed by stream_frame.h): never truncated,
     * its connection kept while idle, and a query lost with a connection
     * that had answered before is asked again on a new one (RFC 7766
     * 6.2.1).  A datagram transport is the opposite on each point. */
    int stream;
    nm_transport *(*open)(const nm_transport_config *c, int *err);
    /* Sends p's query (or queues it: the connection may still be opening,
     * or batching) and waits for its reply.  NM_EIO with *err on failure. */
    int (*send)(nm_transport *t, nm_pending *p, int *err);
    /* Stops waiting for p (p->via is t). */
    void (*forget)(nm_pending *p);
    /* Whether id is free, so that a reply cannot be mistaken. */
    int (*id_free)(const nm_transport *t, uint16_t id);
    /* Queries waiting on it. */
    int (*pending)(const nm_transport *t);
    /* Whether it takes more queries (not closing, not retired). */
    int (*usable)(const nm_transport *t);
    /* Closes it; hooks->closed runs when libuv is done with it.  Waiting
     * queries get NM_EIO with UV_ECANCELED first.  Again: nothing. */
    void (*close)(nm_transport *t);
    /* Whether its connection is up: for an encrypted one, its handshake
     * done (RFC 8310's opportunistic profile falls back to clear text when
     * a try times out before that).  NULL: a transport always up. */
    int (*established)(const nm_transport *t);
};

/* The head of every transport's struct. */
struct nm_transport {
    const nm_transport_ops *ops;
};

/* Each kind's table, defined in its own file (udp.c, tcp.c). */
#define NM_TRANSPORT_DECLARE(kind, name, ops) extern const nm_transport_ops ops;
NM_TRANSPORT_LIST(NM_TRANSPORT_DECLARE)
#undef NM_TRANSPORT_DECLARE

/* The registry: the table of a kind, or -1 for a name no transport has. */
const nm_transport_ops *nm_transport_ops_of(int kind);
int nm_transport_find(const char *name);
const char *nm_transport_name(int kind);
nm_transport *nm_transport_open(int kind, const nm_transport_config *c, int *err);

static inline int nm_transport_send(nm_transport *t, nm_pending *p, int *err)
{
    return t->ops->send(t, p, err);
}

/* p stops waiting on whatever transport it waits on, if any. */
static inline void nm_transport_forget(nm_pending *p)
{
    if (p->via) p->via->ops->forget(p);
}

static inline int nm_transport_id_free(const nm_transport *t, uint16_t id)
{
    return t->ops->id_free(t, id);
}

static inline int nm_transport_pending(const nm_transport *t)
{
    return t->ops->pending(t);
}

static inline int nm_transport_usable(const nm_transport *t)
{
    return t->ops->usable(t);
}

static inline void nm_transport_close(nm_transport *t)
{
    t->ops->close(t);
}

/* ---- what only one kind has (the low-level protocols' ports and
 * connections); each takes a transport of its kind only */

/* The UDP transport under t, or NULL when t is another kind. */
nm_udp *nm_udp_of(nm_transport *t);
nm_tcp *nm_tcp_of(nm_transport *t);
/* Sends a datagram that expects no reply (a protocol answering). */
int nm_udp_send_raw(nm_udp *u, const uint8_t *msg, size_t len, const nm_addr *to);
uint16_t nm_udp_port(const nm_udp *u);
const nm_drop_stats *nm_udp_drops(const nm_udp *u);

/* TCP: the first connection sets SIGPIPE to be ignored, unless the program
 * gave it a disposition of its own (libuv writes with writev: a server
 * that closes its end would otherwise kill the process).
 * Writes a message that expects no reply (a protocol answering). */
int nm_tcp_write_raw(nm_tcp *t, const uint8_t *msg, size_t len);

#endif
