/* Whether a message answers a pending query: shared by UDP and TCP. */
#include "reply.h"

#include "name.h"

static int same_name(const nm_pending *p, const uint8_t *sent, const uint8_t *got, size_t gotlen)
{
    /* servers repeat the question byte for byte: try that first */
    if (gotlen == nm_name_len(sent) && memcmp(sent, got, gotlen) == 0) return 1;
    return !p->case_sensitive && nm_name_equal(sent, got);
}

/* The reply's question against the one the owner keeps: the usual case,
 * with nothing of the sent message to parse again. */
static int same_question(const nm_pending *p, const nm_msg *reply)
{
    uint8_t got[NM_NAME_MAX];
    size_t gotlen, n;
    nm_reader r;
    if (reply->nq != 1) return 0;
    if (reply->q[0].type != p->qtype || reply->q[0].cls != p->qcls) return 0;
    /* the usual reply repeats the name uncompressed, byte for byte: the
     * same bytes up to its final zero are the same name */
    n = nm_name_len(p->qname);
    if (reply->len - reply->q[0].name >= n && memcmp(reply->wire + reply->q[0].name, p->qname, n) == 0)
        return 1;
    nm_reader_init(&r, reply->wire, reply->len);
    r.pos = reply->q[0].name;
    if (nm_name_read(&r, got, &gotlen) != NM_OK) return 0;
    return same_name(p, p->qname, got, gotlen);
}

/* The reply's questions against those of the message sent (a message of
 * the caller's: any number of questions, any form). */
static int same_questions(const nm_pending *p, const nm_msg *reply)
{
    nm_msg sent;
    int same = 1;
    if (nm_msg_parse(&sent, p->sent, p->sentlen) != NM_OK) {
        nm_msg_release(&sent);
        return 0;
    }
    if (sent.nq != reply->nq) same = 0;
    for (int i = 0; same && i < sent.nq; i++) {
        uint8_t a[NM_NAME_MAX], b[NM_NAME_MAX];
        size_t alen, blen;
        nm_reader r;
        if (sent.q[i].type != reply->q[i].type || sent.q[i].cls != reply->q[i].cls) {
            same = 0;
            break;
        }
        nm_reader_init(&r, sent.wire, sent.len);
        r.pos = sent.q[i].name;
        if (nm_name_read(&r, a, &alen) != NM_OK) same = 0;
        nm_reader_init(&r, reply->wire, reply->len);
        r.pos = reply->q[i].name;
        if (same && nm_name_read(&r, b, &blen) != NM_OK) same = 0;
        if (same) same = same_name(p, a, b, blen);
    }
    nm_msg_release(&sent);
    return same;
}

static int answers(const nm_pending *p, const nm_msg *reply)
{
    if (reply->nq == 0) {
        /* FORMERR and NOTIMP may come without the question (RFC 1035
         * leaves it open, old servers do it when they reject EDNS); so may
         * a zone transfer's messages after the first (RFC 5936 2.2.1).
         * Nothing ties such a reply to the question (0x20 cannot check
         * it): a query takes it only as "no EDNS", to ask again plainly */
        if ((reply->rcode == NM_RCODE_FORMERR || reply->rcode == NM_RCODE_NOTIMP) &&
            (p->edns || !p->qname))
            return 1;
        if (p->stream && p->answered) return 1;
    }
    return p->qname ? same_question(p, reply) : same_questions(p, reply);
}

/* A UDP reply with TC set may be cut anywhere after its question, its
 * counts left as they were (dig and c-ares still read it as "ask over
 * TCP"): with the question whole, it is taken as that question and no
 * records, for the resolver's queries (a caller's exchange gets only what
 * parses). */
static int truncated_whole_question(const nm_pending *p, nm_msg *msg, int err)
{
    if (!(msg->flags & NM_TC) || !p->via || p->via->ops->stream || !p->qname ||
        err == NM_ENOMEM)
        return 0;
    if (msg->err_section < NM_ANSWER) return 0;
    msg->nrr = 0;
    msg->count[NM_ANSWER] = msg->count[NM_AUTHORITY] = msg->count[NM_ADDITIONAL] = 0;
    msg->edns.present = 0;
    msg->rcode = NM_RCODE(msg->flags);
    return 1;
}

int nm_reply_check(nm_pending *p, const uint8_t *buf, size_t len, nm_msg *msg,
                   nm_drop_stats *drops)
{
    int err;
    /* a response (QR), to a standard query when we asked one: an UPDATE
     * or NOTIFY answer with our id and question is no answer to it */
    if (!(buf[2] & 0x80) || (p->qname && (buf[2] & 0x78) != 0)) {
        drops->not_response++;
        p->ignored++;
        return 0;
    }
    if ((err = nm_msg_parse(msg, buf, len)) != NM_OK && !truncated_whole_question(p, msg, err)) {
        nm_msg_release(msg);
        drops->malformed++;
        p->ignored++;
        return 0;
    }
    if (!answers(p, msg)) {
        nm_msg_release(msg);
        drops->wrong_question++;
        p->ignored++;
        return 0;
    }
    return 1;
}
