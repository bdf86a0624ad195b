/* badserver -- misbehaving DNS servers on loopback for the lua-names tests.
 *
 *   badserver [BASE] [--base BASE] [--slow-ms N] [--seed N] [--no-ipv6]
 *             [--verbose] [--help]
 *
 * One program, one port per behaviour: behaviour k listens on BASE+k (BASE
 * defaults to 53600) on 127.0.0.1 and ::1, over UDP and TCP. Replies are built
 * by hand from the query's bytes: the id and the question are copied, QR and
 * AA are set, RD and CD are copied, an OPT record is echoed when the query had
 * one. The data: A queries get 192.0.2.<k+1> (ttl 60), AAAA 2001:db8::<k+1>,
 * TXT the behaviour's name, PTR "<behaviour>.bad.test.", anything else NODATA.
 *
 *   k  port   name                what it does
 *   0  53600  ok                  a correct answer, for comparison
 *   1  53601  silent              never answers (UDP or TCP)
 *   2  53602  wrongid             a decoy at once (id ^ 0x5555, A 203.0.113.<k+1>,
 *                                 AAAA 2001:db8:bad::<k+1>, TXT/PTR "decoy"),
 *                                 the right reply 50 ms later
 *   3  53603  tc                  UDP: TC=1 and no answer; TCP: the full answer
 *   4  53604  servfail            rcode SERVFAIL (2), no answer
 *   5  53605  refused             rcode REFUSED (5), no answer
 *   6  53606  notimp              rcode NOTIMP (4), no answer
 *   7  53607  formerr_on_edns     FORMERR without OPT when the query has an OPT
 *                                 record, a normal answer otherwise
 *   8  53608  garbage             random bytes of random length 0-600; one time
 *                                 in three a header with the right id and QR
 *                                 set, then nonsense; on TCP sometimes a length
 *                                 prefix longer than what follows, then close
 *   9  53609  otherquestion       right id, question name otherquestion.bad.test.
 *  10  53610  slow                the right answer after 300 ms (--slow-ms)
 *  11  53611  otherport           UDP: the reply comes from another port
 *                                 (TCP: a normal answer)
 *  12  53612  noqr                the reply with QR=0
 *  13  53613  tcp_trickle         TCP: length prefix and reply written one byte
 *                                 at a time, 5 ms apart; UDP: TC=1
 *  14  53614  tcp_reorder         TCP: holds a query until a second one arrives
 *                                 on the connection (or 250 ms pass) and
 *                                 answers the second first; UDP: TC=1
 *  15  53615  tcp_close           TCP: accepts and closes at once; UDP: TC=1
 *  16  53616  echo_case           the question exactly as received (0x20 tests)
 *  17  53617  lowercase_question  the question name lower-cased (a 0x20 client
 *                                 must reject it)
 *  18  53618  tcp_once            TCP: answers the first query of a connection
 *                                 and closes it, unanswered, on the next (a
 *                                 server that limits queries per connection);
 *                                 UDP: TC=1
 *  19  53619  formerr_noq         to a query with an OPT record, FORMERR with
 *                                 no question and no OPT (a bare header); a
 *                                 normal answer otherwise
 *  20  53620  opcode_decoy        at once a reply with the right id and
 *                                 question but opcode UPDATE, the right reply
 *                                 50 ms later
 *  21  53621  tc_cut              UDP: the answer with TC=1 cut right after
 *                                 the question, its counts kept; TCP: the
 *                                 answer
 *  22  53622  cookie_echo         TXT: the hex of the COOKIE option the query
 *                                 carried ("none" without one); the reply's
 *                                 OPT carries the client cookie and the
 *                                 server cookie "SERVER01" (RFC 7873)
 *  23  53623  badcookie           BADCOOKIE (rcode 23) with the client cookie
 *                                 and server cookie "SERVER01", unless the
 *                                 query sent that server cookie: then an
 *                                 answer (with the cookie again)
 *  24  53624  wrong_cookie        at once a decoy (A 203.0.113.<k+1>) whose
 *                                 COOKIE carries another client cookie, the
 *                                 right reply (the right cookie) 50 ms later
 *  25  53625  badcookie_always    BADCOOKIE every time, with a fresh server
 *                                 cookie
 *
 * Statistics: on every port, a TXT query for "stats." (any case) is answered
 * at once and normally (never delayed, truncated or mangled; over TCP too,
 * except on tcp_close) with the decimal number of messages received on that
 * port since start or the last reset, UDP and TCP together, stats and reset
 * queries excluded (on tcp_close each accepted connection counts as one).
 * A TXT query for "reset." answers the count it had and sets it to zero.
 *
 * Anything may arrive: messages shorter than a header, responses (QR=1), and
 * queries whose question does not parse are counted and dropped. Many TCP
 * connections at once (poll), pipelined queries on each; connections idle for
 * 30 s are closed. SIGTERM or SIGINT ends it with status 0.
 *
 * Plain C99 and POSIX sockets; it uses nothing of the library under test.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum behaviour {
    B_OK, B_SILENT, B_WRONGID, B_TC, B_SERVFAIL, B_REFUSED, B_NOTIMP,
    B_FORMERR_ON_EDNS, B_GARBAGE, B_OTHERQUESTION, B_SLOW, B_OTHERPORT,
    B_NOQR, B_TCP_TRICKLE, B_TCP_REORDER, B_TCP_CLOSE, B_ECHO_CASE,
    B_LOWERCASE_QUESTION, B_TCP_ONCE, B_FORMERR_NOQ, B_OPCODE_DECOY, B_TC_CUT,
    B_COOKIE_ECHO, B_BADCOOKIE, B_WRONG_COOKIE, B_BADCOOKIE_ALWAYS, B_COUNT
};

static const struct {
    const char *name;
    const char *what;
} behaviours[B_COUNT] = {
    { "ok", "a correct answer, for comparison" },
    { "silent", "never answers" },
    { "wrongid", "a decoy (id ^ 0x5555, other data) at once, the reply 50 ms later" },
    { "tc", "UDP: TC=1, no answer; TCP: the full answer" },
    { "servfail", "rcode SERVFAIL" },
    { "refused", "rcode REFUSED" },
    { "notimp", "rcode NOTIMP" },
    { "formerr_on_edns", "FORMERR without OPT if the query has OPT, else an answer" },
    { "garbage", "random bytes, sometimes after a plausible header" },
    { "otherquestion", "right id, question otherquestion.bad.test." },
    { "slow", "the right answer after --slow-ms (300 ms)" },
    { "otherport", "UDP: the reply from another port; TCP: an answer" },
    { "noqr", "the reply with QR=0" },
    { "tcp_trickle", "TCP: the reply one byte every 5 ms; UDP: TC=1" },
    { "tcp_reorder", "TCP: answers the second of two queries first; UDP: TC=1" },
    { "tcp_close", "TCP: accepts and closes; UDP: TC=1" },
    { "echo_case", "the question exactly as received" },
    { "lowercase_question", "the question name lower-cased" },
    { "tcp_once", "TCP: one answer per connection, then close; UDP: TC=1" },
    { "formerr_noq", "a bare FORMERR header (no question) if the query has OPT, else an answer" },
    { "opcode_decoy", "a decoy with opcode UPDATE at once, the reply 50 ms later" },
    { "tc_cut", "UDP: the answer with TC=1 cut after the question; TCP: the answer" },
    { "cookie_echo", "TXT: the COOKIE option received, in hex; replies with server cookie SERVER01" },
    { "badcookie", "BADCOOKIE until the query sends server cookie SERVER01" },
    { "wrong_cookie", "a decoy with another client cookie at once, the reply 50 ms later" },
    { "badcookie_always", "BADCOOKIE every time" },
};

#define DEFAULT_BASE      53600
#define WRONGID_DELAY_MS  50
#define TRICKLE_GAP_MS    5
#define REORDER_HOLD_MS   250
#define IDLE_MS           30000
#define MAX_CONNS         800
#define MAX_TIMERS        8192
#define MAX_LISTENERS     (B_COUNT * 4)
#define TCP_IN_CAP        (2 + 65535)
#define REPLY_CAP         1024

#define T_A     1
#define T_PTR   12
#define T_TXT   16
#define T_AAAA  28
#define T_OPT   41

#define F_QR    0x8000u
#define F_AA    0x0400u
#define F_TC    0x0200u
#define F_RD    0x0100u
#define F_CD    0x0010u
#define F_OPCODE 0x7800u

struct listener {
    int fd;
    int behaviour;
    int tcp;
    int family;
};

struct conn {
    int fd;
    int behaviour;
    unsigned gen;
    unsigned char *in;          /* TCP_IN_CAP bytes */
    size_t inlen;
    unsigned char *out;         /* pending output, written from outoff */
    size_t outlen, outoff, outcap;
    int close_after_flush;
    int64_t next_byte;          /* tcp_trickle: when the next byte may go */
    unsigned char *held;        /* tcp_reorder: the query kept back */
    size_t heldlen;
    int64_t held_until;
    int64_t last_active;
    unsigned answered;          /* tcp_once: queries answered on it */
};

struct timer {
    int64_t due;
    int udp_fd;                 /* >= 0: a UDP reply to peer */
    struct sockaddr_storage peer;
    socklen_t peerlen;
    int slot;                   /* otherwise a TCP reply on conns[slot] */
    unsigned gen;
    unsigned char *msg;
    size_t len;
};

struct query {
    const unsigned char *msg;
    size_t len;
    unsigned id;
    unsigned flags;
    size_t qname_len;           /* wire length of the question name */
    size_t qend;                /* offset just past the question */
    unsigned qtype;
    unsigned qclass;
    int has_opt;
    const unsigned char *cookie; /* the COOKIE option's data in the OPT, or NULL */
    size_t cookie_len;
};

struct reply_opts {
    unsigned rcode;
    int tc;
    int noqr;
    int answer;                 /* add the answer record for the qtype */
    int decoy;                  /* the wrongid decoy */
    int opt;                    /* echo an OPT record */
    const unsigned char *qname; /* the question name to send, NULL: as received */
    size_t qname_len;
    const char *txt;            /* TXT data instead of the behaviour's name */
    /* with opt: a COOKIE option (client cookie then server cookie) */
    const unsigned char *cookie;
    size_t cookie_len;
    unsigned ext_rcode;         /* the upper 8 bits of a 12-bit rcode */
};

static volatile sig_atomic_t stopping;
static int verbose;
static int64_t slow_ms = 300;
static unsigned base_port = DEFAULT_BASE;
static unsigned long counts[B_COUNT];
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static struct listener listeners[MAX_LISTENERS];
static int nlisteners;
static int otherport_fd4 = -1, otherport_fd6 = -1;

static struct conn *conns[MAX_CONNS];
static unsigned next_gen = 1;

static struct timer timers[MAX_TIMERS];
static int ntimers;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

static unsigned get16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* ---- parsing ------------------------------------------------------------ */

/* Step over a name at *off (labels, ending in a root label or a pointer). */
static int skip_name(const unsigned char *m, size_t len, size_t *off)
{
    size_t o = *off;
    for (;;) {
        unsigned c;
        if (o >= len)
            return -1;
        c = m[o];
        if ((c & 0xC0) == 0xC0) {
            if (o + 2 > len)
                return -1;
            *off = o + 2;
            return 0;
        }
        if (c & 0xC0)
            return -1;
        o += 1 + c;
        if (c == 0) {
            *off = o;
            return 0;
        }
    }
}

/* A query we can answer: a header, QR=0, exactly one uncompressed question.
 * The other sections are walked only to find an OPT record; a walk that
 * fails leaves has_opt as found so far. */
static int parse_query(const unsigned char *m, size_t len, struct query *q)
{
    size_t o = 12, total = 0;
    unsigned long i, an, ns, ar;

    memset(q, 0, sizeof *q);
    if (len < 12)
        return -1;
    q->msg = m;
    q->len = len;
    q->id = get16(m);
    q->flags = get16(m + 2);
    if (q->flags & F_QR)
        return -1;
    if (get16(m + 4) != 1)
        return -1;
    for (;;) {
        unsigned c;
        if (o >= len)
            return -1;
        c = m[o];
        if (c > 63)
            return -1;
        total += c + 1;
        if (total > 255)
            return -1;
        o += 1 + c;
        if (c == 0)
            break;
    }
    if (o + 4 > len)
        return -1;
    q->qname_len = o - 12;
    q->qtype = get16(m + o);
    q->qclass = get16(m + o + 2);
    o += 4;
    q->qend = o;
    an = get16(m + 6);
    ns = get16(m + 8);
    ar = get16(m + 10);
    for (i = 0; i < an + ns + ar; i++) {
        unsigned type, rdlen;
        if (skip_name(m, len, &o) != 0 || o + 10 > len)
            break;
        type = get16(m + o);
        rdlen = get16(m + o + 8);
        o += 10;
        if (o + rdlen > len)
            break;
        if (type == T_OPT && i >= an + ns) {
            size_t p = o, end = o + rdlen;
            q->has_opt = 1;
            while (p + 4 <= end) {
                unsigned code = get16(m + p), olen = get16(m + p + 2);
                if (p + 4 + olen > end)
                    break;
                if (code == 10) {
                    q->cookie = m + p + 4;
                    q->cookie_len = olen;
                }
                p += 4 + olen;
            }
        }
        o += rdlen;
    }
    return 0;
}

/* Is the question name the single label `label` (any case)? */
static int qname_is(const struct query *q, const char *label)
{
    size_t n = strlen(label);
    const unsigned char *p = q->msg + 12;
    return q->qname_len == n + 2 && p[0] == n && p[n + 1] == 0 &&
           strncasecmp((const char *)p + 1, label, n) == 0;
}

/* ---- building replies --------------------------------------------------- */

static size_t put_name_text(unsigned char *p, const char *label, const char *suffix_wire,
                            size_t suffix_len)
{
    size_t n = strlen(label);
    p[0] = (unsigned char)n;
    memcpy(p + 1, label, n);
    memcpy(p + 1 + n, suffix_wire, suffix_len);
    return 1 + n + suffix_len;
}

static const char bad_test_wire[] = "\3bad\4test";  /* + the root label */

static size_t build_reply(const struct query *q, int beh, const struct reply_opts *ro,
                          unsigned char *out)
{
    unsigned flags;
    size_t o = 12, rdlen_at;
    unsigned ancount = 0;
    unsigned k = (unsigned)beh + 1;
    const unsigned char *qname = ro->qname ? ro->qname : q->msg + 12;
    size_t qname_len = ro->qname ? ro->qname_len : q->qname_len;

    flags = (q->flags & (F_OPCODE | F_RD | F_CD)) | F_AA | (ro->rcode & 0xF);
    if (!ro->noqr)
        flags |= F_QR;
    if (ro->tc)
        flags |= F_TC;
    put16(out, ro->decoy ? (q->id ^ 0x5555u) : q->id);
    put16(out + 2, flags);
    put16(out + 4, 1);
    memcpy(out + o, qname, qname_len);
    o += qname_len;
    put16(out + o, q->qtype);
    put16(out + o + 2, q->qclass);
    o += 4;

    if (ro->answer && (q->qtype == T_A || q->qtype == T_AAAA || q->qtype == T_TXT ||
                       q->qtype == T_PTR)) {
        out[o++] = 0xC0;        /* the owner: a pointer to the question name */
        out[o++] = 12;
        put16(out + o, q->qtype);
        put16(out + o + 2, q->qclass);
        put16(out + o + 4, 0);
        put16(out + o + 6, 60);
        rdlen_at = o + 8;
        o += 10;
        if (q->qtype == T_A) {
            static const unsigned char good[3] = { 192, 0, 2 }, decoy[3] = { 203, 0, 113 };
            memcpy(out + o, ro->decoy ? decoy : good, 3);
            out[o + 3] = (unsigned char)k;
            o += 4;
        } else if (q->qtype == T_AAAA) {
            memset(out + o, 0, 16);
            out[o] = 0x20;
            out[o + 1] = 0x01;
            out[o + 2] = 0x0d;
            out[o + 3] = 0xb8;
            if (ro->decoy) {
                out[o + 4] = 0x0b;
                out[o + 5] = 0xad;
            }
            out[o + 15] = (unsigned char)k;
            o += 16;
        } else if (q->qtype == T_TXT) {
            const char *t = ro->decoy ? "decoy" : ro->txt ? ro->txt : behaviours[beh].name;
            size_t n = strlen(t);
            out[o++] = (unsigned char)n;
            memcpy(out + o, t, n);
            o += n;
        } else {
            o += put_name_text(out + o, ro->decoy ? "decoy" : behaviours[beh].name,
                               bad_test_wire, sizeof bad_test_wire); /* with the NUL: root */
        }
        put16(out + rdlen_at, (unsigned)(o - rdlen_at - 2));
        ancount = 1;
    }
    put16(out + 6, ancount);
    put16(out + 8, 0);
    if (ro->opt) {
        out[o] = 0;                 /* root owner */
        put16(out + o + 1, T_OPT);
        put16(out + o + 3, 1232);   /* our UDP payload size */
        memset(out + o + 5, 0, 4);  /* extended rcode, version 0, flags */
        out[o + 5] = (unsigned char)ro->ext_rcode;
        put16(out + o + 9, 0);
        o += 11;
        if (ro->cookie) {
            put16(out + o - 2, (unsigned)(4 + ro->cookie_len));
            put16(out + o, 10);
            put16(out + o + 2, (unsigned)ro->cookie_len);
            memcpy(out + o + 4, ro->cookie, ro->cookie_len);
            o += 4 + ro->cookie_len;
        }
        put16(out + 10, 1);
    } else {
        put16(out + 10, 0);
    }
    return o;
}

static size_t build_garbage(const struct query *q, unsigned char *out)
{
    size_t n = rnd() % 601, i;
    for (i = 0; i < n; i++)
        out[i] = (unsigned char)rnd();
    if (q && n >= 12 && rnd() % 3 == 0) {
        put16(out, q->id);
        out[2] |= 0x80;             /* QR */
        out[2] &= (unsigned char)~0x78; /* opcode QUERY */
    }
    return n;
}

/* ---- TCP connections ---------------------------------------------------- */

static void conn_close(int slot)
{
    struct conn *c = conns[slot];
    if (!c)
        return;
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c->held);
    free(c);
    conns[slot] = NULL;
}

static int conn_flush(int slot)
{
    struct conn *c = conns[slot];
    while (c->outoff < c->outlen) {
        size_t n = c->outlen - c->outoff;
        ssize_t w;
        if (c->behaviour == B_TCP_TRICKLE) {
            int64_t t = now_ms();
            if (t < c->next_byte)
                return 0;
            n = 1;
            c->next_byte = t + TRICKLE_GAP_MS;
        }
        w = send(c->fd, c->out + c->outoff, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return 0;
            conn_close(slot);
            return -1;
        }
        c->outoff += (size_t)w;
        c->last_active = now_ms();
        if (c->behaviour == B_TCP_TRICKLE)
            return 0;
    }
    c->outoff = c->outlen = 0;
    if (c->close_after_flush) {
        conn_close(slot);
        return -1;
    }
    return 0;
}

/* Queue a message with its length prefix (`prefix` may differ from len). */
static void conn_queue(int slot, const unsigned char *msg, size_t len, size_t prefix)
{
    struct conn *c = conns[slot];
    if (!c)
        return;
    if (c->outlen + len + 2 > c->outcap) {
        size_t cap = c->outcap ? c->outcap : 1024;
        unsigned char *p;
        while (cap < c->outlen + len + 2)
            cap *= 2;
        if (cap > 4u * 1024 * 1024 || !(p = realloc(c->out, cap))) {
            conn_close(slot);
            return;
        }
        c->out = p;
        c->outcap = cap;
    }
    if (c->outlen == c->outoff && c->behaviour == B_TCP_TRICKLE && c->next_byte < now_ms())
        c->next_byte = now_ms();
    put16(c->out + c->outlen, (unsigned)prefix);
    memcpy(c->out + c->outlen + 2, msg, len);
    c->outlen += len + 2;
    conn_flush(slot);
}

/* ---- timers ------------------------------------------------------------- */

static void timer_add(int64_t delay, int udp_fd, const struct sockaddr_storage *peer,
                      socklen_t peerlen, int slot, const unsigned char *msg, size_t len)
{
    struct timer *t;
    if (ntimers >= MAX_TIMERS)
        return;
    t = &timers[ntimers];
    t->msg = malloc(len ? len : 1);
    if (!t->msg)
        return;
    memcpy(t->msg, msg, len);
    t->len = len;
    t->due = now_ms() + delay;
    t->udp_fd = udp_fd;
    if (peer) {
        memcpy(&t->peer, peer, sizeof *peer);
        t->peerlen = peerlen;
    }
    t->slot = slot;
    t->gen = slot >= 0 && conns[slot] ? conns[slot]->gen : 0;
    ntimers++;
}

static void timers_run(void)
{
    int64_t t = now_ms();
    int i = 0;
    while (i < ntimers) {
        struct timer *tm = &timers[i];
        if (tm->due > t) {
            i++;
            continue;
        }
        if (tm->udp_fd >= 0) {
            sendto(tm->udp_fd, tm->msg, tm->len, 0, (struct sockaddr *)&tm->peer, tm->peerlen);
        } else if (tm->slot >= 0 && conns[tm->slot] && conns[tm->slot]->gen == tm->gen) {
            conn_queue(tm->slot, tm->msg, tm->len, tm->len);
        }
        free(tm->msg);
        timers[i] = timers[--ntimers];
    }
}

/* ---- answering ---------------------------------------------------------- */

/* Where a reply goes: a UDP peer (slot < 0) or a TCP connection. */
struct dest {
    int udp_fd;
    const struct sockaddr_storage *peer;
    socklen_t peerlen;
    int slot;
};

static void send_now(const struct dest *d, const unsigned char *msg, size_t len)
{
    if (d->slot >= 0)
        conn_queue(d->slot, msg, len, len);
    else
        sendto(d->udp_fd, msg, len, 0, (const struct sockaddr *)d->peer, d->peerlen);
}

static void send_later(const struct dest *d, int64_t delay, const unsigned char *msg, size_t len)
{
    timer_add(delay, d->slot >= 0 ? -1 : d->udp_fd, d->slot >= 0 ? NULL : d->peer, d->peerlen,
              d->slot, msg, len);
}

static void log_query(int beh, int tcp, const struct query *q, int parsed)
{
    if (!verbose)
        return;
    if (parsed)
        fprintf(stderr, "badserver: %s/%s id %u qtype %u opt %d\n", behaviours[beh].name,
                tcp ? "tcp" : "udp", q->id, q->qtype, q->has_opt);
    else
        fprintf(stderr, "badserver: %s/%s unparsable message\n", behaviours[beh].name,
                tcp ? "tcp" : "udp");
}

/* Handle one message from UDP (d->slot < 0) or TCP. */
static void handle_message(int beh, const unsigned char *msg, size_t len, const struct dest *d)
{
    struct query q;
    struct reply_opts ro;
    unsigned char out[REPLY_CAP];
    size_t n;
    int tcp = d->slot >= 0;
    int parsed = parse_query(msg, len, &q) == 0;

    log_query(beh, tcp, &q, parsed);
    memset(&ro, 0, sizeof ro);

    if (parsed && q.qtype == T_TXT && (qname_is(&q, "stats") || qname_is(&q, "reset"))) {
        char num[32];
        snprintf(num, sizeof num, "%lu", counts[beh]);
        if (qname_is(&q, "reset"))
            counts[beh] = 0;
        ro.answer = 1;
        ro.opt = q.has_opt;
        ro.txt = num;
        n = build_reply(&q, beh, &ro, out);
        send_now(d, out, n);
        return;
    }
    counts[beh]++;

    if (beh == B_TCP_ONCE && tcp && conns[d->slot] && conns[d->slot]->answered++ > 0) {
        conns[d->slot]->close_after_flush = 1;
        conn_flush(d->slot);
        return;
    }
    if (beh == B_GARBAGE) {
        n = build_garbage(parsed ? &q : NULL, out);
        if (tcp && rnd() % 8 == 0) {
            /* promise more than we send, then hang up */
            conn_queue(d->slot, out, n, n + 1 + rnd() % 100);
            if (conns[d->slot]) {
                conns[d->slot]->close_after_flush = 1;
                conn_flush(d->slot);
            }
        } else {
            send_now(d, out, n);
        }
        return;
    }
    if (!parsed || beh == B_SILENT)
        return;

    ro.answer = 1;
    ro.opt = q.has_opt;
    switch (beh) {
    case B_TC:
    case B_TCP_TRICKLE:
    case B_TCP_REORDER:
    case B_TCP_CLOSE:
    case B_TCP_ONCE:
        if (!tcp) {
            ro.tc = 1;
            ro.answer = 0;
        }
        break;
    case B_SERVFAIL:
        ro.rcode = 2;
        ro.answer = 0;
        break;
    case B_REFUSED:
        ro.rcode = 5;
        ro.answer = 0;
        break;
    case B_NOTIMP:
        ro.rcode = 4;
        ro.answer = 0;
        break;
    case B_FORMERR_ON_EDNS:
        if (q.has_opt) {
            ro.rcode = 1;
            ro.answer = 0;
            ro.opt = 0;
        }
        break;
    case B_NOQR:
        ro.noqr = 1;
        break;
    default:
        break;
    }

    if (beh == B_OTHERQUESTION) {
        static const unsigned char other[] = "\15otherquestion\3bad\4test";
        static const unsigned char other2[] = "\16otherquestion2\3bad\4test";
        /* sizeof includes the NUL, which is the root label */
        if (q.qname_len == sizeof other && strncasecmp((const char *)q.msg + 12,
                                                        (const char *)other, sizeof other - 1) == 0) {
            ro.qname = other2;
            ro.qname_len = sizeof other2;
        } else {
            ro.qname = other;
            ro.qname_len = sizeof other;
        }
    }
    if (beh == B_LOWERCASE_QUESTION) {
        static unsigned char lower[256];
        size_t i;
        for (i = 0; i < q.qname_len; i++) {
            unsigned char c = q.msg[12 + i];
            lower[i] = (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
        }
        ro.qname = lower;
        ro.qname_len = q.qname_len;
    }

    if (beh == B_FORMERR_NOQ && q.has_opt) {
        ro.rcode = 1;
        ro.answer = 0;
        ro.opt = 0;
        n = build_reply(&q, beh, &ro, out);
        out[4] = out[5] = 0; /* no question: the header alone */
        send_now(d, out, 12);
        return;
    }
    if (beh == B_OPCODE_DECOY) {
        n = build_reply(&q, beh, &ro, out);
        out[2] = (unsigned char)((out[2] & ~0x78) | (5 << 3));
        send_now(d, out, n);
        out[2] = (unsigned char)(out[2] & ~0x78);
        send_later(d, WRONGID_DELAY_MS, out, n);
        return;
    }
    if (beh >= B_COOKIE_ECHO && beh <= B_BADCOOKIE_ALWAYS) {
        static const unsigned char server_cookie[8] = { 'S', 'E', 'R', 'V', 'E', 'R', '0', '1' };
        unsigned char cookie[40], hex[81];
        size_t i;
        int client = q.cookie && q.cookie_len >= 8 && q.cookie_len <= 40;
        ro.opt = 1;
        if (client) {
            memcpy(cookie, q.cookie, 8);
            memcpy(cookie + 8, server_cookie, 8);
            ro.cookie = cookie;
            ro.cookie_len = 16;
        }
        if (beh == B_COOKIE_ECHO) {
            if (q.cookie && q.cookie_len <= 40) {
                for (i = 0; i < q.cookie_len; i++)
                    snprintf((char *)hex + 2 * i, 3, "%02x", q.cookie[i]);
                hex[2 * q.cookie_len] = 0;
            } else {
                snprintf((char *)hex, sizeof hex, "none");
            }
            ro.txt = (const char *)hex;
        } else if (beh == B_BADCOOKIE_ALWAYS ||
                   (beh == B_BADCOOKIE && !(q.cookie_len == 16 && client &&
                                            memcmp(q.cookie + 8, server_cookie, 8) == 0))) {
            if (beh == B_BADCOOKIE_ALWAYS && client)
                for (i = 8; i < 16; i++) cookie[i] = (unsigned char)rnd();
            ro.answer = 0;
            ro.rcode = 23 & 0xF;  /* BADCOOKIE: 23 = 1 << 4 | 7 */
            ro.ext_rcode = 23 >> 4;
        } else if (beh == B_WRONG_COOKIE) {
            struct reply_opts decoy = ro;
            unsigned char other[16];
            memcpy(other, cookie, 16);
            other[0] ^= 0xFF;
            decoy.decoy = 1;
            decoy.cookie = other;
            decoy.cookie_len = 16;
            n = build_reply(&q, beh, &decoy, out);
            put16(out, q.id); /* the right id: only the cookie is wrong */
            send_now(d, out, n);
            n = build_reply(&q, beh, &ro, out);
            send_later(d, WRONGID_DELAY_MS, out, n);
            return;
        }
        n = build_reply(&q, beh, &ro, out);
        send_now(d, out, n);
        return;
    }
    if (beh == B_TC_CUT && !tcp) {
        n = build_reply(&q, beh, &ro, out);
        out[2] |= 0x02; /* TC */
        send_now(d, out, 12 + q.qname_len + 4);
        return;
    }
    if (beh == B_WRONGID) {
        struct reply_opts decoy = ro;
        decoy.decoy = 1;
        n = build_reply(&q, beh, &decoy, out);
        send_now(d, out, n);
        n = build_reply(&q, beh, &ro, out);
        send_later(d, WRONGID_DELAY_MS, out, n);
        return;
    }
    n = build_reply(&q, beh, &ro, out);
    if (beh == B_SLOW) {
        send_later(d, slow_ms, out, n);
    } else if (beh == B_OTHERPORT && !tcp) {
        int fd = d->peer->ss_family == AF_INET6 ? otherport_fd6 : otherport_fd4;
        if (fd >= 0)
            sendto(fd, out, n, 0, (const struct sockaddr *)d->peer, d->peerlen);
    } else {
        send_now(d, out, n);
    }
}

/* tcp_reorder: keep the first query back until a second one comes. */
static void reorder_message(int slot, const unsigned char *msg, size_t len)
{
    struct conn *c = conns[slot];
    struct dest d = { -1, NULL, 0, slot };
    struct query q;
    unsigned char *held;
    size_t heldlen;

    if (parse_query(msg, len, &q) == 0 && q.qtype == T_TXT &&
        (qname_is(&q, "stats") || qname_is(&q, "reset"))) {
        handle_message(c->behaviour, msg, len, &d);
        return;
    }
    if (!c->held) {
        c->held = malloc(len ? len : 1);
        if (!c->held)
            return;
        memcpy(c->held, msg, len);
        c->heldlen = len;
        c->held_until = now_ms() + REORDER_HOLD_MS;
        return;
    }
    held = c->held;
    heldlen = c->heldlen;
    c->held = NULL;
    handle_message(c->behaviour, msg, len, &d);
    if (conns[slot])
        handle_message(conns[slot]->behaviour, held, heldlen, &d);
    free(held);
}

static void release_held(int slot)
{
    struct conn *c = conns[slot];
    struct dest d = { -1, NULL, 0, slot };
    unsigned char *held = c->held;
    size_t heldlen = c->heldlen;
    c->held = NULL;
    handle_message(c->behaviour, held, heldlen, &d);
    free(held);
}

static void conn_read(int slot)
{
    struct conn *c = conns[slot];
    ssize_t r = recv(c->fd, c->in + c->inlen, TCP_IN_CAP - c->inlen, 0);
    size_t off = 0;

    if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        conn_close(slot);
        return;
    }
    if (r == 0) {
        conn_close(slot);
        return;
    }
    c->inlen += (size_t)r;
    c->last_active = now_ms();
    while (conns[slot] && c->inlen - off >= 2) {
        size_t mlen = get16(c->in + off);
        struct dest d = { -1, NULL, 0, slot };
        if (c->inlen - off < 2 + mlen)
            break;
        if (c->behaviour == B_TCP_REORDER)
            reorder_message(slot, c->in + off + 2, mlen);
        else
            handle_message(c->behaviour, c->in + off + 2, mlen, &d);
        off += 2 + mlen;
    }
    if (conns[slot] && off) {
        memmove(c->in, c->in + off, c->inlen - off);
        c->inlen -= off;
    }
}

static void accept_conn(const struct listener *l)
{
    for (;;) {
        int fd = accept(l->fd, NULL, NULL), slot;
        struct conn *c;
        if (fd < 0)
            return;
        if (l->behaviour == B_TCP_CLOSE) {
            counts[l->behaviour]++;
            close(fd);
            continue;
        }
        for (slot = 0; slot < MAX_CONNS && conns[slot]; slot++)
            ;
        c = slot < MAX_CONNS ? calloc(1, sizeof *c) : NULL;
        if (c)
            c->in = malloc(TCP_IN_CAP);
        if (!c || !c->in) {
            free(c);
            close(fd);
            continue;
        }
        set_nonblock(fd);
        c->fd = fd;
        c->behaviour = l->behaviour;
        c->gen = next_gen++;
        c->last_active = now_ms();
        conns[slot] = c;
    }
}

static void udp_read(const struct listener *l)
{
    int i;
    for (i = 0; i < 64; i++) {
        unsigned char buf[65536];
        struct sockaddr_storage peer;
        socklen_t peerlen = sizeof peer;
        struct dest d;
        ssize_t r = recvfrom(l->fd, buf, sizeof buf, 0, (struct sockaddr *)&peer, &peerlen);
        if (r < 0)
            return;
        d.udp_fd = l->fd;
        d.peer = &peer;
        d.peerlen = peerlen;
        d.slot = -1;
        handle_message(l->behaviour, buf, (size_t)r, &d);
    }
}

/* ---- sockets ------------------------------------------------------------ */

static int open_socket(int family, int type, unsigned port, int *err)
{
    int fd = socket(family, type, 0), one = 1;
    struct sockaddr_storage ss;
    socklen_t sl;

    *err = 0;
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    memset(&ss, 0, sizeof ss);
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sl = sizeof *sin;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        sin6->sin6_addr = in6addr_loopback;
        sl = sizeof *sin6;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    if (type == SOCK_STREAM)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 ||
        (type == SOCK_STREAM && listen(fd, 128) != 0)) {
        *err = errno;
        close(fd);
        return -1;
    }
    set_nonblock(fd);
    return fd;
}

static int open_all(int want_ipv6)
{
    int fams[2] = { AF_INET, AF_INET6 }, f, k, tcp, err;
    int nfam = want_ipv6 ? 2 : 1;

    /* Is ::1 there at all? Without it, serve IPv4 alone. */
    if (want_ipv6) {
        int fd = open_socket(AF_INET6, SOCK_DGRAM, 0, &err);
        if (fd < 0) {
            fprintf(stderr, "badserver: no ::1 (%s), serving 127.0.0.1 only\n", strerror(err));
            nfam = 1;
        } else {
            close(fd);
        }
    }
    for (f = 0; f < nfam; f++) {
        for (k = 0; k < B_COUNT; k++) {
            for (tcp = 0; tcp < 2; tcp++) {
                unsigned port = base_port + (unsigned)k;
                int fd = open_socket(fams[f], tcp ? SOCK_STREAM : SOCK_DGRAM, port, &err);
                if (fd < 0) {
                    fprintf(stderr, "badserver: cannot listen on %s port %u/%s: %s\n",
                            fams[f] == AF_INET ? "127.0.0.1" : "::1", port,
                            tcp ? "tcp" : "udp", strerror(err));
                    return -1;
                }
                listeners[nlisteners].fd = fd;
                listeners[nlisteners].behaviour = k;
                listeners[nlisteners].tcp = tcp;
                listeners[nlisteners].family = fams[f];
                nlisteners++;
            }
        }
    }
    otherport_fd4 = open_socket(AF_INET, SOCK_DGRAM, 0, &err);
    if (nfam == 2)
        otherport_fd6 = open_socket(AF_INET6, SOCK_DGRAM, 0, &err);
    return 0;
}

/* ---- main --------------------------------------------------------------- */

static void usage(FILE *f)
{
    int k;
    fprintf(f, "usage: badserver [BASE] [--base BASE] [--slow-ms N] [--seed N] [--no-ipv6] "
               "[--verbose] [--help]\n"
               "Misbehaving DNS servers on 127.0.0.1 and ::1, UDP and TCP, one port per\n"
               "behaviour (BASE defaults to %d). A, AAAA, TXT and PTR queries get data;\n"
               "a TXT query for \"stats.\" counts the queries on that port, \"reset.\" zeroes it.\n\n",
            DEFAULT_BASE);
    fprintf(f, "  %-3s %-6s %-19s %s\n", "k", "port", "name", "behaviour");
    for (k = 0; k < B_COUNT; k++)
        fprintf(f, "  %-3d %-6u %-19s %s\n", k, base_port + (unsigned)k, behaviours[k].name,
                behaviours[k].what);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v;
    if (!s || !*s)
        return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    int i, want_ipv6 = 1, seeded = 0;
    unsigned long v;
    struct sigaction sa;
    struct rlimit rl;
    struct pollfd *pfds;
    int *pslot;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--base") == 0 && i + 1 < argc) {
            if (parse_uint(argv[++i], 65535 - B_COUNT + 1, &v) != 0 || v == 0)
                goto bad;
            base_port = (unsigned)v;
        } else if (strcmp(a, "--slow-ms") == 0 && i + 1 < argc) {
            if (parse_uint(argv[++i], 600000, &v) != 0)
                goto bad;
            slow_ms = (int64_t)v;
        } else if (strcmp(a, "--seed") == 0 && i + 1 < argc) {
            if (parse_uint(argv[++i], (unsigned long)-1, &v) != 0)
                goto bad;
            rng_state ^= (uint64_t)v * 0x100000001b3ull;
            seeded = 1;
        } else if (strcmp(a, "--no-ipv6") == 0) {
            want_ipv6 = 0;
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            verbose = 1;
        } else if (a[0] != '-' && parse_uint(a, 65535 - B_COUNT + 1, &v) == 0 && v > 0) {
            base_port = (unsigned)v;
        } else {
            goto bad;
        }
    }
    if (!seeded)
        rng_state ^= (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid();
    if (!rng_state)
        rng_state = 1;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);

    if (open_all(want_ipv6) != 0)
        return 1;
    fprintf(stderr, "badserver: pid %ld, %d behaviours on ports %u-%u (%s), slow %lld ms\n",
            (long)getpid(), B_COUNT, base_port, base_port + B_COUNT - 1,
            otherport_fd6 >= 0 ? "127.0.0.1 and ::1" : "127.0.0.1", (long long)slow_ms);

    pfds = calloc(MAX_LISTENERS + MAX_CONNS, sizeof *pfds);
    pslot = calloc(MAX_LISTENERS + MAX_CONNS, sizeof *pslot);
    if (!pfds || !pslot)
        return 1;

    while (!stopping) {
        int n = 0, s, timeout = -1, r;
        int64_t t = now_ms(), next = INT64_MAX;

        for (i = 0; i < nlisteners; i++) {
            pfds[n].fd = listeners[i].fd;
            pfds[n].events = POLLIN;
            pfds[n].revents = 0;
            pslot[n] = -1;
            n++;
        }
        for (s = 0; s < MAX_CONNS; s++) {
            struct conn *c = conns[s];
            if (!c)
                continue;
            pfds[n].fd = c->fd;
            pfds[n].events = 0;
            if (c->inlen < TCP_IN_CAP)
                pfds[n].events |= POLLIN;
            if (c->outoff < c->outlen) {
                if (c->behaviour == B_TCP_TRICKLE) {
                    if (c->next_byte < next)
                        next = c->next_byte;
                } else {
                    pfds[n].events |= POLLOUT;
                }
            }
            if (c->held && c->held_until < next)
                next = c->held_until;
            if (c->last_active + IDLE_MS < next)
                next = c->last_active + IDLE_MS;
            pfds[n].revents = 0;
            pslot[n] = s;
            n++;
        }
        for (i = 0; i < ntimers; i++)
            if (timers[i].due < next)
                next = timers[i].due;
        if (next != INT64_MAX)
            timeout = next <= t ? 0 : (int)(next - t > 60000 ? 60000 : next - t);

        r = poll(pfds, (nfds_t)n, timeout);
        if (r < 0 && errno != EINTR) {
            perror("badserver: poll");
            return 1;
        }
        for (i = 0; r > 0 && i < n; i++) {
            if (!pfds[i].revents)
                continue;
            if (pslot[i] < 0) {
                const struct listener *l = &listeners[i];
                if (l->tcp)
                    accept_conn(l);
                else
                    udp_read(l);
                continue;
            }
            s = pslot[i];
            if (!conns[s] || conns[s]->fd != pfds[i].fd)
                continue;
            if (pfds[i].revents & POLLOUT)
                if (conn_flush(s) != 0)
                    continue;
            if (pfds[i].revents & (POLLIN | POLLHUP | POLLERR))
                conn_read(s);
        }
        timers_run();
        t = now_ms();
        for (s = 0; s < MAX_CONNS; s++) {
            struct conn *c = conns[s];
            if (!c)
                continue;
            if (c->behaviour == B_TCP_TRICKLE && c->outoff < c->outlen && c->next_byte <= t)
                if (conn_flush(s) != 0)
                    continue;
            if (conns[s] && c->held && c->held_until <= t)
                release_held(s);
            if (conns[s] && c->last_active + IDLE_MS <= t)
                conn_close(s);
        }
    }

    for (i = 0; i < MAX_CONNS; i++)
        conn_close(i);
    for (i = 0; i < nlisteners; i++)
        close(listeners[i].fd);
    for (i = 0; i < ntimers; i++)
        free(timers[i].msg);
    free(pfds);
    free(pslot);
    fprintf(stderr, "badserver: stopped\n");
    return 0;

bad:
    fprintf(stderr, "badserver: bad argument near \"%s\"\n", argv[i < argc ? i : argc - 1]);
    usage(stderr);
    return 2;
}
