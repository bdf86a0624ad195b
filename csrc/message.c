#include "message.h"

#include <stdio.h>
#include <stdlib.h>

#include "name.h"

static const char *const section_names[] = { "question", "answer", "authority", "additional" };

const char *nm_section_name(int section)
{
    return section >= 0 && section < 4 ? section_names[section] : "header";
}

static int fail(nm_msg *m, int err, int section, int index, size_t offset)
{
    m->err_section = section;
    m->err_index = index;
    m->err_offset = offset;
    return err;
}

static int parse_opt(nm_msg *m, const nm_rr *rr)
{
    if (m->edns.present || rr->section != NM_ADDITIONAL) return NM_EOPT;
    m->edns.present = 1;
    m->edns.udp_size = rr->cls;
    m->edns.ext_rcode = (uint8_t)(rr->ttl >> 24);
    m->edns.version = (uint8_t)(rr->ttl >> 16);
    m->edns.flags = (uint16_t)rr->ttl;
    m->edns.rdata = rr->rdata;
    m->edns.rdlen = rr->rdlen;
    /* The options must be well formed: code, length, data. */
    for (size_t i = 0; i < rr->rdlen;) {
        uint16_t n;
        if (rr->rdlen - i < 4) return NM_ERDSHORT;
        n = nm_get16(m->wire + rr->rdata + i + 2);
        if (rr->rdlen - i - 4 < n) return NM_ERDSHORT;
        i += 4 + (size_t)n;
    }
    return NM_OK;
}

/* Names the parser has checked, by where they start, with how many
 * pointers they follow: an owner that is one pointer to such a name (as a
 * server writes the owner of every record after the question) is checked
 * without walking that name again. */
#define MEMO_SLOTS 8

struct name_memo {
    uint16_t at[MEMO_SLOTS];
    uint8_t hops[MEMO_SLOTS];
    int n, next;
};

static int check_name(nm_reader *r, struct name_memo *memo)
{
    size_t start = r->pos;
    int err, hops;

    if (r->len - start >= 2 && (r->buf[start] & 0xC0) == 0xC0) {
        size_t target = ((size_t)(r->buf[start] & 0x3F) << 8) | r->buf[start + 1];
        for (int i = 0; i < memo->n; i++) {
            /* the same rules as nm_name_read: back, and not too far */
            if (memo->at[i] == target && target < start && memo->hops[i] < NM_PTR_HOPS) {
                r->pos = start + 2;
                return NM_OK;
            }
        }
    }
    if ((err = nm_name_read_hops(r, NULL, NULL, &hops))) return err;
    memo->at[memo->next] = (uint16_t)start;
    memo->hops[memo->next] = (uint8_t)hops;
    memo->next = (memo->next + 1) % MEMO_SLOTS;
    if (memo->n < MEMO_SLOTS) memo->n++;
    return NM_OK;
}

static int parse_rr(nm_msg *m, nm_reader *r, nm_rr *rr, struct name_memo *memo)
{
    size_t owner = r->pos;
    int err;
    uint16_t rdlen;

    const uint8_t *p;

    if ((err = check_name(r, memo))) return err;
    rr->owner = (uint16_t)owner;
    /* type, class, ttl, rdlength: one bounds check for the ten bytes */
    if ((err = nm_rd_bytes(r, 10, &p))) return err;
    rr->type = nm_get16(p);
    rr->cls = nm_get16(p + 2);
    rr->ttl = nm_get32(p + 4);
    rdlen = nm_get16(p + 8);
    if (nm_rd_left(r) < rdlen) return NM_ESHORT;
    rr->rdata = (uint16_t)r->pos;
    rr->rdlen = rdlen;
    rr->desc = NULL;
    if (rr->type == NM_TYPE_OPT) {
        /* OPT's owner must be the root (RFC 6891, 6.1.2). */
        if (m->wire[owner] != 0) return NM_EOPT;
    } else {
        rr->desc = nm_rr_layout(rr->type, rr->cls, rdlen);
        if ((err = nm_rdata_check(m->wire, r->pos, rdlen, rr->desc))) return err;
    }
    r->pos += rdlen;
    return NM_OK;
}

int nm_msg_parse(nm_msg *m, const uint8_t *wire, size_t len)
{
    nm_reader r;
    uint16_t counts[4];
    size_t total, fit;
    int err, at = 0;
    struct name_memo memo;

    memo.n = memo.next = 0;

    m->wire = wire;
    m->len = len;
    m->q = m->q_inline;
    m->rr = m->rr_inline;
    m->nq = m->nrr = 0;
    m->edns.present = 0;
    m->count[0] = m->count[1] = m->count[2] = m->count[3] = 0;
    m->err_section = -1;
    m->err_index = 0;
    m->err_offset = 0;

    if (len > NM_MAX_MESSAGE) return fail(m, NM_ETOOBIG, -1, 0, 0);
    if (len < NM_HEADER_LEN) return fail(m, NM_ESHORT, -1, 0, len);
    nm_reader_init(&r, wire, len);
    m->id = nm_get16(wire);
    m->flags = nm_get16(wire + 2);
    for (int s = 0; s < 4; s++) counts[s] = nm_get16(wire + 4 + 2 * s);
    r.pos = NM_HEADER_LEN;
    m->rcode = NM_RCODE(m->flags);

    /* Header counts are claims, not allocations: size by what could fit. */
    fit = (len - NM_HEADER_LEN) / 5;
    if (counts[0] > NM_INLINE_QS) {
        size_t n = counts[0] < fit ? counts[0] : fit;
        if (!(m->q = malloc((n ? n : 1) * sizeof *m->q))) return fail(m, NM_ENOMEM, 0, 0, 0);
    }
    for (int i = 0; i < counts[0]; i++) {
        nm_question *q = &m->q[m->nq];
        size_t start = r.pos;
        if (nm_rd_left(&r) < 5) return fail(m, NM_ESHORT, NM_QUESTION, i, r.pos);
        if ((err = check_name(&r, &memo))) return fail(m, err, NM_QUESTION, i, start);
        q->name = (uint16_t)start;
        if ((err = nm_rd_u16(&r, &q->type)) || (err = nm_rd_u16(&r, &q->cls)))
            return fail(m, err, NM_QUESTION, i, start);
        m->nq++;
    }
    m->count[0] = m->nq;

    total = (size_t)counts[1] + counts[2] + counts[3];
    fit = nm_rd_left(&r) / 11;
    if (total > NM_INLINE_RRS) {
        size_t n = total < fit ? total : fit;
        if (!(m->rr = malloc((n ? n : 1) * sizeof *m->rr))) return fail(m, NM_ENOMEM, 1, 0, 0);
    }
    for (int s = NM_ANSWER; s <= NM_ADDITIONAL; s++) {
        for (int i = 0; i < counts[s]; i++, at++) {
            nm_rr *rr = &m->rr[m->nrr];
            size_t start = r.pos;
            if ((size_t)at >= fit) return fail(m, NM_ESHORT, s, i, r.pos);
            rr->section = (uint8_t)s;
            if ((err = parse_rr(m, &r, rr, &memo))) return fail(m, err, s, i, start);
            if (rr->type == NM_TYPE_OPT) {
                if ((err = parse_opt(m, rr))) return fail(m, err, s, i, start);
                continue;
            }
            m->nrr++;
            m->count[s]++;
        }
    }
    if (m->edns.present) m->rcode |= m->edns.ext_rcode << 4;
    return NM_OK;
}

void nm_msg_release(nm_msg *m)
{
    if (m->q != m->q_inline) free(m->q);
    if (m->rr != m->rr_inline) free(m->rr);
    m->q = m->q_inline;
    m->rr = m->rr_inline;
}

void nm_msg_describe_error(const nm_msg *m, int err, char *buf, size_t cap)
{
    if (m->err_section < 0) {
        snprintf(buf, cap, "%s message (%s)", err == NM_ESHORT ? "truncated" : "bad",
                 err == NM_ESHORT ? "shorter than its 12-byte header" : nm_strerror(err));
        return;
    }
    snprintf(buf, cap, "%s in %s %d of the %s section at offset %zu", nm_strerror(err),
             m->err_section == NM_QUESTION ? "question" : "record", m->err_index + 1,
             nm_section_name(m->err_section), m->err_offset);
}

void nm_wr_header(nm_writer *w, uint16_t id, uint16_t flags)
{
    nm_wr_u16(w, id);
    nm_wr_u16(w, flags);
    nm_wr_u32(w, 0);
    nm_wr_u32(w, 0);
}

void nm_wr_counts(nm_writer *w, int qd, int an, int ns, int ar)
{
    nm_wr_put16_at(w, 4, (uint16_t)qd);
    nm_wr_put16_at(w, 6, (uint16_t)an);
    nm_wr_put16_at(w, 8, (uint16_t)ns);
    nm_wr_put16_at(w, 10, (uint16_t)ar);
}

void nm_wr_question(nm_writer *w, const uint8_t *name, uint16_t type, uint16_t cls)
{
    nm_wr_name(w, name, 1);
    nm_wr_u16(w, type);
    nm_wr_u16(w, cls);
}

size_t nm_wr_rr_begin(nm_writer *w, const uint8_t *owner, uint16_t type, uint16_t cls,
                      uint32_t ttl)
{
    size_t at;
    nm_wr_name(w, owner, 1);
    nm_wr_u16(w, type);
    nm_wr_u16(w, cls);
    nm_wr_u32(w, ttl);
    at = w->len;
    nm_wr_u16(w, 0);
    return at;
}

void nm_wr_rr_end(nm_writer *w, size_t at)
{
    size_t n = w->len - at - 2;
    if (n > 0xFFFF && !w->err) w->err = NM_ETOOBIG;
    nm_wr_put16_at(w, at, (uint16_t)n);
}

void nm_wr_opt(nm_writer *w, uint16_t udp_size, uint8_t ext_rcode, uint8_t version,
               uint16_t flags, const uint8_t *options, size_t optlen)
{
    nm_wr_u8(w, 0);
    nm_wr_u16(w, NM_TYPE_OPT);
    nm_wr_u16(w, udp_size);
    nm_wr_u32(w, ((uint32_t)ext_rcode << 24) | ((uint32_t)version << 16) | flags);
    if (optlen > 0xFFFF) {
        /* cut options would be a lie: fail the message instead */
        if (!w->err) w->err = NM_ETOOBIG;
        return;
    }
    nm_wr_u16(w, (uint16_t)optlen);
    nm_wr_bytes(w, options, optlen);
}

static uint8_t *put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

size_t nm_query_write(uint8_t *out, const nm_query_spec *q)
{
    uint8_t *p = out;
    p = put16(p, q->id);
    p = put16(p, q->flags);
    p = put16(p, 1);                    /* QDCOUNT */
    p = put16(p, 0);                    /* ANCOUNT */
    p = put16(p, 0);                    /* NSCOUNT */
    p = put16(p, q->udp_size ? 1 : 0);  /* ARCOUNT: the OPT record */
    memcpy(p, q->name, q->namelen);
    p += q->namelen;
    p = put16(p, q->type);
    p = put16(p, q->cls);
    if (q->udp_size) {
        uint8_t *rdlen;
        /* OPT: root owner, our UDP size, no extended rcode, version 0 */
        *p++ = 0;
        p = put16(p, NM_TYPE_OPT);
        p = put16(p, q->udp_size);
        p = put16(p, 0);
        p = put16(p, q->edns_flags);
        rdlen = p;
        p += 2;
        /* The options of every query the library sends are written here,
         * and only here: those given for this query (a server's cookie),
         * then any the library adds to all (padding, RFC 7830/8467, goes
         * last, as it depends on the length of the rest). */
        if (q->optlen) {
            memcpy(p, q->options, q->optlen);
            p += q->optlen;
        }
        put16(rdlen, (uint16_t)(p - rdlen - 2));
    }
    return (size_t)(p - out);
}

int nm_build_query(nm_writer *w, uint16_t id, const uint8_t *name, uint16_t type,
                   uint16_t cls, int rd, uint16_t udp_size, int dnssec_ok)
{
    nm_query_spec q;
    size_t n = nm_name_len(name);
    if (w->err) return w->err;
    if (n > NM_NAME_MAX) return w->err = NM_ENAME;
    memset(&q, 0, sizeof q);
    q.id = id;
    q.flags = rd ? NM_RD : 0;
    q.name = name;
    q.namelen = n;
    q.type = type;
    q.cls = cls;
    q.udp_size = udp_size;
    q.edns_flags = dnssec_ok ? NM_EDNS_DO : 0;
    if (nm_wr_reserve(w, NM_QUERY_MAX)) return w->err;
    w->len += nm_query_write(w->buf + w->len, &q);
    return NM_OK;
}
