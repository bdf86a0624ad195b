/* The UDP transport: one socket, bound to a random port, connected to one
 * server (the resolver's) or not (a protocol's listening port). */
#include <stdlib.h>

#include "idtable.h"
#include "reply.h"
#include "transport.h"

struct nm_udp {
    uv_udp_t handle;
    nm_addr peer;
    int connected;
    nm_idtable waiting;  /* id -> nm_pending */
    uint32_t sent;
    nm_rxbuf *rx;
    nm_transport_hooks hooks;
    nm_drop_stats drops;
    uint32_t unmatched;  /* messages that answered no waiting query */
    int closing;
};

/* A send that could not go at once: the request and a copy of the bytes. */
typedef struct send_req {
    uv_udp_send_t req;
    size_t len;
    uint8_t data[];
} send_req;

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    nm_udp *u = h->data;
    (void)hint;
    buf->base = u->rx->data;
    buf->len = sizeof u->rx->data;
}

static void set_ref(nm_udp *u)
{
    /* an idle socket never keeps the loop alive */
    if (u->waiting.count) uv_ref((uv_handle_t *)&u->handle);
    else uv_unref((uv_handle_t *)&u->handle);
}

static void dropped(nm_udp *u)
{
    if (u->hooks.dropped) ++*u->hooks.dropped;
}

/* p leaves the socket: what it waited through is added up. */
static void leave(nm_udp *u, nm_pending *p)
{
    uint32_t more = u->unmatched - p->unmatched_at;
    nm_idtable_del(&u->waiting, p->id);
    p->udp = NULL;
    p->ignored = (uint16_t)(p->ignored + more > 0xFFFF ? 0xFFFF : p->ignored + more);
}

/* Every query waiting now learns that this socket failed.  They are taken
 * out first: a callback that sends again on this socket starts afresh. */
static void fail_all(nm_udp *u, int err)
{
    nm_pending **all, *p;
    uint32_t n = u->waiting.count, k = 0;
    if (n && (all = malloc(n * sizeof *all)) != NULL) {
        while ((p = nm_idtable_any(&u->waiting))) {
            leave(u, p);
            all[k++] = p;
        }
        for (uint32_t i = 0; i < k; i++) all[i]->cb(all[i], NM_EIO, NULL, err);
        free(all);
    } else {
        while ((p = nm_idtable_any(&u->waiting))) {
            leave(u, p);
            p->cb(p, NM_EIO, NULL, err);
        }
    }
    if (!u->closing) set_ref(u);
}

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
    if (!from) return; /* nothing more to read */
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
            u->hooks.unsolicited(u->hooks.owner, u, data, (size_t)nread, from);
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
    nm_idtable_free(&u->waiting);
    /* the owner forgets it first: nothing may point to it once freed */
    if (hooks.closed) hooks.closed(hooks.owner, u);
    free(u);
}

nm_udp *nm_udp_open(uv_loop_t *loop, const nm_addr *peer, const nm_addr *bind_to,
                    nm_random *rnd, nm_rxbuf *rx, const nm_transport_hooks *hooks, int *err)
{
    nm_udp *u = calloc(1, sizeof *u);
    int family, rc;
    if (!u) {
        *err = UV_ENOMEM;
        return NULL;
    }
    family = peer ? peer->u.sa.sa_family : bind_to ? bind_to->u.sa.sa_family : AF_INET;
    if ((rc = uv_udp_init_ex(loop, &u->handle, (unsigned)family)) != 0) {
        free(u);
        *err = rc;
        return NULL;
    }
    u->handle.data = u;
    u->rx = rx;
    u->hooks = *hooks;
    nm_idtable_init(&u->waiting);
    rc = bind_to ? uv_udp_bind(&u->handle, &bind_to->u.sa, 0) : bind_random(u, family, rnd);
    if (rc == 0 && peer) {
        u->peer = *peer;
        u->connected = 1;
        rc = uv_udp_connect(&u->handle, &peer->u.sa);
    }
    if (rc == 0) rc = uv_udp_recv_start(&u->handle, on_alloc, on_recv);
    if (rc != 0) {
        /* closed through libuv all the same: the handle is in the loop */
        u->hooks.closed = NULL;
        u->closing = 1;
        uv_close((uv_handle_t *)&u->handle, on_closed);
        *err = rc;
        return NULL;
    }
    set_ref(u);
    return u;
}

int nm_udp_id_free(const nm_udp *u, uint16_t id)
{
    return nm_idtable_get(&u->waiting, id) == NULL;
}

static void on_sent(uv_udp_send_t *req, int status)
{
    (void)status; /* a lost datagram is a timeout to the resolver */
    free(req);
}

static int send_bytes(nm_udp *u, const uint8_t *msg, size_t len, const nm_addr *to)
{
    uv_buf_t buf = uv_buf_init((char *)(uintptr_t)msg, (unsigned)len);
    const struct sockaddr *dest = u->connected ? NULL : &to->u.sa;
    int rc = uv_udp_try_send(&u->handle, &buf, 1, dest);
    if (rc >= 0) return 0;
    if (rc == UV_EAGAIN || rc == UV_ENOSYS) {
        send_req *r = malloc(sizeof *r + len);
        if (!r) return UV_ENOMEM;
        memcpy(r->data, msg, len);
        r->len = len;
        buf = uv_buf_init((char *)r->data, (unsigned)len);
        rc = uv_udp_send(&r->req, &u->handle, &buf, 1, dest, on_sent);
        if (rc) free(r);
    }
    return rc;
}

int nm_udp_send(nm_udp *u, nm_pending *p, int *err)
{
    int rc;
    if (u->closing) {
        *err = UV_ECANCELED;
        return NM_EIO;
    }
    if (nm_idtable_put(&u->waiting, p->id, p)) {
        *err = UV_ENOMEM;
        return NM_EIO;
    }
    p->udp = u;
    p->tcp = NULL;
    p->ignored = 0;
    p->answered = 0;
    p->unmatched_at = u->unmatched;
    rc = send_bytes(u, p->sent, p->sentlen, p->to);
    if (rc) {
        nm_idtable_del(&u->waiting, p->id);
        p->udp = NULL;
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

void nm_udp_forget(nm_pending *p)
{
    nm_udp *u = p->udp;
    if (!u) return;
    if (nm_idtable_get(&u->waiting, p->id) == p) leave(u, p);
    p->udp = NULL;
    if (!u->closing) set_ref(u);
}

int nm_udp_pending(const nm_udp *u)
{
    return (int)u->waiting.count;
}

uint32_t nm_udp_sent(const nm_udp *u)
{
    return u->sent;
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

void nm_udp_close(nm_udp *u)
{
    if (u->closing) return;
    u->closing = 1;
    uv_udp_recv_stop(&u->handle);
    fail_all(u, UV_ECANCELED);
    uv_close((uv_handle_t *)&u->handle, on_closed);
}
