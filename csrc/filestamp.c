#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* st_mtim */
#endif
#include "filestamp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "errors.h"

void nm_file_stamp_init(nm_file_stamp *s)
{
    memset(s, 0, sizeof *s);
}

int nm_file_changed(const char *path, nm_file_stamp *s)
{
    struct stat st;
    nm_file_stamp now;

    memset(&now, 0, sizeof now);
    if (stat(path, &st) == 0) {
        now.exists = 1;
        now.dev = st.st_dev;
        now.ino = st.st_ino;
        now.size = st.st_size;
        now.mtime = st.st_mtim;
    }
    /* Field by field: the struct may have padding memcmp would see. */
    if (now.exists == s->exists && now.dev == s->dev && now.ino == s->ino &&
        now.size == s->size && now.mtime.tv_sec == s->mtime.tv_sec &&
        now.mtime.tv_nsec == s->mtime.tv_nsec)
        return 0;
    *s = now;
    return 1;
}

int nm_file_read(const char *path, size_t max, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;

    *out = NULL;
    *len = 0;
    if (!f) return NM_ENOTFOUND;
    /* one byte past max tells a file that is too long */
    while (n <= max) {
        size_t got;
        if (n + 1 >= cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            char *nb;
            if (ncap > max + 2) ncap = max + 2;
            if (!(nb = realloc(buf, ncap))) {
                free(buf);
                fclose(f);
                return NM_ENOMEM;
            }
            buf = nb;
            cap = ncap;
        }
        got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f) || !buf) {
        free(buf);
        fclose(f);
        return NM_ENOTFOUND;
    }
    fclose(f);
    if (n > max) {
        n = max;
        while (n > 0 && buf[n - 1] != '\n') n--;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return NM_OK;
}

int nm_file_load(const char *path, size_t max, int (*parse)(void *arg, const char *text, size_t len),
                 void *arg)
{
    char *buf;
    size_t len;
    int ret = nm_file_read(path, max, &buf, &len);
    if (ret != NM_OK) {
        parse(arg, "", 0);
        return ret;
    }
    ret = parse(arg, buf, len);
    free(buf);
    return ret;
}

int nm_text_lines(const char *text, size_t len, const char *comment, size_t ncomment,
                  int (*line)(void *arg, const char *s, size_t n), void *arg)
{
    size_t start = 0;
    int total = 0;
    while (start < len) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - text) : len, content;
        int r;
        for (content = start; content < end && !memchr(comment, text[content], ncomment); content++) {}
        if ((r = line(arg, text + start, content - start)) < 0) return r;
        total += r;
        start = end + 1;
    }
    return total;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

int nm_text_word(const char *s, size_t len, size_t *pos, const char **w, size_t *wn)
{
    size_t i = *pos, start;
    while (i < len && is_blank(s[i])) i++;
    start = i;
    while (i < len && !is_blank(s[i])) i++;
    *pos = i;
    *w = s + start;
    *wn = i - start;
    return i > start;
}
