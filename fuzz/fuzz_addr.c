/* Fuzzes server addresses in text (resolv.conf's and c-ares' forms, also
 * what Lua passes as servers): whatever parses prints back to a form that
 * parses to the same address, and never past the buffer it is given. */
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nm_addr a, b;
    char text[64], host[64];
    char *copy;

    if (size > 256) return 0;
    /* the text is not NUL-terminated: a read past `size` is ASan's to see */
    copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    if (nm_addr_parse(copy, size, 53, &a) == NM_OK) {
        const char *t = nm_addr_text(&a, text, sizeof text);
        const char *h = nm_addr_host(&a, host, sizeof host);
        if (!t || !h || strlen(t) >= sizeof text || strlen(h) >= sizeof host) abort();
        if (nm_addr_parse(t, strlen(t), 1, &b) != NM_OK) abort();
        if (!nm_addr_equal(&a, &b.u.sa)) abort();
        if (nm_addr_port(&a) != nm_addr_port(&b)) abort();
    }
    free(copy);
    return 0;
}
