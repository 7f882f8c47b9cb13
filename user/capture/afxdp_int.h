/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to capture/afxdp*.c. */
#ifndef VS_CAPTURE_AFXDP_INT_H
#define VS_CAPTURE_AFXDP_INT_H

#include <bpf/libbpf.h>
#include <xdp/xsk.h>

#include "capture/afxdp.h"

/* One AF_XDP socket and its UMEM: an RX queue of an interface. */
struct vs_xsk {
	struct xsk_umem *umem;
	struct xsk_socket *sock;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx; /* unused, required by the API */
	uint8_t *buf;
	uint32_t nframes; /* UMEM chunks, = fill and RX ring sizes */
	uint32_t chunk;	  /* bytes per chunk: 2048 or 4096 */
	int ifindex;
	int zerocopy;
	uint32_t slot;	  /* its xsks key and xsk_fill index */
};

struct vs_afxdp {
	int n;		  /* sockets open */
	uint64_t frames;
	uint64_t no_meta; /* frames timestamped in userspace */
	uint64_t wakeups; /* fill-ring kicks (need_wakeup) */
	uint64_t bells;	  /* doorbell rings consumed */
	uint64_t fill_bells; /* of them, for an RX ring's fill level */
	struct vs_xsk_fill *fill; /* the xsk_fill array, mmapped */
	struct ring_buffer *bell; /* the program's xsk_bell */
	int rang;	  /* the last wait ended on a ring */
	void (*ahead)(void *ctx, int stage, uint32_t hint);
	void *ahead_ctx;
	struct vs_xsk q[VS_XSK_MAX];
};

#endif
