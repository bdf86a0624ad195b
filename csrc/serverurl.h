/* Servers named as URLs, beside plain addresses:
 *
 *   "192.0.2.1", "[2001:db8::1]:5353"          plain DNS (UDP, TCP on truncation)
 *   "tls://192.0.2.1"                          DNS over TLS, port 853
 *   "tls://[2001:db8::1]:853#dns.example"      ... the certificate must name dns.example
 *   "https://dns.example/dns-query#192.0.2.1"  DNS over HTTPS, port 443, at 192.0.2.1
 *   "https://192.0.2.1:8443/dns-query"         ... the certificate must name the address
 *
 * A DoH URL's host that is a name needs an address: the bootstrap address
 * after '#', or (when none is given) the caller's lookup in the hosts file
 * (needs_address is then set); never a DNS query, which would go to the
 * DoH server itself or in clear. */
#ifndef NAMES_SERVERURL_H
#define NAMES_SERVERURL_H

#include <stddef.h>

#include "addr.h"

typedef struct nm_server_url {
    int kind;              /* NM_UDP, NM_TLS, NM_HTTPS (transport.h) */
    nm_addr addr;          /* valid unless needs_address */
    int needs_address;     /* https with a host name and no bootstrap address */
    char host[256];        /* https: the URL's host, without brackets */
    unsigned port;
    char authname[256];    /* the name the certificate must carry; "": the address */
    char authority[300];   /* https: host[:port] as written */
    char path[300];        /* https: the path (and query), "/dns-query" */
} nm_server_url;

/* NM_OK, or NM_ESYNTAX with a reason in why (a static string). */
int nm_server_url_parse(const char *text, size_t len, nm_server_url *out, const char **why);

#endif
