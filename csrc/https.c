/* The DNS over HTTPS transport (RFC 8484) on doh.h: one HTTP/2 connection
 * per server, one stream per query.  Queries go out with id 0 (RFC 8484
 * 4.1): the stream, not the id, ties an answer to its query; the id the
 * resolver chose is put back into the answer before the usual checks
 * (question, QR) run.  An HTTP error, a reset stream or an answer that is
 * not a DNS message fails that query's try (err = NM_ERR_HTTP(status) or
 * NM_ERR_DOH(status)), as a socket error would, so the resolver moves on. */
#include <stdlib.h>
#include <string.h>

#include "doh.h"
#include "idtable.h"
#include "reply.h"
#include "transport.h"

enum { OPEN, CLOSING };

typedef struct nm_https nm_https;

/* One query on its stream. */
typedef struct entry {
    nm_https *t;
    nm_pending *p;
    int32_t stream;
} entry;

struct nm_https {
    nm_transport base;
    nm_doh *doh;
    uv_timer_t idle;
    int state;
    int closes_left;
    int idle_ms;
    nm_idtable waiting;  /* id -> entry */
    nm_transport_hooks hooks;
    nm_drop_stats drops;
    uint32_t replies;
};

static nm_https *https_of(const nm_transport *base)
{
    return (nm_https *)(uintptr_t)base;
}

static void closed_one(nm_https *t)
{
    if (--t->closes_left > 0) return;
    nm_transport_hooks hooks = t->hooks;
    nm_idtable_free(&t->waiting);
    if (hooks.closed) hooks.closed(hooks.owner, &t->base);
    free(t);
}

static void on_timer_closed(uv_handle_t *h)
{
    closed_one(h->data);
}

static void on_doh_freed(void *owner, nm_doh *d)
{
    (void)d;
    closed_one(owner);
}

static void on_idle(uv_timer_t *timer);

static void set_idle(nm_https *t)
{
    if (t->state == CLOSING) return;
    nm_tls *tls = nm_doh_tls(t->doh);
    if (t->waiting.count) {
        uv_timer_stop(&t->idle);
        if (tls) nm_tls_ref(tls, 1);
    } else {
        if (tls) nm_tls_ref(tls, 0);
        uv_timer_start(&t->idle, on_idle, (uint64_t)t->idle_ms, 0);
    }
}

static void leave(nm_https *t, entry *e)
{
    nm_idtable_del(&t->waiting, e->p->id);
    e->p->via = NULL;
    free(e);
}

static void shut(nm_https *t)
{
    if (t->state == CLOSING) return;
    t->state = CLOSING;
    uv_timer_stop(&t->idle);
    /* waiting queries hear NM_DOH_ECLOSED from nm_doh_close */
    nm_doh_close(t->doh);
    uv_close((uv_handle_t *)&t->idle, on_timer_closed);
}

static void on_idle(uv_timer_t *timer)
{
    nm_https *t = timer->data;
    if (!t->waiting.count) shut(t);
}

static void on_answer(void *arg, int status, int detail, const uint8_t *body, size_t len)
{
    entry *e = arg;
    nm_https *t = e->t;
    nm_pending *p = e->p;
    uint8_t *copy;
    nm_msg msg;
    leave(t, e);
    if (status == NM_DOH_OK && len >= NM_HEADER_LEN && nm_get16(body) == 0 && (copy = malloc(len))) {
        memcpy(copy, body, len);
        copy[0] = (uint8_t)(p->id >> 8);
        copy[1] = (uint8_t)p->id;
        int ok = nm_reply_check(p, copy, len, &msg, &t->drops);
        if (ok) {
            t->replies++;
            p->cb(p, NM_OK, &msg, 0);
            nm_msg_release(&msg);
            free(copy);
            if (t->state == OPEN) set_idle(t);
            return;
        }
        free(copy);
        status = NM_DOH_ECONTENT;
    } else if (status == NM_DOH_OK) {
        status = NM_DOH_ECONTENT;
    }
    if (t->hooks.dropped && status == NM_DOH_ECONTENT) ++*t->hooks.dropped;
    int err;
    if (status == NM_DOH_EHTTP) err = NM_ERR_HTTP(detail);
    else if (status == NM_DOH_ETLS) err = NM_ERR_TLS(detail);
    else err = NM_ERR_DOH(status);
    /* only a lost connection says nothing of the server (RFC 7766 6.2.1:
     * ask again on a new one); an HTTP error or a reset stream is its
     * answer, and the next server is asked */
    p->reused = status == NM_DOH_ECLOSED && t->replies > 0;
    p->cb(p, NM_EIO, NULL, err);
    if (t->state == OPEN) set_idle(t);
}

static void on_done(void *owner, nm_doh *d, int status)
{
    nm_https *t = owner;
    (void)d;
    (void)status;
    /* no more queries here: the resolver opens another connection */
    if (t->state == OPEN) shut(t);
}

static void on_ready(void *owner, nm_doh *d)
{
    nm_https *t = owner;
    (void)d;
    if (t->hooks.connected) t->hooks.connected(t->hooks.owner, &t->base, 0);
}

nm_tls *nm_https_tls(nm_transport *base)
{
    return base && base->ops == &nm_https_ops ? nm_doh_tls(https_of(base)->doh) : NULL;
}

static nm_transport *https_open(const nm_transport_config *c, int *err)
{
    if (!c->peer || !c->secure || !c->secure->ctx || !c->secure->path[0]) {
        *err = UV_EINVAL;
        return NULL;
    }
    nm_https *t = calloc(1, sizeof *t);
    if (!t) {
        *err = UV_ENOMEM;
        return NULL;
    }
    t->base.ops = &nm_https_ops;
    t->hooks = *c->hooks;
    t->idle_ms = c->idle_ms > 0 ? c->idle_ms : 1;
    t->state = OPEN;
    nm_idtable_init(&t->waiting);
    nm_doh_target target = {c->peer, c->secure->authname[0] ? c->secure->authname : NULL,
                            c->secure->authority, c->secure->path, c->secure->use_get};
    nm_doh_hooks dh = {t, on_done, on_doh_freed, on_ready};
    t->doh = nm_doh_open(c->loop, c->secure->ctx, &target, c->secure->handshake_ms, &dh, err);
    if (!t->doh) {
        free(t);
        return NULL;
    }
    uv_timer_init(c->loop, &t->idle);
    t->idle.data = t;
    uv_unref((uv_handle_t *)&t->idle);
    t->closes_left = 2;
    return &t->base;
}

static int https_send(nm_transport *base, nm_pending *p, int *err)
{
    nm_https *t = https_of(base);
    entry *e;
    uint8_t *msg;
    if (t->state == CLOSING || !nm_doh_usable(t->doh)) {
        *err = UV_ECANCELED;
        return NM_EIO;
    }
    if (p->sentlen < NM_HEADER_LEN || p->sentlen > NM_MAX_MESSAGE) {
        *err = UV_EINVAL;
        return NM_EIO;
    }
    if (p->stream) {
        /* a zone transfer is many messages: DoH has one answer per query */
        *err = UV_ENOTSUP;
        return NM_EIO;
    }
    if (!(e = calloc(1, sizeof *e)) || !(msg = malloc(p->sentlen))) {
        free(e);
        *err = UV_ENOMEM;
        return NM_EIO;
    }
    if (nm_idtable_put(&t->waiting, p->id, e)) {
        free(e);
        free(msg);
        *err = UV_ENOMEM;
        return NM_EIO;
    }
    e->t = t;
    e->p = p;
    memcpy(msg, p->sent, p->sentlen);
    msg[0] = msg[1] = 0; /* RFC 8484 4.1 */
    int32_t stream = nm_doh_query(t->doh, msg, p->sentlen, on_answer, e);
    free(msg);
    if (stream < 0) {
        nm_idtable_del(&t->waiting, p->id);
        free(e);
        *err = NM_ERR_DOH(stream);
        return NM_EIO;
    }
    e->stream = stream;
    p->via = &t->base;
    p->ignored = 0;
    p->answered = 0;
    p->reused = t->replies > 0;
    set_idle(t);
    return NM_OK;
}

static void https_forget(nm_pending *p)
{
    nm_https *t = p->via ? https_of(p->via) : NULL;
    if (!t) return;
    entry *e = nm_idtable_get(&t->waiting, p->id);
    if (e && e->p == p) {
        nm_doh_cancel(t->doh, e->stream);
        leave(t, e);
    }
    p->via = NULL;
    set_idle(t);
}

static int https_id_free(const nm_transport *base, uint16_t id)
{
    return nm_idtable_get(&https_of(base)->waiting, id) == NULL;
}

static int https_pending(const nm_transport *base)
{
    return (int)https_of(base)->waiting.count;
}

static int https_usable(const nm_transport *base)
{
    const nm_https *t = https_of(base);
    return t->state != CLOSING && nm_doh_usable(t->doh);
}

static void https_close(nm_transport *base)
{
    nm_https *t = https_of(base);
    entry *e;
    if (t->state == CLOSING) return;
    t->state = CLOSING;
    uv_timer_stop(&t->idle);
    /* the waiting queries first, as the other transports do; their
     * callbacks cannot add any (the transport is closing) */
    while ((e = nm_idtable_any(&t->waiting))) {
        nm_pending *p = e->p;
        nm_doh_cancel(t->doh, e->stream);
        leave(t, e);
        p->cb(p, NM_EIO, NULL, UV_ECANCELED);
    }
    nm_doh_close(t->doh);
    uv_close((uv_handle_t *)&t->idle, on_timer_closed);
}

static int https_established(const nm_transport *base)
{
    const nm_https *t = https_of(base);
    nm_tls *tls = t->state != CLOSING && t->doh ? nm_doh_tls(t->doh) : NULL;
    return tls && nm_tls_is_ready(tls);
}

const nm_transport_ops nm_https_ops = {
    "https", NM_HTTPS, 1, https_open, https_send, https_forget, https_id_free, https_pending,
    https_usable, https_close, https_established,
};
