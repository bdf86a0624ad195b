/* Unit tests of resolv.conf parsing, the search list and file stamps. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctest.h"
#include "errors.h"
#include "filestamp.h"
#include "resolvconf.h"

static int parse(nm_resolv_conf *c, const char *text)
{
    return nm_resolvconf_parse(c, text, strlen(text));
}

static const char *host_of(const nm_resolv_conf *c, int i)
{
    static char buf[128];
    return nm_addr_text(&c->servers[i], buf, sizeof buf);
}

/* A scratch directory of our own, removed by the tests that use it. */
static char tmpdir[64];

static const char *scratch(const char *leaf)
{
    static char path[128];
    if (!tmpdir[0]) {
        strcpy(tmpdir, "/tmp/nm-resolvconf-XXXXXX");
        if (!mkdtemp(tmpdir)) return NULL;
    }
    snprintf(path, sizeof path, "%s/%s", tmpdir, leaf);
    return path;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

TEST(defaults_have_no_servers_and_ndots_one)
{
    nm_resolv_conf c;
    nm_resolvconf_defaults(&c);
    CHECK_INT(c.nservers, 0);
    CHECK_INT(c.nsearch, 0);
    CHECK_INT(c.ndots, 1);
    CHECK_INT(c.timeout, -1);
    CHECK_INT(c.attempts, -1);
    CHECK_INT(c.rotate + c.edns0 + c.use_vc, 0);
    CHECK_INT(parse(&c, ""), 0);
    CHECK_INT(c.ndots, 1);
}

TEST(nameservers_in_every_form)
{
    nm_resolv_conf c;
    CHECK_INT(parse(&c, "nameserver 192.0.2.1\n"
                        "nameserver 2001:db8::1\n"
                        "nameserver 192.0.2.2:5353\n"
                        "nameserver [2001:db8::2]:5354\n"
                        "nameserver\t[2001:db8::3]\n"
                        "nameserver fe80::1%1\n"
                        "nameserver 192.0.2.3 trailing words are ignored\n"),
              0);
    CHECK_INT(c.nservers, 7);
    CHECK_STR(host_of(&c, 0), "192.0.2.1:53");
    CHECK_STR(host_of(&c, 1), "[2001:db8::1]:53");
    CHECK_STR(host_of(&c, 2), "192.0.2.2:5353");
    CHECK_STR(host_of(&c, 3), "[2001:db8::2]:5354");
    CHECK_STR(host_of(&c, 4), "[2001:db8::3]:53");
    CHECK_INT(c.servers[5].u.sa.sa_family, AF_INET6);
    CHECK_INT(c.servers[5].u.in6.sin6_scope_id, 1);
    CHECK_INT(nm_addr_port(&c.servers[5]), 53);
    CHECK_STR(host_of(&c, 6), "192.0.2.3:53");
}

TEST(nameserver_with_an_interface_name)
{
    nm_resolv_conf c;
    unsigned idx = if_nametoindex("lo");
    if (!idx) return; /* no loopback interface by that name here */
    CHECK_INT(parse(&c, "nameserver fe80::53%lo\n"), 0);
    CHECK_INT(c.nservers, 1);
    CHECK_INT(c.servers[0].u.in6.sin6_scope_id, idx);
}

TEST(bad_nameservers_are_skipped_and_counted)
{
    nm_resolv_conf c;
    CHECK_INT(parse(&c, "nameserver\n"
                        "nameserver example.com\n"
                        "nameserver 192.0.2.300\n"
                        "nameserver 192.0.2.1:0\n"
                        "nameserver [2001:db8::1\n"
                        "nameserver fe80::1%no-such-interface-here\n"
                        "nameserver 192.0.2.9\n"),
              6);
    CHECK_INT(c.nservers, 1);
    CHECK_STR(host_of(&c, 0), "192.0.2.9:53");
}

TEST(more_than_sixteen_nameservers_are_ignored_not_skipped)
{
    nm_resolv_conf c;
    char text[40 * 20] = "";
    for (int i = 1; i <= 20; i++) {
        char line[40];
        snprintf(line, sizeof line, "nameserver 192.0.2.%d\n", i);
        strcat(text, line);
    }
    CHECK_INT(parse(&c, text), 0);
    CHECK_INT(c.nservers, NM_MAX_SERVERS);
    CHECK_STR(host_of(&c, 15), "192.0.2.16:53");
}

TEST(the_last_search_or_domain_line_wins)
{
    nm_resolv_conf c;
    CHECK_INT(parse(&c, "search a.example b.example.\ndomain c.example\n"), 0);
    CHECK_INT(c.nsearch, 1);
    CHECK_STR(c.search[0], "c.example");
    CHECK_INT(parse(&c, "domain c.example d.example\nsearch a.example B.Example.\n"), 0);
    CHECK_INT(c.nsearch, 2);
    CHECK_STR(c.search[0], "a.example");
    CHECK_STR(c.search[1], "B.Example");
}

TEST(search_drops_bad_names_and_keeps_eight)
{
    nm_resolv_conf c;
    CHECK_INT(parse(&c, "search a..b good.example\n"), 0);
    CHECK_INT(c.nsearch, 1);
    CHECK_STR(c.search[0], "good.example");
    /* a line with no good name leaves the list as it was */
    CHECK_INT(parse(&c, "search one.example\nsearch a..b\nsearch\n"), 2);
    CHECK_INT(c.nsearch, 1);
    CHECK_STR(c.search[0], "one.example");
    CHECK_INT(parse(&c, "search d1 d2 d3 d4 d5 d6 d7 d8 d9 d10\n"), 0);
    CHECK_INT(c.nsearch, NM_MAX_SEARCH);
    CHECK_STR(c.search[7], "d8");
    CHECK_INT(parse(&c, "search . example.com\n"), 0);
    CHECK_INT(c.nsearch, 2);
    CHECK_STR(c.search[0], "");
}

TEST(options_with_glibc_limits)
{
    nm_resolv_conf c;
    CHECK_INT(parse(&c, "options ndots:3 timeout:2 attempts:4 rotate edns0 use-vc\n"), 0);
    CHECK_INT(c.ndots, 3);
    CHECK_INT(c.timeout, 2);
    CHECK_INT(c.attempts, 4);
    CHECK_INT(c.rotate, 1);
    CHECK_INT(c.edns0, 1);
    CHECK_INT(c.use_vc, 1);
    parse(&c, "options ndots:99 timeout:99 attempts:99999999999999999999\n");
    CHECK_INT(c.ndots, 15);
    CHECK_INT(c.timeout, 30);
    CHECK_INT(c.attempts, 5);
    parse(&c, "options ndots:0 timeout:0 attempts:0\n");
    CHECK_INT(c.ndots, 0);
    CHECK_INT(c.timeout, 1);
    CHECK_INT(c.attempts, 1);
    /* bad values and unknown options are ignored; options lines add up */
    CHECK_INT(parse(&c, "options ndots:2\noptions ndots:x timeout: attempts:-1 single-request inet6\n"
                        "options\ttimeout:7 # a comment: ndots:9\n"),
              0);
    CHECK_INT(c.ndots, 2);
    CHECK_INT(c.timeout, 7);
    CHECK_INT(c.attempts, -1);
    CHECK_INT(c.rotate, 0);
}

TEST(options_string_as_res_options_gives_it)
{
    nm_resolv_conf c;
    const char *env = "ndots:4 rotate bogus attempts:2";
    parse(&c, "options ndots:2 timeout:3\n");
    CHECK_INT(nm_resolvconf_options(&c, env, strlen(env)), 1);
    CHECK_INT(c.ndots, 4);
    CHECK_INT(c.timeout, 3);
    CHECK_INT(c.attempts, 2);
    CHECK_INT(c.rotate, 1);
}

TEST(comments_blanks_tabs_and_crlf)
{
    nm_resolv_conf c;
    CHECK_INT(parse(&c, "# generated by something\r\n"
                        "; another comment\r\n"
                        "   # indented comment\r\n"
                        "\r\n"
                        "\t \r\n"
                        "nameserver\t192.0.2.1\t# the first\r\n"
                        "nameserver 192.0.2.2;the second\r\n"
                        "search\ta.example\tb.example ; c.example\r\n"
                        "options ndots:2;timeout:9\r\n"
                        "nameserver 192.0.2.3"), /* no final line break */
              0);
    CHECK_INT(c.nservers, 3);
    CHECK_STR(host_of(&c, 1), "192.0.2.2:53");
    CHECK_STR(host_of(&c, 2), "192.0.2.3:53");
    CHECK_INT(c.nsearch, 2);
    CHECK_STR(c.search[1], "b.example");
    CHECK_INT(c.ndots, 2);
    CHECK_INT(c.timeout, -1);
}

TEST(unknown_and_malformed_lines_are_counted)
{
    nm_resolv_conf c;
    CHECK_INT(parse(&c, "Nameserver 192.0.2.1\n"     /* keywords are case-sensitive */
                        "nameserver192.0.2.1\n"      /* and need a blank after them */
                        "frobnicate yes\n"
                        "sortlist 130.155.160.0/255.255.240.0\n" /* known, ignored */
                        "lookup file bind\n"
                        "nameserver 192.0.2.5\n"),
              3);
    CHECK_INT(c.nservers, 1);
}

TEST(a_nul_byte_ends_its_line_as_in_c_string_parsers)
{
    nm_resolv_conf c;
    const char text[] = "nameserver 192.0.2.1\0junk\nsearch a\0b.example\nnameserver 192.0.2.2\n";
    CHECK_INT(nm_resolvconf_parse(&c, text, sizeof text - 1), 0);
    CHECK_INT(c.nservers, 2);
    CHECK_STR(host_of(&c, 0), "192.0.2.1:53");
    CHECK_INT(c.nsearch, 1);
    CHECK_STR(c.search[0], "a");
}

TEST(load_reads_a_file_and_a_missing_one_gives_defaults)
{
    nm_resolv_conf c;
    const char *path = scratch("resolv.conf");
    write_file(path, "nameserver 192.0.2.7\nbogus\noptions ndots:3\n");
    CHECK_INT(nm_resolvconf_load(&c, path), 1);
    CHECK_INT(c.nservers, 1);
    CHECK_INT(c.ndots, 3);
    unlink(path);
    CHECK_INT(nm_resolvconf_load(&c, path), NM_ENOTFOUND);
    CHECK_INT(c.nservers, 0);
    CHECK_INT(c.ndots, 1);
    /* a directory cannot be read as a file */
    CHECK_INT(nm_resolvconf_load(&c, tmpdir), NM_ENOTFOUND);
    CHECK_INT(nm_resolvconf_load(&c, ""), NM_ENOTFOUND);
}

TEST(file_read_cuts_an_oversized_file_at_a_line_break)
{
    const char *path = scratch("big");
    char *buf;
    size_t len;
    write_file(path, "line one\nline two\nline three\n");
    CHECK_INT(nm_file_read(path, 12, &buf, &len), NM_OK);
    CHECK_INT(len, 9);
    CHECK_STR(buf, "line one\n");
    free(buf);
    CHECK_INT(nm_file_read(path, 18, &buf, &len), NM_OK);
    CHECK_INT(len, 18);
    free(buf);
    CHECK_INT(nm_file_read(path, 1000, &buf, &len), NM_OK);
    CHECK_INT(len, 29);
    free(buf);
    write_file(path, "");
    CHECK_INT(nm_file_read(path, 1000, &buf, &len), NM_OK);
    CHECK_INT(len, 0);
    CHECK_STR(buf, "");
    free(buf);
    /* longer than the first buffer */
    {
        FILE *f = fopen(path, "wb");
        for (int i = 0; i < 3000; i++) fputs("nameserver 192.0.2.1\n", f);
        fclose(f);
    }
    CHECK_INT(nm_file_read(path, 1 << 20, &buf, &len), NM_OK);
    CHECK_INT(len, 3000 * 21);
    free(buf);
    unlink(path);
}

TEST(stamps_notice_every_kind_of_change)
{
    nm_file_stamp s;
    const char *p = scratch("watched");
    char other[128];
    struct timespec times[2];
    nm_file_stamp_init(&s);
    unlink(p);
    CHECK_INT(nm_resolvconf_changed(p, &s), 0); /* missing, as it was */
    write_file(p, "nameserver 192.0.2.1\n");
    CHECK_INT(nm_resolvconf_changed(p, &s), 1); /* appeared */
    CHECK_INT(nm_resolvconf_changed(p, &s), 0);
    write_file(p, "nameserver 192.0.2.11\n");
    CHECK_INT(nm_resolvconf_changed(p, &s), 1); /* grew */
    /* same size, only the time moves */
    times[0].tv_sec = times[1].tv_sec = 1000000000;
    times[0].tv_nsec = times[1].tv_nsec = 0;
    CHECK_INT(utimensat(AT_FDCWD, p, times, 0), 0);
    CHECK_INT(nm_resolvconf_changed(p, &s), 1);
    CHECK_INT(nm_resolvconf_changed(p, &s), 0);
    /* replaced by another file of the same size and time, as editors do */
    snprintf(other, sizeof other, "%s.new", p);
    write_file(other, "nameserver 192.0.2.12\n");
    CHECK_INT(utimensat(AT_FDCWD, other, times, 0), 0);
    {
        /* keep the old inode alive so the new file cannot reuse its number */
        int fd = open(p, O_RDONLY);
        CHECK_INT(rename(other, p), 0);
        CHECK_INT(nm_resolvconf_changed(p, &s), 1);
        if (fd >= 0) close(fd);
    }
    unlink(p);
    CHECK_INT(nm_resolvconf_changed(p, &s), 1); /* went away */
    CHECK_INT(s.exists, 0);
    CHECK_INT(nm_resolvconf_changed(p, &s), 0);
}

/* the candidates as one string, "a b c" */
static const char *cands(const nm_resolv_conf *c, const char *name, int max)
{
    static char joined[4096];
    char out[16][NM_NAME_TEXT_MAX];
    int n = nm_resolvconf_candidates(c, name, out, max);
    if (n < 0) {
        snprintf(joined, sizeof joined, "error %d", n);
        return joined;
    }
    joined[0] = 0;
    for (int i = 0; i < n; i++) {
        if (i) strcat(joined, " ");
        strcat(joined, out[i]);
    }
    return joined;
}

TEST(search_list_order_follows_glibc)
{
    nm_resolv_conf c;
    parse(&c, "search a.example b.example\n");
    CHECK_STR(cands(&c, "www", 16), "www.a.example www.b.example www");
    CHECK_STR(cands(&c, "www.corp", 16), "www.corp www.corp.a.example www.corp.b.example");
    CHECK_STR(cands(&c, "www.corp.", 16), "www.corp");
    CHECK_STR(cands(&c, "WWW", 16), "WWW.a.example WWW.b.example WWW");
    parse(&c, "search a.example b.example\noptions ndots:2\n");
    CHECK_STR(cands(&c, "www.corp", 16), "www.corp.a.example www.corp.b.example www.corp");
    CHECK_STR(cands(&c, "x.www.corp", 16), "x.www.corp x.www.corp.a.example x.www.corp.b.example");
    parse(&c, "search a.example\noptions ndots:0\n");
    CHECK_STR(cands(&c, "www", 16), "www www.a.example");
}

TEST(search_candidates_edge_cases)
{
    nm_resolv_conf c;
    char big[300];
    parse(&c, "");
    CHECK_STR(cands(&c, "www", 16), "www");
    CHECK_STR(cands(&c, ".", 16), ".");
    CHECK_STR(cands(&c, "", 16), "."); /* Twisted's root */
    CHECK_STR(cands(&c, "a..b", 16), "error -13");
    parse(&c, "search a.example a.example A.EXAMPLE b.example\n");
    CHECK_STR(cands(&c, "www", 16), "www.a.example www.b.example www");
    CHECK_STR(cands(&c, "www", 2), "www.a.example www.b.example");
    CHECK_STR(cands(&c, "www", 0), "");
    /* the root on the list is the name as it is, at that place */
    parse(&c, "search . a.example\n");
    CHECK_STR(cands(&c, "www", 16), "www www.a.example");
    parse(&c, "search a.example .\n");
    CHECK_STR(cands(&c, "www", 16), "www.a.example www");
    parse(&c, "search a.example . b.example\noptions ndots:0\n");
    CHECK_STR(cands(&c, "www", 16), "www www.a.example www.b.example");
    /* an escaped dot neither ends the name nor counts */
    parse(&c, "search a.example\n");
    CHECK_STR(cands(&c, "w\\.x", 16), "w\\.x.a.example w\\.x");
    CHECK_STR(cands(&c, "w\\\\.", 16), "w\\\\");
    /* a candidate over 255 octets is left out */
    memset(big, 'x', 63);
    big[63] = '.';
    memcpy(big + 64, big, 64);
    memcpy(big + 128, big, 64);
    memset(big + 192, 'y', 60);
    big[252] = 0;
    CHECK_INT(nm_resolvconf_candidates(&c, big, (char(*)[NM_NAME_TEXT_MAX])NULL, 0), 0);
    {
        char out[4][NM_NAME_TEXT_MAX];
        CHECK_INT(nm_resolvconf_candidates(&c, big, out, 4), 1);
        CHECK_STR(out[0], big);
    }
}

TEST(scratch_directory_is_removed)
{
    if (tmpdir[0]) CHECK_INT(rmdir(tmpdir), 0);
}

int main(void)
{
    return ctest_main();
}
