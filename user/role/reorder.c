// SPDX-License-Identifier: GPL-2.0-or-later
/* role/reorder: a binary min-heap of frame copies keyed by (timestamp,
 * arrival), and the live sensors' watermarks (reorder.h says when a frame
 * is due). Equal timestamps leave in arrival order, so one sensor's frames
 * keep their capture order. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "role/reorder.h"

struct ro_item {
	uint64_t ts, order;
	struct vs_frame f;	/* f.data points at data[] */
	uint8_t data[];
};

struct ro_src {
	uint16_t id;
	int has_wm;
	uint64_t wm;
};

struct vs_reorder {
	struct vs_reorder_opts o;
	struct ro_item **heap;
	uint32_t n, cap;
	size_t bytes;
	uint64_t order;
	uint64_t last_out_ts;	/* newest timestamp released */
	uint64_t horizon;	/* output complete up to here */
	uint64_t newest_wm;
	struct ro_src *src;
	uint32_t nsrc, srccap;
	struct vs_reorder_stats st;
};

struct vs_reorder *vs_reorder__new(const struct vs_reorder_opts *o)
{
	struct vs_reorder *r;

	if (!o->out) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->o = *o;
	if (!r->o.max_bytes)
		r->o.max_bytes = 64u << 20;
	if (!r->o.max_frames)
		r->o.max_frames = 1u << 20;
	if (!r->o.hold_us)
		r->o.hold_us = 2000000;
	return r;
}

void vs_reorder__free(struct vs_reorder *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; i < r->n; i++)
		free(r->heap[i]);
	free(r->heap);
	free(r->src);
	free(r);
}

static int before(const struct ro_item *a, const struct ro_item *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->order < b->order);
}

static void sift_up(struct ro_item **h, uint32_t i)
{
	struct ro_item *x = h[i];

	while (i && before(x, h[(i - 1) / 2])) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = x;
}

static void sift_down(struct ro_item **h, uint32_t n, uint32_t i)
{
	struct ro_item *x = h[i];
	uint32_t c;

	while ((c = 2 * i + 1) < n) {
		if (c + 1 < n && before(h[c + 1], h[c]))
			c++;
		if (!before(h[c], x))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

/* Hands the oldest frame to out and frees it. */
static void pop_out(struct vs_reorder *r)
{
	struct ro_item *it = r->heap[0];

	r->heap[0] = r->heap[--r->n];
	if (r->n)
		sift_down(r->heap, r->n, 0);
	r->bytes -= sizeof(*it) + it->f.caplen;
	if (it->ts > r->last_out_ts)
		r->last_out_ts = it->ts;
	r->st.frames_out++;
	r->o.out(r->o.ctx, &it->f);
	free(it);
}

static int grow(struct vs_reorder *r)
{
	uint32_t cap = r->cap ? r->cap * 2 : 1024;
	struct ro_item **h;

	if (cap > r->o.max_frames)
		cap = r->o.max_frames;
	h = realloc(r->heap, cap * sizeof(*h));
	if (!h)
		return -ENOMEM;
	r->heap = h;
	r->cap = cap;
	return 0;
}

int vs_reorder__push(struct vs_reorder *r, const struct vs_frame *f)
{
	size_t need = sizeof(struct ro_item) + f->caplen;
	struct ro_item *it;
	int late = f->ts_us < r->last_out_ts;

	/* full: the oldest go now, the merge is best effort beyond this */
	while (r->n && (r->n >= r->o.max_frames ||
			r->bytes + need > r->o.max_bytes)) {
		r->st.overflow++;
		pop_out(r);
	}
	if (r->n == r->cap && grow(r))
		return -ENOMEM;
	it = malloc(need);
	if (!it)
		return -ENOMEM;
	it->ts = f->ts_us;
	it->order = r->order++;
	it->f = *f;
	it->f.data = it->data;
	memcpy(it->data, f->data, f->caplen);
	r->heap[r->n] = it;
	sift_up(r->heap, r->n++);
	r->bytes += need;
	r->st.frames_in++;
	if (r->bytes > r->st.peak_bytes)
		r->st.peak_bytes = r->bytes;
	if (r->n > r->st.peak_frames)
		r->st.peak_frames = r->n;
	if (late)
		r->st.late++;
	return late;
}

static struct ro_src *find_src(struct vs_reorder *r, uint16_t id)
{
	for (uint32_t i = 0; i < r->nsrc; i++)
		if (r->src[i].id == id)
			return &r->src[i];
	return NULL;
}

int vs_reorder__sensor_up(struct vs_reorder *r, uint16_t id)
{
	struct ro_src *s;

	if (find_src(r, id))
		return 0;
	if (r->nsrc == r->srccap) {
		uint32_t cap = r->srccap ? r->srccap * 2 : 16;

		s = realloc(r->src, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		r->src = s;
		r->srccap = cap;
	}
	r->src[r->nsrc++] = (struct ro_src){ .id = id };
	return 0;
}

void vs_reorder__sensor_down(struct vs_reorder *r, uint16_t id)
{
	struct ro_src *s = find_src(r, id);

	if (s)
		*s = r->src[--r->nsrc];
}

void vs_reorder__watermark(struct vs_reorder *r, uint16_t id, uint64_t wm_us)
{
	struct ro_src *s = find_src(r, id);

	if (!s || (s->has_wm && wm_us < s->wm))
		return;
	s->has_wm = 1;
	s->wm = wm_us;
	if (wm_us > r->newest_wm)
		r->newest_wm = wm_us;
}

uint64_t vs_reorder__release(struct vs_reorder *r, uint64_t floor_us)
{
	uint64_t live = UINT64_MAX, hold = 0, h;

	for (uint32_t i = 0; i < r->nsrc; i++)
		if (r->src[i].has_wm && r->src[i].wm < live)
			live = r->src[i].wm;
	if (live == UINT64_MAX)
		live = r->newest_wm;
	if (r->newest_wm > r->o.hold_us)
		hold = r->newest_wm - r->o.hold_us;
	h = live > hold ? live : hold;
	if (floor_us > h)
		h = floor_us;
	/* a sensor joining behind the others cannot move time back */
	if (h > r->horizon)
		r->horizon = h;
	while (r->n && r->heap[0]->ts <= r->horizon) {
		if (r->heap[0]->ts > live)
			r->st.held_by_hold++;
		pop_out(r);
	}
	return r->horizon;
}

void vs_reorder__drain(struct vs_reorder *r)
{
	while (r->n)
		pop_out(r);
	if (r->last_out_ts > r->horizon)
		r->horizon = r->last_out_ts;
}

size_t vs_reorder__held(const struct vs_reorder *r, size_t *bytes)
{
	if (bytes)
		*bytes = r->bytes;
	return r->n;
}

void vs_reorder__stats(const struct vs_reorder *r, struct vs_reorder_stats *st)
{
	*st = r->st;
}
