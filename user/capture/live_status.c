// SPDX-License-Identifier: GPL-2.0-or-later
/* capture/live_status: one log line every status_interval seconds while
 * capturing: what reached the analysis, what the kernel saw and passed,
 * and what the sensor itself lost, so that an admin tells capture loss
 * from network loss without stopping the sensor (--stats prints it all
 * at exit). A line with loss is a warning and says what to raise. */
#include <inttypes.h>

#include "capture/afxdp.h"
#include "capture/live_int.h"
#include "capture/xdp.h"
#include "core/log.h"

/* Totals now: kernel verdicts of both directions, and every frame lost
 * on the way to us (ring full or no socket, AF_XDP rings, libpcap). */
static void totals(struct vs_live *l, struct vs_live_snap *t)
{
	struct vs_kcounters k;

	t->frames = l->st.frames;
	t->seen = t->delivered = t->lost = 0;
	for (int d = 0; l->xdp && d < VS_DIR__MAX; d++) {
		if (vs_xdp__counters(l->xdp, (enum vs_kdir)d, &k))
			continue;
		t->seen += k.c[VS_KCNT_seen];
		t->delivered += k.c[VS_KCNT_delivered];
		t->lost += k.c[VS_KCNT_delivery_failed];
	}
	if (l->xsk)
		t->lost += vs_afxdp__lost(l->xsk);
	if (l->mode == VS_CAPTURE_PCAP) {
		vs_live__pcap_stats(l);
		t->lost += l->st.pcap_drops + l->st.pcap_ifdrops;
	}
}

static const char *raise_what(const struct vs_live *l)
{
	if (l->mode == VS_CAPTURE_COPY)
		return "raise ringbuffer, or check the sensor's CPU";
	if (l->mode == VS_CAPTURE_AFXDP)
		return "the reader falls behind: check the sensor's CPU";
	return "raise ringbuffer (the libpcap buffer), or check the CPU";
}

void vs_live__status(struct vs_live *l, uint64_t mono_us)
{
	uint64_t every = (uint64_t)l->o.conf->cap.status_s * 1000000;
	struct vs_live_snap t, *p = &l->snap;
	double s;

	if (!every)
		return;
	if (!p->mono_us) { /* the first call starts the first period */
		totals(l, p);
		p->mono_us = mono_us;
		return;
	}
	if (mono_us - p->mono_us < every)
		return;
	totals(l, &t);
	s = (double)(mono_us - p->mono_us) / 1e6;
	if (l->xdp)
		vs_info("capture: last %.0f s: %" PRIu64 " frames to analysis "
			"(%.0f/s); kernel saw %" PRIu64 " (%.0f/s), passed "
			"%" PRIu64 "; lost %" PRIu64, s, t.frames - p->frames,
			(double)(t.frames - p->frames) / s, t.seen - p->seen,
			(double)(t.seen - p->seen) / s,
			t.delivered - p->delivered, t.lost - p->lost);
	else
		vs_info("capture: last %.0f s: %" PRIu64 " frames to analysis "
			"(%.0f/s); lost %" PRIu64 " (libpcap)", s,
			t.frames - p->frames,
			(double)(t.frames - p->frames) / s, t.lost - p->lost);
	if (t.lost > p->lost)
		vs_warn("capture: %" PRIu64 " frames LOST by the sensor in "
			"the last %.0f s (%" PRIu64 " since start): %s",
			t.lost - p->lost, s, t.lost, raise_what(l));
	t.mono_us = mono_us;
	*p = t;
}
