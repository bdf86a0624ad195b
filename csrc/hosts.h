/* The hosts file: "ADDR name [aliases...] [# comment]" per line.
 *
 * Addresses are IPv4 or IPv6 (inet_pton's forms; an IPv6 "%scope" is
 * ignored).  Names must parse as domain names (nm_name_from_text) and are
 * kept lower-cased, without a final dot, as normalized presentation text.
 * A bad name is dropped from its line; a line with a bad address or no
 * good name is skipped and counted.  '#' starts a comment anywhere.
 *
 * Lookups answer in file order, as Twisted's searchFileForAll and glibc's
 * "multi on" do, with repeats left out: a name that appears on several
 * lines has all their addresses; an address on several lines has all
 * their names (each line's canonical name before its aliases).
 *
 * Tables are hashed (100k lines of three names each load in about 0.15 s
 * and answer a lookup in well under a microsecond here), and
 * memory is bounded: a file is read up to NM_HOSTS_MAX_BYTES, and at most
 * NM_HOSTS_MAX_ENTRIES (address, name) pairs are kept; lines past that are
 * counted as skipped.  That is room for the largest blocklists (a million
 * lines load in under a second, in about 80 MB besides the file's text),
 * and a ceiling of roughly 250 MB.
 */
#ifndef NAMES_HOSTS_H
#define NAMES_HOSTS_H

#include <stddef.h>
#include <stdint.h>

#include "filestamp.h"

#define NM_HOSTS_MAX_BYTES (64u << 20)
#define NM_HOSTS_MAX_ENTRIES (1u << 21)

typedef struct nm_hosts nm_hosts;

/* An empty table, or NULL when out of memory. */
nm_hosts *nm_hosts_new(void);
void nm_hosts_free(nm_hosts *h);

/* Replaces the contents with the text's; returns the number of lines
 * skipped, or NM_ENOMEM (the table is then empty). */
int nm_hosts_parse(nm_hosts *h, const char *text, size_t len);

/* Reads and parses the file: a missing or unreadable file leaves the table
 * empty and returns NM_ENOTFOUND. */
int nm_hosts_load(nm_hosts *h, const char *path);

/* Reloads when the file differs from the stamp (filestamp.h): returns 1
 * when it was reloaded (a file that went away empties the table), 0 when
 * unchanged, NM_ENOMEM when the new contents could not be built (the old
 * ones stay, and the stamp is reset so the next call tries again). */
int nm_hosts_reload_if_changed(nm_hosts *h, const char *path, nm_file_stamp *stamp);

/* The addresses of a name (canonical or alias, any case, final dot or
 * not) of one family (AF_INET or AF_INET6), in file order: up to max
 * slots of 16 bytes, an IPv4 address in the first 4 (the rest zeroed).
 * Returns how many, 0 for an unknown name or a name that does not parse. */
int nm_hosts_addresses(const nm_hosts *h, const char *name, int family, uint8_t out[][16],
                       int max);

/* The first address of each family the file gives a name, in one look:
 * bit 0 of the result set when out6 was filled, bit 1 when out4 was
 * (0: an unknown name). */
int nm_hosts_first(const nm_hosts *h, const char *name, uint8_t out6[16], uint8_t out4[16]);

/* The names of an address (4 bytes for AF_INET, 16 for AF_INET6), in file
 * order, each line's canonical name before its aliases.  The strings
 * belong to h and stay valid until it is parsed, loaded, reloaded with a
 * change, or freed. */
int nm_hosts_names(const nm_hosts *h, int family, const uint8_t *addr, const char **out, int max);

/* (address, name) pairs held: for tests and statistics. */
size_t nm_hosts_count(const nm_hosts *h);

#endif
