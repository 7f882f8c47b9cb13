// SPDX-License-Identifier: GPL-2.0-or-later
/* capture/xdp: what userspace writes into the maps (sipport,
 * interface_ip_filter, settings, the live media endpoints) and reads back
 * (counters). */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture/xdp_int.h"
#include "core/log.h"

static const char *const kcnt_names[] = {
#define VS_X(n) #n,
	VS_KCNT(VS_X)
#undef VS_X
};

#define PORT_BITS_BYTES (65536 / 8)

/* Map value of sip_ports: the conf bitmap has the same layout. */
/* Bit r set when a port of bits (a port bitmap) is in range r. */
static uint64_t port_summary(const uint8_t *bits)
{
	uint64_t sum = 0;

	for (unsigned r = 0; r < 64; r++)
		for (unsigned i = 0; i < 128; i++)
			if (bits[r * 128 + i]) {
				sum |= 1ull << r;
				break;
			}
	return sum;
}

/* sip_ports and its summary. tun_ports stays empty, and so its summary. */
static int fill_ports(struct vs_xdp *x, const struct vs_conf *c)
{
	__u32 zero = 0;

	_Static_assert(sizeof(c->sip_ports) == PORT_BITS_BYTES, "sipport bitmap");
	if (bpf_map_update_elem(bpf_map__fd(x->skel->maps.sip_ports), &zero,
				c->sip_ports, 0))
		return -errno;
	__atomic_store_n(&x->port_sum->sip, port_summary(c->sip_ports),
			 __ATOMIC_RELEASE);
	return 0;
}

static void bit_set(uint8_t *bits, unsigned n, int on)
{
	if (on)
		bits[n >> 3] |= (uint8_t)(1u << (n & 7));
	else
		bits[n >> 3] &= (uint8_t)~(1u << (n & 7));
}

int vs_xdp__tun_port(struct vs_xdp *x, uint16_t port, int on)
{
	int fd = bpf_map__fd(x->skel->maps.tun_ports);
	static const __u32 zero;
	uint8_t *bits = malloc(PORT_BITS_BYTES);
	int err = 0;

	if (!bits)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, bits)) {
		err = -errno;
		goto out;
	}
	bit_set(bits, port, on);
	if (bpf_map_update_elem(fd, &zero, bits, 0)) {
		err = -errno;
		goto out;
	}
	/* The program reads the summary before the bitmap: recomputed
	 * whole, it is right for every range once this store lands. */
	__atomic_store_n(&x->port_sum->tun, port_summary(bits),
			 __ATOMIC_RELEASE);
out:
	free(bits);
	return err;
}

int vs_xdp__tun_proto(struct vs_xdp *x, uint8_t proto, int on)
{
	int fd = bpf_map__fd(x->skel->maps.tun_protos);
	static const __u32 zero;
	uint8_t bits[256 / 8];

	if (bpf_map_lookup_elem(fd, &zero, bits))
		return -errno;
	bit_set(bits, proto, on);
	if (bpf_map_update_elem(fd, &zero, bits, 0))
		return -errno;
	return 0;
}

static int fill_ipfilter(struct vs_xdp *x, const struct vs_conf *c)
{
	int fd = bpf_map__fd(x->skel->maps.ipfilter);
	struct vs_lpm_key k;
	__u8 one = 1;

	for (__u32 i = 0; i < c->n_ipfilter; i++) {
		k.prefixlen = c->ipfilter[i].prefix;
		memcpy(k.addr, c->ipfilter[i].addr.b, 16);
		if (bpf_map_update_elem(fd, &k, &one, 0))
			return -errno;
	}
	return 0;
}

#define MEDIA_ONE_BYTES (65536 * 4)

/* media_ports and media_one are written in place: following a call costs
 * no syscall, and the kernel reads them directly. Zero at creation, like
 * the port counts. */
static int map_media_ports(struct vs_xdp *x)
{
	void *m = mmap(NULL, PORT_BITS_BYTES, PROT_READ | PROT_WRITE,
		       MAP_SHARED, bpf_map__fd(x->skel->maps.media_ports), 0);

	if (m == MAP_FAILED)
		return -errno;
	x->media_bits = m;
	m = mmap(NULL, MEDIA_ONE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(x->skel->maps.media_one), 0);
	if (m == MAP_FAILED)
		return -errno;
	x->media_one = m;
	m = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
		 MAP_SHARED, bpf_map__fd(x->skel->maps.port_sum), 0);
	if (m == MAP_FAILED)
		return -errno;
	x->port_sum = m;
	return 0;
}

void vs_xdp__unmap_media(struct vs_xdp *x)
{
	if (x->media_bits)
		munmap(x->media_bits, PORT_BITS_BYTES);
	x->media_bits = NULL;
	if (x->media_one)
		munmap(x->media_one, MEDIA_ONE_BYTES);
	x->media_one = NULL;
	if (x->port_sum)
		munmap(x->port_sum, (size_t)sysconf(_SC_PAGESIZE));
	x->port_sum = NULL;
}

int vs_xdp__fill_maps(struct vs_xdp *x, const struct vs_xdp_opts *o)
{
	const struct vs_conf *c = o->conf;
	struct vs_kcfg kc = {
		.snaplen = o->snaplen ? o->snaplen : VS_SNAP_DEFAULT,
		.ipfilter = c->n_ipfilter > 0,
		.rtp_head = !!o->rtp_head,
	};
	__u32 zero = 0;
	int err;

	if (kc.snaplen > VS_SNAP_MAX - 1)
		kc.snaplen = VS_SNAP_MAX - 1;
	/* RTP waits for the reader's poll (live.c WAIT_MS) or until a
	 * quarter of the ring is full, whichever comes first: a smaller
	 * ring (`ringbuffer` key) wakes it earlier, never too late. */
	kc.wake_bytes = x->ring_bytes / 4;
	err = map_media_ports(x);
	if (!err)
		err = fill_ports(x, c);
	if (!err)
		err = fill_ipfilter(x, c);
	if (!err && bpf_map_update_elem(bpf_map__fd(x->skel->maps.cfg), &zero,
					&kc, 0))
		err = -errno;
	if (err)
		vs_err("filling the BPF maps: %s", strerror(-err));
	return err;
}

/* One more (d = 1) or one fewer (d = -1) endpoint in `media` on this
 * port; the bit follows the count's changes from and to zero, and the
 * range's summary bit the number of such ports in it: set before the
 * port's bit, cleared after the range's last (the program tests the
 * summary first). */
static void port_ref(struct vs_xdp *x, uint16_t port, int d)
{
	uint8_t bit = (uint8_t)(1u << (port & 7));
	uint8_t *b = &x->media_bits[port >> 3];
	unsigned r = port >> 10;

	if (d > 0 && x->port_refs[port]++ == 0) {
		if (x->range_refs[r]++ == 0)
			__atomic_fetch_or(&x->port_sum->media, 1ull << r,
					  __ATOMIC_RELEASE);
		__atomic_fetch_or(b, bit, __ATOMIC_RELEASE);
	} else if (d < 0 && --x->port_refs[port] == 0) {
		__atomic_fetch_and(b, (uint8_t)~bit, __ATOMIC_RELEASE);
		if (--x->range_refs[r] == 0)
			__atomic_fetch_and(&x->port_sum->media, ~(1ull << r),
					   __ATOMIC_RELEASE);
	}
}

/* The port's media_one slot: set to the IPv4 endpoint just inserted when
 * it holds none, cleared before its endpoint is removed (set = 0), so it
 * never names an address that is not in `media`. One 4-byte store, which
 * the program sees whole or not at all. IPv6 endpoints have no slot. */
static void port_slot(struct vs_xdp *x, const struct vs_media_key *k,
		      uint16_t port, int set)
{
	static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };
	uint32_t *sl = &x->media_one[port], a;

	if (memcmp(k->addr, v4_mapped, 12) != 0)
		return;
	memcpy(&a, k->addr + 12, 4);
	if (!a || *sl != (set ? 0 : a))
		return;
	__atomic_store_n(sl, set ? a : 0, __ATOMIC_RELEASE);
}

/* The port is counted before the endpoint is inserted and after it is
 * removed, so a bit is never clear while an endpoint with its port is in
 * `media`: a frame in between is looked up in vain, never lost. The
 * counts follow what the map holds (BPF_NOEXIST: an endpoint already
 * there is not counted twice). */
void vs_xdp__media(void *ctx, const struct vs_endpoint *ep, int add)
{
	struct vs_xdp *x = ctx;
	struct vs_media_key k = { .port = htons(ep->port) };
	struct vs_media_val v = { .refs = 1 };
	int fd = bpf_map__fd(x->skel->maps.media);

	memcpy(k.addr, ep->addr.b, 16);
	if (add) {
		port_ref(x, ep->port, 1);
		if (!bpf_map_update_elem(fd, &k, &v, BPF_NOEXIST)) {
			x->media_live++;
			port_slot(x, &k, ep->port, 1);
			return;
		}
		if (errno != EEXIST)
			x->media_errors++;
		port_ref(x, ep->port, -1);
		return;
	}
	port_slot(x, &k, ep->port, 0);
	if (!bpf_map_delete_elem(fd, &k)) {
		x->media_live--;
		port_ref(x, ep->port, -1);
	}
}

int vs_xdp__counters(const struct vs_xdp *x, enum vs_kdir dir,
		     struct vs_kcounters *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct vs_kcounters *per;
	__u32 key = dir;
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (ncpu < 1)
		return ncpu;
	per = calloc((size_t)ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(x->skel->maps.counters), &key,
				per))
		err = -errno;
	for (int c = 0; !err && c < ncpu; c++)
		for (int i = 0; i < VS_KCNT__MAX; i++)
			out->c[i] += per[c].c[i];
	free(per);
	return err;
}

void vs_xdp__print_stats(const struct vs_xdp *x, FILE *out)
{
	static const char *const dirs[] = { "in", "out" };
	struct vs_kcounters k;

	for (int d = 0; d < VS_DIR__MAX; d++) {
		if (x->afxdp && d == VS_DIR_OUT)
			continue;
		if (vs_xdp__counters(x, (enum vs_kdir)d, &k))
			continue;
		for (int i = 0; i < VS_KCNT__MAX; i++)
			fprintf(out, "kernel.%s.%s %llu\n", dirs[d],
				kcnt_names[i], (unsigned long long)k.c[i]);
	}
	fprintf(out, "kernel.media_live %llu\n",
		(unsigned long long)x->media_live);
	fprintf(out, "kernel.media_errors %llu\n",
		(unsigned long long)x->media_errors);
}
