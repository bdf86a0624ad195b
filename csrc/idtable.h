/* Queries waiting on one transport, by id: open addressing with linear
 * probing and backward-shift deletion (no tombstones), grown at half load. */
#ifndef NAMES_IDTABLE_H
#define NAMES_IDTABLE_H

#include <stdint.h>
#include <stdlib.h>

#include "errors.h"

typedef struct nm_idtable {
    void **slots; /* NULL: empty */
    uint16_t *ids;
    uint32_t mask; /* capacity - 1, or 0 before the first insert */
    uint32_t count;
} nm_idtable;

static inline void nm_idtable_init(nm_idtable *t)
{
    t->slots = NULL;
    t->ids = NULL;
    t->mask = 0;
    t->count = 0;
}

static inline void nm_idtable_free(nm_idtable *t)
{
    free(t->slots);
    free(t->ids);
    nm_idtable_init(t);
}

static inline uint32_t nm_idtable_home(const nm_idtable *t, uint16_t id)
{
    /* ids are random already; spread them anyway against a chosen pattern */
    return ((uint32_t)id * 0x9E37u) & t->mask;
}

static inline void *nm_idtable_get(const nm_idtable *t, uint16_t id)
{
    if (!t->count) return NULL;
    for (uint32_t i = nm_idtable_home(t, id);; i = (i + 1) & t->mask) {
        if (!t->slots[i]) return NULL;
        if (t->ids[i] == id) return t->slots[i];
    }
}

static inline int nm_idtable_put(nm_idtable *t, uint16_t id, void *v);

/* Grows to cap slots (a power of two, more than there are members). */
static inline int nm_idtable_resize(nm_idtable *t, uint32_t cap)
{
    nm_idtable bigger;
    bigger.slots = calloc(cap, sizeof *bigger.slots);
    bigger.ids = calloc(cap, sizeof *bigger.ids);
    bigger.mask = cap - 1;
    bigger.count = 0;
    if (!bigger.slots || !bigger.ids) {
        free(bigger.slots);
        free(bigger.ids);
        return NM_ENOMEM;
    }
    for (uint32_t i = 0; t->mask && i <= t->mask; i++)
        if (t->slots[i]) nm_idtable_put(&bigger, t->ids[i], t->slots[i]);
    nm_idtable_free(t);
    *t = bigger;
    return NM_OK;
}

static inline int nm_idtable_grow(nm_idtable *t)
{
    return nm_idtable_resize(t, t->mask ? (t->mask + 1) * 2 : 16);
}

/* Room for n members without growing (at half load). */
static inline int nm_idtable_reserve(nm_idtable *t, uint32_t n)
{
    uint32_t cap = 16;
    while (cap < 2 * n + 2 && cap < 131072) cap *= 2;
    return cap > t->mask + 1 ? nm_idtable_resize(t, cap) : NM_OK;
}

/* The id must not be in the table (nm_idtable_get first). */
static inline int nm_idtable_put(nm_idtable *t, uint16_t id, void *v)
{
    uint32_t i;
    if ((t->count + 1) * 2 > t->mask + 1 && nm_idtable_grow(t)) return NM_ENOMEM;
    for (i = nm_idtable_home(t, id); t->slots[i]; i = (i + 1) & t->mask) {}
    t->slots[i] = v;
    t->ids[i] = id;
    t->count++;
    return NM_OK;
}

static inline void nm_idtable_del(nm_idtable *t, uint16_t id)
{
    uint32_t i, j;
    if (!t->count) return;
    for (i = nm_idtable_home(t, id);; i = (i + 1) & t->mask) {
        if (!t->slots[i]) return;
        if (t->ids[i] == id) break;
    }
    t->slots[i] = NULL;
    t->count--;
    /* shift later members of the cluster back into the hole */
    for (j = (i + 1) & t->mask; t->slots[j]; j = (j + 1) & t->mask) {
        uint32_t home = nm_idtable_home(t, t->ids[j]);
        /* move j to i unless its home lies cyclically in (i, j] */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            t->slots[i] = t->slots[j];
            t->ids[i] = t->ids[j];
            t->slots[j] = NULL;
            i = j;
        }
    }
}

/* Any one member, to drain the table; NULL when empty. */
static inline void *nm_idtable_any(const nm_idtable *t)
{
    for (uint32_t i = 0; t->count && i <= t->mask; i++)
        if (t->slots[i]) return t->slots[i];
    return NULL;
}

#endif
