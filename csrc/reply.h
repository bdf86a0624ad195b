/* Internal to the transports: checking that a reply answers a query. */
#ifndef NAMES_REPLY_H
#define NAMES_REPLY_H

#include "transport.h"

/* buf holds at least a header whose id is p's.  Returns 1 with msg parsed
 * (release it) when the reply answers p; 0, counted, when it does not. */
int nm_reply_check(nm_pending *p, const uint8_t *buf, size_t len, nm_msg *msg,
                   nm_drop_stats *drops);

#endif
