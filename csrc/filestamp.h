/* The files the core reads (resolv.conf, hosts): reading one whole, with a
 * bound, and telling whether it changed since.  They are re-read when they
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

#endif
