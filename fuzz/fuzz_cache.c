/* Fuzzes the answer cache: nm_cache_put on arbitrary responses, then nm_cache_peek, which must give back the bytes stored, and nm_cache_get, the same message with only TTLs lowered. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "errors.h"
#include "message.h"
#include "name.h"

#define REQUIRE(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nm_cache *c;
    nm_msg m, got;
    nm_reader r;
    uint8_t qname[NM_NAME_MAX], *out;
    uint16_t qtype = 1, qcls = 1;
    size_t outlen;
    int err;

    /* the question of the message when it has one, or the root */
    qname[0] = 0;
    if (nm_msg_parse(&m, data, size) == NM_OK && m.nq > 0) {
        nm_reader_init(&r, data, size);
        r.pos = m.q[0].name;
        REQUIRE(nm_name_read(&r, qname, NULL) == NM_OK);
        qtype = m.q[0].type;
        qcls = m.q[0].cls;
    }
    if (!(c = nm_cache_new(4, 86400, 3600))) abort();
    err = nm_cache_put(c, qname, qtype, qcls, data, size, 1000.0);
    if (err == NM_OK) {
        const uint8_t *held;
        size_t heldlen;
        REQUIRE(nm_cache_count(c) == 1);
        /* a peek gives back the very bytes stored */
        REQUIRE(nm_cache_peek(c, qname, qtype, qcls, 1000.0, &held, &heldlen) == NM_OK);
        REQUIRE(heldlen == size && memcmp(held, data, size) == 0);
        err = nm_cache_get(c, qname, qtype, qcls, 1003.5, &out, &outlen);
        if (err == NM_OK) {
            /* same length, same bytes outside TTLs, every TTL no larger */
            uint8_t *want = malloc(size);
            REQUIRE(want && outlen == size);
            memcpy(want, data, size);
            REQUIRE(nm_msg_parse(&got, out, outlen) == NM_OK);
            REQUIRE(got.nrr == m.nrr);
            for (int i = 0; i < m.nrr; i++) {
                uint32_t orig = m.rr[i].ttl > 0x7FFFFFFFu ? 0 : m.rr[i].ttl;
                size_t at = (size_t)m.rr[i].rdata - 6;
                REQUIRE(got.rr[i].ttl <= orig && got.rr[i].ttl <= 86400);
                memset(out + at, 0, 4);
                memset(want + at, 0, 4);
            }
            REQUIRE(memcmp(out, want, size) == 0);
            free(want);
            nm_msg_release(&got);
            free(out);
        } else {
            REQUIRE(err == NM_ENOTFOUND); /* a lifetime under 3.5 s */
        }
        REQUIRE(nm_cache_get(c, qname, qtype, qcls, 1000.0 + 90000.0, &out, &outlen) == NM_ENOTFOUND);
        REQUIRE(nm_cache_count(c) == 0);
    } else {
        REQUIRE(nm_cache_count(c) == 0);
    }
    nm_msg_release(&m);
    nm_cache_free(c);
    return 0;
}
