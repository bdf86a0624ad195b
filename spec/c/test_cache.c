/* Unit tests of the answer cache (RFC 2308), on a clock the tests move. */
#include <math.h>
#include <stdlib.h>

#include "cache.h"
#include "ctest.h"
#include "errors.h"
#include "message.h"
#include "name.h"

#define T_A 1
#define T_CNAME 5
#define T_SOA 6
#define T_MX 15
#define T_AAAA 28
#define C_IN 1

static const uint8_t *wire(const char *text)
{
    static uint8_t bufs[4][NM_NAME_MAX];
    static int next;
    uint8_t *out = bufs[next++ % 4];
    size_t n;
    if (nm_name_from_text(text, strlen(text), out, &n)) out[0] = 0;
    return out;
}

/* A response under construction: records go in section order. */
typedef struct msgb {
    nm_writer w;
    int count[4];
} msgb;

static void mb_begin(msgb *b, uint16_t flags, const char *qname, uint16_t qtype)
{
    nm_writer_init(&b->w, NULL, 0, 0);
    memset(b->count, 0, sizeof b->count);
    nm_wr_header(&b->w, 0x4242, (uint16_t)(NM_QR | NM_RD | NM_RA | flags));
    nm_wr_question(&b->w, wire(qname), qtype, C_IN);
}

static void mb_a(msgb *b, int section, const char *owner, uint32_t ttl, uint8_t last)
{
    const uint8_t addr[4] = { 192, 0, 2, last };
    size_t at = nm_wr_rr_begin(&b->w, wire(owner), T_A, C_IN, ttl);
    nm_wr_bytes(&b->w, addr, 4);
    nm_wr_rr_end(&b->w, at);
    b->count[section]++;
}

static void mb_cname(msgb *b, const char *owner, uint32_t ttl, const char *target)
{
    size_t at = nm_wr_rr_begin(&b->w, wire(owner), T_CNAME, C_IN, ttl);
    nm_wr_name(&b->w, wire(target), 1);
    nm_wr_rr_end(&b->w, at);
    b->count[NM_ANSWER]++;
}

static void mb_soa(msgb *b, const char *zone, uint32_t ttl, uint32_t minimum)
{
    char text[300];
    size_t at = nm_wr_rr_begin(&b->w, wire(zone), T_SOA, C_IN, ttl);
    snprintf(text, sizeof text, "ns.%s", zone);
    nm_wr_name(&b->w, wire(text), 1);
    snprintf(text, sizeof text, "hostmaster.%s", zone);
    nm_wr_name(&b->w, wire(text), 1);
    nm_wr_u32(&b->w, 2024010101);
    nm_wr_u32(&b->w, 3600);
    nm_wr_u32(&b->w, 600);
    nm_wr_u32(&b->w, 86400);
    nm_wr_u32(&b->w, minimum);
    nm_wr_rr_end(&b->w, at);
    b->count[NM_AUTHORITY]++;
}

static void mb_opt(msgb *b)
{
    nm_wr_opt(&b->w, 1232, 0, 0, NM_EDNS_DO, NULL, 0);
    b->count[NM_ADDITIONAL]++;
}

static void mb_end(msgb *b)
{
    nm_wr_counts(&b->w, 1, b->count[1], b->count[2], b->count[3]);
}

static int put(nm_cache *c, const msgb *b, const char *qname, uint16_t qtype, double now)
{
    return nm_cache_put(c, wire(qname), qtype, C_IN, b->w.buf, b->w.len, now);
}

/* The TTLs of a cached answer, "a b c" (records in order), or "miss". */
static const char *ttls(nm_cache *c, const char *qname, uint16_t qtype, double now)
{
    static char out[256];
    uint8_t *msg;
    size_t len, n = 0;
    nm_msg m;
    int err = nm_cache_get(c, wire(qname), qtype, C_IN, now, &msg, &len);
    if (err == NM_ENOTFOUND) return "miss";
    if (err) return "error";
    if (nm_msg_parse(&m, msg, len)) {
        strcpy(out, "malformed");
    } else {
        out[0] = 0;
        for (int i = 0; i < m.nrr; i++)
            n += (size_t)snprintf(out + n, sizeof out - n, "%s%u", i ? " " : "", (unsigned)m.rr[i].ttl);
    }
    nm_msg_release(&m);
    free(msg);
    return out;
}

TEST(positive_answer_counts_down_and_expires)
{
    nm_cache *c = nm_cache_new(100, 86400, 3600);
    msgb b;
    uint8_t *msg;
    size_t len;
    mb_begin(&b, 0, "www.example.com", T_A);
    mb_a(&b, NM_ANSWER, "www.example.com", 300, 1);
    mb_a(&b, NM_ANSWER, "www.example.com", 100, 2);
    mb_soa(&b, "example.com", 3600, 60); /* authority of a positive answer */
    mb_end(&b);
    CHECK_INT(put(c, &b, "www.example.com", T_A, 1000.0), NM_OK);
    CHECK_INT(nm_cache_count(c), 1);
    /* the same bytes at first */
    CHECK_INT(nm_cache_get(c, wire("www.example.com"), T_A, C_IN, 1000.0, &msg, &len), NM_OK);
    CHECK_INT(len, b.w.len);
    CHECK_MEM(msg, b.w.buf, len);
    free(msg);
    CHECK_STR(ttls(c, "www.example.com", T_A, 1000.9), "300 100 3600");
    CHECK_STR(ttls(c, "www.example.com", T_A, 1050.7), "250 50 3550");
    CHECK_STR(ttls(c, "www.example.com", T_A, 1099.99), "201 1 3501");
    /* the smallest answer TTL ends the entry */
    CHECK_STR(ttls(c, "www.example.com", T_A, 1100.0), "miss");
    CHECK_INT(nm_cache_count(c), 0);
    CHECK_STR(ttls(c, "www.example.com", T_A, 1000.0), "miss");
    nm_writer_free(&b.w);
    nm_cache_free(c);
}

TEST(peek_gives_the_stored_bytes_in_place_and_expires_as_get_does)
{
    nm_cache *c = nm_cache_new(2, 86400, 3600);
    msgb b;
    const uint8_t *msg;
    size_t len;
    mb_begin(&b, 0, "www.example.com", T_A);
    mb_a(&b, NM_ANSWER, "www.example.com", 300, 1);
    mb_end(&b);
    CHECK_INT(put(c, &b, "www.example.com", T_A, 1000.0), NM_OK);
    /* the TTLs as stored, later too; the key in any case */
    CHECK_INT(nm_cache_peek(c, wire("WWW.example.com"), T_A, C_IN, 1250.0, &msg, &len), NM_OK);
    CHECK_INT(len, b.w.len);
    CHECK_MEM(msg, b.w.buf, len);
    CHECK_INT(nm_cache_peek(c, wire("www.example.com"), T_AAAA, C_IN, 1250.0, &msg, &len), NM_ENOTFOUND);
    CHECK(msg == NULL && len == 0);
    /* a peek makes the entry recent: the other one leaves first */
    nm_writer_free(&b.w);
    mb_begin(&b, 0, "two.example.com", T_A);
    mb_a(&b, NM_ANSWER, "two.example.com", 300, 2);
    mb_end(&b);
    CHECK_INT(put(c, &b, "two.example.com", T_A, 1001.0), NM_OK);
    CHECK_INT(nm_cache_peek(c, wire("www.example.com"), T_A, C_IN, 1002.0, &msg, &len), NM_OK);
    nm_writer_free(&b.w);
    mb_begin(&b, 0, "three.example.com", T_A);
    mb_a(&b, NM_ANSWER, "three.example.com", 300, 3);
    mb_end(&b);
    CHECK_INT(put(c, &b, "three.example.com", T_A, 1003.0), NM_OK);
    CHECK_STR(ttls(c, "two.example.com", T_A, 1003.0), "miss");
    /* expired: dropped, as by get */
    CHECK_INT(nm_cache_peek(c, wire("www.example.com"), T_A, C_IN, 1300.0, &msg, &len), NM_ENOTFOUND);
    CHECK_INT(nm_cache_count(c), 1);
    nm_writer_free(&b.w);
    nm_cache_free(c);
}

TEST(a_clock_that_goes_back_shows_the_ttls_as_stored)
{
    nm_cache *c = nm_cache_new(100, 86400, 3600);
    msgb b;
    mb_begin(&b, 0, "www.example.com", T_A);
    mb_a(&b, NM_ANSWER, "www.example.com", 300, 1);
    mb_end(&b);
    CHECK_INT(put(c, &b, "www.example.com", T_A, 1000.0), NM_OK);
    CHECK_STR(ttls(c, "www.example.com", T_A, 900.0), "300");
    CHECK_STR(ttls(c, "www.example.com", T_A, NAN), "miss");
    CHECK_INT(put(c, &b, "www.example.com", T_A, INFINITY), NM_EVALUE);
    nm_writer_free(&b.w);
    nm_cache_free(c);
}

TEST(max_ttl_caps_the_entry_and_the_ttls_shown)
{
    nm_cache *c = nm_cache_new(100, 3600, 900);
    msgb b;
    mb_begin(&b, 0, "www.example.com", T_A);
    mb_a(&b, NM_ANSWER, "www.example.com", 86400, 1);
    mb_a(&b, NM_ADDITIONAL, "ns.example.com", 172800, 2);
    mb_end(&b);
    CHECK_INT(put(c, &b, "www.example.com", T_A, 0.0), NM_OK);
    CHECK_STR(ttls(c, "www.example.com", T_A, 0.0), "3600 3600");
    CHECK_STR(ttls(c, "www.example.com", T_A, 3599.5), "1 1");
    CHECK_STR(ttls(c, "www.example.com", T_A, 3600.0), "miss");
    nm_writer_free(&b.w);
    nm_cache_free(c);
}

TEST(nxdomain_lives_for_the_soa_minimum_when_smaller)
{
    nm_cache *c = nm_cache_new(100, 86400, 3600);
    msgb b;
    mb_begin(&b, 3, "nope.example.com", T_A);
    mb_soa(&b, "example.com", 900, 60);
    mb_end(&b);
    CHECK_INT(put(c, &b, "nope.example.com", T_A, 10.0), NM_OK);
    /* the SOA shows the negative TTL counting down (RFC 2308 section 5) */
    CHECK_STR(ttls(c, "nope.example.com", T_A, 10.0), "60");
    CHECK_STR(ttls(c, "nope.example.com", T_A, 40.0), "30");
    CHECK_STR(ttls(c, "nope.example.com", T_A, 70.0), "miss");
    nm_writer_free(&b.w);
    nm_cache_free(c);
}

TEST(nodata_lives_for_the_soa_ttl_when_smaller)
{
    nm_cache *c = nm_cache_new(100, 86400, 3600);
    msgb b;
    mb_begin(&b, 0, "www.example.com", T_AAAA);
    mb_soa(&b, "example.com", 30, 300);
    mb_end(&b);
    CHECK_INT(put(c, &b, "www.example.com", T_AAAA, 0.0), NM_OK);
    CHECK_STR(ttls(c, "www.example.com", T_AAAA, 0.0), "30");
    CHECK_STR(ttls(c, "www.example.com", T_AAAA, 29.0), "1");
    CHECK_STR(ttls(c, "www.example.com", T_A, 0.0), "miss"); /* another type */
    CHECK_STR(ttls(c, "www.example.com", T_AAAA, 30.0), "miss");
    nm_writer_free(&b.w);
    nm_cache_free(c);
}

TEST(max_negative_ttl_caps_negative_entries)
{
    nm_cache *c = nm_cache_new(100, 86400, 10);
    msgb b;
    mb_begin(&b, 3, "nope.example.com", T_A);
    mb_soa(&b, "example.com", 3600, 3600);
    mb_end(&b);
    CHECK_INT(put(c, &b, "nope.example.com", T_A, 0.0), NM_OK);
    CHECK_STR(ttls(c, "nope.example.com", T_A, 0.0), "10");
    CHECK_STR(ttls(c, "nope.example.com", T_A, 10.0), "miss");
    nm_writer_free(&b.w);
    nm_cache_free(c);
}

TEST(a_cname_chain_without_data_is_negative)
{
    nm_cache *c = nm_cache_new(100, 86400, 3600);
    msgb b;
    mb_begin(&b, 0, "alias.example.com", T_A);
    mb_cname(&b, "alias.example.com", 300, "target.example.net");
    mb_soa(&b, "example.net", 120, 45);
    mb_end(&b);
    CHECK_INT(put(c, &b, "alias.example.com", T_A, 0.0), NM_OK);
    CHECK_STR(ttls(c, "alias.example.com", T_A, 0.0), "45 45");
    CHECK_STR(ttls(c, "alias.example.com", T_A, 45.0), "miss");
    nm_writer_free(&b.w);
    /* without an SOA the CNAME alone is kept, for its own TTL */
    mb_begin(&b, 0, "alias.example.com", T_A);
    mb_cname(&b, "alias.example.com", 300, "target.example.net");
    mb_end(&b);
    CHECK_INT(put(c, &b, "alias.example.com", T_A, 0.0), NM_OK);
    CHECK_STR(ttls(c, "alias.example.com", T_A, 299.0), "1");
    nm_writer_free(&b.w);
    /* a chain that ends in data is positive: the smallest TTL */
    mb_begin(&b, 0, "alias.example.com", T_A);
    mb_cname(&b, "alias.example.com", 300, "target.example.net");
    mb_a(&b, NM_ANSWER, "target.example.net", 20, 9);
    mb_end(&b);
    CHECK_INT(put(c, &b, "alias.example.com", T_A, 0.0), NM_OK);
    CHECK_STR(ttls(c, "alias.example.com", T_A, 5.0), "295 15");
    CHECK_STR(ttls(c, "alias.example.com", T_A, 20.0), "miss");
    nm_writer_free(&b.w);
    nm_cache_free(c);
}

TEST(what_is_not_cached)
{
    nm_cache *c = nm_cache_new(100, 86400, 3600);
    msgb b;
    /* SERVFAIL and REFUSED, even with an SOA */
    mb_begin(&b, 2, "www.example.com", T_A);
    mb_soa(&b, "example.com", 300, 300);
    mb_end(&b);
    CHECK_INT(put(c, &b, "www.example.com", T_A, 0.0), NM_CACHE_RCODE);
    nm_writer_free(&b.w);
    mb_begin(&b, 5, "www.example.com", T_A);
    mb_end(&b);
    CHECK_INT(put(c, &b, "www.example.com", T_A, 0.0), NM_CACHE_RCODE);
    nm_writer_free(&b.w);
    /* truncated */
    mb_begin(&b, NM_TC, "www.example.com", T_A);
    mb_a(&b, NM_ANSWER, "www.example.com", 300, 1);
    mb_end(&b);
    CHECK_INT(put(c, &b, "www.example.com", T_A, 0.0), NM_CACHE_TRUNCATED);
    nm_writer_free(&b.w);
    /* negative answers without an SOA */
    mb_begin(&b, 3, "nope.example.com", T_A);
    mb_end(&b);
    CHECK_INT(put(c, &b, "nope.example.com", T_A, 0.0), NM_CACHE_NO_SOA);
    nm_writer_free(&b.w);
    mb_begin(&b, 0, "www.example.com", T_AAAA);
    mb_a(&b, NM_ADDITIONAL, "www.example.com", 300, 1);
    mb_end(&b);
    CHECK_INT(put(c, &b, "www.example.com", T_AAAA, 0.0), NM_CACHE_NO_SOA);
    nm_writer_free(&b.w);
    /* TTL 0, and a TTL with the top bit set (RFC 2181: zero) */
    mb_begin(&b, 0, "www.example.com", T_A);
    mb_a(&b, NM_ANSWER, "www.example.com", 300, 1);
    mb_a(&b, NM_ANSWER, "www.example.com", 0, 2);
    mb_end(&b);
    CHECK_INT(put(c, &b, "www.example.com", T_A, 0.0), NM_CACHE_TTL_ZERO);
    nm_writer_free(&b.w);
    mb_begin(&b, 0, "www.example.com", T_A);
    mb_a(&b, NM_ANSWER, "www.example.com", 0x80000000u, 1);
    mb_end(&b);
    CHECK_INT(put(c, &b, "www.example.com", T_A, 0.0), NM_CACHE_TTL_ZERO);
    nm_writer_free(&b.w);
    mb_begin(&b, 3, "nope.example.com", T_A);
    mb_soa(&b, "example.com", 300, 0);
    mb_end(&b);
    CHECK_INT(put(c, &b, "nope.example.com", T_A, 0.0), NM_CACHE_TTL_ZERO);
    nm_writer_free(&b.w);
    /* a query is not an answer */
    nm_writer_init(&b.w, NULL, 0, 0);
    nm_build_query(&b.w, 1, wire("www.example.com"), T_A, C_IN, 1, 0, 0);
    CHECK_INT(put(c, &b, "www.example.com", T_A, 0.0), NM_CACHE_NOT_RESPONSE);
    nm_writer_free(&b.w);
    /* an answer to another question */
    mb_begin(&b, 0, "www.example.com", T_A);
    mb_a(&b, NM_ANSWER, "www.example.com", 300, 1);
    mb_end(&b);
    CHECK_INT(put(c, &b, "ftp.example.com", T_A, 0.0), NM_CACHE_QUESTION);
    CHECK_INT(put(c, &b, "www.example.com", T_AAAA, 0.0), NM_CACHE_QUESTION);
    CHECK_INT(nm_cache_count(c), 0);
    CHECK_STR(nm_cache_reason(NM_CACHE_NO_SOA), "negative answer without an SOA");
    CHECK_STR(nm_cache_reason(NM_ESHORT), "truncated");
    nm_writer_free(&b.w);
    nm_cache_free(c);
}

TEST(a_malformed_message_is_refused)
{
    nm_cache *c = nm_cache_new(100, 86400, 3600);
    msgb b;
    mb_begin(&b, 0, "www.example.com", T_A);
    mb_a(&b, NM_ANSWER, "www.example.com", 300, 1);
    mb_end(&b);
    for (size_t n = 0; n < b.w.len; n++) {
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, b.w.buf, n);
        CHECK(nm_cache_put(c, wire("www.example.com"), T_A, C_IN, cut, n, 0.0) < 0);
        free(cut);
    }
    CHECK_INT(nm_cache_count(c), 0);
    /* and a bad qname from the caller */
    {
        const uint8_t bad[] = { 64, 'x', 0 };
        CHECK_INT(nm_cache_put(c, bad, T_A, C_IN, b.w.buf, b.w.len, 0.0), NM_ENAME);
    }
    nm_writer_free(&b.w);
    nm_cache_free(c);
}

TEST(a_name_that_reads_a_ttl_field_is_not_cached)
{
    /* The second owner points into the first record's TTL, whose bytes
     * 01 'x' 00 00 read as the name "x.": once the TTL counted down, the
     * owner would read differently (found by fuzz/fuzz_cache.c). */
    nm_cache *c = nm_cache_new(100, 86400, 3600);
    const uint8_t addr[4] = { 192, 0, 2, 1 };
    msgb b;
    size_t at, ttl_at;
    mb_begin(&b, 0, "www.example.com", T_A);
    at = nm_wr_rr_begin(&b.w, wire("www.example.com"), T_A, C_IN, 0x01780000u);
    nm_wr_bytes(&b.w, addr, 4);
    nm_wr_rr_end(&b.w, at);
    ttl_at = at - 4;
    nm_wr_u16(&b.w, (uint16_t)(0xC000 | ttl_at));
    nm_wr_u16(&b.w, T_A);
    nm_wr_u16(&b.w, C_IN);
    nm_wr_u32(&b.w, 300);
    nm_wr_u16(&b.w, 4);
    nm_wr_bytes(&b.w, addr, 4);
    nm_wr_counts(&b.w, 1, 2, 0, 0);
    CHECK_INT(put(c, &b, "www.example.com", T_A, 0.0), NM_CACHE_TTL_IN_NAME);
    CHECK_INT(nm_cache_count(c), 0);
    nm_writer_free(&b.w);
    nm_cache_free(c);
}

TEST(keys_ignore_case_and_keep_the_message_as_sent)
{
    nm_cache *c = nm_cache_new(100, 86400, 3600);
    msgb b;
    uint8_t *msg;
    size_t len;
    mb_begin(&b, 0, "WwW.ExAmPlE.CoM", T_A);
    mb_a(&b, NM_ANSWER, "WwW.ExAmPlE.CoM", 300, 1);
    mb_end(&b);
    CHECK_INT(put(c, &b, "www.EXAMPLE.com", T_A, 0.0), NM_OK);
    CHECK_INT(nm_cache_get(c, wire("WWW.example.COM"), T_A, C_IN, 0.0, &msg, &len), NM_OK);
    CHECK_MEM(msg, b.w.buf, len); /* 0x20 case as it came */
    free(msg);
    CHECK_INT(nm_cache_get(c, wire("www.example.com"), T_A, 3, 0.0, &msg, &len), NM_ENOTFOUND);
    CHECK(msg == NULL);
    CHECK_INT(nm_cache_get(c, wire("www.example.com"), T_MX, C_IN, 0.0, &msg, &len), NM_ENOTFOUND);
    nm_writer_free(&b.w);
    nm_cache_free(c);
}

TEST(a_new_answer_replaces_the_old)
{
    nm_cache *c = nm_cache_new(100, 86400, 3600);
    msgb b;
    mb_begin(&b, 0, "www.example.com", T_A);
    mb_a(&b, NM_ANSWER, "www.example.com", 300, 1);
    mb_end(&b);
    CHECK_INT(put(c, &b, "www.example.com", T_A, 0.0), NM_OK);
    nm_writer_free(&b.w);
    mb_begin(&b, 0, "www.example.com", T_A);
    mb_a(&b, NM_ANSWER, "www.example.com", 50, 2);
    mb_a(&b, NM_ANSWER, "www.example.com", 50, 3);
    mb_end(&b);
    CHECK_INT(put(c, &b, "www.example.com", T_A, 10.0), NM_OK);
    CHECK_INT(nm_cache_count(c), 1);
    CHECK_STR(ttls(c, "www.example.com", T_A, 20.0), "40 40");
    nm_writer_free(&b.w);
    nm_cache_free(c);
}

TEST(least_recently_used_goes_first)
{
    nm_cache *c = nm_cache_new(3, 86400, 3600);
    const char *names[] = { "a.example", "b.example", "c.example", "d.example", "e.example" };
    msgb b[5];
    for (int i = 0; i < 5; i++) {
        mb_begin(&b[i], 0, names[i], T_A);
        mb_a(&b[i], NM_ANSWER, names[i], 300, (uint8_t)i);
        mb_end(&b[i]);
    }
    for (int i = 0; i < 3; i++) CHECK_INT(put(c, &b[i], names[i], T_A, 0.0), NM_OK);
    CHECK_STR(ttls(c, "a.example", T_A, 1.0), "299"); /* a is now the most recent */
    CHECK_INT(put(c, &b[3], "d.example", T_A, 2.0), NM_OK);
    CHECK_INT(nm_cache_count(c), 3);
    CHECK_STR(ttls(c, "b.example", T_A, 3.0), "miss");
    CHECK_STR(ttls(c, "a.example", T_A, 3.0), "297");
    CHECK_INT(put(c, &b[4], "e.example", T_A, 4.0), NM_OK);
    CHECK_STR(ttls(c, "c.example", T_A, 5.0), "miss");
    CHECK_STR(ttls(c, "d.example", T_A, 5.0), "297");
    CHECK_STR(ttls(c, "e.example", T_A, 5.0), "299");
    CHECK_INT(nm_cache_count(c), 3);
    for (int i = 0; i < 5; i++) nm_writer_free(&b[i].w);
    nm_cache_free(c);
}

TEST(many_entries_grow_the_table_and_stay_bounded)
{
    nm_cache *c = nm_cache_new(1000, 86400, 3600);
    char name[32];
    int misses = 0;
    for (int i = 0; i < 5000; i++) {
        msgb b;
        snprintf(name, sizeof name, "host%d.example", i);
        mb_begin(&b, 0, name, T_A);
        mb_a(&b, NM_ANSWER, name, 300, (uint8_t)i);
        mb_end(&b);
        CHECK_INT(put(c, &b, name, T_A, 0.0), NM_OK);
        nm_writer_free(&b.w);
    }
    CHECK_INT(nm_cache_count(c), 1000);
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "HOST%d.example", i);
        if (strcmp(ttls(c, name, T_A, 1.0), "miss") == 0) misses++;
    }
    CHECK_INT(misses, 4000);
    nm_cache_free(c);
}

TEST(the_opt_record_keeps_its_flags)
{
    nm_cache *c = nm_cache_new(100, 86400, 3600);
    msgb b;
    uint8_t *msg;
    size_t len;
    nm_msg m;
    mb_begin(&b, 0, "www.example.com", T_A);
    mb_a(&b, NM_ANSWER, "www.example.com", 300, 1);
    mb_opt(&b);
    mb_end(&b);
    CHECK_INT(put(c, &b, "www.example.com", T_A, 0.0), NM_OK);
    CHECK_INT(nm_cache_get(c, wire("www.example.com"), T_A, C_IN, 250.0, &msg, &len), NM_OK);
    CHECK_INT(nm_msg_parse(&m, msg, len), NM_OK);
    CHECK(m.edns.present);
    CHECK_INT(m.edns.flags, NM_EDNS_DO);
    CHECK_INT(m.edns.udp_size, 1232);
    CHECK_INT(m.rr[0].ttl, 50);
    CHECK_MEM(msg + len - 11, b.w.buf + b.w.len - 11, 11); /* the OPT, byte for byte */
    nm_msg_release(&m);
    free(msg);
    nm_writer_free(&b.w);
    nm_cache_free(c);
}

TEST(expire_and_clear_drop_entries)
{
    nm_cache *c = nm_cache_new(100, 86400, 3600);
    msgb b1, b2;
    mb_begin(&b1, 0, "short.example", T_A);
    mb_a(&b1, NM_ANSWER, "short.example", 10, 1);
    mb_end(&b1);
    mb_begin(&b2, 0, "long.example", T_A);
    mb_a(&b2, NM_ANSWER, "long.example", 1000, 1);
    mb_end(&b2);
    put(c, &b1, "short.example", T_A, 0.0);
    put(c, &b2, "long.example", T_A, 0.0);
    CHECK_INT(nm_cache_expire(c, 9.0), 0);
    CHECK_INT(nm_cache_expire(c, 10.0), 1);
    CHECK_INT(nm_cache_count(c), 1);
    CHECK_STR(ttls(c, "long.example", T_A, 10.0), "990");
    nm_cache_clear(c);
    CHECK_INT(nm_cache_count(c), 0);
    CHECK_STR(ttls(c, "long.example", T_A, 10.0), "miss");
    CHECK_INT(put(c, &b2, "long.example", T_A, 0.0), NM_OK); /* usable after clear */
    CHECK_INT(nm_cache_count(c), 1);
    nm_writer_free(&b1.w);
    nm_writer_free(&b2.w);
    nm_cache_free(c);
}

TEST(max_entries_zero_turns_the_cache_off)
{
    nm_cache *c = nm_cache_new(0, 86400, 3600);
    msgb b;
    mb_begin(&b, 0, "www.example.com", T_A);
    mb_a(&b, NM_ANSWER, "www.example.com", 300, 1);
    mb_end(&b);
    CHECK_INT(put(c, &b, "www.example.com", T_A, 0.0), NM_CACHE_OFF);
    CHECK_INT(nm_cache_count(c), 0);
    nm_writer_free(&b.w);
    nm_cache_free(c);
    nm_cache_free(NULL);
}

int main(void)
{
    return ctest_main();
}
