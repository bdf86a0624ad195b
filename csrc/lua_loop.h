/* The reactor: the binding's one libuv loop per Lua state, and the way
 * every binding file calls back into Lua. */
#ifndef NAMES_LUA_LOOP_H
#define NAMES_LUA_LOOP_H

#include <uv.h>

#include "lua_util.h"

typedef struct nm_reactor nm_reactor;

/* The reactor of this Lua state, made on first use. */
nm_reactor *nm_lua_reactor(lua_State *L);
/* Its loop, with the reactor's handles started. */
uv_loop_t *nm_lua_loop(lua_State *L);
/* The main thread: loop callbacks run Lua on it. */
lua_State *nm_lua_main(nm_reactor *r);
/* Marks that I/O exists on the loop (use_luv is refused after that) and
 * wakes a poller (below). */
void nm_lua_io_started(lua_State *L);
/* Call before starting work on the loop from Lua (a query, an exchange):
 * brings the loop's clock up to date, since deadlines count from it and a
 * loop driven from outside (step(), luv) may have slept since its last
 * round; and, once pollfd() has been asked for, makes the descriptor
 * readable so that whoever polls it looks at the loop again (libuv
 * registers new descriptors only at its next round, and a poller asleep
 * knows nothing of the new timers).  Cheap; no wake-up for loops driven by
 * run() or luv. */
void nm_lua_prepare_work(lua_State *L);

/* Calls the function below nargs arguments in protected mode with a
 * traceback; an error is written to stderr.  Returns lua_pcall's code. */
int nm_lua_pcall(lua_State *L, int nargs, int nresults);

#endif
