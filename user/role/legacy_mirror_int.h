/* SPDX-License-Identifier: GPL-2.0-or-later */
/* role/legacy_mirror: the sender's queue and connection thread, shared by
 * legacy_mirror_send.c (capture side) and legacy_mirror_conn.c. */
#ifndef VS_LEGACY_MIRROR_INT_H
#define VS_LEGACY_MIRROR_INT_H

#include <stdio.h>

#include "capture/frame.h"
#include "conf/conf.h"

#define VS_LM_SEND_STATS(X)                                                    \
	X(frames_queued)  /* frames handed to the queue */                     \
	X(frames_sent)    /* written to a connection */                        \
	X(frames_dropped) /* queue full (packetbuffer_total_maxheap) */        \
	X(frames_lost)    /* in a batch whose write failed (conn lost) */      \
	X(bytes_raw)      /* records before compression */                     \
	X(bytes_wire)     /* bytes written, hello included */                  \
	X(connects)       /* connections made */

struct vs_lm_send_stats {
#define VS_X(n) uint64_t n;
	VS_LM_SEND_STATS(VS_X)
#undef VS_X
};

struct vs_lm_send;

/* Starts the connection thread (connects to mirror_destination_ip:port,
 * reconnects with back-off). NULL + errno (logged). */
struct vs_lm_send *vs_lm_send__open(const struct vs_conf *c);
/* Capture thread: appends f to the batch being filled; a full batch
 * (64 KiB) goes to the queue. 0 (frames beyond the queue's bound are
 * dropped and counted). */
int vs_lm_send__frame(struct vs_lm_send *s, const struct vs_frame *f);
/* Capture thread: queues the batch being filled now (idle ticks). */
void vs_lm_send__push(struct vs_lm_send *s);
/* Queues the last batch, waits up to drain_ms until everything queued is
 * written, stops the thread, logs the totals (and prints "legacy.* N"
 * lines to stats when not NULL), frees. 0 when every frame was written,
 * -EIO when some were dropped or lost. */
int vs_lm_send__close(struct vs_lm_send *s, unsigned drain_ms, FILE *stats);

#endif
