/* Unit tests of what every transport shares: the registry and the
 * two-octet stream framing. */
#include <stdlib.h>
#include <string.h>

#include "ctest.h"
#include "errors.h"
#include "stream_frame.h"
#include "transport.h"

typedef struct seen {
    int n;
    size_t len[8];
    uint8_t first[8];
    int stop_after; /* 0: never */
} seen;

static int collect(void *arg, const uint8_t *msg, size_t len)
{
    seen *s = arg;
    if (s->n < 8) {
        s->len[s->n] = len;
        s->first[s->n] = len ? msg[0] : 0;
    }
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

TEST(names_every_transport_once_in_the_registry)
{
    CHECK_INT(nm_transport_find("udp"), NM_UDP);
    CHECK_INT(nm_transport_find("tcp"), NM_TCP);
    CHECK_INT(nm_transport_find("carrier-pigeon"), -1);
    CHECK_STR(nm_transport_name(NM_TCP), "tcp");
    CHECK(nm_transport_ops_of(NM_NTRANSPORTS) == NULL);
    for (int k = 0; k < NM_NTRANSPORTS; k++) {
        const nm_transport_ops *ops = nm_transport_ops_of(k);
        CHECK_INT(ops->kind, k);
        CHECK(ops->open && ops->send && ops->forget && ops->id_free && ops->pending &&
              ops->usable && ops->close);
    }
    CHECK_INT(nm_transport_ops_of(NM_UDP)->stream, 0);
    CHECK_INT(nm_transport_ops_of(NM_TCP)->stream, 1);
}

TEST(frames_a_message_with_its_length_in_two_octets)
{
    uint8_t msg[300], out[302];
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)i;
    CHECK_INT((int)nm_frame_put(out, msg, sizeof msg), 302);
    CHECK_INT(out[0], 1);
    CHECK_INT(out[1], 44);
    CHECK_MEM(out + 2, msg, sizeof msg);
}

TEST(gathers_messages_split_and_joined_across_reads)
{
    /* three messages of 3, 0 and 5 bytes, read one byte at a time, then
     * all at once */
    static const uint8_t stream[] = { 0, 3, 'a', 'b', 'c', 0, 0, 0, 5, 'v', 'w', 'x', 'y', 'z' };
    for (int pass = 0; pass < 2; pass++) {
        nm_frame_reader fr = { NULL, 0 };
        seen s;
        memset(&s, 0, sizeof s);
        if (pass == 0) {
            for (size_t i = 0; i < sizeof stream; i++)
                CHECK_INT(nm_frame_feed(&fr, stream + i, 1, collect, &s), NM_OK);
        } else {
            CHECK_INT(nm_frame_feed(&fr, stream, sizeof stream, collect, &s), NM_OK);
        }
        CHECK_INT(s.n, 3);
        CHECK_INT((int)s.len[0], 3);
        CHECK_INT(s.first[0], 'a');
        CHECK_INT((int)s.len[1], 0);
        CHECK_INT((int)s.len[2], 5);
        CHECK_INT(s.first[2], 'v');
        CHECK_INT((int)fr.len, 0);
        nm_frame_reader_free(&fr);
    }
}

TEST(keeps_a_partial_message_and_stops_when_told)
{
    static const uint8_t stream[] = { 0, 1, 'a', 0, 1, 'b', 0, 4, 'c' };
    nm_frame_reader fr = { NULL, 0 };
    seen s;
    memset(&s, 0, sizeof s);
    CHECK_INT(nm_frame_feed(&fr, stream + 6, 3, collect, &s), NM_OK);
    CHECK_INT(s.n, 0);
    CHECK_INT((int)fr.len, 3); /* the length said 4: one byte of it so far */
    nm_frame_reader_free(&fr);
    /* a callback that closes the stream stops the reading at once */
    memset(&s, 0, sizeof s);
    s.stop_after = 1;
    CHECK_INT(nm_frame_feed(&fr, stream, sizeof stream, collect, &s), 1);
    CHECK_INT(s.n, 1);
    nm_frame_reader_free(&fr);
}

int main(void)
{
    return ctest_main();
}
