/* DNS over HTTPS on nghttp2 over a tls.h stream (doh.h). */
#include "doh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <nghttp2/nghttp2.h>

#define DNS_MAX 65535
#define CONTENT_TYPE "application/dns-message"

typedef struct doh_req {
    struct doh_req *prev, *next;
    int32_t stream;
    nm_doh_cb cb;
    void *arg;
    uint8_t *post;          /* the body to send (POST) */
    size_t postlen, postoff;
    uint8_t *body;          /* the answer as it arrives */
    size_t len, cap;
    int http_status;
    int type_ok;
    int too_big;
    int done;               /* called back (or cancelled): waits only for its stream to close */
} doh_req;

struct nm_doh {
    nm_tls *tls;            /* NULL in the fuzz target */
    nghttp2_session *h2;
    nm_doh_hooks hooks;
    doh_req *head;
    int npending;           /* requests not yet called back */
    int in_recv;            /* inside nghttp2_session_mem_recv: no send, no delete */
    int closing, failed, goaway, deleting, done_told;
    int answered;           /* for the fuzz target */
    int use_get;
    char authority[300];
    char path[300];
    char err[200];
};

const char *nm_doh_strstatus(int status)
{
    switch (status) {
    case NM_DOH_OK: return "ok";
    case NM_DOH_EHTTP: return "HTTP error status";
    case NM_DOH_ECONTENT: return "not a DNS message (content type or size)";
    case NM_DOH_ERESET: return "HTTP/2 stream reset by the server";
    case NM_DOH_EPROTO: return "HTTP/2 protocol error";
    case NM_DOH_ETLS: return "TLS connection failed";
    case NM_DOH_ECLOSED: return "connection closed";
    case NM_DOH_ENOMEM: return "out of memory";
    case NM_DOH_ETOOBIG: return "query too large";
    default: return "unknown DoH status";
    }
}

size_t nm_base64url(const uint8_t *in, size_t n, char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = abc[v >> 6 & 63];
        out[o++] = abc[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = abc[v >> 6 & 63];
    }
    out[o] = 0;
    return o;
}

/* ------------------------------------------------------------ requests */

static void unlink_req(nm_doh *d, doh_req *r)
{
    if (r->prev) r->prev->next = r->next;
    else d->head = r->next;
    if (r->next) r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

static void free_req(doh_req *r)
{
    free(r->post);
    free(r->body);
    free(r);
}

static doh_req *find_req(nm_doh *d, int32_t stream)
{
    for (doh_req *r = d->head; r; r = r->next)
        if (r->stream == stream) return r;
    return NULL;
}

/* Calls r back once; r stays listed until its stream closes. */
static void answer(nm_doh *d, doh_req *r, int status, int detail)
{
    if (r->done) return;
    r->done = 1;
    d->npending--;
    d->answered++;
    nm_doh_cb cb = r->cb;
    r->cb = NULL;
    if (cb) cb(r->arg, status, detail, status == NM_DOH_OK ? r->body : NULL, status == NM_DOH_OK ? r->len : 0);
}

/* Every request still waiting gets status; callbacks may close or query. */
static void answer_all(nm_doh *d, int status, int detail)
{
    for (;;) {
        doh_req *r = d->head;
        while (r && r->done) r = r->next;
        if (!r) return;
        answer(d, r, status, detail);
    }
}

/* The connection takes no more queries: tell the owner once. */
static void tell_done(nm_doh *d, int status)
{
    if (d->done_told || d->closing) return;
    d->done_told = 1;
    if (d->hooks.done) d->hooks.done(d->hooks.owner, d, status);
}

static void flush(nm_doh *d)
{
    if (d->in_recv || d->deleting || !d->h2) return;
    int rc = nghttp2_session_send(d->h2);
    if (rc != 0 && !d->failed && !d->closing) {
        snprintf(d->err, sizeof d->err, "HTTP/2: %s", nghttp2_strerror(rc));
        d->failed = 1;
        answer_all(d, NM_DOH_EPROTO, rc);
        tell_done(d, NM_DOH_EPROTO);
        if (d->tls) nm_tls_close(d->tls);
    }
}

/* ------------------------------------------------------------ nghttp2 callbacks */

static ssize_t on_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *user)
{
    nm_doh *d = user;
    (void)s;
    (void)flags;
    if (d->tls && nm_tls_write(d->tls, data, len) != NM_TLS_OK) return NGHTTP2_ERR_CALLBACK_FAILURE;
    return (ssize_t)len;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user)
{
    nm_doh *d = user;
    (void)s;
    (void)flags;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_RESPONSE) return 0;
    doh_req *r = find_req(d, frame->hd.stream_id);
    if (!r) return 0;
    if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
        int st = 0;
        for (size_t i = 0; i < valuelen && i < 3; i++) {
            if (value[i] < '0' || value[i] > '9') return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
            st = st * 10 + (value[i] - '0');
        }
        if (valuelen != 3) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        r->http_status = st;
    } else if (namelen == 12 && memcmp(name, "content-type", 12) == 0) {
        size_t n = sizeof CONTENT_TYPE - 1;
        /* the media type, parameters allowed after it */
        r->type_ok = valuelen >= n && strncasecmp((const char *)value, CONTENT_TYPE, n) == 0 &&
                     (valuelen == n || value[n] == ';' || value[n] == ' ');
    }
    return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t stream, const uint8_t *data, size_t len,
                   void *user)
{
    nm_doh *d = user;
    (void)flags;
    doh_req *r = find_req(d, stream);
    if (!r || r->done || r->too_big) return 0;
    if (r->len + len > DNS_MAX) {
        r->too_big = 1;
        nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, stream, NGHTTP2_CANCEL);
        return 0;
    }
    if (r->len + len > r->cap) {
        size_t cap = r->cap ? r->cap : 512;
        while (cap < r->len + len) cap *= 2;
        if (cap > DNS_MAX) cap = DNS_MAX;
        uint8_t *b = realloc(r->body, cap);
        if (!b) return NGHTTP2_ERR_CALLBACK_FAILURE;
        r->body = b;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, len);
    r->len += len;
    return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t stream, uint32_t code, void *user)
{
    nm_doh *d = user;
    (void)s;
    if (d->deleting) return 0;
    doh_req *r = find_req(d, stream);
    if (!r) return 0;
    unlink_req(d, r);
    if (!r->done) {
        if (r->too_big) answer(d, r, NM_DOH_ECONTENT, 0);
        else if (code != NGHTTP2_NO_ERROR || r->http_status == 0) answer(d, r, NM_DOH_ERESET, (int)code);
        else if (r->http_status != 200) answer(d, r, NM_DOH_EHTTP, r->http_status);
        else if (!r->type_ok) answer(d, r, NM_DOH_ECONTENT, r->http_status);
        else answer(d, r, NM_DOH_OK, 200);
    }
    free_req(r);
    return 0;
}

static int on_frame(nghttp2_session *s, const nghttp2_frame *frame, void *user)
{
    nm_doh *d = user;
    (void)s;
    if (frame->hd.type == NGHTTP2_GOAWAY) {
        d->goaway = 1;
        snprintf(d->err, sizeof d->err, "the server sent GOAWAY (%s)",
                 nghttp2_http2_strerror(frame->goaway.error_code));
    }
    return 0;
}

static ssize_t read_post(nghttp2_session *s, int32_t stream, uint8_t *buf, size_t len,
                               uint32_t *flags, nghttp2_data_source *src, void *user)
{
    doh_req *r = src->ptr;
    (void)s;
    (void)stream;
    (void)user;
    size_t n = r->postlen - r->postoff;
    if (n > len) n = len;
    memcpy(buf, r->post + r->postoff, n);
    r->postoff += n;
    if (r->postoff == r->postlen) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int make_session(nm_doh *d)
{
    nghttp2_session_callbacks *cbs;
    if (nghttp2_session_callbacks_new(&cbs) != 0) return -1;
    nghttp2_session_callbacks_set_send_callback(cbs, on_send);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame);
    int rc = nghttp2_session_client_new(&d->h2, cbs, d);
    nghttp2_session_callbacks_del(cbs);
    if (rc != 0) return -1;
    nghttp2_settings_entry iv[1] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
    return nghttp2_submit_settings(d->h2, NGHTTP2_FLAG_NONE, iv, 1) == 0 ? 0 : -1;
}

static void delete_session(nm_doh *d)
{
    d->deleting = 1;
    if (d->h2) nghttp2_session_del(d->h2);
    d->h2 = NULL;
    while (d->head) {
        doh_req *r = d->head;
        unlink_req(d, r);
        free_req(r);
    }
}

/* ------------------------------------------------------------ TLS hooks */

static void tls_data(void *owner, nm_tls *t, const uint8_t *p, size_t n)
{
    nm_doh *d = owner;
    (void)t;
    if (d->closing || d->failed) return;
    d->in_recv = 1;
    ssize_t rc = nghttp2_session_mem_recv(d->h2, p, n);
    d->in_recv = 0;
    if (d->closing) return;
    if (rc < 0) {
        snprintf(d->err, sizeof d->err, "HTTP/2: %s", nghttp2_strerror((int)rc));
        d->failed = 1;
        answer_all(d, NM_DOH_EPROTO, (int)rc);
        tell_done(d, NM_DOH_EPROTO);
        nm_tls_close(d->tls);
        return;
    }
    flush(d);
    if (d->goaway && !d->closing) {
        tell_done(d, NM_DOH_ECLOSED);
        if (d->npending == 0 && !d->closing) nm_tls_close(d->tls);
    }
}

static void tls_ready(void *owner, nm_tls *t)
{
    nm_doh *d = owner;
    (void)t;
    if (!d->closing && d->hooks.ready) d->hooks.ready(d->hooks.owner, d);
}

static void tls_failed(void *owner, nm_tls *t, int status)
{
    nm_doh *d = owner;
    if (d->closing) return;
    d->failed = 1;
    snprintf(d->err, sizeof d->err, "%s", nm_tls_error(t));
    int st = status == NM_TLS_ECLOSED ? NM_DOH_ECLOSED : NM_DOH_ETLS;
    /* a server that closes with streams open after a GOAWAY: those are reset */
    answer_all(d, d->goaway ? NM_DOH_ERESET : st, status);
    tell_done(d, st);
}

static void tls_freed(void *owner, nm_tls *t)
{
    nm_doh *d = owner;
    (void)t;
    nm_doh_hooks hooks = d->hooks;
    nm_doh *id = d;
    delete_session(d);
    if (hooks.freed) hooks.freed(hooks.owner, id);
    free(id);
}

/* ------------------------------------------------------------ the API */

nm_doh *nm_doh_open(uv_loop_t *loop, nm_tls_ctx *ctx, const nm_doh_target *target,
                    unsigned handshake_ms, const nm_doh_hooks *hooks, int *err)
{
    *err = 0;
    if (!target->authority || !target->path || target->path[0] != '/' ||
        strlen(target->authority) >= sizeof ((nm_doh *)0)->authority ||
        strlen(target->path) >= sizeof ((nm_doh *)0)->path) {
        *err = UV_EINVAL;
        return NULL;
    }
    nm_doh *d = calloc(1, sizeof *d);
    if (!d) {
        *err = UV_ENOMEM;
        return NULL;
    }
    d->hooks = *hooks;
    d->use_get = target->use_get;
    snprintf(d->authority, sizeof d->authority, "%s", target->authority);
    snprintf(d->path, sizeof d->path, "%s", target->path);
    if (make_session(d) < 0) {
        delete_session(d);
        free(d);
        *err = UV_ENOMEM;
        return NULL;
    }
    nm_tls_hooks th = {d, tls_ready, tls_data, tls_failed, tls_freed};
    d->tls = nm_tls_open(loop, ctx, target->peer, target->authname, handshake_ms, &th, err);
    if (!d->tls) {
        delete_session(d);
        free(d);
        return NULL;
    }
    flush(d); /* the preface and SETTINGS wait in the TLS stream for the handshake */
    return d;
}

static int32_t submit(nm_doh *d, const uint8_t *msg, size_t len, nm_doh_cb cb, void *arg)
{
    if (len > DNS_MAX) return NM_DOH_ETOOBIG;
    doh_req *r = calloc(1, sizeof *r);
    if (!r) return NM_DOH_ENOMEM;
    r->cb = cb;
    r->arg = arg;
    char clen[16];
    char *getpath = NULL;
    int32_t stream;
#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}
    if (d->use_get) {
        size_t plen = strlen(d->path);
        getpath = malloc(plen + 5 + (len + 2) / 3 * 4 + 1);
        if (!getpath) {
            free(r);
            return NM_DOH_ENOMEM;
        }
        memcpy(getpath, d->path, plen);
        memcpy(getpath + plen, strchr(d->path, '?') ? "&dns=" : "?dns=", 5);
        nm_base64url(msg, len, getpath + plen + 5);
        const nghttp2_nv nv[] = {
            NV(":method", "GET"), NV(":scheme", "https"), NV(":authority", d->authority),
            NV(":path", getpath), NV("accept", CONTENT_TYPE),
        };
        stream = nghttp2_submit_request(d->h2, NULL, nv, sizeof nv / sizeof nv[0], NULL, r);
        free(getpath);
    } else {
        r->post = malloc(len ? len : 1);
        if (!r->post) {
            free(r);
            return NM_DOH_ENOMEM;
        }
        memcpy(r->post, msg, len);
        r->postlen = len;
        snprintf(clen, sizeof clen, "%zu", len);
        const nghttp2_nv nv[] = {
            NV(":method", "POST"), NV(":scheme", "https"), NV(":authority", d->authority),
            NV(":path", d->path), NV("accept", CONTENT_TYPE), NV("content-type", CONTENT_TYPE),
            NV("content-length", clen),
        };
        nghttp2_data_provider body;
        body.source.ptr = r;
        body.read_callback = read_post;
        stream = nghttp2_submit_request(d->h2, NULL, nv, sizeof nv / sizeof nv[0], &body, r);
    }
#undef NV
    if (stream < 0) {
        free_req(r);
        return stream == NGHTTP2_ERR_NOMEM ? NM_DOH_ENOMEM : NM_DOH_ECLOSED;
    }
    r->stream = stream;
    r->next = d->head;
    if (d->head) d->head->prev = r;
    d->head = r;
    d->npending++;
    return stream;
}

int32_t nm_doh_query(nm_doh *d, const uint8_t *msg, size_t len, nm_doh_cb cb, void *arg)
{
    if (!nm_doh_usable(d)) return NM_DOH_ECLOSED;
    int32_t stream = submit(d, msg, len, cb, arg);
    if (stream <= 0) return stream;
    /* a failing send answers every waiting request at once: not this one,
     * whose caller learns it from what this returns (its callback running
     * inside this call would free what the caller is still setting up) */
    doh_req *r = find_req(d, stream);
    if (r) r->cb = NULL;
    flush(d);
    /* looked up again: a failed send may have closed streams */
    if (d->failed || d->closing || !(r = find_req(d, stream)) || r->done) return NM_DOH_EPROTO;
    r->cb = cb;
    return stream;
}

void nm_doh_cancel(nm_doh *d, int32_t handle)
{
    doh_req *r = find_req(d, handle);
    if (!r || r->done) return;
    r->done = 1;
    r->cb = NULL;
    d->npending--;
    if (!d->closing && !d->failed) {
        nghttp2_submit_rst_stream(d->h2, NGHTTP2_FLAG_NONE, handle, NGHTTP2_CANCEL);
        flush(d);
    }
}

void nm_doh_close(nm_doh *d)
{
    if (!d || d->closing) return;
    answer_all(d, NM_DOH_ECLOSED, 0);
    d->closing = 1;
    if (d->tls) nm_tls_close(d->tls);
}

int nm_doh_usable(const nm_doh *d)
{
    return !d->closing && !d->failed && !d->goaway;
}

int nm_doh_pending(const nm_doh *d) { return d->npending; }
nm_tls *nm_doh_tls(nm_doh *d) { return d->tls; }
const char *nm_doh_error(const nm_doh *d) { return d->err; }

/* ------------------------------------------------------------ fuzzing */

static void fuzz_cb(void *arg, int status, int detail, const uint8_t *body, size_t len)
{
    size_t *sum = arg;
    (void)status;
    (void)detail;
    /* touch every byte handed over: the sanitizers check they are ours */
    for (size_t i = 0; i < len; i++) *sum += body[i];
}

int nm_doh_fuzz_feed(const uint8_t *data, size_t len)
{
    nm_doh d;
    memset(&d, 0, sizeof d);
    snprintf(d.authority, sizeof d.authority, "dns.example.test");
    snprintf(d.path, sizeof d.path, "/dns-query");
    size_t sum = 0;
    if (make_session(&d) < 0) {
        delete_session(&d);
        return 0;
    }
    static const uint8_t q[] = {0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'w', 'w', 0, 0, 1, 0, 1};
    submit(&d, q, sizeof q, fuzz_cb, &sum);     /* stream 1, POST */
    d.use_get = 1;
    submit(&d, q, sizeof q, fuzz_cb, &sum);     /* stream 3, GET */
    flush(&d);
    /* the server's bytes in two pieces, cut where the first byte says */
    size_t cut = len ? data[0] % (len + 1) : 0;
    if (len) {
        data++;
        len--;
        if (cut > len) cut = len;
    }
    const uint8_t *pieces[2] = {data, data + cut};
    size_t lens[2] = {cut, len - cut};
    for (int i = 0; i < 2 && !d.failed; i++) {
        d.in_recv = 1;
        ssize_t rc = nghttp2_session_mem_recv(d.h2, pieces[i], lens[i]);
        d.in_recv = 0;
        if (rc < 0) {
            d.failed = 1;
            answer_all(&d, NM_DOH_EPROTO, (int)rc);
        } else {
            flush(&d);
        }
    }
    int answered = d.answered;
    delete_session(&d);
    return answered + (sum == (size_t)-1);
}
