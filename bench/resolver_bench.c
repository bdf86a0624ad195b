/* The resolver core against a raw UDP client and c-ares: N PTR lookups with
 * K in flight against one server (bench/run-resolver.sh starts NSD for it).
 *
 *   resolver_bench MODE SERVER_IP PORT [N [K]]
 *
 * MODE: raw     one connected UDP socket, sendmmsg/recvmmsg in batches, a
 *               reply matched by id and QR only: the floor
 *       cares   c-ares (ares_query on a channel driven by poll and
 *               ares_process_fd); the callback checks the status
 *       cares+parse  the same, plus ares_parse_ptr_reply in the callback
 *       core    nm_resolver_query through resolver.h on a libuv loop, EDNS
 *               off, no cache; the callback checks the status and rcode
 *
 * The names are 10.Z.X.Y's reverse names for the first N addresses (PTR),
 * or host-I.bench.test for I < N when QTYPE=a (A), made before the clock
 * starts.  Each client keeps K queries in flight by starting one as another
 * ends.  Prints one line:
 *
 *   MODE queries answered seconds qps cpu_us_per_query user_us sys_us peak_rss_kb
 *
 * peak_rss_kb is VmHWM from /proc/self/status at the end.
 *
 * CPU is getrusage(RUSAGE_SELF) user+sys over the run, which includes the
 * kernel's work for the client's own sends and receives (and, on loopback,
 * the delivery of its datagrams to the server's socket).  Under callgrind
 * only the run is collected (CALLGRIND_TOGGLE_COLLECT), so that
 * instructions per query leave out the setup.
 */
#include <arpa/inet.h>
#include <ares.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>
#include <valgrind/callgrind.h>

#include "addr.h"
#include "errors.h"
#include "message.h"
#include "name.h"
#include "resolver.h"

#define T_A 1
#define T_PTR 12
#define C_IN 1
#define MAXNAME 64

static int nq = 20000, inflight_max = 500;
/* raw and c-ares put every query on one socket: 500 replies at once
 * overflow the default receive buffer (212 KB), and a lost reply costs a
 * timeout; ours spreads them over sockets of 256 queries and keeps the
 * default */
static int rcvbuf = 1 << 20;
static char (*text_names)[MAXNAME];       /* "Y.X.0.10.in-addr.arpa" */
static uint8_t (*wire_names)[MAXNAME];    /* the same, wire form */
static size_t *wire_len;
static int answered, failed, started;
static int qtype = T_PTR;                 /* QTYPE=a: host-I.bench.test A */

static void die(const char *what)
{
    fprintf(stderr, "resolver_bench: %s\n", what);
    exit(2);
}

static void make_names(void)
{
    text_names = malloc((size_t)nq * sizeof *text_names);
    wire_names = malloc((size_t)nq * sizeof *wire_names);
    wire_len = malloc((size_t)nq * sizeof *wire_len);
    if (!text_names || !wire_names || !wire_len) die("out of memory");
    for (int i = 0; i < nq; i++) {
        int n = qtype == T_A ? snprintf(text_names[i], MAXNAME, "host-%d.bench.test", i)
                             : snprintf(text_names[i], MAXNAME, "%d.%d.%d.10.in-addr.arpa", i % 256,
                                        i / 256 % 256, i / 65536);
        if (nm_name_from_text(text_names[i], (size_t)n, wire_names[i], &wire_len[i]) != NM_OK)
            die("bad name");
    }
}

/* ------------------------------------------------------------ measuring */

typedef struct clock_mark {
    double wall, user, sys;
} clock_mark;

/* the peak resident set of this process (VmHWM), in kB; 0 if unknown */
static long peak_rss_kb(void)
{
    char line[256];
    long kb = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld", &kb) == 1) break;
    fclose(f);
    return kb;
}

static clock_mark mark(void)
{
    struct rusage ru;
    struct timespec ts;
    clock_mark m;
    getrusage(RUSAGE_SELF, &ru);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    m.wall = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    m.user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    m.sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    return m;
}

/* ------------------------------------------------------------------ raw */

#define BATCH 64

static int run_raw(const struct sockaddr_in *to)
{
    static int32_t by_id[65536];
    static uint8_t out[BATCH][12 + MAXNAME + 4], in[BATCH][512];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    int *ids_of = malloc((size_t)nq * sizeof *ids_of);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int next = 0, outstanding = 0, done = 0, silent_rounds = 0;
    uint16_t id = 0;
    if (fd < 0 || !ids_of) die("socket");
    /* one socket for every query in flight: room for their replies */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (connect(fd, (const struct sockaddr *)to, sizeof *to) != 0) die("connect");
    for (int i = 0; i < 65536; i++) by_id[i] = -1;

    while (done < nq) {
        /* fill the window: one sendmmsg for every query that fits */
        while (next < nq && outstanding < inflight_max) {
            int k = 0, sent;
            while (k < BATCH && next + k < nq && outstanding + k < inflight_max) {
                int q = next + k;
                uint8_t *p = out[k];
                while (by_id[id] >= 0) id++;
                by_id[id] = q;
                ids_of[q] = id;
                p[0] = (uint8_t)(id >> 8);
                p[1] = (uint8_t)id;
                id++;
                p[2] = 0x00; /* RD off, as the others ask an authority */
                p[3] = 0;
                p[4] = 0, p[5] = 1, p[6] = p[7] = p[8] = p[9] = p[10] = p[11] = 0;
                memcpy(p + 12, wire_names[q], wire_len[q]);
                p[12 + wire_len[q]] = 0, p[13 + wire_len[q]] = (uint8_t)qtype;
                p[14 + wire_len[q]] = 0, p[15 + wire_len[q]] = C_IN;
                iov[k].iov_base = p;
                iov[k].iov_len = 16 + wire_len[q];
                memset(&msgs[k].msg_hdr, 0, sizeof msgs[k].msg_hdr);
                msgs[k].msg_hdr.msg_iov = &iov[k];
                msgs[k].msg_hdr.msg_iovlen = 1;
                k++;
            }
            sent = sendmmsg(fd, msgs, (unsigned)k, 0);
            if (sent < 0) {
                if (errno != EAGAIN && errno != ENOBUFS) die("sendmmsg");
                sent = 0;
            }
            for (int j = sent; j < k; j++) by_id[ids_of[next + j]] = -1; /* not sent */
            next += sent;
            outstanding += sent;
            if (sent < k) break;
        }
        {
            struct pollfd pfd = { fd, POLLIN, 0 };
            int n = poll(&pfd, 1, 2000);
            if (n == 0) {
                /* lost: ask every outstanding query again, a few times */
                if (++silent_rounds > 3) {
                    failed += outstanding + (nq - next);
                    break;
                }
                for (int i = 0; i < 65536; i++) {
                    if (by_id[i] >= 0) {
                        int q = by_id[i];
                        uint8_t p[12 + MAXNAME + 4];
                        memset(p, 0, 12);
                        p[0] = (uint8_t)(i >> 8), p[1] = (uint8_t)i, p[5] = 1;
                        memcpy(p + 12, wire_names[q], wire_len[q]);
                        p[12 + wire_len[q]] = 0, p[13 + wire_len[q]] = (uint8_t)qtype;
                        p[14 + wire_len[q]] = 0, p[15 + wire_len[q]] = C_IN;
                        if (send(fd, p, 16 + wire_len[q], 0) < 0) die("send");
                    }
                }
                continue;
            }
        }
        for (;;) {
            int got;
            for (int k = 0; k < BATCH; k++) {
                iov[k].iov_base = in[k];
                iov[k].iov_len = sizeof in[k];
                memset(&msgs[k].msg_hdr, 0, sizeof msgs[k].msg_hdr);
                msgs[k].msg_hdr.msg_iov = &iov[k];
                msgs[k].msg_hdr.msg_iovlen = 1;
            }
            got = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
            if (got <= 0) break;
            for (int k = 0; k < got; k++) {
                const uint8_t *p = in[k];
                uint16_t rid;
                if (msgs[k].msg_len < 12 || !(p[2] & 0x80)) continue;
                rid = (uint16_t)(p[0] << 8 | p[1]);
                if (by_id[rid] < 0) continue;
                by_id[rid] = -1;
                outstanding--;
                done++;
                if ((p[3] & 0xF) == 0 && (p[6] | p[7])) answered++;
                else failed++;
            }
            if (got < BATCH) break;
        }
    }
    close(fd);
    free(ids_of);
    return 0;
}

/* ---------------------------------------------------------------- c-ares */

static ares_channel channel;
static int parse_replies;

static void ares_next(void);

static void on_ares(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    (void)arg;
    (void)timeouts;
    if (status == ARES_SUCCESS) {
        if (parse_replies) {
            struct hostent *h = NULL;
            int rc = qtype == T_A ? ares_parse_a_reply(abuf, alen, &h, NULL, NULL)
                                  : ares_parse_ptr_reply(abuf, alen, NULL, 0, AF_INET, &h);
            if (rc == ARES_SUCCESS) {
                answered++;
                ares_free_hostent(h);
            } else {
                failed++;
            }
        } else {
            answered++;
        }
    } else if (status != ARES_EDESTRUCTION) {
        failed++;
    }
    ares_next();
}

static void ares_next(void)
{
    if (started < nq) {
        int q = started++;
        ares_query(channel, text_names[q], C_IN, qtype, on_ares, NULL);
    }
}

static int run_cares(const char *ip, int port, const char *empty_conf)
{
    struct ares_options o;
    char csv[80];
    int rc;
    memset(&o, 0, sizeof o);
    o.flags = ARES_FLAG_STAYOPEN | ARES_FLAG_NOSEARCH | ARES_FLAG_NORECURSE;
    o.timeout = 2000;
    o.tries = 3;
    o.resolvconf_path = (char *)(uintptr_t)empty_conf; /* never the system's */
    o.socket_receive_buffer_size = rcvbuf;
    if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) die("ares_library_init");
    rc = ares_init_options(&channel, &o,
                           ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_RESOLVCONF |
                               ARES_OPT_SOCK_RCVBUF);
    if (rc != ARES_SUCCESS) die(ares_strerror(rc));
    snprintf(csv, sizeof csv, "%s:%d", ip, port);
    if (ares_set_servers_ports_csv(channel, csv) != ARES_SUCCESS) die("ares_set_servers_ports_csv");
    return 0;
}

static void loop_cares(void)
{
    for (int i = 0; i < inflight_max; i++) ares_next();
    while (answered + failed < nq) {
        ares_socket_t socks[ARES_GETSOCK_MAXNUM];
        struct pollfd pfd[ARES_GETSOCK_MAXNUM];
        struct timeval tv, *tvp;
        int bits = ares_getsock(channel, socks, ARES_GETSOCK_MAXNUM), n = 0, ms;
        for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
            short ev = 0;
            if (ARES_GETSOCK_READABLE(bits, i)) ev |= POLLIN;
            if (ARES_GETSOCK_WRITABLE(bits, i)) ev |= POLLOUT;
            if (!ev) continue;
            pfd[n].fd = socks[i];
            pfd[n].events = ev;
            pfd[n].revents = 0;
            n++;
        }
        tvp = ares_timeout(channel, NULL, &tv);
        ms = tvp ? (int)(tvp->tv_sec * 1000 + tvp->tv_usec / 1000) : 1000;
        if (poll(pfd, (nfds_t)n, ms) < 0 && errno != EINTR) die("poll");
        if (n == 0) {
            ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
            continue;
        }
        for (int i = 0; i < n; i++) {
            ares_socket_t r = (pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) ? pfd[i].fd : ARES_SOCKET_BAD;
            ares_socket_t w = (pfd[i].revents & POLLOUT) ? pfd[i].fd : ARES_SOCKET_BAD;
            ares_process_fd(channel, r, w);
        }
        if (!n) ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    }
    ares_destroy(channel);
    ares_library_cleanup();
}

/* ------------------------------------------------------------------ core */

static nm_resolver *resolver;

static void core_next(void);

static void on_core(void *arg, const nm_result *res)
{
    (void)arg;
    if (res->status == NM_OK && res->msg->rcode == 0 && res->msg->count[NM_ANSWER] > 0) answered++;
    else failed++;
    core_next();
}

static void core_next(void)
{
    if (started < nq) {
        int q = started++;
        if (!nm_resolver_query(resolver, wire_names[q], (uint16_t)qtype, C_IN, NULL, on_core, NULL)) die("query");
    }
}

static void setup_core(uv_loop_t *loop, const char *ip, int port)
{
    nm_resolver_options o;
    nm_addr server;
    nm_resolver_options_default(&o);
    o.timeouts[0] = o.timeouts[1] = o.timeouts[2] = 2;
    o.ntimeouts = 3;
    o.edns_size = 0;     /* as c-ares and the raw client: no EDNS */
    o.recurse = 0;       /* RD off, as the others */
    o.max_inflight = inflight_max;
    if (nm_addr_from_host(ip, (uint16_t)port, &server) != NM_OK) die("bad address");
    if (!(resolver = nm_resolver_new(loop, &o))) die("nm_resolver_new");
    if (nm_resolver_set_servers(resolver, &server, 1) != NM_OK) die("set_servers");
}

static void on_core_closed(void *arg)
{
    (void)arg;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    const char *mode, *ip;
    int port;
    clock_mark t0, t1;
    struct sockaddr_in to;
    uv_loop_t loop;

    if (argc < 4) {
        fprintf(stderr, "usage: resolver_bench raw|cares|cares+parse|core SERVER_IP PORT [N [K]] [EMPTY_RESOLV_CONF]\n");
        return 2;
    }
    mode = argv[1];
    ip = argv[2];
    port = atoi(argv[3]);
    if (argc > 4) nq = atoi(argv[4]);
    if (argc > 5) inflight_max = atoi(argv[5]);
    if (getenv("QTYPE") && strcmp(getenv("QTYPE"), "a") == 0) qtype = T_A;
    else if (getenv("QTYPE") && strcmp(getenv("QTYPE"), "ptr") != 0) die("QTYPE: ptr or a");
    if (nq <= 0 || inflight_max <= 0 || port <= 0 || port > 65535) die("bad arguments");
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, ip, &to.sin_addr) != 1) die("bad address");
    /* the benchmark only ever talks to loopback */
    if ((ntohl(to.sin_addr.s_addr) >> 24) != 127) die("the server must be on 127.0.0.0/8");
    make_names();

    if (strcmp(mode, "raw") == 0) {
        t0 = mark();
        CALLGRIND_TOGGLE_COLLECT;
        run_raw(&to);
        CALLGRIND_TOGGLE_COLLECT;
        t1 = mark();
    } else if (strcmp(mode, "cares") == 0 || strcmp(mode, "cares+parse") == 0) {
        parse_replies = strcmp(mode, "cares+parse") == 0;
        run_cares(ip, port, argc > 6 ? argv[6] : "/dev/null");
        t0 = mark();
        CALLGRIND_TOGGLE_COLLECT;
        loop_cares();
        CALLGRIND_TOGGLE_COLLECT;
        t1 = mark();
    } else if (strcmp(mode, "core") == 0) {
        if (uv_loop_init(&loop) != 0) die("uv_loop_init");
        setup_core(&loop, ip, port);
        t0 = mark();
        CALLGRIND_TOGGLE_COLLECT;
        for (int i = 0; i < inflight_max; i++) core_next();
        uv_run(&loop, UV_RUN_DEFAULT);
        CALLGRIND_TOGGLE_COLLECT;
        t1 = mark();
        nm_resolver_close(resolver, on_core_closed, NULL);
        uv_run(&loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&loop) != 0) die("the loop kept handles");
    } else {
        die("mode: raw, cares, cares+parse or core");
    }
    printf("%s %d %d %.4f %.0f %.3f %.3f %.3f %ld\n", mode, nq, answered, t1.wall - t0.wall,
           nq / (t1.wall - t0.wall), (t1.user + t1.sys - t0.user - t0.sys) * 1e6 / nq,
           (t1.user - t0.user) * 1e6 / nq, (t1.sys - t0.sys) * 1e6 / nq, peak_rss_kb());
    return answered == nq ? 0 : 1;
}
