/* The core's clock: what the resolver's deadlines and the cache's ages are
 * measured on.
 *
 * By default it is the loop's: milliseconds from uv_now (as fresh as the
 * loop's last look; update refreshes it) and seconds from uv_hrtime.  A
 * test, or a Lua program on Twisted's task.Clock, gives a clock of its own
 * instead: its time moves only when its owner moves it and says so
 * (nm_resolver_clock_moved), so retries, failover and timeouts can be
 * tested without waiting or flaking on a slow machine.
 */
#ifndef NAMES_CLOCK_H
#define NAMES_CLOCK_H

#include <stdint.h>

#include <uv.h>

typedef struct nm_clock {
    /* now, in milliseconds; never goes backwards */
    uint64_t (*now_ms)(void *ctx);
    /* now, in seconds, for the cache's ages (the same time, finer) */
    double (*seconds)(void *ctx);
    /* brings now_ms up to date before a new deadline is set; NULL when it
     * is always up to date (a clock moved by hand) */
    void (*update)(void *ctx);
    void *ctx;
} nm_clock;

/* The loop's clock (the default): ctx is the loop. */
void nm_clock_of_loop(nm_clock *c, uv_loop_t *loop);

#endif
