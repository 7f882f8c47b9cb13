// SPDX-License-Identifier: GPL-2.0-or-later
/* Media: the endpoint table SDP fills, RTP/RTCP matching, streams, and the
 * CDR legs made from them at the end of a call. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "call/call_int.h"
#include "sip/sdp.h"

/* The layout struct vs_call_stream's comment promises. */
_Static_assert(offsetof(struct vs_call_stream, rtp.jitter_sum) +
		       sizeof(double) <= 128,
	       "per-packet stream state spills past two cache lines");

/* The registration a packet to or from ep sees: the newest. */
static struct vs_epidx_slot *media_find(const struct vs_call_table *t,
					const struct vs_endpoint *ep)
{
	return vs_epidx__find(&t->media, ep, vs_epidx__hash(ep));
}

/* Makes e the registration its slot shows. The stream cache goes: it
 * belongs to the call that was visible. */
static void slot_show(struct vs_epidx_slot *s, struct vs_media_ent *e)
{
	s->ent = e;
	s->call = e->call;
	s->side = e->side;
	s->is_rtcp = e->is_rtcp;
	s->is_video = e->is_video;
	s->last = NULL;
}

void vs_media__register(struct vs_call_table *t, struct vs_call *c,
			uint8_t side, const struct vs_endpoint *ep,
			uint8_t is_rtcp, uint8_t is_video)
{
	size_t mem = vs_epidx__mem(&t->media);
	struct vs_epidx_slot *s;
	struct vs_media_ent *e;
	int added;

	for (int i = 0; i < c->nmedia; i++) {
		e = &c->media[i];
		if (vs_endpoint_eq(&e->ep, ep) && e->side == side &&
		    e->is_rtcp == is_rtcp)
			return;
	}
	if (c->nmedia >= VS_CALL_MAX_MEDIA) {
		t->o.stats->streams_limit++;
		return;
	}
	s = vs_epidx__add(&t->media, ep, &added);
	t->mem += vs_epidx__mem(&t->media) - mem;
	if (!s) {
		t->o.stats->streams_limit++;
		return;
	}
	e = &c->media[c->nmedia++];
	e->call = c;
	e->ep = *ep;
	e->side = side;
	e->is_rtcp = is_rtcp;
	e->is_video = is_video;
	if (added && t->o.on_media)
		t->o.on_media(t->o.media_ctx, ep, 1);
	/* Newest first: a port reused by a later call shadows the old one. */
	e->snext = s->ent;
	slot_show(s, e);
	t->o.stats->sdp_endpoints++;
	t->nmedia++;
}

static void media_unregister(struct vs_call_table *t, struct vs_media_ent *e)
{
	struct vs_epidx_slot *s = media_find(t, &e->ep);
	struct vs_media_ent **pp;

	if (!s)
		return;
	for (pp = &s->ent; *pp && *pp != e; pp = &(*pp)->snext)
		;
	if (!*pp)
		return;
	*pp = e->snext;
	t->nmedia--;
	if (s->ent && pp == &s->ent)
		slot_show(s, s->ent);
	if (s->ent)
		return;
	vs_epidx__del(&t->media, s);
	if (t->o.on_media)
		t->o.on_media(t->o.media_ctx, &e->ep, 0);
}

void vs_media__unregister_all(struct vs_call_table *t, struct vs_call *c)
{
	for (int i = 0; i < c->nmedia; i++)
		media_unregister(t, &c->media[i]);
	c->nmedia = 0;
}


static const struct vs_pt_map *pt_find(const struct vs_call *c, uint8_t side,
				       uint8_t pt)
{
	for (int i = 0; i < c->npt[side]; i++)
		if (c->pt[side][i].pt == pt)
			return &c->pt[side][i];
	return NULL;
}

/* Payload type numbers are the receiver's (RFC 3264), so its SDP is asked
 * first, the sender's second, the static table last. */
static void stream_codec(const struct vs_call *c, struct vs_call_stream *s,
			 uint8_t recv_side, uint8_t pt, uint32_t *clock,
			 uint8_t *event_pt)
{
	const struct vs_pt_map *pm = pt_find(c, recv_side, pt);
	const char *name;

	if (!pm)
		pm = pt_find(c, !recv_side, pt);
	*event_pt = 0xff;
	for (int side = 0; side < 2 && *event_pt == 0xff; side++) {
		uint8_t sd = side ? !recv_side : recv_side;

		for (int i = 0; i < c->npt[sd]; i++)
			if (c->pt[sd][i].is_event) {
				*event_pt = c->pt[sd][i].pt;
				break;
			}
	}
	if (pm) {
		strncpy(s->codec, pm->name, sizeof(s->codec) - 1);
		*clock = pm->clock ? pm->clock : 8000;
		return;
	}
	name = vs_rtp_static_pt(pt, clock);
	strncpy(s->codec, name ? name : "unknown", sizeof(s->codec) - 1);
	if (!name || !*clock)
		*clock = 8000;
}

static struct vs_call_stream *stream_new(struct vs_call_table *t,
					 struct vs_call *c, uint8_t is_video,
					 const struct vs_datagram *d,
					 const struct vs_rtp_hdr *h,
					 uint8_t dir)
{
	struct vs_call_stream *s;
	uint32_t clock;
	uint8_t event_pt;

	if (c->nstreams >= VS_CALL_MAX_STREAMS) {
		t->o.stats->streams_limit++;
		return NULL;
	}
	s = vs_slab__zalloc(&t->stream_slab);
	if (!s)
		return NULL;
	s->src = d->src;
	s->dst = d->dst;
	s->ssrc = h->ssrc;
	s->dir = dir;
	s->is_video = is_video;
	s->call = c;
	/* dir a is received by the callee */
	stream_codec(c, s, dir == 0 ? VS_SIDE_CALLEE : VS_SIDE_CALLER, h->pt,
		     &clock, &event_pt);
	vs_rtp_stream__init(&s->rtp, h->ssrc, h->pt, clock, event_pt);
	s->next = c->streams;
	c->streams = s;
	c->nstreams++;
	vs_ssrc__add(t, s);
	t->mem += sizeof(*s);
	return s;
}

static struct vs_call_stream *stream_find(struct vs_call *c,
					  const struct vs_epidx_slot *e,
					  const struct vs_datagram *d,
					  uint32_t ssrc)
{
	struct vs_call_stream *s = e->last;

	if (s && s->ssrc == ssrc && vs_endpoint_eq(&s->src, &d->src) &&
	    vs_endpoint_eq(&s->dst, &d->dst))
		return s;
	for (s = c->streams; s; s = s->next)
		if (s->ssrc == ssrc && vs_endpoint_eq(&s->src, &d->src) &&
		    vs_endpoint_eq(&s->dst, &d->dst))
			return s;
	return NULL;
}

/* first_rtp_us is set from the first RTP with a non-zero time. A non-zero
 * last_rtp_us implies it is set, so the CDR's line is read only until the
 * call's RTP begins. */
static inline void rtp_seen(struct vs_call *c, uint64_t ts_us)
{
	if (!c->last_rtp_us && !c->cdr.first_rtp_us)
		c->cdr.first_rtp_us = ts_us;
	c->last_rtp_us = ts_us;
}

static void rtp_account(struct vs_call_table *t, struct vs_call *c,
			struct vs_call_stream *s, const struct vs_rtp_hdr *h,
			const struct vs_datagram *d)
{
	t->o.stats->rtp_packets++;
	vs_rtp_stream__packet(&s->rtp, h, d->ts_us);
	rtp_seen(c, d->ts_us);
}

static void on_rtp(struct vs_call_table *t, struct vs_call *c,
		   struct vs_epidx_slot *e, const struct vs_datagram *d,
		   uint8_t dir)
{
	struct vs_rtp_hdr h;
	struct vs_call_stream *s;

	if (vs_rtp__parse_cut(d->payload, d->len, d->cut, &h) < 0) {
		t->o.stats->rtp_bad++;
		return;
	}
	s = stream_find(c, e, d, h.ssrc);
	if (!s)
		s = stream_new(t, c, e->is_video, d, &h, dir);
	if (!s)
		return;
	if (e->last != s)
		e->last = s;
	rtp_account(t, c, s, &h, d);
}

/* RTP on endpoints no SDP announced: joins the call that owns its SSRC, as a
 * new stream in the same direction. */
static struct vs_call *on_rtp_by_ssrc(struct vs_call_table *t,
				      const struct vs_datagram *d)
{
	struct vs_call_stream *known, *s;
	struct vs_rtp_hdr h;
	struct vs_call *c;

	if (vs_rtcp__is_rtcp(d->payload, d->len) ||
	    vs_rtp__parse_cut(d->payload, d->len, d->cut, &h) < 0)
		return NULL;
	known = vs_ssrc__find(t, h.ssrc);
	if (!known)
		return NULL;
	c = known->call;
	for (s = c->streams; s; s = s->next)
		if (s->ssrc == h.ssrc && vs_endpoint_eq(&s->src, &d->src) &&
		    vs_endpoint_eq(&s->dst, &d->dst))
			break;
	if (!s) {
		s = stream_new(t, c, known->is_video, d, &h, known->dir);
		if (!s)
			return NULL;
		s->by_ssrc = 1;
	}
	t->o.stats->rtp_by_ssrc++;
	if (d->ts_us > c->last_us)
		c->last_us = d->ts_us;
	rtp_account(t, c, s, &h, d);
	return c;
}

static struct vs_call_stream *stream_by_ssrc(struct vs_call *c, uint32_t ssrc)
{
	struct vs_call_stream *s;

	for (s = c->streams; s; s = s->next)
		if (s->ssrc == ssrc)
			return s;
	return NULL;
}

static void on_rtcp(struct vs_call_table *t, struct vs_call *c,
		    const struct vs_datagram *d)
{
	struct vs_rtcp_info ri;
	struct vs_call_stream *s;

	if (d->cut) { /* its blocks are lengths and counts: all or nothing */
		t->o.stats->rtcp_partial++;
		return;
	}
	if (vs_rtcp__parse(d->payload, d->len, &ri) < 0) {
		t->o.stats->rtcp_bad++;
		return;
	}
	t->o.stats->rtcp_packets++;
	s = stream_by_ssrc(c, ri.sender_ssrc);
	if (s) {
		s->rtcp.packets++;
		if (ri.has_sr)
			vs_rtcp_stats__sr(&s->rtcp, ri.sr_ntp_mid, d->ts_us);
	}
	for (int i = 0; i < ri.n_blocks; i++) {
		s = stream_by_ssrc(c, ri.blocks[i].ssrc);
		if (s)
			vs_rtcp_stats__block(&s->rtcp, &ri.blocks[i],
					     s->rtp.clock_rate, d->ts_us);
	}
}

/* Track-only: the datagram keeps its call alive, nothing more. */
static struct vs_call *media_touch(struct vs_call_table *t, struct vs_call *c,
				   const struct vs_epidx_slot *e,
				   const struct vs_datagram *d, int *is_rtp)
{
	*is_rtp = !e->is_rtcp && !vs_rtcp__is_rtcp(d->payload, d->len);
	if (!*is_rtp) {
		t->o.stats->rtcp_packets++;
		return c;
	}
	t->o.stats->rtp_packets++;
	rtp_seen(c, d->ts_us);
	return c;
}

void vs_call_table__set_track_only(struct vs_call_table *t, int on)
{
	t->o.track_only = on;
}

/* The call and stream lines a packet matching e reads, asked for at once
 * so that their misses overlap instead of following each other. */
static inline void slot_prefetch(const struct vs_epidx_slot *e)
{
	__builtin_prefetch(e->call, 1);
	if (e->last) {
		__builtin_prefetch(e->last);
		__builtin_prefetch((const char *)e->last + 64, 1);
	}
}

void vs_call_table__ahead(struct vs_call_table *t, int stage, uint32_t hint)
{
	const struct vs_epidx_slot *e = &t->media.slot[hint & t->media.mask];

	if (!stage) {
		__builtin_prefetch(e);
		return;
	}
	if (e->used && e->hash == hint)
		slot_prefetch(e);
}

struct vs_call *vs_call_table__udp(struct vs_call_table *t,
				   const struct vs_datagram *d, int *is_rtp)
{
	uint32_t hd = vs_epidx__hash(&d->dst), hs = vs_epidx__hash(&d->src);
	struct vs_epidx_slot *e;
	uint8_t dir;
	struct vs_call *c;

	/* Sent to an announced endpoint: its announcer receives, so the other
	 * side sends. Else sent from one (symmetric RTP): the announcer sends.
	 * Both slots are asked for first: when the first misses, the second
	 * is on its way. */
	vs_epidx__prefetch(&t->media, hd);
	vs_epidx__prefetch(&t->media, hs);
	e = vs_epidx__find(&t->media, &d->dst, hd);
	if (e) {
		dir = e->side == VS_SIDE_CALLER ? 1 : 0;
	} else {
		e = vs_epidx__find(&t->media, &d->src, hs);
		if (!e) {
			c = t->nssrc ? on_rtp_by_ssrc(t, d) : NULL;
			if (c) {
				*is_rtp = 1;
				return c;
			}
			t->o.stats->udp_unmatched++;
			return NULL;
		}
		dir = e->side == VS_SIDE_CALLER ? 0 : 1;
	}
	slot_prefetch(e);
	__builtin_prefetch(d->payload);
	c = e->call;
	if (d->ts_us > c->last_us)
		c->last_us = d->ts_us;
	if (t->o.track_only)
		return media_touch(t, c, e, d, is_rtp);
	if (e->is_rtcp || vs_rtcp__is_rtcp(d->payload, d->len)) {
		*is_rtp = 0;
		on_rtcp(t, c, d);
	} else {
		*is_rtp = 1;
		on_rtp(t, c, e, d, dir);
	}
	return c;
}

void vs_media__free_streams(struct vs_call_table *t, struct vs_call *c)
{
	struct vs_call_stream *s, *next;

	for (s = c->streams; s; s = next) {
		next = s->next;
		vs_ssrc__del(t, s);
		t->mem -= sizeof(*s);
		vs_slab__free(&t->stream_slab, s);
	}
	c->streams = NULL;
	c->nstreams = 0;
}

static void stream_leg(const struct vs_call_stream *s, struct vs_cdr_leg *leg)
{
	vs_rtp_stream__summary(&s->rtp, s->codec, leg);
	snprintf(leg->codec, sizeof(leg->codec), "%s", s->codec);
	leg->src = s->src;
	leg->dst = s->dst;
	leg->dir = s->dir;
	vs_rtcp_stats__summary(&s->rtcp, leg);
	/* The E-model's delay: one way is half the RTCP round trip, when the
	 * endpoints sent SR/RR pairs we could match. */
	if (leg->present && leg->rtcp_rtt_mean_ms > 0) {
		leg->r_factor = vs_mos__r_factor(leg->codec, leg->loss_pct,
						 vs_cdr_leg__burst_ratio(leg),
						 leg->rtcp_rtt_mean_ms / 2);
		leg->mos = vs_mos__from_r(leg->r_factor);
	}
}

/* Digits are the direction's, whichever stream carried them (a re-INVITE
 * may move the media in the middle of dialling): all of them, oldest stream
 * first. */
static void legs_dtmf(struct vs_call *c, struct vs_call_stream *const best[2])
{
	struct vs_call_stream *order[VS_CALL_MAX_STREAMS];
	int n = 0;

	for (struct vs_call_stream *s = c->streams; s; s = s->next)
		order[n++] = s;
	for (int dir = 0; dir < 2; dir++) {
		struct vs_cdr_leg *leg = dir ? &c->cdr.b : &c->cdr.a;
		size_t len = 0;

		if (!best[dir])
			continue;
		leg->dtmf_events = 0;
		for (int i = n - 1; i >= 0; i--) {
			const struct vs_rtp_stream *r = &order[i]->rtp;

			if (order[i]->dir != dir)
				continue;
			leg->dtmf_events += r->dtmf_events;
			len += (size_t)snprintf(leg->dtmf + len,
						len < sizeof(leg->dtmf) ?
							sizeof(leg->dtmf) - len : 0,
						"%s", r->dtmf);
			if (len >= sizeof(leg->dtmf))
				len = sizeof(leg->dtmf) - 1;
		}
	}
}

/* Which stream a CDR direction shows: one on SDP endpoints before one joined
 * by SSRC (a relayed copy), then the one with more packets. */
static int stream_better(const struct vs_call_stream *s,
			 const struct vs_call_stream *than)
{
	if (!than)
		return 1;
	if (s->by_ssrc != than->by_ssrc)
		return !s->by_ssrc;
	return s->rtp.received > than->rtp.received;
}

/* The CDR shows, per direction, the audio stream stream_better picks, and
 * lists every stream. Returns the list to free after the CDR is stored. */
struct vs_cdr_leg *vs_media__fill_legs(struct vs_call *c)
{
	struct vs_call_stream *best[2] = { NULL, NULL }, *s;
	struct vs_cdr_leg *all;
	uint32_t n = 0;

	for (s = c->streams; s; s = s->next) {
		if (s->is_video)
			continue;
		if (stream_better(s, best[s->dir]))
			best[s->dir] = s;
	}
	if (best[0])
		stream_leg(best[0], &c->cdr.a);
	if (best[1])
		stream_leg(best[1], &c->cdr.b);
	legs_dtmf(c, best);
	all = c->nstreams ? calloc(c->nstreams, sizeof(*all)) : NULL;
	if (!all)
		return NULL;
	/* oldest stream first (the list is newest first) */
	for (s = c->streams; s; s = s->next)
		stream_leg(s, &all[c->nstreams - 1 - n++]);
	c->cdr.streams = all;
	c->cdr.n_streams = n;
	return all;
}
