/* SPDX-License-Identifier: GPL-2.0-or-later */
/* role/mirror internals: the batcher (mirror_batch.c, capture thread), the
 * role object (mirror.c) and the sender thread (mirror_conn.c). */
#ifndef VS_MIRROR_INT_H
#define VS_MIRROR_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "channel/channel.h"
#include "role/mirror.h"
#include "role/pktbuf.h"

#define VS_MIRROR_BATCH_BYTES (64u << 10) /* close a batch at this size */
#define VS_MIRROR_BATCH_US 50000	  /* ... or this much packet time */
#define VS_MIRROR_BATCH_MS 50		  /* ... or this much wall time */
#define VS_MIRROR_IDLE_MS 200		  /* an empty batch at least this
					   * often */
#define VS_MIRROR_WM_LAG_US 100000	  /* live: frames still on their
					   * way through the rings */
#define VS_MIRROR_WINDOW 1024		  /* batches sent, not acked */

#define VS_MIRROR_BATCH_STATS(X)                                             \
	X(frames)         /* handed to the mirror */                        \
	X(bytes_raw)      /* their captured bytes */                        \
	X(batches)        /* closed and buffered (empty ones included) */   \
	X(empty_batches)  /* watermark only */                              \
	X(dropped_batches)/* the buffer was full */                         \
	X(frame_errors)   /* a frame the batch format refused */

struct vs_mirror_batch_stats {
#define VS_X(n) uint64_t n;
	VS_MIRROR_BATCH_STATS(VS_X)
#undef VS_X
};

/* The open batch. Only the capture thread touches it. */
struct vs_mirror_batch {
	struct vs_pktbuf *pb;
	uint16_t id_sensor;
	int live;		/* idle watermarks from the wall clock */
	int wait_full_ms;
	struct vs_buf buf;	/* the PACKETS payload being built */
	uint32_t nframes;	/* in buf; buf empty (len 0) = none open */
	uint64_t open_pkt_us;	/* first frame's time */
	uint64_t open_ms;	/* monotonic ms when it opened */
	uint64_t last_close_ms;	/* monotonic ms of the last batch closed */
	uint64_t last_ts_us;	/* newest frame time seen */
	uint64_t wm_us;		/* last watermark sent (never decreases) */
	void (*on_push)(void *arg); /* a batch was buffered */
	void *arg;
	struct vs_mirror_batch_stats st;
};

/* mirror_batch.c: now_ms is CLOCK_MONOTONIC in ms (tests pass their own). */
void vs_mirror_batch__init(struct vs_mirror_batch *b, struct vs_pktbuf *pb,
			   uint16_t id_sensor);
void vs_mirror_batch__fini(struct vs_mirror_batch *b);
int vs_mirror_batch__frame(struct vs_mirror_batch *b, const struct vs_frame *f,
			   uint64_t now_ms);
/* wall_us: the wall clock (live) for the idle watermark. */
void vs_mirror_batch__tick(struct vs_mirror_batch *b, uint64_t now_ms,
			   uint64_t wall_us);
/* Closes the open batch (end of input): watermark just past the newest
 * frame, every frame is in. */
void vs_mirror_batch__flush(struct vs_mirror_batch *b, uint64_t now_ms);

struct vs_mirror {
	struct vs_mirror_opts o;
	const struct vs_conf *conf;
	struct vs_pktbuf *pb;
	struct vs_chan_ctx *ctx;
	struct vs_mirror_batch batch;	/* capture thread */
	int wake_fd;			/* eventfd: new batch, or stop */
	atomic_int stop;
	pthread_t th;
	int th_started;
	int finished;
	/* sender thread; read by others only after it is joined, or as
	 * atomics */
	atomic_ullong sent, resent, bytes_wire, connects, acks;
	uint64_t hi_sent;		/* highest sequence ever sent */
};

void *vs_mirror__thread(void *arg);

#endif
