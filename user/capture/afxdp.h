/* SPDX-License-Identifier: GPL-2.0-or-later */
/* capture/afxdp: AF_XDP sockets for capture_mode = afxdp, one per RX queue
 * of the interface, registered in the program's XSKMAP (key: queue id).
 * Zero-copy where the driver supports it, copy mode otherwise. */
#ifndef VS_CAPTURE_AFXDP_H
#define VS_CAPTURE_AFXDP_H

#include <stdint.h>
#include <stdio.h>

#include "vs_kern_user.h"

struct vs_afxdp;

/* One received frame; ts_ns is CLOCK_MONOTONIC (from the XDP metadata, or
 * read at receive when the driver kept none). */
typedef int (*vs_afxdp_fn)(void *ctx, uint64_t ts_ns, const uint8_t *data,
			   uint32_t len);

/* Sockets on every RX queue of ifindex, inserted into xsks_fd. NULL with
 * errno, cause logged. */
struct vs_afxdp *vs_afxdp__open(int ifindex, int xsks_fd);
void vs_afxdp__close(struct vs_afxdp *a);

/* Waits up to timeout_ms, then delivers what arrived. Count delivered, or
 * the first non-zero fn result, or -errno. */
int vs_afxdp__poll(struct vs_afxdp *a, int timeout_ms, vs_afxdp_fn fn,
		   void *ctx);

/* "afxdp.* N" lines: frames, ring drops, invalid descriptors. */
void vs_afxdp__print_stats(const struct vs_afxdp *a, FILE *out);

#endif
