/* The registry of transports, and the receive buffer they share. */
#include <stdlib.h>
#include <string.h>

#include "transport.h"

#include <stdio.h>

#include "tls_provider.h"

#define NM_TRANSPORT_NAME(kind, name, ops) name,
static const char *const names[NM_NTRANSPORTS] = { NM_TRANSPORT_LIST(NM_TRANSPORT_NAME) };
#undef NM_TRANSPORT_NAME

/* The clear transports are the core's own; the encrypted ones come with
 * their provider (tls_provider.h), NULL until it is installed. */
const nm_transport_ops *nm_transport_ops_of(int kind)
{
    const nm_tls_provider *tls;
    switch (kind) {
    case NM_UDP: return &nm_udp_ops;
    case NM_TCP: return &nm_tcp_ops;
    case NM_TLS:
    case NM_HTTPS:
        tls = nm_tls_provider_get();
        return !tls ? NULL : kind == NM_TLS ? tls->dot_ops : tls->https_ops;
    default: return NULL;
    }
}

int nm_transport_find(const char *name)
{
    for (int k = 0; k < NM_NTRANSPORTS; k++)
        if (strcmp(names[k], name) == 0) return k;
    return -1;
}

const char *nm_transport_name(int kind)
{
    return kind >= 0 && kind < NM_NTRANSPORTS ? names[kind] : "?";
}

nm_transport *nm_transport_open(int kind, const nm_transport_config *c, int *err)
{
    const nm_transport_ops *ops = nm_transport_ops_of(kind);
    if (!ops) {
        *err = UV_EINVAL;
        return NULL;
    }
    return ops->open(c, err);
}

/* ---------------------------------------------------------- the buffer */

void nm_rxbuf_init(nm_rxbuf *rx, int chunks)
{
    rx->data = NULL;
    rx->len = 0;
    rx->chunks = chunks > 0 ? chunks : 1;
}

void nm_rxbuf_free(nm_rxbuf *rx)
{
    free(rx->data);
    rx->data = NULL;
    rx->len = 0;
}

void nm_rxbuf_get(nm_rxbuf *rx, uv_buf_t *buf)
{
    if (!rx->data && (rx->data = malloc((size_t)rx->chunks * NM_RX_CHUNK)) != NULL)
        rx->len = (size_t)rx->chunks * NM_RX_CHUNK;
    /* no memory: libuv reports UV_ENOBUFS and tries again later */
    buf->base = rx->data;
    buf->len = rx->data ? rx->len : 0;
}

const char *nm_transport_strerror(int err, char *buf, size_t cap)
{
    const nm_tls_provider *tls = nm_tls_provider_get();
    if (err <= NM_ERR_HTTP(100) && err >= NM_ERR_HTTP(599))
        snprintf(buf, cap, "HTTP status %d", -(err - NM_ERR_HTTP(0)));
    else if (err <= NM_ERR_DOH(-1) && err >= NM_ERR_DOH(-99))
        snprintf(buf, cap, "%s", tls ? tls->doh_strstatus(err - NM_ERR_DOH(0)) : "HTTP error");
    else if (err <= NM_ERR_TLS(-1) && err >= NM_ERR_TLS(-99))
        snprintf(buf, cap, "%s", tls ? tls->tls_strstatus(err - NM_ERR_TLS(0)) : "TLS error");
    else
        snprintf(buf, cap, "%s", uv_strerror(err));
    return buf;
}
