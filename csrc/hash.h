/* A keyed hash for the core's tables (SipHash-1-3, as Rust's and Python's
 * hash tables use).  The cache's keys are names that remote parties can
 * pick, so a fixed-seed hash would let them aim every key at one chain;
 * a random key per table makes that guesswork. */
#ifndef NAMES_HASH_H
#define NAMES_HASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct nm_hash_key {
    uint64_t k0, k1;
} nm_hash_key;

/* A fresh key from the kernel's CSPRNG. */
void nm_hash_key_random(nm_hash_key *key);
uint64_t nm_hash(const nm_hash_key *key, const void *data, size_t len);

#endif
