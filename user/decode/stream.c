// SPDX-License-Identifier: GPL-2.0-or-later
/* The in-order side of a TCP stream: bytes go to the framer straight from
 * the segment while nothing is buffered (the common case: whole messages in
 * one segment, no copy); only an unfinished tail is copied, with copies of
 * the frames that carried it, and framed again as more bytes arrive. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "decode/tcp_int.h"

static void emit(struct vs_decoder *d, const struct tcp_stream *s,
		 const uint8_t *p, uint32_t n,
		 const struct vs_frame *const *frames, uint32_t nframes)
{
	struct vs_datagram dg = {
		.src = s->src,
		.dst = s->dst,
		.proto = IPPROTO_TCP,
		.payload = p,
		.len = n,
		.frames = frames,
		.nframes = nframes,
	};

	/* Time of the frame that completed it: the latest contributor. */
	for (uint32_t i = 0; i < nframes; i++)
		if (frames[i]->ts_us > dg.ts_us)
			dg.ts_us = frames[i]->ts_us;
	d->st->tcp_messages++;
	d->out(d->out_ctx, &dg);
}

/* Emits a message of n buffered bytes at absolute offset at, listing the
 * frames whose bytes overlap it. */
static void emit_buffered(struct vs_decoder *d, const struct tcp_stream *s,
			  const uint8_t *p, uint32_t n, uint64_t at)
{
	uint32_t i = s->rhead, end = s->rhead + s->rn, k = 0;

	if (!vs_decoder__fptrs(d, s->rn)) {
		emit(d, s, p, n, NULL, 0); /* no memory for the list */
		return;
	}
	while (i < end && s->refs[i].end <= at)
		i++;
	for (; i < end && s->refs[i].start < at + n; i++)
		d->fptrs[k++] = &s->refs[i].h->f;
	emit(d, s, p, n, d->fptrs, k);
}

/* Bytes up to and including the next '\n'; *found tells if there was one. */
static uint32_t line_len(const uint8_t *p, uint32_t n, bool *found)
{
	const uint8_t *nl = memchr(p, '\n', n);

	*found = nl != NULL;
	return nl ? (uint32_t)(nl - p) + 1 : n;
}

/* Runs the framer over p[0, n): emits every complete message and returns
 * the bytes consumed (messages and skipped garbage). frames != NULL: the
 * bytes are the segment itself; NULL: they are s->buf at s->off. */
static uint32_t frame_loop(struct vs_decoder *d, struct tcp_stream *s,
			   const uint8_t *p, uint32_t n,
			   const struct vs_frame *const *frames,
			   uint32_t nframes)
{
	uint32_t used = 0;
	bool counted = false, found;
	ssize_t r;

	while (used < n) {
		if (s->resync) {
			used += line_len(p + used, n - used, &found);
			s->resync = !found;
			continue;
		}
		r = d->framer(p + used, n - used);
		if (r == 0)
			break;
		if (r < 0) {
			/* One count per run of garbage, not per line. */
			if (!counted)
				d->st->tcp_not_sip++;
			counted = true;
			s->resync = true;
			continue;
		}
		if ((size_t)r > n - used)
			r = n - used; /* a framer bug must not read past n */
		if (frames)
			emit(d, s, p + used, (uint32_t)r, frames, nframes);
		else
			emit_buffered(d, s, p + used, (uint32_t)r,
				      s->off + used);
		used += (uint32_t)r;
	}
	return used;
}

static void consume(struct vs_decoder *d, struct tcp_stream *s, uint32_t n)
{
	s->head += n;
	s->len -= n;
	s->off += n;
	d->tcp_bytes -= n;
	while (s->rn && s->refs[s->rhead].end <= s->off) {
		vs_held__put(&d->pool, s->refs[s->rhead].h);
		s->rhead++;
		s->rn--;
	}
	if (s->rn == 0)
		s->rhead = 0;
	if (s->len == 0) {
		/* Freed, not kept: an idle flow should cost no buffer. */
		d->tcp_buf_mem -= s->cap;
		free(s->buf);
		s->buf = NULL;
		s->head = s->cap = 0;
	}
}

void vs_tcp_stream__drop(struct vs_decoder *d, struct tcp_stream *s)
{
	if (s->len)
		consume(d, s, s->len);
}

static bool buf_reserve(struct vs_decoder *d, struct tcp_stream *s,
			uint32_t n)
{
	uint32_t cap;
	uint8_t *b;

	if (s->head + s->len + n <= s->cap)
		return true;
	if (s->head) {
		memmove(s->buf, s->buf + s->head, s->len);
		s->head = 0;
		if (s->len + n <= s->cap)
			return true;
	}
	cap = s->cap ? s->cap : 2048;
	while (cap < s->len + n)
		cap *= 2;
	b = realloc(s->buf, cap);
	if (!b)
		return false;
	d->tcp_buf_mem += cap - s->cap;
	s->buf = b;
	s->cap = cap;
	return true;
}

static bool refs_reserve(struct tcp_stream *s, uint32_t n)
{
	struct tcp_ref *r;
	uint32_t cap;

	if (s->rhead + s->rn + n <= s->rcap)
		return true;
	if (s->rhead) {
		memmove(s->refs, s->refs + s->rhead, s->rn * sizeof(*r));
		s->rhead = 0;
		if (s->rn + n <= s->rcap)
			return true;
	}
	cap = s->rcap ? s->rcap : 8;
	while (cap < s->rn + n)
		cap *= 2;
	r = realloc(s->refs, cap * sizeof(*r));
	if (!r)
		return false;
	s->refs = r;
	s->rcap = cap;
	return true;
}

static void put_held(struct vs_decoder *d, struct vs_held **held, uint32_t n)
{
	for (uint32_t i = 0; held && i < n; i++)
		vs_held__put(&d->pool, held[i]);
}

static bool over_limit(const struct vs_decoder *d, const struct tcp_stream *s,
		       uint32_t n)
{
	uint64_t flow = (uint64_t)s->len + s->ooo_bytes + n;

	return flow > d->lim.tcp_max_stream_bytes ||
	       d->tcp_bytes + n > d->lim.tcp_max_total_bytes;
}

/* Copies p[0, n) to the buffer with a ref per frame; false on no memory.
 * A frame whose copy fails is left out of the list, the bytes stay. */
static bool buffer_tail(struct vs_decoder *d, struct tcp_stream *s,
			const uint8_t *p, uint32_t n,
			const struct vs_frame *const *frames, uint32_t nframes,
			struct vs_held **held)
{
	uint64_t start = s->off + s->len;

	if (!buf_reserve(d, s, n) || !refs_reserve(s, nframes))
		return false;
	memcpy(s->buf + s->head + s->len, p, n);
	s->len += n;
	d->tcp_bytes += n;
	for (uint32_t i = 0; i < nframes; i++) {
		struct vs_held *h;

		if (held) {
			h = held[i];
			held[i] = NULL;
		} else {
			h = vs_held__get(&d->pool, frames[i]);
		}
		if (h)
			s->refs[s->rhead + s->rn++] =
				(struct tcp_ref){ h, start, start + n };
	}
	return true;
}

void vs_tcp_stream__append(struct vs_decoder *d, struct tcp_stream *s,
			   const uint8_t *p, uint32_t n,
			   const struct vs_frame *const *frames,
			   uint32_t nframes, struct vs_held **held)
{
	uint32_t used;

	if (s->len && over_limit(d, s, n)) {
		/* The unfinished message outgrew what a flow may hold. */
		d->st->tcp_stream_limit++;
		vs_tcp_stream__drop(d, s);
		s->resync = true;
	}
	if (s->len == 0) {
		used = frame_loop(d, s, p, n, frames, nframes);
		s->off += used;
		p += used;
		n -= used;
		if (n == 0)
			goto out;
		if (over_limit(d, s, n)) {
			d->st->tcp_stream_limit++;
			s->off += n;
			s->resync = true;
			goto out;
		}
		if (!buffer_tail(d, s, p, n, frames, nframes, held))
			goto nomem;
		goto out;
	}
	if (!buffer_tail(d, s, p, n, frames, nframes, held))
		goto nomem;
	used = frame_loop(d, s, s->buf + s->head, s->len, NULL, 0);
	if (used)
		consume(d, s, used);
	goto out;
nomem:
	d->st->tcp_stream_limit++;
	vs_tcp_stream__drop(d, s);
	s->resync = true;
out:
	put_held(d, held, nframes);
}
