/* SPDX-License-Identifier: GPL-2.0-or-later */
/* role/reorder: the central server's time merge of several mirroring
 * sensors (docs/distributed.md, "Packet mirroring: central server").
 *
 * Each sensor's frames arrive in batches, in its capture order, each batch
 * closing with a watermark (the sensor's clock: every frame before it has
 * been sent). Frames from different sensors arrive interleaved in any
 * order and late by the network's and the batches' delay, but the call
 * table needs one stream in time order: the SIP from one probe before the
 * RTP it announces, seen by another. So frames are copied in here and
 * released to `out` in timestamp order once no live sensor can still send
 * an earlier one:
 *
 *   ts <= min(watermark of every live sensor)        normal case
 *   ts <= newest watermark - hold_us                 a stalled sensor
 *                                                    holds the rest at
 *                                                    most hold_us
 *   ts <= floor (vs_reorder__release's argument)      the caller's bound
 *   the buffer is full                                oldest first
 *
 * A frame older than what was already released is still delivered (at
 * once, out of order) and counted as late. Memory is bounded by max_bytes
 * and max_frames. One thread. */
#ifndef VS_REORDER_H
#define VS_REORDER_H

#include <stddef.h>
#include <stdint.h>

#include "capture/frame.h"

struct vs_reorder_opts {
	size_t max_bytes;	/* frame bytes held [64 MiB] */
	uint32_t max_frames;	/* frames held [1 << 20] */
	uint64_t hold_us;	/* longest wait for a stalled sensor [2 s] */
	vs_frame_fn out;	/* gets every frame once, in time order */
	void *ctx;
};

#define VS_REORDER_STATS(X)                                                   \
	X(frames_in)                                                          \
	X(frames_out)                                                         \
	X(overflow)	/* released early: max_bytes or max_frames reached */ \
	X(late)		/* arrived after later frames had been released */    \
	X(held_by_hold)	/* released by the hold, not the watermarks */        \
	X(peak_bytes)                                                         \
	X(peak_frames)

struct vs_reorder_stats {
#define VS_X(n) uint64_t n;
	VS_REORDER_STATS(VS_X)
#undef VS_X
};

struct vs_reorder;

/* NULL + errno (ENOMEM, EINVAL without out). */
struct vs_reorder *vs_reorder__new(const struct vs_reorder_opts *o);
/* Frees what is held without releasing it (vs_reorder__drain first). */
void vs_reorder__free(struct vs_reorder *r);

/* A sensor joins the live set (its connection is up). It holds the others
 * back from its first watermark on; before that it cannot say how far it
 * has got. 0 or -ENOMEM. */
int vs_reorder__sensor_up(struct vs_reorder *r, uint16_t id);
/* Its connection is gone: it no longer holds the others back. */
void vs_reorder__sensor_down(struct vs_reorder *r, uint16_t id);
/* A batch of sensor id closed at wm_us (ignored when it goes backwards). */
void vs_reorder__watermark(struct vs_reorder *r, uint16_t id, uint64_t wm_us);

/* Copies f in. Returns 0, 1 when f is late (older than a frame already
 * released; it goes out with the next release), or -ENOMEM. A full buffer
 * first releases its oldest frames (counted in overflow). */
int vs_reorder__push(struct vs_reorder *r, const struct vs_frame *f);

/* Releases every frame that is due (above) with floor_us as an extra
 * bound (0 = none) and returns the time up to which the output is complete
 * (the pipeline's clock), or 0 when nothing is known yet. With no live
 * sensor with a watermark, everything up to the newest watermark is due. */
uint64_t vs_reorder__release(struct vs_reorder *r, uint64_t floor_us);
/* Releases everything (shutdown). */
void vs_reorder__drain(struct vs_reorder *r);

/* Frames and bytes held now. */
size_t vs_reorder__held(const struct vs_reorder *r, size_t *bytes);
void vs_reorder__stats(const struct vs_reorder *r, struct vs_reorder_stats *st);

#endif
