/* Reading and writing rdata field by field, as the type table describes. */
#ifndef NAMES_RDATA_H
#define NAMES_RDATA_H

#include <stddef.h>
#include <stdint.h>

#include "name.h"
#include "rrtype.h"
#include "wire.h"

/* One field's value.  Integers in num; byte fields point into the message
 * (or the caller's data when writing); names are decompressed into name. */
typedef struct nm_value {
    uint64_t num;
    const uint8_t *data;
    size_t len;
    uint8_t name[NM_NAME_MAX];
    size_t namelen;
} nm_value;

/* Walks the fields of one record's rdata inside a message. */
typedef struct nm_rdata_iter {
    nm_reader r;           /* the message, cut off at the rdata's end */
    const nm_rrtype *type; /* NULL: opaque */
    int field;
    uint8_t a6len;
    uint8_t check_only;    /* names are checked, not copied (nm_rdata_check) */
} nm_rdata_iter;

/* wire/len: the whole message (names may point anywhere before them);
 * rdata/rdlen: the record's rdata inside it. */
void nm_rdata_begin(nm_rdata_iter *it, const uint8_t *wire, size_t rdata, size_t rdlen,
                    const nm_rrtype *type);
/* Fills *v with the next field and returns 1, returns 0 after the last
 * field, or an error.  The opaque description yields one NM_FK_OPAQUE. */
int nm_rdata_next(nm_rdata_iter *it, const nm_field **f, nm_value *v);
/* Walks every field and checks that they fill the rdata exactly. */
int nm_rdata_check(const uint8_t *wire, size_t rdata, size_t rdlen, const nm_rrtype *type);

/* Writing: a context carries what one field tells the next (A6). */
typedef struct nm_rdata_out {
    nm_writer *w;
    uint8_t a6len;
} nm_rdata_out;

/* Writes one field.  Integers come from v->num, names from v->name, bytes
 * from v->data/len (for IPV4/IPV6: 4 or 16 address bytes; for A6SUFFIX
 * the 16 bytes of an address or the suffix bytes as read; for STRINGS,
 * BITMAP, PORTS, PARAMS: the field's wire bytes).  Every value
 * nm_rdata_next yields is accepted back as it is.  Returns
 * NM_EVALUE when the value does not fit the field. */
int nm_rdata_put(nm_rdata_out *out, const nm_field *f, const nm_value *v);

/* Helpers for the list-valued kinds. */
/* Next character-string of a STRINGS field: 1 with the string in s and n, or 0 at the end. */
int nm_strings_next(const uint8_t **p, const uint8_t *end, const uint8_t **s, size_t *n);
/* Next type in an NSEC bitmap: 1 and *type, or 0 at the end.  *state
 * starts at 0. */
int nm_bitmap_next(const uint8_t *map, size_t len, size_t *state, uint16_t *type);
/* Encodes a sorted list of types as an NSEC bitmap into w. */
void nm_wr_bitmap(nm_writer *w, const uint16_t *types, size_t n);

#endif
