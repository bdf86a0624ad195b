/* The DNS over TLS transport (RFC 7858): TCP's behaviour (RFC 7766:
 * pipelined queries answered in any order, two-octet framing, an idle
 * close) on a TLS stream of tls.h.  Queries written before the handshake
 * ends wait inside the TLS stream; a server that fails authentication
 * (strict) never sees them.  A failed connection's status reaches every
 * waiting query as err = NM_ERR_TLS(status). */
#include <stdlib.h>

#include "idtable.h"
#include "reply.h"
#include "stream_frame.h"
#include "tls.h"
#include "transport.h"

enum { OPENING, OPEN, CLOSING };

typedef struct nm_dot {
    nm_transport base;   /* first: a transport is its head */
    nm_tls *tls;
    uv_timer_t idle;
    int state;
    int closes_left;     /* the TLS stream and the timer */
    int idle_ms;
    nm_idtable waiting;
    nm_frame_reader frames;
    nm_transport_hooks hooks;
    nm_drop_stats drops;
    uint32_t unmatched, replies;
    nm_addr peer;
} nm_dot;

static nm_dot *dot_of(const nm_transport *base)
{
    return (nm_dot *)(uintptr_t)base;
}

static void closed_one(nm_dot *t)
{
    if (--t->closes_left > 0) return;
    nm_transport_hooks hooks = t->hooks;
    nm_idtable_free(&t->waiting);
    nm_frame_reader_free(&t->frames);
    if (hooks.closed) hooks.closed(hooks.owner, &t->base);
    free(t);
}

static void on_timer_closed(uv_handle_t *h)
{
    closed_one(h->data);
}

static void on_tls_freed(void *owner, nm_tls *tls)
{
    (void)tls;
    closed_one(owner);
}

static void on_idle(uv_timer_t *timer);

static void set_idle(nm_dot *t)
{
    if (t->state == CLOSING) return;
    if (t->waiting.count) {
        uv_timer_stop(&t->idle);
        nm_tls_ref(t->tls, 1);
    } else {
        nm_tls_ref(t->tls, 0);
        uv_timer_start(&t->idle, on_idle, (uint64_t)t->idle_ms, 0);
    }
}

static void leave(nm_dot *t, nm_pending *p)
{
    uint32_t more = t->unmatched - p->unmatched_at;
    nm_idtable_del(&t->waiting, p->id);
    p->via = NULL;
    p->ignored = (uint16_t)(p->ignored + more > 0xFFFF ? 0xFFFF : p->ignored + more);
}

/* Every waiting query loses its chance here; the handles close. */
static void shut(nm_dot *t, int err)
{
    nm_pending *p;
    if (t->state == CLOSING) return;
    t->state = CLOSING;
    uv_timer_stop(&t->idle);
    while ((p = nm_idtable_any(&t->waiting))) {
        leave(t, p);
        p->reused = t->replies > 0;
        p->cb(p, NM_EIO, NULL, err);
    }
    nm_tls_close(t->tls);
    uv_close((uv_handle_t *)&t->idle, on_timer_closed);
}

static void on_idle(uv_timer_t *timer)
{
    nm_dot *t = timer->data;
    if (!t->waiting.count) shut(t, UV_ETIMEDOUT);
}

static void dropped(nm_dot *t)
{
    t->unmatched++;
    if (t->hooks.dropped) ++*t->hooks.dropped;
}

static int deliver(void *arg, const uint8_t *data, size_t len)
{
    nm_dot *t = arg;
    nm_pending *p;
    nm_msg msg;
    if (len < NM_HEADER_LEN) {
        t->drops.malformed++;
        dropped(t);
        return 0;
    }
    p = nm_idtable_get(&t->waiting, nm_get16(data));
    if (!p) {
        t->drops.unknown_id++;
        dropped(t);
        return 0;
    }
    if (!nm_reply_check(p, data, len, &msg, &t->drops)) {
        if (t->hooks.dropped) ++*t->hooks.dropped;
        return 0;
    }
    if (p->stream) p->answered = 1;
    else leave(t, p);
    t->replies++;
    p->cb(p, NM_OK, &msg, 0);
    nm_msg_release(&msg);
    return t->state != OPEN;
}

static void on_ready(void *owner, nm_tls *tls)
{
    nm_dot *t = owner;
    (void)tls;
    if (t->state == OPENING) t->state = OPEN;
    if (t->hooks.connected) t->hooks.connected(t->hooks.owner, &t->base, 0);
}

static void on_data(void *owner, nm_tls *tls, const uint8_t *p, size_t n)
{
    nm_dot *t = owner;
    (void)tls;
    if (t->state != OPEN) return;
    int rc = nm_frame_feed(&t->frames, p, n, deliver, t);
    if (rc == NM_ENOMEM) {
        shut(t, UV_ENOMEM);
        return;
    }
    if (t->state == OPEN) set_idle(t);
}

static void on_failed(void *owner, nm_tls *tls, int status)
{
    nm_dot *t = owner;
    (void)tls;
    if (t->state == OPENING && t->hooks.connected)
        t->hooks.connected(t->hooks.owner, &t->base, NM_ERR_TLS(status));
    shut(t, NM_ERR_TLS(status));
}

nm_tls *nm_dot_tls(nm_transport *base)
{
    return base && base->ops == &nm_dot_ops ? dot_of(base)->tls : NULL;
}

static nm_transport *dot_open(const nm_transport_config *c, int *err)
{
    if (!c->peer || !c->secure || !c->secure->ctx) {
        *err = UV_EINVAL;
        return NULL;
    }
    nm_dot *t = calloc(1, sizeof *t);
    if (!t) {
        *err = UV_ENOMEM;
        return NULL;
    }
    t->base.ops = &nm_dot_ops;
    t->hooks = *c->hooks;
    t->peer = *c->peer;
    t->idle_ms = c->idle_ms > 0 ? c->idle_ms : 1;
    t->state = OPENING;
    nm_idtable_init(&t->waiting);
    nm_tls_hooks th = {t, on_ready, on_data, on_failed, on_tls_freed};
    const char *name = c->secure->authname[0] ? c->secure->authname : NULL;
    t->tls = nm_tls_open(c->loop, c->secure->ctx, c->peer, name, c->secure->handshake_ms, &th, err);
    if (!t->tls) {
        free(t);
        return NULL;
    }
    uv_timer_init(c->loop, &t->idle);
    t->idle.data = t;
    /* an idle connection never holds the loop open */
    uv_unref((uv_handle_t *)&t->idle);
    t->closes_left = 2;
    return &t->base;
}

static int dot_send(nm_transport *base, nm_pending *p, int *err)
{
    nm_dot *t = dot_of(base);
    uint8_t *framed;
    if (t->state == CLOSING) {
        *err = UV_ECANCELED;
        return NM_EIO;
    }
    if (p->sentlen > NM_MAX_MESSAGE || nm_idtable_put(&t->waiting, p->id, p) ||
        !(framed = malloc(p->sentlen + NM_FRAME_PREFIX))) {
        nm_idtable_del(&t->waiting, p->id);
        *err = UV_ENOMEM;
        return NM_EIO;
    }
    size_t n = nm_frame_put(framed, p->sent, p->sentlen);
    int rc = nm_tls_write(t->tls, framed, n);
    free(framed);
    if (rc != NM_TLS_OK) {
        nm_idtable_del(&t->waiting, p->id);
        *err = NM_ERR_TLS(rc);
        return NM_EIO;
    }
    p->via = &t->base;
    p->ignored = 0;
    p->answered = 0;
    p->reused = t->replies > 0;
    p->unmatched_at = t->unmatched;
    set_idle(t);
    return NM_OK;
}

static void dot_forget(nm_pending *p)
{
    nm_dot *t = p->via ? dot_of(p->via) : NULL;
    if (!t) return;
    if (nm_idtable_get(&t->waiting, p->id) == p) leave(t, p);
    p->via = NULL;
    set_idle(t);
}

static int dot_id_free(const nm_transport *base, uint16_t id)
{
    return nm_idtable_get(&dot_of(base)->waiting, id) == NULL;
}

static int dot_pending(const nm_transport *base)
{
    return (int)dot_of(base)->waiting.count;
}

static int dot_usable(const nm_transport *base)
{
    return dot_of(base)->state != CLOSING;
}

static int dot_established(const nm_transport *base)
{
    const nm_dot *t = dot_of(base);
    return t->state != CLOSING && t->tls && nm_tls_is_ready(t->tls);
}

static void dot_close(nm_transport *base)
{
    shut(dot_of(base), UV_ECANCELED);
}

const nm_transport_ops nm_dot_ops = {
    "tls", NM_TLS, 1, dot_open, dot_send, dot_forget, dot_id_free, dot_pending, dot_usable,
    dot_close, dot_established,
};
