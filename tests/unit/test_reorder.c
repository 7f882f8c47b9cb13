// SPDX-License-Identifier: GPL-2.0-or-later
/* role/reorder: the server's time merge of mirroring sensors. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "role/reorder.h"

#define MAXOUT 4096

struct sink {
	unsigned n;
	uint64_t ts[MAXOUT];
	uint16_t sensor[MAXOUT];
	uint8_t first[MAXOUT];	/* first data byte, to check the copy */
};

static int collect(void *ctx, const struct vs_frame *f)
{
	struct sink *s = ctx;

	cr_assert_lt(s->n, MAXOUT);
	s->ts[s->n] = f->ts_us;
	s->sensor[s->n] = f->id_sensor;
	s->first[s->n] = f->caplen ? f->data[0] : 0;
	s->n++;
	return 0;
}

static struct vs_reorder *mk(struct sink *s, size_t max_bytes,
			     uint32_t max_frames)
{
	struct vs_reorder_opts o = { .max_bytes = max_bytes,
				     .max_frames = max_frames,
				     .hold_us = 2000000, .out = collect,
				     .ctx = s };
	struct vs_reorder *r = vs_reorder__new(&o);

	cr_assert(r);
	return r;
}

static int push(struct vs_reorder *r, uint16_t sensor, uint64_t ts,
		uint8_t byte)
{
	uint8_t data[100];
	struct vs_frame f = { .data = data, .caplen = sizeof(data),
			      .origlen = sizeof(data), .ts_us = ts,
			      .linktype = 1, .id_sensor = sensor };

	memset(data, byte, sizeof(data));
	return vs_reorder__push(r, &f);
}

Test(reorder, refuses_no_sink)
{
	struct vs_reorder_opts o = { 0 };

	cr_assert_null(vs_reorder__new(&o));
}

/* Two sensors: nothing leaves until both watermarks cover it, then the
 * frames leave merged in time order, copies intact. */
Test(reorder, merges_two_sensors_by_watermark)
{
	struct sink s = { 0 };
	struct vs_reorder *r = mk(&s, 0, 0);

	vs_reorder__sensor_up(r, 1);
	vs_reorder__sensor_up(r, 2);
	/* sensor 1 (SIP) is fast, sensor 2 (RTP) lags a batch */
	push(r, 1, 1000, 'a');
	push(r, 1, 3000, 'c');
	vs_reorder__watermark(r, 1, 4000);
	cr_assert_eq(vs_reorder__release(r, 0), 4000); /* only 1 has spoken */
	s.n = 0; /* sensor 2 had no watermark: 1 alone decided */
	vs_reorder__free(r);

	r = mk(&s, 0, 0);
	vs_reorder__sensor_up(r, 1);
	vs_reorder__sensor_up(r, 2);
	vs_reorder__watermark(r, 2, 500);
	push(r, 1, 1000, 'a');
	push(r, 1, 3000, 'c');
	vs_reorder__watermark(r, 1, 4000);
	cr_assert_eq(vs_reorder__release(r, 0), 500);
	cr_assert_eq(s.n, 0, "released before sensor 2 covered them");
	push(r, 2, 2000, 'b');
	push(r, 2, 3000, 'd'); /* same time as 'c', arrived later */
	vs_reorder__watermark(r, 2, 3500);
	cr_assert_eq(vs_reorder__release(r, 0), 3500);
	cr_assert_eq(s.n, 4);
	cr_assert_eq(s.ts[0], 1000);
	cr_assert_eq(s.ts[1], 2000);
	cr_assert_eq(s.first[2], 'c', "equal times leave in arrival order");
	cr_assert_eq(s.first[3], 'd');
	cr_assert_eq(s.sensor[1], 2);
	vs_reorder__drain(r);
	cr_assert_eq(s.n, 4);
	vs_reorder__free(r);
}

/* A stalled sensor holds the others at most hold_us of their time. */
Test(reorder, stalled_sensor_held_at_most_hold)
{
	struct sink s = { 0 };
	struct vs_reorder *r = mk(&s, 0, 0);
	struct vs_reorder_stats st;

	vs_reorder__sensor_up(r, 1);
	vs_reorder__sensor_up(r, 2);
	vs_reorder__watermark(r, 2, 1000000); /* then silent */
	for (uint64_t t = 1000000; t <= 5000000; t += 500000)
		push(r, 1, t, 'x');
	vs_reorder__watermark(r, 1, 5000000);
	vs_reorder__release(r, 0);
	/* due: ts <= 5 s - 2 s */
	cr_assert_eq(s.n, 5);
	cr_assert_eq(s.ts[4], 3000000);
	vs_reorder__stats(r, &st);
	cr_assert_eq(st.held_by_hold, 4); /* 1.0 s was covered by sensor 2 */
	/* the stalled sensor wakes up with old frames: late, out at once */
	cr_assert_eq(push(r, 2, 1500000, 'l'), 1);
	vs_reorder__watermark(r, 2, 5000000);
	vs_reorder__release(r, 0);
	cr_assert_eq(s.n, 10);
	cr_assert_eq(s.ts[5], 1500000);
	vs_reorder__stats(r, &st);
	cr_assert_eq(st.late, 1);
	vs_reorder__free(r);
}

/* A sensor that goes away no longer holds the others back. */
Test(reorder, sensor_down_releases)
{
	struct sink s = { 0 };
	struct vs_reorder *r = mk(&s, 0, 0);

	vs_reorder__sensor_up(r, 1);
	vs_reorder__sensor_up(r, 2);
	vs_reorder__watermark(r, 2, 100);
	push(r, 1, 1000, 'a');
	vs_reorder__watermark(r, 1, 1000);
	vs_reorder__release(r, 0);
	cr_assert_eq(s.n, 0);
	vs_reorder__sensor_down(r, 2);
	cr_assert_eq(vs_reorder__release(r, 0), 1000);
	cr_assert_eq(s.n, 1);
	/* no live sensor at all: up to the newest watermark */
	vs_reorder__sensor_down(r, 1);
	push(r, 1, 900, 'z');
	vs_reorder__release(r, 0);
	cr_assert_eq(s.n, 2);
	vs_reorder__free(r);
}

/* The horizon never goes back, and the caller's floor releases too. */
Test(reorder, floor_and_monotonic_horizon)
{
	struct sink s = { 0 };
	struct vs_reorder *r = mk(&s, 0, 0);

	vs_reorder__sensor_up(r, 1);
	vs_reorder__watermark(r, 1, 10);
	push(r, 1, 50, 'a');
	cr_assert_eq(vs_reorder__release(r, 60), 60);
	cr_assert_eq(s.n, 1);
	vs_reorder__sensor_up(r, 3);
	vs_reorder__watermark(r, 3, 20); /* behind: ignored for the horizon */
	cr_assert_eq(vs_reorder__release(r, 0), 60);
	vs_reorder__watermark(r, 1, 5); /* backwards: ignored */
	vs_reorder__free(r);
}

/* Full by bytes: the oldest leave early, counted; the bound holds. */
Test(reorder, bounded_bytes_release_oldest)
{
	struct sink s = { 0 };
	struct vs_reorder *r = mk(&s, 10 * 200, 0);
	struct vs_reorder_stats st;
	size_t bytes;

	vs_reorder__sensor_up(r, 1);
	for (int i = 0; i < 100; i++)
		push(r, 1, 1000 + (uint64_t)(99 - i), 'q');
	vs_reorder__held(r, &bytes);
	cr_assert_leq(bytes, 10 * 200);
	vs_reorder__stats(r, &st);
	cr_assert_gt(st.overflow, 80);
	cr_assert_eq(st.overflow, s.n);
	cr_assert_leq(st.peak_bytes, 10 * 200);
	vs_reorder__drain(r);
	cr_assert_eq(s.n, 100);
	vs_reorder__free(r);
}

Test(reorder, bounded_frames)
{
	struct sink s = { 0 };
	struct vs_reorder *r = mk(&s, 0, 8);
	struct vs_reorder_stats st;

	for (int i = 0; i < 20; i++)
		push(r, 1, (uint64_t)i, 'f');
	cr_assert_eq(vs_reorder__held(r, NULL), 8);
	vs_reorder__stats(r, &st);
	cr_assert_eq(st.overflow, 12);
	cr_assert_eq(st.peak_frames, 8);
	for (unsigned i = 0; i < s.n; i++)
		cr_assert_eq(s.ts[i], i, "overflow keeps time order");
	vs_reorder__free(r);
}

/* Many sensors, random arrival: output is sorted and complete. */
Test(reorder, random_interleaving_sorted)
{
	struct sink s = { 0 };
	struct vs_reorder *r = mk(&s, 0, 0);
	uint64_t next[4] = { 0 };
	unsigned seed = 7;

	for (uint16_t id = 1; id <= 4; id++) {
		vs_reorder__sensor_up(r, id);
		vs_reorder__watermark(r, id, 0);
	}
	for (int i = 0; i < 3000; i++) {
		uint16_t id = (uint16_t)(rand_r(&seed) % 4);

		next[id] += (uint64_t)(rand_r(&seed) % 1000);
		push(r, id + 1, next[id], 'r');
		if (rand_r(&seed) % 8 == 0) {
			vs_reorder__watermark(r, id + 1, next[id]);
			vs_reorder__release(r, 0);
		}
	}
	vs_reorder__drain(r);
	cr_assert_eq(s.n, 3000);
	for (unsigned i = 1; i < s.n; i++)
		cr_assert_geq(s.ts[i], s.ts[i - 1], "out of order at %u", i);
	vs_reorder__free(r);
}
