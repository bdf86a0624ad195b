/* The loop's clock, the default of clock.h. */
#include "clock.h"

static uint64_t loop_now_ms(void *loop)
{
    return uv_now(loop);
}

static double loop_seconds(void *loop)
{
    (void)loop;
    return (double)uv_hrtime() / 1e9;
}

static void loop_update(void *loop)
{
    uv_update_time(loop);
}

void nm_clock_of_loop(nm_clock *c, uv_loop_t *loop)
{
    c->now_ms = loop_now_ms;
    c->seconds = loop_seconds;
    c->update = loop_update;
    c->ctx = loop;
}
