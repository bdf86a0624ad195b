/* The TCP transport: one connection to one server, RFC 7766 style.
 * Messages carry a two-byte length (stream_frame.h); several queries share the connection
 * (pipelined, answered in any order); a zone transfer's messages all come
 * to one waiting query; an idle connection closes after idle_ms. */
#include <signal.h>
#include <stdlib.h>

#include "idtable.h"
#include "reply.h"
#include "stream_frame.h"
#include "transport.h"

enum { CONNECTING, OPEN, CLOSING };

typedef struct write_req {
    uv_write_t req;
    size_t len;
    uint8_t data[];
} write_req;

/* A query written once the connection is open: a copy of its bytes. */
typedef struct unsent {
    nm_pending *p;
    write_req *w;
} unsent;

struct nm_tcp {
    nm_transport base;   /* first: a transport is its head */
    uv_tcp_t handle;
    uv_timer_t idle;
    uv_connect_t connect;
    nm_addr peer;
    int state;
    int closes_left;     /* handles whose close callback is still to come */
    int idle_ms;
    nm_idtable waiting;  /* id -> nm_pending */
    unsent *unsent;      /* queued until the connection is open */
    int nunsent, capunsent;
    nm_frame_reader frames; /* bytes read and not yet a whole message */
    nm_rxbuf *rx;
    nm_transport_hooks hooks;
    nm_drop_stats drops;
    uint32_t unmatched;  /* messages that answered no waiting query */
    uint32_t replies;    /* messages that answered one */
};

static void on_closed(uv_handle_t *h)
{
    nm_tcp *t = h->data;
    nm_transport_hooks hooks;
    if (--t->closes_left > 0) return;
    hooks = t->hooks;
    nm_idtable_free(&t->waiting);
    free(t->unsent);
    nm_frame_reader_free(&t->frames);
    /* the owner forgets it first: nothing may point to it once freed */
    if (hooks.closed) hooks.closed(hooks.owner, &t->base);
    free(t);
}

static void on_idle(uv_timer_t *timer);

static void set_idle(nm_tcp *t)
{
    if (t->state == CLOSING) return;
    if (t->waiting.count || t->nunsent) {
        uv_timer_stop(&t->idle);
        uv_ref((uv_handle_t *)&t->handle);
    } else {
        /* idle: close in a while, and never hold the loop open meanwhile */
        uv_unref((uv_handle_t *)&t->handle);
        if (t->state == OPEN) uv_timer_start(&t->idle, on_idle, (uint64_t)t->idle_ms, 0);
    }
}

static void dropped(nm_tcp *t)
{
    if (t->hooks.dropped) ++*t->hooks.dropped;
}

/* p leaves the connection: what it waited through is added up. */
static void leave(nm_tcp *t, nm_pending *p)
{
    uint32_t more = t->unmatched - p->unmatched_at;
    nm_idtable_del(&t->waiting, p->id);
    p->via = NULL;
    p->ignored = (uint16_t)(p->ignored + more > 0xFFFF ? 0xFFFF : p->ignored + more);
}

static void shut(nm_tcp *t, int err)
{
    nm_pending *p;
    if (t->state == CLOSING) return;
    t->state = CLOSING;
    uv_timer_stop(&t->idle);
    /* every query waiting here has lost its chance on this connection;
     * callbacks cannot add any (the connection is closing) */
    while (t->nunsent) {
        unsent *u = &t->unsent[--t->nunsent];
        free(u->w);
        p = u->p;
        leave(t, p);
        p->cb(p, NM_EIO, NULL, err);
    }
    while ((p = nm_idtable_any(&t->waiting))) {
        leave(t, p);
        /* sent on a connection that has answered something by now (not
         * only when it was sent: queries pipelined before the first
         * answer count too): RFC 7766 6.2.1's case for asking again */
        p->reused = t->replies > 0;
        p->cb(p, NM_EIO, NULL, err);
    }
    t->closes_left = 2;
    uv_close((uv_handle_t *)&t->handle, on_closed);
    uv_close((uv_handle_t *)&t->idle, on_closed);
}

static void on_idle(uv_timer_t *timer)
{
    nm_tcp *t = timer->data;
    if (!t->waiting.count && !t->nunsent) shut(t, UV_ETIMEDOUT);
}

static void on_written(uv_write_t *req, int status)
{
    nm_tcp *t = req->handle->data;
    free(req);
    if (status < 0 && status != UV_ECANCELED) shut(t, status);
}

static write_req *frame(const uint8_t *msg, size_t len)
{
    write_req *w = malloc(sizeof *w + len + NM_FRAME_PREFIX);
    if (!w) return NULL;
    w->len = nm_frame_put(w->data, msg, len);
    return w;
}

/* Writes a framed message; w is freed in any case. */
static int write_framed(nm_tcp *t, write_req *w)
{
    uv_buf_t buf = uv_buf_init((char *)w->data, (unsigned)w->len);
    int rc = uv_write(&w->req, (uv_stream_t *)&t->handle, &buf, 1, on_written);
    if (rc) free(w);
    return rc;
}

static int write_message(nm_tcp *t, const uint8_t *msg, size_t len)
{
    write_req *w = frame(msg, len);
    return w ? write_framed(t, w) : UV_ENOMEM;
}

/* One whole message read; nonzero when the connection is closing now
 * (a callback closed it, or gave up on it). */
static int deliver(void *arg, const uint8_t *data, size_t len)
{
    nm_tcp *t = arg;
    nm_pending *p;
    nm_msg msg;
    if (len < NM_HEADER_LEN) {
        t->drops.malformed++;
        t->unmatched++;
        dropped(t);
        return 0;
    }
    p = nm_idtable_get(&t->waiting, nm_get16(data));
    if (!p) {
        t->drops.unknown_id++;
        if (t->hooks.unsolicited) {
            t->hooks.unsolicited(t->hooks.owner, &t->base, data, len, &t->peer.u.sa);
        } else {
            t->unmatched++;
            dropped(t);
        }
        return t->state != OPEN;
    }
    if (!nm_reply_check(p, data, len, &msg, &t->drops)) {
        dropped(t);
        return 0;
    }
    if (p->stream) p->answered = 1;
    else leave(t, p);
    t->replies++;
    p->cb(p, NM_OK, &msg, 0);
    nm_msg_release(&msg);
    return t->state != OPEN;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    nm_tcp *t = h->data;
    (void)hint;
    nm_rxbuf_get(t->rx, buf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    nm_tcp *t = s->data;
    int rc;
    if (nread < 0) {
        shut(t, (int)nread);
        return;
    }
    if (nread == 0 || t->state != OPEN) return;
    rc = nm_frame_feed(&t->frames, (const uint8_t *)buf->base, (size_t)nread, deliver, t);
    if (rc == NM_ENOMEM) {
        shut(t, UV_ENOMEM);
        return;
    }
    if (t->state == CLOSING) return; /* the buffer goes with the connection */
    set_idle(t);
}

static void on_connect(uv_connect_t *req, int status)
{
    nm_tcp *t = req->data;
    int rc;
    if (t->state == CLOSING) return;
    if (status < 0) {
        if (t->hooks.connected) t->hooks.connected(t->hooks.owner, t, status);
        shut(t, status);
        return;
    }
    t->state = OPEN;
    if (t->hooks.connected) t->hooks.connected(t->hooks.owner, t, 0);
    if (t->state != OPEN) return;
    uv_tcp_nodelay(&t->handle, 1);
    if ((rc = uv_read_start((uv_stream_t *)&t->handle, on_alloc, on_read)) != 0) {
        shut(t, rc);
        return;
    }
    for (int i = 0, n = t->nunsent; i < n; i++) {
        /* in order; nothing here calls back until the loop runs again */
        if ((rc = write_framed(t, t->unsent[i].w)) != 0) {
            /* the written ones and this one are gone from the list */
            t->nunsent = n - i - 1;
            memmove(t->unsent, t->unsent + i + 1, (size_t)t->nunsent * sizeof *t->unsent);
            shut(t, rc);
            return;
        }
    }
    t->nunsent = 0;
    set_idle(t);
}

/* libuv writes with writev: a write to a connection the server has closed
 * raises SIGPIPE, whose default kills the process.  Nothing a server does
 * may do that, so unless the program chose its own disposition, SIGPIPE is
 * ignored (the write then fails with EPIPE and the connection closes), as
 * Python and Node.js do. */
static void ignore_sigpipe(void)
{
    static int done;
    struct sigaction sa;
    if (done) return;
    done = 1;
    if (sigaction(SIGPIPE, NULL, &sa) != 0) return;
    if ((sa.sa_flags & SA_SIGINFO) || sa.sa_handler != SIG_DFL) return;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
}

static nm_transport *tcp_open(const nm_transport_config *c, int *err)
{
    nm_tcp *t;
    const nm_addr *peer = c->peer;
    int rc;
    if (!peer) {
        *err = UV_EINVAL;
        return NULL;
    }
    if (!(t = calloc(1, sizeof *t))) {
        *err = UV_ENOMEM;
        return NULL;
    }
    t->base.ops = &nm_tcp_ops;
    ignore_sigpipe();
    if ((rc = uv_tcp_init(c->loop, &t->handle)) != 0) {
        free(t);
        *err = rc;
        return NULL;
    }
    uv_timer_init(c->loop, &t->idle);
    uv_unref((uv_handle_t *)&t->idle);
    t->handle.data = t->idle.data = t->connect.data = t;
    t->peer = *peer;
    t->idle_ms = c->idle_ms > 0 ? c->idle_ms : 1;
    t->rx = c->rx;
    t->hooks = *c->hooks;
    t->state = CONNECTING;
    nm_idtable_init(&t->waiting);
    /* a local address of the caller's (reactor.connectTCP's bindAddress) */
    if (c->bind_to && (rc = uv_tcp_bind(&t->handle, &c->bind_to->u.sa, 0)) != 0) {
        t->hooks.closed = NULL;
        shut(t, rc);
        *err = rc;
        return NULL;
    }
    if ((rc = uv_tcp_connect(&t->connect, &t->handle, &peer->u.sa, on_connect)) != 0) {
        t->hooks.closed = NULL;
        shut(t, rc);
        *err = rc;
        return NULL;
    }
    return &t->base;
}

static nm_tcp *tcp_of(const nm_transport *base)
{
    return (nm_tcp *)(uintptr_t)base;
}

nm_tcp *nm_tcp_of(nm_transport *base)
{
    return base && base->ops == &nm_tcp_ops ? tcp_of(base) : NULL;
}

static int tcp_id_free(const nm_transport *base, uint16_t id)
{
    return nm_idtable_get(&tcp_of(base)->waiting, id) == NULL;
}

static int tcp_usable(const nm_transport *base)
{
    return tcp_of(base)->state != CLOSING;
}

static int tcp_pending(const nm_transport *base)
{
    return (int)tcp_of(base)->waiting.count;
}

static int tcp_send(nm_transport *base, nm_pending *p, int *err)
{
    nm_tcp *t = tcp_of(base);
    int rc;
    if (t->state == CLOSING) {
        *err = UV_ECANCELED;
        return NM_EIO;
    }
    if (p->sentlen > NM_MAX_MESSAGE || nm_idtable_put(&t->waiting, p->id, p)) {
        *err = UV_ENOMEM;
        return NM_EIO;
    }
    p->via = &t->base;
    p->ignored = 0;
    p->answered = 0;
    p->reused = t->replies > 0;
    p->unmatched_at = t->unmatched;
    if (t->state == CONNECTING) {
        write_req *w = NULL;
        if (t->nunsent == t->capunsent) {
            int cap = t->capunsent ? t->capunsent * 2 : 8;
            unsent *q = realloc(t->unsent, (size_t)cap * sizeof *q);
            if (q) {
                t->unsent = q;
                t->capunsent = cap;
            }
        }
        if (t->nunsent == t->capunsent || !(w = frame(p->sent, p->sentlen))) {
            nm_idtable_del(&t->waiting, p->id);
            p->via = NULL;
            *err = UV_ENOMEM;
            return NM_EIO;
        }
        t->unsent[t->nunsent].p = p;
        t->unsent[t->nunsent++].w = w;
    } else if ((rc = write_message(t, p->sent, p->sentlen)) != 0) {
        nm_idtable_del(&t->waiting, p->id);
        p->via = NULL;
        *err = rc;
        return NM_EIO;
    }
    set_idle(t);
    return NM_OK;
}

static void tcp_forget(nm_pending *p)
{
    nm_tcp *t = p->via ? tcp_of(p->via) : NULL;
    if (!t) return;
    if (nm_idtable_get(&t->waiting, p->id) == p) leave(t, p);
    for (int i = 0; i < t->nunsent; i++) {
        if (t->unsent[i].p == p) {
            /* never written: the server never sees it */
            free(t->unsent[i].w);
            memmove(t->unsent + i, t->unsent + i + 1,
                    (size_t)(t->nunsent - i - 1) * sizeof *t->unsent);
            t->nunsent--;
            break;
        }
    }
    p->via = NULL;
    set_idle(t);
}

static void tcp_close(nm_transport *base)
{
    shut(tcp_of(base), UV_ECANCELED);
}

int nm_tcp_write_raw(nm_tcp *t, const uint8_t *msg, size_t len)
{
    if (t->state != OPEN) return NM_ECLOSED;
    if (len > NM_MAX_MESSAGE) return NM_ETOOBIG;
    return write_message(t, msg, len) ? NM_EIO : NM_OK;
}

const nm_transport_ops nm_tcp_ops = {
    "tcp", NM_TCP, 1, tcp_open, tcp_send, tcp_forget, tcp_id_free, tcp_pending, tcp_usable,
    tcp_close, NULL, /* up once connected: a timeout is a timeout */
};
