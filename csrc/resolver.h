/* The resolver: which server to ask, when to ask again, what to believe.
 *
 * A query carries a list of timeouts (Twisted's default {1, 3, 11, 45}):
 * each value is one round over the servers, each try waiting that long.
 * An earlier try's socket keeps listening while the query lives, so a slow
 * server's late answer is still taken.  SERVFAIL, REFUSED and NOTIMP move
 * on to the next server as a timeout does, and that server is not asked
 * again by this query; the outcome of the last try is reported when all
 * fail.  A server that answers FORMERR, NOTIMP or BADVERS to EDNS is asked
 * again at once without it, and remembered.  TC=1 over UDP asks the same
 * server over TCP.  Identical queries in flight share one exchange; at
 * most max_inflight exchanges are on the wire, the rest wait in order.
 * UDP sockets (bound to random ports) serve up to udp_max_queries queries
 * each and close when the resolver has nothing in flight.
 *
 * Callbacks run from libuv callbacks (or from nm_query_cancel), after the
 * exchange has left every index: they may cancel, start new queries or
 * close the resolver.
 */
#ifndef NAMES_RESOLVER_H
#define NAMES_RESOLVER_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "addr.h"
#include "clock.h"
#include "lists.h"
#include "message.h"
#include "transport.h"

#define NM_MAX_TIMEOUTS 16
#define NM_MAX_SERVERS_ASKED 32

typedef struct nm_resolver nm_resolver;
typedef struct nm_query nm_query;

typedef struct nm_resolver_options {
    double timeouts[NM_MAX_TIMEOUTS]; /* seconds; one round over the servers each */
    int ntimeouts;
    uint16_t edns_size;  /* advertised UDP size; 0 sends no EDNS */
    uint8_t use_tcp;     /* every query over TCP (resolv.conf use-vc) */
    uint8_t rotate;      /* start each query at the next server */
    uint8_t dns0x20;     /* random case in the question, checked in the reply */
    uint8_t recurse;     /* RD */
    int max_inflight;    /* exchanges on the wire at once */
    int udp_max_queries; /* queries a UDP socket sends before it is retired */
    int tcp_idle_ms;     /* an idle TCP connection closes after this */
    int udp_idle_ms;     /* a UDP socket idle this long is replaced by the next
                          * query (a closed resolver closes it); 0: sockets
                          * close whenever nothing is in flight */
} nm_resolver_options;

enum nm_query_flags {
    NM_Q_TCP = 1,       /* over TCP from the start */
    NM_Q_DNSSEC = 2,    /* set the DO bit */
    NM_Q_NORECURSE = 4, /* clear RD */
    NM_Q_CD = 8,        /* set CD */
    NM_Q_XFR = 16,      /* a zone transfer: TCP, every message until the closing SOA */
    NM_Q_ALONE = 32     /* never share an exchange with an identical query */
};

typedef struct nm_query_options {
    const double *timeouts; /* NULL: the resolver's */
    int ntimeouts;
    int flags;
} nm_query_options;

/* What became of a try: NM_OUT_<name>, and the name Lua reads. */
#define NM_OUTCOME_LIST(X) \
    X(PENDING, "pending")     /* sent; no reply (yet) */ \
    X(ANSWER, "answer")       /* the reply that settled the query */ \
    X(TIMEOUT, "timeout")     /* no reply in time (a late reply is still taken) */ \
    X(RCODE, "rcode")         /* SERVFAIL, REFUSED or NOTIMP: the next server was asked */ \
    X(TRUNCATED, "truncated") /* TC over UDP: asked again over TCP */ \
    X(NOEDNS, "noedns")       /* EDNS refused: asked again without it */ \
    X(NETERR, "error")        /* a socket error, see err */ \
    X(LATE, "late")           /* answered after its time, and that answer settled the query */

#define NM_OUTCOME_ENUM(name, text) NM_OUT_##name,
enum nm_outcome { NM_OUTCOME_LIST(NM_OUTCOME_ENUM) };
enum { NM_NOUTCOMES = 0 NM_OUTCOME_LIST(NM_LIST_COUNT) };
#undef NM_OUTCOME_ENUM

/* "pending", "answer", ...; "?" for no outcome. */
const char *nm_outcome_name(int outcome);

typedef struct nm_attempt {
    nm_addr addr;       /* the server asked */
    uint16_t server;    /* its index in the resolver's servers then (0xFFFF: none) */
    uint8_t transport;  /* its kind: NM_UDP, NM_TCP (transport.h) */
    uint8_t outcome;
    uint8_t edns;       /* whether the query carried EDNS */
    int16_t rcode;      /* of the reply, -1 without one */
    int err;            /* libuv error for NM_OUT_NETERR */
    uint32_t sent_ms;   /* since the query started */
    uint32_t took_ms;   /* until the outcome */
    uint16_t ignored;   /* messages dropped while it waited: its id with a wrong question
                         * or no QR or bad bytes, and any with an id nobody waited for */
} nm_attempt;

typedef struct nm_result {
    /* NM_OK: msg is the reply, whatever its rcode (the caller maps NXDOMAIN
     * and the rest).  NM_ERCODE: every server failed; msg is the last
     * failing reply.  NM_ETIMEOUT, NM_ECANCELLED, NM_EIO, NM_ENOSERVER,
     * NM_ENOMEM: msg is NULL. */
    int status;
    const nm_msg *msg;
    /* zone transfers: every message, in order (msg is the last) */
    const nm_msg *const *messages;
    int nmessages;
    const nm_attempt *attempts;
    int nattempts;
    const uint8_t *qname; /* as asked (lower case; wire form) */
    uint16_t qtype, qcls;
} nm_result;

typedef void (*nm_query_cb)(void *arg, const nm_result *res);

void nm_resolver_options_default(nm_resolver_options *o);
nm_resolver *nm_resolver_new(uv_loop_t *loop, const nm_resolver_options *o);
/* Replaces the server list (queries in flight keep the servers they had). */
int nm_resolver_set_servers(nm_resolver *r, const nm_addr *servers, int n);
int nm_resolver_nservers(const nm_resolver *r);
const nm_addr *nm_resolver_server(const nm_resolver *r, int i);
/* Cancels every query (callbacks run with NM_ECANCELLED), closes every
 * socket, and frees the resolver once libuv has let go of them; on_closed
 * runs then (it may be NULL). */
void nm_resolver_close(nm_resolver *r, void (*on_closed)(void *), void *arg);

/* Starts a query; NULL (and no callback) only when out of memory or
 * closed.  qname is wire form. */
nm_query *nm_resolver_query(nm_resolver *r, const uint8_t *qname, uint16_t type, uint16_t cls,
                            const nm_query_options *o, nm_query_cb cb, void *arg);
/* One message to one server and its reply, whatever it says: the low-level
 * protocols' query.  The message's id is replaced by a fresh one.  With
 * `via` the exchange uses that transport (a protocol's own port or
 * connection) instead of one of the resolver's of kind `transport`. */
typedef struct nm_exchange_options {
    const nm_addr *server;
    int transport;      /* a kind of transport.h (NM_UDP, NM_TCP) */
    double timeout;
    nm_transport *via;
} nm_exchange_options;
nm_query *nm_resolver_exchange(nm_resolver *r, const uint8_t *msg, size_t len,
                               const nm_exchange_options *o, nm_query_cb cb, void *arg);
/* Stops a query: its callback runs at once with NM_ECANCELLED, unless it
 * is already being answered (then this does nothing).  A query handle is
 * freed when its callback returns: never use it after that. */
void nm_query_cancel(nm_query *q);

/* The clock the resolver's deadlines run on (clock.h): NULL puts it back
 * on the loop's.  With a clock of the caller's, a deadline falls due only
 * when the caller moves the clock and then calls nm_resolver_clock_moved,
 * which runs what is due at once (callbacks included), as Twisted's
 * task.Clock.advance does.  Only while nothing is in flight: NM_EBUSY. */
int nm_resolver_set_clock(nm_resolver *r, const nm_clock *c);
void nm_resolver_clock_moved(nm_resolver *r);

/* Answers (NOERROR and NXDOMAIN) go into this cache as they arrive, timed
 * by the clock's seconds (uv_hrtime by default); NULL stops that.  The resolver holds the cache
 * (nm_cache_retain) until it is unset or the resolver is freed. */
struct nm_cache;
void nm_resolver_set_cache(nm_resolver *r, struct nm_cache *cache);

/* Counters, for tests and benchmarks. */
typedef struct nm_resolver_stats {
    uint64_t queries, exchanges, shared, queued_now, inflight_now;
    uint64_t sent[NM_NTRANSPORTS];   /* tries sent, per transport kind */
    uint64_t opened[NM_NTRANSPORTS]; /* sockets and connections opened, per kind */
    uint64_t sockets_open;           /* of every kind, open now */
    uint64_t dropped;    /* messages that answered nothing */
    uint64_t timers_now; /* exchanges with a deadline set */
} nm_resolver_stats;
void nm_resolver_stats_get(const nm_resolver *r, nm_resolver_stats *s);

#endif
