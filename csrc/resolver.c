#include "resolver.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "edns.h"
#include "name.h"
#include "random.h"
#include "tls_provider.h"

/* The TLS contexts are the provider's (tls_provider.h): one exists only
 * when the provider does. */
static void tls_ctx_free(nm_tls_ctx *ctx)
{
    if (ctx) nm_tls_provider_get()->ctx_free(ctx);
}

/* Datagrams read with one system call: libuv's most (64 KiB of buffer
 * each, touched only as far as the datagrams go). */
#define RX_CHUNKS 20

/* ------------------------------------------------------------------ types */

typedef struct server {
    nm_addr addr;
    /* per transport: the socket or connection new queries go out on; NULL
     * until needed, and after it closed */
    nm_transport *conn[NM_NTRANSPORTS];
    uint64_t used[NM_NTRANSPORTS]; /* when a query last went out on it (ms) */
    uint8_t no_edns;  /* it refused EDNS once: ask it plainly from now on */
    int kind;         /* NM_UDP (UDP, TCP on truncation), or NM_TLS, NM_HTTPS only */
    nm_secure sec;    /* for NM_TLS and NM_HTTPS (its ctx referenced) */
    nm_tls_info tls;  /* its last connection's handshake, when has_tls */
    int has_tls;
    /* RFC 7873: our cookie for this server (made on first use) and the
     * server's cookie for us, as it last sent it */
    uint8_t client_cookie[8];
    uint8_t server_cookie[32];
    uint8_t server_cookie_len;
    uint8_t has_client_cookie;
    /* opportunistic (RFC 8310 5): an encrypted server's clear-text twin,
     * the same address on port 53, asked when encryption failed */
    nm_addr clear_addr;
    uint8_t fell_back;
    int refs;         /* live exchanges that may still ask it */
    int retired;      /* replaced by set_servers: freed when refs drop to 0 */
} server;

typedef struct exchange exchange;

/* Deadlines wait in FIFO queues, one per timeout length: the clock only
 * moves forward, so each queue is in deadline order and the earliest
 * deadline is at one of the heads (O(1) to add and remove, where a heap
 * took O(log n)).  Lengths beyond NQUEUES in use at once share the last
 * queue, kept in order by insertion from its tail. */
#define NQUEUES 8
typedef struct tqueue {
    uint64_t ms;
    exchange *head, *tail;
} tqueue;

/* One try: a query on one transport to one server, listening until the
 * exchange ends (a zone transfer's only until the next try). */
typedef struct attempt {
    nm_attempt pub;
    nm_pending pending;
    exchange *ex;
    server *srv;
    nm_transport *sent_on; /* the transport it went out on, until it left it */
    struct attempt *next;  /* the tries in order, from the exchange's first */
} attempt;

enum { QUEUED, ACTIVE };

struct exchange {
    nm_resolver *r;
    int state;
    uint16_t qtype, qcls;
    int flags;
    int ntimeouts;
    /* policy */
    int nservers;
    int round, pos;
    int ntries, maxtries;
    attempt *current;  /* the try whose timeout runs */
    attempt *last;     /* the newest try */
    uint64_t start_ms, deadline;
    int tq;            /* the timeout queue it waits in, -1 when none */
    exchange *tnext, *tprev;
    int finish_later;  /* a status to report from the timer (never from inside the API) */
    int badcookie_retried; /* one retry after BADCOOKIE, no more */
    int clear_fallback;    /* opportunistic: asked in clear after encryption failed */
    uint8_t *last_error; /* the last SERVFAIL-like reply, kept for the end */
    size_t last_error_len;
    /* low-level exchanges: one message, one server, any reply */
    uint8_t *direct;
    size_t directlen;
    nm_transport *via;  /* a protocol's own port or connection, or NULL */
    int transport;      /* the kind asked for (an exchange's; a query's follows its flags) */
    /* zone transfers */
    uint8_t **xfr;
    size_t *xfrlen;
    int nxfr, capxfr, soas;
    /* who waits */
    nm_query *subs;
    uint32_t hash;
    exchange *hnext;            /* sharing index chain */
    exchange *qnext, *qprev;    /* the queue of exchanges waiting to start */
    exchange *anext, *aprev;    /* every exchange, for close */
    size_t namelen;
    /* Above: zeroed for each new exchange.  Below: filled as needed. */
    double timeouts[NM_MAX_TIMEOUTS];
    server *servers[NM_MAX_SERVERS_ASKED]; /* the servers, in the order to ask */
    uint8_t dead[NM_MAX_SERVERS_ASKED];    /* answered SERVFAIL/REFUSED/NOTIMP */
    /* the question, as asked (lower case) and as sent (0x20 case) */
    uint8_t qname[NM_NAME_MAX];
    uint8_t sendname[NM_NAME_MAX];
    attempt first;     /* the first try lives here; later ones are malloc'd */
};

struct nm_query {
    exchange *ex;
    nm_query_cb cb;
    void *arg;
    nm_query *next, *prev;
};

struct nm_resolver {
    uv_loop_t *loop;
    nm_clock clock;     /* the loop's, or one the caller moves (nm_resolver_set_clock) */
    int own_clock;      /* the latter: the loop's timer serves only what is due now */
    nm_resolver_options opt;
    nm_random rnd;
    uint16_t ids[64];   /* random ids drawn in a block, used once each */
    int nids;
    int dispatching;    /* inside a callback of ours: the loop's clock is fresh */
    nm_rxbuf rx;
    uv_timer_t timer;
    uint64_t timer_due;  /* the deadline the timer is set for; UINT64_MAX: none */
    server **servers;
    int nservers;
    unsigned next_server;  /* rotation: the server the next query starts at */
    server **retired;   /* replaced servers still in use by exchanges */
    int nretired, capretired;
    tqueue tq[NQUEUES + 1];
    int ntimers;        /* exchanges in the queues */
    exchange **index;   /* sharing: open hash of chains */
    uint32_t index_mask;
    uint32_t nindex;
    exchange *queue_head, *queue_tail;
    exchange *all;
    int inflight;
    int handles;        /* open libuv handles: freed when 0 after close */
    int closing;
    int in_api;         /* inside the API: failures report from the loop */
    int starting;       /* inside start_queued */
    void (*on_closed)(void *);
    void *on_closed_arg;
    nm_transport_hooks hooks;
    nm_resolver_stats stats;
    nm_cache *cache;    /* filled with answers, when set */
    exchange *spare;    /* freed exchanges kept for the next ones */
    int nspare;
    /* trust settings of encrypted servers: ALPN "dot" and "h2" */
    nm_tls_ctx *tls_ctx[2];
    unsigned handshake_ms;
    int opportunistic;  /* RFC 8310's opportunistic profile: clear text when encryption fails */
    uint16_t clear_port; /* of that clear text: 53 */
};

#define MAX_SPARE 64

static void finish(exchange *ex, int status, const nm_msg *msg);
static void advance(exchange *ex);
static void give_up(exchange *ex);
static void send_try(exchange *ex, server *s, int transport, int edns);

const char *nm_outcome_name(int outcome)
{
    static const char *const names[] = { NM_OUTCOME_LIST(NM_LIST_TEXT) };
    return outcome >= 0 && outcome < NM_NOUTCOMES ? names[outcome] : "?";
}

/* ------------------------------------------------------------ the options */

void nm_resolver_options_default(nm_resolver_options *o)
{
    static const double twisted[] = { 1, 3, 11, 45 };
    memset(o, 0, sizeof *o);
    memcpy(o->timeouts, twisted, sizeof twisted);
    o->ntimeouts = 4;
    o->edns_size = 1232;
    o->recurse = 1;
    o->max_inflight = 512;
    o->udp_max_queries = 256;
    o->tcp_idle_ms = 10000;
    o->udp_idle_ms = 5000;
    o->cookies = 1;
}

/* ------------------------------------------------- handles and closing */

static void maybe_freed(nm_resolver *r)
{
    void (*cb)(void *);
    void *arg;
    if (!r->closing || r->handles > 0) return;
    cb = r->on_closed;
    arg = r->on_closed_arg;
    free(r->servers);
    free(r->retired);
    free(r->index);
    while (r->spare) {
        exchange *ex = r->spare;
        r->spare = ex->hnext;
        free(ex);
    }
    nm_rxbuf_free(&r->rx);
    nm_cache_free(r->cache); /* its hold on the cache */
    tls_ctx_free(r->tls_ctx[0]);
    tls_ctx_free(r->tls_ctx[1]);
    free(r);
    if (cb) cb(arg);
}

static void server_free(server *s)
{
    if (s) tls_ctx_free(s->sec.ctx);
    free(s);
}

static void forget_transport(server *s, void *transport)
{
    /* a connection may close by itself (idle, or the server closed it):
     * then nothing may point to it any more */
    for (int k = 0; k < NM_NTRANSPORTS; k++)
        if (s->conn[k] == transport) s->conn[k] = NULL;
}

static void close_server_transports(server *s)
{
    for (int k = 0; k < NM_NTRANSPORTS; k++)
        if (s->conn[k]) nm_transport_close(s->conn[k]);
}

/* An encrypted connection is up: what its handshake found is kept on its
 * server (opportunistic connections go on unverified, and say so there). */
static void on_connected(void *owner, void *transport, int status)
{
    nm_resolver *r = owner;
    nm_transport *t = transport;
    if (status != 0) return;
    const nm_tls_provider *p = nm_tls_provider_get();
    nm_tls *tls = !p                         ? NULL
                  : t->ops->kind == NM_TLS   ? p->dot_tls(t)
                  : t->ops->kind == NM_HTTPS ? p->https_tls(t)
                                             : NULL;
    if (!tls) return;
    for (int i = 0; i < r->nservers; i++) {
        server *s = r->servers[i];
        if (s->conn[t->ops->kind] == t) {
            p->get_info(tls, &s->tls);
            s->has_tls = 1;
        }
    }
}

static void on_handle_closed(void *owner, void *transport)
{
    nm_resolver *r = owner;
    r->handles--;
    r->stats.sockets_open--;
    for (int i = 0; i < r->nservers; i++) forget_transport(r->servers[i], transport);
    for (int i = 0; i < r->nretired; i++) forget_transport(r->retired[i], transport);
    maybe_freed(r);
}

/* ------------------------------------------------------------ the clock */

static uint64_t now_ms(const nm_resolver *r)
{
    return r->clock.now_ms(r->clock.ctx);
}

static void update_clock(nm_resolver *r)
{
    if (r->clock.update) r->clock.update(r->clock.ctx);
}

static void on_timer_closed(uv_handle_t *h)
{
    nm_resolver *r = h->data;
    r->handles--;
    maybe_freed(r);
}

/* ------------------------------------------------------------ the timers */

static void on_timer(uv_timer_t *t);

/* The loop's timer is set for the deadline `due`.  On a clock of the
 * caller's, only a deadline due now (a failure reported from the loop)
 * is the loop's business: later ones wait for nm_resolver_clock_moved. */
static void timer_start(nm_resolver *r, uint64_t due)
{
    uint64_t now = now_ms(r);
    if (r->own_clock && due > now) {
        if (r->timer_due != UINT64_MAX) uv_timer_stop(&r->timer);
        r->timer_due = UINT64_MAX;
        return;
    }
    r->timer_due = due;
    uv_timer_start(&r->timer, on_timer, due > now ? due - now : 0, 0);
}

static exchange *timer_first(const nm_resolver *r)
{
    exchange *first = NULL;
    for (int i = 0; i <= NQUEUES; i++) {
        exchange *h = r->tq[i].head;
        if (h && (!first || h->deadline < first->deadline)) first = h;
    }
    return first;
}

/* The one libuv timer follows the earliest deadline; it is set again only
 * when that changes. */
static void arm_timer(nm_resolver *r)
{
    exchange *first;
    uint64_t due;
    if (r->closing) return;
    if (!r->ntimers) {
        if (r->timer_due != UINT64_MAX) uv_timer_stop(&r->timer);
        r->timer_due = UINT64_MAX;
        return;
    }
    first = timer_first(r);
    due = first->deadline;
    if (due == r->timer_due) return;
    timer_start(r, due);
}

static void timer_remove(nm_resolver *r, exchange *ex)
{
    tqueue *q;
    if (ex->tq < 0) return;
    q = &r->tq[ex->tq];
    if (ex->tprev) ex->tprev->tnext = ex->tnext;
    else q->head = ex->tnext;
    if (ex->tnext) ex->tnext->tprev = ex->tprev;
    else q->tail = ex->tprev;
    ex->tnext = ex->tprev = NULL;
    ex->tq = -1;
    r->ntimers--;
}

/* The exchange's deadline is now + ms. */
static void timer_set(nm_resolver *r, exchange *ex, uint64_t ms)
{
    uint64_t deadline = now_ms(r) + ms;
    int k = -1, empty = -1;
    tqueue *q;
    timer_remove(r, ex);
    for (int i = 0; i < NQUEUES; i++) {
        if (r->tq[i].head && r->tq[i].ms == ms) {
            k = i;
            break;
        }
        if (!r->tq[i].head && empty < 0) empty = i;
    }
    if (k < 0 && empty >= 0) r->tq[k = empty].ms = ms;
    ex->deadline = deadline;
    ex->tnext = NULL;
    if (k >= 0) {
        q = &r->tq[k];
        ex->tprev = q->tail;
    } else {
        /* the shared queue: from the tail back to the place in order */
        exchange *at;
        q = &r->tq[k = NQUEUES];
        for (at = q->tail; at && at->deadline > deadline; at = at->tprev) {}
        ex->tprev = at;
        ex->tnext = at ? at->tnext : q->head;
    }
    if (ex->tprev) ex->tprev->tnext = ex;
    else q->head = ex;
    if (ex->tnext) ex->tnext->tprev = ex;
    else q->tail = ex;
    ex->tq = k;
    r->ntimers++;
    /* a later deadline needs nothing now: the timer, when it fires, finds
     * the next one (timer_remove never moves it either) */
    if (deadline < r->timer_due && !r->closing) timer_start(r, deadline);
}

static uint64_t seconds_ms(double secs)
{
    return secs <= 0 ? 0 : secs > 1e7 ? (uint64_t)1e10 : (uint64_t)(secs * 1000.0 + 0.5);
}

/* ---------------------------------------------- the index of sharing */

/* Copies a wire name in lower case and hashes it, in one pass: length
 * bytes (0..63) are never upper-case letters, so every byte may go
 * through the same mapping. */
static uint32_t lower_hash(uint8_t *out, const uint8_t *name, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = name[i];
        c = (uint8_t)(c + ((uint8_t)(c - 'A') < 26 ? 32 : 0));
        out[i] = c;
        h = (h ^ c) * 16777619u;
    }
    return h;
}

static uint32_t key_hash(uint32_t h, uint16_t type, uint16_t cls, int flags)
{
    h = (h ^ type) * 16777619u;
    h = (h ^ cls) * 16777619u;
    return (h ^ (uint32_t)flags) * 16777619u;
}

/* qname is lower case, as the exchange's */
static int shares(const exchange *ex, const uint8_t *qname, size_t n, uint16_t type,
                  uint16_t cls, int flags, const double *timeouts, int ntimeouts)
{
    return ex->qtype == type && ex->qcls == cls && ex->flags == flags &&
           ex->ntimeouts == ntimeouts && ex->namelen == n &&
           memcmp(ex->timeouts, timeouts, (size_t)ntimeouts * sizeof *timeouts) == 0 &&
           memcmp(ex->qname, qname, n) == 0;
}

static void index_add(nm_resolver *r, exchange *ex)
{
    if ((r->nindex + 1) * 2 > r->index_mask + 1) {
        uint32_t cap = r->index_mask ? (r->index_mask + 1) * 2 : 64;
        exchange **bigger = calloc(cap, sizeof *bigger);
        if (!bigger) return; /* not shared: harmless */
        for (uint32_t i = 0; r->index && i <= r->index_mask; i++) {
            exchange *e = r->index[i];
            while (e) {
                exchange *next = e->hnext;
                e->hnext = bigger[e->hash & (cap - 1)];
                bigger[e->hash & (cap - 1)] = e;
                e = next;
            }
        }
        free(r->index);
        r->index = bigger;
        r->index_mask = cap - 1;
    }
    ex->hnext = r->index[ex->hash & r->index_mask];
    r->index[ex->hash & r->index_mask] = ex;
    r->nindex++;
}

static void index_remove(nm_resolver *r, exchange *ex)
{
    exchange **pp;
    if (!r->index) return;
    for (pp = &r->index[ex->hash & r->index_mask]; *pp; pp = &(*pp)->hnext) {
        if (*pp == ex) {
            *pp = ex->hnext;
            r->nindex--;
            return;
        }
    }
}

/* ------------------------------------------------------------ servers */

static void server_release(nm_resolver *r, server *s)
{
    if (--s->refs > 0 || !s->retired) return;
    for (int i = 0; i < r->nretired; i++) {
        if (r->retired[i] == s) {
            r->retired[i] = r->retired[--r->nretired];
            break;
        }
    }
    close_server_transports(s);
    server_free(s);
}

/* Where a try of this kind goes: an encrypted server's UDP and TCP (its
 * opportunistic fallback) go to its clear-text twin on port 53. */
static const nm_addr *peer_for(const server *s, int kind)
{
    return s->kind != NM_UDP && (kind == NM_UDP || kind == NM_TCP) ? &s->clear_addr : &s->addr;
}

/* The transport of this kind to send a new query to s on.  One that takes
 * no more (a UDP socket after udp_max_queries, so that source ports keep
 * changing; a connection closing) is let go: it closes when its last
 * query is done (forget), and a fresh one opens. */
static nm_transport *server_conn(nm_resolver *r, server *s, int kind, int *err)
{
    nm_transport *t = s->conn[kind];
    nm_transport_config c;
    uint64_t now = now_ms(r);
    if (t && !nm_transport_usable(t)) {
        s->conn[kind] = NULL;
        if (!nm_transport_pending(t)) nm_transport_close(t);
        t = NULL;
    }
    /* a datagram socket left idle for long is not taken up again: a new
     * one, on a new random port (no timer closes it meanwhile: an idle
     * resolver needs no wake-up, which matters to a loop it is embedded in) */
    if (t && !t->ops->stream && !nm_transport_pending(t) && now - s->used[kind] >= (uint64_t)r->opt.udp_idle_ms) {
        s->conn[kind] = NULL;
        nm_transport_close(t);
        t = NULL;
    }
    if (t) {
        s->used[kind] = now;
        return t;
    }
    memset(&c, 0, sizeof c);
    c.loop = r->loop;
    c.peer = peer_for(s, kind);
    c.rnd = &r->rnd;
    c.rx = &r->rx;
    c.hooks = &r->hooks;
    c.batch = 1;
    c.idle_ms = r->opt.tcp_idle_ms;
    c.secure = s->kind != NM_UDP ? &s->sec : NULL;
    /* source ports keep changing; a connection's port is the kernel's */
    if (!nm_transport_ops_of(kind)->stream) c.max_queries = (uint32_t)r->opt.udp_max_queries;
    if (!(t = nm_transport_open(kind, &c, err))) return NULL;
    s->conn[kind] = t;
    s->used[kind] = now;
    r->handles++;
    r->stats.sockets_open++;
    r->stats.opened[kind]++;
    return t;
}

/* --------------------------------------------------------------- tries */

static uint32_t elapsed(const exchange *ex)
{
    return (uint32_t)(now_ms(ex->r) - ex->start_ms);
}

/* The try stops listening.  A transport let go by its server (a UDP
 * socket after udp_max_queries) closes with the last query it waited for. */
static void forget(attempt *a)
{
    nm_transport *t = a->sent_on;
    nm_transport_forget(&a->pending);
    if (!t) return;
    a->sent_on = NULL;
    if (t != a->srv->conn[t->ops->kind] && t != a->ex->via && !nm_transport_usable(t) &&
        !nm_transport_pending(t))
        nm_transport_close(t);
}

static void on_reply(nm_pending *p, int status, const nm_msg *msg, int err);

static uint16_t random_id(nm_resolver *r)
{
    if (r->nids == 0) {
        nm_random_bytes(&r->rnd, r->ids, sizeof r->ids);
        r->nids = (int)(sizeof r->ids / sizeof *r->ids);
    }
    return r->ids[--r->nids];
}

/* A random id not waiting on the transport; -1 when all 65536 are. */
static int fresh_id(nm_resolver *r, const nm_transport *t)
{
    uint16_t id = 0;
    for (int tries = 0; tries < 64; tries++) {
        id = random_id(r);
        if (nm_transport_id_free(t, id)) return id;
    }
    for (uint32_t k = 1; k < 65536; k++)
        if (nm_transport_id_free(t, (uint16_t)(id + k))) return (uint16_t)(id + k);
    return -1;
}

static int server_index(const nm_resolver *r, const server *s)
{
    for (int i = 0; i < r->nservers; i++)
        if (r->servers[i] == s) return i;
    return 0xFFFF;
}

static double round_timeout(const exchange *ex)
{
    return ex->timeouts[ex->round < ex->ntimeouts ? ex->round : ex->ntimeouts - 1];
}

/* The transport a query starts on (TC over a datagram moves to TCP). */
static int first_transport(const exchange *ex)
{
    /* a low-level exchange goes the way it was asked to */
    if (ex->direct) return ex->transport;
    return ex->r->opt.use_tcp || (ex->flags & (NM_Q_TCP | NM_Q_XFR)) ? NM_TCP : NM_UDP;
}

static int wants_edns(const exchange *ex, const server *s)
{
    return ex->r->opt.edns_size && !s->no_edns && !ex->direct;
}

/* EDNS padding (RFC 7830) on encrypted transports: queries padded to a
 * multiple of this (RFC 8467 4.1, the block-length strategy). */
#define PAD_BLOCK 128
#define WIRE_MAX (NM_QUERY_MAX + 4 + PAD_BLOCK + 4 + 40)
static const uint8_t zeros[PAD_BLOCK + 4];

/* Builds the query for one try into wire (WIRE_MAX bytes), or points at
 * the direct one. */
static void build(exchange *ex, attempt *a, int edns, uint8_t *wire)
{
    nm_resolver *r = ex->r;
    nm_query_spec q;
    if (ex->direct) {
        ex->direct[0] = (uint8_t)(a->pending.id >> 8);
        ex->direct[1] = (uint8_t)a->pending.id;
        a->pending.sent = ex->direct;
        a->pending.sentlen = ex->directlen;
        return;
    }
    q.id = a->pending.id;
    q.flags = 0;
    if (r->opt.recurse && !(ex->flags & NM_Q_NORECURSE)) q.flags |= NM_RD;
    if (ex->flags & NM_Q_CD) q.flags |= NM_CD;
    q.name = ex->sendname;
    q.namelen = ex->namelen;
    q.type = ex->qtype;
    q.cls = ex->qcls;
    q.udp_size = edns ? r->opt.edns_size : 0;
    q.edns_flags = (ex->flags & NM_Q_DNSSEC) ? NM_EDNS_DO : 0;
    /* a server's own options (a cookie) go here, per try */
    q.options = NULL;
    q.optlen = 0;
    uint8_t cookie[4 + 8 + 32];
    server *s = a->srv;
    if (edns && r->opt.cookies && (a->pub.transport == NM_UDP || a->pub.transport == NM_TCP)) {
        if (!s->has_client_cookie) {
            nm_random_bytes(&r->rnd, s->client_cookie, sizeof s->client_cookie);
            s->has_client_cookie = 1;
        }
        cookie[0] = 0;
        cookie[1] = NM_OPT_COOKIE;
        cookie[2] = 0;
        cookie[3] = (uint8_t)(8 + s->server_cookie_len);
        memcpy(cookie + 4, s->client_cookie, 8);
        memcpy(cookie + 12, s->server_cookie, s->server_cookie_len);
        q.options = cookie;
        q.optlen = (uint16_t)(12 + s->server_cookie_len);
        a->pending.cookie = s->client_cookie;
    }
    a->pending.sent = wire;
    a->pending.sentlen = nm_query_write(wire, &q);
    if (edns && (a->pub.transport == NM_TLS || a->pub.transport == NM_HTTPS)) {
        /* the padding option takes 4 octets besides its own */
        size_t pad = (PAD_BLOCK - (a->pending.sentlen + 4) % PAD_BLOCK) % PAD_BLOCK;
        uint8_t opt[4 + PAD_BLOCK];
        opt[0] = 0;
        opt[1] = 12; /* Padding */
        opt[2] = (uint8_t)(pad >> 8);
        opt[3] = (uint8_t)pad;
        memcpy(opt + 4, zeros, pad);
        q.options = opt;
        q.optlen = (uint16_t)(4 + pad);
        a->pending.sentlen = nm_query_write(wire, &q);
    }
}

static void xfr_reset(exchange *ex)
{
    for (int i = 0; i < ex->nxfr; i++) free(ex->xfr[i]);
    ex->nxfr = 0;
    ex->soas = 0;
}

/* A new try, in order after the others; the first lives in the exchange. */
static attempt *new_try(exchange *ex)
{
    attempt *a;
    if (ex->ntries == 0) {
        a = &ex->first;
    } else {
        if (!(a = malloc(sizeof *a))) return NULL;
        ex->last->next = a;
    }
    memset(a, 0, sizeof *a);
    ex->last = a;
    ex->ntries++;
    return a;
}

/* The try in flight for a server, asked by the policy. */
static void send_try(exchange *ex, server *s, int transport, int edns)
{
    nm_resolver *r = ex->r;
    uint8_t wire[WIRE_MAX];
    attempt *a;
    nm_transport *t;
    int err = 0, rc;

    ex->current = NULL;
    /* an encrypted server is asked over its own transport, never in clear
     * (but for the opportunistic profile's one fallback) */
    if (!ex->direct && !ex->via && s->kind != NM_UDP && !ex->clear_fallback) transport = s->kind;
    if (ex->ntries == ex->maxtries) {
        /* every try the timeouts allow has been made */
        give_up(ex);
        return;
    }
    if (!(a = new_try(ex))) {
        finish(ex, NM_ENOMEM, NULL);
        return;
    }
    a->ex = ex;
    a->srv = s;
    a->pub.addr = *peer_for(s, transport);
    a->pub.server = (uint16_t)server_index(r, s);
    a->pub.transport = (uint8_t)transport;
    a->pub.edns = (uint8_t)edns;
    a->pub.rcode = -1;
    a->pub.sent_ms = elapsed(ex);
    a->pub.outcome = NM_OUT_PENDING;
    a->pending.to = peer_for(s, transport);
    a->pending.cb = on_reply;
    a->pending.owner = a;
    a->pending.case_sensitive = r->opt.dns0x20 && !ex->direct;
    a->pending.stream = (ex->flags & NM_Q_XFR) != 0;
    a->pending.edns = (uint8_t)(edns != 0);
    if (!ex->direct) {
        a->pending.qname = ex->sendname;
        a->pending.qtype = ex->qtype;
        a->pending.qcls = ex->qcls;
    }
    if (ex->flags & NM_Q_XFR) {
        /* a transfer starts over with each try; the last one stops talking */
        xfr_reset(ex);
        for (attempt *o = &ex->first; o != a; o = o->next) forget(o);
    }
    ex->current = a;

    t = ex->via ? ex->via : server_conn(r, s, transport, &err);
    if (!t) goto failed;
    if ((rc = fresh_id(r, t)) < 0) {
        err = UV_ENOBUFS;
        goto failed;
    }
    a->pending.id = (uint16_t)rc;
    build(ex, a, edns, wire);
    if (nm_transport_send(t, &a->pending, &err) != NM_OK) goto failed;
    r->stats.sent[transport]++;
    a->sent_on = t;
    timer_set(r, ex, seconds_ms(round_timeout(ex)));
    return;

failed:
    /* a socket that cannot send is like a server that does not answer,
     * without the wait */
    a->pub.outcome = NM_OUT_NETERR;
    a->pub.err = err;
    a->pub.took_ms = elapsed(ex) - a->pub.sent_ms;
    ex->current = NULL;
    if (ex->direct) finish(ex, NM_EIO, NULL);
    else advance(ex);
}

/* The next server, or the next round, or the end. */
static void advance(exchange *ex)
{
    int live = 0;
    for (int i = 0; i < ex->nservers; i++) live += !ex->dead[i];
    while (live) {
        if (++ex->pos >= ex->nservers) {
            ex->pos = 0;
            if (++ex->round >= ex->ntimeouts) break;
        }
        if (!ex->dead[ex->pos]) {
            server *s = ex->servers[ex->pos];
            send_try(ex, s, first_transport(ex), wants_edns(ex, s));
            return;
        }
    }
    give_up(ex);
}

/* Every server has been asked as often as the timeouts allow: the last
 * try's outcome is the query's. */
static void give_up(exchange *ex)
{
    const attempt *last = ex->ntries ? ex->last : NULL;
    if (last && last->pub.outcome == NM_OUT_RCODE && ex->last_error) {
        nm_msg m;
        if (nm_msg_parse(&m, ex->last_error, ex->last_error_len) == NM_OK) {
            finish(ex, NM_ERCODE, &m);
            nm_msg_release(&m);
            return;
        }
        nm_msg_release(&m);
    }
    if (last && last->pub.outcome == NM_OUT_NETERR) {
        finish(ex, NM_EIO, NULL);
        return;
    }
    finish(ex, ex->nservers ? NM_ETIMEOUT : NM_ENOSERVER, NULL);
}

static int first_is_soa(const nm_msg *m, int which)
{
    int n = 0;
    for (int i = 0; i < m->nrr; i++) {
        if (m->rr[i].section != NM_ANSWER) continue;
        if (which == 0) return m->rr[i].type == NM_TYPE_SOA;
        if (m->rr[i].type == NM_TYPE_SOA) n++;
    }
    return n;
}

/* A zone transfer's message: kept until the second SOA closes it. */
static int xfr_message(exchange *ex, const nm_msg *msg)
{
    uint8_t *copy;
    if (ex->nxfr == 0 && (msg->rcode != NM_RCODE_NOERROR || !first_is_soa(msg, 0))) return 1; /* final now */
    if (msg->rcode != NM_RCODE_NOERROR) return 1; /* an error in the middle ends it */
    if (ex->nxfr == ex->capxfr) {
        int cap = ex->capxfr ? ex->capxfr * 2 : 8;
        uint8_t **m = realloc(ex->xfr, (size_t)cap * sizeof *m);
        size_t *l;
        if (!m) return -1;
        ex->xfr = m;
        if (!(l = realloc(ex->xfrlen, (size_t)cap * sizeof *l))) return -1;
        ex->xfrlen = l;
        ex->capxfr = cap;
    }
    if (!(copy = malloc(msg->len))) return -1;
    memcpy(copy, msg->wire, msg->len);
    ex->xfr[ex->nxfr] = copy;
    ex->xfrlen[ex->nxfr++] = msg->len;
    ex->soas += first_is_soa(msg, 1);
    return ex->soas >= 2;
}

static int edns_refused(const attempt *a, const nm_msg *msg)
{
    if (!a->pub.edns) return 0;
    if (msg->rcode == NM_RCODE_BADVERS) return 1;
    return (msg->rcode == NM_RCODE_FORMERR || msg->rcode == NM_RCODE_NOTIMP) && !msg->edns.present;
}

static void reply(attempt *a, int status, const nm_msg *msg, int err);

static void on_reply(nm_pending *p, int status, const nm_msg *msg, int err)
{
    attempt *a = p->owner;
    nm_resolver *r = a->ex->r;
    nm_msg own;
    r->dispatching++;
    if (msg && (a->pub.transport == NM_TLS || a->pub.transport == NM_HTTPS)) {
        /* The encrypted transports may be a module of their own (names.tls)
         * with its own copy of the parser: its records point into that
         * copy's type tables, which this one's readers index by. Parsed
         * again here; it was checked there, so this cannot fail. */
        if (nm_msg_parse(&own, msg->wire, msg->len) == NM_OK) {
            reply(a, status, &own, err);
        } else {
            reply(a, NM_EIO, NULL, err);
        }
        nm_msg_release(&own);
    } else {
        reply(a, status, msg, err);
    }
    r->dispatching--;
}

/* The server's cookie from a reply that passed the checks (its client
 * cookie is ours), to send back from now on. */
static void learn_cookie(server *s, const nm_msg *msg)
{
    nm_opt_iter it;
    uint16_t code, len;
    const uint8_t *data;
    if (!msg->edns.present) return;
    nm_opt_begin(&it, msg->wire + msg->edns.rdata, msg->edns.rdlen);
    while (nm_opt_next(&it, &code, &data, &len)) {
        if (code != NM_OPT_COOKIE || len < 16 || len > 40) continue;
        memcpy(s->server_cookie, data + 8, len - 8u);
        s->server_cookie_len = (uint8_t)(len - 8);
    }
}

static void reply(attempt *a, int status, const nm_msg *msg, int err)
{
    exchange *ex = a->ex;
    server *s = a->srv;
    int current = a == ex->current;

    a->pub.took_ms = elapsed(ex) - a->pub.sent_ms;
    if (!(ex->flags & NM_Q_XFR) || status != NM_OK || !current) forget(a);
    if (status != NM_OK) {
        a->pub.outcome = NM_OUT_NETERR;
        a->pub.err = err;
        if (current) {
            ex->current = NULL;
            if (ex->direct) {
                finish(ex, NM_EIO, NULL);
            } else if (a->pending.reused) {
                /* RFC 7766 6.2.1: a server may close a connection it has
                 * served (idle, or a limit of queries per connection) with
                 * our query on it; that says nothing of the server, so ask
                 * it again at once on a new connection.  Each such
                 * connection has answered something, and maxtries bounds
                 * the retries of one query.  (Only streams set reused.) */
                send_try(ex, s, a->pub.transport, a->pub.edns);
            } else if (ex->r->opportunistic && !ex->clear_fallback &&
                       (a->pub.transport == NM_TLS || a->pub.transport == NM_HTTPS)) {
                /* RFC 8310 5: the opportunistic profile may fall back to
                 * clear text when no encrypted connection can be had; the
                 * attempts show it (udp, port 53), and the server keeps it */
                ex->clear_fallback = 1;
                s->fell_back = 1;
                send_try(ex, s, NM_UDP, a->pub.edns);
            } else {
                advance(ex);
            }
        }
        return;
    }
    a->pub.rcode = (int16_t)msg->rcode;
    if (a->pending.cookie) learn_cookie(s, msg);
    if (ex->flags & NM_Q_XFR) {
        int done;
        if (!current) return; /* an abandoned transfer: forgotten above */
        /* the transfer's messages share the query's id: keep listening,
         * each message giving the server a new round's time */
        done = xfr_message(ex, msg);
        if (done == 0) {
            timer_set(ex->r, ex, seconds_ms(round_timeout(ex)));
            return;
        }
        a->pub.outcome = NM_OUT_ANSWER;
        finish(ex, done < 0 ? NM_ENOMEM : NM_OK, msg);
        return;
    }
    if (ex->direct) {
        a->pub.outcome = NM_OUT_ANSWER;
        finish(ex, NM_OK, msg);
        return;
    }
    if ((msg->flags & NM_TC) && !nm_transport_ops_of(a->pub.transport)->stream) {
        a->pub.outcome = NM_OUT_TRUNCATED;
        send_try(ex, s, NM_TCP, a->pub.edns);
        return;
    }
    if (edns_refused(a, msg)) {
        a->pub.outcome = NM_OUT_NOEDNS;
        /* remembered for the server only when the refusal repeats the
         * question: a question-less one is as easy to forge as an id and
         * a port, and would turn EDNS (and DO) off for good */
        if (msg->nq > 0) s->no_edns = 1;
        send_try(ex, s, a->pub.transport, 0);
        return;
    }
    if (msg->rcode == NM_RCODE_BADCOOKIE && a->pending.cookie && !ex->badcookie_retried && current) {
        /* RFC 7873 5.3: BADCOOKIE (with our client cookie: checked on
         * arrival) brought a fresh server cookie; ask again, once */
        ex->badcookie_retried = 1;
        a->pub.outcome = NM_OUT_BADCOOKIE;
        send_try(ex, s, a->pub.transport, a->pub.edns);
        return;
    }
    if (msg->rcode == NM_RCODE_SERVFAIL || msg->rcode == NM_RCODE_NOTIMP ||
        msg->rcode == NM_RCODE_REFUSED || msg->rcode == NM_RCODE_BADCOOKIE) {
        uint8_t *copy = malloc(msg->len);
        a->pub.outcome = NM_OUT_RCODE;
        for (int i = 0; i < ex->nservers; i++)
            if (ex->servers[i] == s) ex->dead[i] = 1;
        if (copy) {
            memcpy(copy, msg->wire, msg->len);
            free(ex->last_error);
            ex->last_error = copy;
            ex->last_error_len = msg->len;
        }
        if (current) {
            ex->current = NULL;
            advance(ex);
        }
        return;
    }
    a->pub.outcome = current ? NM_OUT_ANSWER : NM_OUT_LATE;
    finish(ex, NM_OK, msg);
}

/* -------------------------------------------------------------- timing */

/* Every deadline due now on the resolver's clock. */
/* RFC 8310 5, on a timeout: the opportunistic profile falls back to clear
 * text when the encrypted connection never came up (its handshake did not
 * finish within the try's time), as it does when the connection fails. */
static int handshake_unfinished(const exchange *ex, const attempt *a)
{
    const nm_transport *t = a->pending.via;
    return ex->r->opportunistic && !ex->clear_fallback
        && (a->pub.transport == NM_TLS || a->pub.transport == NM_HTTPS)
        && t && t->ops->established && !t->ops->established(t);
}

static void run_due(nm_resolver *r)
{
    uint64_t now = now_ms(r);
    exchange *ex;
    r->timer_due = UINT64_MAX; /* it fired, or was stopped: nothing is set now */
    r->dispatching++;
    while (!r->closing && r->ntimers && (ex = timer_first(r))->deadline <= now) {
        timer_remove(r, ex);
        if (ex->finish_later) {
            finish(ex, ex->finish_later, NULL);
            continue;
        }
        attempt *timed_out = ex->current;
        if (timed_out) {
            timed_out->pub.outcome = NM_OUT_TIMEOUT;
            timed_out->pub.took_ms = elapsed(ex) - timed_out->pub.sent_ms;
            ex->current = NULL;
        }
        if (ex->direct) {
            finish(ex, NM_ETIMEOUT, NULL);
        } else if (timed_out && handshake_unfinished(ex, timed_out)) {
            ex->clear_fallback = 1;
            timed_out->srv->fell_back = 1;
            send_try(ex, timed_out->srv, NM_UDP, timed_out->pub.edns);
        } else {
            advance(ex);
        }
    }
    r->dispatching--;
    arm_timer(r);
}

static void on_timer(uv_timer_t *timer)
{
    run_due(timer->data);
}

/* ----------------------------------------------------- starting, ending */

static void start(exchange *ex)
{
    nm_resolver *r = ex->r;
    int first;
    ex->state = ACTIVE;
    r->inflight++;
    ex->start_ms = now_ms(r);
    /* per server and round: a try, its TCP retry after TC, its retry
     * without EDNS, its retry on a fresh connection; and a little room for
     * late replies asking the same */
    ex->maxtries = ex->ntimeouts * (ex->nservers ? ex->nservers : 1) * 4 + 2;
    if (!ex->nservers) {
        finish(ex, NM_ENOSERVER, NULL);
        return;
    }
    first = 0;
    if (r->opt.rotate && !ex->direct) first = (int)(r->next_server++ % (unsigned)ex->nservers);
    ex->pos = 0;
    /* rounds go over the servers from `first` on: rotate the list itself */
    if (first) {
        server *copy[NM_MAX_SERVERS_ASKED] = { NULL };
        for (int i = 0; i < ex->nservers; i++) copy[i] = ex->servers[(i + first) % ex->nservers];
        memcpy(ex->servers, copy, (size_t)ex->nservers * sizeof *copy);
    }
    send_try(ex, ex->servers[0], first_transport(ex), wants_edns(ex, ex->servers[0]));
}

/* Starts what waits, as room allows.  Never nested (a start that fails
 * at once finishes, which calls this again), and a failure to start is
 * reported from the loop, like one inside the API. */
static void start_queued(nm_resolver *r)
{
    if (r->starting) return;
    r->starting = 1;
    r->in_api++;
    while (!r->closing && r->queue_head && r->inflight < r->opt.max_inflight) {
        exchange *ex = r->queue_head;
        r->queue_head = ex->qnext;
        if (r->queue_head) r->queue_head->qprev = NULL;
        else r->queue_tail = NULL;
        ex->qnext = ex->qprev = NULL;
        r->stats.queued_now--;
        start(ex);
    }
    r->in_api--;
    r->starting = 0;
}

/* With udp_idle_ms 0, the datagram sockets close as soon as nothing is in
 * flight: an idle resolver then holds no descriptor but its connections
 * (streams, until their idle time: opening one costs round trips, a socket
 * costs none). */
static void close_idle_sockets(nm_resolver *r)
{
    for (int i = 0; i < r->nservers; i++) {
        server *s = r->servers[i];
        for (int k = 0; k < NM_NTRANSPORTS; k++) {
            nm_transport *t = s->conn[k];
            if (t && !t->ops->stream && !nm_transport_pending(t)) {
                nm_transport_close(t);
                s->conn[k] = NULL;
            }
        }
    }
}

/* Leaves every index and lets go of sockets and servers; the exchange
 * keeps its tries (for the result) and its subscribers. */
static void detach(exchange *ex)
{
    nm_resolver *r = ex->r;
    if (ex->state == ACTIVE) {
        attempt *a = &ex->first;
        r->inflight--;
        timer_remove(r, ex);
        if (!r->ntimers) arm_timer(r); /* a timer left running would keep the loop awake */
        for (int i = 0; i < ex->ntries; i++, a = a->next) forget(a);
    } else {
        /* still queued */
        if (ex->qprev) ex->qprev->qnext = ex->qnext;
        else r->queue_head = ex->qnext;
        if (ex->qnext) ex->qnext->qprev = ex->qprev;
        else r->queue_tail = ex->qprev;
        ex->qnext = ex->qprev = NULL;
        r->stats.queued_now--;
    }
    ex->state = QUEUED;
    ex->current = NULL;
    if (!(ex->flags & NM_Q_ALONE)) index_remove(r, ex);
    if (ex->aprev) ex->aprev->anext = ex->anext;
    else if (r->all == ex) r->all = ex->anext;
    if (ex->anext) ex->anext->aprev = ex->aprev;
    ex->anext = ex->aprev = NULL;
    for (int i = 0; i < ex->nservers; i++) server_release(r, ex->servers[i]);
    ex->nservers = 0;
    if (r->inflight == 0 && !r->queue_head && !r->closing && r->opt.udp_idle_ms == 0)
        close_idle_sockets(r);
}

static void free_exchange(exchange *ex)
{
    nm_resolver *r = ex->r;
    attempt *a = ex->ntries > 1 ? ex->first.next : NULL;
    for (int i = 1; i < ex->ntries; i++) {
        attempt *next = a->next;
        free(a);
        a = next;
    }
    xfr_reset(ex);
    free(ex->xfr);
    free(ex->xfrlen);
    free(ex->last_error);
    free(ex->direct);
    if (r->nspare < MAX_SPARE && !r->closing) {
        ex->hnext = r->spare;
        r->spare = ex;
        r->nspare++;
    } else {
        free(ex);
    }
}

static void finish(exchange *ex, int status, const nm_msg *msg)
{
    nm_resolver *r = ex->r;
    nm_query *q, *next;
    nm_attempt inl[8], *atts = inl;
    nm_msg *msgs = NULL;
    const nm_msg **mptr = NULL;
    nm_result res;
    attempt *a;
    int n;

    if (r->in_api && !msg && !ex->finish_later) {
        /* a query that fails as it starts (no server, no socket) reports
         * from the loop, so that its callback never runs before the
         * caller has its handle */
        attempt *t = &ex->first;
        for (int i = 0; i < ex->ntries; i++, t = t->next) forget(t);
        ex->finish_later = status;
        ex->current = NULL;
        timer_set(r, ex, 0);
        return;
    }

    /* leave every index, then keep the tries and the transfer */
    detach(ex);
    if (ex->ntries > (int)(sizeof inl / sizeof *inl) &&
        !(atts = malloc((size_t)ex->ntries * sizeof *atts))) {
        atts = inl;
    }
    n = atts == inl && ex->ntries > 8 ? 8 : ex->ntries;
    a = &ex->first;
    for (int i = 0; i < n; i++, a = a->next) {
        atts[i] = a->pub;
        atts[i].ignored = a->pending.ignored;
    }

    memset(&res, 0, sizeof res);
    res.status = status;
    res.msg = msg;
    res.attempts = atts;
    res.nattempts = n;
    res.qname = ex->qname;
    res.qtype = ex->qtype;
    res.qcls = ex->qcls;
    if (ex->nxfr && status == NM_OK) {
        msgs = calloc((size_t)ex->nxfr, sizeof *msgs);
        mptr = calloc((size_t)ex->nxfr, sizeof *mptr);
        if (msgs && mptr) {
            for (int i = 0; i < ex->nxfr; i++) {
                nm_msg_parse(&msgs[i], ex->xfr[i], ex->xfrlen[i]);
                mptr[i] = &msgs[i];
            }
            res.messages = mptr;
            res.nmessages = ex->nxfr;
        } else {
            res.status = NM_ENOMEM;
        }
    }

    if (r->cache && status == NM_OK && msg && !ex->direct && !(ex->flags & NM_Q_XFR))
        nm_cache_put_msg(r->cache, ex->qname, ex->qtype, ex->qcls, msg,
                         r->clock.seconds(r->clock.ctx));

    /* the subscribers leave the exchange before any of them is called */
    q = ex->subs;
    ex->subs = NULL;
    for (nm_query *s = q; s; s = s->next) s->ex = NULL;
    for (; q; q = next) {
        next = q->next;
        q->cb(q->arg, &res);
        free(q);
    }
    if (msgs) {
        for (int i = 0; i < ex->nxfr; i++) nm_msg_release(&msgs[i]);
    }
    free(msgs);
    free(mptr);
    if (atts != inl) free(atts);
    free_exchange(ex);
    start_queued(r);
}

static exchange *new_exchange(nm_resolver *r, const nm_query_options *o)
{
    exchange *ex = r->spare;
    const double *timeouts = r->opt.timeouts;
    int ntimeouts = r->opt.ntimeouts;
    if (ex) {
        r->spare = ex->hnext;
        r->nspare--;
    } else if (!(ex = malloc(sizeof *ex))) {
        return NULL;
    }
    memset(ex, 0, offsetof(exchange, timeouts));
    if (o && o->timeouts && o->ntimeouts > 0) {
        timeouts = o->timeouts;
        ntimeouts = o->ntimeouts > NM_MAX_TIMEOUTS ? NM_MAX_TIMEOUTS : o->ntimeouts;
    }
    memcpy(ex->timeouts, timeouts, (size_t)ntimeouts * sizeof *timeouts);
    ex->ntimeouts = ntimeouts;
    ex->r = r;
    ex->tq = -1;
    ex->state = QUEUED;
    return ex;
}

static nm_query *subscribe(exchange *ex, nm_query_cb cb, void *arg)
{
    nm_query *q = malloc(sizeof *q);
    if (!q) return NULL;
    q->ex = ex;
    q->cb = cb;
    q->arg = arg;
    q->prev = NULL;
    q->next = ex->subs;
    if (ex->subs) ex->subs->prev = q;
    ex->subs = q;
    return q;
}

static void enqueue(nm_resolver *r, exchange *ex)
{
    r->stats.exchanges++;
    ex->anext = r->all;
    if (r->all) r->all->aprev = ex;
    r->all = ex;
    /* an exchange through a protocol's own transport never waits: the
     * transport may be closed before its turn comes */
    if ((r->inflight < r->opt.max_inflight && !r->queue_head) || ex->via) {
        start(ex);
        return;
    }
    r->stats.queued_now++;
    ex->qprev = r->queue_tail;
    ex->qnext = NULL;
    if (r->queue_tail) r->queue_tail->qnext = ex;
    else r->queue_head = ex;
    r->queue_tail = ex;
}

static void take_servers(nm_resolver *r, exchange *ex)
{
    ex->nservers = r->nservers < NM_MAX_SERVERS_ASKED ? r->nservers : NM_MAX_SERVERS_ASKED;
    memset(ex->dead, 0, sizeof ex->dead);
    for (int i = 0; i < ex->nservers; i++) {
        ex->servers[i] = r->servers[i];
        ex->servers[i]->refs++;
    }
}

nm_query *nm_resolver_query(nm_resolver *r, const uint8_t *qname, uint16_t type, uint16_t cls,
                            const nm_query_options *o, nm_query_cb cb, void *arg)
{
    int flags = o ? o->flags : 0;
    const double *timeouts = o && o->timeouts && o->ntimeouts > 0 ? o->timeouts : r->opt.timeouts;
    int ntimeouts = o && o->timeouts && o->ntimeouts > 0 ? o->ntimeouts : r->opt.ntimeouts;
    uint8_t lower[NM_NAME_MAX];
    exchange *ex;
    nm_query *q;
    uint32_t h;
    size_t n;

    if (r->closing) return NULL;
    /* the loop's clock stands where the loop last looked: a caller that
     * worked since then would otherwise get its first try cut short
     * (inside our own callbacks it is as fresh as libuv's timers') */
    if (!r->dispatching) update_clock(r);
    if (ntimeouts > NM_MAX_TIMEOUTS) ntimeouts = NM_MAX_TIMEOUTS;
    if (flags & NM_Q_XFR) flags |= NM_Q_ALONE;
    r->stats.queries++;
    n = nm_name_len(qname);
    h = key_hash(lower_hash(lower, qname, n), type, cls, flags);
    if (!(flags & NM_Q_ALONE) && r->index) {
        for (ex = r->index[h & r->index_mask]; ex; ex = ex->hnext) {
            if (ex->hash == h && shares(ex, lower, n, type, cls, flags, timeouts, ntimeouts)) {
                r->stats.shared++;
                return subscribe(ex, cb, arg);
            }
        }
    }
    if (!(ex = new_exchange(r, o))) return NULL;
    memcpy(ex->qname, lower, n);
    memcpy(ex->sendname, qname, n);
    ex->namelen = n;
    if (r->opt.dns0x20) {
        /* random case for every letter: a spoofer must guess it too */
        uint8_t bits[NM_NAME_MAX / 8 + 1];
        nm_random_bytes(&r->rnd, bits, (n + 7) / 8);
        for (uint8_t *p = ex->sendname; *p; p += *p + 1) {
            for (uint8_t k = 1; k <= *p; k++) {
                uint8_t c = p[k] | 0x20;
                size_t i = (size_t)(p + k - ex->sendname);
                if (c >= 'a' && c <= 'z') p[k] = (bits[i / 8] >> (i % 8)) & 1 ? (uint8_t)(c - 32) : c;
            }
        }
    }
    ex->qtype = type;
    ex->qcls = cls;
    ex->flags = flags;
    ex->hash = h;
    take_servers(r, ex);
    if (!(q = subscribe(ex, cb, arg))) {
        for (int i = 0; i < ex->nservers; i++) server_release(r, ex->servers[i]);
        free_exchange(ex);
        return NULL;
    }
    if (!(flags & NM_Q_ALONE)) index_add(r, ex);
    r->in_api++;
    enqueue(r, ex);
    r->in_api--;
    return q;
}

nm_query *nm_resolver_exchange(nm_resolver *r, const uint8_t *msg, size_t len,
                               const nm_exchange_options *o, nm_query_cb cb, void *arg)
{
    exchange *ex;
    nm_query *q;
    server *s;
    double timeout = o->timeout > 0 ? o->timeout : 10;
    nm_query_options qo = { &timeout, 1, NM_Q_ALONE };

    if (r->closing || len < NM_HEADER_LEN || len > NM_MAX_MESSAGE) return NULL;
    if (!o->via && !nm_transport_ops_of(o->transport)) return NULL;
    update_clock(r);
    if (!(ex = new_exchange(r, &qo))) return NULL;
    if (!(ex->direct = malloc(len)) || !(s = calloc(1, sizeof *s))) {
        free_exchange(ex);
        return NULL;
    }
    memcpy(ex->direct, msg, len);
    ex->directlen = len;
    ex->flags = NM_Q_ALONE;
    ex->via = o->via;
    ex->transport = o->via ? o->via->ops->kind : o->transport;
    ex->qname[0] = ex->sendname[0] = 0;
    ex->namelen = 1;
    /* a server of its own, retired from the start: freed with the exchange */
    s->addr = *o->server;
    s->retired = 1;
    s->refs = 1;
    if (r->nretired == r->capretired) {
        int cap = r->capretired ? r->capretired * 2 : 8;
        server **v = realloc(r->retired, (size_t)cap * sizeof *v);
        if (!v) {
            free(s);
            free_exchange(ex);
            return NULL;
        }
        r->retired = v;
        r->capretired = cap;
    }
    r->retired[r->nretired++] = s;
    ex->servers[0] = s;
    ex->dead[0] = 0;
    ex->nservers = 1;
    if (!(q = subscribe(ex, cb, arg))) {
        server_release(r, s);
        free_exchange(ex);
        return NULL;
    }
    r->in_api++;
    enqueue(r, ex);
    r->in_api--;
    return q;
}

void nm_query_cancel(nm_query *q)
{
    exchange *ex = q->ex;
    nm_result res;
    if (!ex) return; /* being answered right now */
    if (q->prev) q->prev->next = q->next;
    else ex->subs = q->next;
    if (q->next) q->next->prev = q->prev;
    q->ex = NULL;
    if (!ex->subs) {
        /* nobody waits any more: the exchange stops, its sockets and timer
         * go with it */
        nm_resolver *r = ex->r;
        detach(ex);
        free_exchange(ex);
        start_queued(r);
    }
    memset(&res, 0, sizeof res);
    res.status = NM_ECANCELLED;
    q->cb(q->arg, &res);
    free(q);
}

/* ---------------------------------------------------- the resolver itself */

nm_resolver *nm_resolver_new(uv_loop_t *loop, const nm_resolver_options *o)
{
    nm_resolver *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->loop = loop;
    nm_clock_of_loop(&r->clock, loop);
    if (o) r->opt = *o;
    else nm_resolver_options_default(&r->opt);
    if (r->opt.ntimeouts <= 0) {
        r->opt.timeouts[0] = 5;
        r->opt.ntimeouts = 1;
    }
    if (r->opt.ntimeouts > NM_MAX_TIMEOUTS) r->opt.ntimeouts = NM_MAX_TIMEOUTS;
    if (r->opt.max_inflight <= 0) r->opt.max_inflight = 512;
    if (r->opt.udp_max_queries <= 0) r->opt.udp_max_queries = 256;
    if (r->opt.tcp_idle_ms <= 0) r->opt.tcp_idle_ms = 10000;
    if (r->opt.udp_idle_ms < 0) r->opt.udp_idle_ms = 5000;
    nm_random_init(&r->rnd);
    nm_rxbuf_init(&r->rx, RX_CHUNKS);
    if (uv_timer_init(loop, &r->timer) != 0) {
        free(r);
        return NULL;
    }
    r->timer.data = r;
    r->timer_due = UINT64_MAX;
    r->handles = 1;
    r->hooks.owner = r;
    r->hooks.closed = on_handle_closed;
    r->hooks.connected = on_connected;
    r->hooks.dropped = &r->stats.dropped;
    return r;
}

static void close_server(server *s)
{
    close_server_transports(s);
    server_free(s);
}

int nm_resolver_set_servers(nm_resolver *r, const nm_addr *addrs, int n)
{
    server **list;
    if (r->closing) return NM_ECLOSED;
    if (n < 0 || n > NM_MAX_SERVERS_ASKED) return NM_EVALUE;
    list = calloc(n ? (size_t)n : 1, sizeof *list);
    if (!list) return NM_ENOMEM;
    for (int i = 0; i < n; i++) {
        if (!(list[i] = calloc(1, sizeof *list[i]))) {
            while (i--) free(list[i]);
            free(list);
            return NM_ENOMEM;
        }
        list[i]->addr = addrs[i];
    }
    /* room to retire every old server, before anything changes */
    if (r->nretired + r->nservers > r->capretired) {
        int cap = r->capretired ? r->capretired : 8;
        server **v;
        while (cap < r->nretired + r->nservers) cap *= 2;
        if (!(v = realloc(r->retired, (size_t)cap * sizeof *v))) {
            for (int i = 0; i < n; i++) free(list[i]);
            free(list);
            return NM_ENOMEM;
        }
        r->retired = v;
        r->capretired = cap;
    }
    /* the old servers live on while exchanges still use them */
    for (int i = 0; i < r->nservers; i++) {
        server *s = r->servers[i];
        s->retired = 1;
        if (s->refs == 0) close_server(s);
        else r->retired[r->nretired++] = s;
    }
    free(r->servers);
    r->servers = list;
    r->nservers = n;
    r->next_server = 0;
    return NM_OK;
}

int nm_resolver_set_tls(nm_resolver *r, const nm_tls_config *cfg, unsigned handshake_ms, char *err,
                        size_t errlen)
{
    nm_tls_config c = *cfg;
    nm_tls_ctx *made[2];
    const nm_tls_provider *p = nm_tls_provider_get();
    if (!p) {
        snprintf(err, errlen, "the encrypted transports are not loaded");
        return NM_EVALUE;
    }
    c.alpn = "dot";
    if (!(made[0] = p->ctx_new(&c, err, errlen))) return NM_EVALUE;
    c.alpn = "h2";
    if (!(made[1] = p->ctx_new(&c, err, errlen))) {
        p->ctx_free(made[0]);
        return NM_EVALUE;
    }
    /* servers set before keep the contexts they hold */
    for (int i = 0; i < 2; i++) {
        tls_ctx_free(r->tls_ctx[i]);
        r->tls_ctx[i] = made[i];
    }
    r->handshake_ms = handshake_ms;
    r->opportunistic = !cfg->strict;
    return NM_OK;
}

void nm_resolver_set_clear_port(nm_resolver *r, uint16_t port)
{
    r->clear_port = port;
}

int nm_resolver_set_servers_ex(nm_resolver *r, const nm_server_spec *specs, int n)
{
    nm_addr addrs[NM_MAX_SERVERS_ASKED];
    int encrypted = 0;
    if (n < 0 || n > NM_MAX_SERVERS_ASKED) return NM_EVALUE;
    memset(addrs, 0, sizeof addrs);
    for (int i = 0; i < n; i++) {
        addrs[i] = specs[i].addr;
        if (specs[i].kind != NM_UDP && specs[i].kind != NM_TLS && specs[i].kind != NM_HTTPS) return NM_EVALUE;
        if (specs[i].kind == NM_HTTPS && (!specs[i].path || specs[i].path[0] != '/' || !specs[i].authority))
            return NM_EVALUE;
        encrypted |= specs[i].kind != NM_UDP;
    }
    if (encrypted && !r->tls_ctx[0]) {
        /* strict, the system's CAs */
        nm_tls_config def = {1, NULL, NULL, NULL, 0, NULL};
        char err[160];
        if (nm_resolver_set_tls(r, &def, 0, err, sizeof err) != NM_OK) return NM_EVALUE;
    }
    int rc = nm_resolver_set_servers(r, addrs, n);
    if (rc != NM_OK) return rc;
    for (int i = 0; i < n; i++) {
        server *s = r->servers[i];
        const nm_server_spec *sp = &specs[i];
        s->kind = sp->kind;
        if (sp->kind == NM_UDP) continue;
        s->sec.ctx = r->tls_ctx[sp->kind == NM_HTTPS];
        nm_tls_provider_get()->ctx_ref(s->sec.ctx); /* made by set_tls above: the provider is there */
        snprintf(s->sec.authname, sizeof s->sec.authname, "%s", sp->authname ? sp->authname : "");
        snprintf(s->sec.authority, sizeof s->sec.authority, "%s", sp->authority ? sp->authority : "");
        snprintf(s->sec.path, sizeof s->sec.path, "%s", sp->path ? sp->path : "");
        s->sec.use_get = sp->use_get;
        s->clear_addr = sp->addr;
        uint16_t port = r->clear_port ? r->clear_port : 53;
        if (s->clear_addr.u.sa.sa_family == AF_INET6) s->clear_addr.u.in6.sin6_port = htons(port);
        else s->clear_addr.u.in4.sin_port = htons(port);
        s->sec.handshake_ms = r->handshake_ms ? r->handshake_ms : 5000;
    }
    return NM_OK;
}

const nm_secure *nm_resolver_server_secure(const nm_resolver *r, int i)
{
    return i >= 0 && i < r->nservers ? &r->servers[i]->sec : NULL;
}

int nm_resolver_server_fell_back(const nm_resolver *r, int i)
{
    return i >= 0 && i < r->nservers && r->servers[i]->fell_back;
}

const nm_tls_info *nm_resolver_server_tls(const nm_resolver *r, int i)
{
    return i >= 0 && i < r->nservers && r->servers[i]->has_tls ? &r->servers[i]->tls : NULL;
}

int nm_resolver_server_kind(const nm_resolver *r, int i)
{
    return i >= 0 && i < r->nservers ? r->servers[i]->kind : -1;
}

int nm_resolver_nservers(const nm_resolver *r)
{
    return r->nservers;
}

const nm_addr *nm_resolver_server(const nm_resolver *r, int i)
{
    return i >= 0 && i < r->nservers ? &r->servers[i]->addr : NULL;
}

void nm_resolver_close(nm_resolver *r, void (*on_closed)(void *), void *arg)
{
    if (r->closing) return;
    /* closing first: a cancelled query's callback can start nothing new */
    r->closing = 1;
    r->on_closed = on_closed;
    r->on_closed_arg = arg;
    while (r->all) {
        exchange *ex = r->all;
        while (r->all == ex && ex->subs) nm_query_cancel(ex->subs);
        if (r->all == ex) {
            /* no subscriber left, yet still listed: never expected, but
             * never loop on it either */
            detach(ex);
            free_exchange(ex);
        }
    }
    for (int i = 0; i < r->nservers; i++) close_server(r->servers[i]);
    r->nservers = 0;
    for (int i = 0; i < r->nretired; i++) close_server(r->retired[i]);
    r->nretired = 0;
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, on_timer_closed);
}

int nm_resolver_set_clock(nm_resolver *r, const nm_clock *c)
{
    if (r->closing) return NM_ECLOSED;
    /* deadlines already set were measured on the other clock */
    if (r->ntimers || r->inflight || r->queue_head) return NM_EBUSY;
    if (c) r->clock = *c;
    else nm_clock_of_loop(&r->clock, r->loop);
    r->own_clock = c != NULL;
    if (r->timer_due != UINT64_MAX) uv_timer_stop(&r->timer);
    r->timer_due = UINT64_MAX;
    return NM_OK;
}

void nm_resolver_clock_moved(nm_resolver *r)
{
    if (r->closing) return;
    if (r->timer_due != UINT64_MAX) uv_timer_stop(&r->timer);
    run_due(r);
}

void nm_resolver_set_cache(nm_resolver *r, nm_cache *cache)
{
    nm_cache_retain(cache);
    nm_cache_free(r->cache);
    r->cache = cache;
}

void nm_resolver_stats_get(const nm_resolver *r, nm_resolver_stats *s)
{
    *s = r->stats;
    s->inflight_now = (uint64_t)r->inflight;
    s->timers_now = (uint64_t)r->ntimers;
}
