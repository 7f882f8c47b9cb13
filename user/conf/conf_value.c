// SPDX-License-Identifier: GPL-2.0-or-later
/* Value syntax of voipmonitor.conf: booleans, numbers, port lists, networks
 * and NAT aliases. Strict: what we cannot read exactly is an error, because
 * a silently misread port list loses calls. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "conf/conf_int.h"

int vs_conf_parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "yes", "1", "true", "on" };
	static const char *const no[] = { "no", "0", "false", "off" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(v, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

/* Decimal digits only (no sign, no blanks), at most max. */
static int parse_num(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t n = 0;
	size_t i;

	if (len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		n = n * 10 + (uint64_t)(s[i] - '0');
		if (n > max)
			return -EINVAL;
	}
	*out = n;
	return 0;
}

int vs_conf_parse_u32(const char *v, uint32_t min, uint32_t max,
		      uint32_t *out)
{
	uint64_t n;

	if (parse_num(v, strlen(v), max, &n) || n < min)
		return -EINVAL;
	*out = (uint32_t)n;
	return 0;
}

static void trim(const char **s, size_t *len)
{
	while (*len && vs_conf_is_blank(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && vs_conf_is_blank((*s)[*len - 1]))
		(*len)--;
}

int vs_conf_each_item(const char *v,
		      int (*fn)(const char *s, size_t len, void *arg),
		      void *arg)
{
	const char *p = v;
	int err;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const char *item = p;

		trim(&item, &len);
		if (len == 0)
			return -EINVAL;
		err = fn(item, len, arg);
		if (err)
			return err;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static int parse_port(const char *s, size_t len, uint16_t *port)
{
	uint64_t n;

	trim(&s, &len);
	if (parse_num(s, len, 65535, &n) || n == 0)
		return -EINVAL;
	*port = (uint16_t)n;
	return 0;
}

/* One item: "5060" or "10000-20000" (blanks around '-' allowed). */
static int port_item(const char *s, size_t len, void *arg)
{
	uint8_t *ports = arg;
	const char *dash = memchr(s, '-', len);
	uint16_t lo, hi;
	uint32_t p;

	if (parse_port(s, dash ? (size_t)(dash - s) : len, &lo))
		return -EINVAL;
	hi = lo;
	if (dash && parse_port(dash + 1, len - (size_t)(dash - s) - 1, &hi))
		return -EINVAL;
	if (hi < lo)
		return -EINVAL;
	for (p = lo; ports && p <= hi; p++)
		ports[p >> 3] |= (uint8_t)(1u << (p & 7));
	return 0;
}

int vs_conf_parse_ports(const char *v, uint8_t *ports)
{
	return vs_conf_each_item(v, port_item, ports);
}

static void mask_addr(struct vs_addr *a, unsigned prefix)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		if (prefix >= 8) {
			prefix -= 8;
			continue;
		}
		a->b[i] &= (uint8_t)(0xff00u >> prefix);
		prefix = 0;
	}
}

int vs_conf_parse_net(const char *s, size_t len, struct vs_ipnet *n)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	/* The text decides the family: an IPv6 prefix counts 128 bits. */
	int v6 = memchr(s, ':', alen) != NULL;
	uint64_t prefix = v6 ? 128 : 32;
	struct vs_addr a;

	if (vs_addr_parse(&a, s, alen))
		return -EINVAL;
	if (slash && parse_num(slash + 1, len - alen - 1, v6 ? 128 : 32,
			       &prefix))
		return -EINVAL;
	if (!v6)
		prefix += 96;
	mask_addr(&a, (unsigned)prefix);
	n->addr = a;
	n->prefix = (uint8_t)prefix;
	return 0;
}

int vs_conf_parse_alias(const char *s, size_t len, struct vs_natalias *a)
{
	size_t i = 0, j;
	struct vs_natalias tmp;

	while (i < len && !vs_conf_is_blank(s[i]))
		i++;
	j = i;
	while (j < len && vs_conf_is_blank(s[j]))
		j++;
	if (j == i || j == len)
		return -EINVAL;
	if (vs_addr_parse(&tmp.from, s, i) ||
	    vs_addr_parse(&tmp.to, s + j, len - j))
		return -EINVAL;
	if (vs_addr_is_v4(&tmp.from) != vs_addr_is_v4(&tmp.to))
		return -EINVAL;
	*a = tmp;
	return 0;
}

int vs_conf_parse_str(char *dst, size_t size, const char *v, const char **e,
		      const char *what)
{
	size_t n = strlen(v);

	*e = what;
	if (n >= size)
		return -EINVAL;
	memcpy(dst, v, n + 1);
	return 0;
}
