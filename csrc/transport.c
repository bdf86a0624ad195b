/* The registry of transports, and the receive buffer they share. */
#include <stdlib.h>
#include <string.h>

#include "transport.h"

#define NM_TRANSPORT_ENTRY(kind, name, ops) &ops,
static const nm_transport_ops *const registry[NM_NTRANSPORTS] = {
    NM_TRANSPORT_LIST(NM_TRANSPORT_ENTRY)
};
#undef NM_TRANSPORT_ENTRY

const nm_transport_ops *nm_transport_ops_of(int kind)
{
    return kind >= 0 && kind < NM_NTRANSPORTS ? registry[kind] : NULL;
}

int nm_transport_find(const char *name)
{
    for (int k = 0; k < NM_NTRANSPORTS; k++)
        if (strcmp(registry[k]->name, name) == 0) return k;
    return -1;
}

const char *nm_transport_name(int kind)
{
    const nm_transport_ops *ops = nm_transport_ops_of(kind);
    return ops ? ops->name : "?";
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
