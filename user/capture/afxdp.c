// SPDX-License-Identifier: GPL-2.0-or-later
/* capture/afxdp: one AF_XDP socket (with its own UMEM) per RX queue. Frames
 * the XDP program redirects land in the UMEM; we read the RX ring, hand
 * each frame on, and give the buffer back through the fill ring. */
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <xdp/xsk.h>

#include "capture/afxdp.h"
#include "core/log.h"

#define NFRAMES 2048 /* per queue */
#define FRAME XSK_UMEM__DEFAULT_FRAME_SIZE
#define BATCH 64

struct vs_xsk {
	struct xsk_umem *umem;
	struct xsk_socket *sock;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx; /* unused, required by the API */
	uint8_t *buf;
	int zerocopy;
};

struct vs_afxdp {
	int n;
	uint64_t frames;
	uint64_t no_meta; /* frames timestamped in userspace */
	struct vs_xsk q[];
};

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

static int fill_all(struct vs_xsk *x)
{
	__u32 idx;

	if (xsk_ring_prod__reserve(&x->fill, NFRAMES, &idx) != NFRAMES)
		return -ENOMEM;
	for (__u32 i = 0; i < NFRAMES; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) = (__u64)i * FRAME;
	xsk_ring_prod__submit(&x->fill, NFRAMES);
	return 0;
}

/* Zero-copy first; copy mode when the driver cannot. */
static int open_queue(struct vs_xsk *x, const char *dev, __u32 q, int xsks)
{
	struct xsk_umem_config uc = {
		.fill_size = NFRAMES,
		.comp_size = NFRAMES,
		.frame_size = FRAME,
		.frame_headroom = XSK_UMEM__DEFAULT_FRAME_HEADROOM,
	};
	struct xsk_socket_config sc = {
		.rx_size = NFRAMES,
		.tx_size = 64,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_ZEROCOPY,
	};
	int err, fd;

	x->buf = mmap(NULL, (size_t)NFRAMES * FRAME, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->buf == MAP_FAILED) {
		x->buf = NULL;
		return -errno;
	}
	err = xsk_umem__create(&x->umem, x->buf, (__u64)NFRAMES * FRAME,
			       &x->fill, &x->comp, &uc);
	if (err)
		return err;
	err = xsk_socket__create(&x->sock, dev, q, x->umem, &x->rx, &x->tx, &sc);
	x->zerocopy = !err;
	if (err) {
		sc.bind_flags = XDP_COPY;
		err = xsk_socket__create(&x->sock, dev, q, x->umem, &x->rx,
					 &x->tx, &sc);
	}
	if (err)
		return err;
	err = fill_all(x);
	if (err)
		return err;
	fd = xsk_socket__fd(x->sock);
	return bpf_map_update_elem(xsks, &q, &fd, 0) ? -errno : 0;
}

static void close_queue(struct vs_xsk *x)
{
	if (x->sock)
		xsk_socket__delete(x->sock);
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->buf)
		munmap(x->buf, (size_t)NFRAMES * FRAME);
}

struct vs_afxdp *vs_afxdp__open(int ifindex, int xsks_fd)
{
	char dev[IF_NAMESIZE];
	struct vs_afxdp *a;
	int n, err = 0;

	if (!if_indextoname((unsigned)ifindex, dev))
		return NULL;
	n = rx_queues(dev);
	if (n > VS_XSK_MAX)
		n = VS_XSK_MAX;
	a = calloc(1, sizeof(*a) + (size_t)n * sizeof(a->q[0]));
	if (!a)
		return NULL;
	for (; a->n < n && !err; a->n++)
		err = open_queue(&a->q[a->n], dev, (__u32)a->n, xsks_fd);
	if (err) {
		vs_err("%s: AF_XDP socket on queue %d: %s", dev, a->n - 1,
		       strerror(-err));
		vs_afxdp__close(a);
		errno = -err;
		return NULL;
	}
	vs_info("%s: %d AF_XDP socket(s), %s", dev, n,
		a->q[0].zerocopy ? "zero-copy" : "copy mode");
	return a;
}

void vs_afxdp__close(struct vs_afxdp *a)
{
	if (!a)
		return;
	for (int i = 0; i < a->n; i++)
		close_queue(&a->q[i]);
	free(a);
}

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000 + (uint64_t)t.tv_nsec;
}

/* The XDP program's metadata just before the frame, if it wrote one. */
static uint64_t frame_ts(struct vs_afxdp *a, uint8_t *data, uint64_t addr)
{
	struct vs_xsk_meta *m = (void *)(data - sizeof(*m));
	uint64_t ts;

	if ((addr % FRAME) < sizeof(*m) || m->magic != VS_XSK_MAGIC) {
		a->no_meta++;
		return mono_ns();
	}
	ts = m->ts_ns;
	m->magic = 0; /* the buffer is reused: never read it twice */
	return ts;
}

static int rx_queue(struct vs_afxdp *a, struct vs_xsk *x, vs_afxdp_fn fn,
		    void *ctx)
{
	__u32 idx, fidx, n = xsk_ring_cons__peek(&x->rx, BATCH, &idx);
	int rc = 0;

	if (!n)
		return 0;
	for (__u32 i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);
		uint8_t *data = xsk_umem__get_data(x->buf, d->addr);

		a->frames++;
		if (!rc)
			rc = fn(ctx, frame_ts(a, data, d->addr), data, d->len);
	}
	/* Every buffer read goes back to the kernel. */
	while (xsk_ring_prod__reserve(&x->fill, n, &fidx) != n)
		;
	for (__u32 i = 0; i < n; i++) {
		__u64 addr = xsk_ring_cons__rx_desc(&x->rx, idx + i)->addr;

		*xsk_ring_prod__fill_addr(&x->fill, fidx + i) =
			addr - addr % FRAME;
	}
	xsk_ring_prod__submit(&x->fill, n);
	xsk_ring_cons__release(&x->rx, n);
	return rc ? rc : (int)n;
}

int vs_afxdp__poll(struct vs_afxdp *a, int timeout_ms, vs_afxdp_fn fn,
		   void *ctx)
{
	struct pollfd pfd[VS_XSK_MAX];
	int total = 0, rc;

	for (int i = 0; i < a->n; i++)
		pfd[i] = (struct pollfd){ .fd = xsk_socket__fd(a->q[i].sock),
					  .events = POLLIN };
	if (poll(pfd, (nfds_t)a->n, timeout_ms) < 0)
		return -errno;
	for (int i = 0; i < a->n; i++) {
		while ((rc = rx_queue(a, &a->q[i], fn, ctx)) > 0)
			total += rc;
		if (rc < 0)
			return rc;
	}
	return total;
}

void vs_afxdp__print_stats(const struct vs_afxdp *a, FILE *out)
{
	struct xdp_statistics s, sum = { 0 };
	socklen_t len;

	for (int i = 0; i < a->n; i++) {
		len = sizeof(s);
		if (getsockopt(xsk_socket__fd(a->q[i].sock), SOL_XDP,
			       XDP_STATISTICS, &s, &len))
			continue;
		sum.rx_dropped += s.rx_dropped;
		sum.rx_invalid_descs += s.rx_invalid_descs;
		sum.rx_ring_full += s.rx_ring_full;
		sum.rx_fill_ring_empty_descs += s.rx_fill_ring_empty_descs;
	}
	fprintf(out, "afxdp.frames %llu\n", (unsigned long long)a->frames);
	fprintf(out, "afxdp.no_meta %llu\n", (unsigned long long)a->no_meta);
	fprintf(out, "afxdp.rx_dropped %llu\n",
		(unsigned long long)sum.rx_dropped);
	fprintf(out, "afxdp.rx_ring_full %llu\n",
		(unsigned long long)sum.rx_ring_full);
	fprintf(out, "afxdp.rx_fill_empty %llu\n",
		(unsigned long long)sum.rx_fill_ring_empty_descs);
	fprintf(out, "afxdp.rx_invalid %llu\n",
		(unsigned long long)sum.rx_invalid_descs);
}
