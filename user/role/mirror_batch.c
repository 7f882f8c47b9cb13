// SPDX-License-Identifier: GPL-2.0-or-later
/* role/mirror: the batcher. Frames are appended to one PACKETS payload in a
 * reused buffer; the batch closes at VS_MIRROR_BATCH_BYTES, when a frame
 * comes VS_MIRROR_BATCH_US of packet time after the batch's first, or after
 * VS_MIRROR_BATCH_MS of wall time; with nothing to send for
 * VS_MIRROR_IDLE_MS an empty batch carries the watermark alone.
 *
 * The watermark promises the server that every frame captured before it is
 * in this batch or an earlier one. Frames arrive in time order, so a batch
 * closed by frame f gets f's time (f and its successors are not before
 * it); a batch closed by the clock gets its newest frame's time, live at
 * least the wall clock minus VS_MIRROR_WM_LAG_US (what the rings may still
 * hold). It never goes back. */
#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "role/mirror_int.h"

void vs_mirror_batch__init(struct vs_mirror_batch *b, struct vs_pktbuf *pb,
			   uint16_t id_sensor)
{
	*b = (struct vs_mirror_batch){ .pb = pb, .id_sensor = id_sensor };
}

void vs_mirror_batch__fini(struct vs_mirror_batch *b)
{
	vs_buf__free(&b->buf);
}

static int batch_open(struct vs_mirror_batch *b, uint64_t now_ms)
{
	int err = vs_chan_packets__begin(&b->buf, b->id_sensor,
					 vs_pktbuf__next_seq(b->pb));

	b->nframes = 0;
	b->open_ms = now_ms;
	if (err)
		b->buf.len = 0;
	return err;
}

static void batch_close(struct vs_mirror_batch *b, uint64_t wm_us,
			uint64_t now_ms)
{
	if (!b->buf.len)
		return;
	if (wm_us > b->wm_us)
		b->wm_us = wm_us;
	vs_chan_packets__close(&b->buf, b->wm_us);
	if (vs_pktbuf__push(b->pb, b->buf.p, b->buf.len, b->nframes,
			    b->wait_full_ms)) {
		b->st.dropped_batches++;
	} else {
		b->st.batches++;
		b->st.empty_batches += !b->nframes;
		if (b->on_push)
			b->on_push(b->arg);
	}
	b->buf.len = 0;
	b->nframes = 0;
	b->last_close_ms = now_ms;
}

int vs_mirror_batch__frame(struct vs_mirror_batch *b, const struct vs_frame *f,
			   uint64_t now_ms)
{
	int err;

	b->st.frames++;
	b->st.bytes_raw += f->caplen;
	if (b->buf.len && (f->ts_us >= b->open_pkt_us + VS_MIRROR_BATCH_US ||
			   now_ms >= b->open_ms + VS_MIRROR_BATCH_MS))
		batch_close(b, f->ts_us, now_ms);
	if (!b->buf.len && batch_open(b, now_ms))
		return 0;
	if (!b->nframes)
		b->open_pkt_us = f->ts_us;
	/* The wire has 16 bits for the interface: a larger index (never
	 * seen in practice) goes as 0, "unknown". */
	err = vs_chan_packets__add(&b->buf, f,
				   f->ifindex > UINT16_MAX ? 0 :
				   (uint16_t)f->ifindex,
				   VS_CHAN_MAX_FRAME_DEFAULT);
	if (err) {
		if (b->st.frame_errors++ == 0)
			vs_warn("mirror: frame of %u bytes not mirrored: %s",
				f->caplen, strerror(-err));
		return 0;
	}
	b->nframes++;
	if (f->ts_us > b->last_ts_us)
		b->last_ts_us = f->ts_us;
	if (b->buf.len >= VS_MIRROR_BATCH_BYTES)
		batch_close(b, f->ts_us, now_ms);
	return 0;
}

void vs_mirror_batch__tick(struct vs_mirror_batch *b, uint64_t now_ms,
			   uint64_t wall_us)
{
	uint64_t wm = b->last_ts_us;

	if (b->live && wall_us > VS_MIRROR_WM_LAG_US &&
	    wall_us - VS_MIRROR_WM_LAG_US > wm)
		wm = wall_us - VS_MIRROR_WM_LAG_US;
	if (b->buf.len && now_ms >= b->open_ms + VS_MIRROR_BATCH_MS) {
		batch_close(b, wm, now_ms);
		return;
	}
	if (b->buf.len || now_ms < b->last_close_ms + VS_MIRROR_IDLE_MS)
		return;
	if (!batch_open(b, now_ms))
		batch_close(b, wm, now_ms);
}

void vs_mirror_batch__flush(struct vs_mirror_batch *b, uint64_t now_ms)
{
	batch_close(b, b->last_ts_us + 1, now_ms);
}
