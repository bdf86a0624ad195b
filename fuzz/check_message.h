/* The whole-message check shared by fuzz/fuzz_message.c and the corpus
 * replayer (spec/support/replay_corpus.c), so that what the fuzzer holds
 * the codec to is exactly what the sanitizer runs replay:
 *
 *   1. nm_msg_parse either accepts the bytes or rejects them with an error
 *      that nm_msg_describe_error can put into words;
 *   2. every question name and every record prints (nm_text_rr), and the
 *      Lua-side text of each name round-trips through nm_name_from_text;
 *   3. decode -> re-encode -> decode agrees: every record's fields are
 *      written back with nm_rdata_put into a new message (names compressed
 *      anew), which must parse, and field by field and as text equal the
 *      original.
 *
 * check_message() returns NULL when all of that holds, else a description
 * of what broke (the fuzzer aborts on it, the replayer counts a failure).
 * Header-only: each program includes it once.
 */
#ifndef NAMES_FUZZ_CHECK_MESSAGE_H
#define NAMES_FUZZ_CHECK_MESSAGE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
#include "name.h"
#include "rdata.h"
#include "text.h"
#include "wire.h"

static char check_why[512];

#define CHECK_FAIL(...) \
    do { \
        snprintf(check_why, sizeof check_why, __VA_ARGS__); \
        goto out; \
    } while (0)

/* The decompressed name at off, or an error. */
static int check_read_name(const uint8_t *wire, size_t len, size_t off, uint8_t *out,
                           size_t *n)
{
    nm_reader r;
    nm_reader_init(&r, wire, len);
    r.pos = off;
    return nm_name_read(&r, out, n);
}

/* A name's text, both ways: text -> wire must give back the same octets. */
static int check_name_text(const uint8_t *name, size_t n)
{
    char text[NM_NAME_TEXT_MAX];
    uint8_t back[NM_NAME_MAX];
    size_t tl, bl;
    for (int flags = 0; flags <= NM_TEXT_DOT; flags += NM_TEXT_DOT) {
        tl = nm_name_to_text(name, text, flags);
        if (tl >= sizeof text || text[tl] != 0) return 0;
        if (nm_name_from_text(text, tl, back, &bl) != NM_OK) return 0;
        if (bl != n || memcmp(back, name, n) != 0) return 0;
    }
    return 1;
}

/* The text of record k of m, into t (cleared first). */
static int check_rr_text(const nm_msg *m, int k, nm_text *t)
{
    t->len = 0;
    if (t->buf) t->buf[0] = 0;
    return nm_text_rr(t, m, &m->rr[k]);
}

/* Two records' fields, one by one. */
static const char *check_same_fields(const nm_msg *a, const nm_rr *ra, const nm_msg *b,
                                     const nm_rr *rb)
{
    nm_rdata_iter ia, ib;
    const nm_field *fa, *fb;
    static nm_value va, vb;
    int rca, rcb, i = 0;

    nm_rdata_begin(&ia, a->wire, ra->rdata, ra->rdlen, nm_rr_type(ra));
    nm_rdata_begin(&ib, b->wire, rb->rdata, rb->rdlen, nm_rr_type(rb));
    for (;; i++) {
        rca = nm_rdata_next(&ia, &fa, &va);
        rcb = nm_rdata_next(&ib, &fb, &vb);
        if (rca != rcb) return "a field reads differently";
        if (rca != 1) break;
        if (fa->kind != fb->kind) return "field kinds differ";
        switch (fa->kind) {
        case NM_FK_NAME:
        case NM_FK_NAME_NC:
        case NM_FK_A6PREFIX:
            if (va.namelen != vb.namelen || memcmp(va.name, vb.name, va.namelen) != 0)
                return "a name differs";
            break;
        case NM_FK_U8: case NM_FK_U16: case NM_FK_U32: case NM_FK_U48:
        case NM_FK_TYPE: case NM_FK_TIME: case NM_FK_A6LEN:
            if (va.num != vb.num) return "a number differs";
            break;
        default:
            if (va.len != vb.len || (va.len && memcmp(va.data, vb.data, va.len) != 0))
                return "bytes differ";
            break;
        }
    }
    return rca == 0 ? NULL : "a field does not read back";
}

/* Writes m again, field by field, into w. */
static int check_reencode(const nm_msg *m, nm_writer *w)
{
    uint8_t name[NM_NAME_MAX];
    int err;

    nm_wr_header(w, m->id, m->flags);
    for (int k = 0; k < m->nq; k++) {
        if ((err = check_read_name(m->wire, m->len, m->q[k].name, name, NULL))) return err;
        nm_wr_question(w, name, m->q[k].type, m->q[k].cls);
    }
    for (int k = 0; k < m->nrr; k++) {
        const nm_rr *rr = &m->rr[k];
        nm_rdata_iter it;
        nm_rdata_out out = { w, 0 };
        const nm_field *f;
        static nm_value v;
        size_t at;
        int rc;
        if ((err = check_read_name(m->wire, m->len, rr->owner, name, NULL))) return err;
        at = nm_wr_rr_begin(w, name, rr->type, rr->cls, rr->ttl);
        nm_rdata_begin(&it, m->wire, rr->rdata, rr->rdlen, nm_rr_type(rr));
        while ((rc = nm_rdata_next(&it, &f, &v)) == 1)
            if ((err = nm_rdata_put(&out, f, &v))) return err;
        if (rc < 0) return rc;
        nm_wr_rr_end(w, at);
    }
    if (m->edns.present)
        nm_wr_opt(w, m->edns.udp_size, m->edns.ext_rcode, m->edns.version, m->edns.flags,
                  m->wire + m->edns.rdata, m->edns.rdlen);
    nm_wr_counts(w, m->count[0], m->count[1], m->count[2],
                 m->count[3] + (m->edns.present ? 1 : 0));
    return w->err;
}

/* Sets *decoded to 1 when the message parsed. */
static const char *check_message(const uint8_t *data, size_t size, int *decoded)
{
    nm_msg m, m2;
    nm_writer w;
    nm_text t1, t2;
    uint8_t name[NM_NAME_MAX];
    size_t n;
    int err, parsed2 = 0;
    const char *why;

    *decoded = 0;
    check_why[0] = 0;
    nm_writer_init(&w, NULL, 0, 0);
    nm_text_init(&t1);
    nm_text_init(&t2);
    err = nm_msg_parse(&m, data, size);
    if (err) {
        char buf[200];
        if (err >= 0 || err <= NM_ELAST) CHECK_FAIL("parse returned %d", err);
        nm_msg_describe_error(&m, err, buf, sizeof buf);
        if (strlen(buf) < 10) CHECK_FAIL("an error without words: '%s'", buf);
        goto out;
    }
    *decoded = 1;
    if (m.nq + m.nrr != m.count[0] + m.count[1] + m.count[2] + m.count[3])
        CHECK_FAIL("section counts do not add up");

    for (int k = 0; k < m.nq; k++) {
        if (check_read_name(data, size, m.q[k].name, name, &n) != NM_OK)
            CHECK_FAIL("question %d: its name does not read again", k);
        if (!check_name_text(name, n)) CHECK_FAIL("question %d: its name's text does not round-trip", k);
    }
    for (int k = 0; k < m.nrr; k++) {
        if (check_read_name(data, size, m.rr[k].owner, name, &n) != NM_OK)
            CHECK_FAIL("record %d: its owner does not read again", k);
        if (!check_name_text(name, n)) CHECK_FAIL("record %d: its owner's text does not round-trip", k);
        if ((err = check_rr_text(&m, k, &t1)) != NM_OK)
            CHECK_FAIL("record %d does not print: %s", k, nm_strerror(err));
        if (t1.len == 0 || strlen(t1.buf) != t1.len)
            CHECK_FAIL("record %d prints as an empty or NUL-cut line", k);
    }

    err = check_reencode(&m, &w);
    if (err == NM_ETOOBIG) goto out; /* names written out whole may not fit */
    if (err) CHECK_FAIL("re-encoding failed: %s", nm_strerror(err));
    err = nm_msg_parse(&m2, w.buf, w.len);
    parsed2 = 1;
    if (err) {
        char buf[200];
        nm_msg_describe_error(&m2, err, buf, sizeof buf);
        CHECK_FAIL("the re-encoded message does not parse: %s", buf);
    }
    if (m2.id != m.id || m2.flags != m.flags || m2.rcode != m.rcode) CHECK_FAIL("header differs");
    for (int s = 0; s < 4; s++)
        if (m2.count[s] != m.count[s]) CHECK_FAIL("%s count differs", nm_section_name(s));
    if (m2.edns.present != m.edns.present ||
        (m.edns.present &&
         (m2.edns.udp_size != m.edns.udp_size || m2.edns.ext_rcode != m.edns.ext_rcode ||
          m2.edns.version != m.edns.version || m2.edns.flags != m.edns.flags ||
          m2.edns.rdlen != m.edns.rdlen ||
          memcmp(m2.wire + m2.edns.rdata, m.wire + m.edns.rdata, m.edns.rdlen) != 0)))
        CHECK_FAIL("EDNS differs");
    for (int k = 0; k < m.nq; k++) {
        uint8_t name2[NM_NAME_MAX];
        size_t n2;
        check_read_name(data, size, m.q[k].name, name, &n);
        if (check_read_name(m2.wire, m2.len, m2.q[k].name, name2, &n2) != NM_OK || n != n2 ||
            memcmp(name, name2, n) != 0 || m.q[k].type != m2.q[k].type || m.q[k].cls != m2.q[k].cls)
            CHECK_FAIL("question %d differs", k);
    }
    for (int k = 0; k < m.nrr; k++) {
        const nm_rr *a = &m.rr[k], *b = &m2.rr[k];
        uint8_t name2[NM_NAME_MAX];
        size_t n2;
        check_read_name(data, size, a->owner, name, &n);
        if (check_read_name(m2.wire, m2.len, b->owner, name2, &n2) != NM_OK || n != n2 ||
            memcmp(name, name2, n) != 0)
            CHECK_FAIL("record %d: owner differs", k);
        if (a->type != b->type || a->cls != b->cls || a->ttl != b->ttl || a->section != b->section)
            CHECK_FAIL("record %d: header differs", k);
        if ((why = check_same_fields(&m, a, &m2, b))) CHECK_FAIL("record %d (type %u): %s", k, a->type, why);
        check_rr_text(&m, k, &t1);
        if ((err = check_rr_text(&m2, k, &t2)) != NM_OK)
            CHECK_FAIL("record %d does not print after re-encoding", k);
        if (t1.len != t2.len || memcmp(t1.buf, t2.buf, t1.len) != 0)
            CHECK_FAIL("record %d prints differently after re-encoding:\n  %s\n  %s", k, t1.buf, t2.buf);
    }
out:
    if (parsed2) nm_msg_release(&m2);
    nm_msg_release(&m);
    nm_writer_free(&w);
    nm_text_free(&t1);
    nm_text_free(&t2);
    return check_why[0] ? check_why : NULL;
}

#undef CHECK_FAIL

#endif
