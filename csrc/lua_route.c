/* Addresses for connecting by name (names.endpoints): which source address
 * the kernel would use for a destination (RFC 6724's rules need it), and
 * an address in binary for the ordering rules. */
#include <string.h>

#include "lua_loop.h"

/* route_source(address) -> source address | nil, reason: the address the
 * kernel would send from to reach `address`, found without sending
 * anything (csrc/route.c); a bad address raises */
static int l_route_source(lua_State *L)
{
    const char *host = luaL_checkstring(L, 1);
    nm_addr dst, src;
    char buf[80];
    int err;
    /* any port but 0: a datagram socket cannot connect to port 0 */
    if (nm_addr_from_host(host, 9, &dst)) return luaL_argerror(L, 1, "bad address");
    err = nm_route_source(&dst, &src);
    if (err) {
        lua_pushnil(L);
        lua_pushstring(L, uv_strerror(err));
        return 2;
    }
    lua_pushstring(L, nm_addr_host(&src, buf, sizeof buf));
    return 1;
}

/* address_bytes(address) -> 16 bytes, family | nil: an address in binary,
 * IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d), as RFC 6724 compares them */
static int l_address_bytes(lua_State *L)
{
    const char *text = luaL_checkstring(L, 1);
    nm_addr a;
    uint8_t b[16];
    if (nm_addr_from_host(text, 1, &a)) return 0;
    if (a.u.sa.sa_family == AF_INET) {
        memset(b, 0, 10);
        b[10] = b[11] = 0xff;
        memcpy(b + 12, &a.u.in4.sin_addr, 4);
        lua_pushlstring(L, (const char *)b, 16);
        lua_pushinteger(L, 4);
    } else {
        lua_pushlstring(L, (const char *)&a.u.in6.sin6_addr, 16);
        lua_pushinteger(L, 6);
    }
    return 2;
}

void nm_lua_open_route(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "route_source", l_route_source },
        { "address_bytes", l_address_bytes },
        { NULL, NULL },
    };
    luaL_setfuncs(L, funcs, 0);
}
