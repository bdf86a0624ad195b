#include "hosts.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "errors.h"
#include "hash.h"
#include "name.h"

#define NONE UINT32_MAX

/* A distinct name, interned: lookups compare indices, not text. */
typedef struct hname {
    uint32_t text, len; /* in h->str, NUL-terminated */
    uint32_t first, last; /* its pairs, in file order */
} hname;

typedef struct haddr {
    uint8_t bytes[16];
    uint8_t family;
    uint32_t first, last;
} haddr;

/* One (address, name) of a line, on two lists: the name's and the address's. */
typedef struct hpair {
    uint32_t name, addr;
    uint32_t next_by_name, next_by_addr;
} hpair;

/* Open addressing, linear probing, at most half full; a slot holds an
 * index + 1 (0 when empty) beside the hash, so that probing and growing
 * need not touch the entries themselves (a cache miss each).  Nothing is
 * ever deleted: a new file builds new tables. */
typedef struct hslot {
    uint32_t hash, idx1;
} hslot;

typedef struct htable {
    hslot *slot;
    uint32_t mask; /* size - 1; size 0 when slot is NULL */
    uint32_t used;
} htable;

struct nm_hosts {
    nm_hash_key key;
    char *str;
    size_t nstr, capstr;
    hname *names;
    uint32_t nnames, capnames;
    haddr *addrs;
    uint32_t naddrs, capaddrs;
    hpair *pairs;
    uint32_t npairs, cappairs;
    htable by_name, by_addr;
};

nm_hosts *nm_hosts_new(void)
{
    nm_hosts *h = calloc(1, sizeof *h);
    if (h) nm_hash_key_random(&h->key);
    return h;
}

static void clear(nm_hosts *h)
{
    free(h->str);
    free(h->names);
    free(h->addrs);
    free(h->pairs);
    free(h->by_name.slot);
    free(h->by_addr.slot);
    h->str = NULL;
    h->names = NULL;
    h->addrs = NULL;
    h->pairs = NULL;
    h->by_name.slot = h->by_addr.slot = NULL;
    h->nstr = h->capstr = 0;
    h->nnames = h->capnames = h->naddrs = h->capaddrs = h->npairs = h->cappairs = 0;
    h->by_name.mask = h->by_addr.mask = h->by_name.used = h->by_addr.used = 0;
}

void nm_hosts_free(nm_hosts *h)
{
    if (!h) return;
    clear(h);
    free(h);
}

size_t nm_hosts_count(const nm_hosts *h)
{
    return h->npairs;
}

/* The array with room for one more element past n (moved, maybe), or
 * NULL when out of memory (the old array is still valid). */
static void *grow(void *arr, uint32_t *cap, uint32_t n, size_t elem)
{
    uint32_t ncap;
    void *p;
    if (n < *cap) return arr;
    ncap = *cap ? *cap * 2 : 64;
    if (ncap <= *cap || (size_t)ncap > SIZE_MAX / elem) return NULL;
    if (!(p = realloc(arr, (size_t)ncap * elem))) return NULL;
    *cap = ncap;
    return p;
}

/* Inserts index i (not present yet) and doubles the table when half full. */
static int table_add(htable *t, uint32_t i, uint32_t hash)
{
    uint32_t s;
    if (!t->slot || (t->used + 1) * 2 > t->mask + 1) {
        uint32_t size = t->slot ? (t->mask + 1) * 2 : 64;
        hslot *slot;
        if (size == 0) return NM_ENOMEM;
        if (!(slot = calloc(size, sizeof *slot))) return NM_ENOMEM;
        for (uint32_t k = 0; t->slot && k <= t->mask; k++) {
            if (!t->slot[k].idx1) continue;
            for (s = t->slot[k].hash & (size - 1); slot[s].idx1; s = (s + 1) & (size - 1)) {}
            slot[s] = t->slot[k];
        }
        free(t->slot);
        t->slot = slot;
        t->mask = size - 1;
    }
    for (s = hash & t->mask; t->slot[s].idx1; s = (s + 1) & t->mask) {}
    t->slot[s].hash = hash;
    t->slot[s].idx1 = i + 1;
    t->used++;
    return NM_OK;
}

static uint32_t find_name(const nm_hosts *h, const char *text, size_t len, uint32_t hash)
{
    if (!h->by_name.slot) return NONE;
    for (uint32_t s = hash & h->by_name.mask;; s = (s + 1) & h->by_name.mask) {
        const hslot *sl = &h->by_name.slot[s];
        const hname *n;
        if (!sl->idx1) return NONE;
        if (sl->hash != hash) continue;
        n = &h->names[sl->idx1 - 1];
        if (n->len == len && memcmp(h->str + n->text, text, len) == 0) return sl->idx1 - 1;
    }
}

static uint32_t find_addr(const nm_hosts *h, int family, const uint8_t *bytes, uint32_t hash)
{
    if (!h->by_addr.slot) return NONE;
    for (uint32_t s = hash & h->by_addr.mask;; s = (s + 1) & h->by_addr.mask) {
        const hslot *sl = &h->by_addr.slot[s];
        const haddr *a;
        if (!sl->idx1) return NONE;
        if (sl->hash != hash) continue;
        a = &h->addrs[sl->idx1 - 1];
        if (a->family == family && memcmp(a->bytes, bytes, 16) == 0) return sl->idx1 - 1;
    }
}

static uint32_t hash_addr(const nm_hosts *h, int family, const uint8_t *bytes)
{
    uint8_t k[17];
    k[0] = (uint8_t)family;
    memcpy(k + 1, bytes, 16);
    return (uint32_t)nm_hash(&h->key, k, sizeof k);
}

static int intern_name(nm_hosts *h, const char *text, size_t len, uint32_t *out)
{
    uint32_t hash = (uint32_t)nm_hash(&h->key, text, len);
    uint32_t i = find_name(h, text, len, hash);
    hname *n;
    if (i != NONE) {
        *out = i;
        return NM_OK;
    }
    if (h->nstr + len + 1 > h->capstr) {
        size_t cap = h->capstr ? h->capstr : 4096;
        char *p;
        while (cap < h->nstr + len + 1) cap *= 2;
        if (cap > UINT32_MAX || !(p = realloc(h->str, cap))) return NM_ENOMEM;
        h->str = p;
        h->capstr = cap;
    }
    if (!(n = grow(h->names, &h->capnames, h->nnames, sizeof *h->names))) return NM_ENOMEM;
    h->names = n;
    n += h->nnames;
    n->text = (uint32_t)h->nstr;
    n->len = (uint32_t)len;
    n->first = n->last = NONE;
    memcpy(h->str + h->nstr, text, len);
    h->str[h->nstr + len] = 0;
    if (table_add(&h->by_name, h->nnames, hash)) return NM_ENOMEM;
    h->nstr += len + 1;
    *out = h->nnames++;
    return NM_OK;
}

static int intern_addr(nm_hosts *h, int family, const uint8_t *bytes, uint32_t *out)
{
    uint32_t hash = hash_addr(h, family, bytes);
    uint32_t i = find_addr(h, family, bytes, hash);
    haddr *a;
    if (i != NONE) {
        *out = i;
        return NM_OK;
    }
    if (!(a = grow(h->addrs, &h->capaddrs, h->naddrs, sizeof *h->addrs))) return NM_ENOMEM;
    h->addrs = a;
    a += h->naddrs;
    memcpy(a->bytes, bytes, 16);
    a->family = (uint8_t)family;
    a->first = a->last = NONE;
    if (table_add(&h->by_addr, h->naddrs, hash)) return NM_ENOMEM;
    *out = h->naddrs++;
    return NM_OK;
}

static int add_pair(nm_hosts *h, uint32_t ai, uint32_t ni)
{
    hname *n = &h->names[ni];
    haddr *a = &h->addrs[ai];
    hpair *p;
    /* "127.0.0.1 localhost localhost", or a line repeated: once is enough */
    if (n->last != NONE && h->pairs[n->last].addr == ai) return NM_OK;
    if (!(p = grow(h->pairs, &h->cappairs, h->npairs, sizeof *h->pairs))) return NM_ENOMEM;
    h->pairs = p;
    p += h->npairs;
    p->name = ni;
    p->addr = ai;
    p->next_by_name = p->next_by_addr = NONE;
    if (n->last == NONE) n->first = h->npairs;
    else h->pairs[n->last].next_by_name = h->npairs;
    n->last = h->npairs;
    if (a->last == NONE) a->first = h->npairs;
    else h->pairs[a->last].next_by_addr = h->npairs;
    a->last = h->npairs;
    h->npairs++;
    return NM_OK;
}

/* An address word: 4 or 16 bytes (zero-padded) and its family. */
static int parse_addr(const char *w, size_t n, int *family, uint8_t out[16])
{
    char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    char *scope;
    if (n >= sizeof buf) return 0;
    memcpy(buf, w, n);
    buf[n] = 0;
    memset(out, 0, 16);
    if (inet_pton(AF_INET, buf, out) == 1) {
        *family = AF_INET;
        return 1;
    }
    /* the zone of a link-local address says nothing about the host */
    if ((scope = strchr(buf, '%'))) *scope = 0;
    if (inet_pton(AF_INET6, buf, out) == 1) {
        *family = AF_INET6;
        return 1;
    }
    return 0;
}

/* The key of a name: lower-cased text without a final dot; 0 when it does
 * not parse or is the root. */
static size_t normalize(const char *w, size_t n, char *out)
{
    uint8_t wire[NM_NAME_MAX];
    size_t wl;
    if (nm_name_from_text(w, n, wire, &wl) != NM_OK || wl == 1) return 0;
    nm_name_lower(wire);
    return nm_name_to_text(wire, out, 0);
}


/* One line without its comment: 0 when used (or blank), 1 when skipped,
 * NM_ENOMEM. */
static int parse_line(void *arg, const char *s, size_t len)
{
    nm_hosts *h = arg;
    size_t pos = 0, wn;
    const char *w;
    uint8_t bytes[16];
    uint32_t ai = NONE;
    int family, err;

    if (!nm_text_word(s, len, &pos, &w, &wn)) return 0;
    if (!parse_addr(w, wn, &family, bytes)) return 1;
    while (nm_text_word(s, len, &pos, &w, &wn)) {
        char text[NM_NAME_TEXT_MAX];
        size_t tl = normalize(w, wn, text);
        uint32_t ni;
        if (!tl) continue;
        if (h->npairs >= NM_HOSTS_MAX_ENTRIES) return 1;
        if (ai == NONE && (err = intern_addr(h, family, bytes, &ai))) return err;
        if ((err = intern_name(h, text, tl, &ni)) || (err = add_pair(h, ai, ni))) return err;
    }
    return ai == NONE;
}

int nm_hosts_parse(nm_hosts *h, const char *text, size_t len)
{
    int skipped;
    clear(h);
    /* comments run from '#' to the end of the line */
    if ((skipped = nm_text_lines(text, len, "#", 1, parse_line, h)) < 0) clear(h);
    return skipped;
}

static int parse_text(void *h, const char *text, size_t len)
{
    return nm_hosts_parse(h, text, len);
}

int nm_hosts_load(nm_hosts *h, const char *path)
{
    return nm_file_load(path, NM_HOSTS_MAX_BYTES, parse_text, h);
}

int nm_hosts_reload_if_changed(nm_hosts *h, const char *path, nm_file_stamp *stamp)
{
    nm_hosts *fresh;
    nm_hosts old;
    int ret;

    if (!nm_file_changed(path, stamp)) return 0;
    /* build aside and swap, so that running out of memory keeps the old */
    if (!(fresh = nm_hosts_new())) goto nomem;
    ret = nm_hosts_load(fresh, path);
    if (ret == NM_ENOMEM) {
        nm_hosts_free(fresh);
        goto nomem;
    }
    old = *h;
    *h = *fresh;
    *fresh = old;
    nm_hosts_free(fresh);
    return 1;
nomem:
    nm_file_stamp_init(stamp);
    return NM_ENOMEM;
}

int nm_hosts_addresses(const nm_hosts *h, const char *name, int family, uint8_t out[][16],
                       int max)
{
    char text[NM_NAME_TEXT_MAX];
    size_t tl = normalize(name, strlen(name), text);
    uint32_t ni;
    int n = 0;

    if (!tl || max <= 0) return 0;
    ni = find_name(h, text, tl, (uint32_t)nm_hash(&h->key, text, tl));
    if (ni == NONE) return 0;
    for (uint32_t p = h->names[ni].first; p != NONE && n < max; p = h->pairs[p].next_by_name) {
        const haddr *a = &h->addrs[h->pairs[p].addr];
        int seen = 0;
        if (a->family != family) continue;
        for (int k = 0; k < n && !seen; k++) seen = memcmp(out[k], a->bytes, 16) == 0;
        if (!seen) memcpy(out[n++], a->bytes, 16);
    }
    return n;
}

int nm_hosts_first(const nm_hosts *h, const char *name, uint8_t out6[16], uint8_t out4[16])
{
    char text[NM_NAME_TEXT_MAX];
    size_t tl = normalize(name, strlen(name), text);
    uint32_t ni;
    int found = 0;

    if (!tl) return 0;
    ni = find_name(h, text, tl, (uint32_t)nm_hash(&h->key, text, tl));
    if (ni == NONE) return 0;
    for (uint32_t p = h->names[ni].first; p != NONE && found != 3; p = h->pairs[p].next_by_name) {
        const haddr *a = &h->addrs[h->pairs[p].addr];
        if (a->family == AF_INET6 && !(found & 1)) {
            memcpy(out6, a->bytes, 16);
            found |= 1;
        } else if (a->family == AF_INET && !(found & 2)) {
            memcpy(out4, a->bytes, 16);
            found |= 2;
        }
    }
    return found;
}

int nm_hosts_names(const nm_hosts *h, int family, const uint8_t *addr, const char **out, int max)
{
    uint8_t bytes[16] = { 0 };
    uint32_t ai;
    int n = 0;

    if (max <= 0 || (family != AF_INET && family != AF_INET6)) return 0;
    memcpy(bytes, addr, family == AF_INET ? 4 : 16);
    ai = find_addr(h, family, bytes, hash_addr(h, family, bytes));
    if (ai == NONE) return 0;
    for (uint32_t p = h->addrs[ai].first; p != NONE && n < max; p = h->pairs[p].next_by_addr) {
        const char *s = h->str + h->names[h->pairs[p].name].text;
        int seen = 0;
        for (int k = 0; k < n && !seen; k++) seen = out[k] == s;
        if (!seen) out[n++] = s;
    }
    return n;
}
