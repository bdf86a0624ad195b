/* The files the core reads (resolv.conf, hosts): reading one whole, with a
 * bound, splitting its text into lines and words, and telling whether it
 * changed since.  They are re-read when they
 * change, as glibc (since 2.26) and c-ares do, by comparing what stat(2)
 * says with what it said last time. */
#ifndef NAMES_FILESTAMP_H
#define NAMES_FILESTAMP_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

typedef struct nm_file_stamp {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    int exists;
} nm_file_stamp;

/* An all-zero stamp: "no file seen yet". */
void nm_file_stamp_init(nm_file_stamp *s);
/* Returns 1 when the file at path differs from the stamp (appeared,
 * disappeared, replaced by another inode, resized, or touched) and updates
 * the stamp; 0 when it is the same.  A file that cannot be stat'ed counts
 * as missing, so a zeroed stamp and a missing file are "unchanged": the
 * caller that loaded nothing has nothing to reload. */
int nm_file_changed(const char *path, nm_file_stamp *s);

/* Reads the file into a malloc'd buffer (NUL-terminated, which is not
 * counted in *len).  A file over max bytes is cut after its last line
 * break within max, so no line is read in part.  Returns NM_OK,
 * NM_ENOTFOUND when it cannot be opened or read (missing, a directory, no
 * permission), or NM_ENOMEM. */
int nm_file_read(const char *path, size_t max, char **out, size_t *len);

/* Reads the file (nm_file_read) and hands its text to parse(arg, text,
 * len), returning what parse returns; a file that cannot be read is
 * parsed as an empty one (the object is left as an empty file leaves it)
 * and its error returned. */
int nm_file_load(const char *path, size_t max, int (*parse)(void *arg, const char *text, size_t len),
                 void *arg);

/* Calls line(arg, s, n) for each line of text, cut at its first byte of
 * `comment` (ncomment bytes, a NUL among them if it is to cut too).  Stops
 * at a negative return and returns it; otherwise the sum of the returns
 * (the parsers count the lines they skip). */
int nm_text_lines(const char *text, size_t len, const char *comment, size_t ncomment,
                  int (*line)(void *arg, const char *s, size_t n), void *arg);

/* The next word of s[*pos, len), between blanks (space, tab, CR, FF, VT):
 * 1 with *w and *wn set and *pos after it, or 0 at the end. */
int nm_text_word(const char *s, size_t len, size_t *pos, const char **w, size_t *wn);

#endif
