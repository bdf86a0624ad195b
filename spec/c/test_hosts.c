/* Unit tests of the hosts file. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctest.h"
#include "errors.h"
#include "hosts.h"

static int parse(nm_hosts *h, const char *text)
{
    return nm_hosts_parse(h, text, strlen(text));
}

/* The addresses of a name as text, "a b c". */
static const char *addrs(const nm_hosts *h, const char *name, int family)
{
    static char joined[1024];
    uint8_t out[8][16];
    int n = nm_hosts_addresses(h, name, family, out, 8);
    joined[0] = 0;
    for (int i = 0; i < n; i++) {
        char buf[INET6_ADDRSTRLEN];
        inet_ntop(family, out[i], buf, sizeof buf);
        if (i) strcat(joined, " ");
        strcat(joined, buf);
    }
    return joined;
}

/* The names of an address given as text, "a b c". */
static const char *names(const nm_hosts *h, const char *addr)
{
    static char joined[1024];
    uint8_t bytes[16];
    const char *out[8];
    int family = strchr(addr, ':') ? AF_INET6 : AF_INET, n;
    if (inet_pton(family, addr, bytes) != 1) return "bad test address";
    n = nm_hosts_names(h, family, bytes, out, 8);
    joined[0] = 0;
    for (int i = 0; i < n; i++) {
        if (i) strcat(joined, " ");
        strcat(joined, out[i]);
    }
    return joined;
}

static const char *tmp_path(void)
{
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/nm-hosts-test-%ld", (long)getpid());
    return path;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static const char sample[] =
    "# The usual\n"
    "127.0.0.1\tlocalhost\n"
    "::1     localhost ip6-localhost ip6-loopback\n"
    "192.0.2.10  www.Example.COM  www  web.example.com. # the web server\n"
    "192.0.2.11  WWW.example.com\n"
    "2001:db8::10 www.example.com\n"
    "fe80::1%eth0 router.local\n"
    "\n"
    "   \t  \r\n"
    "192.0.2.10 www.example.com\n"; /* repeated: answered once */

TEST(forward_lookups_in_file_order_any_case)
{
    nm_hosts *h = nm_hosts_new();
    CHECK_INT(parse(h, sample), 0);
    CHECK_STR(addrs(h, "localhost", AF_INET), "127.0.0.1");
    CHECK_STR(addrs(h, "localhost", AF_INET6), "::1");
    CHECK_STR(addrs(h, "www.example.com", AF_INET), "192.0.2.10 192.0.2.11");
    CHECK_STR(addrs(h, "WWW.EXAMPLE.COM.", AF_INET), "192.0.2.10 192.0.2.11");
    CHECK_STR(addrs(h, "www.example.com", AF_INET6), "2001:db8::10");
    CHECK_STR(addrs(h, "web.example.com", AF_INET), "192.0.2.10");
    CHECK_STR(addrs(h, "www", AF_INET), "192.0.2.10");
    CHECK_STR(addrs(h, "ip6-loopback", AF_INET), "");
    CHECK_STR(addrs(h, "router.local", AF_INET6), "fe80::1");
    CHECK_STR(addrs(h, "nowhere.example", AF_INET), "");
    CHECK_STR(addrs(h, "a..b", AF_INET), "");
    CHECK_STR(addrs(h, "", AF_INET), "");
    CHECK_STR(addrs(h, ".", AF_INET), "");
    nm_hosts_free(h);
}

TEST(first_gives_each_familys_first_address_in_one_look)
{
    nm_hosts *h = nm_hosts_new();
    uint8_t six[16], four[16];
    char buf[INET6_ADDRSTRLEN];
    CHECK_INT(parse(h, sample), NM_OK);
    CHECK_INT(nm_hosts_first(h, "WWW.example.com.", six, four), 3);
    CHECK_STR(inet_ntop(AF_INET6, six, buf, sizeof buf), "2001:db8::10");
    CHECK_STR(inet_ntop(AF_INET, four, buf, sizeof buf), "192.0.2.10");
    CHECK_INT(nm_hosts_first(h, "router.local", six, four), 1);
    CHECK_STR(inet_ntop(AF_INET6, six, buf, sizeof buf), "fe80::1");
    CHECK_INT(nm_hosts_first(h, "ip6-localhost", six, four), 1);
    CHECK_STR(inet_ntop(AF_INET6, six, buf, sizeof buf), "::1");
    CHECK_INT(nm_hosts_first(h, "web.example.com", six, four), 2);
    CHECK_INT(nm_hosts_first(h, "nowhere.example", six, four), 0);
    CHECK_INT(nm_hosts_first(h, "bad..name", six, four), 0);
    nm_hosts_free(h);
}

TEST(ipv4_fills_the_first_four_bytes_only)
{
    nm_hosts *h = nm_hosts_new();
    uint8_t out[2][16];
    const uint8_t want[16] = { 192, 0, 2, 10 };
    memset(out, 0xAA, sizeof out);
    parse(h, sample);
    CHECK_INT(nm_hosts_addresses(h, "www.example.com", AF_INET, out, 1), 1);
    CHECK_MEM(out[0], want, 16);
    CHECK_INT(out[1][0], 0xAA); /* max respected */
    CHECK_INT(nm_hosts_addresses(h, "www.example.com", AF_INET, out, 0), 0);
    nm_hosts_free(h);
}

TEST(reverse_lookups_canonical_first_then_aliases)
{
    nm_hosts *h = nm_hosts_new();
    parse(h, sample);
    CHECK_STR(names(h, "192.0.2.10"), "www.example.com www web.example.com");
    CHECK_STR(names(h, "::1"), "localhost ip6-localhost ip6-loopback");
    CHECK_STR(names(h, "fe80::1"), "router.local");
    CHECK_STR(names(h, "192.0.2.99"), "");
    parse(h, "192.0.2.1 a.example b.example\n192.0.2.2 c.example\n192.0.2.1 c.example a.example\n");
    CHECK_STR(names(h, "192.0.2.1"), "a.example b.example c.example");
    nm_hosts_free(h);
}

TEST(ipv4_mapped_and_ipv4_are_different_families)
{
    nm_hosts *h = nm_hosts_new();
    parse(h, "::ffff:192.0.2.1 mapped.example\n192.0.2.1 plain.example\n");
    CHECK_STR(addrs(h, "mapped.example", AF_INET6), "::ffff:192.0.2.1");
    CHECK_STR(addrs(h, "mapped.example", AF_INET), "");
    CHECK_STR(names(h, "192.0.2.1"), "plain.example");
    CHECK_STR(names(h, "::ffff:192.0.2.1"), "mapped.example");
    nm_hosts_free(h);
}

TEST(bad_lines_are_skipped_and_counted)
{
    nm_hosts *h = nm_hosts_new();
    CHECK_INT(parse(h, "192.0.2.300 bad.example\n"     /* bad address */
                       "example.com 192.0.2.1\n"       /* swapped */
                       "192.0.2.1\n"                   /* no name */
                       "192.0.2.2 a..b\n"              /* no good name */
                       "192.0.2.3 good.example x..y also.example\n"
                       "2001:db8::zz v6.example\n"
                       "# 192.0.2.4 commented.example\n"
                       "192.0.2.5#glued.example\n"),  /* the comment takes the names */
              6);
    CHECK_INT(nm_hosts_count(h), 2);
    CHECK_STR(names(h, "192.0.2.3"), "good.example also.example");
    nm_hosts_free(h);
}

TEST(parse_replaces_what_was_there)
{
    nm_hosts *h = nm_hosts_new();
    parse(h, sample);
    CHECK_INT(parse(h, "192.0.2.7 only.example\r\n"), 0);
    CHECK_STR(addrs(h, "localhost", AF_INET), "");
    CHECK_STR(addrs(h, "only.example", AF_INET), "192.0.2.7");
    CHECK_INT(nm_hosts_count(h), 1);
    CHECK_INT(parse(h, ""), 0);
    CHECK_INT(nm_hosts_count(h), 0);
    nm_hosts_free(h);
}

TEST(names_with_escapes_are_normalized)
{
    nm_hosts *h = nm_hosts_new();
    parse(h, "192.0.2.1 A\\066C.example a\\.b.example\n");
    CHECK_STR(addrs(h, "abc.example", AF_INET), "192.0.2.1");
    CHECK_STR(addrs(h, "a\\.B.example", AF_INET), "192.0.2.1");
    CHECK_STR(addrs(h, "a.b.example", AF_INET), "");
    CHECK_STR(names(h, "192.0.2.1"), "abc.example a\\.b.example");
    nm_hosts_free(h);
}

TEST(load_missing_file_is_empty)
{
    nm_hosts *h = nm_hosts_new();
    const char *path = tmp_path();
    write_file(path, sample);
    CHECK_INT(nm_hosts_load(h, path), 0);
    CHECK_STR(addrs(h, "www", AF_INET), "192.0.2.10");
    unlink(path);
    CHECK_INT(nm_hosts_load(h, path), NM_ENOTFOUND);
    CHECK_INT(nm_hosts_count(h), 0);
    CHECK_INT(nm_hosts_load(h, "/"), NM_ENOTFOUND);
    nm_hosts_free(h);
}

TEST(reload_only_when_the_file_changes)
{
    nm_hosts *h = nm_hosts_new();
    nm_file_stamp s;
    const char *path = tmp_path();
    nm_file_stamp_init(&s);
    unlink(path);
    CHECK_INT(nm_hosts_reload_if_changed(h, path, &s), 0);
    write_file(path, "192.0.2.1 one.example\n");
    CHECK_INT(nm_hosts_reload_if_changed(h, path, &s), 1);
    CHECK_STR(addrs(h, "one.example", AF_INET), "192.0.2.1");
    CHECK_INT(nm_hosts_reload_if_changed(h, path, &s), 0);
    write_file(path, "192.0.2.22 two.example\n");
    CHECK_INT(nm_hosts_reload_if_changed(h, path, &s), 1);
    CHECK_STR(addrs(h, "one.example", AF_INET), "");
    CHECK_STR(addrs(h, "two.example", AF_INET), "192.0.2.22");
    unlink(path);
    CHECK_INT(nm_hosts_reload_if_changed(h, path, &s), 1);
    CHECK_INT(nm_hosts_count(h), 0);
    nm_hosts_free(h);
}

TEST(a_hundred_thousand_lines_load_and_answer_fast)
{
    nm_hosts *h = nm_hosts_new();
    size_t cap = 100000 * 64, len = 0;
    char *text = malloc(cap);
    struct timespec t0, t1;
    double ms;
    uint8_t out[4][16];
    char name[64];
    for (int i = 0; i < 100000; i++) {
        if (i % 2)
            len += (size_t)snprintf(text + len, cap - len, "10.%d.%d.%d host%d.example h%d\n",
                                    i >> 16, (i >> 8) & 255, i & 255, i, i);
        else
            len += (size_t)snprintf(text + len, cap - len, "2001:db8::%x:%x host%d.example\n", i >> 16,
                                    i & 0xffff, i);
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(nm_hosts_parse(h, text, len), 0);
    for (int i = 0; i < 100000; i++) {
        snprintf(name, sizeof name, "HOST%d.example", i);
        if (nm_hosts_addresses(h, name, i % 2 ? AF_INET : AF_INET6, out, 4) != 1) {
            CHECK(!"every host found");
            break;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    CHECK_INT(nm_hosts_count(h), 150000);
    CHECK_STR(addrs(h, "h99999", AF_INET), "10.1.134.159");
    CHECK_STR(names(h, "10.1.134.159"), "host99999.example h99999");
    CHECK_STR(names(h, "2001:db8::1:869e"), "host99998.example");
    /* generous, for sanitizers and slow machines: a list would take minutes */
    CHECK(ms < 5000);
    if (ms >= 5000) fprintf(stderr, "  100k lines took %.0f ms\n", ms);
    free(text);
    nm_hosts_free(h);
}

TEST(one_name_on_many_lines_keeps_every_address)
{
    nm_hosts *h = nm_hosts_new();
    char text[64 * 40];
    size_t len = 0;
    uint8_t out[64][16];
    for (int i = 0; i < 40; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "192.0.2.%d many.example\n", i);
    parse(h, text);
    CHECK_INT(nm_hosts_addresses(h, "many.example", AF_INET, out, 64), 40);
    CHECK_INT(out[39][3], 39);
    nm_hosts_free(h);
}

int main(void)
{
    return ctest_main();
}
