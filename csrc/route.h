/* Which source address the kernel would use to reach a destination, found
 * without sending anything: a UDP socket is connect()ed to the destination
 * (for UDP that only picks a route and a source address) and asked for its
 * own address.  RFC 6724's destination ordering needs the source of each
 * destination; Happy Eyeballs uses "no route" as "unusable" (RFC 6724
 * rule 1).  The socket is closed before returning: no loop, no handle. */
#ifndef NAMES_ROUTE_H
#define NAMES_ROUTE_H

#include "addr.h"

/* 0 and *src filled, or a negative errno (-ENETUNREACH, -EAFNOSUPPORT, ...). */
int nm_route_source(const nm_addr *dst, nm_addr *src);

#endif
