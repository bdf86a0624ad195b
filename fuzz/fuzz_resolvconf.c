/* Fuzzes resolv.conf parsing (nm_resolvconf_parse, nm_resolvconf_options) and the search-list candidates built from the result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "name.h"
#include "resolvconf.h"

#define REQUIRE(x) do { if (!(x)) abort(); } while (0)

static void candidates(const nm_resolv_conf *c, const char *name)
{
    char out[12][NM_NAME_TEXT_MAX];
    uint8_t wire[NM_NAME_MAX];
    size_t wl;
    int n = nm_resolvconf_candidates(c, name, out, 12);
    REQUIRE(n <= 12);
    for (int i = 0; i < n; i++) {
        size_t len = strnlen(out[i], NM_NAME_TEXT_MAX);
        REQUIRE(len < NM_NAME_TEXT_MAX);
        REQUIRE(nm_name_from_text(out[i], len, wire, &wl) == NM_OK);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static nm_resolv_conf c;
    const char *text = (const char *)data;
    char first[300];
    size_t n = 0;
    int skipped = nm_resolvconf_parse(&c, text, size);

    REQUIRE(skipped >= 0 && (size_t)skipped <= size);
    REQUIRE(c.nservers >= 0 && c.nservers <= NM_MAX_SERVERS);
    REQUIRE(c.nsearch >= 0 && c.nsearch <= NM_MAX_SEARCH);
    REQUIRE(c.ndots >= 0 && c.ndots <= NM_MAX_NDOTS);
    REQUIRE(c.timeout == -1 || (c.timeout >= 1 && c.timeout <= NM_MAX_TIMEOUT));
    REQUIRE(c.attempts == -1 || (c.attempts >= 1 && c.attempts <= NM_MAX_ATTEMPTS));
    for (int i = 0; i < c.nsearch; i++) {
        uint8_t wire[NM_NAME_MAX];
        size_t wl, len = strnlen(c.search[i], NM_NAME_TEXT_MAX);
        REQUIRE(len < NM_NAME_TEXT_MAX);
        REQUIRE(nm_name_from_text(c.search[i], len, wire, &wl) == NM_OK);
    }
    candidates(&c, "www");
    candidates(&c, "a.b.c");
    candidates(&c, "x.");
    /* the input's first line as a name too */
    while (n < size && n < sizeof first - 1 && data[n] && data[n] != '\n') {
        first[n] = (char)data[n];
        n++;
    }
    first[n] = 0;
    candidates(&c, first);
    nm_resolvconf_options(&c, text, size);
    REQUIRE(c.ndots >= 0 && c.ndots <= NM_MAX_NDOTS);
    return 0;
}
