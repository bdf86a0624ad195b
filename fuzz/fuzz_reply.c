/* Fuzzes reply acceptance (nm_reply_check, shared by UDP and TCP): the
 * first byte sets up the query waiting (EDNS sent, 0x20, a caller's own
 * message, a stream that has answered, UDP or TCP), the rest is the reply.
 * The question waited for is the reply's own when it has one (so that the
 * deeper checks are reached), its case flipped by bit 5. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "message.h"
#include "name.h"
#include "reply.h"

#define REQUIRE(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static nm_transport dummy_transport;
    uint8_t qname[NM_NAME_MAX] = { 0 };
    nm_pending p;
    nm_drop_stats drops;
    nm_msg m, probe;
    nm_reader r;
    uint8_t config;
    const uint8_t *msg;
    size_t len;

    if (size < 1 + 12) return 0;
    config = data[0];
    msg = data + 1;
    len = size - 1;
    memset(&p, 0, sizeof p);
    memset(&drops, 0, sizeof drops);
    p.edns = config & 1;
    p.case_sensitive = (config >> 1) & 1;
    p.stream = (config >> 3) & 1;
    p.answered = p.stream;
    /* the transport it waits on: reply.c asks only whether it is a stream */
    dummy_transport.ops = nm_transport_ops_of(config & 16 ? NM_UDP : NM_TCP);
    p.via = &dummy_transport;
    p.qtype = 1;
    p.qcls = 1;
    if (nm_msg_parse(&probe, msg, len) == NM_OK && probe.nq > 0) {
        nm_reader_init(&r, msg, len);
        r.pos = probe.q[0].name;
        REQUIRE(nm_name_read(&r, qname, NULL) == NM_OK);
        if (config & 32)
            for (size_t i = 0; qname[i]; i += qname[i] + 1)
                for (size_t j = 1; j <= qname[i]; j++)
                    if ((qname[i + j] | 0x20) >= 'a' && (qname[i + j] | 0x20) <= 'z') qname[i + j] ^= 0x20;
        p.qtype = probe.q[0].type;
        p.qcls = probe.q[0].cls;
    }
    nm_msg_release(&probe);
    if (config & 4) {
        p.sent = msg; /* a caller's message: the reply must repeat its questions */
        p.sentlen = len;
    } else {
        p.qname = qname;
    }

    if (nm_reply_check(&p, msg, len, &m, &drops)) {
        REQUIRE(m.flags & 0x8000);                          /* QR */
        REQUIRE(!p.qname || ((m.flags >> 11) & 0xF) == 0);  /* a standard query's answer */
        REQUIRE(m.nq >= 0 && m.nrr >= 0);
        REQUIRE(p.ignored == 0);
        for (int i = 0; i < m.nq; i++) REQUIRE(m.q[i].name < len);
        for (int i = 0; i < m.nrr; i++) REQUIRE((size_t)m.rr[i].rdata + m.rr[i].rdlen <= len);
        nm_msg_release(&m);
    } else {
        REQUIRE(p.ignored == 1);
    }
    return 0;
}
