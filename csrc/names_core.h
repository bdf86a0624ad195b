/* lua-names core: the C API.  Plain C on libuv; no Lua header is included
 * below this line, so the core can be tested, fuzzed and embedded alone.
 *
 *   codec     wire.h (reader, writer), name.h, rrtype.h (types as data),
 *             rdata.h (fields), message.h (parse, build), text.h (dig's
 *             text), edns.h
 */
#ifndef NAMES_CORE_H
#define NAMES_CORE_H

#include "edns.h"
#include "errors.h"
#include "message.h"
#include "name.h"
#include "rdata.h"
#include "rrtype.h"
#include "text.h"
#include "wire.h"

#endif
