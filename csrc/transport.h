/* UDP and TCP transports on libuv.
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

typedef struct nm_udp nm_udp;
typedef struct nm_tcp nm_tcp;
typedef struct nm_pending nm_pending;

/* A reply (status NM_OK, msg parsed and checked) or the end of the
 * exchange's chance on this transport (NM_EIO: a socket error or the
 * connection closed; err holds libuv's code). */
typedef void (*nm_reply_cb)(nm_pending *p, int status, const nm_msg *msg, int err);

/* One query waiting on a transport.  The owner fills id, the question,
 * sent/sentlen, to, cb and owner; the transport fills the rest. */
struct nm_pending {
    uint16_t id;
    uint8_t case_sensitive; /* 0x20: the question must match byte for byte */
    uint8_t stream;         /* TCP: keep it after a reply (zone transfers) */
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
    nm_reply_cb cb;
    void *owner;
    /* Replies dropped as not answering this query: its id with a wrong
     * question, no QR or bad bytes, plus every message on its transport
     * that answered no query at all (a wrong id) while it waited.  Final
     * once the query has left the transport. */
    uint16_t ignored;
    /* the transport's */
    uint8_t answered;       /* a stream had its first message */
    uint8_t reused;         /* TCP: its connection had answered something (at send; at close) */
    uint32_t unmatched_at;  /* the transport's count of unmatched messages at send */
    uint32_t outslot;       /* UDP batching: 1 + its place in the queue to send, or 0 */
    nm_udp *udp;
    nm_tcp *tcp;
};

/* Why transports drop datagrams, counted on the transport. */
typedef struct nm_drop_stats {
    uint32_t unknown_id, bad_source, malformed, wrong_question, not_response;
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

/* ---- UDP */

/* Opens a socket bound to a random port (bind_to NULL) or the given one,
 * connected to peer when peer is not NULL. */
nm_udp *nm_udp_open(uv_loop_t *loop, const nm_addr *peer, const nm_addr *bind_to,
                    nm_random *rnd, nm_rxbuf *rx, const nm_transport_hooks *hooks, int *err);
/* Queries sent from now on wait for the loop's next turn and go out
 * together, with one sendmmsg (a loop callback that starts many queries
 * pays one system call, not one each); a failure to send then reaches the
 * query's callback.  Without it each query is sent at once. */
void nm_udp_batch(nm_udp *u, int on);
/* Makes room for n queries waiting at once (an optimisation only). */
void nm_udp_reserve(nm_udp *u, uint32_t n);
/* Whether id is free on this socket. */
int nm_udp_id_free(const nm_udp *u, uint16_t id);
/* Sends p's query (or queues it, batching) and waits for its reply.
 * NM_EIO with *err on failure. */
int nm_udp_send(nm_udp *u, nm_pending *p, int *err);
/* Stops waiting for p. */
void nm_udp_forget(nm_pending *p);
/* Sends a datagram that expects no reply (a protocol answering). */
int nm_udp_send_raw(nm_udp *u, const uint8_t *msg, size_t len, const nm_addr *to);
int nm_udp_pending(const nm_udp *u);
uint32_t nm_udp_sent(const nm_udp *u);
uint16_t nm_udp_port(const nm_udp *u);
const nm_drop_stats *nm_udp_drops(const nm_udp *u);
/* Closes the socket; hooks->closed runs when libuv is done with it.
 * Waiting queries get NM_EIO with UV_ECANCELED first. */
void nm_udp_close(nm_udp *u);

/* ---- TCP
 *
 * The first connection sets SIGPIPE to be ignored, unless the program gave
 * it a disposition of its own (libuv writes with writev: a server that
 * closes its end would otherwise kill the process). */

nm_tcp *nm_tcp_open(uv_loop_t *loop, const nm_addr *peer, int idle_ms, nm_rxbuf *rx,
                    const nm_transport_hooks *hooks, int *err);
int nm_tcp_id_free(const nm_tcp *t, uint16_t id);
/* Queues p's query (the connection may still be opening: a copy is
 * written once connected); replies come in any order. */
int nm_tcp_send(nm_tcp *t, nm_pending *p, int *err);
void nm_tcp_forget(nm_pending *p);
int nm_tcp_pending(const nm_tcp *t);
/* Whether the connection can take more queries (not failed or closing). */
int nm_tcp_usable(const nm_tcp *t);
void nm_tcp_close(nm_tcp *t);
/* Writes a message that expects no reply (a protocol answering). */
int nm_tcp_write_raw(nm_tcp *t, const uint8_t *msg, size_t len);

#endif
