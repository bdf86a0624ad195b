/* Helpers shared by the binding files (the only files that include Lua). */
#ifndef NAMES_LUA_UTIL_H
#define NAMES_LUA_UTIL_H

#include <lauxlib.h>
#include <lua.h>

#include "names_core.h"

/* Registration of each binding file's functions into the core table at -1. */
void nm_lua_open_dns(lua_State *L);
void nm_lua_open_loop(lua_State *L);
void nm_lua_open_resolver(lua_State *L);
void nm_lua_open_transport(lua_State *L);
void nm_lua_open_sys(lua_State *L);
void nm_lua_open_route(lua_State *L);
/* core.repl: what only names-repl uses (lua_repl.c) */
void nm_lua_open_repl(lua_State *L);

/* A class of userdata boxes: a box holds a pointer to the object, NULL
 * once it is closed.  nm_lua_new_class registers its metatable once, with
 * __name, __index (the methods), __gc, __tostring ("name: 0x..." or
 * "name (closed)") and, for a closable class, both a close method and
 * __close.  All of them end in one release function: close and __close
 * call it with finalizing 0, __gc with 1 (then it may not call Lua back
 * nor touch the registry's references: lua_close may be under way).  The
 * class must be static: its metatable's closures point to it.  A class
 * without a release function (not closable) gets no __gc: its boxes are
 * kept alive by whatever uses them. */
typedef struct nm_lua_class {
    const char *name;        /* the metatable's registry key and __name */
    const luaL_Reg *methods; /* NULL: none */
    void (*release)(lua_State *L, void *box, int finalizing); /* NULL: none */
    int closable;            /* close and __close too */
} nm_lua_class;
void nm_lua_new_class(lua_State *L, const nm_lua_class *c);
/* luaL_checkudata(L, idx, name) for a method of class `name`, which has
 * the class's metatable as its first upvalue (nm_lua_new_class): compared
 * with it, not looked up in the registry by name (a string hashed and a
 * table read on every call of the per-lookup methods).  Anything else
 * (another class's method, a wrong object) takes luaL_checkudata's way,
 * and its error. */
void *nm_lua_check_box(lua_State *L, int idx, const char *name);

/* The transport of a Lua port or connection at idx (raises if idx is
 * neither, or closed). */
nm_transport *nm_lua_check_via(lua_State *L, int idx);
/* The same, checked already: NULL when it has been closed since (by a
 * finalizer, say); never raises. */
nm_transport *nm_lua_via_if_open(lua_State *L, int idx);
/* The core cache of a names.cache object at idx. */
struct nm_cache *nm_lua_check_cache(lua_State *L, int idx);

/* Pushes a decoded message as a names.dns Message; returns 1, or 0 and
 * pushes nothing when names.dns has not registered its classes yet. */
int nm_lua_push_message(lua_State *L, const nm_msg *m);
/* The same, with the question and record sections decoded when first
 * read, from m's bytes: the Lua string at stack index `wire`. */
int nm_lua_push_message_lazy(lua_State *L, const nm_msg *m, int wire);
/* The same for bytes parsed before (m may be NULL), whose rcode is known:
 * nothing is parsed now. */
int nm_lua_push_message_lazy_rcode(lua_State *L, const nm_msg *m, int rcode, int wire);

/* Sets t[k] = v for the table at the top of the stack. */
static inline void nm_lua_setint(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

static inline void nm_lua_setbool(lua_State *L, const char *k, int v)
{
    lua_pushboolean(L, v);
    lua_setfield(L, -2, k);
}

static inline void nm_lua_setstr(lua_State *L, const char *k, const char *s, size_t n)
{
    lua_pushlstring(L, s, n);
    lua_setfield(L, -2, k);
}

#endif
