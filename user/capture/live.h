/* SPDX-License-Identifier: GPL-2.0-or-later */
/* capture/live: the live capture source. Opens the interfaces of the
 * `interface` key in the mode of `capture_mode` (copy: XDP + TC egress
 * into per-CPU ring buffers; afxdp: XDP redirect into AF_XDP sockets;
 * pcap: libpcap), falls back to libpcap with one log line saying why when
 * the BPF programs cannot be loaded, and feeds every frame to a
 * vs_frame_fn in time order until asked to stop. */
#ifndef VS_CAPTURE_LIVE_H
#define VS_CAPTURE_LIVE_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "capture/frame.h"
#include "conf/conf.h"
#include "core/addr.h"

struct vs_live_opts {
	const struct vs_conf *conf;
	vs_frame_fn fn;	/* every captured frame */
	void *ctx;
	/* Called about every 100 ms with the wall clock in µs, so that calls
	 * time out when the line goes quiet. Optional. */
	void (*idle)(void *ctx, uint64_t now_us);
	/* Copy mode: called with the kernel's hint (struct vs_ring_hdr) of
	 * RTP/RTCP frames waiting in the ring, records before they are
	 * delivered, at stages 0 and 1 (capture/ring.h). Optional. */
	void (*ahead)(void *ctx, int stage, uint32_t hint);
	/* Copy mode: RTP of live calls may come cut after its header (struct
	 * vs_datagram's cut): set by a consumer that analyses calls and saves
	 * no audio. A mirror must leave it 0: its server saves what it got. */
	int rtp_head;
	volatile sig_atomic_t *stop; /* run returns once *stop is set */
};

struct vs_live;

/* Attaches and starts capturing. NULL with errno set, cause logged. */
struct vs_live *vs_live__open(const struct vs_live_opts *o);
/* Delivers frames until *stop, then what is still queued. 0 or the
 * negative errno that ended it. */
int vs_live__run(struct vs_live *l);
/* Detaches (kernel programs, pins, sockets) and frees. NULL is fine. */
void vs_live__close(struct vs_live *l);

/* The call table's vs_media_fn: keeps the kernel RTP flow table in step
 * with SDP. A no-op in pcap mode. */
void vs_live__media(void *l, const struct vs_endpoint *ep, int add);

/* "capture.* N" and "kernel.* N" lines. */
void vs_live__print_stats(const struct vs_live *l, FILE *out);

/* Interface list of the `interface` key: "eth0", "eth0,eth1" or "any"
 * (every interface that is up, loopback excluded). 0 or -errno (logged);
 * *n is set to the count. */
int vs_live__interfaces(const char *spec, int *ifindex, int max, int *n);

/* The libpcap filter the fallback runs in the kernel: sipport ports,
 * anything that looks like RTP/RTCP version 2, IP fragments; VLAN-tagged
 * or not. Returns a malloc'd string or NULL. */
char *vs_live__pcap_filter(const struct vs_conf *c);

#endif
