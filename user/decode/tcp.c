// SPDX-License-Identifier: GPL-2.0-or-later
/* TCP on SIP ports: one stream per direction, sequence tracking from the
 * first segment seen (SYN or mid-stream), retransmissions dropped,
 * out-of-order segments queued until the gap fills or is given up
 * (VS_TCP_GAP_TIMEOUT_MS, or the per-flow byte limit), FIN/RST and idle
 * timeout end a stream. Framing is in stream.c. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "decode/tcp_int.h"

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04

struct tcp_in {
	uint32_t seq; /* of the first payload byte (after a SYN) */
	uint8_t flags;
	const uint8_t *data;
	uint32_t len;
};

/* Signed distance in sequence space: > 0 when a is after b. */
static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

int vs_tcp__init(struct vs_decoder *d)
{
	return vs_dtable__init(&d->streams, d->lim.tcp_max_streams,
			       d->seed ^ 0xc2b2ae3d27d4eb4fULL);
}

static void gap_remove(struct vs_decoder *d, struct tcp_stream *s)
{
	if (!s->in_gap)
		return;
	if (s->gap_prev)
		s->gap_prev->gap_next = s->gap_next;
	else
		d->gap_first = s->gap_next;
	if (s->gap_next)
		s->gap_next->gap_prev = s->gap_prev;
	else
		d->gap_last = s->gap_prev;
	s->gap_prev = s->gap_next = NULL;
	s->in_gap = false;
}

/* Appended in time order, so the list head is always the oldest gap. */
static void gap_add(struct vs_decoder *d, struct tcp_stream *s, uint64_t ts)
{
	s->gap_since = ts;
	s->gap_prev = d->gap_last;
	s->gap_next = NULL;
	if (d->gap_last)
		d->gap_last->gap_next = s;
	else
		d->gap_first = s;
	d->gap_last = s;
	s->in_gap = true;
}

static void seg_free(struct vs_decoder *d, struct tcp_seg *g)
{
	for (uint32_t i = 0; i < g->nframes; i++)
		vs_held__put(&d->pool, g->held[i]);
	free(g);
}

/* Unlinks the first queued segment. */
static struct tcp_seg *ooo_pop(struct vs_decoder *d, struct tcp_stream *s)
{
	struct tcp_seg *g = s->ooo;

	s->ooo = g->next;
	s->ooo_bytes -= g->len;
	d->tcp_bytes -= g->len;
	d->tcp_buf_mem -= g->size;
	return g;
}

static void stream_free(struct vs_decoder *d, struct tcp_stream *s)
{
	vs_tcp_stream__drop(d, s);
	while (s->ooo)
		seg_free(d, ooo_pop(d, s));
	gap_remove(d, s);
	vs_dtable__remove(&d->streams, &s->n);
	free(s->refs);
	free(s);
}

/* End of a stream: an unfinished message is never delivered, but counted. */
static void stream_close(struct vs_decoder *d, struct tcp_stream *s)
{
	if (s->len || s->ooo)
		d->st->tcp_not_sip++;
	stream_free(d, s);
}

void vs_tcp__fini(struct vs_decoder *d)
{
	struct vs_dnode *n;

	if (!d->streams.buckets)
		return;
	while ((n = vs_dtable__oldest(&d->streams)))
		stream_free(d, (struct tcp_stream *)n);
	vs_dtable__fini(&d->streams);
}

/* Moves queued segments that are now in order into the stream. */
static void drain(struct vs_decoder *d, struct tcp_stream *s)
{
	while (s->ooo && seq_diff(s->ooo->seq, s->next_seq) <= 0) {
		struct tcp_seg *g = ooo_pop(d, s);
		uint32_t end = g->seq + g->len;

		if (seq_diff(end, s->next_seq) > 0) {
			uint32_t trim = s->next_seq - g->seq;

			s->next_seq = end;
			vs_tcp_stream__append(d, s, g->data + trim,
					      g->len - trim, g->frames,
					      g->nframes, g->held);
			g->nframes = 0; /* the stream owns the copies now */
		}
		seg_free(d, g);
	}
}

/* Gives up waiting for the bytes before the first queued segment. The
 * unfinished message before the gap is lost with them. */
static void gap_skip(struct vs_decoder *d, struct tcp_stream *s, uint64_t ts)
{
	d->st->tcp_gap_skipped++;
	vs_tcp_stream__drop(d, s);
	s->resync = false;
	s->next_seq = s->ooo->seq;
	gap_remove(d, s);
	drain(d, s);
	if (s->ooo)
		gap_add(d, s, ts);
}

static struct tcp_seg *seg_new(struct vs_decoder *d, const struct tcp_in *in,
			       const struct vs_carrier *c)
{
	uint32_t n = c->nframes;
	size_t sz = sizeof(struct tcp_seg) + n * (sizeof(struct vs_held *) +
						  sizeof(struct vs_frame *)) +
		    in->len;
	struct tcp_seg *g = malloc(sz);

	if (!g)
		return NULL;
	g->frames = (const struct vs_frame **)(g->held + n);
	g->data = (uint8_t *)(g->frames + n);
	g->seq = in->seq;
	g->len = in->len;
	g->size = (uint32_t)sz;
	g->nframes = 0;
	for (uint32_t i = 0; i < n; i++) {
		g->held[i] = vs_held__get(&d->pool, c->frames[i]);
		if (!g->held[i]) {
			seg_free(d, g);
			return NULL;
		}
		g->frames[i] = &g->held[i]->f;
		g->nframes++;
	}
	memcpy(g->data, in->data, in->len);
	return g;
}

/* Queues a segment ahead of the gap, sorted by seq. */
static void ooo_insert(struct vs_decoder *d, struct tcp_stream *s,
		       const struct tcp_in *in, const struct vs_carrier *c)
{
	struct tcp_seg **pp = &s->ooo, *g;

	while (*pp && seq_diff((*pp)->seq, in->seq) < 0)
		pp = &(*pp)->next;
	if (*pp && (*pp)->seq == in->seq && (*pp)->len >= in->len) {
		d->st->tcp_retrans++;
		return;
	}
	g = seg_new(d, in, c);
	if (!g) {
		d->st->tcp_stream_limit++;
		return;
	}
	g->next = *pp;
	*pp = g;
	s->ooo_bytes += g->len;
	d->tcp_bytes += g->len;
	d->tcp_buf_mem += g->size;
	d->st->tcp_out_of_order++;
	if (!s->in_gap)
		gap_add(d, s, c->ts_us);
}

static void seg_data(struct vs_decoder *d, struct tcp_stream *s,
		     const struct tcp_in *in, const struct vs_carrier *c)
{
	for (;;) {
		uint32_t end = in->seq + in->len, trim;

		if (seq_diff(end, s->next_seq) <= 0) {
			d->st->tcp_retrans++;
			return;
		}
		if (seq_diff(in->seq, s->next_seq) <= 0) {
			trim = s->next_seq - in->seq;
			s->next_seq = end;
			vs_tcp_stream__append(d, s, in->data + trim,
					      in->len - trim, c->frames,
					      c->nframes, NULL);
			drain(d, s);
			if (!s->ooo)
				gap_remove(d, s);
			return;
		}
		if (d->tcp_bytes + in->len > d->lim.tcp_max_total_bytes) {
			d->st->tcp_stream_limit++;
			return;
		}
		if ((uint64_t)s->len + s->ooo_bytes + in->len <=
		    d->lim.tcp_max_stream_bytes) {
			ooo_insert(d, s, in, c);
			return;
		}
		if (!s->ooo) {
			d->st->tcp_stream_limit++;
			return;
		}
		gap_skip(d, s, c->ts_us); /* flow full: stop waiting */
	}
}

static void stream_key(uint8_t *key, const struct vs_l4pkt *pkt, uint16_t sp,
		       uint16_t dp, bool reverse)
{
	memcpy(key, reverse ? pkt->dst.b : pkt->src.b, 16);
	memcpy(key + 16, reverse ? pkt->src.b : pkt->dst.b, 16);
	memcpy(key + 32, reverse ? &dp : &sp, 2);
	memcpy(key + 34, reverse ? &sp : &dp, 2);
}

static struct tcp_stream *stream_new(struct vs_decoder *d, const uint8_t *key,
				     const struct vs_l4pkt *pkt, uint16_t sp,
				     uint16_t dp, const struct tcp_in *in,
				     uint64_t ts)
{
	struct tcp_stream *s;

	if (d->streams.count >= d->streams.max) {
		d->st->tcp_stream_limit++;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		d->st->tcp_stream_limit++;
		return NULL;
	}
	memcpy(s->n.key, key, VS_DKEY_LEN);
	s->src = (struct vs_endpoint){ pkt->src, sp };
	s->dst = (struct vs_endpoint){ pkt->dst, dp };
	s->next_seq = in->seq;
	s->syn = in->flags & TH_SYN;
	s->isn = in->seq - s->syn;
	vs_dtable__insert(&d->streams, &s->n, ts);
	return s;
}

/* The stream for this segment, created on a SYN or on data; a SYN with a
 * new ISN starts over (the 4-tuple was reused). */
static struct tcp_stream *stream_get(struct vs_decoder *d,
				     const struct vs_l4pkt *pkt, uint16_t sp,
				     uint16_t dp, const struct tcp_in *in,
				     uint64_t ts)
{
	uint8_t key[VS_DKEY_LEN];
	struct tcp_stream *s;

	stream_key(key, pkt, sp, dp, false);
	s = (struct tcp_stream *)vs_dtable__find(&d->streams, key);
	if (s && (in->flags & TH_SYN) && (!s->syn || in->seq - 1 != s->isn)) {
		stream_close(d, s);
		s = NULL;
	}
	if (!s) {
		if (!(in->flags & TH_SYN) && in->len == 0)
			return NULL;
		return stream_new(d, key, pkt, sp, dp, in, ts);
	}
	vs_dtable__touch(&d->streams, &s->n, ts);
	return s;
}

/* RST ends both directions. */
static void reset(struct vs_decoder *d, const struct vs_l4pkt *pkt,
		  uint16_t sp, uint16_t dp)
{
	uint8_t key[VS_DKEY_LEN];
	struct vs_dnode *n;

	for (int rev = 0; rev < 2; rev++) {
		stream_key(key, pkt, sp, dp, rev);
		n = vs_dtable__find(&d->streams, key);
		if (n)
			stream_close(d, (struct tcp_stream *)n);
	}
}

static bool sip_port(const struct vs_decoder *d, uint16_t port)
{
	return (d->tcp_ports[port >> 3] >> (port & 7)) & 1;
}

void vs_tcp__input(struct vs_decoder *d, const struct vs_l4pkt *pkt,
		   const struct vs_carrier *c)
{
	struct tcp_stream *s;
	struct tcp_in in;
	uint32_t doff;
	uint16_t sp, dp;

	if (pkt->len < 20 || (doff = (pkt->data[12] >> 4) * 4u) < 20 ||
	    doff > pkt->len) {
		d->st->tcp_bad++;
		return;
	}
	sp = vs_rd16(pkt->data);
	dp = vs_rd16(pkt->data + 2);
	if (!d->tcp_on || !(sip_port(d, sp) || sip_port(d, dp))) {
		d->st->tcp_other_port++;
		return;
	}
	d->st->tcp_segments++;
	in.flags = pkt->data[13];
	in.seq = vs_rd32(pkt->data + 4) + !!(in.flags & TH_SYN);
	in.data = pkt->data + doff;
	in.len = pkt->len - doff;
	if (in.flags & TH_RST) {
		reset(d, pkt, sp, dp);
		return;
	}
	s = stream_get(d, pkt, sp, dp, &in, c->ts_us);
	if (!s)
		return;
	if (in.flags & TH_FIN) {
		s->fin = true;
		s->fin_seq = in.seq + in.len;
	}
	if (in.len)
		seg_data(d, s, &in, c);
	if (s->fin && seq_diff(s->next_seq, s->fin_seq) >= 0)
		stream_close(d, s);
}

void vs_tcp__expire(struct vs_decoder *d, uint64_t now_us)
{
	uint64_t tmo = (uint64_t)d->lim.tcp_timeout_ms * 1000;
	uint64_t gap_tmo = (uint64_t)VS_TCP_GAP_TIMEOUT_MS * 1000;
	struct tcp_stream *s;
	struct vs_dnode *n;

	if (gap_tmo > tmo)
		gap_tmo = tmo;
	while ((s = d->gap_first) && now_us > s->gap_since &&
	       now_us - s->gap_since > gap_tmo) {
		gap_skip(d, s, now_us);
		if (s->fin && seq_diff(s->next_seq, s->fin_seq) >= 0)
			stream_close(d, s);
	}
	while ((n = vs_dtable__oldest(&d->streams)) && now_us > n->ts_us &&
	       now_us - n->ts_us > tmo) {
		s = (struct tcp_stream *)n;
		while (s->ooo)
			gap_skip(d, s, now_us);
		d->st->tcp_timeout++;
		stream_close(d, s);
	}
}
