/* route.c: the source address of a destination, found without sending. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctest.h"
#include "names_core.h"

static int has_ipv6_loopback(void)
{
    FILE *f = fopen("/proc/net/if_inet6", "r");
    char line[256];
    int found = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "00000000000000000000000000000001 ", 33) == 0) found = 1;
    fclose(f);
    return found;
}

TEST(loopback_ipv4_is_reached_from_loopback)
{
    nm_addr dst, src;
    char buf[80];
    CHECK_INT(nm_addr_from_host("127.0.0.1", 9, &dst), NM_OK);
    CHECK_INT(nm_route_source(&dst, &src), 0);
    CHECK_STR(nm_addr_host(&src, buf, sizeof buf), "127.0.0.1");
    /* another loopback address: the source is a loopback address too */
    CHECK_INT(nm_addr_from_host("127.0.0.5", 9, &dst), NM_OK);
    CHECK_INT(nm_route_source(&dst, &src), 0);
    CHECK(strncmp(nm_addr_host(&src, buf, sizeof buf), "127.", 4) == 0);
}

TEST(loopback_ipv6_is_reached_from_itself)
{
    nm_addr dst, src;
    char buf[80];
    if (!has_ipv6_loopback()) return;
    CHECK_INT(nm_addr_from_host("::1", 9, &dst), NM_OK);
    CHECK_INT(nm_route_source(&dst, &src), 0);
    CHECK_STR(nm_addr_host(&src, buf, sizeof buf), "::1");
    /* an IPv4-mapped loopback destination has an IPv4-mapped source */
    CHECK_INT(nm_addr_from_host("::ffff:127.0.0.2", 9, &dst), NM_OK);
    CHECK_INT(nm_route_source(&dst, &src), 0);
    CHECK(strncmp(nm_addr_host(&src, buf, sizeof buf), "::ffff:127.", 11) == 0);
}

TEST(link_local_without_scope_is_unusable)
{
    nm_addr dst, src;
    if (!has_ipv6_loopback()) return;
    CHECK_INT(nm_addr_from_host("fe80::1", 9, &dst), NM_OK);
    CHECK(nm_route_source(&dst, &src) < 0);
}

TEST(other_families_are_refused)
{
    nm_addr dst, src;
    memset(&dst, 0, sizeof dst);
    dst.u.sa.sa_family = AF_UNIX;
    CHECK_INT(nm_route_source(&dst, &src), -EAFNOSUPPORT);
}

int main(void)
{
    return ctest_main();
}
