/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to capture/live*.c and afxdp*.c. */
#ifndef VS_CAPTURE_LIVE_INT_H
#define VS_CAPTURE_LIVE_INT_H

#include <pcap/pcap.h>

#include "capture/afxdp.h"
#include "capture/live.h"
#include "capture/ring.h"
#include "capture/xdp.h"

#define VS_LIVE_STATS(X)                                                       \
	X(frames)	  /* frames handed to the pipeline */                  \
	X(bytes)	  /* their captured bytes */                           \
	X(frames_in)	  /* of which seen on receive */                       \
	X(frames_out)	  /* of which seen on egress (copy mode) */            \
	X(pcap_drops)	  /* libpcap: dropped by the kernel (ps_drop) */       \
	X(pcap_ifdrops)	  /* libpcap: dropped by the interface */

struct vs_live_stats {
#define VS_X(n) uint64_t n;
	VS_LIVE_STATS(VS_X)
#undef VS_X
};

struct vs_live {
	struct vs_live_opts o;
	enum vs_capture_mode mode; /* the mode running (after fallback) */
	int n_if;
	int ifindex[VS_XDP_MAX_IF];
	struct vs_xdp *xdp;	   /* copy and afxdp */
	struct vs_ring_set *rings; /* copy */
	struct vs_afxdp *xsk;	   /* afxdp */
	pcap_t *pcap[VS_XDP_MAX_IF]; /* pcap */
	pcap_t *pcap_cur;	   /* the handle being dispatched */
	int pcap_cur_if;	   /* its ifindex */
	int promisc;		   /* promiscuous mode wanted (dedicated) */
	int promisc_fd[VS_XDP_MAX_IF]; /* packet sockets holding it, or -1 */
	int64_t mono_to_real_ns;   /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	uint64_t last_idle_us;
	struct vs_live_stats st;
	struct vs_live_snap {	   /* totals at the last status line */
		uint64_t mono_us, frames, seen, delivered, lost;
	} snap;
};

int vs_live__open_pcap(struct vs_live *l);
int vs_live__run_pcap(struct vs_live *l);
void vs_live__close_pcap(struct vs_live *l);
void vs_live__pcap_stats(struct vs_live *l);

/* Promiscuous mode on ifindex for as long as the returned packet socket
 * is open (the kernel takes it back when it closes, crash included).
 * The fd, or -errno (logged). */
int vs_live__promisc_on(int ifindex);

/* Wall clock in µs; refreshes mono_to_real_ns. */
uint64_t vs_live__now_us(struct vs_live *l);
/* Logs the status line (live_status.c) when status_interval seconds
 * passed since the last one; mono_us is CLOCK_MONOTONIC. */
void vs_live__status(struct vs_live *l, uint64_t mono_us);
/* Calls the idle hook when 100 ms passed since the last call. */
void vs_live__maybe_idle(struct vs_live *l);

#endif
