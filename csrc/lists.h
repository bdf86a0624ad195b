/* Helpers for the lists written once as X-macros (errors.h, transport.h,
 * rrtype.h, resolver.h): LIST(X) expands X once per entry. */
#ifndef NAMES_LISTS_H
#define NAMES_LISTS_H

/* LIST(NM_LIST_COUNT) is "+1 +1 ...": 0 LIST(NM_LIST_COUNT) counts the entries. */
#define NM_LIST_COUNT(...) +1
/* For lists of (name, text): the texts, in order, for an array. */
#define NM_LIST_TEXT(name, text) text,

#endif
