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
/* Marks that I/O exists on the loop (use_luv is refused after that). */
void nm_lua_io_started(lua_State *L);

/* Calls the function below nargs arguments in protected mode with a
 * traceback; an error is written to stderr.  Returns lua_pcall's code. */
int nm_lua_pcall(lua_State *L, int nargs, int nresults);

#endif
