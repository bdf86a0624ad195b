/* Fuzzes hosts-file parsing (nm_hosts_parse) and checks that forward and reverse lookups of what it holds agree. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hosts.h"

#define REQUIRE(x) do { if (!(x)) abort(); } while (0)
#define MAXN 16

/* Every name of addr must give addr back. */
static void check_reverse(const nm_hosts *h, int family, const uint8_t *addr)
{
    const char *names[MAXN];
    int n = nm_hosts_names(h, family, addr, names, MAXN);
    REQUIRE(n >= 1 && n <= MAXN);
    for (int i = 0; i < n; i++) {
        uint8_t out[MAXN][16];
        int k = nm_hosts_addresses(h, names[i], family, out, MAXN), found = 0;
        REQUIRE(k >= 1 && k <= MAXN);
        for (int j = 0; j < k; j++) found |= memcmp(out[j], addr, 16) == 0;
        /* a name with more than MAXN addresses may hide addr past the cut */
        REQUIRE(found || k == MAXN);
    }
}

static void lookup(const nm_hosts *h, const char *name)
{
    static const int families[2] = { AF_INET, AF_INET6 };
    uint8_t first[2][16]; /* AF_INET, AF_INET6 */
    /* nm_hosts_first: bit 1 for AF_INET, bit 0 for AF_INET6, each with the
     * first address nm_hosts_addresses gives */
    int firsts = nm_hosts_first(h, name, first[1], first[0]);
    for (int f = 0; f < 2; f++) {
        uint8_t out[MAXN][16];
        int n = nm_hosts_addresses(h, name, families[f], out, MAXN);
        int bit = families[f] == AF_INET ? 2 : 1;
        REQUIRE(n >= 0 && n <= MAXN);
        REQUIRE(((firsts & bit) != 0) == (n > 0));
        if (n > 0) REQUIRE(memcmp(out[0], first[families[f] == AF_INET ? 0 : 1], 16) == 0);
        for (int i = 0; i < n; i++) {
            if (families[f] == AF_INET)
                for (int z = 4; z < 16; z++) REQUIRE(out[i][z] == 0);
            check_reverse(h, families[f], out[i]);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static nm_hosts *h;
    size_t i = 0;
    int words = 0;
    int skipped;

    if (!h && !(h = nm_hosts_new())) abort();
    skipped = nm_hosts_parse(h, (const char *)data, size);
    REQUIRE(skipped >= 0);
    /* look up the input's words as names */
    while (i < size && words < 32) {
        char word[300];
        size_t n = 0;
        while (i < size && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n')) i++;
        while (i < size && data[i] != ' ' && data[i] != '\t' && data[i] != '\n') {
            if (n < sizeof word - 1) word[n++] = data[i] ? (char)data[i] : '0';
            i++;
        }
        word[n] = 0;
        if (n) lookup(h, word);
        words++;
    }
    return 0;
}
