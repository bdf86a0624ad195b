/* The resolver core from C alone, through resolver.h, against the test
 * servers: named on NAMES_TEST_PORT and the misbehaving servers on
 * NAMES_TEST_BAD_BASE + k (spec/support/badserver.md).  Without those
 * variables the program fails: start the servers (sh spec/support/servers.sh
 * start; . build/testenv/env.sh) or run it through make test.
 *
 * Each test runs its own libuv loop, closes its resolver and checks that
 * the loop then closes with no handle left. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctest.h"
#include "errors.h"
#include "message.h"
#include "name.h"
#include "random.h"
#include "reply.h"
#include "resolver.h"
#include "transport.h"

#define T_A 1
#define T_TXT 16
#define C_IN 1

enum {
    B_OK = 0, B_SILENT = 1, B_TC = 3, B_SERVFAIL = 4, B_GARBAGE = 8, B_SLOW = 10, B_TCP_CLOSE = 15,
    B_TCP_ONCE = 18, B_FORMERR_NOQ = 19, B_OPCODE_DECOY = 20, B_TC_CUT = 21
};

static int named_port, bad_base;

/* ------------------------------------------------------------ helpers */

typedef struct result {
    int done;
    int status;
    int rcode;
    int answers;     /* records in the answer section */
    uint8_t a[4];    /* the first A record */
    int nattempts;
    nm_attempt attempts[8];
    double took;
    int order;       /* when it finished, counted per test */
} result;

static int finished; /* callbacks run in this test */

static double now_s(void)
{
    return (double)uv_hrtime() / 1e9;
}

static void on_result(void *arg, const nm_result *res)
{
    result *out = arg;
    out->done = 1;
    out->status = res->status;
    out->rcode = res->msg ? res->msg->rcode : -1;
    out->answers = res->msg ? res->msg->count[NM_ANSWER] : 0;
    out->nattempts = res->nattempts;
    for (int i = 0; i < res->nattempts && i < 8; i++) out->attempts[i] = res->attempts[i];
    out->took = now_s() - out->took;
    out->order = ++finished;
    if (res->msg) {
        for (int i = 0; i < res->msg->nrr; i++) {
            const nm_rr *rr = &res->msg->rr[i];
            if (rr->section == NM_ANSWER && rr->type == T_A && rr->rdlen == 4) {
                memcpy(out->a, res->msg->wire + rr->rdata, 4);
                break;
            }
        }
    }
}

static nm_addr server(int port)
{
    nm_addr a;
    if (nm_addr_from_host("127.0.0.1", (uint16_t)port, &a) != NM_OK) abort();
    return a;
}

static nm_addr bad(int k)
{
    return server(bad_base + k);
}

static const uint8_t *wire(const char *text)
{
    static uint8_t bufs[8][NM_NAME_MAX];
    static int next;
    uint8_t *out = bufs[next++ % 8];
    size_t n;
    if (nm_name_from_text(text, strlen(text), out, &n) != NM_OK) abort();
    return out;
}

typedef struct fixture {
    uv_loop_t loop;
    nm_resolver *r;
    int closed;
    uint64_t fake_ms; /* the test's clock, after use_fake_clock */
} fixture;

static void setup(fixture *f, const double *timeouts, int n, const nm_addr *servers, int nservers)
{
    nm_resolver_options o;
    nm_resolver_options_default(&o);
    memcpy(o.timeouts, timeouts, (size_t)n * sizeof *timeouts);
    o.ntimeouts = n;
    finished = 0;
    if (uv_loop_init(&f->loop) != 0) abort();
    f->r = nm_resolver_new(&f->loop, &o);
    f->closed = 0;
    CHECK(f->r != NULL);
    CHECK_INT(nm_resolver_set_servers(f->r, servers, nservers), NM_OK);
}

static void on_closed(void *arg)
{
    ((fixture *)arg)->closed = 1;
}

/* Runs the loop until *flag is set or secs pass. */
static int run_until(fixture *f, const int *flag, double secs)
{
    double end = now_s() + secs;
    while (!*flag && now_s() < end) uv_run(&f->loop, UV_RUN_ONCE);
    return *flag;
}

/* ---- the resolver on a clock the test moves (clock.h) */

static uint64_t fake_now_ms(void *ctx)
{
    return ((fixture *)ctx)->fake_ms;
}

static double fake_seconds(void *ctx)
{
    return (double)((fixture *)ctx)->fake_ms / 1000.0;
}

static void use_fake_clock(fixture *f)
{
    nm_clock c = { fake_now_ms, fake_seconds, NULL, NULL };
    c.ctx = f;
    f->fake_ms = 0;
    CHECK_INT(nm_resolver_set_clock(f->r, &c), NM_OK);
}

/* Runs the loop for secs of real time without blocking (on the test's
 * clock no timer of the loop's would wake a blocked run), or until *flag
 * is set; returns *flag. */
static int run_nowait(fixture *f, const int *flag, double secs)
{
    double end = now_s() + secs;
    while (!(flag && *flag) && now_s() < end) {
        if (!uv_run(&f->loop, UV_RUN_NOWAIT)) {
            struct timespec ms = { 0, 1000000 };
            nanosleep(&ms, NULL);
        }
    }
    return flag ? *flag : 0;
}

/* The test's clock moves to `at` ms: whatever falls due runs now.  The
 * loop then runs a little, for the tries this sends to go out. */
static void clock_to(fixture *f, uint64_t at)
{
    f->fake_ms = at;
    nm_resolver_clock_moved(f->r);
    run_nowait(f, NULL, 0.02);
}

static void on_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    fprintf(stderr, "  live handle: %s%s\n", uv_handle_type_name(h->type),
            uv_is_closing(h) ? " (closing)" : "");
}

/* Closes the resolver and checks that nothing of it is left. */
static void teardown(fixture *f)
{
    nm_resolver_stats st;
    nm_resolver_stats_get(f->r, &st);
    CHECK_INT(st.inflight_now, 0);
    CHECK_INT(st.queued_now, 0);
    CHECK_INT(st.timers_now, 0);
    nm_resolver_close(f->r, on_closed, f);
    CHECK(run_until(f, &f->closed, 5));
    uv_run(&f->loop, UV_RUN_NOWAIT);
    if (uv_loop_close(&f->loop) != 0) {
        CTEST_FAIL("the loop still has handles after the resolver closed");
        uv_walk(&f->loop, on_walk, NULL);
        /* free what can be freed, so that the next test starts clean */
        uv_run(&f->loop, UV_RUN_DEFAULT);
        uv_loop_close(&f->loop);
    }
}

static nm_query *query(fixture *f, const char *name, uint16_t type, int flags, result *out)
{
    nm_query_options o = { NULL, 0, flags };
    nm_query *q;
    memset(out, 0, sizeof *out);
    out->took = now_s();
    q = nm_resolver_query(f->r, wire(name), type, C_IN, &o, on_result, out);
    CHECK(q != NULL);
    return q;
}

static void ask(fixture *f, const char *name, uint16_t type, int flags, result *out)
{
    query(f, name, type, flags, out);
    CHECK(run_until(f, &out->done, 20));
}

/* -------------------------------------------------------------- tests */

TEST(answers_an_a_query_from_named)
{
    fixture f;
    result res;
    const double t[] = { 2 };
    nm_addr s = server(named_port);
    nm_resolver_stats st;
    setup(&f, t, 1, &s, 1);
    ask(&f, "www.example.test", T_A, 0, &res);
    CHECK_INT(res.status, NM_OK);
    CHECK_INT(res.rcode, 0);
    CHECK_INT(res.answers, 1);
    CHECK_MEM(res.a, "\xc0\x00\x02\x0a", 4);
    CHECK_INT(res.nattempts, 1);
    CHECK_INT(res.attempts[0].outcome, NM_OUT_ANSWER);
    CHECK_INT(res.attempts[0].transport, NM_UDP);
    CHECK_INT(res.attempts[0].edns, 1);
    CHECK_INT(nm_addr_port(&res.attempts[0].addr), named_port);
    nm_resolver_stats_get(f.r, &st);
    CHECK_INT(st.sent[NM_UDP], 1);
    CHECK_INT(st.queries, 1);
    teardown(&f);
}

TEST(reports_nxdomain_as_an_answer)
{
    fixture f;
    result res;
    const double t[] = { 2 };
    nm_addr s = server(named_port);
    setup(&f, t, 1, &s, 1);
    ask(&f, "no-such-name.example.test", T_A, 0, &res);
    CHECK_INT(res.status, NM_OK);
    CHECK_INT(res.rcode, 3);
    CHECK_INT(res.answers, 0);
    CHECK_INT(res.nattempts, 1);
    teardown(&f);
}

TEST(asks_over_tcp_after_truncation)
{
    fixture f;
    result res;
    const double t[] = { 2 };
    nm_addr s = server(named_port);
    nm_resolver_stats st;
    setup(&f, t, 1, &s, 1);
    ask(&f, "bigtxt.example.test", T_TXT, 0, &res);
    CHECK_INT(res.status, NM_OK);
    CHECK_INT(res.answers, 40);
    CHECK_INT(res.nattempts, 2);
    CHECK_INT(res.attempts[0].outcome, NM_OUT_TRUNCATED);
    CHECK_INT(res.attempts[0].transport, NM_UDP);
    CHECK_INT(res.attempts[1].outcome, NM_OUT_ANSWER);
    CHECK_INT(res.attempts[1].transport, NM_TCP);
    /* the misbehaving "tc" server: TC=1 over UDP, the answer over TCP */
    nm_resolver_stats_get(f.r, &st);
    CHECK_INT(st.opened[NM_TCP], 1);
    s = bad(B_TC);
    CHECK_INT(nm_resolver_set_servers(f.r, &s, 1), NM_OK);
    ask(&f, "www.example.test", T_A, 0, &res);
    CHECK_INT(res.status, NM_OK);
    CHECK_MEM(res.a, "\xc0\x00\x02\x04", 4);
    CHECK_INT(res.nattempts, 2);
    CHECK_INT(res.attempts[1].transport, NM_TCP);
    teardown(&f);
}

TEST(times_out_a_silent_server_after_every_round)
{
    fixture f;
    result res;
    const double t[] = { 0.1, 0.2 };
    nm_addr s[2] = { bad(B_SILENT), bad(B_SILENT) };
    static const uint32_t sent[4] = { 0, 100, 200, 400 }, took[4] = { 100, 100, 200, 200 };
    setup(&f, t, 2, s, 2);
    use_fake_clock(&f);
    query(&f, "www.example.test", T_A, 0, &res);
    /* rounds x servers: 0.1 + 0.1 + 0.2 + 0.2, to the millisecond */
    clock_to(&f, 0);
    clock_to(&f, 99);
    clock_to(&f, 100);
    clock_to(&f, 200);
    clock_to(&f, 400);
    clock_to(&f, 599);
    CHECK(!res.done);
    clock_to(&f, 600);
    CHECK(res.done);
    CHECK_INT(res.status, NM_ETIMEOUT);
    CHECK_INT(res.nattempts, 4);
    for (int i = 0; i < 4; i++) {
        CHECK_INT(res.attempts[i].outcome, NM_OUT_TIMEOUT);
        CHECK_INT(res.attempts[i].server, i % 2);
        CHECK_INT(res.attempts[i].sent_ms, sent[i]);
        CHECK_INT(res.attempts[i].took_ms, took[i]);
    }
    teardown(&f);
}

TEST(asks_the_next_server_after_servfail)
{
    fixture f;
    result res;
    const double t[] = { 1, 1 };
    nm_addr s[2] = { bad(B_SERVFAIL), bad(B_OK) };
    setup(&f, t, 2, s, 2);
    /* on the test's clock, standing still: no timeout can have passed */
    use_fake_clock(&f);
    query(&f, "www.example.test", T_A, 0, &res);
    CHECK(run_nowait(&f, &res.done, 10));
    CHECK_INT(res.status, NM_OK);
    CHECK_MEM(res.a, "\xc0\x00\x02\x01", 4);
    CHECK_INT(res.nattempts, 2);
    CHECK_INT(res.attempts[0].outcome, NM_OUT_RCODE);
    CHECK_INT(res.attempts[0].rcode, 2);
    CHECK_INT(res.attempts[1].outcome, NM_OUT_ANSWER);
    CHECK_INT(res.attempts[1].sent_ms, 0);
    /* alone, SERVFAIL is the query's error, asked once in two rounds */
    CHECK_INT(nm_resolver_set_servers(f.r, s, 1), NM_OK);
    ask(&f, "www.example.test", T_A, 0, &res);
    CHECK_INT(res.status, NM_ERCODE);
    CHECK_INT(res.rcode, 2);
    CHECK_INT(res.nattempts, 1);
    teardown(&f);
}

TEST(takes_a_late_answer_without_asking_again)
{
    fixture f;
    result res;
    const double t[] = { 0.1, 5 };
    nm_addr s = bad(B_SLOW);
    setup(&f, t, 2, &s, 1);
    use_fake_clock(&f);
    query(&f, "www.example.test", T_A, 0, &res);
    /* the first try times out at 100 ms and the second goes; the server
     * answers each after 300 ms of real time, the first first, and the
     * clock stands at 100 ms: the first try's socket takes that answer */
    clock_to(&f, 0);
    clock_to(&f, 100);
    CHECK(!res.done);
    CHECK(run_nowait(&f, &res.done, 10));
    CHECK_INT(res.status, NM_OK);
    CHECK_INT(res.nattempts, 2);
    CHECK_INT(res.attempts[0].outcome, NM_OUT_LATE);
    CHECK_INT(res.attempts[0].took_ms, 100);
    CHECK_INT(res.attempts[1].outcome, NM_OUT_PENDING);
    CHECK_INT(res.attempts[1].sent_ms, 100);
    teardown(&f);
}

TEST(cancel_calls_back_at_once_and_keeps_shared_exchanges)
{
    fixture f;
    result res, other;
    const double t[] = { 5 };
    nm_addr s = bad(B_SILENT);
    nm_resolver_stats st;
    nm_query *q, *q2;
    setup(&f, t, 1, &s, 1);
    q = query(&f, "www.example.test", T_A, 0, &res);
    q2 = query(&f, "WWW.example.test", T_A, 0, &other); /* shares the exchange */
    uv_run(&f.loop, UV_RUN_NOWAIT);
    nm_resolver_stats_get(f.r, &st);
    CHECK_INT(st.shared, 1);
    CHECK_INT(st.exchanges, 1);
    CHECK_INT(st.sockets_open, 1);
    CHECK_INT(st.timers_now, 1);
    nm_query_cancel(q);
    CHECK_INT(res.done, 1); /* before cancel returned */
    CHECK_INT(res.status, NM_ECANCELLED);
    CHECK_INT(other.done, 0);
    nm_resolver_stats_get(f.r, &st);
    CHECK_INT(st.inflight_now, 1);
    CHECK_INT(st.timers_now, 1);
    /* the last one stops the exchange and its timer; its socket waits,
     * idle, for the next query, and keeps nothing alive */
    nm_query_cancel(q2);
    CHECK_INT(other.status, NM_ECANCELLED);
    uv_run(&f.loop, UV_RUN_NOWAIT);
    nm_resolver_stats_get(f.r, &st);
    CHECK_INT(st.inflight_now, 0);
    CHECK_INT(st.timers_now, 0);
    CHECK_INT(st.sockets_open, 1);
    CHECK(!uv_loop_alive(&f.loop));
    teardown(&f);
}

static void on_tick(uv_timer_t *t)
{
    *(int *)t->data = 1;
}

/* Runs the loop for ms milliseconds (an idle resolver keeps it alive for
 * nothing: a timer of the test's own does). */
static void run_for(fixture *f, uint64_t ms)
{
    uv_timer_t t;
    int fired = 0;
    uv_timer_init(&f->loop, &t);
    t.data = &fired;
    uv_timer_start(&t, on_tick, ms, 0);
    while (!fired) uv_run(&f->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
}

static void setup_idle(fixture *f, const nm_addr *s, int udp_idle_ms)
{
    nm_resolver_options o;
    nm_resolver_options_default(&o);
    o.timeouts[0] = 2;
    o.ntimeouts = 1;
    o.udp_idle_ms = udp_idle_ms;
    finished = 0;
    if (uv_loop_init(&f->loop) != 0) abort();
    f->r = nm_resolver_new(&f->loop, &o);
    f->closed = 0;
    CHECK(f->r != NULL);
    CHECK_INT(nm_resolver_set_servers(f->r, s, 1), NM_OK);
}

TEST(keeps_an_idle_udp_socket_for_the_next_query_until_it_is_stale)
{
    fixture f;
    result res;
    nm_resolver_stats st;
    nm_addr s = server(named_port);
    setup_idle(&f, &s, 150);
    /* one question at a time, as a script asks: one socket for all */
    for (int i = 0; i < 5; i++) {
        ask(&f, "www.example.test", T_A, 0, &res);
        CHECK_INT(res.status, NM_OK);
    }
    nm_resolver_stats_get(f.r, &st);
    CHECK_INT(st.opened[NM_UDP], 1);
    CHECK_INT(st.sockets_open, 1);
    CHECK(!uv_loop_alive(&f.loop)); /* idle: nothing keeps the loop running */
    /* a query within the idle time takes it up again */
    run_for(&f, 100);
    ask(&f, "www.example.test", T_A, 0, &res);
    CHECK_INT(res.status, NM_OK);
    nm_resolver_stats_get(f.r, &st);
    CHECK_INT(st.opened[NM_UDP], 1);
    /* after longer, the next query gets a new socket and the stale one closes */
    run_for(&f, 200);
    ask(&f, "www.example.test", T_A, 0, &res);
    CHECK_INT(res.status, NM_OK);
    uv_run(&f.loop, UV_RUN_NOWAIT);
    nm_resolver_stats_get(f.r, &st);
    CHECK_INT(st.opened[NM_UDP], 2);
    CHECK_INT(st.sockets_open, 1);
    teardown(&f);
}

TEST(closes_udp_sockets_whenever_idle_when_told_to)
{
    fixture f;
    result res;
    nm_resolver_stats st;
    nm_addr s = server(named_port);
    setup_idle(&f, &s, 0);
    for (int i = 0; i < 3; i++) {
        ask(&f, "www.example.test", T_A, 0, &res);
        CHECK_INT(res.status, NM_OK);
        uv_run(&f.loop, UV_RUN_NOWAIT);
        nm_resolver_stats_get(f.r, &st);
        CHECK_INT(st.sockets_open, 0);
    }
    nm_resolver_stats_get(f.r, &st);
    CHECK_INT(st.opened[NM_UDP], 3);
    teardown(&f);
}

TEST(close_cancels_every_pending_query)
{
    fixture f;
    result res[6];
    const double t[] = { 5 };
    nm_addr s[2] = { bad(B_SILENT), bad(B_SLOW) };
    nm_resolver_options o;
    setup(&f, t, 1, s, 2);
    /* a resolver with room for two: the rest wait in the queue */
    nm_resolver_close(f.r, NULL, NULL);
    uv_run(&f.loop, UV_RUN_NOWAIT);
    nm_resolver_options_default(&o);
    o.max_inflight = 2;
    f.r = nm_resolver_new(&f.loop, &o);
    CHECK_INT(nm_resolver_set_servers(f.r, s, 2), NM_OK);
    for (int i = 0; i < 6; i++) {
        char name[32];
        snprintf(name, sizeof name, "q%d.example.test", i);
        query(&f, name, T_A, i == 5 ? NM_Q_TCP : 0, &res[i]);
    }
    uv_run(&f.loop, UV_RUN_NOWAIT);
    {
        nm_resolver_stats st;
        nm_resolver_stats_get(f.r, &st);
        CHECK_INT(st.inflight_now, 2);
        CHECK_INT(st.queued_now, 4);
    }
    nm_resolver_close(f.r, on_closed, &f);
    for (int i = 0; i < 6; i++) {
        CHECK_INT(res[i].done, 1);
        CHECK_INT(res[i].status, NM_ECANCELLED);
    }
    CHECK(nm_resolver_query(f.r, wire("late.example.test"), T_A, C_IN, NULL, on_result, &res[0]) == NULL);
    CHECK(run_until(&f, &f.closed, 5));
    CHECK_INT(uv_loop_close(&f.loop), 0);
}

/* A callback that closes the resolver it came from. */
typedef struct closer {
    fixture *f;
    result res;
} closer;

static void close_in_callback(void *arg, const nm_result *r)
{
    closer *c = arg;
    on_result(&c->res, r);
    nm_resolver_close(c->f->r, on_closed, c->f);
}

TEST(closes_inside_its_own_callback)
{
    fixture f;
    closer c;
    result pending;
    const double t[] = { 2 };
    nm_addr s = server(named_port);
    nm_addr silent = bad(B_SILENT);
    setup(&f, t, 1, &s, 1);
    memset(&c, 0, sizeof c);
    c.f = &f;
    CHECK(nm_resolver_query(f.r, wire("www.example.test"), T_A, C_IN, NULL, close_in_callback, &c) != NULL);
    CHECK_INT(nm_resolver_set_servers(f.r, &silent, 1), NM_OK);
    query(&f, "mail.example.test", T_A, 0, &pending);
    CHECK(run_until(&f, &f.closed, 5));
    CHECK_INT(c.res.status, NM_OK);
    CHECK_INT(pending.status, NM_ECANCELLED);
    CHECK(pending.order > c.res.order);
    uv_run(&f.loop, UV_RUN_NOWAIT);
    CHECK_INT(uv_loop_close(&f.loop), 0);
}

TEST(survives_servers_that_close_tcp_connections)
{
    /* pipelined queries on connections the server closes (or fills with
     * garbage): each query fails, the process is not killed by SIGPIPE */
    fixture f;
    static result res[100];
    const double t[] = { 0.3 };
    nm_addr s[2] = { bad(B_TCP_CLOSE), bad(B_GARBAGE) };
    int ended = 0, answered = 0;
    double t0 = now_s();
    setup(&f, t, 1, s, 2);
    for (int i = 0; i < 100; i++) {
        char name[32];
        snprintf(name, sizeof name, "p%d.example.test", i);
        query(&f, name, T_A, NM_Q_TCP, &res[i]);
    }
    while (finished < 100 && now_s() - t0 < 10) uv_run(&f.loop, UV_RUN_ONCE);
    for (int i = 0; i < 100; i++) {
        ended += res[i].done && (res[i].status == NM_EIO || res[i].status == NM_ETIMEOUT);
        answered += res[i].done && res[i].status == NM_OK;
    }
    CHECK_INT(ended, 100);
    CHECK_INT(answered, 0);
    teardown(&f);
}

TEST(takes_a_formerr_without_question_only_as_no_edns_and_only_for_that_query)
{
    fixture f;
    result res;
    const double t[] = { 1 };
    nm_addr s = bad(B_FORMERR_NOQ);
    setup(&f, t, 1, &s, 1);
    for (int round = 0; round < 2; round++) {
        /* the bare header says "no EDNS" to this query; the server is
         * not marked (such a reply is easy to forge), so the next query
         * carries EDNS again */
        ask(&f, "www.example.test", T_A, 0, &res);
        CHECK_INT(res.status, NM_OK);
        CHECK_MEM(res.a, "\xc0\x00\x02\x14", 4);
        CHECK_INT(res.nattempts, 2);
        CHECK_INT(res.attempts[0].edns, 1);
        CHECK_INT(res.attempts[0].outcome, NM_OUT_NOEDNS);
        CHECK_INT(res.attempts[1].edns, 0);
        CHECK_INT(res.attempts[1].outcome, NM_OUT_ANSWER);
    }
    teardown(&f);
}

TEST(checks_a_question_less_reply_against_what_was_sent)
{
    static const uint8_t formerr[12] = { 0x12, 0x34, 0x81, 0x01 }; /* QR, RD; FORMERR; no counts */
    nm_pending p;
    nm_msg m;
    nm_drop_stats drops;
    memset(&p, 0, sizeof p);
    memset(&drops, 0, sizeof drops);
    p.qname = wire("www.example.test");
    p.qtype = T_A;
    p.qcls = C_IN;
    /* a query sent without EDNS: nothing ties the reply to it */
    CHECK_INT(nm_reply_check(&p, formerr, sizeof formerr, &m, &drops), 0);
    CHECK_INT(drops.wrong_question, 1);
    /* with EDNS: taken (as "no EDNS", by the resolver) */
    p.edns = 1;
    CHECK_INT(nm_reply_check(&p, formerr, sizeof formerr, &m, &drops), 1);
    nm_msg_release(&m);
    /* a caller's own message (qname NULL): as it comes */
    p.edns = 0;
    p.qname = NULL;
    CHECK_INT(nm_reply_check(&p, formerr, sizeof formerr, &m, &drops), 1);
    nm_msg_release(&m);
}

TEST(ignores_a_reply_with_another_opcode)
{
    fixture f;
    result res;
    const double t[] = { 1 };
    nm_addr s = bad(B_OPCODE_DECOY);
    setup(&f, t, 1, &s, 1);
    ask(&f, "www.example.test", T_A, 0, &res);
    CHECK_INT(res.status, NM_OK);
    CHECK_MEM(res.a, "\xc0\x00\x02\x15", 4);
    CHECK_INT(res.nattempts, 1);
    CHECK_INT(res.attempts[0].ignored, 1);
    if (res.took < 0.045) CTEST_FAIL("answered after %.3f s: the UPDATE decoy was taken", res.took);
    teardown(&f);
}

TEST(asks_over_tcp_after_a_truncated_reply_cut_after_its_question)
{
    fixture f;
    result res;
    const double t[] = { 1 };
    nm_addr s = bad(B_TC_CUT);
    setup(&f, t, 1, &s, 1);
    ask(&f, "www.example.test", T_A, 0, &res);
    CHECK_INT(res.status, NM_OK);
    CHECK_MEM(res.a, "\xc0\x00\x02\x16", 4);
    CHECK_INT(res.nattempts, 2);
    CHECK_INT(res.attempts[0].outcome, NM_OUT_TRUNCATED);
    CHECK_INT(res.attempts[1].transport, NM_TCP);
    CHECK_INT(res.attempts[1].outcome, NM_OUT_ANSWER);
    teardown(&f);
}

TEST(asks_again_on_a_new_connection_what_a_closing_server_left_unanswered)
{
    /* tcp_once answers one query per connection and closes it: queries
     * pipelined on one connection before its first answer are asked
     * again on a new one (RFC 7766 6.2.1), each connection answering one */
    fixture f;
    result res[3];
    const double t[] = { 2 };
    nm_addr s = bad(B_TCP_ONCE);
    int done = 0;
    setup(&f, t, 1, &s, 1);
    /* on the test's clock, standing still: no timeout can pass */
    use_fake_clock(&f);
    query(&f, "a.example.test", T_A, NM_Q_TCP, &res[0]);
    query(&f, "b.example.test", T_A, NM_Q_TCP, &res[1]);
    query(&f, "c.example.test", T_A, NM_Q_TCP, &res[2]);
    for (double end = now_s() + 10; finished < 3 && now_s() < end;) run_nowait(&f, NULL, 0.01);
    for (int i = 0; i < 3; i++) {
        done += res[i].done;
        CHECK_INT(res[i].status, NM_OK);
        CHECK_MEM(res[i].a, "\xc0\x00\x02\x13", 4);
    }
    CHECK_INT(done, 3);
    teardown(&f);
}

/* Exchanges through a batching socket of the caller's: datagrams the
 * kernel refuses (too big here) reach their queries' callbacks when the
 * batch goes out; one callback closes the resolver, cancelling the others
 * while the batch's failures are still being reported. */
static nm_resolver *batch_resolver;
static int batch_eio, batch_cancelled, batch_other, batch_closed;

static void on_batch_result(void *arg, const nm_result *res)
{
    (void)arg;
    if (res->status == NM_EIO) batch_eio++;
    else if (res->status == NM_ECANCELLED) batch_cancelled++;
    else batch_other++;
    if (res->status == NM_EIO && arg != NULL && !batch_closed) {
        batch_closed = 1;
        nm_resolver_close(batch_resolver, NULL, NULL);
    }
}

static void on_batch_socket_closed(void *owner, void *transport)
{
    (void)owner;
    (void)transport;
}

TEST(reports_every_refused_datagram_of_a_batch_even_when_a_callback_closes)
{
    static uint8_t big[65520]; /* more than a UDP datagram can hold */
    uv_loop_t loop;
    nm_random rnd;
    nm_rxbuf rx;
    nm_transport_hooks hooks;
    nm_addr to = server(9);
    int err = 0;
    nm_transport *u;
    nm_transport_config c;
    nm_exchange_options eo;
    big[5] = 1;
    memset(&hooks, 0, sizeof hooks);
    hooks.closed = on_batch_socket_closed;
    CHECK_INT(uv_loop_init(&loop), 0);
    nm_random_init(&rnd);
    nm_rxbuf_init(&rx, 1);
    memset(&c, 0, sizeof c);
    c.loop = &loop;
    c.rnd = &rnd;
    c.rx = &rx;
    c.hooks = &hooks;
    c.batch = 1;
    u = nm_transport_open(NM_UDP, &c, &err);
    CHECK(u != NULL);
    eo.server = &to;
    eo.transport = NM_UDP;
    eo.timeout = 5;
    eo.via = u;
    for (int round = 0; round < 2; round++) {
        /* 70 refused, more than one sendmmsg's worth; then 2, the first
         * closing the resolver under the second */
        int n = round == 0 ? 70 : 2;
        double t0 = now_s();
        batch_eio = batch_cancelled = batch_other = batch_closed = 0;
        batch_resolver = nm_resolver_new(&loop, NULL);
        for (int i = 0; i < n; i++)
            CHECK(nm_resolver_exchange(batch_resolver, big, sizeof big, &eo, on_batch_result,
                                       round == 1 ? (void *)&eo : NULL) != NULL);
        while (batch_eio + batch_cancelled + batch_other < n && now_s() - t0 < 10)
            uv_run(&loop, UV_RUN_ONCE);
        if (round == 0) {
            CHECK_INT(batch_eio, 70);
            CHECK(now_s() - t0 < 2);
            nm_resolver_close(batch_resolver, NULL, NULL);
        } else {
            CHECK_INT(batch_eio, 1);
            CHECK_INT(batch_cancelled, 1);
        }
        CHECK_INT(batch_other, 0);
    }
    nm_transport_close(u);
    uv_run(&loop, UV_RUN_DEFAULT);
    nm_rxbuf_free(&rx);
    CHECK_INT(uv_loop_close(&loop), 0);
}

TEST(answers_a_burst_of_2000_queries)
{
    fixture f;
    static result res[2000];
    const double t[] = { 2, 2, 2 };
    nm_addr s = server(named_port);
    nm_resolver_options o;
    nm_resolver_stats st;
    int ok = 0, answered = 0;
    double t0 = now_s();
    nm_resolver_options_default(&o);
    memcpy(o.timeouts, t, sizeof t);
    o.ntimeouts = 3;
    o.max_inflight = 200;
    o.edns_size = 0;
    finished = 0;
    CHECK_INT(uv_loop_init(&f.loop), 0);
    f.r = nm_resolver_new(&f.loop, &o);
    f.closed = 0;
    CHECK_INT(nm_resolver_set_servers(f.r, &s, 1), NM_OK);
    for (int i = 0; i < 2000; i++) {
        char name[48];
        snprintf(name, sizeof name, "%s%d.example.test", i % 2 ? "q" : "Q", i);
        query(&f, name, T_A, 0, &res[i]);
    }
    nm_resolver_stats_get(f.r, &st);
    CHECK_INT(st.inflight_now, 200);
    CHECK_INT(st.queued_now, 1800);
    while (finished < 2000 && now_s() - t0 < 60) uv_run(&f.loop, UV_RUN_ONCE);
    for (int i = 0; i < 2000; i++) {
        answered += res[i].done;
        ok += res[i].done && res[i].status == NM_OK && res[i].rcode == 3;
    }
    CHECK_INT(answered, 2000);
    CHECK_INT(ok, 2000);
    nm_resolver_stats_get(f.r, &st);
    CHECK(st.sent[NM_UDP] >= 2000 && st.sent[NM_UDP] < 2100);
    CHECK(st.opened[NM_UDP] >= 8 && st.opened[NM_UDP] < 16);
    CHECK_INT(st.exchanges, 2000);
    teardown(&f);
}

/* A query started by a reply's callback leaves in the same loop turn as
 * the reply came in (the end of the receive batch flushes the queue), not
 * one turn later: at one query in flight, that turn is on every lookup's
 * path.  The server is the test's own socket, which echoes each query as
 * its reply. */
typedef struct chained {
    fixture *f;
    result first, second;
} chained;

static void on_first_of_chain(void *arg, const nm_result *res)
{
    chained *c = arg;
    on_result(&c->first, res);
    query(c->f, "second.example.test", T_A, 0, &c->second);
}

static int echo_one(int fd)
{
    uint8_t buf[512];
    struct sockaddr_storage from;
    socklen_t fromlen = sizeof from;
    ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen);
    size_t end = NM_HEADER_LEN;
    if (n < NM_HEADER_LEN) return 0;
    while (end < (size_t)n && buf[end]) end += 1u + buf[end];
    end += 5; /* the root label, type and class */
    if (end > (size_t)n) return 0;
    /* the question alone, as a NOERROR reply without records: no OPT, so
     * that the query's client cookie is not sent back as a broken one */
    buf[2] |= 0x80;
    buf[10] = buf[11] = 0;
    return sendto(fd, buf, end, 0, (struct sockaddr *)&from, fromlen) == (ssize_t)end;
}

static int readable_within(int fd, int ms)
{
    struct pollfd p = { fd, POLLIN, 0 };
    return poll(&p, 1, ms) == 1;
}

TEST(sends_a_query_made_in_a_reply_callback_in_the_same_loop_turn)
{
    fixture f;
    chained c;
    const double t[] = { 5 };
    nm_addr s;
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    nm_query_options o = { NULL, 0, 0 };
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(fd >= 0);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_INT(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    CHECK_INT(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    s = server(ntohs(sin.sin_port));
    setup(&f, t, 1, &s, 1);
    memset(&c, 0, sizeof c);
    c.f = &f;
    c.first.took = now_s();
    CHECK(nm_resolver_query(f.r, wire("first.example.test"), T_A, C_IN, &o, on_first_of_chain, &c) != NULL);
    /* the first query leaves on the loop's next turn */
    for (int i = 0; i < 100 && !readable_within(fd, 0); i++) uv_run(&f.loop, UV_RUN_NOWAIT);
    CHECK(readable_within(fd, 1000));
    CHECK(echo_one(fd));
    /* the turn that takes the reply runs the callback, which asks again */
    while (!c.first.done && now_s() - c.first.took < 5) uv_run(&f.loop, UV_RUN_ONCE);
    CHECK(c.first.done);
    CHECK_INT(c.first.status, NM_OK);
    CHECK_INT(c.first.rcode, 0);
    /* ... and the second query is out before the loop runs again */
    CHECK(readable_within(fd, 1000));
    CHECK(echo_one(fd));
    CHECK(run_until(&f, &c.second.done, 5));
    CHECK_INT(c.second.status, NM_OK);
    close(fd);
    teardown(&f);
}

/* ---------------------------------------------------------------- main */

static int env_port(const char *name, int *out)
{
    const char *v = getenv(name);
    char *end;
    long n;
    if (!v || !*v) {
        fprintf(stderr, "test_resolver: %s is not set: start the test servers "
                        "(sh spec/support/servers.sh start; . build/testenv/env.sh) "
                        "or run make test\n", name);
        return 0;
    }
    n = strtol(v, &end, 10);
    if (*end || n < 1 || n > 65535) {
        fprintf(stderr, "test_resolver: %s=%s is not a port\n", name, v);
        return 0;
    }
    *out = (int)n;
    return 1;
}

int main(void)
{
    int ok = env_port("NAMES_TEST_PORT", &named_port);
    ok = env_port("NAMES_TEST_BAD_BASE", &bad_base) && ok;
    if (!ok) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    return ctest_main();
}
