/* Record types as data.
 *
 * Each type's rdata is described once, as a list of fields.  The same
 * description drives the decoder's checks (message.c), the encoder
 * (rdata.c), the text form dig prints (rdata_text.c), the Lua field names
 * and constructor arguments, and the Twisted repr (the binding reads
 * `repr`).  A type that is not in the table is RFC 3597 opaque data.
 */
#ifndef NAMES_RRTYPE_H
#define NAMES_RRTYPE_H

#include <stdint.h>

#include "lists.h"

/* The kinds of rdata fields: NM_FK_<name>, and the kind's name in Lua
 * (names.dns builds its classes from it: both name kinds read alike). */
#define NM_FIELD_KIND_LIST(X) \
    X(U8, "u8") \
    X(U16, "u16") \
    X(U32, "u32") \
    X(U48, "u48") /* TSIG time signed */ \
    X(TYPE, "type") /* a u16 type number, shown as a mnemonic (RRSIG) */ \
    X(TIME, "time") /* a u32 time, shown as YYYYMMDDHHMMSS (RRSIG) */ \
    X(NAME, "name") /* a domain name, compressed on write (RFC 1035 types) */ \
    X(NAME_NC, "name") /* a domain name never compressed on write (RFC 3597) */ \
    X(IPV4, "ipv4") \
    X(IPV6, "ipv6") \
    X(STRING, "string") /* one <character-string> */ \
    X(STRINGS, "strings") /* character-strings to the end of the rdata (TXT) */ \
    X(TAG, "tag") /* a length-prefixed string shown bare (CAA tag) */ \
    X(TEXT, "text") /* the rest as one string, shown quoted (CAA value, URI) */ \
    X(HEX, "hex") /* the rest, shown as hex */ \
    X(BASE64, "base64") /* the rest, shown as base64 */ \
    X(OPAQUE, "opaque") /* the rest, shown in RFC 3597 form (NULL, unknown) */ \
    X(SALT, "salt") /* u8 length + bytes, hex or "-" (NSEC3) */ \
    X(HASH, "hash") /* u8 length + bytes, base32hex (NSEC3) */ \
    X(B64_16, "base64_16") /* u16 length + bytes, base64 (TSIG MAC) */ \
    X(OTHER16, "other16") /* u16 length + bytes, base64; BIND ends TSIG's other data with a space even when it is empty */ \
    X(BITMAP, "bitmap") /* NSEC type bitmap: the rest */ \
    X(PORTS, "ports") /* WKS port bitmap: the rest */ \
    X(A6LEN, "a6len") /* A6 prefix length: sizes the next two fields */ \
    X(A6SUFFIX, "a6suffix") /* the low 128 - prefix bits of an address */ \
    X(A6PREFIX, "a6prefix") /* a name, present only when the prefix length > 0 */ \
    X(PARAMS, "params") /* SVCB SvcParams: the rest */ \
    X(RCODE, "rcode") /* a u16 extended rcode, shown by name (TSIG, TKEY error) */

#define NM_FIELD_KIND_ENUM(name, text) NM_FK_##name,
enum nm_field_kind { NM_FIELD_KIND_LIST(NM_FIELD_KIND_ENUM) };
enum { NM_NFIELD_KINDS = 0 NM_FIELD_KIND_LIST(NM_LIST_COUNT) };
#undef NM_FIELD_KIND_ENUM

/* "u8", "name", ...; "?" for no kind. */
const char *nm_field_kind_name(int kind);

#define NM_MAX_FIELDS 9

typedef struct nm_field {
    uint8_t kind;
    const char *name; /* the Lua field and constructor argument, as Twisted names it */
} nm_field;

/* The classes a type's layout holds in, as BIND has them (rdata in any
 * other class is opaque, and dig prints it in RFC 3597 form). */
enum {
    NM_RT_IN_ONLY = 1,  /* class IN only (AAAA, WKS, SRV, A6, SVCB, HTTPS) */
    NM_RT_META = 2,     /* not zone data (OPT, TSIG, TKEY) */
    NM_RT_IN_HS = 4,    /* classes IN and HS (A; CH's A is another layout) */
    NM_RT_ANY_ONLY = 8  /* class ANY only (TSIG, TKEY) */
};

typedef struct nm_rrtype {
    uint16_t type;
    uint8_t flags;
    uint8_t nfields;
    const char *mnemonic; /* as dig prints it */
    const char *cls;      /* the Lua class, Twisted's Record_<cls> */
    /* Twisted's repr: space separated `field[=shown]:style`, style one of
     * r (Python repr), s (%s), n (_nicebytes), l (_nicebyteslist),
     * b (repr of bytes, b'...') and the word "ttl" for the record's ttl. */
    const char *repr;
    nm_field fields[NM_MAX_FIELDS];
} nm_rrtype;

/* The description of a type, or NULL for an opaque one. */
const nm_rrtype *nm_rrtype_find(uint16_t type);
/* The description to use for a record of this type and class. */
const nm_rrtype *nm_rrtype_for(uint16_t type, uint16_t cls);
/* All described types, for the binding to build its classes from. */
const nm_rrtype *nm_rrtype_at(int i);
int nm_rrtype_count(void);

/* Mnemonics: "A", "TYPE65280"; "IN", "CLASS7".  buf holds 16 bytes. */
const char *nm_type_name(uint16_t type, char *buf);
const char *nm_class_name(uint16_t cls, char *buf);
/* Parses a mnemonic or TYPEnnn; returns -1 when unknown. */
int nm_type_from_name(const char *name);

#endif
