#include "cache.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "hash.h"
#include "message.h"
#include "name.h"

/* RFC 2181 section 8: a TTL with the top bit set means zero. */
#define TTL_MAX 0x7FFFFFFFu
#define MAX_BUCKETS (1u << 24)

typedef struct centry {
    struct centry *hnext;       /* its bucket's chain */
    struct centry *prev, *next; /* recency: c->head is the most recent */
    uint64_t hash;
    double stored, expires;
    uint32_t cap; /* no TTL is shown above it */
    uint16_t qtype, qcls;
    uint16_t nttl; /* records, each with a TTL */
    uint16_t len;  /* of the message: at most 65,535 octets */
    uint8_t keylen;
    /* then, in the same block: where each record's TTL sits in the
     * message (nttl offsets), the message, the key (the lower-cased
     * qname).  No pointers to them and no fixed key array: an entry was
     * twice its usual size with them. */
} centry;

static uint16_t *ttl_at_of(const centry *e)
{
    return (uint16_t *)(void *)(uintptr_t)(e + 1);
}

static uint8_t *msg_of(const centry *e)
{
    return (uint8_t *)(ttl_at_of(e) + e->nttl);
}

static uint8_t *key_of(const centry *e)
{
    return msg_of(e) + e->len;
}

struct nm_cache {
    int refs;          /* the owner's, and one per resolver filling it */
    size_t max_entries, count;
    uint32_t max_ttl, max_negative_ttl;
    nm_hash_key hkey;
    centry **bucket;
    size_t nbuckets; /* a power of two */
    centry *head, *tail;
};

const char *nm_cache_reason(int code)
{
    switch (code) {
    case NM_CACHE_NOT_RESPONSE: return "not a response to a query";
    case NM_CACHE_TRUNCATED: return "truncated response";
    case NM_CACHE_RCODE: return "rcode not cached";
    case NM_CACHE_NO_SOA: return "negative answer without an SOA";
    case NM_CACHE_TTL_ZERO: return "TTL of zero";
    case NM_CACHE_QUESTION: return "question does not match";
    case NM_CACHE_OFF: return "cache disabled";
    case NM_CACHE_TTL_IN_NAME: return "a name overlaps a TTL field";
    default: return nm_strerror(code);
    }
}

nm_cache *nm_cache_new(size_t max_entries, uint32_t max_ttl, uint32_t max_negative_ttl)
{
    nm_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->refs = 1;
    c->max_entries = max_entries;
    c->max_ttl = max_ttl;
    c->max_negative_ttl = max_negative_ttl;
    c->nbuckets = 64;
    if (!(c->bucket = calloc(c->nbuckets, sizeof *c->bucket))) {
        free(c);
        return NULL;
    }
    nm_hash_key_random(&c->hkey);
    return c;
}

void nm_cache_clear(nm_cache *c)
{
    centry *e = c->head;
    while (e) {
        centry *next = e->next;
        free(e);
        e = next;
    }
    memset(c->bucket, 0, c->nbuckets * sizeof *c->bucket);
    c->head = c->tail = NULL;
    c->count = 0;
}

nm_cache *nm_cache_retain(nm_cache *c)
{
    if (c) c->refs++;
    return c;
}

void nm_cache_free(nm_cache *c)
{
    if (!c || --c->refs > 0) return;
    nm_cache_clear(c);
    free(c->bucket);
    free(c);
}

size_t nm_cache_count(const nm_cache *c)
{
    return c->count;
}

/* The key of a question: qname lower-cased, then type and class.  The
 * qname is the caller's, so it is walked with bounds all the same. */
static int make_key(const nm_cache *c, const uint8_t *qname, uint16_t qtype, uint16_t qcls,
                    uint8_t *key, size_t *keylen, uint64_t *hash)
{
    uint8_t buf[NM_NAME_MAX + 4];
    size_t n = 0;
    for (;;) {
        uint8_t l = qname[n];
        if (l == 0) break;
        /* a label, and still room for the root's byte after it */
        if (l > NM_LABEL_MAX || n + 1 + l + 1 > NM_NAME_MAX) return NM_ENAME;
        n += 1 + (size_t)l;
    }
    n++;
    memcpy(key, qname, n);
    nm_name_lower(key);
    memcpy(buf, key, n);
    buf[n] = (uint8_t)(qtype >> 8);
    buf[n + 1] = (uint8_t)qtype;
    buf[n + 2] = (uint8_t)(qcls >> 8);
    buf[n + 3] = (uint8_t)qcls;
    *keylen = n;
    *hash = nm_hash(&c->hkey, buf, n + 4);
    return NM_OK;
}

static centry **find(nm_cache *c, const uint8_t *key, size_t keylen, uint16_t qtype,
                     uint16_t qcls, uint64_t hash)
{
    centry **pe = &c->bucket[hash & (c->nbuckets - 1)];
    for (; *pe; pe = &(*pe)->hnext) {
        const centry *e = *pe;
        if (e->hash == hash && e->qtype == qtype && e->qcls == qcls && e->keylen == keylen &&
            memcmp(key_of(e), key, keylen) == 0)
            return pe;
    }
    return pe;
}

static void lru_unlink(nm_cache *c, centry *e)
{
    if (e->prev) e->prev->next = e->next;
    else c->head = e->next;
    if (e->next) e->next->prev = e->prev;
    else c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push(nm_cache *c, centry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head) c->head->prev = e;
    else c->tail = e;
    c->head = e;
}

static void drop(nm_cache *c, centry *e)
{
    centry **pe = &c->bucket[e->hash & (c->nbuckets - 1)];
    while (*pe != e) pe = &(*pe)->hnext;
    *pe = e->hnext;
    lru_unlink(c, e);
    free(e);
    c->count--;
}

/* Doubles the buckets once there are more entries than buckets; failing to
 * is harmless (chains grow longer). */
static void maybe_grow(nm_cache *c)
{
    size_t n = c->nbuckets * 2;
    centry **b;
    if (c->count < c->nbuckets || n > MAX_BUCKETS) return;
    if (!(b = calloc(n, sizeof *b))) return;
    for (centry *e = c->head; e; e = e->next) {
        centry **slot = &b[e->hash & (n - 1)];
        e->hnext = *slot;
        *slot = e;
    }
    free(c->bucket);
    c->bucket = b;
    c->nbuckets = n;
}

static uint32_t ttl_of(uint32_t ttl)
{
    return ttl > TTL_MAX ? 0 : ttl;
}

static uint32_t min32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* The question of m is the key's. */
static int same_question(const nm_msg *m, const uint8_t *key, uint16_t qtype, uint16_t qcls)
{
    uint8_t name[NM_NAME_MAX];
    nm_reader r;
    if (m->nq != 1 || m->q[0].type != qtype || m->q[0].cls != qcls) return 0;
    nm_reader_init(&r, m->wire, m->len);
    r.pos = m->q[0].name;
    return nm_name_read(&r, name, NULL) == NM_OK && nm_name_equal(name, key);
}

/* Does [from, to) meet a TTL field?  ttl_at is sorted: records follow
 * one another. */
static int meets_ttl(const uint16_t *ttl_at, int n, size_t from, size_t to)
{
    int lo = 0, hi = n;
    if (n == 0 || to <= ttl_at[0]) return 0; /* the question, and most owners */
    while (lo < hi) { /* the first field that ends after `from` */
        int mid = lo + (hi - lo) / 2;
        if ((size_t)ttl_at[mid] + 4 <= from) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && ttl_at[lo] < to;
}

/* Does the name at pos read any TTL byte?  A compression pointer may aim
 * anywhere before itself, TTL fields included; the message was checked
 * by the parser, but the walk stays bounded all the same. */
static int name_meets_ttl(const nm_msg *m, const uint16_t *ttl_at, int n, size_t pos)
{
    for (int hops = 0; hops <= NM_PTR_HOPS; ) {
        uint8_t l;
        if (pos >= m->len) return 1;
        l = m->wire[pos];
        if ((l & 0xC0) == 0xC0) {
            if (pos + 2 > m->len || meets_ttl(ttl_at, n, pos, pos + 2)) return 1;
            pos = ((size_t)(l & 0x3F) << 8) | m->wire[pos + 1];
            hops++;
            continue;
        }
        if (meets_ttl(ttl_at, n, pos, pos + 1 + (size_t)l)) return 1;
        if (l == 0) return 0;
        pos += 1 + (size_t)l;
    }
    return 1;
}

/* Would lowering the TTLs change any name of the message? */
static int names_meet_ttls(const nm_msg *m, const uint16_t *ttl_at)
{
    int n = m->nrr;
    for (int i = 0; i < m->nq; i++)
        if (name_meets_ttl(m, ttl_at, n, m->q[i].name)) return 1;
    for (int i = 0; i < m->nrr; i++) {
        const nm_rr *rr = &m->rr[i];
        const nm_rrtype *type = nm_rr_type(rr);
        nm_rdata_iter it;
        const nm_field *f;
        nm_value v;
        if (name_meets_ttl(m, ttl_at, n, rr->owner)) return 1;
        if (!type) continue;
        nm_rdata_begin(&it, m->wire, rr->rdata, rr->rdlen, type);
        for (;;) {
            size_t at = it.r.pos;
            if (nm_rdata_next(&it, &f, &v) != 1) break;
            if ((f->kind == NM_FK_NAME || f->kind == NM_FK_NAME_NC ||
                 f->kind == NM_FK_A6PREFIX) && it.r.pos > at &&
                name_meets_ttl(m, ttl_at, n, at))
                return 1;
        }
    }
    return 0;
}

/* How long the parsed response may live, and the cap on the TTLs shown:
 * NM_OK or a reason. */
static int lifetime(const nm_cache *c, const nm_msg *m, uint16_t qtype, uint32_t *ttl,
                    uint32_t *cap)
{
    uint32_t answers = UINT32_MAX, negative;
    int has_answer = 0, has_data = 0;
    const nm_rr *soa = NULL;

    if (!(m->flags & NM_QR) || NM_OPCODE(m->flags) != 0) return NM_CACHE_NOT_RESPONSE;
    if (m->flags & NM_TC) return NM_CACHE_TRUNCATED;
    if (m->rcode != NM_RCODE_NOERROR && m->rcode != NM_RCODE_NXDOMAIN) return NM_CACHE_RCODE;
    for (int i = 0; i < m->nrr; i++) {
        const nm_rr *rr = &m->rr[i];
        if (rr->section == NM_ANSWER) {
            has_answer = 1;
            answers = min32(answers, ttl_of(rr->ttl));
            if (rr->type == qtype || qtype == NM_TYPE_ANY) has_data = 1;
        } else if (rr->section == NM_AUTHORITY && rr->type == NM_TYPE_SOA && !soa &&
                   rr->rdlen >= 22) {
            soa = rr;
        }
    }
    answers = min32(answers, c->max_ttl);
    if (m->rcode == NM_RCODE_NOERROR && has_data) {
        *ttl = answers;
        *cap = c->max_ttl;
    } else if (soa) {
        /* RFC 2308 section 5: the SOA's TTL, or its MINIMUM if smaller */
        uint32_t minimum = nm_get32(m->wire + soa->rdata + soa->rdlen - 4);
        negative = min32(min32(ttl_of(soa->ttl), ttl_of(minimum)), c->max_negative_ttl);
        *ttl = *cap = has_answer ? min32(negative, answers) : negative;
    } else if (m->rcode == NM_RCODE_NOERROR && has_answer) {
        *ttl = answers; /* a CNAME chain without an SOA: the CNAMEs still hold */
        *cap = c->max_ttl;
    } else {
        return NM_CACHE_NO_SOA;
    }
    return *ttl ? NM_OK : NM_CACHE_TTL_ZERO;
}

int nm_cache_put(nm_cache *c, const uint8_t *qname, uint16_t qtype, uint16_t qcls,
                 const uint8_t *msg, size_t len, double now)
{
    nm_msg m;
    int err = nm_msg_parse(&m, msg, len);
    if (!err) err = nm_cache_put_msg(c, qname, qtype, qcls, &m, now);
    nm_msg_release(&m);
    return err;
}

int nm_cache_put_msg(nm_cache *c, const uint8_t *qname, uint16_t qtype, uint16_t qcls,
                     const nm_msg *m, double now)
{
    uint8_t key[NM_NAME_MAX];
    size_t keylen;
    uint64_t hash;
    uint32_t ttl = 0, cap = 0;
    centry *e, **pe;
    int err;

    if ((err = make_key(c, qname, qtype, qcls, key, &keylen, &hash))) return err;
    if (!isfinite(now)) return NM_EVALUE;
    if (!same_question(m, key, qtype, qcls)) err = NM_CACHE_QUESTION;
    else err = lifetime(c, m, qtype, &ttl, &cap);
    if (!err && c->max_entries == 0) err = NM_CACHE_OFF;
    if (err) return err;
    /* one block: the entry, its TTL offsets, the message, the key */
    if (m->len > UINT16_MAX || m->nrr > UINT16_MAX) return NM_EVALUE; /* never from the wire */
    e = malloc(sizeof *e + (size_t)m->nrr * sizeof(uint16_t) + m->len + keylen);
    if (!e) return NM_ENOMEM;
    e->nttl = (uint16_t)m->nrr;
    e->len = (uint16_t)m->len;
    e->keylen = (uint8_t)keylen;
    for (int i = 0; i < m->nrr; i++) ttl_at_of(e)[i] = (uint16_t)(m->rr[i].rdata - 6);
    if (names_meet_ttls(m, ttl_at_of(e))) {
        free(e);
        return NM_CACHE_TTL_IN_NAME;
    }
    memcpy(msg_of(e), m->wire, m->len);
    memcpy(key_of(e), key, keylen);
    e->qtype = qtype;
    e->qcls = qcls;
    e->hash = hash;
    e->stored = now;
    e->expires = now + ttl;
    e->cap = cap;

    pe = find(c, key, keylen, qtype, qcls, hash);
    if (*pe) drop(c, *pe);
    pe = &c->bucket[hash & (c->nbuckets - 1)];
    e->hnext = *pe;
    *pe = e;
    lru_push(c, e);
    c->count++;
    while (c->count > c->max_entries) drop(c, c->tail);
    maybe_grow(c);
    return NM_OK;
}

/* The live entry of a key, made recent, or NULL (an expired one dropped). */
static centry *live_entry(nm_cache *c, const uint8_t *qname, uint16_t qtype, uint16_t qcls, double now,
                          int *err)
{
    uint8_t key[NM_NAME_MAX];
    size_t keylen;
    uint64_t hash;
    centry *e;
    if ((*err = make_key(c, qname, qtype, qcls, key, &keylen, &hash))) return NULL;
    e = *find(c, key, keylen, qtype, qcls, hash);
    if (!e) {
        *err = NM_ENOTFOUND;
        return NULL;
    }
    if (!(now < e->expires)) { /* NaN too */
        drop(c, e);
        *err = NM_ENOTFOUND;
        return NULL;
    }
    lru_unlink(c, e);
    lru_push(c, e);
    return e;
}

int nm_cache_peek(nm_cache *c, const uint8_t *qname, uint16_t qtype, uint16_t qcls, double now,
                  const uint8_t **msg, size_t *len)
{
    int err;
    centry *e = live_entry(c, qname, qtype, qcls, now, &err);
    *msg = e ? msg_of(e) : NULL;
    *len = e ? e->len : 0;
    return e ? NM_OK : err;
}

int nm_cache_get(nm_cache *c, const uint8_t *qname, uint16_t qtype, uint16_t qcls, double now,
                 uint8_t **out, size_t *outlen)
{
    uint32_t elapsed;
    uint8_t *copy;
    int err;
    centry *e = live_entry(c, qname, qtype, qcls, now, &err);

    *out = NULL;
    *outlen = 0;
    if (!e) return err;
    /* a clock that went back shows the TTLs as stored */
    elapsed = now > e->stored ? (uint32_t)(now - e->stored) : 0;
    if (!(copy = malloc(e->len))) return NM_ENOMEM;
    memcpy(copy, msg_of(e), e->len);
    for (int i = 0; i < e->nttl; i++) {
        uint8_t *p = copy + ttl_at_of(e)[i];
        uint32_t ttl = min32(ttl_of(nm_get32(p)), e->cap);
        ttl = ttl > elapsed ? ttl - elapsed : 0;
        p[0] = (uint8_t)(ttl >> 24);
        p[1] = (uint8_t)(ttl >> 16);
        p[2] = (uint8_t)(ttl >> 8);
        p[3] = (uint8_t)ttl;
    }
    *out = copy;
    *outlen = e->len;
    return NM_OK;
}

size_t nm_cache_expire(nm_cache *c, double now)
{
    size_t n = 0;
    centry *e = c->head;
    while (e) {
        centry *next = e->next;
        if (!(now < e->expires)) {
            drop(c, e);
            n++;
        }
        e = next;
    }
    return n;
}
