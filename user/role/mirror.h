/* SPDX-License-Identifier: GPL-2.0-or-later */
/* role/mirror: the packet-mirroring sensor (packetbuffer_sender = yes,
 * docs/distributed.md). The capture thread hands every frame to
 * vs_mirror__frame, which appends it to the open PACKETS batch; batches
 * close at 64 KiB or after 50 ms (packet or wall time) and go to the
 * packet buffer (role/pktbuf.h); a thread of their own sends them to the
 * server and frees them when the server acknowledges them. The capture
 * thread never waits for the network. */
#ifndef VS_MIRROR_H
#define VS_MIRROR_H

#include <stdint.h>
#include <stdio.h>

#include "capture/frame.h"
#include "conf/conf.h"

struct vs_mirror;

struct vs_mirror_opts {
	const struct vs_conf *conf;
	unsigned drain_ms;  /* close waits this long for the acks [0] */
	int wait_full_ms;   /* buffer full: the producer waits this long
			     * before dropping (-r: the file can wait; live:
			     * 0, capture must not stall) */
	int live;           /* watermarks from the wall clock (idle ticks) */
};

/* Starts the sender thread. NULL + errno (logged). */
struct vs_mirror *vs_mirror__open(const struct vs_mirror_opts *o);

/* A vs_frame_fn: appends f to the open batch. Always 0 (a full buffer
 * drops and counts, it does not stop the capture). */
int vs_mirror__frame(void *ctx, const struct vs_frame *f);

/* Wall clock (live idle tick, about every 100 ms): closes a batch open for
 * 50 ms, and sends an empty batch with the watermark when nothing was sent
 * for 200 ms, so that the server can merge its sensors by time. */
void vs_mirror__tick(struct vs_mirror *m, uint64_t now_us);

/* End of the run: closes the open batch, waits up to drain_ms until the
 * server has acknowledged every batch, stops the thread, logs the totals.
 * What is not acknowledged by then is lost (packets are not kept across
 * runs). The counters stay readable until close. */
void vs_mirror__finish(struct vs_mirror *m);
/* finish if not done, then frees. NULL is fine. */
void vs_mirror__close(struct vs_mirror *m);

/* "mirror.* N" and "packetbuffer.* N" lines. */
void vs_mirror__print_stats(struct vs_mirror *m, FILE *out);

#endif
