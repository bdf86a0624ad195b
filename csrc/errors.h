/* Error codes of the core.  Zero is success; every failure is negative so
 * that functions returning a count or a length can share the channel. */
#ifndef NAMES_ERRORS_H
#define NAMES_ERRORS_H

#include "lists.h"

/* Every error once: its name (NM_<name>), its code and its text (for
 * nm_strerror).  The binding hands the name to Lua as the error's code. */
#define NM_ERROR_LIST(X) \
    X(OK, 0, "success") \
    X(ESHORT, -1, "truncated") /* the message ends inside a field */ \
    X(ELABELTYPE, -2, "bad label type") /* a label starts with 01 or 10 */ \
    X(EPTRFWD, -3, "compression pointer does not point backwards") \
    X(EPTRLOOP, -4, "too many compression pointers (pointer loop)") \
    X(ELABEL, -5, "label longer than 63 octets") \
    X(ENAME, -6, "name longer than 255 octets") \
    X(ERDLONG, -7, "rdata longer than its type needs") \
    X(ERDSHORT, -8, "rdata shorter than its type needs") \
    X(EOPT, -9, "misplaced or repeated OPT record") \
    X(ENOMEM, -10, "out of memory") \
    X(ETOOBIG, -11, "message too large") /* the encoded message would exceed its limit */ \
    X(ESYNTAX, -12, "syntax error") /* text that does not parse (a name, an address) */ \
    X(EEMPTYLABEL, -13, "empty label") /* "a..b" */ \
    X(EVALUE, -14, "value out of range") /* a field value out of its range */ \
    X(ECOUNT, -15, "too many records") /* more records than the message can hold */ \
    X(ECLOSED, -16, "closed") /* the object was closed */ \
    X(ETIMEOUT, -17, "timed out") \
    X(ECANCELLED, -18, "cancelled") \
    X(ERCODE, -19, "error response") /* the server answered with an error rcode */ \
    X(ENOSERVER, -20, "no name servers") \
    X(EIO, -21, "socket error") /* a socket error (see the attempt's detail) */ \
    X(EBUSY, -22, "busy") \
    X(ENOTFOUND, -23, "not found")

/* The codes run from 0 down, one after the other; NM_ELAST is past the last. */
#define NM_ERROR_ENUM(name, code, text) NM_##name = code,
enum nm_error { NM_ERROR_LIST(NM_ERROR_ENUM) NM_ELAST = -(0 NM_ERROR_LIST(NM_LIST_COUNT)) };
#undef NM_ERROR_ENUM

/* A short English description, never NULL. */
const char *nm_strerror(int err);
/* The error's name without NM_ ("ETIMEOUT", "OK"), or "EUNKNOWN". */
const char *nm_error_name(int err);

#endif
