/* resolv.conf, read as glibc and c-ares read it, and the search list.
 *
 * Lines understood (anything else is skipped and counted, never fatal):
 *   nameserver ADDR     "192.0.2.1", "2001:db8::1", c-ares' "192.0.2.1:5353",
 *                       "[2001:db8::1]:5353" and "fe80::1%eth0" (port 53 by
 *                       default); after NM_MAX_SERVERS the rest are ignored
 *                       (not counted as skipped: they are well formed).
 *                       What follows the address on the line is ignored,
 *                       as glibc does.
 *   search a b c        the search list; the last search or domain line
 *                       wins, as in glibc.  Names that do not parse are
 *                       dropped; a line left with none is skipped and the
 *                       earlier list stays.  After NM_MAX_SEARCH the rest
 *                       are ignored.  "." stands for the root: the name
 *                       is tried as it is at that point of the list.
 *   domain d            a search list of one (extra words ignored, as glibc)
 *   options ...         ndots:N (capped at 15), timeout:N (1..30),
 *                       attempts:N (1..5), rotate, edns0, use-vc; glibc's
 *                       caps.  N must be decimal digits, or the option is
 *                       ignored.  Unknown options are ignored (they are
 *                       glibc's, c-ares' or a newer libc's).
 *   sortlist, lookup, family   known to other resolvers, ignored, not skipped
 * Keywords are case-sensitive and must be followed by a space or a tab, as
 * in glibc.  '#' or ';' starts a comment anywhere in a line (c-ares; glibc
 * only at the start, but neither character can appear in an address, an
 * option or a host name).  A NUL byte ends its line, as it would for a C
 * string parser.  Tabs, CRLF line ends and blank lines are fine.
 *
 * Choices: no search list is derived from gethostname() when the file has
 * none, and LOCALDOMAIN / RES_OPTIONS are not read here: the caller may
 * apply RES_OPTIONS with nm_resolvconf_options.  The caller adds
 * 127.0.0.1:53 when nservers is 0.
 */
#ifndef NAMES_RESOLVCONF_H
#define NAMES_RESOLVCONF_H

#include <stddef.h>

#include "addr.h"
#include "filestamp.h"
#include "name.h"

#define NM_MAX_SERVERS 16
#define NM_MAX_SEARCH 8
/* glibc's limits (RES_MAXNDOTS, RES_MAXRETRANS, RES_MAXRETRY) */
#define NM_MAX_NDOTS 15
#define NM_MAX_TIMEOUT 30
#define NM_MAX_ATTEMPTS 5
/* A resolv.conf larger than this is read only this far (to its last line
 * break); real ones are a few hundred bytes. */
#define NM_RESOLVCONF_MAX_BYTES (1 << 20)

typedef struct nm_resolv_conf {
    nm_addr servers[NM_MAX_SERVERS];
    int nservers;
    /* presentation text without the final dot; "" is the root */
    char search[NM_MAX_SEARCH][NM_NAME_TEXT_MAX];
    int nsearch;
    int ndots;    /* 1 unless set */
    int timeout;  /* seconds, -1 when not set */
    int attempts; /* -1 when not set */
    int rotate, edns0, use_vc;
} nm_resolv_conf;

/* No servers, no search list, ndots 1, timeout and attempts unset. */
void nm_resolvconf_defaults(nm_resolv_conf *c);

/* Parses a whole file's text into c, starting from the defaults.  Never
 * fails on content: returns the number of lines skipped. */
int nm_resolvconf_parse(nm_resolv_conf *c, const char *text, size_t len);

/* Applies an options string ("ndots:2 rotate", RES_OPTIONS' form) on top
 * of what c holds.  Returns the number of options not understood. */
int nm_resolvconf_options(nm_resolv_conf *c, const char *text, size_t len);

/* Reads and parses the file.  A missing or unreadable file leaves the
 * defaults in c and returns NM_ENOTFOUND; otherwise the lines skipped. */
int nm_resolvconf_load(nm_resolv_conf *c, const char *path);

/* 1 when the file differs from the stamp (and the stamp is updated), so
 * that the caller re-reads it; see filestamp.h. */
int nm_resolvconf_changed(const char *path, nm_file_stamp *stamp);

/* The names to query for `name`, in order, as glibc's res_search tries
 * them:
 *   - ending with '.': absolute, only itself (without the dot);
 *   - at least ndots dots: as it is first, then with each search domain;
 *   - fewer dots: with each search domain, then as it is.
 * Dots are counted between labels, so an escaped "\." does not count
 * (glibc counts every '.' character).  Candidates are normalized text
 * (nm_name_to_text, no final dot; the root is "."), duplicates are left
 * out, and one that would exceed 255 octets is skipped.  Returns how many
 * were written (at most max), or NM_ESYNTAX & co. when name does not
 * parse.  The empty name is the root, as in Twisted. */
int nm_resolvconf_candidates(const nm_resolv_conf *c, const char *name,
                             char out[][NM_NAME_TEXT_MAX], int max);

#endif
