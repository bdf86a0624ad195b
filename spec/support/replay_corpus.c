/* Replays fuzz inputs through the codec's checks, outside libFuzzer, so
 * that ordinary test runs (and the ASan/UBSan and valgrind builds) cover
 * the hostile corpus:
 *
 *   replay_corpus [-v] PATH...
 *
 * Each PATH is a file or a directory (its regular files, not recursive).
 * Inputs under a directory named "name" go through fuzz/check_name.h (the
 * fuzz_name target's checks), every other input through
 * fuzz/check_message.h (fuzz_message's: parse, print every record,
 * re-encode field by field and compare).  Each input is one test; the last
 * line is "N passed, N failed".  Exit status 1 when any failed. */
#include <dirent.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static jmp_buf name_failed;
#define CHECK_NAME_FAILED() longjmp(name_failed, 1)

#include "../../fuzz/check_message.h"
#include "../../fuzz/check_name.h"

static int passed, failed, verbose;
static int decoded_total, rejected_total;

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f) return NULL;
    for (;;) {
        size_t got;
        if (n == cap) {
            uint8_t *p = realloc(buf, cap ? cap * 2 : 4096);
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
            cap = cap ? cap * 2 : 4096;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    *len = n;
    return buf;
}

static int under_name_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen;
    if (!slash) return 0;
    dirlen = (size_t)(slash - path);
    return (dirlen == 4 && strncmp(path, "name", 4) == 0) ||
           (dirlen >= 5 && strncmp(slash - 5, "/name", 5) == 0);
}

/* setjmp in a frame of its own: nothing here lives across the jump. */
static int name_check_holds(const uint8_t *data, size_t len)
{
    if (setjmp(name_failed) != 0) return 0;
    check_name(data, len);
    return 1;
}

static void replay_file(const char *path)
{
    size_t len = 0;
    uint8_t *data = slurp(path, &len);
    const char *why = NULL;
    int decoded = 0;

    if (!data) {
        printf("FAIL %s: cannot read\n", path);
        failed++;
        return;
    }
    if (under_name_dir(path)) {
        if (!name_check_holds(data, len)) why = "a name invariant broke (see above)";
        decoded = 1;
    } else {
        why = check_message(data, len, &decoded);
    }
    if (why) {
        printf("FAIL %s: %s\n", path, why);
        failed++;
    } else {
        if (verbose) printf("ok   %s (%s)\n", path, decoded ? "decoded" : "rejected");
        decoded_total += decoded;
        rejected_total += !decoded;
        passed++;
    }
    free(data);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void replay_path(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;

    if (stat(path, &st) != 0) {
        printf("FAIL %s: no such file or directory\n", path);
        failed++;
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        replay_file(path);
        return;
    }
    if (!(d = opendir(path))) {
        printf("FAIL %s: cannot open\n", path);
        failed++;
        return;
    }
    while ((e = readdir(d))) {
        char full[4096];
        if (e->d_name[0] == '.') continue;
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (strcmp(e->d_name, "README.md") == 0 || strcmp(e->d_name, "README") == 0) continue;
        if (n == cap) {
            char **p = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
            if (!p) break;
            names = p;
        }
        names[n++] = strdup(full);
    }
    closedir(d);
    /* in name order, so that runs compare */
    if (n) qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        replay_file(names[i]);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    int i = 1;
    if (i < argc && strcmp(argv[i], "-v") == 0) {
        verbose = 1;
        i++;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: replay_corpus [-v] FILE-OR-DIR...\n");
        return 2;
    }
    for (; i < argc; i++) replay_path(argv[i]);
    printf("replayed %d inputs: %d decoded, %d rejected cleanly\n", passed + failed,
           decoded_total, rejected_total);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
