/* Unpredictable numbers for query ids, source ports and 0x20 case, from
 * the kernel's CSPRNG (getrandom), drawn in blocks to save system calls. */
#ifndef NAMES_RANDOM_H
#define NAMES_RANDOM_H

#include <stddef.h>
#include <stdint.h>

typedef struct nm_random {
    uint8_t pool[256];
    size_t left;
} nm_random;

void nm_random_init(nm_random *r);
uint16_t nm_random16(nm_random *r);
uint32_t nm_random32(nm_random *r);
void nm_random_bytes(nm_random *r, void *out, size_t n);

#endif
