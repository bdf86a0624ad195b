#include "route.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int nm_route_source(const nm_addr *dst, nm_addr *src)
{
    int fd, err = 0;
    socklen_t len = sizeof src->u;
    memset(src, 0, sizeof *src);
    if (dst->u.sa.sa_family != AF_INET && dst->u.sa.sa_family != AF_INET6) return -EAFNOSUPPORT;
    fd = socket(dst->u.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    /* connect() on a datagram socket sends no packet: it only fixes the
     * peer, and with it the route and the source address */
    if (connect(fd, &dst->u.sa, dst->len) < 0 || getsockname(fd, &src->u.sa, &len) < 0) err = -errno;
    else src->len = len;
    close(fd);
    return err;
}
