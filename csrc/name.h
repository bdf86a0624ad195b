/* Domain names.  Inside the core a name is kept in uncompressed wire form
 * (length-prefixed labels ending with the root's zero byte, at most 255
 * octets); it becomes text only at the edge, with the escapes of RFC 4343
 * and BIND (\. \\ and \DDD). */
#ifndef NAMES_NAME_H
#define NAMES_NAME_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define NM_NAME_MAX 255
#define NM_LABEL_MAX 63
/* Each hop must go strictly backwards, so loops are impossible; the cap
 * bounds the work a chain of pointers can ask for. */
#define NM_PTR_HOPS 64
/* Text of a name: every octet may become \DDD, plus dots and a NUL. */
#define NM_NAME_TEXT_MAX (NM_NAME_MAX * 4 + 2)

/* Reads the possibly compressed name at r->pos into out (NM_NAME_MAX
 * bytes, of which those past the name's end may be overwritten; or NULL to
 * validate only) and moves r->pos past the name as it sits in place.
 * Compression targets index r->buf and must point before the pointer. */
int nm_name_read(nm_reader *r, uint8_t *out, size_t *outlen);
/* The same, also telling how many pointers it followed. */
int nm_name_read_hops(nm_reader *r, uint8_t *out, size_t *outlen, int *hops);

/* Parses presentation text ("www.example.com", "www.example.com.", "." or
 * "" for the root, with \. and \DDD escapes) into wire form. */
int nm_name_from_text(const char *text, size_t len, uint8_t *out, size_t *outlen);

enum {
    NM_TEXT_DOT = 1 /* end with the root's dot, as dig prints ("." alone for the root) */
};
/* Writes the text of a wire name to out (NM_NAME_TEXT_MAX bytes) and
 * returns its length.  Without NM_TEXT_DOT the root is "" and no final dot
 * is written, as Twisted's Name.name. */
size_t nm_name_to_text(const uint8_t *wire, char *out, int flags);

/* Length in octets of a well-formed uncompressed wire name. */
size_t nm_name_len(const uint8_t *wire);
int nm_name_labels(const uint8_t *wire);
/* Case-insensitive (ASCII) equality of two uncompressed wire names. */
int nm_name_equal(const uint8_t *a, const uint8_t *b);
/* Lower-cases an uncompressed wire name in place. */
void nm_name_lower(uint8_t *wire);

/* Appends a name; with compress set, reuses the longest suffix already in
 * the message (case-sensitive, so 0x20 case survives) and records the new
 * labels as targets for later names. */
void nm_wr_name(nm_writer *w, const uint8_t *wire, int compress);

#endif
