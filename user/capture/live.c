// SPDX-License-Identifier: GPL-2.0-or-later
/* capture/live: choose the mode, attach, poll, detach. */
#include <errno.h>
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/live_int.h"
#include "core/log.h"

#define DRAIN_BATCH 4096
#define WAIT_MS 10 /* the kernel batches wakeups; we poll this often */
#define IDLE_US 100000
/* AF_XDP wakes a waiting reader for every frame it queues; one wakeup
 * per frame costs more than the frame. After a poll that found only a
 * few, let more gather first: 1 ms is 200 frames at 200 k/s, a tenth of
 * the RX ring (afxdp.c NFRAMES). */
#define XSK_GATHER_US 1000
#define XSK_GATHER_BELOW 256

static const char *const mode_names[] = { "copy", "afxdp", "pcap" };

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
	now = vs_live__now_us(l);
	if (l->o.idle)
		l->o.idle(l->o.ctx, now);
}

static uint64_t mono_to_us(const struct vs_live *l, uint64_t ns)
{
	return (uint64_t)((int64_t)ns + l->mono_to_real_ns) / 1000;
}

static int deliver(struct vs_live *l, uint64_t ts_ns, const uint8_t *data,
		   uint32_t caplen, uint32_t origlen, int dir)
{
	struct vs_frame f = {
		.data = data,
		.caplen = caplen,
		.origlen = origlen,
		.ts_us = mono_to_us(l, ts_ns),
		.linktype = DLT_EN10MB,
		.id_sensor = l->o.conf->id_sensor,
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
	return deliver(ctx, h->ts_ns, frame, h->caplen, h->origlen, h->dir);
}

static int on_xsk(void *ctx, uint64_t ts_ns, const uint8_t *data,
		  uint32_t len)
{
	return deliver(ctx, ts_ns, data, len, len, VS_DIR_IN);
}

/* Loads the programs and opens the readers of the mode. -errno. */
static int open_bpf(struct vs_live *l)
{
	struct vs_xdp_opts xo = {
		.conf = l->o.conf,
		.ifindex = l->ifindex,
		.n_if = l->n_if,
		.afxdp = l->mode == VS_CAPTURE_AFXDP,
	};
	int fds[VS_RING_SET_MAX];

	if (xo.afxdp && l->n_if != 1) {
		vs_err("capture_mode = afxdp takes one interface, not %d",
		       l->n_if);
		return -EINVAL;
	}
	l->xdp = vs_xdp__open(&xo);
	if (!l->xdp)
		return -errno;
	if (xo.afxdp) {
		l->xsk = vs_afxdp__open(l->ifindex[0], vs_xdp__xsks_fd(l->xdp));
		return l->xsk ? 0 : -errno;
	}
	for (int i = 0; i < vs_xdp__nrings(l->xdp); i++)
		fds[i] = vs_xdp__ring_fd(l->xdp, i);
	l->rings = vs_ring_set__new(fds, vs_xdp__nrings(l->xdp),
				    VS_RING_BYTES);
	return l->rings ? 0 : -errno;
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
	int n;

	while (!*l->o.stop) {
		n = vs_afxdp__poll(l->xsk, WAIT_MS, on_xsk, l);
		if (n < 0 && n != -EINTR)
			return n;
		vs_live__maybe_idle(l);
		if (n > 0 && n < XSK_GATHER_BELOW) {
			struct timespec ts = { 0, XSK_GATHER_US * 1000 };

			nanosleep(&ts, NULL);
		}
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
