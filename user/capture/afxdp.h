/* SPDX-License-Identifier: GPL-2.0-or-later */
/* capture/afxdp: AF_XDP sockets for capture_mode = afxdp, one per RX queue
 * of every interface, registered in the program's XSKMAP at the slot that
 * xsk_slots gives the interface (so queue 0 of eth0 and queue 0 of eth1
 * do not collide). Zero-copy where the driver supports it, copy mode
 * otherwise. The reader merges the sockets' frames by timestamp. */
#ifndef VS_CAPTURE_AFXDP_H
#define VS_CAPTURE_AFXDP_H

#include <stdint.h>
#include <stdio.h>

#include "vs_kern_user.h"

struct vs_afxdp;

struct vs_afxdp_opts {
	const int *ifindex; /* interfaces, at most VS_XSK_IF_MAX */
	int n_if;
	int xsks_fd;	 /* the program's XSKMAP */
	int slots_fd;	 /* its xsk_slots map (ifindex -> first slot) */
	int ifs_fd;	 /* its xsk_ifs array (the same, direct-mapped) */
	int fill_fd;	 /* its xsk_fill array (frames waiting per socket) */
	int bell_fd;	 /* its xsk_bell ring buffer */
	uint32_t frames; /* UMEM frames per RX queue, a power of two */
	/* Called with the program's hint (struct vs_xsk_meta) of RTP/RTCP
	 * frames a few frames before they are handed on, at stages 0 and 1
	 * as capture/ring.h's; optional. */
	void (*ahead)(void *ctx, int stage, uint32_t hint);
	void *ahead_ctx;
};

/* One received frame: len bytes of it at data, origlen on the wire (more
 * when the program cut an RTP frame after its header); ts_ns is
 * CLOCK_MONOTONIC (from the XDP metadata, or read at receive when the
 * driver kept none). */
typedef int (*vs_afxdp_fn)(void *ctx, uint64_t ts_ns, int ifindex,
			   const uint8_t *data, uint32_t len,
			   uint32_t origlen);

/* Sockets on every RX queue of every interface. NULL with errno, cause
 * logged. */
struct vs_afxdp *vs_afxdp__open(const struct vs_afxdp_opts *o);
void vs_afxdp__close(struct vs_afxdp *a);

/* Delivers what has arrived, oldest first across the sockets, without
 * waiting (at most a few thousand frames per socket). Count delivered, or
 * the first non-zero fn result. */
int vs_afxdp__drain(struct vs_afxdp *a, vs_afxdp_fn fn, void *ctx);
/* Sleeps until the program rings the doorbell (SIP, fragments, a quarter
 * of an RX ring waiting: struct vs_xsk_fill) or timeout_ms passed, so that
 * RTP gathers in the RX rings instead of waking the reader for each frame;
 * after a ring, the next wait watches the sockets for up to 1 ms (the
 * frame that rang is queued at the end of the kernel's poll, maybe after
 * the wakeup). 0 or -errno. */
int vs_afxdp__wait(struct vs_afxdp *a, int timeout_ms);

/* "afxdp.* N" lines: frames, ring drops, invalid descriptors. */
void vs_afxdp__print_stats(const struct vs_afxdp *a, FILE *out);
/* Frames the sockets lost (rx_dropped + rx_ring_full), all queues. */
uint64_t vs_afxdp__lost(const struct vs_afxdp *a);

#endif
