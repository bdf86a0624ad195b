/* Output from a callback while readline's prompt is showing, for
 * names-repl: the prompt and the half-typed line are taken down, the
 * output is written, and both are put back, as GNU readline's manual does
 * for asynchronous messages in callback mode.
 *
 * readline is not linked here: lua-readline loads libreadline, and its
 * functions are looked up in the process with dlopen(RTLD_NOLOAD), which
 * never loads anything.  Without it, hide() says false and the caller
 * writes as before. */
#include <dlfcn.h>
#include <stdlib.h>

#include "lua_util.h"

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

void nm_lua_open_readline(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "readline_hide", l_readline_hide },
        { "readline_show", l_readline_show },
        { NULL, NULL },
    };
    luaL_setfuncs(L, funcs, 0);
}
