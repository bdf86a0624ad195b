/* Fuzzes the message codec: nm_msg_parse on arbitrary bytes; every record
 * of what parses to text; decode -> re-encode (each record's fields written
 * back with nm_rdata_put) -> decode must agree field by field and as text.
 * The checks are fuzz/check_message.h, which the corpus replayer shares. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "check_message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int decoded;
    const char *why = check_message(data, size, &decoded);
    if (why) {
        fprintf(stderr, "fuzz_message: %s\n", why);
        abort();
    }
    return 0;
}
