/* Whole DNS messages: a validating parser that indexes a message in place,
 * and the builder pieces the encoder and the resolver share. */
#ifndef NAMES_MESSAGE_H
#define NAMES_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "name.h"
#include "rdata.h"
#include "rrtype.h"
#include "wire.h"

#define NM_HEADER_LEN 12

/* Header flag bits (the second 16-bit word). */
#define NM_QR 0x8000
#define NM_AA 0x0400
#define NM_TC 0x0200
#define NM_RD 0x0100
#define NM_RA 0x0080
#define NM_AD 0x0020
#define NM_CD 0x0010
#define NM_OPCODE(flags) (((flags) >> 11) & 0xF)
#define NM_RCODE(flags) ((flags) & 0xF)

/* The types and rcodes the core itself tests for (the rest are data). */
#define NM_TYPE_SOA 6
#define NM_TYPE_OPT 41
#define NM_TYPE_ANY 255
enum nm_rcode {
    NM_RCODE_NOERROR = 0,
    NM_RCODE_FORMERR = 1,
    NM_RCODE_SERVFAIL = 2,
    NM_RCODE_NXDOMAIN = 3,
    NM_RCODE_NOTIMP = 4,
    NM_RCODE_REFUSED = 5,
    NM_RCODE_BADVERS = 16 /* extended (EDNS): the version we sent is not spoken */
};
#define NM_EDNS_DO 0x8000

enum nm_section { NM_QUESTION, NM_ANSWER, NM_AUTHORITY, NM_ADDITIONAL };

typedef struct nm_question {
    uint16_t name; /* offset of the (possibly compressed) name */
    uint16_t type, cls;
} nm_question;

typedef struct nm_rr {
    uint16_t owner; /* offset of the owner name */
    uint16_t type, cls;
    uint16_t rdata, rdlen;
    uint32_t ttl;
    uint8_t section;
    const nm_rrtype *desc; /* the layout its rdata was checked with: nm_rr_type() */
} nm_rr;

typedef struct nm_edns {
    int present;
    uint16_t udp_size;
    uint8_t ext_rcode; /* the high 8 bits of the rcode */
    uint8_t version;
    uint16_t flags;    /* NM_EDNS_DO and the rest */
    uint16_t rdata, rdlen; /* the options, in place */
} nm_edns;

#define NM_INLINE_RRS 24
#define NM_INLINE_QS 2

typedef struct nm_msg {
    const uint8_t *wire;
    size_t len;
    uint16_t id, flags;
    int rcode;          /* with EDNS, the 12-bit extended rcode */
    int nq, nrr;        /* questions and records held (the OPT is not a record) */
    int count[4];       /* records per section, as parsed */
    nm_question *q;
    nm_rr *rr;          /* answer, authority, additional, in order */
    nm_edns edns;
    /* where a parse failed */
    int err_section;
    int err_index;
    size_t err_offset;
    nm_question q_inline[NM_INLINE_QS];
    nm_rr rr_inline[NM_INLINE_RRS];
} nm_msg;

/* Indexes and checks a whole message (every name, every rdata against its
 * type).  The message bytes must outlive m.  On failure m->err_* say where.
 * Always call nm_msg_release afterwards. */
int nm_msg_parse(nm_msg *m, const uint8_t *wire, size_t len);
void nm_msg_release(nm_msg *m);
/* "truncated record 2 of the answer section at offset 45" */
void nm_msg_describe_error(const nm_msg *m, int err, char *buf, size_t cap);
const char *nm_section_name(int section);

/* The rdata description for a record of this type and class with rdlen
 * bytes of rdata, or NULL for opaque rdata. */
static inline const nm_rrtype *nm_rr_layout(uint16_t type, uint16_t cls, size_t rdlen)
{
    if (rdlen == 0 && (cls == 254 || cls == 255)) return NULL; /* UPDATE deletes */
    return nm_rrtype_for(type, cls);
}

/* The rdata description to walk a parsed record with (looked up once, by
 * the parser). */
static inline const nm_rrtype *nm_rr_type(const nm_rr *rr)
{
    return rr->desc;
}

/* Building.  Counts are patched by nm_msg_end. */
void nm_wr_header(nm_writer *w, uint16_t id, uint16_t flags);
void nm_wr_question(nm_writer *w, const uint8_t *name, uint16_t type, uint16_t cls);
/* Starts a record; returns where its rdlength sits, for nm_wr_rr_end. */
size_t nm_wr_rr_begin(nm_writer *w, const uint8_t *owner, uint16_t type, uint16_t cls,
                      uint32_t ttl);
void nm_wr_rr_end(nm_writer *w, size_t at);
/* The OPT pseudo-record: options is its rdata, already encoded. */
void nm_wr_opt(nm_writer *w, uint16_t udp_size, uint8_t ext_rcode, uint8_t version,
               uint16_t flags, const uint8_t *options, size_t optlen);
void nm_wr_counts(nm_writer *w, int qd, int an, int ns, int ar);

/* A query as the library sends it: one question, the header flags asked
 * for, and an OPT record when udp_size > 0.  Every query goes through
 * nm_query_write (the resolver's tries, nm_build_query), so that what an
 * OPT record carries is decided in one place. */
typedef struct nm_query_spec {
    uint16_t id;
    uint16_t flags;          /* header flags: NM_RD, NM_CD */
    const uint8_t *name;     /* uncompressed wire form, checked */
    size_t namelen;          /* nm_name_len(name) */
    uint16_t type, cls;
    uint16_t udp_size;       /* EDNS: the UDP size advertised; 0 sends no OPT */
    uint16_t edns_flags;     /* NM_EDNS_DO */
    /* EDNS options for this query, already encoded (code, length, data
     * each: a cookie, say); written after those nm_query_write adds
     * itself.  NULL/0: none. */
    const uint8_t *options;
    uint16_t optlen;
} nm_query_spec;

/* The longest query nm_query_write writes, options aside. */
#define NM_QUERY_MAX (NM_HEADER_LEN + NM_NAME_MAX + 4 + 11)

/* Writes the query into out, which holds NM_QUERY_MAX + q->optlen bytes;
 * returns its length.  Straight stores, no checks: it runs for every try. */
size_t nm_query_write(uint8_t *out, const nm_query_spec *q);

/* A whole query through a writer: one question, RD as asked, EDNS when
 * udp_size > 0. */
int nm_build_query(nm_writer *w, uint16_t id, const uint8_t *name, uint16_t type,
                   uint16_t cls, int rd, uint16_t udp_size, int dnssec_ok);

#endif
