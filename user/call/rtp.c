// SPDX-License-Identifier: GPL-2.0-or-later
/* call/rtp: RTP header parsing and per-stream statistics. How every figure
 * is computed, and why, is in docs/quality.md; the jitter follows
 * Wireshark's rtppacket_analyse() so that our numbers equal tshark's. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "call/rtp.h"

#define RTP_HDR_LEN 12
#define MAX_DROPOUT 3000	/* RFC 3550 A.1 */
#define MAX_MISORDER 100
#define WINDOW 64		/* bits in seen_window */
#define PT_CN 13
#define PT_CN_OLD 19

/* Bits of vs_rtp_stream.have_transit (the field is private to this file). */
#define F_PREV_CN 2	/* the previous packet was comfort noise */
#define F_PREV_AUDIO 4	/* the previous packet was audio, in order */

enum seq_class { SEQ_NEXT, SEQ_ADVANCE, SEQ_DUP, SEQ_LATE, SEQ_RESTART };

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

int vs_rtp__parse(const uint8_t *buf, size_t len, struct vs_rtp_hdr *h)
{
	return vs_rtp__parse_cut(buf, len, 0, h);
}

int vs_rtp__parse_cut(const uint8_t *buf, size_t len, size_t cut,
		      struct vs_rtp_hdr *h)
{
	size_t off, pad = 0;

	if (len < RTP_HDR_LEN || buf[0] >> 6 != 2)
		return -EINVAL;
	h->version = 2;
	h->padding = (buf[0] >> 5) & 1;
	h->extension = (buf[0] >> 4) & 1;
	h->csrc_count = buf[0] & 0x0f;
	h->marker = buf[1] >> 7;
	h->pt = buf[1] & 0x7f;
	/* 72-76 with the marker bit are RTCP SR/RR/SDES/BYE/APP (RFC 5761). */
	if (h->pt >= 72 && h->pt <= 76)
		return -EINVAL;
	h->seq = rd16(buf + 2);
	h->ts = rd32(buf + 4);
	h->ssrc = rd32(buf + 8);
	off = RTP_HDR_LEN + 4u * h->csrc_count;
	if (off > len)
		return -EINVAL;
	if (h->extension) {
		if (off + 4 > len)
			return -EINVAL;
		off += 4 + 4u * rd16(buf + off + 2);
		if (off > len)
			return -EINVAL;
	}
	if (h->padding && !cut) {
		/* The count includes itself, so 0 is invalid. */
		pad = buf[len - 1];
		if (pad == 0 || pad > len - off)
			return -EINVAL;
	}
	h->payload = buf + off;
	h->payload_len = (uint32_t)(len - off - pad);
	return 0;
}

int vs_rtcp__is_rtcp(const uint8_t *buf, size_t len)
{
	/* The smallest RTCP packet is an RR without blocks: 8 bytes. */
	return len >= 8 && buf[0] >> 6 == 2 && buf[1] >= 200 && buf[1] <= 207;
}

void vs_rtp_stream__init(struct vs_rtp_stream *s, uint32_t ssrc, uint8_t pt,
			 uint32_t clock_rate, uint8_t event_pt)
{
	memset(s, 0, sizeof(*s));
	s->ssrc = ssrc;
	s->pt = pt;
	/* Without a known rate we assume narrowband telephony. */
	s->clock_rate = clock_rate ? clock_rate : 8000;
	s->event_pt = event_pt;
}

static void burst_add(struct vs_rtp_stream *s, uint32_t n)
{
	if (n)
		s->loss_burst[(n < VS_CDR_LOSS_BURSTS ? n : VS_CDR_LOSS_BURSTS) - 1]++;
}

static void burst_remove(struct vs_rtp_stream *s, uint32_t n)
{
	uint32_t *b;

	if (!n)
		return;
	b = &s->loss_burst[(n < VS_CDR_LOSS_BURSTS ? n : VS_CDR_LOSS_BURSTS) - 1];
	if (*b)
		(*b)--;
}

/* A late packet at window position p filled a hole: the burst it belonged
 * to splits into the zeros newer and older than p. Runs reaching past the
 * window edge are measured up to the edge (see docs/quality.md). */
static void burst_fill(struct vs_rtp_stream *s, uint32_t p)
{
	uint32_t span = s->max_ext_seq - s->base_ext_seq;
	uint32_t newer = 0, older = 0, q;

	for (q = p - 1; q > 0 && !((s->seen_window >> q) & 1); q--)
		newer++;
	for (q = p + 1; q < WINDOW && q <= span &&
			!((s->seen_window >> q) & 1); q++)
		older++;
	burst_remove(s, newer + older + 1);
	burst_add(s, newer);
	burst_add(s, older);
}

static enum seq_class seq_advance(struct vs_rtp_stream *s, uint32_t d)
{
	burst_add(s, d - 1);
	s->seen_window = d >= WINDOW ? 1 : (s->seen_window << d) | 1;
	s->max_ext_seq += d;
	return d == 1 ? SEQ_NEXT : SEQ_ADVANCE;
}

/* d <= 0: a duplicate, or a packet older than the highest seen. */
static enum seq_class seq_late(struct vs_rtp_stream *s, uint32_t ext,
			       uint32_t p)
{
	uint64_t bit = p < WINDOW ? (uint64_t)1 << p : 0;

	if (s->seen_window & bit) {
		s->duplicates++;
		return SEQ_DUP;
	}
	s->reordered++;
	if ((int32_t)(ext - s->base_ext_seq) < 0) {
		/* Before the first packet seen: the stream began earlier. */
		burst_add(s, s->base_ext_seq - ext - 1);
		s->base_ext_seq = ext;
	} else if (bit) {
		burst_fill(s, p);
	}
	s->seen_window |= bit;
	return SEQ_LATE;
}

/* A jump beyond MAX_DROPOUT/MAX_MISORDER restarts the sequence: the base
 * moves with it so that the packet adds one to expected and nothing to
 * lost. Without RFC 3550's probation, a lone stray packet costs two
 * restarts and no false loss. */
static enum seq_class seq_restart(struct vs_rtp_stream *s, int32_t d)
{
	s->base_ext_seq += (uint32_t)(d - 1);
	s->max_ext_seq += (uint32_t)d;
	s->seen_window = 1;
	return SEQ_RESTART;
}

static enum seq_class seq_update(struct vs_rtp_stream *s, uint16_t seq)
{
	int32_t d = (int16_t)(uint16_t)(seq - (uint16_t)s->max_ext_seq);

	if (d > 0 && d < MAX_DROPOUT)
		return seq_advance(s, (uint32_t)d);
	if (d <= 0 && d >= -MAX_MISORDER)
		return seq_late(s, s->max_ext_seq + (uint32_t)d, (uint32_t)-d);
	return seq_restart(s, d);
}

/* Boyer-Moore majority vote over timestamp steps; ptime_ts packs the
 * candidate (low 16 bits) and its count (high 16 bits). */
static void ptime_vote(struct vs_rtp_stream *s, uint32_t step)
{
	uint32_t cand = s->ptime_ts & 0xffff, cnt = s->ptime_ts >> 16;

	if (!step || step > 0xffff)
		return;
	if (step == cand)
		cnt += cnt < 0xffff;
	else if (cnt == 0)
		cand = step, cnt = 1;
	else
		cnt--;
	s->ptime_ts = cnt << 16 | cand;
}

/* d in timestamp units; compared as d * 1000 >= edge_ms * clock to keep a
 * division off the per-packet path. */
static void delay_count(struct vs_rtp_stream *s, double d)
{
	static const double edge[VS_CDR_DELAY_BUCKETS] = VS_CDR_DELAY_EDGES;
	double d1000 = d * 1000;
	int i;

	if (d1000 < edge[0] * s->clock_rate)
		return;
	for (i = VS_CDR_DELAY_BUCKETS - 1; i >= 0; i--) {
		if (d1000 >= edge[i] * s->clock_rate) {
			s->delay[i]++;
			return;
		}
	}
}

/* tshark's mean: at a regular packet with n packets before it, mean =
 * (mean * (n - 1) + J) / n, so skipped packets weigh as the running mean.
 * jitter_sum / jitter_n is that mean, jitter_n the n of the last update. */
static void jitter_mean(struct vs_rtp_stream *s)
{
	uint32_t n = s->received - 1;

	/* Without skipped packets since the last update this is a plain sum;
	 * only after a skip does the mean need re-weighting. */
	if (s->jitter_n && s->jitter_n != n - 1)
		s->jitter_sum = s->jitter_sum / s->jitter_n * (n - 1);
	s->jitter_sum += s->jitter;
	s->jitter_n = n;
}

/* RFC 3550 6.4.1 as tshark 4.0 computes it. A packet whose timestamp is
 * before the first packet's is ignored. Otherwise D compares the arrival
 * interval since the previous such packet (of any payload type) with the
 * timestamp interval since the previous such non-event packet; every
 * non-event packet updates J; max and mean skip marker, CN and after-CN
 * packets. last_transit holds the extended timestamp of last_rtp_ts
 * relative to the first packet's. */
static void jitter_update(struct vs_rtp_stream *s, const struct vs_rtp_hdr *h,
			  uint64_t arrival_us, int is_event, enum seq_class c)
{
	int32_t ts_diff = (int32_t)(h->ts - s->last_rtp_ts);
	int64_t dt_us = (int64_t)(arrival_us - s->last_arrival_us);
	int is_cn = h->pt == PT_CN || h->pt == PT_CN_OLD;
	int prev_audio = s->have_transit & F_PREV_AUDIO;
	int prev_cn = s->have_transit & F_PREV_CN;
	double d;

	s->have_transit = is_cn ? F_PREV_CN : 0;
	if (s->last_transit + ts_diff < 0)
		return;
	s->last_arrival_us = arrival_us;
	if (is_event)
		return;
	d = fabs((double)dt_us * s->clock_rate * 1e-6 - ts_diff);
	s->jitter = (15 * s->jitter + d) / 16;
	delay_count(s, d);
	if (!h->marker && !is_cn && !prev_cn) {
		if (s->jitter > s->jitter_max)
			s->jitter_max = s->jitter;
		jitter_mean(s);
	}
	if (c == SEQ_NEXT && prev_audio)
		ptime_vote(s, (uint32_t)ts_diff);
	s->last_rtp_ts = h->ts;
	s->last_transit += ts_diff;
	if ((c == SEQ_NEXT || c == SEQ_ADVANCE) && !is_cn)
		s->have_transit |= F_PREV_AUDIO;
}

static char dtmf_char(uint8_t ev)
{
	static const char map[] = "0123456789*#ABCD";

	return ev < 16 ? map[ev] : 0;
}

/* RFC 4733: all packets of one event carry its start timestamp, so a new
 * timestamp is a new event and retransmitted end packets are not. */
static void dtmf_update(struct vs_rtp_stream *s, const struct vs_rtp_hdr *h)
{
	size_t n;
	char c;

	if (h->payload_len < 4)
		return;
	if (s->dtmf_active && (int32_t)(h->ts - s->dtmf_last_ts) <= 0)
		return;
	s->dtmf_active = 1;
	s->dtmf_last_ts = h->ts;
	c = dtmf_char(h->payload[0]);
	if (!c)
		return;
	s->dtmf_events++;
	n = strnlen(s->dtmf, sizeof(s->dtmf) - 1);
	if (n < sizeof(s->dtmf) - 1) {
		s->dtmf[n] = c;
		s->dtmf[n + 1] = 0;
	}
}

static void first_packet(struct vs_rtp_stream *s, const struct vs_rtp_hdr *h,
			 uint64_t arrival_us, int is_event)
{
	/* Start one cycle up so that a late packet before the first one can
	 * extend the base backwards without going below zero. */
	s->base_ext_seq = s->max_ext_seq = 65536u + h->seq;
	s->seen_window = 1;
	s->first_us = s->last_us = arrival_us;
	s->last_arrival_us = arrival_us;
	s->last_rtp_ts = h->ts;
	s->last_transit = 0;
	if (h->pt == PT_CN || h->pt == PT_CN_OLD)
		s->have_transit = F_PREV_CN;
	else if (!is_event)
		s->have_transit = F_PREV_AUDIO;
}

void vs_rtp_stream__packet(struct vs_rtp_stream *s, const struct vs_rtp_hdr *h,
			   uint64_t arrival_us)
{
	int is_event = s->event_pt != 0xff && h->pt == s->event_pt;
	enum seq_class c;

	s->received++;
	if (s->received == 1) {
		first_packet(s, h, arrival_us, is_event);
	} else {
		s->last_us = arrival_us;
		c = seq_update(s, h->seq);
		jitter_update(s, h, arrival_us, is_event, c);
	}
	if (is_event)
		dtmf_update(s, h);
}

/* G.107 BurstR: mean observed burst length over the mean expected for
 * random loss at the same rate, 1 / (1 - p). */
double vs_cdr_leg__burst_ratio(const struct vs_cdr_leg *l)
{
	uint64_t bursts = 0;
	double p = l->loss_pct / 100.0;
	int i;

	for (i = 0; i < VS_CDR_LOSS_BURSTS; i++)
		bursts += l->loss_burst[i];
	if (!bursts || !l->lost || p >= 1.0)
		return 1.0;
	return (double)l->lost / (double)bursts * (1 - p);
}

static void summary_seq(const struct vs_rtp_stream *s, struct vs_cdr_leg *out)
{
	uint64_t expected = (uint64_t)(s->max_ext_seq - s->base_ext_seq) + 1;
	uint64_t unique = s->received - s->duplicates;

	out->packets = s->received;
	out->duplicates = s->duplicates;
	out->reordered = s->reordered;
	out->lost = expected > unique ? expected - unique : 0;
	out->loss_pct = 100.0 * (double)out->lost / (double)expected;
	memcpy(out->loss_burst, s->loss_burst, sizeof(out->loss_burst));
}

void vs_rtp_stream__summary(const struct vs_rtp_stream *s, const char *codec,
			    struct vs_cdr_leg *out)
{
	double ms_per_unit = 1000.0 / s->clock_rate;

	out->present = s->received > 0;
	out->ssrc = s->ssrc;
	out->payload_type = s->pt;
	out->clock_rate = s->clock_rate;
	out->first_us = s->first_us;
	out->last_us = s->last_us;
	out->ptime_ms = (uint16_t)lround((s->ptime_ts & 0xffff) * ms_per_unit);
	out->jitter_max_ms = s->jitter_max * ms_per_unit;
	out->jitter_mean_ms =
		s->jitter_n ? s->jitter_sum / s->jitter_n * ms_per_unit : 0;
	memcpy(out->delay, s->delay, sizeof(out->delay));
	out->dtmf_events = s->dtmf_events;
	memcpy(out->dtmf, s->dtmf, sizeof(out->dtmf));
	out->dtmf[sizeof(out->dtmf) - 1] = 0;
	if (!s->received) {
		out->packets = out->lost = out->duplicates = out->reordered = 0;
		out->loss_pct = 0;
		memset(out->loss_burst, 0, sizeof(out->loss_burst));
		out->r_factor = out->mos = 0;
		return;
	}
	summary_seq(s, out);
	/* Delay is 0 here: the caller adds RTCP RTT / 2 once it is known. */
	out->r_factor = vs_mos__r_factor(codec, out->loss_pct,
					 vs_cdr_leg__burst_ratio(out), 0);
	out->mos = vs_mos__from_r(out->r_factor);
}
