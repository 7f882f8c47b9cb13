// SPDX-License-Identifier: GPL-2.0-or-later
/* role/mirror: the batcher. Batches close at 64 KiB, after 50 ms of packet
 * or wall time, empty batches carry the watermark when idle, watermarks
 * never go back, and every frame comes back out of the buffer byte for
 * byte in order. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "role/mirror_int.h"

static struct vs_pktbuf *pb;
static struct vs_mirror_batch b;
static int pushes;

static void on_push(void *arg)
{
	(void)arg;
	pushes++;
}

static void setup(void)
{
	struct vs_pktbuf_opts o = { .mem_max = 16 << 20, .first_seq = 1 };

	pb = vs_pktbuf__open(&o);
	cr_assert(pb);
	vs_mirror_batch__init(&b, pb, 7);
	b.on_push = on_push;
	pushes = 0;
}

static void teardown(void)
{
	vs_mirror_batch__fini(&b);
	vs_pktbuf__close(pb);
}

TestSuite(mirror, .init = setup, .fini = teardown);

static uint8_t data[2000];

static void frame(uint64_t ts_us, uint32_t len, uint64_t now_ms)
{
	struct vs_frame f = { .data = data, .caplen = len, .origlen = len + 4,
			      .ts_us = ts_us, .linktype = 1,
			      .ifindex = (uint32_t)(ts_us % 5) + 1 };

	for (uint32_t i = 0; i < len; i++)
		data[i] = (uint8_t)(ts_us + i);
	cr_assert_eq(vs_mirror_batch__frame(&b, &f, now_ms), 0);
}

struct got {
	uint64_t seq, wm;
	uint32_t n;
	uint64_t ts[128];
};

/* The next buffered batch, parsed back and checked frame by frame. */
static int next_batch(struct got *g)
{
	struct vs_buf buf = { 0 };
	struct vs_chan_pkt_iter it;
	struct vs_frame f;
	uint16_t ifx;
	uint64_t seq;
	int r = vs_pktbuf__next(pb, &buf, &seq);

	if (r != 1) {
		vs_buf__free(&buf);
		return r;
	}
	cr_assert_eq(vs_chan_packets__iter(&it, buf.p, buf.len), 0);
	cr_assert_eq(it.id_sensor, 7);
	cr_assert_eq(it.seq, seq, "the header carries the buffer's seq");
	g->seq = seq;
	g->wm = it.watermark_us;
	g->n = 0;
	while ((r = vs_chan_packets__next(&it, &f, &ifx)) == 1) {
		cr_assert_eq(f.origlen, f.caplen + 4);
		cr_assert_eq(ifx, f.ts_us % 5 + 1, "the interface travels");
		for (uint32_t i = 0; i < f.caplen; i++)
			cr_assert_eq(f.data[i], (uint8_t)(f.ts_us + i));
		cr_assert_lt(g->n, 128);
		g->ts[g->n++] = f.ts_us;
	}
	cr_assert_eq(r, 0);
	vs_buf__free(&buf);
	return 1;
}

/* An interface index past the wire's 16 bits goes as 0 (unknown). */
Test(mirror, large_ifindex_sent_as_unknown)
{
	struct vs_frame f = { .data = data, .caplen = 60, .origlen = 60,
			      .ts_us = 1000, .linktype = 1, .ifindex = 70000 };
	struct vs_buf buf = { 0 };
	struct vs_chan_pkt_iter it;
	struct vs_frame g;
	uint16_t ifx = 9;
	uint64_t seq;

	cr_assert_eq(vs_mirror_batch__frame(&b, &f, 5), 0);
	vs_mirror_batch__flush(&b, 5);
	cr_assert_eq(vs_pktbuf__next(pb, &buf, &seq), 1);
	cr_assert_eq(vs_chan_packets__iter(&it, buf.p, buf.len), 0);
	cr_assert_eq(vs_chan_packets__next(&it, &g, &ifx), 1);
	cr_expect_eq(ifx, 0);
	vs_buf__free(&buf);
}

Test(mirror, closes_at_64_kib)
{
	struct got g;
	uint32_t total = 0;
	uint64_t ts = 1000000;

	/* 1000-byte frames within 1 ms of each other, no wall time passing */
	for (int i = 0; i < 100; i++)
		frame(ts + (uint64_t)i, 1000, 5);
	cr_assert_eq(pushes, 1);
	cr_assert_eq(next_batch(&g), 1);
	/* 24 header + n * 1020 >= 65536 first at n = 65 */
	cr_assert_eq(g.n, 65);
	cr_assert_eq(g.seq, 1);
	cr_assert_eq(g.wm, ts + 64, "closed by its last frame");
	total += g.n;
	vs_mirror_batch__flush(&b, 5);
	cr_assert_eq(next_batch(&g), 1);
	cr_assert_eq(g.seq, 2);
	cr_assert_eq(g.ts[0], ts + 65, "in order, none lost");
	cr_assert_eq(g.wm, ts + 99 + 1, "flush: every frame is in");
	total += g.n;
	cr_assert_eq(total, 100);
	cr_assert_eq(b.st.frames, 100);
	cr_assert_eq(b.st.bytes_raw, 100000);
	cr_assert_eq(b.st.batches, 2);
}

Test(mirror, closes_after_50_ms_of_packet_time)
{
	struct got g;

	for (int i = 0; i <= 6; i++) /* every 10 ms */
		frame(1000000 + (uint64_t)i * 10000, 100, 5);
	cr_assert_eq(next_batch(&g), 1);
	cr_assert_eq(g.n, 5, "0..40 ms; the 50 ms frame opens the next");
	cr_assert_eq(g.wm, 1050000, "the closing frame's time");
	cr_assert_eq(next_batch(&g), 0);
}

Test(mirror, closes_after_50_ms_of_wall_time)
{
	struct got g;

	frame(1000000, 100, 1000);
	vs_mirror_batch__tick(&b, 1049, 0);
	cr_assert_eq(pushes, 0);
	vs_mirror_batch__tick(&b, 1050, 0);
	cr_assert_eq(next_batch(&g), 1);
	cr_assert_eq(g.n, 1);
	cr_assert_eq(g.wm, 1000000, "not live: the newest frame's time");
	/* a frame after 50 ms of wall time closes too */
	frame(1000001, 100, 2000);
	frame(1000002, 100, 2050);
	cr_assert_eq(next_batch(&g), 1);
	cr_assert_eq(g.n, 1);
	cr_assert_eq(g.wm, 1000002);
}

Test(mirror, idle_sends_empty_batches_with_the_watermark)
{
	struct got g;
	uint64_t wall = 1700000000000000ULL;

	b.live = 1;
	b.last_close_ms = 1000;
	vs_mirror_batch__tick(&b, 1100, wall);
	cr_assert_eq(pushes, 0, "not idle for 200 ms yet");
	vs_mirror_batch__tick(&b, 1200, wall);
	cr_assert_eq(next_batch(&g), 1);
	cr_assert_eq(g.n, 0);
	cr_assert_eq(g.wm, wall - VS_MIRROR_WM_LAG_US);
	vs_mirror_batch__tick(&b, 1300, wall + 100000);
	cr_assert_eq(pushes, 1);
	vs_mirror_batch__tick(&b, 1400, wall + 200000);
	cr_assert_eq(next_batch(&g), 1);
	cr_assert_eq(g.wm, wall + 100000);
	/* the wall clock stepping back does not move the watermark back */
	vs_mirror_batch__tick(&b, 1600, wall - 5000000);
	cr_assert_eq(next_batch(&g), 1);
	cr_assert_eq(g.wm, wall + 100000);
	cr_assert_eq(b.st.empty_batches, 3);
}

Test(mirror, full_buffer_drops_without_using_a_sequence)
{
	struct vs_pktbuf_opts o = { .mem_max = 70000, .first_seq = 1 };
	struct got g;

	vs_mirror_batch__fini(&b);
	vs_pktbuf__close(pb);
	pb = vs_pktbuf__open(&o);
	cr_assert(pb);
	vs_mirror_batch__init(&b, pb, 7);
	for (int i = 0; i < 200; i++) /* three full batches */
		frame(1000000 + (uint64_t)i, 1000, 5);
	cr_assert_eq(b.st.batches, 1);
	cr_assert_eq(b.st.dropped_batches, 2);
	cr_assert_eq(vs_pktbuf__next_seq(pb), 2);
	cr_assert_eq(next_batch(&g), 1);
	vs_pktbuf__ack(pb, 1);
	vs_mirror_batch__flush(&b, 5);
	cr_assert_eq(next_batch(&g), 1);
	cr_assert_eq(g.seq, 2);
}
