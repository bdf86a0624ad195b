/* What only names-repl uses, apart from the DNS binding (core.repl):
 * watches on the loop for its input and Ctrl-C (watch_fd: a uv_poll;
 * watch_signal: a uv_signal), what kind of descriptor its input is, a
 * plain read, and taking readline's prompt down while a callback writes.
 *
 * readline: output from a callback while readline's prompt is showing
 * takes the prompt and the half-typed line down, is written, and puts both
 * back, as GNU readline's manual does for asynchronous messages in
 * callback mode.  readline is not linked here: lua-readline loads
 * libreadline, and its functions are looked up in the process with
 * dlopen(RTLD_NOLOAD), which never loads anything.  Without it, hide()
 * says false and the caller writes as before. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lua_loop.h"

/* fd_kind(fd) -> "tty", "pipe", "file", "tcp", "udp" or "unknown" */
static int l_fd_kind(lua_State *L)
{
    lua_Integer fd = luaL_checkinteger(L, 1);
    const char *kind;
    luaL_argcheck(L, fd >= 0 && fd <= INT_MAX, 1, "not a file descriptor");
    switch (uv_guess_handle((int)fd)) {
    case UV_TTY: kind = "tty"; break;
    case UV_NAMED_PIPE: kind = "pipe"; break;
    case UV_FILE: kind = "file"; break;
    case UV_TCP: kind = "tcp"; break;
    case UV_UDP: kind = "udp"; break;
    default: kind = "unknown"; break;
    }
    lua_pushstring(L, kind);
    return 1;
}

/* ----------------------------------------------- descriptors and signals */

/* A uv_poll on a descriptor (the REPL's standard input) or a uv_signal:
 * malloc'd for libuv, boxed for Lua; the box is pinned while the watch is
 * active and closing it frees the struct from the close callback. */
typedef struct watch {
    union {
        uv_handle_t handle;
        uv_poll_t poll;
        uv_signal_t signal;
    } h;
    lua_State *L;
    int fn;    /* registry ref of the callback */
    int self;  /* registry ref pinning the box while active */
} watch;

#define WATCH_MT "names.watch"

static void on_watch_closed(uv_handle_t *h)
{
    free(h->data);
}

static void watch_release(lua_State *L, watch *w)
{
    if (w->fn != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, w->fn);
    if (w->self != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, w->self);
    w->fn = w->self = LUA_NOREF;
}

static void on_readable(uv_poll_t *p, int status, int events)
{
    watch *w = p->data;
    lua_State *L = w->L;
    (void)events;
    if (w->fn == LUA_NOREF) return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, w->fn);
    lua_pushboolean(L, status == 0);
    nm_lua_pcall(L, 1, 0);
}

static void on_signal(uv_signal_t *sig, int signum)
{
    watch *w = sig->data;
    lua_State *L = w->L;
    if (w->fn == LUA_NOREF) return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, w->fn);
    lua_pushinteger(L, signum);
    nm_lua_pcall(L, 1, 0);
}

/* close, __close and __gc */
static void watch_close(lua_State *L, void *boxp, int finalizing)
{
    watch **box = boxp, *w = *box;
    (void)finalizing; /* the references go either way: lua_close has not freed them yet */
    if (!w) return;
    *box = NULL;
    watch_release(L, w);
    uv_close(&w->h.handle, on_watch_closed);
}

/* A new watch whose callback is the function at fnidx, boxed at the top
 * of the stack; its handle is for the caller to initialise. */
static watch *new_watch(lua_State *L, int fnidx, watch ***boxp)
{
    watch **box, *w;
    luaL_checktype(L, fnidx, LUA_TFUNCTION);
    box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = NULL;
    luaL_setmetatable(L, WATCH_MT);
    if (!(w = calloc(1, sizeof *w))) luaL_error(L, "out of memory");
    w->L = nm_lua_main(nm_lua_reactor(L));
    w->fn = w->self = LUA_NOREF;
    *boxp = box;
    return w;
}

static void watch_pin(lua_State *L, watch **box, watch *w, int fnidx)
{
    w->h.handle.data = w;
    lua_pushvalue(L, fnidx);
    w->fn = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, -1);
    w->self = luaL_ref(L, LUA_REGISTRYINDEX);
    *box = w;
}

/* watch_fd(fd, fn) -> watch with :close(), or nil, message (a descriptor
 * epoll cannot watch, such as a regular file); fn(ok) when fd is readable */
static int l_watch_fd(lua_State *L)
{
    lua_Integer fd = luaL_checkinteger(L, 1);
    watch **box, *w;
    int rc;
    luaL_argcheck(L, fd >= 0 && fd <= INT_MAX, 1, "not a file descriptor");
    w = new_watch(L, 2, &box);
    /* the loop after the allocations: a finalizer cannot move it, but
     * nothing is read before it needs to be */
    if ((rc = uv_poll_init(nm_lua_loop(L), &w->h.poll, (int)fd)) != 0) {
        free(w);
        lua_pushnil(L);
        lua_pushstring(L, uv_strerror(rc));
        return 2;
    }
    watch_pin(L, box, w, 2);
    nm_lua_io_started(L);
    uv_poll_start(&w->h.poll, UV_READABLE, on_readable);
    return 1;
}

/* watch_signal(name, fn) -> watch with :close(); fn(signum) on the loop
 * after the signal arrives (its default action is off meanwhile).  The
 * watch keeps no loop alive.  name: "SIGINT", "SIGTERM", "SIGHUP",
 * "SIGQUIT" or "SIGWINCH". */
static int l_watch_signal(lua_State *L)
{
    static const char *const names[] = { "SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGWINCH", NULL };
    static const int numbers[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH };
    int signum = numbers[luaL_checkoption(L, 1, NULL, names)];
    watch **box, *w = new_watch(L, 2, &box);
    int rc;
    if ((rc = uv_signal_init(nm_lua_loop(L), &w->h.signal)) != 0) {
        free(w);
        return luaL_error(L, "watch_signal: %s", uv_strerror(rc));
    }
    watch_pin(L, box, w, 2);
    /* a handle on the module's loop: use_luv may no longer move it */
    nm_lua_io_started(L);
    uv_signal_start(&w->h.signal, on_signal, signum);
    uv_unref(&w->h.handle);
    return 1;
}

/* fd_read(fd [, max]) -> bytes, "" at end of file, or nil, err when it
 * would block */
static int l_fd_read(lua_State *L)
{
    lua_Integer fd = luaL_checkinteger(L, 1);
    lua_Integer max = luaL_optinteger(L, 2, 4096);
    luaL_Buffer b;
    char *p;
    ssize_t n;
    luaL_argcheck(L, fd >= 0 && fd <= INT_MAX, 1, "not a file descriptor");
    luaL_argcheck(L, max > 0 && max <= 1 << 20, 2, "size out of range");
    p = luaL_buffinitsize(L, &b, (size_t)max);
    do {
        n = read((int)fd, p, (size_t)max);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        lua_pushnil(L);
        lua_pushstring(L, strerror(errno));
        return 2;
    }
    luaL_pushresultsize(&b, (size_t)n);
    return 1;
}

/* ------------------------------------------------------------ readline */

static struct {
    int tried, ok;
    int *point, *end;
    char *(*copy_text)(int, int);
    void (*save_prompt)(void);
    void (*restore_prompt)(void);
    void (*replace_line)(const char *, int);
    void (*redisplay)(void);
} rl;

/* what hide() took down, for show() */
static struct {
    int hidden;
    char *line;
    int point;
} taken;

static int find_readline(void)
{
    static const char *const names[] = { "libreadline.so.8", "libreadline.so.7", "libreadline.so" };
    void *h = NULL;
    if (rl.tried) return rl.ok;
    rl.tried = 1;
    for (size_t i = 0; !h && i < sizeof names / sizeof *names; i++)
        h = dlopen(names[i], RTLD_LAZY | RTLD_NOLOAD);
    if (!h) return 0;
    /* POSIX: a function pointer travels through void * */
    *(void **)&rl.copy_text = dlsym(h, "rl_copy_text");
    *(void **)&rl.save_prompt = dlsym(h, "rl_save_prompt");
    *(void **)&rl.restore_prompt = dlsym(h, "rl_restore_prompt");
    *(void **)&rl.replace_line = dlsym(h, "rl_replace_line");
    *(void **)&rl.redisplay = dlsym(h, "rl_redisplay");
    rl.point = dlsym(h, "rl_point");
    rl.end = dlsym(h, "rl_end");
    /* the handle stays open: lua-readline holds the library anyway */
    rl.ok = rl.copy_text && rl.save_prompt && rl.restore_prompt && rl.replace_line &&
            rl.redisplay && rl.point && rl.end;
    return rl.ok;
}

/* readline_hide() -> true when the prompt and line were taken down (call
 * readline_show() after writing), false when readline is not there. */
static int l_readline_hide(lua_State *L)
{
    if (taken.hidden) {
        lua_pushboolean(L, 1);
        return 1;
    }
    if (!find_readline()) {
        lua_pushboolean(L, 0);
        return 1;
    }
    taken.point = *rl.point;
    taken.line = rl.copy_text(0, *rl.end);
    rl.save_prompt();
    rl.replace_line("", 0);
    rl.redisplay();
    taken.hidden = 1;
    lua_pushboolean(L, 1);
    return 1;
}

/* readline_show(): the prompt and the line back, the cursor where it was */
static int l_readline_show(lua_State *L)
{
    (void)L;
    if (!taken.hidden) return 0;
    taken.hidden = 0;
    rl.restore_prompt();
    rl.replace_line(taken.line ? taken.line : "", 0);
    *rl.point = taken.point;
    rl.redisplay();
    free(taken.line);
    taken.line = NULL;
    return 0;
}

void nm_lua_open_repl(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "fd_kind", l_fd_kind },
        { "fd_read", l_fd_read },
        { "watch_fd", l_watch_fd },
        { "watch_signal", l_watch_signal },
        { "readline_hide", l_readline_hide },
        { "readline_show", l_readline_show },
        { NULL, NULL },
    };
    static const nm_lua_class watches = { WATCH_MT, NULL, watch_close, 1 };
    nm_lua_new_class(L, &watches);
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "repl");
}
