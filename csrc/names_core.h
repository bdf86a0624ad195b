/* lua-names core: the C API.  Plain C on libuv; no Lua header is included
 * below this line, so the core can be tested, fuzzed and embedded alone.
 *
 *   codec     wire.h (reader, writer), name.h, rrtype.h (types as data),
 *             rdata.h (fields), message.h (parse, build), text.h (dig's
 *             text), edns.h
 *   network   addr.h (server addresses), random.h (ids, ports), transport.h
 *             (the transports' table of operations and registry: UDP, TCP),
 *             stream_frame.h (two-octet framing for streams), clock.h (the
 *             time deadlines run on), resolver.h (the policy)
 *   system    resolvconf.h (resolv.conf, search list), hosts.h (the hosts
 *             file), filestamp.h (reading files, noticing changes)
 *   cache     cache.h (answers and RFC 2308 negative answers), hash.h
 */
#ifndef NAMES_CORE_H
#define NAMES_CORE_H

#include "addr.h"
#include "cache.h"
#include "clock.h"
#include "edns.h"
#include "errors.h"
#include "filestamp.h"
#include "hash.h"
#include "hosts.h"
#include "message.h"
#include "name.h"
#include "random.h"
#include "rdata.h"
#include "resolvconf.h"
#include "resolver.h"
#include "route.h"
#include "rrtype.h"
#include "text.h"
#include "transport.h"
#include "wire.h"

#endif
