/* Server addresses in text, as c-ares and resolv.conf write them:
 * "192.0.2.1", "192.0.2.1:5353", "2001:db8::1", "[2001:db8::1]:5353",
 * "fe80::1%eth0", "[fe80::1%eth0]:53". */
#ifndef NAMES_ADDR_H
#define NAMES_ADDR_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct nm_addr {
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
    } u;
    socklen_t len;
} nm_addr;

/* Parses an address with an optional port (default_port when absent). */
int nm_addr_parse(const char *text, size_t n, uint16_t default_port, nm_addr *out);
/* Builds an address from its parts: host text without brackets or port. */
int nm_addr_from_host(const char *host, uint16_t port, nm_addr *out);
/* "192.0.2.1:53", "[2001:db8::1]:53", "[fe80::1%2]:53"; buf holds 64 bytes. */
const char *nm_addr_text(const nm_addr *a, char *buf, size_t cap);
/* The address alone, without port ("192.0.2.1", "2001:db8::1"). */
const char *nm_addr_host(const nm_addr *a, char *buf, size_t cap);
uint16_t nm_addr_port(const nm_addr *a);
/* Same family, address, port (and scope for IPv6). */
int nm_addr_equal(const nm_addr *a, const struct sockaddr *b);

#endif
