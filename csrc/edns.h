/* EDNS(0) options (RFC 6891) and the ones the core understands. */
#ifndef NAMES_EDNS_H
#define NAMES_EDNS_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

enum {
    NM_OPT_ECS = 8,      /* client subnet, RFC 7871 */
    NM_OPT_COOKIE = 10,  /* RFC 7873 */
    NM_OPT_PADDING = 12, /* RFC 7830 */
    NM_OPT_EDE = 15      /* extended DNS error, RFC 8914 */
};

/* Walks the options of an OPT rdata (already checked by the parser). */
typedef struct nm_opt_iter {
    const uint8_t *p, *end;
} nm_opt_iter;

void nm_opt_begin(nm_opt_iter *it, const uint8_t *rdata, size_t rdlen);
/* 1 and the next option, or 0 at the end. */
int nm_opt_next(nm_opt_iter *it, uint16_t *code, const uint8_t **data, uint16_t *len);

typedef struct nm_ecs {
    uint16_t family; /* 1 IPv4, 2 IPv6 */
    uint8_t source, scope;
    uint8_t addr[16]; /* zero beyond the source prefix */
} nm_ecs;

/* Decodes a client-subnet option; NM_EVALUE when it is inconsistent. */
int nm_ecs_decode(const uint8_t *p, size_t n, nm_ecs *out);
/* Writes a whole client-subnet option (code, length, data). */
void nm_wr_ecs(nm_writer *w, const nm_ecs *ecs);
/* Writes one option. */
void nm_wr_option(nm_writer *w, uint16_t code, const uint8_t *data, size_t len);

#endif
