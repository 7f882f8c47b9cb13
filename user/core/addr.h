/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Addresses: every IP address is kept in 16 bytes, IPv4 as ::ffff:a.b.c.d
 * (RFC 4291 mapped form), so that hashing and comparing never branch on the
 * family and one key type serves both. */
#ifndef VS_ADDR_H
#define VS_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct vs_addr {
	uint8_t b[16];
};

/* Where media or signalling is sent or received: address and port. */
struct vs_endpoint {
	struct vs_addr addr;
	uint16_t port; /* host byte order */
};

#define VS_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

static inline void vs_addr_from_v4(struct vs_addr *a, const void *be4)
{
	memset(a->b, 0, 10);
	a->b[10] = 0xff;
	a->b[11] = 0xff;
	memcpy(a->b + 12, be4, 4);
}

static inline void vs_addr_from_v6(struct vs_addr *a, const void *be16)
{
	memcpy(a->b, be16, 16);
}

static inline bool vs_addr_is_v4(const struct vs_addr *a)
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a->b, pfx, 12) == 0;
}

static inline bool vs_addr_eq(const struct vs_addr *x, const struct vs_addr *y)
{
	return memcmp(x->b, y->b, 16) == 0;
}

static inline bool vs_endpoint_eq(const struct vs_endpoint *x,
				  const struct vs_endpoint *y)
{
	return x->port == y->port && vs_addr_eq(&x->addr, &y->addr);
}

/* Text form: dotted quad for IPv4, RFC 5952 for IPv6. buf >= VS_ADDR_STRLEN.
 * Returns buf. */
char *vs_addr_str(const struct vs_addr *a, char *buf, size_t len);

/* Parses "1.2.3.4" or "2001:db8::1" (no brackets). 0 or -EINVAL. */
int vs_addr_parse(struct vs_addr *a, const char *s, size_t len);

#endif
