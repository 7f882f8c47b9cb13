// SPDX-License-Identifier: GPL-2.0-or-later
/* call/rtcp: compound RTCP parsing (RFC 3550 6.4) and the per-stream
 * figures taken from receiver reports: loss, jitter and the round-trip time
 * seen from the capture point (docs/quality.md). */
#include <errno.h>
#include <string.h>

#include "call/rtp.h"

#define RTCP_SR 200
#define RTCP_RR 201
#define SENDER_INFO_LEN 20
#define BLOCK_LEN 24

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void block_parse(const uint8_t *p, struct vs_rtcp_block *b)
{
	uint32_t cum = rd32(p + 4) & 0xffffff;

	b->ssrc = rd32(p);
	b->fraction_lost = p[4];
	/* 24-bit two's complement: sign-extend bit 23. */
	b->cum_lost = (int32_t)(cum ^ 0x800000) - 0x800000;
	b->ext_max_seq = rd32(p + 8);
	b->jitter = rd32(p + 12);
	b->lsr = rd32(p + 16);
	b->dlsr = rd32(p + 20);
}

/* One SR or RR of len bytes (header included, padding excluded). */
static int report_parse(const uint8_t *p, size_t len, struct vs_rtcp_info *out,
			int *have_sender)
{
	int is_sr = p[1] == RTCP_SR;
	size_t off = 8 + (is_sr ? SENDER_INFO_LEN : 0);
	unsigned int rc = p[0] & 0x1f, i;

	if (len < off + (size_t)rc * BLOCK_LEN)
		return -EINVAL;
	if (!*have_sender) {
		out->sender_ssrc = rd32(p + 4);
		*have_sender = 1;
	}
	if (is_sr && !out->has_sr) {
		out->has_sr = 1;
		/* Low 16 bits of the NTP seconds, high 16 of the fraction. */
		out->sr_ntp_mid = rd32(p + 10);
	}
	for (i = 0; i < rc && out->n_blocks < VS_RTCP_MAX_BLOCKS; i++)
		block_parse(p + off + i * BLOCK_LEN, &out->blocks[out->n_blocks++]);
	return 0;
}

int vs_rtcp__parse(const uint8_t *buf, size_t len, struct vs_rtcp_info *out)
{
	int have_sender = 0, err;
	size_t off = 0, plen, body;

	memset(out, 0, sizeof(*out));
	if (len < 4)
		return -EINVAL;
	while (off < len) {
		const uint8_t *p = buf + off;

		/* Fewer than 4 trailing octets after a packet are ignored, as
		 * tshark does: some stacks append a few bytes of junk. */
		if (len - off < 4 && off)
			break;
		if (p[0] >> 6 != 2)
			return -EINVAL;
		plen = 4 * ((size_t)(p[2] << 8 | p[3]) + 1);
		if (plen > len - off)
			return -EINVAL;
		body = plen;
		if (p[0] & 0x20) {
			/* Padding count in the last octet, covering itself. */
			if (p[plen - 1] == 0 || p[plen - 1] > plen - 4)
				return -EINVAL;
			body -= p[plen - 1];
		}
		if (p[1] == RTCP_SR || p[1] == RTCP_RR) {
			err = report_parse(p, body, out, &have_sender);
			if (err)
				return err;
		}
		off += plen;
	}
	return 0;
}

void vs_rtcp_stats__sr(struct vs_rtcp_stats *st, uint32_t ntp_mid,
		       uint64_t seen_us)
{
	st->sr[st->sr_next].ntp_mid = ntp_mid;
	st->sr[st->sr_next].seen_us = seen_us;
	st->sr_next = (uint8_t)((st->sr_next + 1) % VS_RTCP_SR_HISTORY);
}

/* RTT from the capture point to the report's sender and back: the time
 * between our sight of the SR and of the RR, minus the DLSR the receiver
 * held it. Negative results within clock granularity are 0; larger ones
 * mean a mismatched SR and are dropped. */
static void rtt_account(struct vs_rtcp_stats *st, const struct vs_rtcp_block *b,
			uint64_t seen_us)
{
	double rtt_ms;
	int i;

	if (!b->lsr)
		return;
	for (i = 0; i < VS_RTCP_SR_HISTORY; i++) {
		if (st->sr[i].seen_us && st->sr[i].ntp_mid == b->lsr)
			break;
	}
	if (i == VS_RTCP_SR_HISTORY || seen_us < st->sr[i].seen_us)
		return;
	rtt_ms = (double)(seen_us - st->sr[i].seen_us) / 1000.0 -
		 b->dlsr * 1000.0 / 65536.0;
	if (rtt_ms < -5.0)
		return;
	if (rtt_ms < 0)
		rtt_ms = 0;
	st->rtt_sum_ms += rtt_ms;
	st->rtt_n++;
	if (rtt_ms > st->rtt_max_ms)
		st->rtt_max_ms = rtt_ms;
}

void vs_rtcp_stats__block(struct vs_rtcp_stats *st,
			  const struct vs_rtcp_block *b, uint32_t clock_rate,
			  uint64_t seen_us)
{
	double fl = b->fraction_lost * 100.0 / 256.0;
	double jit = b->jitter * 1000.0 / (clock_rate ? clock_rate : 8000);

	st->reports++;
	st->last_cum_lost = b->cum_lost;
	if (fl > st->fraction_lost_max)
		st->fraction_lost_max = fl;
	st->jitter_sum_ms += jit;
	if (jit > st->jitter_max_ms)
		st->jitter_max_ms = jit;
	rtt_account(st, b, seen_us);
}

void vs_rtcp_stats__summary(const struct vs_rtcp_stats *st,
			    struct vs_cdr_leg *out)
{
	out->rtcp_packets = st->packets;
	out->rtcp_reports = st->reports;
	out->rtcp_lost = st->last_cum_lost;
	out->rtcp_fraction_lost_max = st->fraction_lost_max;
	out->rtcp_jitter_mean_ms =
		st->reports ? st->jitter_sum_ms / st->reports : 0;
	out->rtcp_jitter_max_ms = st->jitter_max_ms;
	out->rtcp_rtt_mean_ms = st->rtt_n ? st->rtt_sum_ms / st->rtt_n : 0;
	out->rtcp_rtt_max_ms = st->rtt_n ? st->rtt_max_ms : 0;
}
