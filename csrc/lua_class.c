/* Classes of the binding's userdata, built one way (as LuaSocket's
 * auxiliar and Lua's liolib build theirs).  __gc, close and __close are
 * closures over the class, calling its release function. */
#include "lua_util.h"

static const nm_lua_class *class_of(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

static int class_gc(lua_State *L)
{
    const nm_lua_class *c = class_of(L);
    c->release(L, luaL_checkudata(L, 1, c->name), 1);
    return 0;
}

static int class_close(lua_State *L)
{
    const nm_lua_class *c = class_of(L);
    c->release(L, luaL_checkudata(L, 1, c->name), 0);
    return 0;
}

/* "names.resolver: 0x...", or "names.resolver (closed)" once the box's
 * pointer is NULL. */
static int box_tostring(lua_State *L)
{
    void **box = lua_touserdata(L, 1);
    const char *name = "userdata";
    if (luaL_getmetafield(L, 1, "__name") == LUA_TSTRING) name = lua_tostring(L, -1);
    if (box && *box) lua_pushfstring(L, "%s: %p", name, *box);
    else lua_pushfstring(L, "%s (closed)", name);
    return 1;
}

void nm_lua_new_class(lua_State *L, const nm_lua_class *c)
{
    if (luaL_newmetatable(L, c->name)) { /* sets __name */
        if (c->release) {
            lua_pushlightuserdata(L, (void *)(uintptr_t)c);
            lua_pushcclosure(L, class_gc, 1);
            lua_setfield(L, -2, "__gc");
        }
        lua_pushcfunction(L, box_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_newtable(L);
        /* the metatable is each method's upvalue: nm_lua_check_box */
        lua_pushvalue(L, -2);
        luaL_setfuncs(L, c->methods ? c->methods : (const luaL_Reg[]){ { NULL, NULL } }, 1);
        if (c->closable) {
            lua_pushlightuserdata(L, (void *)(uintptr_t)c);
            lua_pushcclosure(L, class_close, 1);
            lua_pushvalue(L, -1);
            lua_setfield(L, -3, "close");
            lua_setfield(L, -3, "__close");
        }
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
}

void *nm_lua_check_box(lua_State *L, int idx, const char *name)
{
    void *box = lua_touserdata(L, idx);
    if (box && lua_getmetatable(L, idx)) {
        int same = lua_rawequal(L, -1, lua_upvalueindex(1));
        lua_pop(L, 1);
        if (same) return box;
    }
    return luaL_checkudata(L, idx, name);
}
