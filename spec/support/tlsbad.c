/* tlsbad -- misbehaving DNS over TLS / HTTPS servers on loopback for the
 * lua-names tests (the encrypted counterpart of badserver.c).
 *
 *   tlsbad --base BASE --cert CHAIN.pem --key KEY.pem
 *
 * Behaviour k listens on 127.0.0.1 port BASE+k, with the given certificate
 * (the test CA's valid chain, so that strict clients get past the handshake):
 *
 *   k  name            what it does
 *   6  dot_close_mid   DNS over TLS: reads one query, writes a length prefix
 *                      of 64 and 10 bytes of the answer, then closes the
 *                      socket (no close_notify): a server gone mid-message
 *   7  h2_500          HTTP/2 (ALPN h2): answers every request with
 *                      :status 500 and no body
 *   8  h2_truncated    HTTP/2: after the handshake, the header of a 18-byte
 *                      SETTINGS frame and 6 bytes of it, then closes
 *   9  dot_echo_len    DNS over TLS: answers each query with its question and
 *                      one TXT record (owner: the question's name, ttl 0)
 *                      holding the length in octets of the query as it came
 *                      (the padding tests read it)
 *  10  dot_reverse     DNS over TLS: gathers the queries of a burst (until
 *                      none comes for 100 ms, at most 256), then answers
 *                      them last first, each with a TXT record holding its
 *                      place in the burst ("1" for the first received)
 *
 * Each connection is served by a child process that ends after 5 s at
 * most; the parent only accepts.  Frames are built by hand (RFC 9113): a
 * SETTINGS frame, its ACK, and a HEADERS frame holding the one byte 0x8e
 * (HPACK static table index 14, ":status: 500").
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

enum { K_FIRST = 6, K_DOT_CLOSE_MID = 6, K_H2_500 = 7, K_H2_TRUNCATED = 8, K_DOT_ECHO_LEN = 9, K_DOT_REVERSE = 10, K_LAST = 10 };

static int alpn_h2(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                   unsigned inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    static const unsigned char h2[] = {2, 'h', '2'};
    unsigned char *sel;
    if (SSL_select_next_proto(&sel, outlen, h2, sizeof h2, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

static int read_full(SSL *ssl, unsigned char *buf, int n)
{
    int got = 0;
    while (got < n) {
        int r = SSL_read(ssl, buf + got, n - got);
        if (r <= 0) return -1;
        got += r;
    }
    return 0;
}

static void frame(SSL *ssl, int type, int flags, unsigned stream, const unsigned char *payload, unsigned len)
{
    unsigned char hd[9] = {(unsigned char)(len >> 16), (unsigned char)(len >> 8), (unsigned char)len,
                           (unsigned char)type, (unsigned char)flags,
                           (unsigned char)(stream >> 24 & 0x7f), (unsigned char)(stream >> 16),
                           (unsigned char)(stream >> 8), (unsigned char)stream};
    SSL_write(ssl, hd, 9);
    if (len) SSL_write(ssl, payload, (int)len);
}

static void serve_dot_close_mid(SSL *ssl)
{
    unsigned char len[2], q[65535];
    if (read_full(ssl, len, 2) < 0) return;
    int n = len[0] << 8 | len[1];
    if (n < 12 || read_full(ssl, q, n) < 0) return;
    unsigned char part[12] = {0, 64, q[0], q[1], 0x84, 0, 0, 1, 0, 1, 0, 0};
    SSL_write(ssl, part, sizeof part);
}

static void serve_h2_500(SSL *ssl)
{
    unsigned char preface[24], hd[9], payload[16384];
    if (read_full(ssl, preface, 24) < 0 || memcmp(preface, "PRI * HTTP/2.0", 14) != 0) return;
    frame(ssl, 4, 0, 0, NULL, 0); /* our SETTINGS: none */
    for (;;) {
        if (read_full(ssl, hd, 9) < 0) return;
        unsigned len = (unsigned)hd[0] << 16 | (unsigned)hd[1] << 8 | hd[2];
        int type = hd[3], flags = hd[4];
        unsigned stream = ((unsigned)hd[5] & 0x7f) << 24 | (unsigned)hd[6] << 16 | (unsigned)hd[7] << 8 | hd[8];
        if (len > sizeof payload) return;
        if (len && read_full(ssl, payload, (int)len) < 0) return;
        if (type == 4 && !(flags & 1)) frame(ssl, 4, 1, 0, NULL, 0); /* SETTINGS ACK */
        if ((type == 1 || type == 0) && (flags & 1) && stream) {
            static const unsigned char status500 = 0x8e;
            frame(ssl, 1, 0x05, stream, &status500, 1); /* END_STREAM | END_HEADERS */
        }
    }
}

static void serve_h2_truncated(SSL *ssl)
{
    unsigned char preface[24];
    if (read_full(ssl, preface, 24) < 0) return;
    unsigned char part[9 + 6] = {0, 0, 18, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100};
    SSL_write(ssl, part, sizeof part);
}

/* An answer to query q (n octets): its question and a TXT record holding
 * text; the whole framed answer into out (600 octets), its length returned,
 * or 0 when q is not a question we can copy. */
static int txt_answer(const unsigned char *q, int n, const char *text, unsigned char *out)
{
    int i = 12;
    while (i < n && q[i] != 0 && i < 12 + 255) i += q[i] + 1;
    i += 5;
    if (i > n || i > 300) return 0;
    int o = 2;
    memcpy(out + o, q, (size_t)i);
    out[o + 2] = 0x84 | (q[2] & 0x01);
    out[o + 3] = 0;
    out[o + 4] = 0, out[o + 5] = 1;
    out[o + 6] = 0, out[o + 7] = 1;
    memset(out + o + 8, 0, 4);
    o += i;
    int tl = (int)strlen(text);
    unsigned char rr[] = {0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 0, 0, (unsigned char)(tl + 1), (unsigned char)tl};
    memcpy(out + o, rr, sizeof rr);
    o += (int)sizeof rr;
    memcpy(out + o, text, (size_t)tl);
    o += tl;
    out[0] = (unsigned char)((o - 2) >> 8);
    out[1] = (unsigned char)(o - 2);
    return o;
}

static void serve_dot_reverse(SSL *ssl, int fd)
{
    enum { MAXQ = 256 };
    static unsigned char qs[MAXQ][600];
    static int lens[MAXQ];
    for (;;) {
        int nq = 0;
        struct timeval wait = {5, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
        for (;;) {
            unsigned char len[2], q[65535];
            if (nq > 0 && SSL_pending(ssl) == 0) {
                /* the burst ends when nothing comes for 100 ms */
                struct pollfd p = {fd, POLLIN, 0};
                if (poll(&p, 1, 100) <= 0) break;
            }
            if (read_full(ssl, len, 2) < 0) {
                if (nq == 0) return;
                break;
            }
            int n = len[0] << 8 | len[1];
            if (n < 12 || read_full(ssl, q, n) < 0) return;
            char text[16];
            snprintf(text, sizeof text, "%d", nq + 1);
            lens[nq] = txt_answer(q, n, text, qs[nq]);
            if (lens[nq] == 0) return;
            if (++nq == MAXQ) break;
        }
        for (int i = nq - 1; i >= 0; i--) SSL_write(ssl, qs[i], lens[i]);
    }
}

static void serve_dot_echo_len(SSL *ssl)
{
    unsigned char len[2], q[65535], out[600];
    for (;;) {
        if (read_full(ssl, len, 2) < 0) return;
        int n = len[0] << 8 | len[1];
        if (n < 12 || read_full(ssl, q, n) < 0) return;
        char text[8];
        snprintf(text, sizeof text, "%d", n);
        int o = txt_answer(q, n, text, out);
        if (o == 0) return;
        SSL_write(ssl, out, o);
    }
}

static void serve(int fd, int k, SSL_CTX *dot, SSL_CTX *h2)
{
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    alarm(5);
    SSL *ssl = SSL_new(k == K_DOT_CLOSE_MID || k == K_DOT_ECHO_LEN || k == K_DOT_REVERSE ? dot : h2);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
        if (k == K_DOT_CLOSE_MID) serve_dot_close_mid(ssl);
        else if (k == K_DOT_ECHO_LEN) serve_dot_echo_len(ssl);
        else if (k == K_DOT_REVERSE) serve_dot_reverse(ssl, fd);
        else if (k == K_H2_500) serve_h2_500(ssl);
        else serve_h2_truncated(ssl);
    }
    /* no close_notify: the socket just goes */
    close(fd);
    SSL_free(ssl);
}

static SSL_CTX *make_ctx(const char *cert, const char *key, int h2)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        ERR_print_errors_fp(stderr);
        exit(1);
    }
    if (h2) SSL_CTX_set_alpn_select_cb(ctx, alpn_h2, NULL);
    return ctx;
}

int main(int argc, char **argv)
{
    int base = 0;
    const char *cert = NULL, *key = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--base") == 0) base = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--cert") == 0) cert = argv[i + 1];
        else if (strcmp(argv[i], "--key") == 0) key = argv[i + 1];
    }
    if (base < 1024 || base + K_LAST > 65535 || !cert || !key) {
        fprintf(stderr, "usage: tlsbad --base BASE --cert CHAIN.pem --key KEY.pem\n");
        return 2;
    }
    signal(SIGCHLD, SIG_IGN); /* children reap themselves */
    signal(SIGPIPE, SIG_IGN);
    SSL_CTX *dot = make_ctx(cert, key, 0), *h2 = make_ctx(cert, key, 1);
    struct pollfd fds[K_LAST - K_FIRST + 1];
    int nfds = 0;
    for (int k = K_FIRST; k <= K_LAST; k++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in sa;
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_port = htons((unsigned short)(base + k));
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 64) < 0) {
            fprintf(stderr, "tlsbad: port %d: %s\n", base + k, strerror(errno));
            return 1;
        }
        fds[nfds].fd = fd;
        fds[nfds].events = POLLIN;
        nfds++;
    }
    fprintf(stderr, "tlsbad: listening on 127.0.0.1 ports %d-%d\n", base + K_FIRST, base + K_LAST);
    for (;;) {
        if (poll(fds, (nfds_t)nfds, -1) < 0) {
            if (errno == EINTR) continue;
            return 1;
        }
        for (int i = 0; i < nfds; i++) {
            if (!(fds[i].revents & POLLIN)) continue;
            int c = accept(fds[i].fd, NULL, NULL);
            if (c < 0) continue;
            pid_t pid = fork();
            if (pid == 0) {
                for (int j = 0; j < nfds; j++) close(fds[j].fd);
                serve(c, K_FIRST + i, dot, h2);
                _exit(0);
            }
            close(c);
        }
    }
}
