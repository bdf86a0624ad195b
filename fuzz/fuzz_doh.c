/* Fuzzes the DoH client's HTTP/2 side (doh.c over nghttp2): whatever a
 * server sends after the connection preface -- frames cut anywhere, bad
 * lengths, HEADERS with any :status and content-type, DATA past 65535
 * octets, RST_STREAM, GOAWAY -- the two queries waiting (a POST and a GET)
 * end at most once each, and every body handed over lies within memory of
 * ours (the sanitizers check the reads).  The TLS layer is not involved:
 * its record boundaries are modelled by the cut the first byte chooses. */
#include <stdint.h>
#include <stdlib.h>

#include "doh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 17) return 0;
    int answered = nm_doh_fuzz_feed(data, size);
    if (answered < 0 || answered > 2) abort();
    return 0;
}
