/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to capture/xdp*.c. */
#ifndef VS_CAPTURE_XDP_INT_H
#define VS_CAPTURE_XDP_INT_H

#include <limits.h>

#include "capture/xdp.h"
#include "voxsense.skel.h"

#define VS_XDP_MAX_RINGS 256

/* TC filter identity: a fixed handle and priority make a second attach
 * (after a crash) replace the first instead of adding to it. */
#define VS_TC_HANDLE 0x7673 /* "vs" */
#define VS_TC_PRIO 0x7673

struct vs_xdp_if {
	int ifindex;
	uint32_t xdp_flags; /* mode attached with; 0 = not attached */
	int native_err;	    /* why native mode was refused (-errno) */
	int tc_on;	    /* egress filter attached (clsact) */
	int tc_made_hook;   /* we created the clsact qdisc */
	int tcx_fd;	    /* egress link (tcx); -1 = none */
	int tcx_err;	    /* why tcx was refused (-errno), clsact used */
};

struct vs_xdp {
	struct voxsense *skel;
	char pin_dir[PATH_MAX];
	int afxdp;
	enum vs_tc_egress tc_egress;
	int nrings;
	uint32_t ring_bytes;
	int ring_fds[VS_XDP_MAX_RINGS];
	int n_if;
	struct vs_xdp_if ifs[VS_XDP_MAX_IF];
	/* ifindexes whose clsact a crashed run made (its pinned tc_made) */
	int n_stale_tc;
	int stale_tc[VS_XDP_MAX_IF];
	uint64_t media_errors; /* media map updates refused (full, ...) */
	uint64_t media_live;   /* endpoints in the media map now */
	/* media_ports: its value mmapped (8 KiB), and per port (host order)
	 * the number of endpoints in `media` with that port; the bit is set
	 * while the count is not 0. */
	uint8_t *media_bits;
	uint32_t port_refs[65536];
	/* media_one mmapped: per port, one IPv4 endpoint's address (network
	 * order) or zero. */
	uint32_t *media_one;
	/* port_sum mmapped, and per 1024-port range the number of ports
	 * whose media bit is set (the range's summary bit while not 0). */
	struct vs_port_sum *port_sum;
	uint32_t range_refs[64];
};

int vs_xdp__fill_maps(struct vs_xdp *x, const struct vs_xdp_opts *o);
int vs_xdp__attach_all(struct vs_xdp *x, const int *ifindex, int n);
void vs_xdp__detach_all(struct vs_xdp *x);
int vs_xdp__pin(struct vs_xdp *x);
void vs_xdp__unpin(const char *dir);
void vs_xdp__unmap_media(struct vs_xdp *x);

#endif
