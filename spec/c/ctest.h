/* A minimal unit-test harness for the C core.
 *
 *   TEST(reader_stops_at_end) { CHECK(x == 1); CHECK_INT(a, 2); }
 *   int main(void) { return ctest_main(); }
 *
 * Tests register themselves before main (a constructor per TEST), run in
 * the order they appear, and the program ends with the line
 * "N passed, N failed" that spec/support/run-tests.sh adds up.
 */
#ifndef CTEST_H
#define CTEST_H

#include <stdio.h>
#include <string.h>

#define CTEST_MAX 512

typedef void (*ctest_fn)(void);

struct ctest_case {
    const char *name;
    ctest_fn fn;
};

static struct ctest_case ctest_cases[CTEST_MAX];
static int ctest_ncases;
static int ctest_failed_checks; /* failures of the running test */

static void ctest_register(const char *name, ctest_fn fn)
{
    if (ctest_ncases < CTEST_MAX) {
        ctest_cases[ctest_ncases].name = name;
        ctest_cases[ctest_ncases].fn = fn;
        ctest_ncases++;
    }
}

#define TEST(name)                                                        \
    static void test_##name(void);                                        \
    __attribute__((constructor)) static void register_##name(void)        \
    {                                                                     \
        ctest_register(#name, test_##name);                               \
    }                                                                     \
    static void test_##name(void)

#define CTEST_FAIL(...)                                                   \
    do {                                                                  \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                 \
        fprintf(stderr, __VA_ARGS__);                                     \
        fputc('\n', stderr);                                              \
        ctest_failed_checks++;                                            \
    } while (0)

#define CHECK(cond)                                                       \
    do {                                                                  \
        if (!(cond)) CTEST_FAIL("check failed: %s", #cond);               \
    } while (0)

#define CHECK_INT(got, want)                                              \
    do {                                                                  \
        long long ctest_g = (long long)(got), ctest_w = (long long)(want); \
        if (ctest_g != ctest_w)                                           \
            CTEST_FAIL("%s is %lld, expected %lld", #got, ctest_g, ctest_w); \
    } while (0)

#define CHECK_STR(got, want)                                              \
    do {                                                                  \
        const char *ctest_g = (got), *ctest_w = (want);                   \
        if (!ctest_g || strcmp(ctest_g, ctest_w) != 0)                    \
            CTEST_FAIL("%s is \"%s\", expected \"%s\"", #got,             \
                       ctest_g ? ctest_g : "(null)", ctest_w);            \
    } while (0)

#define CHECK_MEM(got, want, n)                                           \
    do {                                                                  \
        if (memcmp((got), (want), (n)) != 0)                              \
            CTEST_FAIL("%s differs from %s in its first %zu bytes", #got, \
                       #want, (size_t)(n));                               \
    } while (0)

static int ctest_main(void)
{
    int passed = 0, failed = 0;
    for (int i = 0; i < ctest_ncases; i++) {
        ctest_failed_checks = 0;
        ctest_cases[i].fn();
        if (ctest_failed_checks) {
            fprintf(stderr, "FAIL %s\n", ctest_cases[i].name);
            failed++;
        } else {
            passed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#endif
