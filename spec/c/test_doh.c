/* DNS over HTTPS from C alone (doh.h), against the test named's HTTP/2
 * listener (NAMES_TEST_TLS_BASE + 1, path /dns-query) and the misbehaving
 * TLS servers of spec/support/tlsbad.c (NAMES_TEST_TLS_BASE + 6..8).
 * Queries carry id 0 (RFC 8484 4.1): each answer is matched to its question
 * by its stream alone, and checked to repeat the name asked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "ctest.h"
#include "doh.h"
#include "errors.h"
#include "message.h"
#include "name.h"
#include "tls.h"
#include "wire.h"

static int tls_base;
static char ca_file[600];

enum { K_DOT = 0, K_DOH = 1, K_EXPIRED = 2, K_H2_500 = 7, K_H2_TRUNCATED = 8 };

/* ------------------------------------------------------------ helpers */

typedef struct answer {
    int done, status, detail;
    char asked[64];
    int name_ok;      /* the answer repeats the name asked */
    int id;
    int rcode;
    uint8_t a[4];
    struct session *s;
} answer;

typedef struct session {
    nm_doh *d;
    int done_hook, done_status, freed;
    int answered;
    int close_in_callback;
    /* what the connection said when it ended (it is freed soon after) */
    int usable_at_done;
    char why[200];
} session;

static void on_answer(void *arg, int status, int detail, const uint8_t *body, size_t len)
{
    answer *a = arg;
    a->done = 1;
    a->status = status;
    a->detail = detail;
    a->s->answered++;
    if (status == NM_DOH_OK) {
        nm_msg m;
        if (nm_msg_parse(&m, body, len) == NM_OK) {
            a->id = m.id;
            a->rcode = m.rcode;
            if (m.nq == 1) {
                nm_reader r;
                uint8_t wire[NM_NAME_MAX];
                size_t wlen;
                char text[NM_NAME_TEXT_MAX];
                nm_reader_init(&r, m.wire, m.len);
                r.pos = m.q[0].name;
                if (nm_name_read(&r, wire, &wlen) == NM_OK) {
                    nm_name_to_text(wire, text, 0);
                    a->name_ok = strcasecmp(text, a->asked) == 0;
                }
            }
            for (int i = 0; i < m.count[NM_ANSWER]; i++)
                if (m.rr[i].type == 1 && m.rr[i].rdlen == 4) memcpy(a->a, m.wire + m.rr[i].rdata, 4);
            nm_msg_release(&m);
        }
    }
    if (a->s->close_in_callback) nm_doh_close(a->s->d);
}

static void h_done(void *owner, nm_doh *d, int status)
{
    session *s = owner;
    s->done_hook++;
    s->done_status = status;
    s->usable_at_done = nm_doh_usable(d);
    snprintf(s->why, sizeof s->why, "%s", nm_doh_error(d));
}

static void h_freed(void *owner, nm_doh *d)
{
    session *s = owner;
    (void)d;
    s->freed = 1;
}

static nm_tls_ctx *make_ctx(int strict, const char *alpn)
{
    nm_tls_config cfg = {strict, ca_file, NULL, NULL, 0, alpn};
    char err[200] = "";
    nm_tls_ctx *ctx = nm_tls_ctx_new(&cfg, err, sizeof err);
    if (!ctx) CTEST_FAIL("nm_tls_ctx_new: %s", err);
    return ctx;
}

static void open_session(session *s, uv_loop_t *loop, nm_tls_ctx *ctx, int port, const char *path, int get)
{
    nm_addr peer;
    memset(s, 0, sizeof *s);
    CHECK(nm_addr_from_host("127.0.0.1", (uint16_t)port, &peer) == NM_OK);
    nm_doh_target target = {&peer, "dns.example.test", "dns.example.test", path, get};
    nm_doh_hooks hooks = {s, h_done, h_freed, NULL};
    int err = 0;
    s->d = nm_doh_open(loop, ctx, &target, 3000, &hooks, &err);
    if (!s->d) CTEST_FAIL("nm_doh_open: %s", uv_strerror(err));
}

/* A query with id 0 for name/type. */
static int32_t ask(session *s, answer *a, const char *name, uint16_t type)
{
    uint8_t q[300];
    size_t n = 0;
    memset(q, 0, 12);
    q[5] = 1;
    n = 12;
    uint8_t wire[NM_NAME_MAX];
    size_t wlen = 0;
    CHECK(nm_name_from_text(name, strlen(name), wire, &wlen) == NM_OK);
    memcpy(q + n, wire, wlen);
    n += wlen;
    q[n++] = (uint8_t)(type >> 8);
    q[n++] = (uint8_t)type;
    q[n++] = 0;
    q[n++] = 1;
    memset(a, 0, sizeof *a);
    a->s = s;
    a->id = -1;
    snprintf(a->asked, sizeof a->asked, "%s", name);
    int32_t h = nm_doh_query(s->d, q, n, on_answer, a);
    CHECK(h > 0);
    return h;
}

static void stop_after(uv_timer_t *timer)
{
    uv_stop(timer->loop);
}

#define RUN_UNTIL(loop, cond, ms)                                             \
    do {                                                                      \
        uv_timer_t guard_;                                                    \
        uv_timer_init((loop), &guard_);                                       \
        uv_timer_start(&guard_, stop_after, (ms), 0);                         \
        uv_update_time(loop);                                                 \
        uint64_t until_ = uv_now(loop) + (ms);                                \
        while (!(cond) && uv_now(loop) < until_) uv_run((loop), UV_RUN_ONCE); \
        uv_close((uv_handle_t *)&guard_, NULL);                               \
        uv_run((loop), UV_RUN_NOWAIT);                                        \
    } while (0)

static void finish(uv_loop_t *loop, session *s, nm_tls_ctx *ctx)
{
    if (!s->freed) nm_doh_close(s->d);
    RUN_UNTIL(loop, s->freed, 3000);
    CHECK(s->freed);
    nm_tls_ctx_free(ctx);
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(loop), 0);
}

/* ------------------------------------------------------------ tests */

TEST(base64url_has_no_padding_and_the_url_alphabet)
{
    char out[16];
    const uint8_t in[] = {0xfb, 0xff, 0xfe, 0x41};
    CHECK_INT(nm_base64url(in, 0, out), 0);
    CHECK_INT(nm_base64url(in, 1, out), 2);
    CHECK(strcmp(out, "-w") == 0);
    CHECK_INT(nm_base64url(in, 3, out), 4);
    CHECK(strcmp(out, "-__-") == 0);
    CHECK_INT(nm_base64url(in, 4, out), 6);
    CHECK(strcmp(out, "-__-QQ") == 0);
}

static void one_query(int get)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    nm_tls_ctx *ctx = make_ctx(1, "h2");
    session s;
    answer a, b;
    open_session(&s, &loop, ctx, tls_base + K_DOH, "/dns-query", get);
    ask(&s, &a, "www.example.test", 1);
    ask(&s, &b, "nonexistent.example.test", 1);
    RUN_UNTIL(&loop, a.done && b.done, 5000);
    CHECK_INT(a.status, NM_DOH_OK);
    CHECK_INT(a.id, 0);
    CHECK(a.name_ok);
    CHECK_INT(a.rcode, 0);
    CHECK_INT(a.a[0], 192);
    CHECK_INT(a.a[3], 10);
    CHECK_INT(b.status, NM_DOH_OK);
    CHECK(b.name_ok);
    CHECK_INT(b.rcode, 3); /* NXDOMAIN */
    CHECK(nm_tls_verified(nm_doh_tls(s.d)));
    CHECK(strcmp(nm_tls_alpn(nm_doh_tls(s.d)), "h2") == 0);
    CHECK_INT(s.done_hook, 0);
    finish(&loop, &s, ctx);
    CHECK_INT(s.done_hook, 0); /* closing by its owner is no news to it */
}

TEST(post_queries_are_answered_with_id_zero)
{
    one_query(0);
}

TEST(get_queries_are_answered_with_id_zero)
{
    one_query(1);
}

TEST(a_wrong_path_is_an_http_404)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    nm_tls_ctx *ctx = make_ctx(1, "h2");
    session s;
    answer a;
    open_session(&s, &loop, ctx, tls_base + K_DOH, "/no-such-path", 0);
    ask(&s, &a, "www.example.test", 1);
    RUN_UNTIL(&loop, a.done, 5000);
    CHECK_INT(a.status, NM_DOH_EHTTP);
    CHECK_INT(a.detail, 404);
    CHECK(nm_doh_usable(s.d)); /* one stream's error, not the connection's */
    finish(&loop, &s, ctx);
}

TEST(a_server_that_does_not_speak_http2_is_refused)
{
    /* named's DNS over TLS port agrees to no "h2" */
    uv_loop_t loop;
    uv_loop_init(&loop);
    nm_tls_ctx *ctx = make_ctx(1, "h2");
    session s;
    answer a;
    open_session(&s, &loop, ctx, tls_base + K_DOT, "/dns-query", 0);
    ask(&s, &a, "www.example.test", 1);
    RUN_UNTIL(&loop, a.done, 5000);
    CHECK_INT(a.status, NM_DOH_ETLS);
    CHECK(a.detail == NM_TLS_EALPN || a.detail == NM_TLS_EHANDSHAKE);
    CHECK_INT(s.done_hook, 1);
    CHECK(!s.usable_at_done);
    finish(&loop, &s, ctx);
}

TEST(strict_verification_holds_for_doh_too)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    nm_tls_ctx *ctx = make_ctx(1, "h2");
    session s;
    answer a;
    open_session(&s, &loop, ctx, tls_base + K_EXPIRED, "/dns-query", 0);
    ask(&s, &a, "www.example.test", 1);
    RUN_UNTIL(&loop, a.done, 5000);
    CHECK_INT(a.status, NM_DOH_ETLS);
    CHECK_INT(a.detail, NM_TLS_EEXPIRED);
    CHECK(strstr(s.why, "expired") != NULL);
    finish(&loop, &s, ctx);
}

TEST(a_thousand_queries_in_flight_as_streams_of_one_connection_are_each_matched)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    nm_tls_ctx *ctx = make_ctx(1, "h2");
    session s;
    enum { N = 1000 };
    answer *a = calloc(N, sizeof *a);
    open_session(&s, &loop, ctx, tls_base + K_DOH, "/dns-query", 0);
    for (int i = 0; i < N; i++) {
        char name[64];
        if (i % 3 == 0) snprintf(name, sizeof name, "www.example.test");
        else snprintf(name, sizeof name, "n%d.example.test", i);
        ask(&s, &a[i], name, 1);
    }
    CHECK_INT(nm_doh_pending(s.d), N);
    RUN_UNTIL(&loop, s.answered == N, 30000);
    int ok = 0, matched = 0;
    for (int i = 0; i < N; i++) {
        ok += a[i].status == NM_DOH_OK;
        matched += a[i].name_ok && a[i].rcode == (i % 3 == 0 ? 0 : 3);
    }
    CHECK_INT(ok, N);
    CHECK_INT(matched, N);
    CHECK_INT(nm_doh_pending(s.d), 0);
    finish(&loop, &s, ctx);
    free(a);
}

TEST(a_cancelled_query_is_never_called_back)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    nm_tls_ctx *ctx = make_ctx(1, "h2");
    session s;
    answer a, b;
    open_session(&s, &loop, ctx, tls_base + K_DOH, "/dns-query", 0);
    int32_t h = ask(&s, &a, "www.example.test", 1);
    ask(&s, &b, "www.example.test", 1);
    nm_doh_cancel(s.d, h);
    CHECK_INT(nm_doh_pending(s.d), 1);
    RUN_UNTIL(&loop, b.done, 5000);
    RUN_UNTIL(&loop, 0, 100);
    CHECK(!a.done);
    CHECK_INT(b.status, NM_DOH_OK);
    finish(&loop, &s, ctx);
}

TEST(closing_inside_a_callback_fails_the_rest_once)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    nm_tls_ctx *ctx = make_ctx(1, "h2");
    session s;
    answer a[10];
    open_session(&s, &loop, ctx, tls_base + K_DOH, "/dns-query", 0);
    for (int i = 0; i < 10; i++) ask(&s, &a[i], "www.example.test", 1);
    s.close_in_callback = 1;
    RUN_UNTIL(&loop, s.freed, 5000);
    int ok = 0, closed = 0;
    for (int i = 0; i < 10; i++) {
        CHECK(a[i].done);
        ok += a[i].status == NM_DOH_OK;
        closed += a[i].status == NM_DOH_ECLOSED;
    }
    CHECK(ok >= 1);
    CHECK_INT(ok + closed, 10);
    CHECK_INT(s.answered, 10);
    finish(&loop, &s, ctx);
}

TEST(an_http_500_fails_the_query_with_its_status)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    nm_tls_ctx *ctx = make_ctx(1, "h2");
    session s;
    answer a, b;
    open_session(&s, &loop, ctx, tls_base + K_H2_500, "/dns-query", 0);
    ask(&s, &a, "www.example.test", 1);
    ask(&s, &b, "www.example.test", 28);
    RUN_UNTIL(&loop, a.done && b.done, 5000);
    CHECK_INT(a.status, NM_DOH_EHTTP);
    CHECK_INT(a.detail, 500);
    CHECK_INT(b.status, NM_DOH_EHTTP);
    finish(&loop, &s, ctx);
}

TEST(a_truncated_http2_frame_fails_clearly)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    nm_tls_ctx *ctx = make_ctx(1, "h2");
    session s;
    answer a;
    open_session(&s, &loop, ctx, tls_base + K_H2_TRUNCATED, "/dns-query", 0);
    ask(&s, &a, "www.example.test", 1);
    RUN_UNTIL(&loop, a.done, 5000);
    /* the frame's end never comes: the server closes in its middle */
    CHECK(a.status == NM_DOH_ECLOSED || a.status == NM_DOH_EPROTO);
    CHECK(a.done);
    CHECK_INT(s.done_hook, 1);
    CHECK(!s.usable_at_done);
    finish(&loop, &s, ctx);
}

/* ------------------------------------------------------------ main */

int main(void)
{
    const char *base = getenv("NAMES_TEST_TLS_BASE");
    const char *certs = getenv("NAMES_TEST_CERTS");
    if (!base || !certs) {
        fprintf(stderr, "NAMES_TEST_TLS_BASE and NAMES_TEST_CERTS must be set (. build/testenv/env.sh)\n");
        printf("0 passed, 1 failed\n");
        return 1;
    }
    tls_base = atoi(base);
    snprintf(ca_file, sizeof ca_file, "%s/ca.pem", certs);
    return ctest_main();
}
