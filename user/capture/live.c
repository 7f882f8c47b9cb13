// SPDX-License-Identifier: GPL-2.0-or-later
/* capture/live: choose the mode, attach, poll, detach. */
#include <errno.h>
#include <net/if.h>
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/live_int.h"
#include "core/log.h"

#define DRAIN_BATCH 4096
/* The ring reader's poll. SIP wakes it at once (wakes_now in the BPF
 * program) and a quarter-full ring does too; RTP waits for the poll. Long
 * batches are cheap ones: a call's memory is cold at every wakeup (each
 * line an RTP frame needs is a cache miss), and at 100 ms each stream
 * brings about five frames per batch, the later ones finding it warm.
 * Measured on the mixed bench: the daemon's CPU fell by about 45 % from a
 * 10 ms poll to 50 ms and by a further 20 % at 100 ms (docs/capture.md).
 * The timestamps are the kernel's, so nothing waits but the CPU. An idle
 * sensor wakes 10 times a second. AF_XDP wakes a poll for every frame;
 * it waits as long. */
#define WAIT_MS 100
#define IDLE_US 100000
/* AF_XDP wakes a waiting reader for every frame it queues; one wakeup
 * per frame costs more than the frame. So the reader sleeps on the
 * program's doorbell (xsk_bell), rung for SIP and fragments and when a
 * quarter of a socket's RX ring waits (struct vs_xsk_fill), else for
 * WAIT_MS, as copy mode's: each stream then brings several frames per
 * batch and finds its call's memory warm (with a fixed 20 ms, a quarter
 * ring at 200 k frames/s, it brought one, and the daemon cost half as
 * much again). A drain that found XSK_FLOOD frames or more goes again at
 * once. */
#define XSK_FLOOD 1024

/* afxdp: UMEM frames per RX queue for each MB of `ringbuffer`, and at
 * most this many. A chunk holds one frame however short, so a 4 MB copy
 * ring holds about 16 k G.711 records: the default gives afxdp the same
 * 80 ms of backlog at 200 k frames/s. With 8 k frames (40 ms) the reader
 * still lost frames in some runs of the bench at that rate. */
#define XSK_FRAMES_PER_MB 4096
#define XSK_FRAMES_MAX 131072

static const char *const mode_names[] = { "copy", "afxdp", "pcap" };

static uint32_t pow2_up(uint32_t v)
{
	uint32_t p = 1;

	while (p < v && p < (1u << 31))
		p <<= 1;
	return p;
}

/* `ringbuffer` (MB) as the bytes of one per-CPU ring: the kernel wants a
 * power of two (a page multiple follows, as it is at least 1 MB). */
static uint32_t ring_bytes(const struct vs_conf *c)
{
	uint32_t mb = c->cap.ringbuffer_mb ? c->cap.ringbuffer_mb : 4;
	uint32_t p = pow2_up(mb);

	if (p != mb)
		vs_info("ringbuffer = %u: ring buffers are a power of two; "
			"using %u MB per CPU", mb, p);
	return p << 20;
}

static uint32_t xsk_frames(const struct vs_conf *c)
{
	uint32_t mb = c->cap.ringbuffer_mb ? c->cap.ringbuffer_mb : 4;
	uint32_t n = pow2_up(mb * XSK_FRAMES_PER_MB);

	return n > XSK_FRAMES_MAX ? XSK_FRAMES_MAX : n;
}

static uint32_t snaplen(const struct vs_live *l)
{
	uint32_t s = l->o.conf->cap.snaplen;

	return s && s < VS_SNAP_MAX ? s : VS_SNAP_DEFAULT;
}

uint64_t vs_live__now_us(struct vs_live *l)
{
	struct timespec rt, mt;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mt);
	l->mono_to_real_ns = ((int64_t)rt.tv_sec - mt.tv_sec) * 1000000000 +
			     (rt.tv_nsec - mt.tv_nsec);
	return (uint64_t)rt.tv_sec * 1000000 + (uint64_t)rt.tv_nsec / 1000;
}

void vs_live__maybe_idle(struct vs_live *l)
{
	struct timespec mt;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &mt);
	now = (uint64_t)mt.tv_sec * 1000000 + (uint64_t)mt.tv_nsec / 1000;
	if (now - l->last_idle_us < IDLE_US)
		return;
	l->last_idle_us = now;
	vs_live__status(l, now);
	now = vs_live__now_us(l);
	if (l->o.idle)
		l->o.idle(l->o.ctx, now);
}

static uint64_t mono_to_us(const struct vs_live *l, uint64_t ns)
{
	return (uint64_t)((int64_t)ns + l->mono_to_real_ns) / 1000;
}

static int deliver(struct vs_live *l, uint64_t ts_ns, int ifindex,
		   const uint8_t *data, uint32_t caplen, uint32_t origlen,
		   int dir)
{
	struct vs_frame f = {
		.data = data,
		.caplen = caplen,
		.origlen = origlen,
		.ts_us = mono_to_us(l, ts_ns),
		.linktype = DLT_EN10MB,
		.id_sensor = l->o.conf->id_sensor,
		.ifindex = (uint32_t)ifindex,
	};

	l->st.frames++;
	l->st.bytes += caplen;
	if (dir == VS_DIR_OUT)
		l->st.frames_out++;
	else
		l->st.frames_in++;
	return l->o.fn(l->o.ctx, &f);
}

static int on_record(void *ctx, const struct vs_ring_hdr *h,
		     const uint8_t *frame)
{
	return deliver(ctx, h->ts_ns, (int)h->ifindex, frame, h->caplen,
		       h->origlen, h->dir);
}

static void on_ahead(void *ctx, int stage, const struct vs_ring_hdr *h)
{
	struct vs_live *l = ctx;

	if (h->reason == VS_KCNT_rtp || h->reason == VS_KCNT_rtcp)
		l->o.ahead(l->o.ctx, stage, h->hint);
}

/* AF_XDP hands over whole frames: snaplen applies here. */
static int on_xsk(void *ctx, uint64_t ts_ns, int ifindex,
		  const uint8_t *data, uint32_t len, uint32_t origlen)
{
	struct vs_live *l = ctx;
	uint32_t cap = snaplen(l);

	return deliver(l, ts_ns, ifindex, data, len < cap ? len : cap, origlen,
		       VS_DIR_IN);
}

/* Loads the programs and opens the readers of the mode. -errno. */
static int open_bpf(struct vs_live *l)
{
	struct vs_xdp_opts xo = {
		.conf = l->o.conf,
		.ifindex = l->ifindex,
		.n_if = l->n_if,
		.afxdp = l->mode == VS_CAPTURE_AFXDP,
		.snaplen = snaplen(l),
		.rtp_head = l->o.rtp_head,
	};
	int fds[VS_RING_SET_MAX];

	if (xo.afxdp && l->n_if > VS_XSK_IF_MAX) {
		vs_err("capture_mode = afxdp takes at most %d interfaces, "
		       "not %d", VS_XSK_IF_MAX, l->n_if);
		return -EINVAL;
	}
	if (!xo.afxdp)
		xo.ring_bytes = ring_bytes(l->o.conf);
	l->xdp = vs_xdp__open(&xo);
	if (!l->xdp)
		return -errno;
	if (xo.afxdp) {
		struct vs_afxdp_opts ao = {
			.ifindex = l->ifindex,
			.n_if = l->n_if,
			.xsks_fd = vs_xdp__xsks_fd(l->xdp),
			.slots_fd = vs_xdp__xsk_slots_fd(l->xdp),
			.ifs_fd = vs_xdp__xsk_ifs_fd(l->xdp),
			.fill_fd = vs_xdp__xsk_fill_fd(l->xdp),
			.bell_fd = vs_xdp__xsk_bell_fd(l->xdp),
			.frames = xsk_frames(l->o.conf),
			.ahead = l->o.ahead,
			.ahead_ctx = l->o.ctx,
		};

		l->xsk = vs_afxdp__open(&ao);
		return l->xsk ? 0 : -errno;
	}
	for (int i = 0; i < vs_xdp__nrings(l->xdp); i++)
		fds[i] = vs_xdp__ring_fd(l->xdp, i);
	l->rings = vs_ring_set__new(fds, vs_xdp__nrings(l->xdp),
				    vs_xdp__ring_bytes(l->xdp));
	if (!l->rings)
		return -errno;
	if (l->o.ahead)
		vs_ring_set__set_ahead(l->rings, on_ahead);
	return 0;
}

/* Promiscuous mode suits a dedicated interface only: the configured mode
 * is afxdp or pcap (copy runs on a PBX host, and keeps this when it falls
 * back to libpcap) and the interfaces are named, not `any`. */
static int want_promisc(const struct vs_conf *c)
{
	return c->cap.promisc && strcmp(c->interface, "any") &&
	       (c->capture_mode == VS_CAPTURE_AFXDP ||
		c->capture_mode == VS_CAPTURE_PCAP);
}

/* afxdp: the packet sockets that hold promiscuous mode (pcap mode: libpcap
 * does it). One log line per interface: XDP mode and promiscuous state. */
static void setup_ifs(struct vs_live *l)
{
	char dev[IF_NAMESIZE], how[128];

	for (int i = 0; i < l->n_if; i++) {
		if (l->promisc && l->mode == VS_CAPTURE_AFXDP)
			l->promisc_fd[i] = vs_live__promisc_on(l->ifindex[i]);
		if (!if_indextoname((unsigned)l->ifindex[i], dev))
			snprintf(dev, sizeof(dev), "if%d", l->ifindex[i]);
		if (l->xdp)
			vs_xdp__if_mode(l->xdp, l->ifindex[i], how,
					sizeof(how));
		else
			snprintf(how, sizeof(how), "libpcap");
		vs_info("%s: %s, promiscuous %s", dev, how,
			l->promisc && (l->mode == VS_CAPTURE_PCAP ||
				       l->promisc_fd[i] >= 0) ? "on" : "off");
	}
}

static void close_bpf(struct vs_live *l)
{
	vs_afxdp__close(l->xsk);
	l->xsk = NULL;
	vs_ring_set__free(l->rings);
	l->rings = NULL;
	vs_xdp__close(l->xdp);
	l->xdp = NULL;
}

struct vs_live *vs_live__open(const struct vs_live_opts *o)
{
	struct vs_live *l = calloc(1, sizeof(*l));
	int err;

	if (!l)
		return NULL;
	l->o = *o;
	l->mode = o->conf->capture_mode;
	l->promisc = want_promisc(o->conf);
	for (int i = 0; i < VS_XDP_MAX_IF; i++)
		l->promisc_fd[i] = -1;
	vs_live__now_us(l);
	err = vs_live__interfaces(o->conf->interface, l->ifindex,
				  VS_XDP_MAX_IF, &l->n_if);
	if (err)
		goto fail;
	if (l->mode != VS_CAPTURE_PCAP) {
		err = open_bpf(l);
		if (err) {
			close_bpf(l);
			vs_warn("capture_mode = %s unavailable (%s%s); falling "
				"back to libpcap with a sipport filter",
				mode_names[l->mode], strerror(-err),
				err == -EPERM ? ": needs CAP_BPF, CAP_NET_ADMIN "
						"and CAP_PERFMON" : "");
			l->mode = VS_CAPTURE_PCAP;
		}
	}
	if (l->mode == VS_CAPTURE_PCAP) {
		err = vs_live__open_pcap(l);
		if (err)
			goto fail;
	}
	setup_ifs(l);
	vs_info("live capture on %s in %s mode", o->conf->interface,
		mode_names[l->mode]);
	return l;
fail:
	vs_live__close(l);
	errno = -err;
	return NULL;
}

static int run_rings(struct vs_live *l)
{
	int n = 0, err;

	while (!*l->o.stop) {
		n = vs_ring_set__drain(l->rings, DRAIN_BATCH, on_record, l);
		if (n < 0)
			return n;
		vs_live__maybe_idle(l);
		if (n)
			continue;
		err = vs_ring_set__wait(l->rings, WAIT_MS);
		if (err && err != -EINTR)
			return err;
	}
	/* What the kernel queued before we were told to stop. */
	while ((n = vs_ring_set__drain(l->rings, DRAIN_BATCH, on_record, l)) > 0)
		;
	return n < 0 ? n : 0;
}

static int run_xsk(struct vs_live *l)
{
	int n, err;

	while (!*l->o.stop) {
		n = vs_afxdp__drain(l->xsk, on_xsk, l);
		if (n < 0)
			return n;
		vs_live__maybe_idle(l);
		if (n >= XSK_FLOOD)
			continue;
		err = vs_afxdp__wait(l->xsk, WAIT_MS);
		if (err && err != -EINTR)
			return err;
	}
	return 0;
}

int vs_live__run(struct vs_live *l)
{
	switch (l->mode) {
	case VS_CAPTURE_COPY:
		return run_rings(l);
	case VS_CAPTURE_AFXDP:
		return run_xsk(l);
	default:
		return vs_live__run_pcap(l);
	}
}

void vs_live__close(struct vs_live *l)
{
	if (!l)
		return;
	close_bpf(l);
	vs_live__close_pcap(l);
	for (int i = 0; i < VS_XDP_MAX_IF; i++)
		if (l->promisc_fd[i] >= 0)
			close(l->promisc_fd[i]);
	free(l);
}

void vs_live__media(void *ctx, const struct vs_endpoint *ep, int add)
{
	struct vs_live *l = ctx;

	if (l && l->xdp)
		vs_xdp__media(l->xdp, ep, add);
}

void vs_live__print_stats(const struct vs_live *l, FILE *out)
{
	fprintf(out, "capture.mode %s\n", mode_names[l->mode]);
#define VS_X(n) fprintf(out, "capture.%s %llu\n", #n, (unsigned long long)l->st.n);
	VS_LIVE_STATS(VS_X)
#undef VS_X
	if (l->rings)
		fprintf(out, "capture.ring_malformed %llu\n",
			(unsigned long long)vs_ring_set__malformed(l->rings));
	if (l->xsk)
		vs_afxdp__print_stats(l->xsk, out);
	if (l->xdp)
		vs_xdp__print_stats(l->xdp, out);
}
