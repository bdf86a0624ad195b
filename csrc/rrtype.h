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

enum nm_field_kind {
    NM_FK_U8,
    NM_FK_U16,
    NM_FK_U32,
    NM_FK_U48,      /* TSIG time signed */
    NM_FK_TYPE,     /* a u16 type number, shown as a mnemonic (RRSIG) */
    NM_FK_TIME,     /* a u32 time, shown as YYYYMMDDHHMMSS (RRSIG) */
    NM_FK_NAME,     /* a domain name, compressed on write (RFC 1035 types) */
    NM_FK_NAME_NC,  /* a domain name never compressed on write (RFC 3597) */
    NM_FK_IPV4,
    NM_FK_IPV6,
    NM_FK_STRING,   /* one <character-string> */
    NM_FK_STRINGS,  /* character-strings to the end of the rdata (TXT) */
    NM_FK_TAG,      /* a length-prefixed string shown bare (CAA tag) */
    NM_FK_TEXT,     /* the rest as one string, shown quoted (CAA value, URI) */
    NM_FK_HEX,      /* the rest, shown as hex */
    NM_FK_BASE64,   /* the rest, shown as base64 */
    NM_FK_OPAQUE,   /* the rest, shown in RFC 3597 form (NULL, unknown) */
    NM_FK_SALT,     /* u8 length + bytes, hex or "-" (NSEC3) */
    NM_FK_HASH,     /* u8 length + bytes, base32hex (NSEC3) */
    NM_FK_B64_16,   /* u16 length + bytes, base64 (TSIG MAC) */
    NM_FK_OTHER16,  /* u16 length + bytes, base64; BIND ends TSIG's other data
                     * with a space even when it is empty */
    NM_FK_BITMAP,   /* NSEC type bitmap: the rest */
    NM_FK_PORTS,    /* WKS port bitmap: the rest */
    NM_FK_A6LEN,    /* A6 prefix length: sizes the next two fields */
    NM_FK_A6SUFFIX, /* the low 128 - prefix bits of an address */
    NM_FK_A6PREFIX, /* a name, present only when the prefix length > 0 */
    NM_FK_PARAMS,   /* SVCB SvcParams: the rest */
    NM_FK_RCODE     /* a u16 extended rcode, shown by name (TSIG, TKEY error) */
};

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
