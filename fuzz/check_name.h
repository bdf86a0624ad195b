/* The name checks shared by fuzz/fuzz_name.c and the corpus replayer.
 * check_name(data, size) takes one fuzz input.  The first byte picks a mode:
 *   even: the rest is presentation text.  What nm_name_from_text accepts
 *         must print (nm_name_to_text, with and without the final dot) to
 *         text that parses back to the same octets.
 *   odd:  the rest is a message; the second byte (mod the length) is where
 *         a name starts.  What nm_name_read accepts must be a well-formed
 *         uncompressed name of at most 255 octets, whose text round-trips,
 *         and which, written into a message with compression after the
 *         same name and a case variant, reads back octet for octet. */
#ifndef NAMES_FUZZ_CHECK_NAME_H
#define NAMES_FUZZ_CHECK_NAME_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "name.h"
#include "wire.h"

/* What a broken invariant does: the fuzzer aborts; the replayer defines
 * it to jump back and count a failure. */
#ifndef CHECK_NAME_FAILED
#define CHECK_NAME_FAILED() abort()
#endif

#define REQUIRE(x) \
    do { \
        if (!(x)) { \
            fprintf(stderr, "check_name: %s (line %d)\n", #x, __LINE__); \
            CHECK_NAME_FAILED(); \
        } \
    } while (0)

/* A well-formed uncompressed name of n octets. */
static void check_wire(const uint8_t *name, size_t n)
{
    size_t i = 0;
    REQUIRE(n >= 1 && n <= NM_NAME_MAX);
    while (name[i]) {
        REQUIRE(name[i] <= NM_LABEL_MAX);
        i += (size_t)name[i] + 1;
        REQUIRE(i < n);
    }
    REQUIRE(i + 1 == n);
    REQUIRE(nm_name_len(name) == n);
}

static void check_text_round_trip(const uint8_t *name, size_t n)
{
    char text[NM_NAME_TEXT_MAX];
    uint8_t back[NM_NAME_MAX];
    size_t tl, bl;
    for (int flags = 0; flags <= NM_TEXT_DOT; flags += NM_TEXT_DOT) {
        tl = nm_name_to_text(name, text, flags);
        REQUIRE(tl < sizeof text && strlen(text) == tl);
        REQUIRE(nm_name_from_text(text, tl, back, &bl) == NM_OK);
        REQUIRE(bl == n && memcmp(back, name, n) == 0);
        REQUIRE(nm_name_equal(back, name));
    }
}

/* Writes name after itself and a case variant, compressed, and reads each
 * copy back. */
static void check_compression(const uint8_t *name, size_t n)
{
    uint8_t upper[NM_NAME_MAX], out[NM_NAME_MAX];
    size_t at[3], ol;
    nm_writer w;
    nm_reader r;
    memcpy(upper, name, n);
    for (size_t i = 0; i < n; i++)
        if (upper[i] >= 'a' && upper[i] <= 'z') upper[i] = (uint8_t)(upper[i] - 32);
    nm_writer_init(&w, NULL, 0, 0);
    nm_wr_bytes(&w, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
    at[0] = w.len;
    nm_wr_name(&w, upper, 1);
    at[1] = w.len;
    nm_wr_name(&w, name, 1);
    at[2] = w.len;
    nm_wr_name(&w, name, 1);
    REQUIRE(w.err == NM_OK);
    REQUIRE(w.len - at[2] <= 2 || n == 1); /* the third is one pointer */
    for (int k = 0; k < 3; k++) {
        nm_reader_init(&r, w.buf, w.len);
        r.pos = at[k];
        REQUIRE(nm_name_read(&r, out, &ol) == NM_OK);
        REQUIRE(ol == n);
        REQUIRE(memcmp(out, k ? name : upper, n) == 0);
        REQUIRE(r.pos == (k < 2 ? at[k + 1] : w.len));
    }
    nm_writer_free(&w);
}

static int check_name(const uint8_t *data, size_t size)
{
    uint8_t name[NM_NAME_MAX];
    size_t n = 0;

    if (size < 1) return 0;
    if (data[0] % 2 == 0) {
        if (nm_name_from_text((const char *)data + 1, size - 1, name, &n) != NM_OK) return 0;
        check_wire(name, n);
        check_text_round_trip(name, n);
        check_compression(name, n);
        return 0;
    }
    if (size < 3) return 0;
    {
        nm_reader r;
        const uint8_t *msg = data + 2;
        size_t len = size - 2, start = data[1] % len;
        int err;
        nm_reader_init(&r, msg, len);
        r.pos = start;
        err = nm_name_read(&r, name, &n);
        if (err) {
            REQUIRE(err < 0 && err > NM_ELAST);
            REQUIRE(r.pos == start);
            /* validating alone must agree */
            nm_reader_init(&r, msg, len);
            r.pos = start;
            REQUIRE(nm_name_read(&r, NULL, NULL) == err);
            return 0;
        }
        REQUIRE(r.pos > start && r.pos <= len);
        check_wire(name, n);
        check_text_round_trip(name, n);
        check_compression(name, n);
    }
    return 0;
}

#endif
