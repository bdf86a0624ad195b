/* The slot of the encrypted transports' provider (see tls_provider.h). */
#include "tls_provider.h"

nm_tls_slot nm_tls_installed;

/* Weak: linked only into programs that link tls_builtin.c (the C tests,
 * the benchmarks, names.tls); NULL in the Lua module names.core. */
extern const nm_tls_provider nm_tls_builtin __attribute__((weak));

const nm_tls_provider *nm_tls_provider_get(void)
{
    if (nm_tls_installed.provider) return nm_tls_installed.provider;
    return &nm_tls_builtin ? &nm_tls_builtin : NULL;
}
