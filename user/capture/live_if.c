// SPDX-License-Identifier: GPL-2.0-or-later
/* capture/live: the `interface` key to interface indexes. */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture/live.h"
#include "core/log.h"

/* Up and not loopback: what "any" means for a sensor. */
static int usable(int sock, const char *name)
{
	struct ifreq r = { 0 };

	snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", name);
	if (ioctl(sock, SIOCGIFFLAGS, &r))
		return 0;
	return (r.ifr_flags & IFF_UP) && !(r.ifr_flags & IFF_LOOPBACK);
}

static int any(int *ifindex, int max, int *n)
{
	struct if_nameindex *all = if_nameindex(), *i;
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err = 0;

	if (!all || sock < 0) {
		err = -errno;
		goto out;
	}
	for (i = all; i->if_index; i++) {
		if (!usable(sock, i->if_name))
			continue;
		if (*n == max) {
			err = -E2BIG;
			break;
		}
		ifindex[(*n)++] = (int)i->if_index;
	}
	if (!err && !*n)
		err = -ENODEV;
out:
	if (err)
		vs_err("interface = any: %s", strerror(-err));
	if (all)
		if_freenameindex(all);
	if (sock >= 0)
		close(sock);
	return err;
}

int vs_live__interfaces(const char *spec, int *ifindex, int max, int *n)
{
	char name[IF_NAMESIZE];
	const char *p = spec, *e;
	size_t len;

	*n = 0;
	if (!spec[0]) {
		vs_err("live capture needs the interface key "
		       "(interface = eth0, eth0,eth1 or any)");
		return -EINVAL;
	}
	if (!strcmp(spec, "any"))
		return any(ifindex, max, n);
	for (; *p; p = *e ? e + 1 : e) {
		e = p + strcspn(p, ",");
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		len = (size_t)(e - p);
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (!len)
			continue;
		if (len >= sizeof(name) || *n == max) {
			vs_err("interface = %s: name too long or too many",
			       spec);
			return -EINVAL;
		}
		memcpy(name, p, len);
		name[len] = 0;
		ifindex[*n] = (int)if_nametoindex(name);
		if (!ifindex[*n]) {
			vs_err("interface %s: %s", name, strerror(errno));
			return -ENODEV;
		}
		(*n)++;
	}
	return *n ? 0 : -EINVAL;
}
