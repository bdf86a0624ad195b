#include "rrtype.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define F(kind, name) { NM_FK_##kind, name }

#define SIMPLE_NAME(num, mn, kind) \
    { num, 0, 1, mn, mn, "name:s ttl", { F(kind, "name") } }

/* Sorted by type number: nm_rrtype_find searches it. */
static const nm_rrtype types[] = {
    { 1, NM_RT_IN_HS, 1, "A", "A", "address:s ttl", { F(IPV4, "address") } },
    SIMPLE_NAME(2, "NS", NAME),
    SIMPLE_NAME(3, "MD", NAME),
    SIMPLE_NAME(4, "MF", NAME),
    SIMPLE_NAME(5, "CNAME", NAME),
    { 6, 0, 7, "SOA", "SOA",
      "mname:s rname:s serial:r refresh:r retry:r expire:r minimum:r ttl",
      { F(NAME, "mname"), F(NAME, "rname"), F(U32, "serial"), F(U32, "refresh"),
        F(U32, "retry"), F(U32, "expire"), F(U32, "minimum") } },
    SIMPLE_NAME(7, "MB", NAME),
    SIMPLE_NAME(8, "MG", NAME),
    SIMPLE_NAME(9, "MR", NAME),
    { 10, 0, 1, "NULL", "NULL", "payload:n ttl", { F(OPAQUE, "payload") } },
    { 11, NM_RT_IN_ONLY, 3, "WKS", "WKS", "address:s protocol:r ttl",
      { F(IPV4, "address"), F(U8, "protocol"), F(PORTS, "map") } },
    SIMPLE_NAME(12, "PTR", NAME),
    { 13, 0, 2, "HINFO", "HINFO", "cpu:n os:n ttl", { F(STRING, "cpu"), F(STRING, "os") } },
    { 14, 0, 2, "MINFO", "MINFO", "rmailbx=responsibility:s emailbx=errors:s ttl",
      { F(NAME, "rmailbx"), F(NAME, "emailbx") } },
    { 15, 0, 2, "MX", "MX", "preference:r name:s ttl",
      { F(U16, "preference"), F(NAME, "name") } },
    { 16, 0, 1, "TXT", "TXT", "data:l ttl", { F(STRINGS, "data") } },
    { 17, 0, 2, "RP", "RP", "mbox:s txt:s ttl", { F(NAME_NC, "mbox"), F(NAME_NC, "txt") } },
    { 18, 0, 2, "AFSDB", "AFSDB", "subtype:r hostname:s ttl",
      { F(U16, "subtype"), F(NAME_NC, "hostname") } },
    { 28, NM_RT_IN_ONLY, 1, "AAAA", "AAAA", "address:s ttl", { F(IPV6, "address") } },
    { 33, NM_RT_IN_ONLY, 4, "SRV", "SRV", "priority:r weight:r target:s port:r ttl",
      { F(U16, "priority"), F(U16, "weight"), F(U16, "port"), F(NAME_NC, "target") } },
    { 35, 0, 6, "NAPTR", "NAPTR",
      "order:r preference:r flags:s service:s regexp:s replacement:s ttl",
      { F(U16, "order"), F(U16, "preference"), F(STRING, "flags"), F(STRING, "service"),
        F(STRING, "regexp"), F(NAME_NC, "replacement") } },
    { 38, NM_RT_IN_ONLY, 3, "A6", "A6", "suffix:s prefix:s ttl",
      { F(A6LEN, "prefixLen"), F(A6SUFFIX, "suffix"), F(A6PREFIX, "prefix") } },
    SIMPLE_NAME(39, "DNAME", NAME_NC),
    { 41, NM_RT_META, 1, "OPT", "OPT", "data:n ttl", { F(OPAQUE, "data") } },
    { 43, 0, 4, "DS", "DS", "keyTag:r algorithm:r digestType:r digest:d ttl",
      { F(U16, "keyTag"), F(U8, "algorithm"), F(U8, "digestType"), F(HEX, "digest") } },
    { 44, 0, 3, "SSHFP", "SSHFP", "algorithm:r fingerprintType:r fingerprint:b",
      { F(U8, "algorithm"), F(U8, "fingerprintType"), F(HEX, "fingerprint") } },
    { 46, 0, 9, "RRSIG", "RRSIG",
      "typeCovered:r algorithm:r labels:r originalTTL:r expiration:r inception:r "
      "keyTag:r signerName:s signature:d ttl",
      { F(TYPE, "typeCovered"), F(U8, "algorithm"), F(U8, "labels"), F(U32, "originalTTL"),
        F(TIME, "expiration"), F(TIME, "inception"), F(U16, "keyTag"),
        F(NAME_NC, "signerName"), F(BASE64, "signature") } },
    { 47, 0, 2, "NSEC", "NSEC", "nextDomainName:s types:d ttl",
      { F(NAME_NC, "nextDomainName"), F(BITMAP, "types") } },
    { 48, 0, 4, "DNSKEY", "DNSKEY", "flags:r protocol:r algorithm:r key:d ttl",
      { F(U16, "flags"), F(U8, "protocol"), F(U8, "algorithm"), F(BASE64, "key") } },
    { 50, 0, 6, "NSEC3", "NSEC3",
      "hashAlgorithm:r flags:r iterations:r salt:d nextHashedOwnerName:d types:d ttl",
      { F(U8, "hashAlgorithm"), F(U8, "flags"), F(U16, "iterations"), F(SALT, "salt"),
        F(HASH, "nextHashedOwnerName"), F(BITMAP, "types") } },
    { 51, 0, 4, "NSEC3PARAM", "NSEC3PARAM", "hashAlgorithm:r flags:r iterations:r salt:d ttl",
      { F(U8, "hashAlgorithm"), F(U8, "flags"), F(U16, "iterations"), F(SALT, "salt") } },
    { 52, 0, 4, "TLSA", "TLSA", "usage:r selector:r matchingType:r data:d ttl",
      { F(U8, "usage"), F(U8, "selector"), F(U8, "matchingType"), F(HEX, "data") } },
    { 53, 0, 4, "SMIMEA", "SMIMEA", "usage:r selector:r matchingType:r data:d ttl",
      { F(U8, "usage"), F(U8, "selector"), F(U8, "matchingType"), F(HEX, "data") } },
    { 59, 0, 4, "CDS", "CDS", "keyTag:r algorithm:r digestType:r digest:d ttl",
      { F(U16, "keyTag"), F(U8, "algorithm"), F(U8, "digestType"), F(HEX, "digest") } },
    { 60, 0, 4, "CDNSKEY", "CDNSKEY", "flags:r protocol:r algorithm:r key:d ttl",
      { F(U16, "flags"), F(U8, "protocol"), F(U8, "algorithm"), F(BASE64, "key") } },
    { 61, 0, 1, "OPENPGPKEY", "OPENPGPKEY", "key:d ttl", { F(BASE64, "key") } },
    { 64, NM_RT_IN_ONLY, 3, "SVCB", "SVCB", "priority:r target:s params:d ttl",
      { F(U16, "priority"), F(NAME_NC, "target"), F(PARAMS, "params") } },
    { 65, NM_RT_IN_ONLY, 3, "HTTPS", "HTTPS", "priority:r target:s params:d ttl",
      { F(U16, "priority"), F(NAME_NC, "target"), F(PARAMS, "params") } },
    { 99, 0, 1, "SPF", "SPF", "data:l ttl", { F(STRINGS, "data") } },
    /* Twisted has no TKEY class: its repr follows TSIG's. */
    { 249, NM_RT_META | NM_RT_ANY_ONLY, 7, "TKEY", "TKEY",
      "algorithm:s inception:r expiration:r mode:r error:r key:b otherData:b",
      { F(NAME_NC, "algorithm"), F(U32, "inception"), F(U32, "expiration"), F(U16, "mode"),
        F(RCODE, "error"), F(B64_16, "key"), F(B64_16, "otherData") } },
    { 250, NM_RT_META | NM_RT_ANY_ONLY, 7, "TSIG", "TSIG",
      "algorithm:s timeSigned:r MAC:b error:r otherData:b",
      { F(NAME_NC, "algorithm"), F(U48, "timeSigned"), F(U16, "fudge"), F(B64_16, "MAC"),
        F(U16, "originalID"), F(RCODE, "error"), F(OTHER16, "otherData") } },
    { 256, 0, 3, "URI", "URI", "priority:r weight:r target:s ttl",
      { F(U16, "priority"), F(U16, "weight"), F(TEXT, "target") } },
    { 257, 0, 3, "CAA", "CAA", "flags:r tag:s value:n ttl",
      { F(U8, "flags"), F(TAG, "tag"), F(TEXT, "value") } },
};

#define NTYPES ((int)(sizeof types / sizeof types[0]))

const nm_rrtype *nm_rrtype_find(uint16_t type)
{
    int lo = 0, hi = NTYPES - 1;
    /* Types 1 to 18 fill the table's first 18 slots: no search for them. */
    if (type >= 1 && type <= 18) return &types[type - 1];
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (types[mid].type == type) return &types[mid];
        if (types[mid].type < type) lo = mid + 1;
        else hi = mid - 1;
    }
    return NULL;
}

const nm_rrtype *nm_rrtype_for(uint16_t type, uint16_t cls)
{
    const nm_rrtype *t = nm_rrtype_find(type);
    if (!t) return NULL;
    if ((t->flags & NM_RT_IN_ONLY) && cls != 1) return NULL;
    if ((t->flags & NM_RT_IN_HS) && cls != 1 && cls != 4) return NULL;
    if ((t->flags & NM_RT_ANY_ONLY) && cls != 255) return NULL;
    return t;
}

const nm_rrtype *nm_rrtype_at(int i)
{
    return i >= 0 && i < NTYPES ? &types[i] : NULL;
}

int nm_rrtype_count(void)
{
    return NTYPES;
}

/* Types that have a mnemonic but no rdata description of their own: every
 * other type BIND 9.18 names, so that the type column, NSEC bitmaps and
 * RRSIG's type covered print as dig prints them (their rdata stays in
 * RFC 3597 form).  Sorted by number. */
static const struct {
    uint16_t type;
    const char *name;
} meta_names[] = {
    { 19, "X25" }, { 20, "ISDN" }, { 21, "RT" }, { 22, "NSAP" }, { 23, "NSAP-PTR" },
    { 24, "SIG" }, { 25, "KEY" }, { 26, "PX" }, { 27, "GPOS" }, { 29, "LOC" },
    { 30, "NXT" }, { 31, "EID" }, { 32, "NIMLOC" }, { 34, "ATMA" }, { 36, "KX" },
    { 37, "CERT" }, { 40, "SINK" }, { 42, "APL" }, { 45, "IPSECKEY" }, { 49, "DHCID" },
    { 55, "HIP" }, { 56, "NINFO" }, { 57, "RKEY" }, { 58, "TALINK" }, { 62, "CSYNC" },
    { 63, "ZONEMD" }, { 66, "DSYNC" }, { 67, "HHIT" }, { 68, "BRID" }, { 100, "UINFO" },
    { 101, "UID" }, { 102, "GID" }, { 103, "UNSPEC" }, { 104, "NID" }, { 105, "L32" },
    { 106, "L64" }, { 107, "LP" }, { 108, "EUI48" }, { 109, "EUI64" },
    { 251, "IXFR" }, { 252, "AXFR" }, { 253, "MAILB" }, { 254, "MAILA" }, { 255, "ANY" },
    { 258, "AVC" }, { 259, "DOA" }, { 260, "AMTRELAY" }, { 261, "RESINFO" },
    { 262, "WALLET" }, { 32768, "TA" }, { 32769, "DLV" },
};

const char *nm_type_name(uint16_t type, char *buf)
{
    const nm_rrtype *t = nm_rrtype_find(type);
    if (t) return t->mnemonic;
    for (size_t i = 0; i < sizeof meta_names / sizeof meta_names[0]; i++)
        if (meta_names[i].type == type) return meta_names[i].name;
    snprintf(buf, 16, "TYPE%u", (unsigned)type);
    return buf;
}

const char *nm_class_name(uint16_t cls, char *buf)
{
    switch (cls) {
    case 1: return "IN";
    case 3: return "CH";
    case 4: return "HS";
    case 254: return "NONE";
    case 255: return "ANY";
    default:
        snprintf(buf, 16, "CLASS%u", (unsigned)cls);
        return buf;
    }
}

int nm_type_from_name(const char *name)
{
    for (int i = 0; i < NTYPES; i++)
        if (strcasecmp(types[i].mnemonic, name) == 0) return types[i].type;
    for (size_t i = 0; i < sizeof meta_names / sizeof meta_names[0]; i++)
        if (strcasecmp(meta_names[i].name, name) == 0) return meta_names[i].type;
    if (strncasecmp(name, "TYPE", 4) == 0 && name[4]) {
        char *end;
        unsigned long v = strtoul(name + 4, &end, 10);
        if (*end == 0 && v <= 65535) return (int)v;
    }
    return -1;
}

const char *nm_field_kind_name(int kind)
{
    static const char *const names[] = { NM_FIELD_KIND_LIST(NM_LIST_TEXT) };
    return kind >= 0 && kind < NM_NFIELD_KINDS ? names[kind] : "?";
}
