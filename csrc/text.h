/* Presentation text, as dig prints it: rdata per type and whole records
 * laid out in BIND's columns. */
#ifndef NAMES_TEXT_H
#define NAMES_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "message.h"
#include "rrtype.h"

typedef struct nm_text {
    char *buf;
    size_t len, cap;
    int err;   /* sticky, like the writer's */
    int flags; /* NM_TEXT_ONE_WORD */
} nm_text;

enum {
    /* Long base64 and hex runs in one piece: dig breaks them into words of
     * 56 characters, which a repr of one field does not want. */
    NM_TEXT_ONE_WORD = 1
};

void nm_text_init(nm_text *t);
void nm_text_free(nm_text *t);
void nm_text_putc(nm_text *t, char c);
void nm_text_put(nm_text *t, const char *s, size_t n);
void nm_text_puts(nm_text *t, const char *s);
void nm_text_printf(nm_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Encodings used by the text forms. */
void nm_text_hex(nm_text *t, const uint8_t *p, size_t n, int upper);
void nm_text_base64(nm_text *t, const uint8_t *p, size_t n);
void nm_text_base32hex(nm_text *t, const uint8_t *p, size_t n);
/* A quoted character-string with BIND's escapes ("a\"b\\c\255"). */
void nm_text_quoted(nm_text *t, const uint8_t *p, size_t n);
/* RFC 3597's generic form: \# length hex. */
void nm_text_opaque(nm_text *t, const uint8_t *p, size_t n);
/* A wire name, absolute (with the final dot). */
void nm_text_name(nm_text *t, const uint8_t *wire);

/* An IPv4 (len 4) or IPv6 (len 16) address as inet_ntop writes it (RFC
 * 5952's shortest form, IPv4-mapped and -compatible addresses dotted),
 * without inet_ntop's sprintf: into out (NM_IP_TEXT_MAX bytes), with its
 * length returned. */
#define NM_IP_TEXT_MAX 46
size_t nm_ip_to_text(const uint8_t *addr, size_t len, char *out);

/* One field's value (nm_rdata_next's) as dig prints it. */
struct nm_field;
struct nm_value;
int nm_text_field(nm_text *t, const struct nm_field *f, const struct nm_value *v);

/* The rdata of one record of a message as dig prints it. */
int nm_text_rdata(nm_text *t, const uint8_t *wire, size_t rdata, size_t rdlen,
                  uint16_t type, uint16_t cls);
/* A whole record line of a parsed message: owner, ttl, class, type, rdata
 * in dig's columns.  It takes the message, not just the record: the
 * owner's compression pointers may lead to labels anywhere in it. */
int nm_text_rr(nm_text *t, const nm_msg *m, const nm_rr *rr);

#endif
