/* The reactor's loop: one libuv loop per Lua state, its own by default or
 * luv's after use_luv.  Lua's delayed calls share one libuv timer (the heap
 * of calls is in names.reactor, as Twisted keeps it); run() holds the loop
 * open until stop(), as Twisted's reactor.run() does.
 *
 * Lifetime: the reactor struct is malloc'd (libuv touches it) and pointed
 * to by a userdata in the registry.  Its __gc closes the handles and frees
 * the struct from the last close callback. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <uv.h>

#include "lua_loop.h"

static const char reactor_key = 'r';

struct nm_reactor {
    uv_loop_t *loop;
    uv_loop_t own_loop;
    int own;            /* loop is own_loop: close it at the end */
    int started;        /* the handles below are initialised */
    uv_timer_t timer;   /* Lua's delayed calls */
    uv_async_t hold;    /* referenced while run() runs */
    lua_State *L;       /* the main thread */
    int timer_fn;       /* registry ref of the Lua function the timer calls */
    int running;
    int closing;        /* pending close callbacks on a foreign loop */
    int io;             /* I/O objects created: after this, use_luv is too late */
};

/* ------------------------------------------------------------ calling Lua */

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL && !lua_isnoneornil(L, 1) && !luaL_callmeta(L, 1, "__tostring")) {
        /* a non-string error (a Failure, a table): pass it on untouched */
        return 1;
    }
    luaL_traceback(L, L, msg ? msg : lua_tostring(L, -1), 1);
    return 1;
}

int nm_lua_pcall(lua_State *L, int nargs, int nresults)
{
    int base = lua_gettop(L) - nargs, rc;
    lua_pushcfunction(L, traceback);
    lua_insert(L, base);
    rc = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    if (rc != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        fprintf(stderr, "Unhandled error in a loop callback:\n%s\n",
                msg ? msg : luaL_typename(L, -1));
        lua_pop(L, 1);
    }
    return rc;
}

/* ---------------------------------------------------------------- reactor */

static void on_timer(uv_timer_t *t)
{
    nm_reactor *r = t->data;
    lua_State *L = r->L;
    if (r->timer_fn == LUA_NOREF) return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->timer_fn);
    nm_lua_pcall(L, 0, 0);
}

static void on_hold(uv_async_t *a)
{
    (void)a;
}

static void start_handles(nm_reactor *r)
{
    if (r->started) return;
    uv_timer_init(r->loop, &r->timer);
    r->timer.data = r;
    uv_unref((uv_handle_t *)&r->timer);
    uv_async_init(r->loop, &r->hold, on_hold);
    r->hold.data = r;
    uv_unref((uv_handle_t *)&r->hold);
    r->started = 1;
}

static void on_closed(uv_handle_t *h)
{
    nm_reactor *r = h->data;
    if (--r->closing == 0) free(r);
}

/* __gc of the registry's box, at lua_close.  Every other object of ours was
 * made after the reactor, so its finalizer ran first and its handles are
 * closing: run our own loop until they are closed, then close the loop.
 * On a foreign loop, the last close callback frees the struct. */
static int reactor_gc(lua_State *L)
{
    nm_reactor **box = lua_touserdata(L, 1);
    nm_reactor *r = *box;
    *box = NULL;
    if (!r) return 0;
    if (r->timer_fn != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, r->timer_fn);
    r->timer_fn = LUA_NOREF;
    if (!r->own) {
        if (!r->started) {
            free(r);
            return 0;
        }
        r->closing = 2;
        uv_close((uv_handle_t *)&r->timer, on_closed);
        uv_close((uv_handle_t *)&r->hold, on_closed);
        return 0;
    }
    if (r->started) {
        uv_close((uv_handle_t *)&r->timer, NULL);
        uv_close((uv_handle_t *)&r->hold, NULL);
    }
    for (int i = 0; i < 100 && uv_run(&r->own_loop, UV_RUN_NOWAIT); i++) {}
    uv_run(&r->own_loop, UV_RUN_NOWAIT);
    /* a loop that still holds handles is left alone rather than freed
     * under them (a leak at exit, never a crash) */
    if (uv_loop_close(&r->own_loop) == 0) free(r);
    return 0;
}

nm_reactor *nm_lua_reactor(lua_State *L)
{
    nm_reactor **box, *r;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &reactor_key) == LUA_TUSERDATA) {
        box = lua_touserdata(L, -1);
        lua_pop(L, 1);
        if (*box) return *box;
        luaL_error(L, "the reactor is closed");
    }
    lua_pop(L, 1);
    box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = NULL;
    lua_newtable(L);
    lua_pushcfunction(L, reactor_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &reactor_key);

    if (!(r = calloc(1, sizeof *r))) luaL_error(L, "out of memory");
    if (uv_loop_init(&r->own_loop) != 0) {
        free(r);
        luaL_error(L, "cannot create a libuv loop");
    }
    r->loop = &r->own_loop;
    r->own = 1;
    r->timer_fn = LUA_NOREF;
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    r->L = lua_tothread(L, -1);
    lua_pop(L, 1);
    *box = r;
    return r;
}

uv_loop_t *nm_lua_loop(lua_State *L)
{
    nm_reactor *r = nm_lua_reactor(L);
    start_handles(r);
    return r->loop;
}

lua_State *nm_lua_main(nm_reactor *r)
{
    return r->L;
}

void nm_lua_io_started(lua_State *L)
{
    nm_lua_reactor(L)->io++;
}

/* now() -> seconds on a monotonic clock, with sub-millisecond precision */
static int l_now(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)uv_hrtime() / 1e9);
    return 1;
}

/* on_timer(fn): the function the delayed-call timer runs */
static int l_on_timer(lua_State *L)
{
    nm_reactor *r = nm_lua_reactor(L);
    luaL_checktype(L, 1, LUA_TFUNCTION);
    if (r->timer_fn != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, r->timer_fn);
    lua_pushvalue(L, 1);
    r->timer_fn = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* set_timer(seconds | nil): arm the one timer, or stop it */
static int l_set_timer(lua_State *L)
{
    uv_loop_t *loop = nm_lua_loop(L);
    nm_reactor *r = nm_lua_reactor(L);
    (void)loop;
    if (lua_isnoneornil(L, 1)) {
        uv_timer_stop(&r->timer);
        uv_unref((uv_handle_t *)&r->timer);
        return 0;
    } else {
        lua_Number s = luaL_checknumber(L, 1);
        uint64_t ms;
        if (!(s > 0)) ms = 0;
        else if (s > 1e9) ms = (uint64_t)1e12;
        else ms = (uint64_t)(s * 1000.0 + 0.999); /* never early */
        uv_ref((uv_handle_t *)&r->timer);
        uv_update_time(r->loop); /* the loop's clock may be a callback behind */
        uv_timer_start(&r->timer, on_timer, ms, 0);
    }
    return 0;
}

/* run(): until stop(); returns at once when called inside run() */
static int l_run(lua_State *L)
{
    uv_loop_t *loop = nm_lua_loop(L);
    nm_reactor *r = nm_lua_reactor(L);
    if (r->running) return luaL_error(L, "the reactor is already running");
    r->running = 1;
    uv_ref((uv_handle_t *)&r->hold);
    while (r->running) {
        uv_run(loop, UV_RUN_DEFAULT);
    }
    uv_unref((uv_handle_t *)&r->hold);
    return 0;
}

static int l_stop(lua_State *L)
{
    nm_reactor *r = nm_lua_reactor(L);
    if (!r->running) return 0;
    r->running = 0;
    uv_unref((uv_handle_t *)&r->hold);
    uv_stop(r->loop);
    return 0;
}

static int l_running(lua_State *L)
{
    lua_pushboolean(L, nm_lua_reactor(L)->running);
    return 1;
}

/* step([wait]): run what is ready (or, with wait, block for one round);
 * returns whether anything is still pending */
static int l_step(lua_State *L)
{
    uv_loop_t *loop = nm_lua_loop(L);
    int alive = uv_run(loop, lua_toboolean(L, 1) ? UV_RUN_ONCE : UV_RUN_NOWAIT);
    lua_pushboolean(L, alive);
    return 1;
}

/* pollfd(), timeout(): for cqueues and poll loops */
static int l_pollfd(lua_State *L)
{
    lua_pushinteger(L, uv_backend_fd(nm_lua_loop(L)));
    return 1;
}

static int l_backend_timeout(lua_State *L)
{
    uv_loop_t *loop = nm_lua_loop(L);
    int ms;
    uv_update_time(loop);
    ms = uv_backend_timeout(loop);
    if (ms < 0) lua_pushnil(L);
    else lua_pushnumber(L, ms / 1000.0);
    return 1;
}

/* alive(): whether the loop has referenced work */
static int l_alive(lua_State *L)
{
    lua_pushboolean(L, uv_loop_alive(nm_lua_loop(L)));
    return 1;
}

/* use_luv(luv): move onto the loop luv drives.  luv keeps its context in
 * the registry under "luv_context"; the loop pointer is its first field. */
static int l_use_luv(lua_State *L)
{
    nm_reactor *r = nm_lua_reactor(L);
    uv_loop_t *loop;
    luaL_checktype(L, 1, LUA_TTABLE);
    if (r->io || r->running)
        return luaL_error(L, "useLuv must be called before any I/O");
    if (lua_getfield(L, LUA_REGISTRYINDEX, "luv_context") != LUA_TUSERDATA)
        return luaL_error(L, "useLuv: this is not luv (no luv_context in the registry)");
    loop = *(uv_loop_t **)lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!loop) return luaL_error(L, "useLuv: luv has no loop");
    if (r->loop == loop) return 0;
    if (r->started) {
        /* only our own idle handles exist: move them */
        r->closing = 0;
        uv_timer_stop(&r->timer);
        uv_close((uv_handle_t *)&r->timer, NULL);
        uv_close((uv_handle_t *)&r->hold, NULL);
        uv_run(&r->own_loop, UV_RUN_NOWAIT);
        r->started = 0;
    }
    uv_loop_close(&r->own_loop);
    r->own = 0;
    r->loop = loop;
    start_handles(r);
    return 0;
}

/* --------------------------------------------------------- fd watching */

/* A uv_poll on a descriptor (the REPL's standard input). */
typedef struct fd_watch {
    uv_poll_t poll;
    lua_State *L;
    int fn;    /* registry ref of the callback */
    int self;  /* registry ref pinning the box while active */
    struct fd_watch **box;
} fd_watch;

static void on_watch_closed(uv_handle_t *h)
{
    free(h->data);
}

static void watch_release(lua_State *L, fd_watch *w)
{
    if (w->fn != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, w->fn);
    if (w->self != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, w->self);
    w->fn = w->self = LUA_NOREF;
}

static void on_readable(uv_poll_t *p, int status, int events)
{
    fd_watch *w = p->data;
    lua_State *L = w->L;
    (void)events;
    if (w->fn == LUA_NOREF) return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, w->fn);
    lua_pushboolean(L, status == 0);
    nm_lua_pcall(L, 1, 0);
}

static void watch_close(lua_State *L, fd_watch **box)
{
    fd_watch *w = *box;
    if (!w) return;
    *box = NULL;
    watch_release(L, w);
    uv_close((uv_handle_t *)&w->poll, on_watch_closed);
}

static int watch_gc(lua_State *L)
{
    watch_close(L, luaL_checkudata(L, 1, "names.fd_watch"));
    return 0;
}

/* watch_fd(fd, fn) -> watcher with :close(); fn(ok) when fd is readable */
static int l_watch_fd(lua_State *L)
{
    int fd = (int)luaL_checkinteger(L, 1);
    uv_loop_t *loop = nm_lua_loop(L);
    fd_watch **box, *w;
    int rc;
    luaL_checktype(L, 2, LUA_TFUNCTION);
    box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = NULL;
    luaL_setmetatable(L, "names.fd_watch");
    if (!(w = calloc(1, sizeof *w))) return luaL_error(L, "out of memory");
    if ((rc = uv_poll_init(loop, &w->poll, fd)) != 0) {
        free(w);
        lua_pushnil(L);
        lua_pushstring(L, uv_strerror(rc));
        return 2;
    }
    w->poll.data = w;
    w->L = nm_lua_main(nm_lua_reactor(L));
    w->box = box;
    lua_pushvalue(L, 2);
    w->fn = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, -1);
    w->self = luaL_ref(L, LUA_REGISTRYINDEX);
    *box = w;
    nm_lua_io_started(L);
    uv_poll_start(&w->poll, UV_READABLE, on_readable);
    return 1;
}

static int l_watch_close(lua_State *L)
{
    watch_close(L, luaL_checkudata(L, 1, "names.fd_watch"));
    return 0;
}

/* fd_read(fd [, max]) -> bytes, "" at end of file, or nil, err when it
 * would block */
static int l_fd_read(lua_State *L)
{
    int fd = (int)luaL_checkinteger(L, 1);
    lua_Integer max = luaL_optinteger(L, 2, 4096);
    luaL_Buffer b;
    char *p;
    ssize_t n;
    luaL_argcheck(L, max > 0 && max <= 1 << 20, 2, "size out of range");
    p = luaL_buffinitsize(L, &b, (size_t)max);
    do {
        n = read(fd, p, (size_t)max);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        lua_pushnil(L);
        lua_pushstring(L, strerror(errno));
        return 2;
    }
    luaL_pushresultsize(&b, (size_t)n);
    return 1;
}

void nm_lua_open_loop(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "now", l_now },
        { "on_timer", l_on_timer },
        { "set_timer", l_set_timer },
        { "run", l_run },
        { "stop", l_stop },
        { "running", l_running },
        { "step", l_step },
        { "pollfd", l_pollfd },
        { "backend_timeout", l_backend_timeout },
        { "alive", l_alive },
        { "use_luv", l_use_luv },
        { "watch_fd", l_watch_fd },
        { "fd_read", l_fd_read },
        { NULL, NULL },
    };
    static const luaL_Reg watch_methods[] = {
        { "close", l_watch_close },
        { NULL, NULL },
    };
    if (luaL_newmetatable(L, "names.fd_watch")) {
        lua_pushcfunction(L, watch_gc);
        lua_setfield(L, -2, "__gc");
        luaL_newlib(L, watch_methods);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    luaL_setfuncs(L, funcs, 0);
}
