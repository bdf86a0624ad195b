#include "addr.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"

static int parse_port(const char *s, size_t n, uint16_t *port)
{
    unsigned long v = 0;
    if (n == 0 || n > 5) return NM_ESYNTAX;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return NM_ESYNTAX;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v == 0 || v > 65535) return NM_ESYNTAX;
    *port = (uint16_t)v;
    return NM_OK;
}

int nm_addr_from_host(const char *host, uint16_t port, nm_addr *out)
{
    char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    const char *scope;
    size_t n = strlen(host);

    memset(out, 0, sizeof *out);
    if (n >= sizeof buf) return NM_ESYNTAX;
    memcpy(buf, host, n + 1);
    if (inet_pton(AF_INET, buf, &out->u.in4.sin_addr) == 1) {
        out->u.in4.sin_family = AF_INET;
        out->u.in4.sin_port = htons(port);
        out->len = sizeof out->u.in4;
        return NM_OK;
    }
    scope = strchr(buf, '%');
    if (scope) buf[scope - buf] = 0;
    if (inet_pton(AF_INET6, buf, &out->u.in6.sin6_addr) != 1) return NM_ESYNTAX;
    out->u.in6.sin6_family = AF_INET6;
    out->u.in6.sin6_port = htons(port);
    if (scope) {
        const char *iface = scope + 1;
        char *end;
        unsigned long idx = strtoul(iface, &end, 10);
        if (*iface == 0) return NM_ESYNTAX;
        if (*end != 0) idx = if_nametoindex(iface);
        if (idx == 0) return NM_ESYNTAX;
        out->u.in6.sin6_scope_id = (uint32_t)idx;
    }
    out->len = sizeof out->u.in6;
    return NM_OK;
}

int nm_addr_parse(const char *text, size_t n, uint16_t default_port, nm_addr *out)
{
    char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    uint16_t port = default_port;
    const char *colon;

    if (n && text[0] == '[') {
        const char *close = memchr(text, ']', n);
        size_t hn;
        if (!close) return NM_ESYNTAX;
        hn = (size_t)(close - text - 1);
        if (hn >= sizeof host) return NM_ESYNTAX;
        memcpy(host, text + 1, hn);
        host[hn] = 0;
        if ((size_t)(close - text) + 1 < n) {
            if (close[1] != ':') return NM_ESYNTAX;
            if (parse_port(close + 2, n - (size_t)(close - text) - 2, &port)) return NM_ESYNTAX;
        }
        return nm_addr_from_host(host, port, out);
    }
    if (n >= sizeof host) return NM_ESYNTAX;
    memcpy(host, text, n);
    host[n] = 0;
    /* one colon: IPv4 with a port; more: a bare IPv6 address */
    colon = strchr(host, ':');
    if (colon && !strchr(colon + 1, ':')) {
        if (parse_port(colon + 1, strlen(colon + 1), &port)) return NM_ESYNTAX;
        host[colon - host] = 0;
    }
    return nm_addr_from_host(host, port, out);
}

const char *nm_addr_host(const nm_addr *a, char *buf, size_t cap)
{
    if (a->u.sa.sa_family == AF_INET) {
        inet_ntop(AF_INET, &a->u.in4.sin_addr, buf, (socklen_t)cap);
    } else {
        char ip[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &a->u.in6.sin6_addr, ip, sizeof ip);
        if (a->u.in6.sin6_scope_id) {
            char ifname[IF_NAMESIZE];
            if (if_indextoname(a->u.in6.sin6_scope_id, ifname))
                snprintf(buf, cap, "%s%%%s", ip, ifname);
            else
                snprintf(buf, cap, "%s%%%u", ip, (unsigned)a->u.in6.sin6_scope_id);
        } else {
            snprintf(buf, cap, "%s", ip);
        }
    }
    return buf;
}

const char *nm_addr_text(const nm_addr *a, char *buf, size_t cap)
{
    char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    nm_addr_host(a, host, sizeof host);
    if (a->u.sa.sa_family == AF_INET)
        snprintf(buf, cap, "%s:%u", host, (unsigned)nm_addr_port(a));
    else
        snprintf(buf, cap, "[%s]:%u", host, (unsigned)nm_addr_port(a));
    return buf;
}

uint16_t nm_addr_port(const nm_addr *a)
{
    return ntohs(a->u.sa.sa_family == AF_INET ? a->u.in4.sin_port : a->u.in6.sin6_port);
}

int nm_addr_equal(const nm_addr *a, const struct sockaddr *b)
{
    if (a->u.sa.sa_family != b->sa_family) return 0;
    if (b->sa_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)(const void *)b;
        return s->sin_port == a->u.in4.sin_port && s->sin_addr.s_addr == a->u.in4.sin_addr.s_addr;
    }
    if (b->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)(const void *)b;
        return s->sin6_port == a->u.in6.sin6_port &&
               memcmp(&s->sin6_addr, &a->u.in6.sin6_addr, 16) == 0 &&
               (!a->u.in6.sin6_scope_id || s->sin6_scope_id == a->u.in6.sin6_scope_id);
    }
    return 0;
}
