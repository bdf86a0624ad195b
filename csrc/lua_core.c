/* luaopen_names_core: the one C module behind the names.* Lua modules.
 * Each binding file registers its own functions into the table. */
#include "lua_loop.h"
#include "tls_provider.h"

int luaopen_names_core(lua_State *L);

int luaopen_names_core(lua_State *L)
{
    /* where names.tls installs the encrypted transports (lua_tls.c) */
    lua_pushlightuserdata(L, &nm_tls_installed);
    lua_setfield(L, LUA_REGISTRYINDEX, "names.core.tls_slot");
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
