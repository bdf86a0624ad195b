/* luaopen_names_tls: the encrypted transports (DoT, DoH) as a module of
 * their own, with OpenSSL and nghttp2 linked to it and not to names.core.
 * Loading it installs them in names.core's slot (tls_provider.h); the
 * core's binding loads it when a tls:// or https:// server or a TLS option
 * first needs it.  It returns true. */
#include <lauxlib.h>
#include <lua.h>

#include "tls_provider.h"

int luaopen_names_tls(lua_State *L);

int luaopen_names_tls(lua_State *L)
{
    nm_tls_slot *slot;
    lua_getglobal(L, "require");
    lua_pushliteral(L, "names.core");
    lua_call(L, 1, 0);
    if (lua_getfield(L, LUA_REGISTRYINDEX, "names.core.tls_slot") != LUA_TLIGHTUSERDATA)
        return luaL_error(L, "names.tls: names.core has no slot for the encrypted transports");
    slot = lua_touserdata(L, -1);
    slot->provider = &nm_tls_builtin;
    lua_pushboolean(L, 1);
    return 1;
}
