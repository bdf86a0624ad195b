/* The encrypted transports as a provider the core reaches through one
 * table: DoT and DoH (tls.c, dot.c, doh.c, https.c) need OpenSSL and
 * nghttp2, which take 1.7 MB of a process's memory only by being loaded.
 * The core never names their functions, so a program that never asks for
 * a tls:// or https:// server never loads them: the Lua module names.tls
 * (lua_tls.c) installs the provider when one is first needed, and a C
 * program that links the whole core links tls_builtin.c too, which the
 * core then finds by itself. */
#ifndef NAMES_TLS_PROVIDER_H
#define NAMES_TLS_PROVIDER_H

#include "tls.h"
#include "transport.h"

typedef struct nm_tls_provider {
    const nm_transport_ops *dot_ops, *https_ops;
    nm_tls_ctx *(*ctx_new)(const nm_tls_config *cfg, char *err, size_t errlen);
    void (*ctx_free)(nm_tls_ctx *ctx);
    void (*ctx_ref)(nm_tls_ctx *ctx);
    void (*get_info)(const nm_tls *t, nm_tls_info *out);
    nm_tls *(*dot_tls)(nm_transport *t);
    nm_tls *(*https_tls)(nm_transport *t);
    const char *(*tls_strstatus)(int status);
    const char *(*doh_strstatus)(int status);
} nm_tls_provider;

/* Where a provider is installed: one per process (its functions keep no
 * state of their own; each connection and context is its own object). */
typedef struct nm_tls_slot {
    const nm_tls_provider *provider;
} nm_tls_slot;
extern nm_tls_slot nm_tls_installed;

/* The provider, or NULL when the encrypted transports are not loaded. */
const nm_tls_provider *nm_tls_provider_get(void);

/* tls_builtin.c's, for a program or module that links the TLS code. */
extern const nm_tls_provider nm_tls_builtin;

#endif
