/* The UDP transport: one socket, bound to a random port, connected to one
 * server (the resolver's) or not (a protocol's listening port).
 *
 * Replies are read several at a time (libuv's recvmmsg) when the receive
 * buffer has room for several.  With batching on, queries queue and leave
 * with one sendmmsg: at the end of the batch of replies whose callbacks
 * queued them, or else on the loop's next turn (an idle handle).
 *
 * Lifetime: the struct holds two handles (the socket and the idle handle)
 * and is freed when both have closed. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "idtable.h"
#include "reply.h"
#include "transport.h"

#define SEND_BATCH 64

/* A query waiting to go out: its bytes are at off in the out buffer. */
typedef struct out_msg {
    nm_pending *p; /* NULL: forgotten before it left */
    uint32_t off, len;
} out_msg;

/* The queries a fail_all is calling back, in order; a callback may forget
 * (cancel, close) any of the others, which then leaves a hole.  Frames
 * nest when a callback closes the socket (close fails what is left). */
typedef struct failing {
    struct failing *up;
    uint32_t n;
    nm_pending *all[];
} failing;

struct nm_udp {
    nm_transport base;   /* first: a transport is its head */
    uv_udp_t handle;
    uv_idle_t flusher;   /* runs the queue on the loop's next turn */
    int closes_left;
    nm_addr peer;
    int connected;
    int batch;
    nm_idtable waiting;  /* id -> nm_pending */
    uint32_t sent;
    uint32_t max_queries; /* takes no more after this many (0: no limit) */
    nm_rxbuf *rx;
    nm_transport_hooks hooks;
    nm_drop_stats drops;
    uint32_t unmatched;  /* messages that answered no waiting query */
    int closing;
    failing *failing;    /* fail_all frames under way, innermost first */
    /* the queue to send (batching) */
    out_msg *out;
    uint32_t nout, capout;
    uint8_t *outbuf;
    size_t outlen, outcap;
};

/* A send that could not go at once: the request and a copy of the bytes. */
typedef struct send_req {
    uv_udp_send_t req;
    size_t len;
    uint8_t data[];
} send_req;

static nm_udp *udp_of(const nm_transport *base)
{
    return (nm_udp *)(uintptr_t)base;
}

nm_udp *nm_udp_of(nm_transport *base)
{
    return base && base->ops == &nm_udp_ops ? udp_of(base) : NULL;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    nm_udp *u = h->data;
    (void)hint;
    nm_rxbuf_get(u->rx, buf);
}

/* --------------------------------------------------------- bookkeeping */

static void set_ref(nm_udp *u)
{
    /* an idle socket never keeps the loop alive, nor does its flusher
     * (stopped then: unreferenced too, so that a resolver's socket kept
     * for its next query shows as idle in whole) */
    if (u->waiting.count) {
        uv_ref((uv_handle_t *)&u->handle);
        uv_ref((uv_handle_t *)&u->flusher);
    } else {
        uv_unref((uv_handle_t *)&u->handle);
        uv_unref((uv_handle_t *)&u->flusher);
    }
}

static void dropped(nm_udp *u)
{
    if (u->hooks.dropped) ++*u->hooks.dropped;
}

/* p leaves the socket: what it waited through is added up, and a query
 * still queued will not be sent. */
static void leave(nm_udp *u, nm_pending *p)
{
    uint32_t more = u->unmatched - p->unmatched_at;
    nm_idtable_del(&u->waiting, p->id);
    if (p->outslot) {
        u->out[p->outslot - 1].p = NULL;
        p->outslot = 0;
    }
    p->via = NULL;
    p->ignored = (uint16_t)(p->ignored + more > 0xFFFF ? 0xFFFF : p->ignored + more);
}

/* Calls back, each with NM_EIO and its error (errs[i], or err for all),
 * the queries of frame f, then frees it.  They leave the table first, and
 * until its turn comes each stays linked to the socket through the frame,
 * so that nm_udp_forget can take out one that a callback before it
 * cancelled or freed. */
static void call_back_failed(nm_udp *u, failing *f, const int *errs, int err)
{
    for (uint32_t i = 0; i < f->n; i++) {
        nm_pending *p = f->all[i];
        if (nm_idtable_get(&u->waiting, p->id) == p) leave(u, p);
        p->via = &u->base;
    }
    f->up = u->failing;
    u->failing = f;
    for (uint32_t i = 0; i < f->n; i++) {
        nm_pending *p = f->all[i];
        if (!p) continue;
        f->all[i] = NULL;
        p->via = NULL;
        p->cb(p, NM_EIO, NULL, errs ? errs[i] : err);
    }
    u->failing = f->up;
    free(f);
}

/* Every query waiting now learns that this socket failed.  They are taken
 * out first: a callback that sends again on this socket starts afresh. */
static void fail_all(nm_udp *u, int err)
{
    nm_pending *p;
    failing *f;
    uint32_t n = u->waiting.count, k = 0;
    if (n && (f = malloc(sizeof *f + n * sizeof *f->all)) != NULL) {
        while ((p = nm_idtable_any(&u->waiting))) {
            leave(u, p);
            f->all[k++] = p;
        }
        f->n = k;
        call_back_failed(u, f, NULL, err);
    } else {
        while ((p = nm_idtable_any(&u->waiting))) {
            leave(u, p);
            p->cb(p, NM_EIO, NULL, err);
        }
    }
    if (!u->closing) set_ref(u);
}

static void flush(nm_udp *u);

/* ------------------------------------------------------------ receiving */

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from,
                    unsigned flags)
{
    nm_udp *u = h->data;
    const uint8_t *data = (const uint8_t *)buf->base;
    nm_pending *p;
    nm_msg msg;
    (void)flags;

    if (nread < 0) {
        /* ICMP port unreachable on a connected socket: the server is not
         * listening, and every query to it can stop waiting now */
        if (u->connected && nread == UV_ECONNREFUSED) fail_all(u, (int)nread);
        return;
    }
    if (!from) {
        /* nothing more to read, or the end of a batch: what the replies'
         * callbacks queued on this socket leaves now, not a loop turn
         * later (at one query in flight that turn is on every lookup's
         * path; a query on another socket still waits for its idle) */
        if (u->nout && !u->closing) {
            uv_idle_stop(&u->flusher);
            flush(u);
        }
        return;
    }
    if (u->connected && !nm_addr_equal(&u->peer, from)) {
        u->drops.bad_source++;
        u->unmatched++;
        dropped(u);
        return;
    }
    if (nread < NM_HEADER_LEN) {
        u->drops.malformed++;
        u->unmatched++;
        dropped(u);
        return;
    }
    p = nm_idtable_get(&u->waiting, nm_get16(data));
    if (!p) {
        u->drops.unknown_id++;
        if (u->hooks.unsolicited) {
            u->hooks.unsolicited(u->hooks.owner, &u->base, data, (size_t)nread, from);
        } else {
            u->unmatched++;
            dropped(u);
        }
        return;
    }
    if (!u->connected && !nm_addr_equal(p->to, from)) {
        u->drops.bad_source++;
        p->ignored++;
        dropped(u);
        return;
    }
    if (!nm_reply_check(p, data, (size_t)nread, &msg, &u->drops)) {
        dropped(u);
        return;
    }
    leave(u, p);
    set_ref(u);
    p->cb(p, NM_OK, &msg, 0);
    nm_msg_release(&msg);
}

/* -------------------------------------------------------------- opening */

static int bind_random(nm_udp *u, int family, nm_random *rnd)
{
    nm_addr any;
    int rc = UV_EADDRINUSE;
    memset(&any, 0, sizeof any);
    any.u.sa.sa_family = (sa_family_t)family;
    any.len = family == AF_INET ? sizeof any.u.in4 : sizeof any.u.in6;
    /* The kernel's ephemeral ports are predictable enough to guess; draw
     * the port from the CSPRNG and let the kernel choose only as a last
     * resort. */
    for (int tries = 0; tries < 20 && rc == UV_EADDRINUSE; tries++) {
        uint16_t port = (uint16_t)(1024 + nm_random16(rnd) % (65536 - 1024));
        if (family == AF_INET) any.u.in4.sin_port = htons(port);
        else any.u.in6.sin6_port = htons(port);
        rc = uv_udp_bind(&u->handle, &any.u.sa, 0);
    }
    if (rc == UV_EADDRINUSE || rc == UV_EACCES) {
        if (family == AF_INET) any.u.in4.sin_port = 0;
        else any.u.in6.sin6_port = 0;
        rc = uv_udp_bind(&u->handle, &any.u.sa, 0);
    }
    return rc;
}

static void on_closed(uv_handle_t *h)
{
    nm_udp *u = h->data;
    nm_transport_hooks hooks = u->hooks;
    if (--u->closes_left > 0) return;
    nm_idtable_free(&u->waiting);
    free(u->out);
    free(u->outbuf);
    /* the owner forgets it first: nothing may point to it once freed */
    if (hooks.closed) hooks.closed(hooks.owner, &u->base);
    free(u);
}

static void close_handles(nm_udp *u)
{
    u->closes_left = 2;
    uv_close((uv_handle_t *)&u->handle, on_closed);
    uv_close((uv_handle_t *)&u->flusher, on_closed);
}

static nm_transport *udp_open(const nm_transport_config *c, int *err)
{
    nm_udp *u = calloc(1, sizeof *u);
    const nm_addr *peer = c->peer, *bind_to = c->bind_to;
    unsigned flags;
    int family, rc;
    if (!u) {
        *err = UV_ENOMEM;
        return NULL;
    }
    u->base.ops = &nm_udp_ops;
    family = peer ? peer->u.sa.sa_family : bind_to ? bind_to->u.sa.sa_family : AF_INET;
    /* several replies a system call when the buffer holds several */
    flags = (unsigned)family | (c->rx->chunks > 1 ? UV_UDP_RECVMMSG : 0);
    if ((rc = uv_udp_init_ex(c->loop, &u->handle, flags)) != 0) {
        free(u);
        *err = rc;
        return NULL;
    }
    uv_idle_init(c->loop, &u->flusher);
    u->handle.data = u->flusher.data = u;
    u->rx = c->rx;
    u->hooks = *c->hooks;
    u->batch = c->batch;
    u->max_queries = c->max_queries;
    nm_idtable_init(&u->waiting);
    /* room for every query it may ever have waiting (an optimisation) */
    if (c->max_queries) nm_idtable_reserve(&u->waiting, c->max_queries);
    rc = bind_to ? uv_udp_bind(&u->handle, &bind_to->u.sa, 0) : bind_random(u, family, c->rnd);
    if (rc == 0 && peer) {
        u->peer = *peer;
        u->connected = 1;
        rc = uv_udp_connect(&u->handle, &peer->u.sa);
    }
    if (rc == 0) rc = uv_udp_recv_start(&u->handle, on_alloc, on_recv);
    if (rc != 0) {
        /* closed through libuv all the same: the handles are in the loop */
        u->hooks.closed = NULL;
        u->closing = 1;
        close_handles(u);
        *err = rc;
        return NULL;
    }
    set_ref(u);
    return &u->base;
}

static int udp_id_free(const nm_transport *base, uint16_t id)
{
    return nm_idtable_get(&udp_of(base)->waiting, id) == NULL;
}

/* --------------------------------------------------------------- sending */

static void on_sent(uv_udp_send_t *req, int status)
{
    (void)status; /* a lost datagram is a timeout to the resolver */
    free(req);
}

/* Hands a datagram to libuv, which writes it when the socket can take it
 * (a copy of the bytes goes with the request). */
static int send_later(nm_udp *u, const uint8_t *msg, size_t len, const struct sockaddr *dest)
{
    send_req *r = malloc(sizeof *r + len);
    uv_buf_t buf;
    int rc;
    if (!r) return UV_ENOMEM;
    memcpy(r->data, msg, len);
    r->len = len;
    buf = uv_buf_init((char *)r->data, (unsigned)len);
    rc = uv_udp_send(&r->req, &u->handle, &buf, 1, dest, on_sent);
    if (rc) free(r);
    return rc;
}

static int send_bytes(nm_udp *u, const uint8_t *msg, size_t len, const nm_addr *to)
{
    uv_buf_t buf = uv_buf_init((char *)(uintptr_t)msg, (unsigned)len);
    const struct sockaddr *dest = u->connected ? NULL : &to->u.sa;
    int rc = uv_udp_try_send(&u->handle, &buf, 1, dest);
    if (rc >= 0) return 0;
    if (rc == UV_EAGAIN || rc == UV_ENOSYS) rc = send_later(u, msg, len, dest);
    return rc;
}

/* Hands n datagrams to the kernel with one system call, on the socket
 * under libuv's handle; returns how many went, or -1 with errno.  Linux
 * (and the BSDs since 2018) only: libuv has no batched send.  What breaks
 * it: a platform without sendmmsg (a build error: fall back to a loop of
 * uv_udp_try_send there), or a libuv that queues writes of its own on the
 * handle (ours would overtake them: libuv today writes at once or queues
 * only when the socket is full, and we send later in that case too). */
static int send_datagrams(uv_os_fd_t fd, struct mmsghdr *msgs, unsigned n)
{
    int sent;
    do {
        sent = sendmmsg(fd, msgs, n, 0);
    } while (sent < 0 && errno == EINTR);
    return sent;
}

/* Sends what is queued: SEND_BATCH datagrams a system call.  Queries whose
 * datagram the kernel refuses learn it once the queue is done with. */
static void flush(nm_udp *u)
{
    struct mmsghdr msgs[SEND_BATCH];
    struct iovec iov[SEND_BATCH];
    failing *f = NULL; /* the queries refused, made on the first refusal */
    int *errs = NULL;
    uint32_t cap = u->nout;
    uv_os_fd_t fd;
    uint32_t i = 0;

    if (!u->nout || u->closing) return;
    if (uv_fileno((uv_handle_t *)&u->handle, &fd) != 0) fd = -1;
    while (i < u->nout) {
        uint32_t idx[SEND_BATCH];
        int k = 0, sent;
        for (; i < u->nout && k < SEND_BATCH; i++) {
            out_msg *m = &u->out[i];
            if (!m->p) continue;
            memset(&msgs[k], 0, sizeof msgs[k]);
            iov[k].iov_base = u->outbuf + m->off;
            iov[k].iov_len = m->len;
            msgs[k].msg_hdr.msg_iov = &iov[k];
            msgs[k].msg_hdr.msg_iovlen = 1;
            if (!u->connected) {
                msgs[k].msg_hdr.msg_name = (void *)(uintptr_t)&m->p->to->u.sa;
                msgs[k].msg_hdr.msg_namelen = m->p->to->len;
            }
            idx[k++] = i;
        }
        for (int j = 0; j < k;) {
            sent = fd < 0 ? -1 : send_datagrams(fd, msgs + j, (unsigned)(k - j));
            if (sent > 0) {
                j += sent;
                continue;
            }
            {
                out_msg *m = &u->out[idx[j]];
                int err = fd < 0 ? UV_EBADF : -errno;
                if (err == UV_EAGAIN || err == UV_ENOBUFS)
                    err = send_later(u, u->outbuf + m->off, m->len,
                                     u->connected ? NULL : &m->p->to->u.sa);
                if (err && !f && (f = malloc(sizeof *f + cap * (sizeof *f->all + sizeof *errs)))) {
                    errs = (int *)(void *)(f->all + cap);
                    f->n = 0;
                }
                /* (without memory for the list, the query waits out its
                 * time as if the datagram were lost) */
                if (err && f) {
                    errs[f->n] = err;
                    f->all[f->n++] = m->p;
                }
                j++;
            }
        }
    }
    for (i = 0; i < u->nout; i++)
        if (u->out[i].p) u->out[i].p->outslot = 0;
    u->nout = 0;
    u->outlen = 0;
    /* the failures last: their callbacks may queue again, and cancel or
     * free any of the others */
    if (f) call_back_failed(u, f, errs, 0);
    if (!u->closing) set_ref(u);
}

static void on_flush(uv_idle_t *idle)
{
    nm_udp *u = idle->data;
    uv_idle_stop(idle);
    flush(u);
}

/* Queues p's datagram; the flusher sends it on the loop's next turn. */
static int enqueue(nm_udp *u, nm_pending *p)
{
    if (u->nout == u->capout) {
        uint32_t cap = u->capout ? u->capout * 2 : 64;
        out_msg *o = realloc(u->out, cap * sizeof *o);
        if (!o) return UV_ENOMEM;
        u->out = o;
        u->capout = cap;
    }
    if (u->outlen + p->sentlen > u->outcap) {
        size_t cap = u->outcap ? u->outcap : 4096;
        uint8_t *b;
        while (cap < u->outlen + p->sentlen) cap *= 2;
        if (!(b = realloc(u->outbuf, cap))) return UV_ENOMEM;
        u->outbuf = b;
        u->outcap = cap;
    }
    memcpy(u->outbuf + u->outlen, p->sent, p->sentlen);
    u->out[u->nout].p = p;
    u->out[u->nout].off = (uint32_t)u->outlen;
    u->out[u->nout].len = (uint32_t)p->sentlen;
    u->outlen += p->sentlen;
    p->outslot = ++u->nout;
    if (u->nout == 1) uv_idle_start(&u->flusher, on_flush);
    return 0;
}

static int udp_send(nm_transport *base, nm_pending *p, int *err)
{
    nm_udp *u = udp_of(base);
    int rc;
    if (u->closing) {
        *err = UV_ECANCELED;
        return NM_EIO;
    }
    if (nm_idtable_put(&u->waiting, p->id, p)) {
        *err = UV_ENOMEM;
        return NM_EIO;
    }
    p->via = &u->base;
    p->ignored = 0;
    p->answered = 0;
    p->outslot = 0;
    p->unmatched_at = u->unmatched;
    rc = u->batch ? enqueue(u, p) : send_bytes(u, p->sent, p->sentlen, p->to);
    if (rc) {
        nm_idtable_del(&u->waiting, p->id);
        p->via = NULL;
        *err = rc;
        return NM_EIO;
    }
    u->sent++;
    set_ref(u);
    return NM_OK;
}

int nm_udp_send_raw(nm_udp *u, const uint8_t *msg, size_t len, const nm_addr *to)
{
    if (u->closing) return NM_ECLOSED;
    return send_bytes(u, msg, len, to) ? NM_EIO : NM_OK;
}

static void udp_forget(nm_pending *p)
{
    nm_udp *u = p->via ? udp_of(p->via) : NULL;
    if (!u) return;
    for (failing *f = u->failing; f; f = f->up)
        for (uint32_t i = 0; i < f->n; i++)
            if (f->all[i] == p) f->all[i] = NULL;
    if (nm_idtable_get(&u->waiting, p->id) == p) leave(u, p);
    p->via = NULL;
    if (!u->closing) set_ref(u);
}

static int udp_pending(const nm_transport *base)
{
    return (int)udp_of(base)->waiting.count;
}

static int udp_usable(const nm_transport *base)
{
    const nm_udp *u = udp_of(base);
    return !u->closing && (!u->max_queries || u->sent < u->max_queries);
}

uint16_t nm_udp_port(const nm_udp *u)
{
    nm_addr a;
    int len = sizeof a.u;
    if (uv_udp_getsockname(&u->handle, &a.u.sa, &len) != 0) return 0;
    a.len = (socklen_t)len;
    return nm_addr_port(&a);
}

const nm_drop_stats *nm_udp_drops(const nm_udp *u)
{
    return &u->drops;
}

static void udp_close(nm_transport *base)
{
    nm_udp *u = udp_of(base);
    if (u->closing) return;
    u->closing = 1;
    uv_udp_recv_stop(&u->handle);
    uv_idle_stop(&u->flusher);
    /* what is still queued is never sent: its queries fail below */
    fail_all(u, UV_ECANCELED);
    u->nout = 0;
    close_handles(u);
}

const nm_transport_ops nm_udp_ops = {
    "udp", NM_UDP, 0, udp_open, udp_send, udp_forget, udp_id_free, udp_pending, udp_usable,
    udp_close, NULL, /* always up */
};
