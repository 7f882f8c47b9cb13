// SPDX-License-Identifier: GPL-2.0-or-later
/* capture/afxdp: one AF_XDP socket (with its own UMEM) per RX queue of
 * each interface. Frames the XDP program redirects land in the UMEM; the
 * reader (afxdp_rx.c) hands each on and gives its chunk back through the
 * fill ring. */
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "capture/afxdp_int.h"
#include "core/log.h"

/* Ethernet header and two VLAN tags on top of the MTU. */
#define L2_MAX 22

/* RX queues of the interface, from sysfs (1 when unknown). */
static int rx_queues(const char *dev)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", dev);
	d = opendir(path);
	if (!d)
		return 1;
	while ((e = readdir(d)))
		n += !strncmp(e->d_name, "rx-", 3);
	closedir(d);
	return n ? n : 1;
}

/* A chunk holds the kernel's headroom (our metadata lives there) and one
 * whole frame: 2 KiB up to an MTU of about 1750, 4 KiB above. A frame
 * larger than the chunk is dropped by the kernel (afxdp.rx_dropped). */
static uint32_t chunk_for(const char *dev)
{
	char path[64];
	unsigned mtu = 1500;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/mtu", dev);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%u", &mtu) != 1)
			mtu = 1500;
		fclose(f);
	}
	if (mtu + L2_MAX + XDP_PACKET_HEADROOM <= 2048)
		return 2048;
	if (mtu + L2_MAX + XDP_PACKET_HEADROOM > 4096)
		vs_warn("%s: MTU %u: frames above %u bytes cannot be "
			"captured in afxdp mode", dev, mtu,
			4096 - XDP_PACKET_HEADROOM);
	return 4096;
}

static int fill_all(struct vs_xsk *x)
{
	__u32 idx;

	if (xsk_ring_prod__reserve(&x->fill, x->nframes, &idx) != x->nframes)
		return -ENOMEM;
	for (__u32 i = 0; i < x->nframes; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) =
			(__u64)i * x->chunk;
	xsk_ring_prod__submit(&x->fill, x->nframes);
	return 0;
}

/* Zero-copy first; copy mode when the driver cannot. need_wakeup: a
 * zero-copy driver that ran out of fill entries stops polling the fill
 * ring until we kick it (afxdp_rx.c), instead of spinning on it. */
static int open_queue(struct vs_xsk *x, const char *dev, __u32 q)
{
	struct xsk_umem_config uc = {
		.fill_size = x->nframes,
		.comp_size = 64,
		.frame_size = x->chunk,
		.frame_headroom = XSK_UMEM__DEFAULT_FRAME_HEADROOM,
	};
	struct xsk_socket_config sc = {
		.rx_size = x->nframes,
		.tx_size = 64,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP,
	};
	size_t len = (size_t)x->nframes * x->chunk;
	int err;

	x->buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->buf == MAP_FAILED) {
		x->buf = NULL;
		return -errno;
	}
	err = xsk_umem__create(&x->umem, x->buf, len, &x->fill, &x->comp,
			       &uc);
	if (err)
		return err;
	err = xsk_socket__create(&x->sock, dev, q, x->umem, &x->rx, &x->tx, &sc);
	x->zerocopy = !err;
	if (err) {
		sc.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
		err = xsk_socket__create(&x->sock, dev, q, x->umem, &x->rx,
					 &x->tx, &sc);
	}
	return err ? err : fill_all(x);
}

static void close_queue(struct vs_xsk *x)
{
	if (x->sock)
		xsk_socket__delete(x->sock);
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->buf)
		munmap(x->buf, (size_t)x->nframes * x->chunk);
}

/* The interface's slot range in xsk_ifs too, unless an interface before
 * it took that array slot (its frames then use the hash, xsk_slots). */
static int cache_slot(int fd, __u32 ifindex, const struct vs_xsk_slot *sl)
{
	__u32 k = ifindex % VS_XSK_IF_CACHE;
	struct vs_xsk_if c;

	if (bpf_map_lookup_elem(fd, &k, &c))
		return -errno;
	if (c.ifindex)
		return 0;
	c = (struct vs_xsk_if){ .ifindex = ifindex, .sl = *sl };
	return bpf_map_update_elem(fd, &k, &c, 0) ? -errno : 0;
}

/* Every RX queue of one interface, registered from slot a->n on. */
static int open_if(struct vs_afxdp *a, const struct vs_afxdp_opts *o,
		   int ifindex)
{
	struct vs_xsk_slot sl = { .base = (__u32)a->n };
	char dev[IF_NAMESIZE];
	int n, fd, err = 0;
	uint32_t chunk;

	if (!if_indextoname((unsigned)ifindex, dev))
		return -errno;
	n = rx_queues(dev);
	if (a->n + n > VS_XSK_MAX) {
		vs_err("%s: %d RX queues: more than %d AF_XDP sockets in all",
		       dev, n, VS_XSK_MAX);
		return -E2BIG;
	}
	chunk = chunk_for(dev);
	for (int q = 0; q < n && !err; q++) {
		struct vs_xsk *x = &a->q[a->n++];

		x->ifindex = ifindex;
		x->slot = sl.base + (__u32)q;
		x->nframes = o->frames;
		x->chunk = chunk;
		err = open_queue(x, dev, (__u32)q);
		fd = err ? -1 : xsk_socket__fd(x->sock);
		if (!err && bpf_map_update_elem(o->xsks_fd, &(__u32){ sl.base + q },
						&fd, 0))
			err = -errno;
		if (err)
			vs_err("%s: AF_XDP socket on queue %d: %s", dev, q,
			       strerror(-err));
	}
	for (int q = 0; q < n && !err; q++)
		a->fill[sl.base + q].wake = o->frames / 4;
	sl.n = (__u32)n;
	if (!err && bpf_map_update_elem(o->slots_fd, &ifindex, &sl, 0))
		err = -errno;
	if (!err)
		err = cache_slot(o->ifs_fd, (__u32)ifindex, &sl);
	if (!err)
		vs_info("%s: %d AF_XDP socket(s), %s, %u frames of %u bytes "
			"per queue", dev, n,
			a->q[sl.base].zerocopy ? "zero-copy" : "copy mode",
			o->frames, chunk);
	return err;
}

/* Each record is a ring; bit 32 says it was for an RX ring's fill level
 * (struct vs_xsk_fill), not for a SIP frame or a fragment. */
static int on_bell(void *ctx, void *data, size_t len)
{
	struct vs_afxdp *a = ctx;
	uint64_t bell = 0;

	memcpy(&bell, data, len < sizeof(bell) ? len : sizeof(bell));
	a->bells++;
	a->fill_bells += bell >> 32;
	return 0;
}

static int open_bell(struct vs_afxdp *a, int fd)
{
	a->bell = ring_buffer__new(fd, on_bell, a, NULL);
	if (!a->bell) {
		int err = -errno;

		vs_err("afxdp: the xsk_bell ring buffer: %s", strerror(-err));
		return err;
	}
	return 0;
}

#define FILL_BYTES (VS_XSK_MAX * sizeof(struct vs_xsk_fill))

/* xsk_fill in place: the reader stores each socket's taken count after
 * every batch, which a syscall would cost more than the batch. */
static int map_fill(struct vs_afxdp *a, int fd)
{
	void *m = mmap(NULL, FILL_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fd, 0);

	if (m == MAP_FAILED) {
		int err = -errno;

		vs_err("afxdp: mapping the xsk_fill map: %s", strerror(-err));
		return err;
	}
	a->fill = m;
	return 0;
}

struct vs_afxdp *vs_afxdp__open(const struct vs_afxdp_opts *o)
{
	struct vs_afxdp *a = calloc(1, sizeof(*a));
	int err = 0;

	if (!a)
		return NULL;
	a->ahead = o->ahead;
	a->ahead_ctx = o->ahead_ctx;
	err = map_fill(a, o->fill_fd);
	for (int i = 0; i < o->n_if && !err; i++)
		err = open_if(a, o, o->ifindex[i]);
	if (!err)
		err = open_bell(a, o->bell_fd);
	if (err) {
		vs_afxdp__close(a);
		errno = -err;
		return NULL;
	}
	return a;
}

void vs_afxdp__close(struct vs_afxdp *a)
{
	if (!a)
		return;
	for (int i = 0; i < a->n; i++)
		close_queue(&a->q[i]);
	ring_buffer__free(a->bell);
	if (a->fill)
		munmap(a->fill, FILL_BYTES);
	free(a);
}
