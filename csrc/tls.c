/* TLS client streams on libuv TCP through OpenSSL memory BIOs (tls.h). */
#include "tls.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define PIN_LEN 32
#define SESSION_SLOTS 64
#define READ_CHUNK 16384

typedef struct session_slot {
    char key[160];
    SSL_SESSION *sess;
    uint64_t used;  /* a counter of stores: the smallest is replaced first */
} session_slot;

struct nm_tls_ctx {
    SSL_CTX *ssl;
    int strict;
    uint8_t (*pins)[PIN_LEN];
    size_t npins;
    int alpn_required;   /* DoH: a server that does not agree to h2 cannot be spoken to */
    char alpn[16];
    int refs;            /* the owner's reference and one per connection */
    session_slot slots[SESSION_SLOTS];
    uint64_t stores;
};

enum state { S_CONNECTING, S_HANDSHAKE, S_READY, S_FAILED, S_CLOSED };

struct nm_tls {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_connect_t connect;
    int closes_pending;
    int handles_closing;
    enum state state;
    nm_tls_ctx *ctx;
    nm_tls_hooks hooks;
    SSL *ssl;
    BIO *rbio, *wbio;       /* network side: what came in, what is to go out */
    uint8_t *queued;        /* plaintext written before the handshake finished */
    size_t nqueued, capqueued;
    size_t backlog;
    char key[160];          /* the session cache's key: address and name */
    SSL_SESSION *unconfirmed; /* a session offered before our checks ended (TLS 1.2) */
    int verr, verr_depth;   /* the first chain error seen (X509_V_*) */
    int verified;
    int check_status;
    int resumed;
    char errtext[200];
    char alpn[32];
    uint8_t rbuf[READ_CHUNK];
};

typedef struct write_req {
    uv_write_t req;
    nm_tls *t;
    size_t len;
    uint8_t data[];
} write_req;

static int ssl_index = -1;

const char *nm_tls_strstatus(int status)
{
    switch (status) {
    case NM_TLS_OK: return "ok";
    case NM_TLS_ECONNECT: return "connection failed";
    case NM_TLS_ETIMEOUT: return "TLS handshake timed out";
    case NM_TLS_EEXPIRED: return "certificate expired";
    case NM_TLS_ENAME: return "certificate for another name";
    case NM_TLS_EUNKNOWNCA: return "certificate from an unknown CA";
    case NM_TLS_EPIN: return "no pinned key in the certificate chain";
    case NM_TLS_ECERT: return "certificate not valid";
    case NM_TLS_EHANDSHAKE: return "TLS handshake failed";
    case NM_TLS_ECLOSED: return "connection closed by the server";
    case NM_TLS_EIO: return "TLS connection error";
    case NM_TLS_EALPN: return "server refused the application protocol";
    case NM_TLS_ENOMEM: return "out of memory";
    default: return "unknown TLS status";
    }
}

/* ------------------------------------------------------------ context */

static void put_err(char *err, size_t errlen, const char *what)
{
    if (!err || errlen == 0) return;
    unsigned long e = ERR_get_error();
    if (e) {
        char buf[160];
        ERR_error_string_n(e, buf, sizeof buf);
        snprintf(err, errlen, "%s: %s", what, buf);
    } else {
        snprintf(err, errlen, "%s", what);
    }
    ERR_clear_error();
}

/* A pin: 44 characters of base64 for 32 bytes. */
static int decode_pin(const char *text, uint8_t out[PIN_LEN])
{
    uint8_t buf[48];
    size_t n = strlen(text);
    if (n != 44 || text[43] != '=' || text[42] == '=') return -1;
    for (size_t i = 0; i < 43; i++) {
        char c = text[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return -1;
    }
    if (EVP_DecodeBlock(buf, (const unsigned char *)text, 44) != 33) return -1;
    memcpy(out, buf, PIN_LEN);
    return 0;
}

static int on_new_session(SSL *ssl, SSL_SESSION *sess);

nm_tls_ctx *nm_tls_ctx_new(const nm_tls_config *cfg, char *err, size_t errlen)
{
    if (ssl_index < 0) {
        ssl_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
        if (ssl_index < 0) {
            put_err(err, errlen, "cannot set up OpenSSL");
            return NULL;
        }
    }
    nm_tls_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        put_err(err, errlen, "out of memory");
        return NULL;
    }
    c->refs = 1;
    c->strict = cfg->strict;
    if (cfg->npins) {
        c->pins = calloc(cfg->npins, sizeof *c->pins);
        if (!c->pins) {
            put_err(err, errlen, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < cfg->npins; i++) {
            if (!cfg->pins[i] || decode_pin(cfg->pins[i], c->pins[i]) < 0) {
                if (err) snprintf(err, errlen, "pin %zu is not the base64 of 32 bytes (a SHA-256 digest)", i + 1);
                goto fail;
            }
        }
        c->npins = cfg->npins;
    }
    ERR_clear_error();
    c->ssl = SSL_CTX_new(TLS_client_method());
    if (!c->ssl) {
        put_err(err, errlen, "cannot make a TLS context");
        goto fail;
    }
    /* RFC 8310 section 9 (and RFC 7525): TLS 1.2 at least */
    SSL_CTX_set_min_proto_version(c->ssl, TLS1_2_VERSION);
    if (cfg->ca_file || cfg->ca_path) {
        if (SSL_CTX_load_verify_locations(c->ssl, cfg->ca_file, cfg->ca_path) != 1) {
            put_err(err, errlen, cfg->ca_file ? "cannot load the CA file" : "cannot use the CA directory");
            goto fail;
        }
    } else if (SSL_CTX_set_default_verify_paths(c->ssl) != 1) {
        put_err(err, errlen, "cannot load the system's CA certificates");
        goto fail;
    }
    if (cfg->alpn && *cfg->alpn) {
        size_t n = strlen(cfg->alpn);
        if (n >= sizeof c->alpn - 1) {
            if (err) snprintf(err, errlen, "ALPN name too long");
            goto fail;
        }
        uint8_t wire[16];
        wire[0] = (uint8_t)n;
        memcpy(wire + 1, cfg->alpn, n);
        if (SSL_CTX_set_alpn_protos(c->ssl, wire, (unsigned)n + 1) != 0) {
            put_err(err, errlen, "cannot set ALPN");
            goto fail;
        }
        memcpy(c->alpn, cfg->alpn, n + 1);
        c->alpn_required = strcmp(cfg->alpn, "h2") == 0;
    }
    /* Sessions are kept here, per server, and offered on reconnects; the
     * library's own cache (keyed by nothing we choose) stays off. */
    SSL_CTX_set_session_cache_mode(c->ssl, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(c->ssl, on_new_session);
    return c;
fail:
    if (c->ssl) SSL_CTX_free(c->ssl);
    free(c->pins);
    free(c);
    return NULL;
}

static void ctx_unref(nm_tls_ctx *c)
{
    if (--c->refs > 0) return;
    for (int i = 0; i < SESSION_SLOTS; i++)
        if (c->slots[i].sess) SSL_SESSION_free(c->slots[i].sess);
    SSL_CTX_free(c->ssl);
    free(c->pins);
    free(c);
}

void nm_tls_ctx_free(nm_tls_ctx *c)
{
    if (c) ctx_unref(c);
}

static session_slot *find_slot(nm_tls_ctx *c, const char *key)
{
    for (int i = 0; i < SESSION_SLOTS; i++)
        if (c->slots[i].sess && strcmp(c->slots[i].key, key) == 0) return &c->slots[i];
    return NULL;
}

/* Takes the reference to sess. */
static void store_session(nm_tls_ctx *c, const char *key, SSL_SESSION *sess)
{
    session_slot *s = find_slot(c, key);
    if (!s) {
        s = &c->slots[0];
        for (int i = 0; i < SESSION_SLOTS; i++) {
            if (!c->slots[i].sess) {
                s = &c->slots[i];
                break;
            }
            if (c->slots[i].used < s->used) s = &c->slots[i];
        }
        snprintf(s->key, sizeof s->key, "%s", key);
    }
    if (s->sess) SSL_SESSION_free(s->sess);
    s->sess = sess;
    s->used = ++c->stores;
}

static void forget_session(nm_tls_ctx *c, const char *key)
{
    session_slot *s = find_slot(c, key);
    if (s) {
        SSL_SESSION_free(s->sess);
        s->sess = NULL;
    }
}

/* OpenSSL hands over a session (TLS 1.3: a ticket after the handshake;
 * TLS 1.2: during it).  Only a server that passed every check gets its
 * session kept: a resumed session skips the certificate. */
static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
    nm_tls *t = SSL_get_ex_data(ssl, ssl_index);
    if (!t) return 0;
    if (t->state == S_READY) {
        if (!t->verified) return 0;
        store_session(t->ctx, t->key, sess);
        return 1;
    }
    if (t->unconfirmed) SSL_SESSION_free(t->unconfirmed);
    t->unconfirmed = sess;
    return 1;
}

/* ------------------------------------------------------------ verification */

static int verify_status(int verr)
{
    switch (verr) {
    case X509_V_OK: return NM_TLS_OK;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return NM_TLS_EEXPIRED;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return NM_TLS_ENAME;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
        return NM_TLS_EUNKNOWNCA;
    default:
        return NM_TLS_ECERT;
    }
}

/* Records the first problem of the chain.  Strict without pins stops the
 * handshake there (the server gets an alert, we send no DNS); with pins
 * the chain is judged by its keys after the handshake; opportunistic goes
 * on. */
static int on_verify(int ok, X509_STORE_CTX *store)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    nm_tls *t = ssl ? SSL_get_ex_data(ssl, ssl_index) : NULL;
    if (!t) return ok;
    if (!ok && t->verr == X509_V_OK) {
        t->verr = X509_STORE_CTX_get_error(store);
        t->verr_depth = X509_STORE_CTX_get_error_depth(store);
        if (t->verr == X509_V_OK) t->verr = X509_V_ERR_UNSPECIFIED;
    }
    if (t->ctx->strict && t->ctx->npins == 0) return ok;
    return 1;
}

static int chain_has_pin(nm_tls *t)
{
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(t->ssl);
    int n = chain ? sk_X509_num(chain) : 0;
    for (int i = 0; i < n; i++) {
        X509 *x = sk_X509_value(chain, i);
        unsigned char *der = NULL;
        int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
        if (len <= 0) continue;
        uint8_t digest[PIN_LEN];
        unsigned dlen = 0;
        int good = EVP_Digest(der, (size_t)len, digest, &dlen, EVP_sha256(), NULL) == 1 && dlen == PIN_LEN;
        OPENSSL_free(der);
        if (!good) continue;
        for (size_t k = 0; k < t->ctx->npins; k++)
            if (memcmp(digest, t->ctx->pins[k], PIN_LEN) == 0) return 1;
    }
    return 0;
}

static void describe_verr(nm_tls *t)
{
    snprintf(t->errtext, sizeof t->errtext, "%s: %s (certificate %d of the chain)",
             nm_tls_strstatus(verify_status(t->verr)), X509_verify_cert_error_string(t->verr),
             t->verr_depth);
}

/* ------------------------------------------------------------ plumbing */

static void on_closed(uv_handle_t *h)
{
    nm_tls *t = h->data;
    if (--t->closes_pending > 0) return;
    nm_tls_hooks hooks = t->hooks;
    nm_tls_ctx *ctx = t->ctx;
    nm_tls *id = t; /* an identity for the owner, never dereferenced */
    if (t->unconfirmed) SSL_SESSION_free(t->unconfirmed);
    SSL_free(t->ssl); /* frees the BIOs */
    free(t->queued);
    ctx_unref(ctx);
    if (hooks.freed) hooks.freed(hooks.owner, id);
    free(id);
}

static void close_handles(nm_tls *t)
{
    if (t->handles_closing) return;
    t->handles_closing = 1;
    t->closes_pending = 2;
    uv_close((uv_handle_t *)&t->tcp, on_closed);
    uv_close((uv_handle_t *)&t->timer, on_closed);
}

/* The connection is over: tell the owner once, then close. */
static void fail(nm_tls *t, int status, const char *text)
{
    if (t->state == S_FAILED || t->state == S_CLOSED) return;
    int was_ready = t->state == S_READY;
    t->state = S_FAILED;
    if (t->check_status == NM_TLS_OK) t->check_status = status;
    if (text && *text && (status != NM_TLS_OK)) snprintf(t->errtext, sizeof t->errtext, "%s", text);
    if (!was_ready && t->key[0]) forget_session(t->ctx, t->key);
    if (t->hooks.failed) t->hooks.failed(t->hooks.owner, t, status);
    close_handles(t);
}

static void fail_ssl(nm_tls *t, int status, const char *what)
{
    char buf[200], e[160];
    unsigned long code = ERR_get_error();
    if (code) {
        ERR_error_string_n(code, e, sizeof e);
        snprintf(buf, sizeof buf, "%s: %s", what, e);
    } else {
        snprintf(buf, sizeof buf, "%s", what);
    }
    ERR_clear_error();
    fail(t, status, buf);
}

static void on_written(uv_write_t *req, int status)
{
    write_req *w = (write_req *)req;
    nm_tls *t = w->t;
    t->backlog -= w->len;
    free(w);
    if (status < 0 && status != UV_ECANCELED) fail(t, NM_TLS_EIO, uv_strerror(status));
}

/* Writes what OpenSSL has put in the outgoing BIO. */
static void flush_out(nm_tls *t)
{
    for (;;) {
        size_t pending = BIO_ctrl_pending(t->wbio);
        if (pending == 0 || t->handles_closing) return;
        write_req *w = malloc(sizeof *w + pending);
        if (!w) {
            fail(t, NM_TLS_ENOMEM, "out of memory");
            return;
        }
        int n = BIO_read(t->wbio, w->data, (int)pending);
        if (n <= 0) {
            free(w);
            return;
        }
        w->t = t;
        w->len = (size_t)n;
        uv_buf_t buf = uv_buf_init((char *)w->data, (unsigned)n);
        int rc = uv_write(&w->req, (uv_stream_t *)&t->tcp, &buf, 1, on_written);
        if (rc < 0) {
            free(w);
            fail(t, NM_TLS_EIO, uv_strerror(rc));
            return;
        }
        t->backlog += (size_t)n;
    }
}

static int write_plain(nm_tls *t, const uint8_t *p, size_t n)
{
    while (n > 0) {
        int chunk = n > 1 << 20 ? 1 << 20 : (int)n;
        ERR_clear_error();
        int r = SSL_write(t->ssl, p, chunk);
        if (r <= 0) {
            fail_ssl(t, NM_TLS_EIO, "TLS write failed");
            return NM_TLS_EIO;
        }
        p += r;
        n -= (size_t)r;
    }
    flush_out(t);
    return t->state == S_READY ? NM_TLS_OK : NM_TLS_EIO;
}

static void handshake_done(nm_tls *t)
{
    uv_timer_stop(&t->timer);
    t->resumed = SSL_session_reused(t->ssl);
    const unsigned char *alpn = NULL;
    unsigned alpnlen = 0;
    SSL_get0_alpn_selected(t->ssl, &alpn, &alpnlen);
    if (alpn && alpnlen < sizeof t->alpn) {
        memcpy(t->alpn, alpn, alpnlen);
        t->alpn[alpnlen] = 0;
    }
    if (t->ctx->npins) {
        /* a resumed session shows no chain; it was kept only after a pin matched */
        t->verified = t->resumed || chain_has_pin(t);
        if (!t->verified) {
            t->check_status = NM_TLS_EPIN;
            snprintf(t->errtext, sizeof t->errtext, "%s",
                     "no certificate of the chain carries a pinned key (RFC 7858 SPKI pin)");
        }
    } else {
        t->verified = t->resumed ||
                      (t->verr == X509_V_OK && SSL_get_verify_result(t->ssl) == X509_V_OK);
        if (!t->verified) {
            if (t->verr == X509_V_OK) t->verr = (int)SSL_get_verify_result(t->ssl);
            t->check_status = verify_status(t->verr);
            if (t->check_status == NM_TLS_OK) t->check_status = NM_TLS_ECERT;
            describe_verr(t);
        }
    }
    if (!t->verified && t->ctx->strict) {
        /* close before any DNS goes out */
        char text[200];
        snprintf(text, sizeof text, "%s", t->errtext);
        fail(t, t->check_status, text);
        return;
    }
    if (t->ctx->alpn_required && strcmp(t->alpn, t->ctx->alpn) != 0) {
        char text[200];
        snprintf(text, sizeof text, "the server did not agree to ALPN \"%s\"", t->ctx->alpn);
        fail(t, NM_TLS_EALPN, text);
        return;
    }
    if (t->unconfirmed) {
        if (t->verified) store_session(t->ctx, t->key, t->unconfirmed);
        else SSL_SESSION_free(t->unconfirmed);
        t->unconfirmed = NULL;
    }
    t->state = S_READY;
    if (t->nqueued) {
        uint8_t *q = t->queued;
        size_t n = t->nqueued;
        t->queued = NULL;
        t->nqueued = t->capqueued = 0;
        int rc = write_plain(t, q, n);
        free(q);
        if (rc != NM_TLS_OK) return;
    }
    if (t->hooks.ready) t->hooks.ready(t->hooks.owner, t);
}

/* Moves the state machine on with what has arrived. */
static void pump(nm_tls *t)
{
    if (t->state == S_HANDSHAKE) {
        ERR_clear_error();
        int r = SSL_do_handshake(t->ssl);
        if (r != 1) {
            int e = SSL_get_error(t->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                flush_out(t);
                return;
            }
            flush_out(t); /* our alert, if any, goes out before the close */
            if (t->verr != X509_V_OK) {
                describe_verr(t);
                char text[200];
                snprintf(text, sizeof text, "%s", t->errtext);
                ERR_clear_error();
                fail(t, verify_status(t->verr), text);
            } else {
                fail_ssl(t, NM_TLS_EHANDSHAKE, "TLS handshake failed");
            }
            return;
        }
        flush_out(t);
        if (t->state != S_HANDSHAKE) return;
        handshake_done(t);
    }
    while (t->state == S_READY) {
        uint8_t buf[READ_CHUNK];
        ERR_clear_error();
        int r = SSL_read(t->ssl, buf, sizeof buf);
        if (r > 0) {
            if (t->hooks.data) t->hooks.data(t->hooks.owner, t, buf, (size_t)r);
            continue;
        }
        int e = SSL_get_error(t->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
        if (e == SSL_ERROR_ZERO_RETURN) {
            fail(t, NM_TLS_ECLOSED, "the server ended the TLS session");
            return;
        }
        fail_ssl(t, NM_TLS_EIO, "TLS read failed");
        return;
    }
    if (t->state == S_READY) flush_out(t); /* tickets' acks, key updates */
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    nm_tls *t = h->data;
    (void)suggested;
    *buf = uv_buf_init((char *)t->rbuf, sizeof t->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    nm_tls *t = s->data;
    (void)buf;
    if (t->state == S_FAILED || t->state == S_CLOSED) return;
    if (nread > 0) {
        if (BIO_write(t->rbio, t->rbuf, (int)nread) != (int)nread) {
            fail(t, NM_TLS_ENOMEM, "out of memory");
            return;
        }
        pump(t);
        return;
    }
    if (nread == 0) return;
    if (nread == UV_EOF) {
        fail(t, NM_TLS_ECLOSED, t->state == S_READY ? "the server closed the connection"
                                                    : "the server closed the connection during the TLS handshake");
        return;
    }
    fail(t, t->state == S_READY ? NM_TLS_EIO : NM_TLS_EHANDSHAKE, uv_strerror((int)nread));
}

static void on_connect(uv_connect_t *req, int status)
{
    nm_tls *t = req->data;
    if (t->state != S_CONNECTING) return; /* closed meanwhile */
    if (status < 0) {
        fail(t, NM_TLS_ECONNECT, uv_strerror(status));
        return;
    }
    t->state = S_HANDSHAKE;
    uv_tcp_nodelay(&t->tcp, 1);
    int rc = uv_read_start((uv_stream_t *)&t->tcp, on_alloc, on_read);
    if (rc < 0) {
        fail(t, NM_TLS_EIO, uv_strerror(rc));
        return;
    }
    pump(t);
}

static void on_timeout(uv_timer_t *timer)
{
    nm_tls *t = timer->data;
    if (t->state == S_CONNECTING || t->state == S_HANDSHAKE)
        fail(t, NM_TLS_ETIMEOUT, "the TLS handshake did not finish in time");
}

static int set_identity(nm_tls *t, const nm_addr *peer, const char *authname)
{
    X509_VERIFY_PARAM *param = SSL_get0_param(t->ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    unsigned char ip[16];
    if (authname && *authname && inet_pton(AF_INET, authname, ip) != 1 &&
        inet_pton(AF_INET6, authname, ip) != 1) {
        if (SSL_set_tlsext_host_name(t->ssl, authname) != 1) return -1;
        return X509_VERIFY_PARAM_set1_host(param, authname, 0) == 1 ? 0 : -1;
    }
    char host[64];
    const char *text = authname && *authname ? authname : nm_addr_host(peer, host, sizeof host);
    /* without a scope: a certificate names fe80::1, not fe80::1%eth0 */
    char bare[64];
    snprintf(bare, sizeof bare, "%s", text);
    char *pct = strchr(bare, '%');
    if (pct) *pct = 0;
    return X509_VERIFY_PARAM_set1_ip_asc(param, bare) == 1 ? 0 : -1;
}

nm_tls *nm_tls_open(uv_loop_t *loop, nm_tls_ctx *ctx, const nm_addr *peer, const char *authname,
                    unsigned handshake_ms, const nm_tls_hooks *hooks, int *err)
{
    *err = 0;
    nm_tls *t = calloc(1, sizeof *t);
    if (!t) {
        *err = UV_ENOMEM;
        return NULL;
    }
    t->ctx = ctx;
    t->hooks = *hooks;
    t->state = S_CONNECTING;
    char addr[64];
    snprintf(t->key, sizeof t->key, "%s#%s", nm_addr_text(peer, addr, sizeof addr), authname ? authname : "");
    ERR_clear_error();
    t->ssl = SSL_new(ctx->ssl);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->rbio || !t->wbio) {
        if (t->ssl) SSL_free(t->ssl);
        if (t->rbio) BIO_free(t->rbio);
        if (t->wbio) BIO_free(t->wbio);
        free(t);
        ERR_clear_error();
        *err = UV_ENOMEM;
        return NULL;
    }
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    SSL_set_ex_data(t->ssl, ssl_index, t);
    SSL_set_connect_state(t->ssl);
    SSL_set_verify(t->ssl, SSL_VERIFY_PEER, on_verify);
    if (set_identity(t, peer, authname) < 0) {
        SSL_free(t->ssl);
        free(t);
        ERR_clear_error();
        *err = UV_EINVAL;
        return NULL;
    }
    session_slot *slot = find_slot(ctx, t->key);
    if (slot) SSL_set_session(t->ssl, slot->sess);

    ctx->refs++;
    uv_tcp_init(loop, &t->tcp);
    uv_timer_init(loop, &t->timer);
    t->tcp.data = t->timer.data = t->connect.data = t;
    uv_tcp_nodelay(&t->tcp, 1);
    int rc = uv_tcp_connect(&t->connect, &t->tcp, &peer->u.sa, on_connect);
    /* the loop's clock may be stale (a long callback): the bound counts from now */
    uv_update_time(loop);
    if (rc == 0 && handshake_ms) rc = uv_timer_start(&t->timer, on_timeout, handshake_ms, 0);
    if (rc < 0) {
        /* never reported: the caller learns it from the return value */
        t->state = S_CLOSED;
        t->hooks.freed = NULL;
        close_handles(t);
        *err = rc;
        return NULL;
    }
    return t;
}

int nm_tls_write(nm_tls *t, const uint8_t *p, size_t n)
{
    if (t->state == S_READY) return write_plain(t, p, n);
    if (t->state != S_CONNECTING && t->state != S_HANDSHAKE) return NM_TLS_EIO;
    if (t->nqueued + n > t->capqueued) {
        size_t cap = t->capqueued ? t->capqueued : 1024;
        while (cap < t->nqueued + n) cap *= 2;
        uint8_t *q = realloc(t->queued, cap);
        if (!q) return NM_TLS_ENOMEM;
        t->queued = q;
        t->capqueued = cap;
    }
    memcpy(t->queued + t->nqueued, p, n);
    t->nqueued += n;
    return NM_TLS_OK;
}

void nm_tls_close(nm_tls *t)
{
    if (!t) return;
    if (t->state == S_READY && !t->handles_closing) {
        /* a close_notify, if the socket takes it now; no waiting for it */
        ERR_clear_error();
        SSL_shutdown(t->ssl);
        ERR_clear_error();
        uint8_t buf[256];
        int n = BIO_read(t->wbio, buf, sizeof buf);
        if (n > 0) {
            uv_buf_t b = uv_buf_init((char *)buf, (unsigned)n);
            (void)uv_try_write((uv_stream_t *)&t->tcp, &b, 1);
        }
    }
    t->state = S_CLOSED;
    close_handles(t);
}

int nm_tls_is_ready(const nm_tls *t) { return t->state == S_READY; }
int nm_tls_verified(const nm_tls *t) { return t->verified; }
int nm_tls_check_status(const nm_tls *t) { return t->check_status; }
const char *nm_tls_error(const nm_tls *t) { return t->errtext; }
int nm_tls_resumed(const nm_tls *t) { return t->resumed; }
const char *nm_tls_alpn(const nm_tls *t) { return t->alpn; }
size_t nm_tls_backlog(const nm_tls *t) { return t->backlog; }

const char *nm_tls_version(const nm_tls *t)
{
    return t->state == S_READY ? SSL_get_version(t->ssl) : "";
}

const char *nm_tls_cipher(const nm_tls *t)
{
    const char *c = t->state == S_READY ? SSL_get_cipher_name(t->ssl) : NULL;
    return c ? c : "";
}

void nm_tls_ref(nm_tls *t, int ref)
{
    if (t->handles_closing) return;
    if (ref) {
        uv_ref((uv_handle_t *)&t->tcp);
        uv_ref((uv_handle_t *)&t->timer);
    } else {
        uv_unref((uv_handle_t *)&t->tcp);
        uv_unref((uv_handle_t *)&t->timer);
    }
}

void nm_tls_ctx_ref(nm_tls_ctx *ctx)
{
    ctx->refs++;
}

void nm_tls_get_info(const nm_tls *t, nm_tls_info *out)
{
    memset(out, 0, sizeof *out);
    out->verified = t->verified;
    out->check_status = t->check_status;
    out->resumed = t->resumed;
    snprintf(out->version, sizeof out->version, "%s", nm_tls_version(t));
    snprintf(out->cipher, sizeof out->cipher, "%s", nm_tls_cipher(t));
    snprintf(out->alpn, sizeof out->alpn, "%s", t->alpn);
    snprintf(out->error, sizeof out->error, "%s", t->errtext);
}
