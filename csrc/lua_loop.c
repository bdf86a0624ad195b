/* The reactor's loop: one libuv loop per Lua state, its own by default or
 * luv's after use_luv.  Lua's delayed calls share one libuv timer (the heap
 * of calls is in names.reactor, as Twisted keeps it); run() holds the loop
 * open until stop(), as Twisted's reactor.run() does.
 *
 * Idle, the reactor keeps no loop alive: the timer is referenced only while
 * a delayed call is waiting, the hold handle only while run() runs (the
 * resolver unreferences its sockets while no query waits on them), so on
 * luv's loop uv.run() returns when the user's own work is done.
 *
 * Other loops drive ours through pollfd() (the backend descriptor),
 * timeout() and step(); once pollfd() has been asked for, work started
 * outside the loop wakes the poller (a send on the hold handle makes the
 * descriptor readable), since libuv only registers new descriptors with
 * the backend at its next poll.

 *
 * Lifetime: the reactor struct is malloc'd (libuv touches it) and pointed
 * to by a userdata in the registry.  Its __gc closes the handles and frees
 * the struct from the last close callback. */
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "lua_loop.h"

static const char reactor_key = 'r';

struct nm_reactor {
    uv_loop_t *loop;
    uv_loop_t own_loop;
    int own;            /* loop is own_loop: close it at the end */
    int started;        /* the handles below are initialised */
    uv_timer_t timer;   /* Lua's delayed calls */
    uv_async_t hold;    /* referenced while run() runs; sent to wake a poller */
    lua_State *L;       /* the main thread */
    int timer_fn;       /* registry ref of the Lua function the timer calls */
    int running;        /* run() in progress */
    int depth;          /* our uv_run calls in progress (run, step) */
    int polled;         /* pollfd() was asked for: wake the poller on new work */
    int closing;        /* pending close callbacks on a foreign loop */
    int io;             /* I/O objects created: after this, use_luv is too late */
    /* Loop callbacks under way.  Some run synchronously, outside uv_run (a
     * query failed by closing its socket, a cancel): running the loop from
     * there would free what the caller below still holds, so run() and
     * step() refuse while this is not zero.  Per reactor: another Lua
     * state's loop holds nothing of this one's. */
    int callback_depth;
    /* Errors that loop callbacks raised and nothing caught (they are
     * written to stderr): counted, so that tests can tell when one happened. */
    lua_Integer callback_errors;
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

/* The reactor of L's state if it has one and it is open; never raises
 * (loop callbacks call this, and an error would jump through libuv). */
static nm_reactor *reactor_if_open(lua_State *L)
{
    nm_reactor *r = NULL;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &reactor_key) == LUA_TUSERDATA)
        r = *(nm_reactor **)lua_touserdata(L, -1);
    lua_pop(L, 1);
    return r;
}

/* Whether a finalizer (__gc) is on the Lua stack.  The collector may run
 * one inside any allocation of a binding function, which holds pointers
 * the loop would free: so a finalizer may close things, but neither run
 * the loop nor move it. */
static int in_finalizer(lua_State *L)
{
    lua_Debug ar;
    for (int level = 0; lua_getstack(L, level, &ar); level++) {
        if (lua_getinfo(L, "n", &ar) && ar.namewhat && strcmp(ar.namewhat, "metamethod") == 0 &&
            ar.name && strcmp(ar.name, "__gc") == 0)
            return 1;
    }
    return 0;
}

int nm_lua_pcall(lua_State *L, int nargs, int nresults)
{
    int base = lua_gettop(L) - nargs, rc;
    nm_reactor *r = reactor_if_open(L);
    lua_pushcfunction(L, traceback);
    lua_insert(L, base);
    /* (a callback cannot free the reactor: only lua_close does, and
     * use_luv refuses once I/O exists, as it does for any callback) */
    if (r) r->callback_depth++;
    rc = lua_pcall(L, nargs, nresults, base);
    if (r) r->callback_depth--;
    lua_remove(L, base);
    if (rc != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        if (r) r->callback_errors++;
        fprintf(stderr, "Unhandled error in a loop callback:\n%s\n",
                msg ? msg : luaL_typename(L, -1));
        lua_pop(L, 1);
    }
    return rc;
}

/* callback_errors() -> how many errors loop callbacks have raised that
 * nothing caught, in this Lua state */
static int l_callback_errors(lua_State *L)
{
    nm_reactor *r = reactor_if_open(L);
    lua_pushinteger(L, r ? r->callback_errors : 0);
    return 1;
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
    (void)a; /* a wake-up: the round of the loop it causes is the point */
}

/* libuv adds a new descriptor to the backend (epoll) at its next poll; until
 * then pollfd() cannot report it.  libuv has no API to ask whether such
 * registrations wait, so this reads its private watcher_queue: empty when
 * its first word points at itself (void *[2] up to libuv 1.46, struct
 * uv__queue after: the same layout).  Unix only (Windows' loop has no
 * watcher_queue); what breaks it: a libuv that renames the field (a build
 * error, loud) or changes the queue's layout (silent: pollfd() users would
 * wait for their next timeout instead of waking at once). */
static int registrations_pending(const uv_loop_t *loop)
{
    const void *q = &loop->watcher_queue;
    return *(void *const *)q != q;
}

static void start_handles(nm_reactor *r)
{
    if (r->started) return;
    uv_timer_init(r->loop, &r->timer);
    r->timer.data = r;
    uv_unref((uv_handle_t *)&r->timer);
    uv_async_init(r->loop, &r->hold, on_hold);
    r->hold.data = r;
    r->started = 1;
    if (r->own) {
        /* one round registers the async's descriptor with the backend, so
         * that a send can wake a poller from the start; nothing else is on
         * the loop yet, so no callback runs */
        uv_run(r->loop, UV_RUN_NOWAIT);
    }
    uv_unref((uv_handle_t *)&r->hold);
}

static void on_closed(uv_handle_t *h)
{
    nm_reactor *r = h->data;
    if (--r->closing == 0) free(r);
}

/* __gc of the registry's box, at lua_close.  Every other object of ours was
 * made after the reactor, so its finalizer ran first and its handles are
 * closing: run our own loop until they are closed, then close the loop.
 * On a foreign loop, the last close callback frees the struct (luv's own
 * finalizer, which runs after ours, runs the loop until it is empty). */
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

/* Puts a new box for r in the registry (the old one, if any, forgets r). */
static void new_box(lua_State *L, nm_reactor *r)
{
    nm_reactor **box;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &reactor_key) == LUA_TUSERDATA) {
        box = lua_touserdata(L, -1);
        *box = NULL;
    }
    lua_pop(L, 1);
    box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = NULL;
    lua_newtable(L);
    lua_pushcfunction(L, reactor_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &reactor_key);
    *box = r;
}

nm_reactor *nm_lua_reactor(lua_State *L)
{
    nm_reactor **box, *r;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &reactor_key) == LUA_TUSERDATA) {
        box = lua_touserdata(L, -1);
        lua_pop(L, 1);
        r = *box;
        if (r) return r;
        luaL_error(L, "the reactor is closed");
    }
    lua_pop(L, 1);
    new_box(L, NULL); /* before the malloc: a failing box leaks nothing */

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
    lua_rawgetp(L, LUA_REGISTRYINDEX, &reactor_key);
    *(nm_reactor **)lua_touserdata(L, -1) = r;
    lua_pop(L, 1);
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

/* Makes pollfd() readable for a poller that is not inside step() (which
 * looks at the loop again when it returns). */
static void wake(nm_reactor *r)
{
    if (r->polled && r->started && !r->depth) uv_async_send(&r->hold);
}

void nm_lua_prepare_work(lua_State *L)
{
    nm_reactor *r = nm_lua_reactor(L);
    start_handles(r);
    uv_update_time(r->loop);
    wake(r);
}

void nm_lua_io_started(lua_State *L)
{
    nm_lua_reactor(L)->io++;
    nm_lua_prepare_work(L);
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

/* set_timer(seconds | nil): arm the one timer, or stop it.  Armed, it keeps
 * the loop alive (a waiting call is work); stopped, it does not. */
static int l_set_timer(lua_State *L)
{
    uv_loop_t *loop = nm_lua_loop(L);
    nm_reactor *r = nm_lua_reactor(L);
    if (lua_isnoneornil(L, 1)) {
        uv_timer_stop(&r->timer);
        uv_unref((uv_handle_t *)&r->timer);
    } else {
        lua_Number s = luaL_checknumber(L, 1);
        uint64_t ms;
        if (!(s > 0)) ms = 0;
        else if (s > 1e9) ms = (uint64_t)1e12;
        else ms = (uint64_t)(s * 1000.0 + 0.999); /* never early */
        uv_ref((uv_handle_t *)&r->timer);
        uv_update_time(loop); /* the loop's clock may be a callback behind */
        uv_timer_start(&r->timer, on_timer, ms, 0);
        wake(r);
    }
    return 0;
}

/* run(): until stop() */
static int l_run(lua_State *L)
{
    uv_loop_t *loop = nm_lua_loop(L);
    nm_reactor *r = nm_lua_reactor(L);
    if (r->running) return luaL_error(L, "the reactor is already running");
    if (r->depth) return luaL_error(L, "run: the loop is already running (inside step())");
    if (r->callback_depth) return luaL_error(L, "run: not from inside a loop callback");
    if (in_finalizer(L)) return luaL_error(L, "run: not from inside a finalizer");
    r->running = 1;
    r->depth++;
    uv_ref((uv_handle_t *)&r->hold);
    while (r->running) {
        uv_run(loop, UV_RUN_DEFAULT);
    }
    uv_unref((uv_handle_t *)&r->hold);
    r->depth--;
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

/* step([wait]): one round of the loop.  Without wait it never blocks and
 * always polls, even when only unreferenced handles are left, so that what
 * pollfd() reported is read (a late reply on an idle socket, a wake-up) and
 * the descriptor does not stay readable.  With wait it blocks until
 * something happens, unless nothing keeps the loop alive.  Returns whether
 * anything is still pending. */
static int l_step(lua_State *L)
{
    uv_loop_t *loop = nm_lua_loop(L);
    nm_reactor *r = nm_lua_reactor(L);
    int wait = lua_toboolean(L, 1);
    if (r->depth || r->callback_depth)
        return luaL_error(L, "step: the loop is already running (called from one of its callbacks)");
    if (in_finalizer(L)) return luaL_error(L, "step: not from inside a finalizer");
    r->depth++;
    if (!wait) uv_ref((uv_handle_t *)&r->hold);
    uv_run(loop, wait ? UV_RUN_ONCE : UV_RUN_NOWAIT);
    if (!wait) uv_unref((uv_handle_t *)&r->hold);
    r->depth--;
    lua_pushboolean(L, uv_loop_alive(loop));
    return 1;
}

/* pollfd(): the backend descriptor, readable when the loop has work; from
 * now on, work started outside the loop wakes whoever polls it */
static int l_pollfd(lua_State *L)
{
    uv_loop_t *loop = nm_lua_loop(L);
    nm_lua_reactor(L)->polled = 1;
    lua_pushinteger(L, uv_backend_fd(loop));
    return 1;
}

/* backend_timeout() -> seconds until step() has something to do (0 when
 * it has now), or nil when only I/O can bring work.  Unlike
 * uv_backend_timeout, an idle loop is not "due now" (a poller would spin),
 * and descriptors not yet registered with the backend are. */
static int l_backend_timeout(lua_State *L)
{
    uv_loop_t *loop = nm_lua_loop(L);
    nm_reactor *r = nm_lua_reactor(L);
    int ms;
    if (registrations_pending(loop)) {
        lua_pushnumber(L, 0);
        return 1;
    }
    uv_update_time(loop);
    uv_ref((uv_handle_t *)&r->hold);
    ms = uv_backend_timeout(loop);
    if (!r->running) uv_unref((uv_handle_t *)&r->hold);
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

/* What handles() found on the loop: their types, up to a bound. */
typedef struct handle_list {
    const nm_reactor *r;
    int n;
    const char *types[64];
    int referenced_only;
    int alive_only;      /* active and referenced: what keeps a loop running */
} handle_list;

static void list_handle(uv_handle_t *h, void *arg)
{
    handle_list *l = arg;
    if (uv_is_closing(h)) return;
    /* an idle datagram socket (and its flusher) a resolver keeps for its
     * next query: unreferenced; any other handle counts */
    if (l->referenced_only && !uv_has_ref(h) && (h->type == UV_UDP || h->type == UV_IDLE)) return;
    if (l->alive_only && !(uv_has_ref(h) && uv_is_active(h))) return;
    /* the reactor's own, but for a delayed call left waiting when only
     * what is alive is asked for */
    if (l->r->started && !l->alive_only &&
        (h == (uv_handle_t *)&l->r->timer || h == (uv_handle_t *)&l->r->hold))
        return;
    if (l->n < (int)(sizeof l->types / sizeof *l->types)) l->types[l->n] = uv_handle_type_name(h->type);
    l->n++;
}

/* handles(["alive" | referenced]) -> the types of the handles open on the loop
 * ("udp", "tcp", "timer", ...), less the reactor's own timer and wake-up:
 * what the C tests check with uv_loop_close, for the Lua specs.  With
 * `true`, a resolver's idle UDP socket (and its flusher), kept
 * unreferenced for its next query, is left out; every other handle counts.
 * On luv's loop, luv's handles count too. */
static int l_handles(lua_State *L)
{
    handle_list l;
    l.r = nm_lua_reactor(L);
    l.n = 0;
    /* "alive": only those that keep the loop running (uv_loop_alive's
     * count); true: the referenced ones, active or not */
    l.alive_only = lua_type(L, 1) == LUA_TSTRING && strcmp(lua_tostring(L, 1), "alive") == 0;
    l.referenced_only = !l.alive_only && lua_toboolean(L, 1);
    uv_walk(nm_lua_loop(L), list_handle, &l);
    lua_createtable(L, l.n, 0);
    for (int i = 0; i < l.n; i++) {
        lua_pushstring(L, i < (int)(sizeof l.types / sizeof *l.types) && l.types[i] ? l.types[i] : "?");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* wake(): make pollfd() readable, so that a poller looks at the loop again */
static int l_wake(lua_State *L)
{
    nm_reactor *r = nm_lua_reactor(L);
    start_handles(r);
    uv_async_send(&r->hold);
    return 0;
}

/* use_luv(luv) -> true, or nil, message: move onto the loop luv drives.
 * luv keeps its context in the registry under "luv_context"; the loop
 * pointer is its first field (luv.h's luv_ctx_t). */
static int l_use_luv(lua_State *L)
{
    nm_reactor *r = nm_lua_reactor(L);
    uv_loop_t *loop;
    luaL_checktype(L, 1, LUA_TTABLE);
    if (in_finalizer(L)) return luaL_error(L, "use_luv: not from inside a finalizer");
    if (lua_getfield(L, LUA_REGISTRYINDEX, "luv_context") != LUA_TUSERDATA ||
        lua_rawlen(L, -1) < sizeof(uv_loop_t *))
        return luaL_argerror(L, 1, "the luv module expected (no luv_context in the registry)");
    loop = *(uv_loop_t **)lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!loop) return luaL_argerror(L, 1, "luv has no loop");
    if (r->loop == loop) {
        lua_pushboolean(L, 1);
        return 1;
    }
    if (r->io || r->running || r->depth) {
        lua_pushnil(L);
        lua_pushstring(L, r->io ? "I/O has already started on the module's own loop"
                                : "the module's own loop is running");
        return 2;
    }
    if (r->started) {
        /* only our own idle handles exist: close them and make them anew */
        uv_timer_stop(&r->timer);
        uv_close((uv_handle_t *)&r->timer, NULL);
        uv_close((uv_handle_t *)&r->hold, NULL);
        uv_run(&r->own_loop, UV_RUN_NOWAIT);
        r->started = 0;
    }
    uv_loop_close(&r->own_loop);
    r->own = 0;
    r->loop = loop;
    r->polled = 0;
    start_handles(r);
    /* Finalizers run in the reverse order of their marking: a box made now,
     * after luv's loop, is finalized before it.  luv's __gc closes every
     * handle still open on its loop as if it were luv's own; ours must be
     * closing by then. */
    new_box(L, r);
    lua_pushboolean(L, 1);
    return 1;
}

void nm_lua_open_loop(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "now", l_now },
        { "callback_errors", l_callback_errors },
        { "on_timer", l_on_timer },
        { "set_timer", l_set_timer },
        { "run", l_run },
        { "stop", l_stop },
        { "running", l_running },
        { "step", l_step },
        { "pollfd", l_pollfd },
        { "backend_timeout", l_backend_timeout },
        { "alive", l_alive },
        { "handles", l_handles },
        { "wake", l_wake },
        { "use_luv", l_use_luv },
        { NULL, NULL },
    };
    luaL_setfuncs(L, funcs, 0);
}
