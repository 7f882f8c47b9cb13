/* SPDX-License-Identifier: GPL-2.0-or-later */
/* capture/xdp: the kernel side of live capture. Loads bpf/voxsense.bpf.c,
 * fills its maps from the configuration (sipport, interface_ip_filter),
 * pins maps and programs under /sys/fs/bpf/voxsense/, attaches XDP (and,
 * in copy mode, TC clsact egress) to the interfaces, and detaches cleanly.
 * A run that crashed leaves pins and attachments behind: they are found at
 * open and replaced, never duplicated. */
#ifndef VS_CAPTURE_XDP_H
#define VS_CAPTURE_XDP_H

#include <stdint.h>
#include <stdio.h>

#include "conf/conf.h"
#include "core/addr.h"
#include "vs_kern_user.h"

#define VS_XDP_MAX_IF 32

struct vs_xdp_opts {
	const struct vs_conf *conf;
	const int *ifindex; /* interfaces to attach to */
	int n_if;
	int afxdp;	    /* 1: redirect to AF_XDP, no TC; 0: copy mode */
	uint32_t snaplen;   /* 0 = VS_SNAP_DEFAULT */
	int rtp_head;	    /* 1: copy RTP only through its header (and
			     * VS_RTP_KEEP bytes): nothing needs the audio */
	uint32_t ring_bytes; /* per-CPU ring (copy): a power of two, a page
			      * multiple; 0 = VS_RING_BYTES */
	const char *pin_dir; /* NULL = VS_PIN_DIR */
};

struct vs_xdp;

/* Loads, fills, pins and attaches. NULL with errno set, the cause logged
 * once (EPERM: no CAP_BPF/CAP_NET_ADMIN; EBUSY: another XDP program is
 * attached). */
struct vs_xdp *vs_xdp__open(const struct vs_xdp_opts *o);
/* Detaches from every interface, removes the pins, frees. NULL is fine. */
void vs_xdp__close(struct vs_xdp *x);

/* Ring buffer fds (one per CPU, copy mode) and the XSKMAP fd (afxdp). */
int vs_xdp__nrings(const struct vs_xdp *x);
int vs_xdp__ring_fd(const struct vs_xdp *x, int i);
int vs_xdp__xsks_fd(const struct vs_xdp *x);
/* afxdp: the ifindex -> struct vs_xsk_slot map, and its direct-mapped
 * front, the xsk_ifs array (struct vs_xsk_if). */
int vs_xdp__xsk_slots_fd(const struct vs_xdp *x);
int vs_xdp__xsk_ifs_fd(const struct vs_xdp *x);
/* afxdp: the xsk_fill array (struct vs_xsk_fill). */
int vs_xdp__xsk_fill_fd(const struct vs_xdp *x);
/* afxdp: the xsk_bell ring buffer (VS_XSK_BELL_BYTES). */
int vs_xdp__xsk_bell_fd(const struct vs_xdp *x);
/* Bytes of each ring buffer. */
uint32_t vs_xdp__ring_bytes(const struct vs_xdp *x);

/* How XDP went onto ifindex, for the log: "native XDP", "generic XDP
 * (native refused: REASON)", or "no XDP" when it is not ours. Writes buf. */
const char *vs_xdp__if_mode(const struct vs_xdp *x, int ifindex, char *buf,
			    size_t len);

/* A live RTP/RTCP endpoint (add = 1) or a dead one (add = 0): the
 * vs_media_fn of the call table. Failures are counted, not fatal. */
void vs_xdp__media(void *x, const struct vs_endpoint *ep, int add);

/* Tunnel carriers the kernel passes whole for userspace to decapsulate:
 * a UDP port (both directions) or an IP protocol (GRE 47, IPIP 4, ...),
 * on = 1 to pass, 0 to stop. Hooks for the tunnels work: nothing sets
 * them from the config yet. 0 or -errno. */
int vs_xdp__tun_port(struct vs_xdp *x, uint16_t port, int on);
int vs_xdp__tun_proto(struct vs_xdp *x, uint8_t proto, int on);

/* Sums one direction's per-CPU counters. 0 or -errno. */
int vs_xdp__counters(const struct vs_xdp *x, enum vs_kdir dir,
		     struct vs_kcounters *out);
/* "kernel.in.sip 12" lines, both directions, plus map errors. */
void vs_xdp__print_stats(const struct vs_xdp *x, FILE *out);

#endif
