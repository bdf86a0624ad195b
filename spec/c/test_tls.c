/* DNS over TLS from C alone (tls.h, stream_frame.h), against the test named's
 * TLS listeners on NAMES_TEST_TLS_BASE + k (spec/support/servers.sh): a
 * valid chain (k 0), an expired certificate (2), one for another name (3),
 * a self-signed one (4), an openssl s_server that answers with an alert (5),
 * and the misbehaving servers on NAMES_TEST_BAD_BASE + k for a handshake
 * that never finishes (silent, 1) and a server that closes at once (15).
 *
 * That strict mode sends no query is checked in named's query log: the
 * question asked on a refused connection never shows there, while the same
 * question over an accepted one does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "ctest.h"
#include "errors.h"
#include "message.h"
#include "name.h"
#include "wire.h"
#include "stream_frame.h"
#include "tls.h"

static int tls_base, bad_base;
static char certs[512], querylog[512];
static char ca_file[600], good_pin[64];

/* ------------------------------------------------------------ helpers */

/* One connection and what came of it. */
typedef struct conn {
    nm_tls *t;
    nm_frame_reader frame;
    int ready, failed, freed, status;
    int nanswers;           /* messages framed */
    int matched;            /* answers whose id and name matched a question sent */
    int mismatched;
    uint8_t *seen;          /* per id: answered */
    char names[1024][40];   /* per id (< 1024): the name asked */
    uint8_t last_a[4];
    int last_rcode;
    int close_on_answer;    /* close from inside the data hook */
    /* what the connection said when it failed (it is freed soon after) */
    char why[200];
    int check, verified;
    int framing_error;
} conn;

static int on_message(void *arg, const uint8_t *msg, size_t len)
{
    conn *c = arg;
    nm_msg m;
    c->nanswers++;
    if (nm_msg_parse(&m, msg, len) != NM_OK) {
        c->mismatched++;
        return 0;
    }
    char got[NM_NAME_TEXT_MAX];
    uint8_t wire[NM_NAME_MAX];
    size_t wlen = 0;
    nm_reader r;
    int ok = m.nq == 1 && m.id < 1024 && c->seen && !c->seen[m.id];
    if (ok) {
        nm_reader_init(&r, m.wire, m.len);
        r.pos = m.q[0].name;
        ok = nm_name_read(&r, wire, &wlen) == NM_OK;
    }
    if (ok) {
        nm_name_to_text(wire, got, 0);
        ok = strcasecmp(got, c->names[m.id]) == 0;
    }
    if (ok) {
        c->seen[m.id] = 1;
        c->matched++;
    } else {
        c->mismatched++;
    }
    c->last_rcode = m.rcode;
    for (int i = 0; i < m.count[NM_ANSWER]; i++)
        if (m.rr[i].type == 1 && m.rr[i].rdlen == 4) memcpy(c->last_a, m.wire + m.rr[i].rdata, 4);
    nm_msg_release(&m);
    if (c->close_on_answer) {
        nm_tls_close(c->t);
        return 1;
    }
    return 0;
}

static void h_ready(void *owner, nm_tls *t)
{
    conn *c = owner;
    (void)t;
    c->ready = 1;
}

static void h_data(void *owner, nm_tls *t, const uint8_t *p, size_t n)
{
    conn *c = owner;
    (void)t;
    int rc = nm_frame_feed(&c->frame, p, n, on_message, c);
    if (rc == NM_ENOMEM) c->framing_error = 1;
}

static void h_failed(void *owner, nm_tls *t, int status)
{
    conn *c = owner;
    c->failed = 1;
    c->status = status;
    snprintf(c->why, sizeof c->why, "%s", nm_tls_error(t));
    c->check = nm_tls_check_status(t);
    c->verified = nm_tls_verified(t);
}

static void h_freed(void *owner, nm_tls *t)
{
    conn *c = owner;
    (void)t;
    c->freed = 1;
}

static const nm_tls_hooks hooks = {NULL, h_ready, h_data, h_failed, h_freed};

static nm_tls_ctx *make_ctx(int strict, const char *ca, const char *const *pins, size_t npins)
{
    nm_tls_config cfg = {strict, ca, NULL, pins, npins, "dot"};
    char err[200] = "";
    nm_tls_ctx *ctx = nm_tls_ctx_new(&cfg, err, sizeof err);
    if (!ctx) CTEST_FAIL("nm_tls_ctx_new: %s", err);
    return ctx;
}

static void open_conn(conn *c, uv_loop_t *loop, nm_tls_ctx *ctx, int port, const char *authname,
                      unsigned handshake_ms)
{
    nm_addr peer;
    memset(c, 0, sizeof *c);
    c->seen = calloc(1024, 1);
    CHECK(nm_addr_from_host("127.0.0.1", (uint16_t)port, &peer) == NM_OK);
    nm_tls_hooks h = hooks;
    h.owner = c;
    int err = 0;
    c->t = nm_tls_open(loop, ctx, &peer, authname, handshake_ms, &h, &err);
    if (!c->t) CTEST_FAIL("nm_tls_open: %s", uv_strerror(err));
}

/* Writes a framed query for name/type with this id. */
static void ask(conn *c, uint16_t id, const char *name, uint16_t type)
{
    uint8_t q[300];
    size_t n = 2;
    memset(q, 0, sizeof q);
    q[n++] = (uint8_t)(id >> 8);
    q[n++] = (uint8_t)id;
    q[n++] = 0x00; /* no RD: named here is authoritative only */
    q[n++] = 0x00;
    q[n++] = 0;
    q[n++] = 1; /* one question */
    n += 6;
    const char *p = name;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        q[n++] = (uint8_t)len;
        memcpy(q + n, p, len);
        n += len;
        p += len;
        if (*p == '.') p++;
    }
    q[n++] = 0;
    q[n++] = (uint8_t)(type >> 8);
    q[n++] = (uint8_t)type;
    q[n++] = 0;
    q[n++] = 1;
    q[0] = (uint8_t)((n - 2) >> 8); /* the two-octet length (RFC 7858 3.3) */
    q[1] = (uint8_t)(n - 2);
    if (id < 1024) snprintf(c->names[id], sizeof c->names[id], "%s", name);
    CHECK_INT(nm_tls_write(c->t, q, n), NM_TLS_OK);
}

static void stop_after(uv_timer_t *timer)
{
    uv_stop(timer->loop);
}

/* Runs the loop until cond holds or ms pass. */
#define RUN_UNTIL(loop, cond, ms)                                             \
    do {                                                                      \
        uv_timer_t guard_;                                                    \
        uv_timer_init((loop), &guard_);                                       \
        uv_timer_start(&guard_, stop_after, (ms), 0);                         \
        uint64_t until_ = uv_now(loop) + (ms);                                \
        while (!(cond) && uv_now(loop) < until_) uv_run((loop), UV_RUN_ONCE); \
        uv_close((uv_handle_t *)&guard_, NULL);                               \
        uv_run((loop), UV_RUN_NOWAIT);                                        \
    } while (0)

static void finish(uv_loop_t *loop, conn *c)
{
    if (c->t && !c->freed) nm_tls_close(c->t);
    RUN_UNTIL(loop, c->freed, 2000);
    CHECK(c->freed);
    nm_frame_reader_free(&c->frame);
    free(c->seen);
    c->seen = NULL;
}

static void close_loop(uv_loop_t *loop)
{
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(loop), 0);
}

/* Whether named's query log mentions name (case-insensitively). */
static int logged(const char *name)
{
    FILE *f = fopen(querylog, "r");
    if (!f) return -1;
    char line[1024];
    int found = 0;
    while (fgets(line, sizeof line, f))
        if (strcasestr(line, name)) found = 1;
    fclose(f);
    return found;
}

static void unique_name(char *out, size_t cap, const char *what)
{
    snprintf(out, cap, "%s-%u-%u.example.test", what, (unsigned)uv_hrtime() % 100000u, (unsigned)rand() % 100000u);
}

/* Strict against a bad certificate: fails with want, and the question
 * queued before the handshake never reaches named. */
static void refused_with(int port, const char *authname, int want, const char *what)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    nm_tls_ctx *ctx = make_ctx(1, ca_file, NULL, 0);
    conn c;
    char name[100];
    unique_name(name, sizeof name, what);
    open_conn(&c, &loop, ctx, port, authname, 3000);
    ask(&c, 7, name, 1);
    RUN_UNTIL(&loop, c.failed, 4000);
    CHECK(c.failed);
    CHECK(!c.ready);
    CHECK_INT(c.status, want);
    CHECK_INT(c.check, want);
    CHECK(!c.verified);
    if (c.status != want) fprintf(stderr, "  %s: %s\n", what, c.why);
    CHECK(strstr(c.why, nm_tls_strstatus(want)) != NULL);
    finish(&loop, &c);
    nm_tls_ctx_free(ctx);
    close_loop(&loop);
    /* named logs what it is asked at once; give it a moment all the same */
    uv_sleep(200);
    CHECK_INT(logged(name), 0);
}

/* ------------------------------------------------------------ tests */

static int count_frame(void *arg, const uint8_t *msg, size_t len)
{
    (void)msg;
    *(size_t *)arg += len;
    return 0;
}

TEST(an_empty_piece_of_stream_leaves_the_frame_reader_as_it_was)
{
    /* realloc(p, 0) frees p: the reader once returned NM_ENOMEM with its
     * buffer freed under it (found by fuzz_dot_frames) */
    const uint8_t msg[5] = {0, 3, 'a', 'b', 'c'};
    nm_frame_reader fr;
    size_t got = 0;
    memset(&fr, 0, sizeof fr);
    CHECK_INT(nm_frame_feed(&fr, msg, 4, count_frame, &got), NM_OK);
    CHECK_INT(nm_frame_feed(&fr, msg, 0, count_frame, &got), NM_OK);
    CHECK_INT(nm_frame_feed(&fr, msg + 4, 1, count_frame, &got), NM_OK);
    CHECK_INT(got, 3);
    CHECK_INT(nm_frame_feed(&fr, msg, 0, count_frame, &got), NM_OK);
    nm_frame_reader_free(&fr);
}

TEST(a_pin_that_is_not_a_sha256_in_base64_is_refused)
{
    const char *bad[] = {"abc", "Ra9v2XYTKKonjotwNqgJiNyXdP32iNNOZsOhPNYIfw==",
                         "Ra9v2XYTKKonjotwNqgJiNyXdP32iNNOZsOhPNY*fwo="};
    for (int i = 0; i < 3; i++) {
        nm_tls_config cfg = {1, ca_file, NULL, &bad[i], 1, "dot"};
        char err[200] = "";
        nm_tls_ctx *ctx = nm_tls_ctx_new(&cfg, err, sizeof err);
        CHECK(ctx == NULL);
        CHECK(strstr(err, "pin 1") != NULL);
        nm_tls_ctx_free(ctx);
    }
}

TEST(a_ca_file_that_cannot_be_read_is_refused)
{
    nm_tls_config cfg = {1, "/nonexistent/ca.pem", NULL, NULL, 0, "dot"};
    char err[200] = "";
    CHECK(nm_tls_ctx_new(&cfg, err, sizeof err) == NULL);
    CHECK(strstr(err, "CA file") != NULL);
}

TEST(strict_mode_verifies_chain_and_name_and_answers)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    nm_tls_ctx *ctx = make_ctx(1, ca_file, NULL, 0);
    conn c;
    char name[100];
    unique_name(name, sizeof name, "strict-good");
    open_conn(&c, &loop, ctx, tls_base, "dns.example.test", 3000);
    ask(&c, 1, "www.example.test", 1);
    ask(&c, 2, name, 1);
    RUN_UNTIL(&loop, c.matched == 2 || c.failed, 4000);
    CHECK(c.ready);
    CHECK(!c.failed);
    CHECK_INT(c.matched, 2);
    CHECK_INT(c.mismatched, 0);
    CHECK(nm_tls_verified(c.t));
    CHECK_INT(nm_tls_check_status(c.t), NM_TLS_OK);
    CHECK(strcmp(nm_tls_version(c.t), "TLSv1.3") == 0 || strcmp(nm_tls_version(c.t), "TLSv1.2") == 0);
    CHECK(*nm_tls_cipher(c.t) != 0);
    finish(&loop, &c);
    nm_tls_ctx_free(ctx);
    close_loop(&loop);
    uv_sleep(200);
    CHECK_INT(logged(name), 1); /* the log check of the refusals can see queries */
}

TEST(strict_mode_checks_the_address_when_no_name_is_given)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    nm_tls_ctx *ctx = make_ctx(1, ca_file, NULL, 0);
    conn c;
    open_conn(&c, &loop, ctx, tls_base, NULL, 3000);
    ask(&c, 1, "www.example.test", 1);
    RUN_UNTIL(&loop, c.matched == 1 || c.failed, 4000);
    CHECK_INT(c.matched, 1);
    CHECK(nm_tls_verified(c.t));
    CHECK_INT(c.last_a[0], 192);
    CHECK_INT(c.last_a[3], 10);
    finish(&loop, &c);
    nm_tls_ctx_free(ctx);
    close_loop(&loop);
}

TEST(strict_mode_refuses_an_expired_certificate_and_sends_nothing)
{
    refused_with(tls_base + 2, "dns.example.test", NM_TLS_EEXPIRED, "strict-expired");
}

TEST(strict_mode_refuses_a_certificate_for_another_name_and_sends_nothing)
{
    refused_with(tls_base + 3, "dns.example.test", NM_TLS_ENAME, "strict-wrongname");
}

TEST(strict_mode_refuses_the_right_certificate_for_another_name)
{
    /* the good chain, asked for a name it does not carry */
    refused_with(tls_base, "dns.other.test", NM_TLS_ENAME, "strict-othername");
}

TEST(strict_mode_refuses_a_self_signed_certificate_and_sends_nothing)
{
    refused_with(tls_base + 4, "dns.example.test", NM_TLS_EUNKNOWNCA, "strict-selfsigned");
}

TEST(strict_mode_with_the_system_store_refuses_the_test_ca)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    nm_tls_ctx *ctx = make_ctx(1, NULL, NULL, 0);
    conn c;
    open_conn(&c, &loop, ctx, tls_base, "dns.example.test", 3000);
    ask(&c, 1, "www.example.test", 1);
    RUN_UNTIL(&loop, c.failed, 4000);
    CHECK_INT(c.status, NM_TLS_EUNKNOWNCA);
    CHECK(!c.ready);
    finish(&loop, &c);
    nm_tls_ctx_free(ctx);
    close_loop(&loop);
}

TEST(opportunistic_mode_goes_on_past_a_bad_certificate_and_says_so)
{
    int ports[3] = {tls_base + 2, tls_base + 3, tls_base + 4};
    int want[3] = {NM_TLS_EEXPIRED, NM_TLS_ENAME, NM_TLS_EUNKNOWNCA};
    for (int i = 0; i < 3; i++) {
        uv_loop_t loop;
        uv_loop_init(&loop);
        nm_tls_ctx *ctx = make_ctx(0, ca_file, NULL, 0);
        conn c;
        open_conn(&c, &loop, ctx, ports[i], "dns.example.test", 3000);
        ask(&c, 3, "www.example.test", 1);
        RUN_UNTIL(&loop, c.matched == 1 || c.failed, 4000);
        CHECK(c.ready);
        CHECK_INT(c.matched, 1);
        CHECK(!nm_tls_verified(c.t));
        CHECK_INT(nm_tls_check_status(c.t), want[i]);
        CHECK(strstr(nm_tls_error(c.t), nm_tls_strstatus(want[i])) != NULL);
        finish(&loop, &c);
        nm_tls_ctx_free(ctx);
        close_loop(&loop);
    }
}

TEST(a_matching_pin_authenticates_without_a_trusted_ca)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    const char *pins[2] = {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", good_pin};
    nm_tls_ctx *ctx = make_ctx(1, NULL, pins, 2); /* the system store: the test CA unknown */
    conn c;
    open_conn(&c, &loop, ctx, tls_base, "dns.example.test", 3000);
    ask(&c, 1, "www.example.test", 1);
    RUN_UNTIL(&loop, c.matched == 1 || c.failed, 4000);
    CHECK(c.ready);
    CHECK_INT(c.matched, 1);
    CHECK(nm_tls_verified(c.t));
    finish(&loop, &c);
    nm_tls_ctx_free(ctx);
    close_loop(&loop);
}

TEST(a_pin_mismatch_is_refused_in_strict_mode_and_sends_nothing)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    const char *pins[1] = {good_pin};
    nm_tls_ctx *ctx = make_ctx(1, ca_file, pins, 1);
    conn c;
    char name[100];
    unique_name(name, sizeof name, "strict-pin");
    /* the self-signed server has another key */
    open_conn(&c, &loop, ctx, tls_base + 4, "dns.example.test", 3000);
    ask(&c, 1, name, 1);
    RUN_UNTIL(&loop, c.failed, 4000);
    CHECK(c.failed);
    CHECK(!c.ready);
    CHECK_INT(c.status, NM_TLS_EPIN);
    CHECK(strstr(c.why, "pinned key") != NULL);
    finish(&loop, &c);
    nm_tls_ctx_free(ctx);
    close_loop(&loop);
    uv_sleep(200);
    CHECK_INT(logged(name), 0);
}

TEST(a_second_connection_resumes_the_session)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    nm_tls_ctx *ctx = make_ctx(1, ca_file, NULL, 0);
    for (int round = 0; round < 2; round++) {
        conn c;
        open_conn(&c, &loop, ctx, tls_base, "dns.example.test", 3000);
        ask(&c, 1, "www.example.test", 1);
        RUN_UNTIL(&loop, c.matched == 1 || c.failed, 4000);
        CHECK_INT(c.matched, 1);
        CHECK(nm_tls_verified(c.t));
        CHECK_INT(nm_tls_resumed(c.t), round == 1);
        finish(&loop, &c);
    }
    nm_tls_ctx_free(ctx);
    close_loop(&loop);
}

TEST(a_handshake_that_never_finishes_times_out)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    nm_tls_ctx *ctx = make_ctx(1, ca_file, NULL, 0);
    conn c;
    uint64_t t0 = uv_hrtime();
    open_conn(&c, &loop, ctx, bad_base + 1, "dns.example.test", 300);
    ask(&c, 1, "www.example.test", 1);
    RUN_UNTIL(&loop, c.failed, 3000);
    double took = (double)(uv_hrtime() - t0) / 1e6;
    CHECK_INT(c.status, NM_TLS_ETIMEOUT);
    double slack = getenv("NAMES_UNDER_VALGRIND") ? 5000 : 1200;
    CHECK(took >= 290 && took < 300 + slack);
    if (took < 290 || took >= 300 + slack) fprintf(stderr, "  took %.0f ms\n", took);
    finish(&loop, &c);
    nm_tls_ctx_free(ctx);
    close_loop(&loop);
}

TEST(a_tls_alert_fails_the_handshake_clearly)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    nm_tls_ctx *ctx = make_ctx(1, ca_file, NULL, 0);
    conn c;
    open_conn(&c, &loop, ctx, tls_base + 5, "dns.example.test", 3000);
    ask(&c, 1, "www.example.test", 1);
    RUN_UNTIL(&loop, c.failed, 4000);
    CHECK_INT(c.status, NM_TLS_EHANDSHAKE);
    CHECK(strstr(c.why, "alert") != NULL);
    if (!strstr(c.why, "alert")) fprintf(stderr, "  alert test: %s\n", c.why);
    finish(&loop, &c);
    nm_tls_ctx_free(ctx);
    close_loop(&loop);
}

TEST(a_server_that_closes_during_the_handshake_fails_clearly)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    nm_tls_ctx *ctx = make_ctx(1, ca_file, NULL, 0);
    conn c;
    open_conn(&c, &loop, ctx, bad_base + 15, "dns.example.test", 3000);
    RUN_UNTIL(&loop, c.failed, 4000);
    CHECK(c.status == NM_TLS_ECLOSED || c.status == NM_TLS_EHANDSHAKE);
    CHECK(strstr(c.why, "closed") != NULL || strstr(c.why, "reset") != NULL);
    finish(&loop, &c);
    nm_tls_ctx_free(ctx);
    close_loop(&loop);
}

TEST(a_server_that_closes_in_the_middle_of_an_answer_fails_clearly)
{
    /* tlsbad's dot_close_mid: a length prefix of 64, 10 bytes, then gone */
    uv_loop_t loop;
    uv_loop_init(&loop);
    nm_tls_ctx *ctx = make_ctx(1, ca_file, NULL, 0);
    conn c;
    open_conn(&c, &loop, ctx, tls_base + 6, "dns.example.test", 3000);
    ask(&c, 1, "www.example.test", 1);
    RUN_UNTIL(&loop, c.failed, 4000);
    CHECK(c.ready);
    CHECK_INT(c.status, NM_TLS_ECLOSED);
    CHECK_INT(c.nanswers, 0);
    CHECK(c.frame.len > 0); /* the owner sees a message cut short */
    CHECK(c.verified);                  /* verification passed; the stream broke */
    finish(&loop, &c);
    nm_tls_ctx_free(ctx);
    close_loop(&loop);
}

TEST(a_refused_connection_fails_clearly)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    nm_tls_ctx *ctx = make_ctx(1, ca_file, NULL, 0);
    conn c;
    open_conn(&c, &loop, ctx, tls_base + 19, "dns.example.test", 3000);
    RUN_UNTIL(&loop, c.failed, 4000);
    CHECK_INT(c.status, NM_TLS_ECONNECT);
    finish(&loop, &c);
    nm_tls_ctx_free(ctx);
    close_loop(&loop);
}

TEST(a_thousand_queries_in_flight_on_one_connection_are_each_matched)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    nm_tls_ctx *ctx = make_ctx(1, ca_file, NULL, 0);
    conn c;
    open_conn(&c, &loop, ctx, tls_base, "dns.example.test", 3000);
    /* names that exist and names that do not, so answers differ in size */
    for (int i = 0; i < 1000; i++) {
        char name[64];
        if (i % 3 == 0) snprintf(name, sizeof name, "www.example.test");
        else snprintf(name, sizeof name, "n%d.example.test", i);
        ask(&c, (uint16_t)i, name, 1);
    }
    RUN_UNTIL(&loop, c.nanswers == 1000 || c.failed, 20000);
    CHECK(!c.failed);
    CHECK_INT(c.matched, 1000);
    CHECK_INT(c.mismatched, 0);
    CHECK(!c.framing_error);
    finish(&loop, &c);
    nm_tls_ctx_free(ctx);
    close_loop(&loop);
}

TEST(closing_from_inside_the_data_hook_is_safe)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    nm_tls_ctx *ctx = make_ctx(1, ca_file, NULL, 0);
    conn c;
    open_conn(&c, &loop, ctx, tls_base, "dns.example.test", 3000);
    c.close_on_answer = 1;
    for (int i = 0; i < 20; i++) ask(&c, (uint16_t)i, "www.example.test", 1);
    RUN_UNTIL(&loop, c.freed, 4000);
    CHECK(c.freed);
    CHECK_INT(c.nanswers, 1);
    CHECK(!c.failed);
    finish(&loop, &c);
    /* the context outlives its last connection only through its owner */
    nm_tls_ctx_free(ctx);
    close_loop(&loop);
}

TEST(closing_before_the_handshake_ends_reports_nothing)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    nm_tls_ctx *ctx = make_ctx(1, ca_file, NULL, 0);
    conn c;
    open_conn(&c, &loop, ctx, tls_base, "dns.example.test", 3000);
    ask(&c, 1, "www.example.test", 1);
    nm_tls_ctx_free(ctx); /* the connection keeps it */
    nm_tls_close(c.t);
    CHECK(nm_tls_write(c.t, (const uint8_t *)"x", 1) != NM_TLS_OK);
    RUN_UNTIL(&loop, c.freed, 2000);
    CHECK(c.freed);
    CHECK(!c.ready);
    CHECK(!c.failed);
    finish(&loop, &c);
    close_loop(&loop);
}

/* ------------------------------------------------------------ main */

static int env_int(const char *name, int *out)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "%s is not set: start the servers (sh spec/support/servers.sh start; "
                        ". build/testenv/env.sh)\n", name);
        return 0;
    }
    *out = atoi(v);
    return 1;
}

int main(void)
{
    int ok = env_int("NAMES_TEST_TLS_BASE", &tls_base);
    ok = env_int("NAMES_TEST_BAD_BASE", &bad_base) && ok;
    const char *dir = getenv("NAMES_TEST_CERTS");
    const char *root = getenv("NAMES_TEST_ROOT");
    if (!dir || !root) {
        fprintf(stderr, "NAMES_TEST_CERTS and NAMES_TEST_ROOT must be set (. build/testenv/env.sh)\n");
        ok = 0;
    }
    if (!ok) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    snprintf(certs, sizeof certs, "%s", dir);
    snprintf(ca_file, sizeof ca_file, "%s/ca.pem", certs);
    snprintf(querylog, sizeof querylog, "%s/build/testenv/named/queries.log", root);
    char pinfile[600];
    snprintf(pinfile, sizeof pinfile, "%s/good.spki", certs);
    FILE *f = fopen(pinfile, "r");
    if (!f || !fgets(good_pin, sizeof good_pin, f)) {
        fprintf(stderr, "cannot read %s\n", pinfile);
        printf("0 passed, 1 failed\n");
        return 1;
    }
    fclose(f);
    good_pin[strcspn(good_pin, "\r\n")] = 0;
    srand((unsigned)uv_hrtime());
    return ctest_main();
}
