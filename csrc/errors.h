/* Error codes of the core.  Zero is success; every failure is negative so
 * that functions returning a count or a length can share the channel. */
#ifndef NAMES_ERRORS_H
#define NAMES_ERRORS_H

enum nm_error {
    NM_OK = 0,
    NM_ESHORT = -1,       /* the message ends inside a field */
    NM_ELABELTYPE = -2,   /* a label starts with 01 or 10 */
    NM_EPTRFWD = -3,      /* a compression pointer that does not point backwards */
    NM_EPTRLOOP = -4,     /* too many compression hops */
    NM_ELABEL = -5,       /* a label over 63 octets */
    NM_ENAME = -6,        /* a name over 255 octets */
    NM_ERDLONG = -7,      /* rdata longer than its type's fields */
    NM_ERDSHORT = -8,     /* rdata shorter than its type's fields */
    NM_EOPT = -9,         /* a second OPT record, or one outside the additional section */
    NM_ENOMEM = -10,
    NM_ETOOBIG = -11,     /* the encoded message would exceed its limit */
    NM_ESYNTAX = -12,     /* text that does not parse (a name, an address) */
    NM_EEMPTYLABEL = -13, /* "a..b" */
    NM_EVALUE = -14,      /* a field value out of its range */
    NM_ECOUNT = -15,      /* more records than the message can hold */
    NM_ECLOSED = -16,     /* the object was closed */
    NM_ETIMEOUT = -17,
    NM_ECANCELLED = -18,
    NM_ERCODE = -19,      /* the server answered with an error rcode */
    NM_ENOSERVER = -20,   /* no name server to ask */
    NM_EIO = -21,         /* a socket error (see the attempt's detail) */
    NM_EBUSY = -22,
    NM_ENOTFOUND = -23,
    NM_ELAST = -24
};

/* A short English description, never NULL. */
const char *nm_strerror(int err);

#endif
