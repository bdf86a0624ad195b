/* Parsing servers named as URLs (serverurl.h). */
#include "serverurl.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "errors.h"
#include "transport.h"

static int has_prefix(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && strncasecmp(s, prefix, n) == 0;
}

/* A name as a certificate can carry it: LDH labels and dots (IDNs come
 * here in their A-label form). */
static int plausible_name(const char *s, size_t n)
{
    if (n == 0 || n > 253) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '.' || c == '_' || c == '*'))
            return 0;
    }
    return 1;
}

static int parse_tls(const char *s, size_t len, nm_server_url *out, const char **why)
{
    const char *hash = memchr(s, '#', len);
    size_t alen = hash ? (size_t)(hash - s) : len;
    if (hash) {
        size_t nlen = len - alen - 1;
        if (!plausible_name(hash + 1, nlen) && nm_addr_parse(hash + 1, nlen, 853, &out->addr) != NM_OK) {
            *why = "the authentication name after '#' is not a host name";
            return NM_ESYNTAX;
        }
        memcpy(out->authname, hash + 1, nlen);
        out->authname[nlen] = 0;
    }
    if (alen == 0 || nm_addr_parse(s, alen, 853, &out->addr) != NM_OK) {
        *why = "tls:// takes an address (names are not resolved), [v6]:port, then #name";
        return NM_ESYNTAX;
    }
    out->kind = NM_TLS;
    out->port = nm_addr_port(&out->addr);
    return NM_OK;
}

static int parse_https(const char *s, size_t len, nm_server_url *out, const char **why)
{
    const char *hash = memchr(s, '#', len);
    size_t ulen = hash ? (size_t)(hash - s) : len;
    const char *slash = memchr(s, '/', ulen);
    size_t alen = slash ? (size_t)(slash - s) : ulen;
    const char *host = s;
    size_t hlen;
    unsigned port = 443;
    if (!slash) {
        *why = "https:// needs a path, as in https://dns.example/dns-query";
        return NM_ESYNTAX;
    }
    if (alen == 0 || alen >= sizeof out->authority || ulen - alen >= sizeof out->path) {
        *why = "https:// needs a host (and the URL must be shorter)";
        return NM_ESYNTAX;
    }
    memcpy(out->authority, s, alen);
    out->authority[alen] = 0;
    memcpy(out->path, slash, ulen - alen);
    out->path[ulen - alen] = 0;
    for (size_t i = 0; out->path[i]; i++) {
        if ((unsigned char)out->path[i] <= ' ' || out->path[i] == 0x7f) {
            *why = "the URL's path holds a space or a control character";
            return NM_ESYNTAX;
        }
    }
    /* host, [v6] or host:port */
    const char *port_at = NULL;
    if (s[0] == '[') {
        const char *close = memchr(s, ']', alen);
        if (!close) {
            *why = "an unclosed '[' in the URL's host";
            return NM_ESYNTAX;
        }
        host = s + 1;
        hlen = (size_t)(close - host);
        if ((size_t)(close + 1 - s) < alen) {
            if (close[1] != ':') {
                *why = "junk after ']' in the URL's host";
                return NM_ESYNTAX;
            }
            port_at = close + 2;
        }
    } else {
        const char *colon = memchr(s, ':', alen);
        hlen = colon ? (size_t)(colon - s) : alen;
        if (colon) port_at = colon + 1;
    }
    if (port_at) {
        size_t plen = (size_t)(s + alen - port_at);
        port = 0;
        if (plen == 0 || plen > 5) {
            *why = "a bad port in the URL";
            return NM_ESYNTAX;
        }
        for (size_t i = 0; i < plen; i++) {
            if (port_at[i] < '0' || port_at[i] > '9') {
                *why = "a bad port in the URL";
                return NM_ESYNTAX;
            }
            port = port * 10 + (unsigned)(port_at[i] - '0');
        }
        if (port < 1 || port > 65535) {
            *why = "a bad port in the URL";
            return NM_ESYNTAX;
        }
    }
    if (hlen == 0 || hlen >= sizeof out->host) {
        *why = "https:// needs a host";
        return NM_ESYNTAX;
    }
    memcpy(out->host, host, hlen);
    out->host[hlen] = 0;
    out->port = port;
    out->kind = NM_HTTPS;
    if (nm_addr_from_host(out->host, (uint16_t)port, &out->addr) == NM_OK) {
        /* an address in the URL: the certificate must carry it */
        if (hash) {
            *why = "a bootstrap address after '#' only goes with a host name";
            return NM_ESYNTAX;
        }
        return NM_OK;
    }
    if (!plausible_name(out->host, hlen)) {
        *why = "the URL's host is neither a name nor an address";
        return NM_ESYNTAX;
    }
    snprintf(out->authname, sizeof out->authname, "%s", out->host);
    if (hash) {
        char boot[80];
        size_t blen = len - ulen - 1;
        if (blen == 0 || blen >= sizeof boot) {
            *why = "a bad bootstrap address after '#'";
            return NM_ESYNTAX;
        }
        memcpy(boot, hash + 1, blen);
        boot[blen] = 0;
        if (nm_addr_from_host(boot, (uint16_t)port, &out->addr) != NM_OK) {
            *why = "the bootstrap address after '#' is not an IP address";
            return NM_ESYNTAX;
        }
        return NM_OK;
    }
    out->needs_address = 1;
    return NM_OK;
}

int nm_server_url_parse(const char *text, size_t len, nm_server_url *out, const char **why)
{
    memset(out, 0, sizeof *out);
    *why = "";
    if (memchr(text, 0, len)) {
        *why = "a NUL byte in the server";
        return NM_ESYNTAX;
    }
    if (has_prefix(text, len, "tls://")) return parse_tls(text + 6, len - 6, out, why);
    if (has_prefix(text, len, "https://")) return parse_https(text + 8, len - 8, out, why);
    if (memmem(text, len, "://", 3)) {
        *why = "an unknown scheme (tls:// and https:// are known)";
        return NM_ESYNTAX;
    }
    out->kind = NM_UDP;
    if (nm_addr_parse(text, len, 53, &out->addr) != NM_OK) {
        *why = "bad address";
        return NM_ESYNTAX;
    }
    out->port = nm_addr_port(&out->addr);
    return NM_OK;
}
