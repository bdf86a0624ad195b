/* Fuzzes names: text -> wire -> text, and decompression from a message
 * followed by compression into a new one.  The checks, and the meaning of
 * the input's first bytes, are in fuzz/check_name.h (the corpus replayer
 * shares them); a broken invariant aborts. */
#include "check_name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return check_name(data, size);
}
