/* The encrypted transports' provider (tls_provider.h): the functions of
 * tls.c, dot.c, doh.c and https.c.  Linking this file links them, and
 * OpenSSL and nghttp2 with them. */
#include "doh.h"
#include "tls_provider.h"

const nm_tls_provider nm_tls_builtin = {
    &nm_dot_ops,      &nm_https_ops,   nm_tls_ctx_new, nm_tls_ctx_free, nm_tls_ctx_ref,
    nm_tls_get_info,  nm_dot_tls,      nm_https_tls,   nm_tls_strstatus, nm_doh_strstatus,
};
