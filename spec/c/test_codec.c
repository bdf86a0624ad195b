/* Unit tests of the codec's reader, writer, names and message parser. */
#include <stdlib.h>

#include "ctest.h"
#include "names_core.h"

static size_t wire_of(const char *text, uint8_t *out)
{
    size_t n = 0;
    int err = nm_name_from_text(text, strlen(text), out, &n);
    return err ? 0 : n;
}

TEST(reader_refuses_to_read_past_the_end)
{
    const uint8_t buf[3] = { 1, 2, 3 };
    nm_reader r;
    uint16_t v16;
    uint32_t v32;
    uint8_t v8;
    const uint8_t *p;
    nm_reader_init(&r, buf, sizeof buf);
    CHECK_INT(nm_rd_u32(&r, &v32), NM_ESHORT);
    CHECK_INT(r.pos, 0);
    CHECK_INT(nm_rd_u16(&r, &v16), NM_OK);
    CHECK_INT(v16, 0x0102);
    CHECK_INT(nm_rd_u16(&r, &v16), NM_ESHORT);
    CHECK_INT(nm_rd_bytes(&r, 2, &p), NM_ESHORT);
    CHECK_INT(nm_rd_u8(&r, &v8), NM_OK);
    CHECK_INT(v8, 3);
    CHECK_INT(nm_rd_u8(&r, &v8), NM_ESHORT);
    CHECK_INT(nm_rd_skip(&r, 1), NM_ESHORT);
    CHECK_INT(nm_rd_left(&r), 0);
}

TEST(writer_error_is_sticky_on_a_fixed_buffer)
{
    uint8_t buf[5];
    nm_writer w;
    nm_writer_init(&w, buf, sizeof buf, 0);
    nm_wr_u32(&w, 0xDEADBEEF);
    nm_wr_u16(&w, 1); /* does not fit */
    CHECK_INT(w.err, NM_ETOOBIG);
    nm_wr_u8(&w, 7); /* would fit, but the error sticks */
    CHECK_INT(w.len, 4);
    CHECK_INT(buf[0], 0xDE);
}

TEST(writer_grows_up_to_its_limit)
{
    nm_writer w;
    uint8_t chunk[1000] = { 0 };
    nm_writer_init(&w, NULL, 0, 3000);
    for (int i = 0; i < 3; i++) nm_wr_bytes(&w, chunk, sizeof chunk);
    CHECK_INT(w.err, NM_OK);
    CHECK_INT(w.len, 3000);
    nm_wr_u8(&w, 1);
    CHECK_INT(w.err, NM_ETOOBIG);
    nm_writer_free(&w);
}

TEST(name_text_round_trips_with_escapes)
{
    uint8_t wire[NM_NAME_MAX];
    char text[NM_NAME_TEXT_MAX];
    size_t n;
    CHECK_INT(nm_name_from_text("a\\.b\\032c.Example.COM.", 22, wire, &n), NM_OK);
    CHECK_INT(n, 1 + 5 + 1 + 7 + 1 + 3 + 1);
    CHECK_INT(wire[0], 5);
    CHECK_MEM(wire + 1, "a.b c", 5);
    nm_name_to_text(wire, text, NM_TEXT_DOT);
    CHECK_STR(text, "a\\.b\\032c.Example.COM.");
    nm_name_to_text(wire, text, 0);
    CHECK_STR(text, "a\\.b\\032c.Example.COM");
}

TEST(root_name_is_empty_or_a_dot)
{
    uint8_t wire[NM_NAME_MAX];
    char text[NM_NAME_TEXT_MAX];
    size_t n;
    CHECK_INT(nm_name_from_text("", 0, wire, &n), NM_OK);
    CHECK_INT(n, 1);
    CHECK_INT(nm_name_from_text(".", 1, wire, &n), NM_OK);
    CHECK_INT(n, 1);
    CHECK_INT(nm_name_to_text(wire, text, 0), 0);
    CHECK_STR(text, "");
    nm_name_to_text(wire, text, NM_TEXT_DOT);
    CHECK_STR(text, ".");
}

TEST(name_text_limits_are_enforced)
{
    uint8_t wire[NM_NAME_MAX];
    char text[400];
    size_t n;
    memset(text, 'a', 64);
    CHECK_INT(nm_name_from_text(text, 64, wire, &n), NM_ELABEL);
    CHECK_INT(nm_name_from_text(text, 63, wire, &n), NM_OK);
    CHECK_INT(n, 65);
    /* 4 labels of 63 = 256 octets with lengths and root: one too many */
    for (int i = 0; i < 4; i++) {
        memset(text + i * 64, 'b', 63);
        text[i * 64 + 63] = '.';
    }
    CHECK_INT(nm_name_from_text(text, 4 * 64 - 1, wire, &n), NM_ENAME);
    /* 3 of 63 and one of 61: exactly 255 */
    CHECK_INT(nm_name_from_text(text, 3 * 64 + 61, wire, &n), NM_OK);
    CHECK_INT(n, 255);
    CHECK_INT(nm_name_from_text("a..b", 4, wire, &n), NM_EEMPTYLABEL);
    CHECK_INT(nm_name_from_text(".a", 2, wire, &n), NM_EEMPTYLABEL);
    CHECK_INT(nm_name_from_text("a\\25", 4, wire, &n), NM_ESYNTAX);
    CHECK_INT(nm_name_from_text("a\\256", 5, wire, &n), NM_ESYNTAX);
    CHECK_INT(nm_name_from_text("a\\", 2, wire, &n), NM_ESYNTAX);
}

TEST(names_compare_without_case)
{
    uint8_t a[NM_NAME_MAX], b[NM_NAME_MAX], c[NM_NAME_MAX];
    wire_of("WWW.Example.com", a);
    wire_of("www.example.COM.", b);
    wire_of("www.example.co", c);
    CHECK(nm_name_equal(a, b));
    CHECK(!nm_name_equal(a, c));
    nm_name_lower(a);
    CHECK_MEM(a, "\3www\7example\3com", 17);
}

TEST(compression_reuses_the_longest_suffix_with_case_kept)
{
    uint8_t n1[NM_NAME_MAX], n2[NM_NAME_MAX], n3[NM_NAME_MAX], out[NM_NAME_MAX];
    nm_writer w;
    nm_reader r;
    size_t len;
    wire_of("www.Example.com", n1);
    wire_of("mail.Example.com", n2);
    wire_of("mail.example.com", n3);
    nm_writer_init(&w, NULL, 0, 0);
    nm_wr_bytes(&w, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
    nm_wr_name(&w, n1, 1);                  /* 17 bytes at 12 */
    CHECK_INT(w.len, 29);
    nm_wr_name(&w, n2, 1);                  /* "mail" + pointer to 16 */
    CHECK_INT(w.len, 29 + 5 + 2);
    CHECK_INT(w.buf[34], 0xC0);
    CHECK_INT(w.buf[35], 16);
    nm_wr_name(&w, n3, 1);                  /* case differs: only "com" is shared */
    CHECK_INT(w.len, 36 + 5 + 8 + 2);
    CHECK_INT(w.buf[49], 0xC0);
    CHECK_INT(w.buf[50], 24);
    nm_wr_name(&w, n2, 0);                  /* uncompressed on request */
    CHECK_INT(w.len, 51 + 18);
    nm_reader_init(&r, w.buf, w.len);
    r.pos = 36;
    CHECK_INT(nm_name_read(&r, out, &len), NM_OK);
    CHECK_INT(r.pos, 51);
    CHECK_MEM(out, n3, 18);
    CHECK_INT(w.err, NM_OK);
    nm_writer_free(&w);
}

TEST(a_name_repeating_its_own_suffix_never_points_into_itself)
{
    /* the bytes past the writer's end are stale: they must not be read */
    uint8_t buf[300], name[NM_NAME_MAX];
    nm_writer w;
    nm_msg m;
    memset(buf, 0, sizeof buf);
    wire_of("nonexistent.example.test.example.test", name);
    nm_writer_init(&w, buf, sizeof buf, 0);
    CHECK_INT(nm_build_query(&w, 1, name, 1, 1, 1, 1232, 0), NM_OK);
    CHECK_INT(w.len, 12 + 39 + 4 + 11);
    CHECK_INT(nm_msg_parse(&m, buf, w.len), NM_OK);
    nm_msg_release(&m);
}

TEST(decompression_rejects_forward_and_self_pointers)
{
    /* a pointer to itself, one forward, one to a later pointer */
    const uint8_t self[] = { 0xC0, 0x00 };
    const uint8_t fwd[] = { 0xC0, 0x02, 0x00 };
    const uint8_t labeltype[] = { 0x40, 0x00 };
    const uint8_t cut[] = { 0x03, 'a', 'b' };
    const uint8_t cutptr[] = { 0xC0 };
    uint8_t out[NM_NAME_MAX];
    nm_reader r;
    nm_reader_init(&r, self, sizeof self);
    CHECK_INT(nm_name_read(&r, out, NULL), NM_EPTRFWD);
    nm_reader_init(&r, fwd, sizeof fwd);
    CHECK_INT(nm_name_read(&r, out, NULL), NM_EPTRFWD);
    nm_reader_init(&r, labeltype, sizeof labeltype);
    CHECK_INT(nm_name_read(&r, out, NULL), NM_ELABELTYPE);
    nm_reader_init(&r, cut, sizeof cut);
    CHECK_INT(nm_name_read(&r, out, NULL), NM_ESHORT);
    nm_reader_init(&r, cutptr, sizeof cutptr);
    CHECK_INT(nm_name_read(&r, out, NULL), NM_ESHORT);
}

TEST(decompression_caps_hops_and_length)
{
    /* a chain of 100 pointers, each to the one before */
    uint8_t buf[1 + 200];
    uint8_t big[600];
    uint8_t out[NM_NAME_MAX];
    nm_reader r;
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < 100; i++) {
        size_t at = 1 + 2 * (size_t)i, to = i ? at - 2 : 0;
        buf[at] = (uint8_t)(0xC0 | (to >> 8));
        buf[at + 1] = (uint8_t)to;
    }
    nm_reader_init(&r, buf, sizeof buf);
    r.pos = 1 + 2 * 99;
    CHECK_INT(nm_name_read(&r, out, NULL), NM_EPTRLOOP);
    r.pos = 1 + 2 * 10;
    CHECK_INT(nm_name_read(&r, out, &n), NM_OK);
    CHECK_INT(n, 1);
    /* labels that add up past 255 through pointers */
    for (int i = 0; i < 5; i++) {
        big[i * 64] = 63;
        memset(big + i * 64 + 1, 'x', 63);
    }
    big[320] = 0;
    nm_reader_init(&r, big, 321);
    CHECK_INT(nm_name_read(&r, out, NULL), NM_ENAME);
}

/* A response: example.com PTR? with one answer using compression. */
static const uint8_t ptr_answer[] = {
    0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
    1, '1', 1, '0', 1, '0', 3, '1', '2', '7', 7, 'i', 'n', '-', 'a', 'd', 'd', 'r', 4, 'a', 'r', 'p', 'a', 0,
    0, 12, 0, 1,
    0xC0, 12, 0, 12, 0, 1, 0, 1, 0x51, 0x80, 0, 11,
    9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't', 0,
};

TEST(parses_a_ptr_answer_in_place)
{
    nm_msg m;
    nm_text t;
    CHECK_INT(nm_msg_parse(&m, ptr_answer, sizeof ptr_answer), NM_OK);
    CHECK_INT(m.id, 0x1234);
    CHECK_INT(m.nq, 1);
    CHECK_INT(m.nrr, 1);
    CHECK_INT(m.count[NM_ANSWER], 1);
    CHECK_INT(m.rr[0].type, 12);
    CHECK_INT(m.rr[0].ttl, 86400);
    nm_text_init(&t);
    CHECK_INT(nm_text_rr(&t, &m, &m.rr[0]), NM_OK);
    CHECK_STR(t.buf, "1.0.0.127.in-addr.arpa.\t86400\tIN\tPTR\tlocalhost.");
    nm_text_free(&t);
    nm_msg_release(&m);
}

TEST(every_truncation_of_a_message_fails_cleanly)
{
    nm_msg m;
    for (size_t n = 0; n < sizeof ptr_answer; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, ptr_answer, n);
        CHECK(nm_msg_parse(&m, copy, n) < 0);
        nm_msg_release(&m);
        free(copy);
    }
}

TEST(rdata_longer_than_its_type_is_rejected)
{
    uint8_t msg[sizeof ptr_answer + 1];
    nm_msg m;
    char why[128];
    memcpy(msg, ptr_answer, sizeof ptr_answer);
    msg[sizeof ptr_answer] = 0;
    msg[51] = 12; /* rdlength one more than the name */
    CHECK_INT(nm_msg_parse(&m, msg, sizeof msg), NM_ERDLONG);
    nm_msg_describe_error(&m, NM_ERDLONG, why, sizeof why);
    CHECK_STR(why, "rdata longer than its type needs in record 1 of the answer section at offset 40");
    nm_msg_release(&m);
}

TEST(huge_header_counts_do_not_allocate_or_read_past_the_end)
{
    uint8_t msg[sizeof ptr_answer];
    nm_msg m;
    memcpy(msg, ptr_answer, sizeof msg);
    msg[6] = msg[7] = 0xFF; /* 65535 answers claimed */
    msg[10] = msg[11] = 0xFF;
    CHECK_INT(nm_msg_parse(&m, msg, sizeof msg), NM_ESHORT);
    CHECK_INT(m.err_section, NM_ANSWER);
    CHECK_INT(m.err_index, 1);
    nm_msg_release(&m);
}

TEST(builds_a_query_with_edns)
{
    uint8_t name[NM_NAME_MAX];
    nm_writer w;
    nm_msg m;
    wire_of("example.com", name);
    nm_writer_init(&w, NULL, 0, 0);
    CHECK_INT(nm_build_query(&w, 77, name, 28, 1, 1, 1232, 1), NM_OK);
    CHECK_INT(w.len, 12 + 13 + 4 + 11);
    CHECK_INT(nm_msg_parse(&m, w.buf, w.len), NM_OK);
    CHECK_INT(m.id, 77);
    CHECK(m.flags & NM_RD);
    CHECK(m.edns.present);
    CHECK_INT(m.edns.udp_size, 1232);
    CHECK_INT(m.edns.flags, NM_EDNS_DO);
    CHECK_INT(m.nrr, 0);
    CHECK_INT(m.q[0].type, 28);
    nm_msg_release(&m);
    nm_writer_free(&w);
}

TEST(a_second_opt_is_rejected)
{
    uint8_t name[NM_NAME_MAX];
    nm_writer w;
    nm_msg m;
    wire_of("example.com", name);
    nm_writer_init(&w, NULL, 0, 0);
    nm_wr_header(&w, 1, 0);
    nm_wr_question(&w, name, 1, 1);
    nm_wr_opt(&w, 1232, 0, 0, 0, NULL, 0);
    nm_wr_opt(&w, 1232, 0, 0, 0, NULL, 0);
    nm_wr_counts(&w, 1, 0, 0, 2);
    CHECK_INT(nm_msg_parse(&m, w.buf, w.len), NM_EOPT);
    CHECK_INT(m.err_index, 1);
    nm_msg_release(&m);
    nm_writer_free(&w);
}

TEST(type_table_is_sorted_and_names_round_trip)
{
    char buf[16];
    for (int i = 1; i < nm_rrtype_count(); i++)
        CHECK(nm_rrtype_at(i - 1)->type < nm_rrtype_at(i)->type);
    CHECK_STR(nm_type_name(65280, buf), "TYPE65280");
    CHECK_INT(nm_type_from_name("TYPE65280"), 65280);
    CHECK_INT(nm_type_from_name("aaaa"), 28);
    CHECK_INT(nm_type_from_name("nonsense"), -1);
    CHECK_STR(nm_class_name(3, buf), "CH");
    CHECK_STR(nm_class_name(7, buf), "CLASS7");
    CHECK(nm_rrtype_for(1, 3) == NULL); /* A in CH is not an IPv4 address */
}

TEST(nsec_bitmaps_round_trip)
{
    const uint16_t types[] = { 1, 15, 46, 47, 1234 };
    uint16_t got[8];
    size_t state = 0, n = 0;
    nm_writer w;
    nm_writer_init(&w, NULL, 0, 0);
    nm_wr_bitmap(&w, types, 5);
    while (n < 8 && nm_bitmap_next(w.buf, w.len, &state, &got[n])) n++;
    CHECK_INT(n, 5);
    for (size_t i = 0; i < n && i < 5; i++) CHECK_INT(got[i], types[i]);
    nm_writer_free(&w);
}

int main(void)
{
    return ctest_main();
}
