#include "resolvconf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errors.h"

void nm_resolvconf_defaults(nm_resolv_conf *c)
{
    memset(c, 0, sizeof *c);
    c->ndots = 1;
    c->timeout = -1;
    c->attempts = -1;
}


static int word_is(const char *w, size_t n, const char *kw)
{
    return strlen(kw) == n && memcmp(w, kw, n) == 0;
}

/* Decimal digits only; large values saturate instead of wrapping, since
 * every option that takes one is capped anyway. */
static int parse_count(const char *s, size_t n, int *out)
{
    long v = 0;
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        if (v < 1000000) v = v * 10 + (s[i] - '0');
    }
    *out = v > 1000000 ? 1000000 : (int)v;
    return 1;
}

static int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* One option word; 1 when understood. */
static int apply_option(nm_resolv_conf *c, const char *w, size_t n)
{
    static const struct {
        const char *prefix;
        int lo, hi;
        size_t field;
    } numeric[] = {
        { "ndots:", 0, NM_MAX_NDOTS, offsetof(nm_resolv_conf, ndots) },
        { "timeout:", 1, NM_MAX_TIMEOUT, offsetof(nm_resolv_conf, timeout) },
        { "attempts:", 1, NM_MAX_ATTEMPTS, offsetof(nm_resolv_conf, attempts) },
    };
    int v;

    for (size_t i = 0; i < sizeof numeric / sizeof numeric[0]; i++) {
        size_t pn = strlen(numeric[i].prefix);
        if (n >= pn && memcmp(w, numeric[i].prefix, pn) == 0) {
            if (!parse_count(w + pn, n - pn, &v)) return 0;
            *(int *)(void *)((char *)c + numeric[i].field) = clamp(v, numeric[i].lo, numeric[i].hi);
            return 1;
        }
    }
    if (word_is(w, n, "rotate")) return c->rotate = 1;
    if (word_is(w, n, "edns0")) return c->edns0 = 1;
    if (word_is(w, n, "use-vc")) return c->use_vc = 1;
    return 0;
}

int nm_resolvconf_options(nm_resolv_conf *c, const char *text, size_t len)
{
    size_t pos = 0, wn;
    const char *w;
    int unknown = 0;
    while (nm_text_word(text, len, &pos, &w, &wn))
        if (!apply_option(c, w, wn)) unknown++;
    return unknown;
}

/* A search domain as normalized text in out: "" for the root. */
static int search_domain(const char *w, size_t n, char *out)
{
    uint8_t wire[NM_NAME_MAX];
    size_t wl;
    if (nm_name_from_text(w, n, wire, &wl) != NM_OK) return 0;
    nm_name_to_text(wire, out, 0);
    return 1;
}

/* One line without its comment; returns 1 when it is skipped. */
static int parse_line(void *arg, const char *s, size_t len)
{
    nm_resolv_conf *c = arg;
    size_t pos = 0, kn, wn;
    const char *kw, *w;

    if (!nm_text_word(s, len, &pos, &kw, &kn)) return 0; /* blank */

    if (word_is(kw, kn, "nameserver")) {
        nm_addr a;
        if (!nm_text_word(s, len, &pos, &w, &wn)) return 1;
        if (nm_addr_parse(w, wn, 53, &a) != NM_OK) return 1;
        if (c->nservers < NM_MAX_SERVERS) c->servers[c->nservers++] = a;
        return 0;
    }
    if (word_is(kw, kn, "search") || word_is(kw, kn, "domain")) {
        char list[NM_MAX_SEARCH][NM_NAME_TEXT_MAX];
        int n = 0, one = word_is(kw, kn, "domain"); /* its first word only, as glibc */
        while (n < NM_MAX_SEARCH && nm_text_word(s, len, &pos, &w, &wn)) {
            if (search_domain(w, wn, list[n])) n++;
            if (one) break;
        }
        if (n == 0) return 1;
        memcpy(c->search, list, sizeof list[0] * (size_t)n);
        c->nsearch = n;
        return 0;
    }
    if (word_is(kw, kn, "options")) {
        nm_resolvconf_options(c, s + pos, len - pos);
        return 0;
    }
    if (word_is(kw, kn, "sortlist") || word_is(kw, kn, "lookup") || word_is(kw, kn, "family"))
        return 0;
    return 1;
}

int nm_resolvconf_parse(nm_resolv_conf *c, const char *text, size_t len)
{
    nm_resolvconf_defaults(c);
    /* comments start at '#' or ';' (glibc), and a NUL ends a line too */
    return nm_text_lines(text, len, "#;", 3, parse_line, c);
}

static int parse_text(void *c, const char *text, size_t len)
{
    return nm_resolvconf_parse(c, text, len);
}

int nm_resolvconf_load(nm_resolv_conf *c, const char *path)
{
    return nm_file_load(path, NM_RESOLVCONF_MAX_BYTES, parse_text, c);
}

int nm_resolvconf_changed(const char *path, nm_file_stamp *stamp)
{
    return nm_file_changed(path, stamp);
}

/* Appends the text of wire to out unless it is there already. */
static void emit(char out[][NM_NAME_TEXT_MAX], int *n, const uint8_t *wire)
{
    char text[NM_NAME_TEXT_MAX];
    if (wire[0] == 0) {
        strcpy(text, ".");
    } else {
        nm_name_to_text(wire, text, 0);
    }
    for (int i = 0; i < *n; i++)
        if (strcasecmp(out[i], text) == 0) return;
    memcpy(out[*n], text, strlen(text) + 1);
    (*n)++;
}

int nm_resolvconf_candidates(const nm_resolv_conf *c, const char *name,
                             char out[][NM_NAME_TEXT_MAX], int max)
{
    uint8_t wire[NM_NAME_MAX], both[NM_NAME_MAX], dom[NM_NAME_MAX];
    size_t len = strlen(name), wl, dl, trailing = 0;
    int err, n = 0, tried = 0, absolute;

    if (len == 0) { /* Twisted's name for the root */
        name = ".";
        len = 1;
    }
    if ((err = nm_name_from_text(name, len, wire, &wl))) return err;
    if (max <= 0) return 0;
    /* "a\." ends with an escaped dot, not the root's: count the backslashes */
    while (trailing + 1 < len && name[len - 2 - trailing] == '\\') trailing++;
    absolute = name[len - 1] == '.' && trailing % 2 == 0;
    if (absolute || wl == 1) {
        emit(out, &n, wire);
        return n;
    }
    if (nm_name_labels(wire) - 1 >= c->ndots) {
        emit(out, &n, wire);
        tried = 1;
    }
    for (int i = 0; i < c->nsearch && i < NM_MAX_SEARCH && n < max; i++) {
        const char *d = c->search[i];
        if (nm_name_from_text(d, strnlen(d, NM_NAME_TEXT_MAX), dom, &dl) != NM_OK) continue;
        if (dl == 1) { /* the root on the list: the name as it is, here */
            if (!tried) emit(out, &n, wire);
            tried = 1;
            continue;
        }
        if (wl - 1 + dl > NM_NAME_MAX) continue;
        memcpy(both, wire, wl - 1);
        memcpy(both + wl - 1, dom, dl);
        emit(out, &n, both);
    }
    if (!tried && n < max) emit(out, &n, wire);
    return n;
}
