/* The codec benchmark: decoding two answers, side by side with c-ares 1.18
 * and ldns 1.8, in one run.
 *
 *   codec_bench [OUTDIR [ROUNDS [RUNS]]]
 *
 * The messages, built here with the core's writer (names compressed):
 *   ptr    a PTR answer of about 90 bytes (question, one PTR, an OPT)
 *   large  an answer of about 1.2 KB: 20 A/AAAA/TXT records for
 *          www.example.test, two NS in the authority section and their
 *          addresses in the additional section, an OPT
 * They are written to OUTDIR/ptr-answer.bin and OUTDIR/large-answer.bin
 * (the Lua benchmark reads them).
 *
 * What each decoder does, per message:
 *   core      nm_msg_parse (which checks every name and every rdata) and
 *             then a visit of every field of every record and question,
 *             names decompressed into a buffer, as a user of the C API
 *             would read them
 *   c-ares    ares_parse_ptr_reply (a hostent, freed); for the large one
 *             ares_parse_a_reply and ares_parse_aaaa_reply (address and TTL
 *             arrays, no hostent) and ares_parse_txt_reply (a list, freed),
 *             each on its own and all three in turn (each walks the whole
 *             message, so "a+aaaa+txt" is what extracting everything costs)
 *   ldns      ldns_wire2pkt (a whole packet of rr objects, freed)
 *
 * For each: RUNS runs (default 5) of ROUNDS decodes (default 200000 for
 * ptr, a fifth of that for large), interleaved; the median run, in
 * nanoseconds per message. Lines "name message ns" go to stdout for
 * bench/run-codec.sh to put into a table. */
#include <arpa/inet.h>
#include <ares.h>
#include <ldns/ldns.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "names_core.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void wire_name(const char *text, uint8_t *out)
{
    size_t n;
    if (nm_name_from_text(text, strlen(text), out, &n) != NM_OK) abort();
}

static void add_rr(nm_writer *w, const char *owner, uint16_t type, uint32_t ttl, const void *rdata,
                   size_t n, const char *name_in_rdata)
{
    uint8_t o[NM_NAME_MAX], r[NM_NAME_MAX];
    size_t at;
    wire_name(owner, o);
    at = nm_wr_rr_begin(w, o, type, 1, ttl);
    nm_wr_bytes(w, rdata, n);
    if (name_in_rdata) {
        wire_name(name_in_rdata, r);
        nm_wr_name(w, r, 1);
    }
    nm_wr_rr_end(w, at);
}

static size_t build_ptr(uint8_t *buf, size_t cap)
{
    nm_writer w;
    uint8_t q[NM_NAME_MAX];
    nm_writer_init(&w, buf, cap, 0);
    nm_wr_header(&w, 0x1234, NM_QR | NM_AA | NM_RD | NM_RA);
    wire_name("10.2.0.192.in-addr.arpa", q);
    nm_wr_question(&w, q, 12, 1);
    add_rr(&w, "10.2.0.192.in-addr.arpa", 12, 86400, "", 0, "host-10.web.example.test");
    nm_wr_opt(&w, 1232, 0, 0, 0, NULL, 0);
    nm_wr_counts(&w, 1, 1, 0, 1);
    if (w.err) abort();
    return w.len;
}

static size_t build_large(uint8_t *buf, size_t cap)
{
    nm_writer w;
    uint8_t q[NM_NAME_MAX], a[4] = { 192, 0, 2, 0 }, aaaa[16] = { 0x20, 0x01, 0x0d, 0xb8 };
    char txt[128];
    int an = 0;
    nm_writer_init(&w, buf, cap, 0);
    nm_wr_header(&w, 0xBEEF, NM_QR | NM_AA | NM_RD);
    wire_name("www.example.test", q);
    nm_wr_question(&w, q, 255, 1);
    for (int i = 0; i < 8; i++, an++) {
        a[3] = (uint8_t)(10 + i);
        add_rr(&w, "www.example.test", 1, 3600, a, 4, NULL);
    }
    for (int i = 0; i < 6; i++, an++) {
        aaaa[15] = (uint8_t)(0x10 + i);
        add_rr(&w, "www.example.test", 28, 3600, aaaa, 16, NULL);
    }
    for (int i = 0; i < 6; i++, an++) {
        int n = snprintf(txt + 1, sizeof txt - 1,
                         "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 ip6:2001:db8::/32 "
                         "a:mail.example.test include:_spf%d.example.test -all", i);
        txt[0] = (char)n;
        add_rr(&w, "www.example.test", 16, 300, txt, (size_t)n + 1, NULL);
    }
    add_rr(&w, "example.test", 2, 86400, "", 0, "ns1.example.test");
    add_rr(&w, "example.test", 2, 86400, "", 0, "ns2.example.test");
    a[3] = 1;
    add_rr(&w, "ns1.example.test", 1, 86400, a, 4, NULL);
    aaaa[15] = 1;
    add_rr(&w, "ns1.example.test", 28, 86400, aaaa, 16, NULL);
    a[3] = 2;
    add_rr(&w, "ns2.example.test", 1, 86400, a, 4, NULL);
    aaaa[15] = 2;
    add_rr(&w, "ns2.example.test", 28, 86400, aaaa, 16, NULL);
    nm_wr_opt(&w, 1232, 0, 0, 0, NULL, 0);
    nm_wr_counts(&w, 1, an, 2, 5);
    if (w.err) abort();
    return w.len;
}

static volatile uint64_t sink;

/* nm_msg_parse, then every field of every record, names decompressed. */
static int core_decode(const uint8_t *msg, size_t len)
{
    nm_msg m;
    nm_reader r;
    uint8_t name[NM_NAME_MAX];
    static nm_value v;
    uint64_t acc = 0;
    if (nm_msg_parse(&m, msg, len) != NM_OK) abort();
    acc += m.id + m.flags;
    for (int i = 0; i < m.nq; i++) {
        size_t n;
        nm_reader_init(&r, m.wire, m.len);
        r.pos = m.q[i].name;
        nm_name_read(&r, name, &n);
        acc += n + m.q[i].type + m.q[i].cls;
    }
    for (int i = 0; i < m.nrr; i++) {
        const nm_rr *rr = &m.rr[i];
        nm_rdata_iter it;
        const nm_field *f;
        size_t n;
        nm_reader_init(&r, m.wire, m.len);
        r.pos = rr->owner;
        nm_name_read(&r, name, &n);
        acc += n + rr->type + rr->cls + rr->ttl;
        nm_rdata_begin(&it, m.wire, rr->rdata, rr->rdlen, nm_rr_type(rr));
        while (nm_rdata_next(&it, &f, &v) == 1) {
            acc += v.num + v.len + v.namelen;
            if (f->kind == NM_FK_STRINGS) {
                const uint8_t *p = v.data, *end = v.data + v.len, *s;
                size_t sl;
                while (nm_strings_next(&p, end, &s, &sl) == 1) acc += sl + s[0];
            } else if (v.len) {
                acc += v.data[0];
            }
        }
    }
    if (m.edns.present) acc += m.edns.udp_size;
    nm_msg_release(&m);
    sink += acc;
    return 0;
}

static int cares_ptr(const uint8_t *msg, size_t len)
{
    struct hostent *host = NULL;
    struct in_addr addr;
    inet_pton(AF_INET, "192.0.2.10", &addr);
    if (ares_parse_ptr_reply(msg, (int)len, &addr, sizeof addr, AF_INET, &host) != ARES_SUCCESS) abort();
    sink += (uint64_t)strlen(host->h_name);
    ares_free_hostent(host);
    return 0;
}

static int cares_a(const uint8_t *msg, size_t len)
{
    struct ares_addrttl ttls[32];
    int n = 32;
    if (ares_parse_a_reply(msg, (int)len, NULL, ttls, &n) != ARES_SUCCESS) abort();
    sink += (uint64_t)n + (uint64_t)ttls[0].ttl;
    return 0;
}

static int cares_aaaa(const uint8_t *msg, size_t len)
{
    struct ares_addr6ttl ttls[32];
    int n = 32;
    if (ares_parse_aaaa_reply(msg, (int)len, NULL, ttls, &n) != ARES_SUCCESS) abort();
    sink += (uint64_t)n + (uint64_t)ttls[0].ttl;
    return 0;
}

static int cares_txt(const uint8_t *msg, size_t len)
{
    struct ares_txt_reply *txt = NULL;
    if (ares_parse_txt_reply(msg, (int)len, &txt) != ARES_SUCCESS) abort();
    for (struct ares_txt_reply *t = txt; t; t = t->next) sink += t->length;
    ares_free_data(txt);
    return 0;
}

static int cares_all(const uint8_t *msg, size_t len)
{
    cares_a(msg, len);
    cares_aaaa(msg, len);
    return cares_txt(msg, len);
}

static int ldns_decode(const uint8_t *msg, size_t len)
{
    ldns_pkt *pkt = NULL;
    if (ldns_wire2pkt(&pkt, msg, len) != LDNS_STATUS_OK) abort();
    sink += ldns_pkt_ancount(pkt);
    ldns_pkt_free(pkt);
    return 0;
}

typedef int (*decoder)(const uint8_t *, size_t);

struct bench {
    const char *name;
    const char *message;
    decoder fn;
    const uint8_t *msg;
    size_t len;
    long rounds;
    double runs[16];
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void write_file(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[4096];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!(f = fopen(path, "wb")) || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* codec_bench --only DECODER MESSAGE N: N decodes by one decoder and
 * nothing else, for instruction counts under callgrind. */
static int only(struct bench *b, size_t nb, const char *name, const char *message, long n)
{
    for (size_t i = 0; i < nb; i++) {
        if (strcmp(b[i].name, name) == 0 && strcmp(b[i].message, message) == 0) {
            for (long k = 0; k < n; k++) b[i].fn(b[i].msg, b[i].len);
            return 0;
        }
    }
    fprintf(stderr, "no decoder '%s' for '%s'\n", name, message);
    return 1;
}

int main(int argc, char **argv)
{
    static uint8_t ptr[512], large[4096];
    const char *outdir = argc > 1 && argv[1][0] != '-' ? argv[1] : ".";
    long rounds = argc > 2 ? atol(argv[2]) : 200000;
    int runs = argc > 3 ? atoi(argv[3]) : 5;
    size_t ptr_len = build_ptr(ptr, sizeof ptr), large_len = build_large(large, sizeof large);
    struct bench b[] = {
        { "core", "ptr", core_decode, ptr, ptr_len, rounds, { 0 } },
        { "c-ares ptr_reply", "ptr", cares_ptr, ptr, ptr_len, rounds, { 0 } },
        { "ldns wire2pkt", "ptr", ldns_decode, ptr, ptr_len, rounds, { 0 } },
        { "core", "large", core_decode, large, large_len, rounds / 5, { 0 } },
        { "c-ares a_reply", "large", cares_a, large, large_len, rounds / 5, { 0 } },
        { "c-ares aaaa_reply", "large", cares_aaaa, large, large_len, rounds / 5, { 0 } },
        { "c-ares txt_reply", "large", cares_txt, large, large_len, rounds / 5, { 0 } },
        { "c-ares a+aaaa+txt", "large", cares_all, large, large_len, rounds / 5, { 0 } },
        { "ldns wire2pkt", "large", ldns_decode, large, large_len, rounds / 5, { 0 } },
    };
    size_t nb = sizeof b / sizeof b[0];

    if (argc == 5 && strcmp(argv[1], "--only") == 0) return only(b, nb, argv[2], argv[3], atol(argv[4]));
    if (runs < 1) runs = 1;
    if (runs > 16) runs = 16;
    write_file(outdir, "ptr-answer.bin", ptr, ptr_len);
    write_file(outdir, "large-answer.bin", large, large_len);
    fprintf(stderr, "messages: ptr %zu bytes, large %zu bytes (written to %s)\n", ptr_len, large_len,
            outdir);
    /* warm up, and check that every decoder takes both messages */
    for (size_t i = 0; i < nb; i++)
        for (int k = 0; k < 1000; k++) b[i].fn(b[i].msg, b[i].len);
    for (int r = 0; r < runs; r++) {
        for (size_t i = 0; i < nb; i++) {
            double t0 = now_ns();
            for (long k = 0; k < b[i].rounds; k++) b[i].fn(b[i].msg, b[i].len);
            b[i].runs[r] = (now_ns() - t0) / (double)b[i].rounds;
        }
    }
    for (size_t i = 0; i < nb; i++) {
        qsort(b[i].runs, (size_t)runs, sizeof b[i].runs[0], cmp_double);
        printf("%s\t%s\t%zu\t%.0f\n", b[i].name, b[i].message, b[i].len, b[i].runs[runs / 2]);
    }
    return 0;
}
