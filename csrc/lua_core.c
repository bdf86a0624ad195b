/* luaopen_names_core: the one C module behind the names.* Lua modules.
 * Each binding file registers its own functions into the table. */
#include "lua_loop.h"

int luaopen_names_core(lua_State *L);

int luaopen_names_core(lua_State *L)
{
    lua_newtable(L);
    nm_lua_open_dns(L);
    nm_lua_open_loop(L);
    nm_lua_open_resolver(L);
    nm_lua_open_transport(L);
    nm_lua_open_sys(L);
    nm_lua_open_route(L);
    nm_lua_open_repl(L);
    return 1;
}
