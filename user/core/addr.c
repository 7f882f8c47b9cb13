// SPDX-License-Identifier: GPL-2.0-or-later
#include <arpa/inet.h>
#include <errno.h>

#include "core/addr.h"

char *vs_addr_str(const struct vs_addr *a, char *buf, size_t len)
{
	const char *r;

	if (vs_addr_is_v4(a))
		r = inet_ntop(AF_INET, a->b + 12, buf, len);
	else
		r = inet_ntop(AF_INET6, a->b, buf, len);
	if (!r && len)
		buf[0] = '\0';
	return buf;
}

int vs_addr_parse(struct vs_addr *a, const char *s, size_t len)
{
	char tmp[VS_ADDR_STRLEN];
	uint8_t raw[16];

	if (len == 0 || len >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (inet_pton(AF_INET, tmp, raw) == 1) {
		vs_addr_from_v4(a, raw);
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, raw) == 1) {
		vs_addr_from_v6(a, raw);
		return 0;
	}
	return -EINVAL;
}
