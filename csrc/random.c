#include "random.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

void nm_random_init(nm_random *r)
{
    r->left = 0;
}

static void refill(nm_random *r)
{
    size_t got = 0;
    while (got < sizeof r->pool) {
        ssize_t n = getrandom(r->pool + got, sizeof r->pool - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        got += (size_t)n;
    }
    if (got < sizeof r->pool) {
        /* no getrandom (old kernel, seccomp): the device, then give up loudly */
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            while (got < sizeof r->pool) {
                ssize_t n = read(fd, r->pool + got, sizeof r->pool - got);
                if (n <= 0) break;
                got += (size_t)n;
            }
            close(fd);
        }
        if (got < sizeof r->pool) abort();
    }
    r->left = sizeof r->pool;
}

void nm_random_bytes(nm_random *r, void *out, size_t n)
{
    uint8_t *o = out;
    while (n) {
        size_t k;
        if (!r->left) refill(r);
        k = n < r->left ? n : r->left;
        memcpy(o, r->pool + sizeof r->pool - r->left, k);
        /* bytes handed out are not kept */
        memset(r->pool + sizeof r->pool - r->left, 0, k);
        r->left -= k;
        o += k;
        n -= k;
    }
}

uint16_t nm_random16(nm_random *r)
{
    uint16_t v;
    nm_random_bytes(r, &v, sizeof v);
    return v;
}

uint32_t nm_random32(nm_random *r)
{
    uint32_t v;
    nm_random_bytes(r, &v, sizeof v);
    return v;
}
