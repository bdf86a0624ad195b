/* Whether a message answers a pending query: shared by UDP and TCP. */
#include "reply.h"

#include "name.h"

/* Compares the questions of the query as sent with the reply's. */
static int same_questions(const nm_pending *p, const nm_msg *reply)
{
    nm_msg sent;
    int same = 1;
    if (nm_msg_parse(&sent, p->sent, p->sentlen) != NM_OK) {
        nm_msg_release(&sent);
        return 0;
    }
    if (reply->nq == 0 && (reply->rcode == 1 || reply->rcode == 4)) {
        /* FORMERR and NOTIMP may come without the question (RFC 1035
         * leaves it open, old servers do it when they reject EDNS) */
        nm_msg_release(&sent);
        return 1;
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
        nm_name_read(&r, a, &alen);
        nm_reader_init(&r, reply->wire, reply->len);
        r.pos = reply->q[i].name;
        nm_name_read(&r, b, &blen);
        if (p->case_sensitive)
            same = alen == blen && memcmp(a, b, alen) == 0;
        else
            same = nm_name_equal(a, b);
    }
    nm_msg_release(&sent);
    return same;
}

int nm_reply_check(nm_pending *p, const uint8_t *buf, size_t len, nm_msg *msg,
                   nm_drop_stats *drops)
{
    if (!(buf[2] & 0x80)) {
        drops->not_response++;
        p->ignored++;
        return 0;
    }
    if (nm_msg_parse(msg, buf, len) != NM_OK) {
        nm_msg_release(msg);
        drops->malformed++;
        p->ignored++;
        return 0;
    }
    if (!same_questions(p, msg)) {
        nm_msg_release(msg);
        drops->wrong_question++;
        p->ignored++;
        return 0;
    }
    return 1;
}
