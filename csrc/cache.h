/* The answer cache: whole responses in wire form, keyed by question, with
 * RFC 2308 negative entries.  The clock is the caller's (seconds, as a
 * double), so that tests can move time.
 *
 * What is stored (nm_cache_put):
 *   - a response (QR set, opcode QUERY, TC clear) whose one question is
 *     the key's (names compared without case);
 *   - NOERROR with an answer of the asked type (or any answer for ANY):
 *     the entry lives for the smallest TTL of the answer section, capped
 *     by max_ttl;
 *   - NXDOMAIN, or NOERROR without such an answer (NODATA, also a CNAME
 *     chain that ends without data): a negative entry living for
 *     min(SOA TTL, SOA MINIMUM) of the first SOA of the authority section
 *     (RFC 2308 section 5), capped by max_negative_ttl, and no longer than
 *     any answer record it holds (the CNAMEs);  without an SOA, NXDOMAIN
 *     and empty NODATA are not stored, while a NOERROR CNAME chain is
 *     stored as a positive entry (its CNAMEs are good data);
 *   - nothing else: other rcodes (SERVFAIL, REFUSED, ...), TC=1, a
 *     lifetime of 0, or a message where a compression pointer makes a
 *     name read the bytes of a TTL field (counting down would change it).
 *
 * What comes back (nm_cache_get): a copy of the stored message, same id
 * and all, with each record's TTL lowered by the whole seconds since it
 * was stored.  No TTL is shown above the cap it was stored under (max_ttl
 * for a positive entry, the negative lifetime for a negative one, so the
 * SOA of a cached negative answer counts down the negative TTL as RFC 2308
 * section 5 asks), nor below 0.  The OPT record's TTL field is its flags
 * and is left alone.  The caller sets the id of its own query.
 *
 * Bounds: at most max_entries entries (0 turns the cache off), the least
 * recently used going first; each holds one message (65535 bytes at most).
 * The table hashes with a random key (hash.h): names are chosen by whoever
 * the application resolves.
 */
#ifndef NAMES_CACHE_H
#define NAMES_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include "message.h"

typedef struct nm_cache nm_cache;

/* Why nm_cache_put stored nothing, when the message was well formed.
 * Positive, so that "err < 0" still means a real error (a malformed
 * message gives nm_msg_parse's code, out of memory NM_ENOMEM). */
enum nm_cache_reason {
    NM_CACHE_NOT_RESPONSE = 1, /* QR clear, or an opcode other than QUERY */
    NM_CACHE_TRUNCATED,        /* TC set: the answer is not whole */
    NM_CACHE_RCODE,            /* neither NOERROR nor NXDOMAIN */
    NM_CACHE_NO_SOA,           /* a negative answer without an SOA to time it */
    NM_CACHE_TTL_ZERO,         /* would expire at once */
    NM_CACHE_QUESTION,         /* the question is not the key's */
    NM_CACHE_OFF,              /* max_entries is 0 */
    NM_CACHE_TTL_IN_NAME       /* a compression pointer reads a TTL field as
                                * name bytes: the names would change as the
                                * TTLs count down */
};

/* A short English reason for nm_cache_put's result (an nm_error too). */
const char *nm_cache_reason(int code);

/* NULL when out of memory. */
nm_cache *nm_cache_new(size_t max_entries, uint32_t max_ttl, uint32_t max_negative_ttl);
/* Counted: nm_cache_free frees it when the last holder lets go (a
 * resolver filling it holds it, see nm_resolver_set_cache). */
nm_cache *nm_cache_retain(nm_cache *c);
void nm_cache_free(nm_cache *c);
void nm_cache_clear(nm_cache *c);
size_t nm_cache_count(const nm_cache *c);

/* Stores the response msg to the question (qname in uncompressed wire
 * form), replacing what the key held.  NM_OK when stored, an
 * nm_cache_reason when not, or a negative error (a malformed message,
 * NM_ENAME for a bad qname, NM_ENOMEM). */
int nm_cache_put(nm_cache *c, const uint8_t *qname, uint16_t qtype, uint16_t qcls,
                 const uint8_t *msg, size_t len, double now);
/* The same for a message parsed already (the resolver's reply). */
int nm_cache_put_msg(nm_cache *c, const uint8_t *qname, uint16_t qtype, uint16_t qcls,
                     const nm_msg *m, double now);

/* On a hit, NM_OK and the message as stored, in place: its TTLs are the
 * ones it came with (not counted down), and it is valid until the next
 * call that may store or drop (put, get, peek, clear, free).  For a
 * reader that wants no TTL, such as an address out of the answers. */
int nm_cache_peek(nm_cache *c, const uint8_t *qname, uint16_t qtype, uint16_t qcls, double now,
                  const uint8_t **msg, size_t *len);

/* On a hit, NM_OK and a malloc'd copy in *out (the caller frees it) of
 * *outlen bytes with the TTLs counted down; NM_ENOTFOUND on a miss or an
 * expired entry (which is dropped then), NM_ENOMEM. */
int nm_cache_get(nm_cache *c, const uint8_t *qname, uint16_t qtype, uint16_t qcls, double now,
                 uint8_t **out, size_t *outlen);

/* Drops every expired entry now, instead of when next asked for; returns
 * how many. */
size_t nm_cache_expire(nm_cache *c, double now);

#endif
