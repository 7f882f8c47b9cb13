// SPDX-License-Identifier: GPL-2.0-or-later
/* RTP parsing and stream statistics (user/call/rtp.c): synthetic sequences
 * with analytically known results, then real captures against the tshark
 * 4.0.17 oracles in ../shared/pcaps/oracle. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "call/rtp.h"

#define T0 1700000000000000ull
#define EPS 1e-9

static void feed_pt(struct vs_rtp_stream *s, uint16_t seq, uint32_t ts,
		    uint64_t t_us, uint8_t pt, int marker, const uint8_t *pl,
		    uint32_t pl_len)
{
	struct vs_rtp_hdr h = { .version = 2, .marker = (uint8_t)marker,
				.pt = pt, .seq = seq, .ts = ts,
				.ssrc = s->ssrc, .payload = pl,
				.payload_len = pl_len };

	vs_rtp_stream__packet(s, &h, t_us);
}

/* Audio packet n of a 20 ms PCMU stream: seq0 + n, ts 160 n, t 20 n ms. */
static void feed(struct vs_rtp_stream *s, uint16_t seq0, uint32_t n,
		 int64_t late_us)
{
	feed_pt(s, (uint16_t)(seq0 + n), 1000 + 160 * n,
		T0 + 20000ull * n + (uint64_t)late_us, 0, 0, NULL, 0);
}

static struct vs_cdr_leg summary(const struct vs_rtp_stream *s)
{
	struct vs_cdr_leg l;

	memset(&l, 0, sizeof(l));
	vs_rtp_stream__summary(s, "PCMU", &l);
	return l;
}

static void new_stream(struct vs_rtp_stream *s)
{
	vs_rtp_stream__init(s, 0x1234, 0, 8000, 101);
}

/* --- header parsing ----------------------------------------------------- */

Test(rtp_parse, fields_csrc_extension)
{
	uint8_t b[12 + 8 + 8 + 3] = {
		0x92, 0x88, 0x12, 0x34, 0, 0, 0x01, 0x40, 0xde, 0xad, 0xbe, 0xef,
		0, 0, 0, 1, 0, 0, 0, 2,		/* 2 CSRC */
		0xbe, 0xde, 0x00, 0x01, 1, 2, 3, 4, /* extension, 1 word */
		0xa, 0xb, 0xc,
	};
	struct vs_rtp_hdr h;
	size_t len;

	cr_assert_eq(vs_rtp__parse(b, sizeof(b), &h), 0);
	cr_expect_eq(h.version, 2);
	cr_expect_eq(h.extension, 1);
	cr_expect_eq(h.csrc_count, 2);
	cr_expect_eq(h.marker, 1);
	cr_expect_eq(h.pt, 8);
	cr_expect_eq(h.seq, 0x1234);
	cr_expect_eq(h.ts, 320u);
	cr_expect_eq(h.ssrc, 0xdeadbeefu);
	cr_expect_eq(h.payload, b + 28);
	cr_expect_eq(h.payload_len, 3u);
	/* Every truncation into the header is malformed; after it, the
	 * payload shrinks. */
	for (len = 0; len < sizeof(b); len++) {
		int err = vs_rtp__parse(b, len, &h);

		if (len < 28)
			cr_expect_eq(err, -EINVAL, "len %zu", len);
		else
			cr_expect(!err && h.payload_len == len - 28, "len %zu", len);
	}
}

Test(rtp_parse, padding)
{
	uint8_t b[12 + 6] = { 0xa0, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1,
			      0xff, 0xff, 0xff, 0xff, 0xff, 3 };
	struct vs_rtp_hdr h;
	size_t len;

	cr_assert_eq(vs_rtp__parse(b, sizeof(b), &h), 0);
	cr_expect_eq(h.padding, 1);
	cr_expect_eq(h.payload_len, 3u);
	/* Shorter: the last octet is 0xff (or header), too much padding. */
	for (len = 0; len < sizeof(b); len++)
		cr_expect_eq(vs_rtp__parse(b, len, &h), -EINVAL, "len %zu", len);
	b[17] = 0;	/* a zero pad count is invalid */
	cr_expect_eq(vs_rtp__parse(b, sizeof(b), &h), -EINVAL);
	b[17] = 6;	/* all of the payload is padding */
	cr_expect_eq(vs_rtp__parse(b, sizeof(b), &h), 0);
	cr_expect_eq(h.payload_len, 0u);
	b[17] = 7;
	cr_expect_eq(vs_rtp__parse(b, sizeof(b), &h), -EINVAL);
}

/* Cut by the capture (the kernel's header-only copy): the header must be
 * whole; the padding, at the end, is not known and not checked. */
Test(rtp_parse, cut)
{
	uint8_t b[12 + 4 + 6] = { 0xa1, 0x65, 0, 7, 0, 0, 1, 0, 0, 0, 0, 1,
				  0, 0, 0, 9,			 /* a CSRC */
				  5, 0x80, 0x01, 0x40, 0xee, 2 }; /* pad 2 */
	struct vs_rtp_hdr h;

	cr_assert_eq(vs_rtp__parse_cut(b, 16 + 4, 2, &h), 0);
	cr_expect_eq(h.seq, 7);
	cr_expect_eq(h.pt, 101);
	cr_expect_eq(h.payload, b + 16);
	cr_expect_eq(h.payload_len, 4u, "what was captured");
	cr_expect_eq(vs_rtp__parse_cut(b, 14, 8, &h), -EINVAL, "CSRC cut");
	cr_assert_eq(vs_rtp__parse(b, sizeof(b), &h), 0);
	cr_expect_eq(h.payload_len, 4u, "whole: less its padding");
}

Test(rtp_parse, rejects)
{
	uint8_t b[12] = { 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 };
	struct vs_rtp_hdr h;
	int pt;

	b[0] = 0x40;
	cr_expect_eq(vs_rtp__parse(b, sizeof(b), &h), -EINVAL);
	b[0] = 0xc0;
	cr_expect_eq(vs_rtp__parse(b, sizeof(b), &h), -EINVAL);
	b[0] = 0x80;
	for (pt = 200; pt <= 204; pt++) {
		b[1] = (uint8_t)pt;	/* RTCP SR..APP read as M + PT 72..76 */
		cr_expect_eq(vs_rtp__parse(b, sizeof(b), &h), -EINVAL);
		cr_expect(vs_rtcp__is_rtcp(b, 8));
	}
	b[1] = 0xcd;	/* 205: RTPFB, RTCP, but M + PT 77 is legal RTP */
	cr_expect_eq(vs_rtp__parse(b, sizeof(b), &h), 0);
	cr_expect(vs_rtcp__is_rtcp(b, 8));
	b[1] = 0;
	cr_expect(!vs_rtcp__is_rtcp(b, 12));
	b[1] = 0x0e;	/* ext flag missing: 0x90 with 12 bytes is truncated */
	b[0] = 0x90;
	cr_expect_eq(vs_rtp__parse(b, sizeof(b), &h), -EINVAL);
}

/* --- sequence accounting ------------------------------------------------ */

Test(rtp_stream, in_order)
{
	struct vs_rtp_stream s;
	struct vs_cdr_leg l;
	uint32_t i;

	new_stream(&s);
	for (i = 0; i < 50; i++)
		feed(&s, 1000, i, 0);
	l = summary(&s);
	cr_expect_eq(l.present, 1);
	cr_expect_eq(l.ssrc, 0x1234u);
	cr_expect_eq(l.clock_rate, 8000u);
	cr_expect_eq(l.packets, 50u);
	cr_expect_eq(l.lost, 0u);
	cr_expect_eq(l.duplicates, 0u);
	cr_expect_eq(l.reordered, 0u);
	cr_expect_eq(l.loss_pct, 0.0);
	cr_expect_eq(l.jitter_max_ms, 0.0);
	cr_expect_eq(l.jitter_mean_ms, 0.0);
	cr_expect_eq(l.ptime_ms, 20);
	cr_expect_eq(l.first_us, T0);
	cr_expect_eq(l.last_us, T0 + 49 * 20000);
	cr_expect(fabs(l.r_factor - 93.2) < 1e-6);
	cr_expect(fabs(l.mos - 4.409286) < 1e-6);
	for (i = 0; i < VS_CDR_LOSS_BURSTS; i++)
		cr_expect_eq(l.loss_burst[i], 0u);
}

Test(rtp_stream, loss_bursts)
{
	struct vs_rtp_stream s;
	struct vs_cdr_leg l;
	uint32_t i;
	double br, r;

	new_stream(&s);
	for (i = 0; i < 100; i++) {
		if (i == 5 || (i >= 10 && i <= 12) || (i >= 20 && i <= 34) ||
		    i == 50 || i == 52)
			continue;
		feed(&s, 0, i, 0);
	}
	l = summary(&s);
	cr_expect_eq(l.packets, 79u);
	cr_expect_eq(l.lost, 21u);
	cr_expect(fabs(l.loss_pct - 21.0) < EPS);
	cr_expect_eq(l.loss_burst[0], 3u);
	cr_expect_eq(l.loss_burst[1], 0u);
	cr_expect_eq(l.loss_burst[2], 1u);
	cr_expect_eq(l.loss_burst[9], 1u);
	/* BurstR = mean burst (21 / 5) * (1 - p); G.711 Bpl 25.1. */
	br = 21.0 / 5 * (1 - 0.21);
	r = 93.2 - 95 * 21 / (21 / br + 25.1);
	cr_expect(fabs(l.r_factor - r) < 1e-9, "%f != %f", l.r_factor, r);
}

Test(rtp_stream, duplicates)
{
	struct vs_rtp_stream s;
	struct vs_cdr_leg l;
	uint32_t i;

	new_stream(&s);
	for (i = 0; i < 20; i++) {
		feed(&s, 0, i, 0);
		if (i == 5)
			feed(&s, 0, 5, 1000);
		if (i == 15)
			feed(&s, 0, 10, 2000);	/* late duplicate in window */
	}
	l = summary(&s);
	cr_expect_eq(l.packets, 22u);
	cr_expect_eq(l.duplicates, 2u);
	cr_expect_eq(l.reordered, 0u);
	cr_expect_eq(l.lost, 0u);
}

Test(rtp_stream, reordered_swap_and_partial_fill)
{
	struct vs_rtp_stream s;
	struct vs_cdr_leg l;
	uint32_t i;

	new_stream(&s);
	for (i = 0; i < 20; i++)
		feed(&s, 0, i == 7 ? 8 : i == 8 ? 7 : i, 0);
	l = summary(&s);
	cr_expect_eq(l.reordered, 1u);
	cr_expect_eq(l.lost, 0u);
	cr_expect_eq(l.loss_burst[0], 0u);

	/* 0..3, 7 (burst of 3), then 5: bursts 4 and 6 remain. */
	new_stream(&s);
	for (i = 0; i < 4; i++)
		feed(&s, 0, i, 0);
	feed(&s, 0, 7, 0);
	cr_expect_eq(s.loss_burst[2], 1u);
	feed(&s, 0, 5, 0);
	l = summary(&s);
	cr_expect_eq(l.reordered, 1u);
	cr_expect_eq(l.lost, 2u);
	cr_expect_eq(l.loss_burst[0], 2u);
	cr_expect_eq(l.loss_burst[2], 0u);
}

Test(rtp_stream, wrap_around)
{
	struct vs_rtp_stream s;
	struct vs_cdr_leg l;
	uint32_t i;

	new_stream(&s);
	for (i = 0; i < 20; i++)
		feed(&s, 65530, i, 0);
	l = summary(&s);
	cr_expect_eq(l.packets, 20u);
	cr_expect_eq(l.lost, 0u);

	/* 65535 and 0 lost: one burst of 2 across the wrap. */
	new_stream(&s);
	for (i = 0; i < 20; i++)
		if (i != 5 && i != 6)
			feed(&s, 65530, i, 0);
	l = summary(&s);
	cr_expect_eq(l.lost, 2u);
	cr_expect_eq(l.loss_burst[1], 1u);
	cr_expect(fabs(l.loss_pct - 10.0) < EPS);
}

Test(rtp_stream, reordered_first_packet)
{
	struct vs_rtp_stream s;
	struct vs_cdr_leg l;
	uint32_t i;

	new_stream(&s);
	feed(&s, 100, 1, 0);
	feed(&s, 100, 0, 0);
	for (i = 2; i < 10; i++)
		feed(&s, 100, i, 0);
	l = summary(&s);
	cr_expect_eq(l.lost, 0u);
	cr_expect_eq(l.reordered, 1u);
	cr_expect_eq(l.packets, 10u);

	/* 103, then 100: the base moves back, 101 and 102 are missing;
	 * then 101 arrives. */
	new_stream(&s);
	feed(&s, 100, 3, 0);
	feed(&s, 100, 0, 0);
	l = summary(&s);
	cr_expect_eq(l.lost, 2u);
	cr_expect_eq(l.loss_burst[1], 1u);
	feed(&s, 100, 1, 0);
	feed(&s, 100, 4, 0);
	l = summary(&s);
	cr_expect_eq(l.lost, 1u);
	cr_expect_eq(l.reordered, 2u);
	cr_expect_eq(l.loss_burst[0], 1u);
	cr_expect_eq(l.loss_burst[1], 0u);

	/* First packet at seq 1, then 65535: the base crosses zero. */
	new_stream(&s);
	feed_pt(&s, 1, 160, T0, 0, 0, NULL, 0);
	feed_pt(&s, 65535, 0, T0 + 1000, 0, 0, NULL, 0);
	l = summary(&s);
	cr_expect_eq(l.lost, 1u);
	cr_expect_eq(l.reordered, 1u);
}

Test(rtp_stream, late_beyond_window)
{
	struct vs_rtp_stream s;
	struct vs_cdr_leg l;
	uint32_t i;

	new_stream(&s);
	for (i = 0; i <= 80; i++)
		if (i != 1)
			feed(&s, 0, i, 0);
	feed(&s, 0, 1, 0);	/* 79 behind: past the 64-bit window */
	l = summary(&s);
	cr_expect_eq(l.reordered, 1u);
	cr_expect_eq(l.duplicates, 0u);
	cr_expect_eq(l.lost, 0u);
	/* Documented limit: a burst out of the window is not revised. */
	cr_expect_eq(l.loss_burst[0], 1u);
}

Test(rtp_stream, large_jumps_restart)
{
	struct vs_rtp_stream s;
	struct vs_cdr_leg l;
	uint32_t i;

	new_stream(&s);
	for (i = 0; i < 10; i++)
		feed(&s, 0, i, 0);
	for (i = 10; i < 20; i++)
		feed(&s, 5000, i, 0);	/* forward jump > MAX_DROPOUT */
	for (i = 20; i < 30; i++)
		feed(&s, 60000, i, 0);	/* backward jump > MAX_MISORDER */
	l = summary(&s);
	cr_expect_eq(l.packets, 30u);
	cr_expect_eq(l.lost, 0u);
	cr_expect_eq(l.reordered, 0u);
	cr_expect_eq(l.duplicates, 0u);

	/* Loss after a restart still counts. */
	feed(&s, 60000, 32, 0);
	l = summary(&s);
	cr_expect_eq(l.lost, 2u);
}

/* --- jitter --------------------------------------------------------------- */

/* Arrivals alternate on time / 5 ms late: every packet after the first has
 * |D| = 5 ms, so J_k = 5 (1 - (15/16)^k) ms after k packets. */
Test(rtp_jitter, constant_d_is_analytic)
{
	const double q = 15.0 / 16.0;
	const int n = 100;
	struct vs_rtp_stream s;
	struct vs_cdr_leg l;
	double jmax, jmean;
	int i;

	new_stream(&s);
	for (i = 0; i < n; i++)
		feed(&s, 0, (uint32_t)i, (i & 1) ? 5000 : 0);
	l = summary(&s);
	jmax = 5 * (1 - pow(q, n - 1));
	/* mean over the n - 1 updates: sum (1 - q^k) = m - q (1 - q^m)/(1 - q) */
	jmean = 5 * ((n - 1) - q * (1 - pow(q, n - 1)) / (1 - q)) / (n - 1);
	cr_expect(fabs(l.jitter_max_ms - jmax) < 1e-9, "%.12f", l.jitter_max_ms);
	cr_expect(fabs(l.jitter_mean_ms - jmean) < 1e-9, "%.12f",
		  l.jitter_mean_ms);
	cr_expect(fabs(s.jitter - jmax * 8) < 1e-9); /* timestamp units */
	for (i = 0; i < VS_CDR_DELAY_BUCKETS; i++)
		cr_expect_eq(l.delay[i], 0u);
}

/* Marker packets update J but are left out of max (as tshark). */
Test(rtp_jitter, marker_not_in_max)
{
	struct vs_rtp_stream s;
	struct vs_cdr_leg l;
	uint32_t i;

	new_stream(&s);
	for (i = 0; i < 10; i++)
		feed(&s, 0, i, 0);
	feed_pt(&s, 10, 1000 + 1600, T0 + 200000 + 16000, 0, 1, NULL, 0);
	cr_expect(fabs(s.jitter - 8.0) < EPS);	/* 128 / 16 */
	cr_expect_eq(s.jitter_max, 0.0);
	feed(&s, 0, 11, 0);	/* D = 16 ms again (4 ms after a late one) */
	l = summary(&s);
	cr_expect(fabs(l.jitter_max_ms - 15.5 / 8) < EPS);
}

/* A timestamp before the first packet's is ignored entirely (tshark). */
Test(rtp_jitter, timestamp_before_first)
{
	static const uint32_t seq[] = { 2, 1, 3, 4, 5, 6 };
	struct vs_rtp_stream s;
	struct vs_cdr_leg l;
	int i;

	new_stream(&s);
	for (i = 0; i < 6; i++)
		feed_pt(&s, (uint16_t)seq[i], 160 * seq[i],
			T0 + 20000ull * (i + 1), 0, 0, NULL, 0);
	l = summary(&s);
	cr_expect(fabs(l.jitter_max_ms - 1.25) < EPS);
	cr_expect(fabs(l.jitter_mean_ms - 4.55047607421875 / 5) < EPS);
}

/* Events do not update J, but their arrival is the next packet's
 * reference (tshark 4.0): an event 15 ms after audio n makes D = 15 ms
 * for audio n + 1. */
Test(rtp_jitter, events_move_arrival_reference)
{
	static const uint8_t ev[4] = { 1, 0x0a, 0, 160 };
	struct vs_rtp_stream s;
	struct vs_cdr_leg l;
	uint32_t i;

	vs_rtp_stream__init(&s, 0x1234, 0, 8000, 101);
	for (i = 0; i < 10; i++) {
		feed_pt(&s, (uint16_t)(2 * i), 160 * i, T0 + 20000ull * i, 0, 0,
			NULL, 0);
		if (i == 4)
			feed_pt(&s, 9, 640, T0 + 80000 + 15000, 101, 1, ev, 4);
		else
			feed_pt(&s, (uint16_t)(2 * i + 1), 160 * i,
				T0 + 20000ull * i, 101, 0, ev, 4);
	}
	l = summary(&s);
	cr_expect(fabs(l.jitter_max_ms - 15.0 / 16) < EPS, "%f", l.jitter_max_ms);
	cr_expect_eq(l.lost, 0u);
	cr_expect_eq(l.packets, 20u);
	cr_expect_eq(l.ptime_ms, 0);	/* no consecutive audio packets */
}

Test(rtp_jitter, delay_buckets)
{
	struct vs_rtp_stream s;
	struct vs_cdr_leg l;
	uint32_t i;

	new_stream(&s);
	for (i = 0; i < 40; i++)
		feed(&s, 0, i, i == 10 ? 60000 : i == 20 ? 250000 :
				     i == 30 ? 400000 : 0);
	l = summary(&s);
	/* Each late packet counts, and so does its on-time successor. */
	cr_expect_eq(l.delay[0], 2u);
	cr_expect_eq(l.delay[1], 0u);
	cr_expect_eq(l.delay[4], 0u);
	cr_expect_eq(l.delay[5], 2u);
	cr_expect_eq(l.delay[6], 2u);
}

/* --- DTMF and ptime ------------------------------------------------------ */

Test(rtp_dtmf, events_and_end_retransmits)
{
	uint8_t one[4] = { 1, 0x0a, 0, 0 }, hash[4] = { 11, 0x0a, 0, 0 };
	uint8_t flash[4] = { 16, 0x0a, 0, 0 };
	struct vs_rtp_stream s;
	struct vs_cdr_leg l;
	uint16_t seq = 0;
	uint32_t i;

	vs_rtp_stream__init(&s, 0x1234, 8, 8000, 101);
	for (i = 0; i < 10; i++, seq++)
		feed_pt(&s, seq, 160 * i, T0 + 20000ull * i, 8, 0, NULL, 0);
	for (i = 0; i < 6; i++, seq++) {
		one[1] = i >= 3 ? 0x8a : 0x0a;	/* 3 end packets */
		feed_pt(&s, seq, 1600, T0 + 200000 + 20000ull * i, 101, i == 0,
			one, 4);
	}
	feed_pt(&s, seq++, 1600, T0 + 320000, 101, 0, one, 3); /* truncated */
	for (i = 0; i < 4; i++, seq++)
		feed_pt(&s, seq, 3200, T0 + 400000 + 20000ull * i, 101, i == 0,
			hash, 4);
	feed_pt(&s, seq++, 4800, T0 + 500000, 101, 1, flash, 4);
	l = summary(&s);
	cr_expect_eq(l.dtmf_events, 2u);
	cr_expect_str_eq(l.dtmf, "1#");
	cr_expect_eq(l.packets, 22u);
	cr_expect_eq(l.lost, 0u);
	cr_expect_eq(l.ptime_ms, 20);
	cr_expect_eq(l.payload_type, 8);
}

Test(rtp_dtmf, digit_string_is_bounded)
{
	uint8_t ev[4] = { 0, 0x80, 0, 0 };
	struct vs_rtp_stream s;
	struct vs_cdr_leg l;
	uint32_t i;

	vs_rtp_stream__init(&s, 1, 0, 8000, 96);
	for (i = 0; i < 40; i++) {
		ev[0] = (uint8_t)(i % 16);
		feed_pt(&s, (uint16_t)i, 800 * i, T0 + 100000ull * i, 96, 1, ev, 4);
	}
	l = summary(&s);
	cr_expect_eq(l.dtmf_events, 40u);
	cr_expect_str_eq(l.dtmf, "0123456789*#ABCD0123456789*#ABCD");
}

Test(rtp_stream, ptime_majority_and_empty)
{
	struct vs_rtp_stream s;
	struct vs_cdr_leg l;
	uint32_t i, ts = 0;

	vs_rtp_stream__init(&s, 1, 0, 16000, 0xff);
	for (i = 0; i < 30; i++) {
		feed_pt(&s, (uint16_t)i, ts, T0 + 30000ull * i, 0, 0, NULL, 0);
		ts += i % 10 == 9 ? 4800 : 480;	/* 30 ms, with gaps */
	}
	l = summary(&s);
	cr_expect_eq(l.ptime_ms, 30);

	vs_rtp_stream__init(&s, 7, 0, 0, 0xff);
	memset(&l, 0x55, sizeof(l));
	vs_rtp_stream__summary(&s, "PCMU", &l);
	cr_expect_eq(l.present, 0);
	cr_expect_eq(l.packets, 0u);
	cr_expect_eq(l.lost, 0u);
	cr_expect_eq(l.clock_rate, 8000u);	/* unknown rate: 8 kHz */
	cr_expect_eq(l.mos, 0.0);
	cr_expect_str_eq(l.dtmf, "");
}

/* --- real captures against the tshark oracles -------------------------- */

#define SHARED "../shared/pcaps/"
#define MAX_STREAMS 16

struct cap_stream {
	uint32_t ssrc;
	uint16_t sport, dport;
	struct vs_rtp_stream s;
	struct vs_rtcp_stats rtcp;
};

struct cap {
	struct cap_stream st[MAX_STREAMS];
	int n;
	uint32_t rtcp_ok, rtcp_bad;
};

/* The UDP payload of an Ethernet (optionally 802.1Q) / SLL / raw IPv4
 * frame, or NULL. Only what these files need. */
static const uint8_t *udp_payload(int dlt, const uint8_t *d, size_t caplen,
				  size_t *len, uint16_t *sport, uint16_t *dport)
{
	size_t off, ihl;
	uint16_t et;

	if (dlt == DLT_EN10MB) {
		off = 14;
		if (caplen < off)
			return NULL;
		et = (uint16_t)(d[12] << 8 | d[13]);
		if (et == 0x8100 && caplen >= 18) {
			et = (uint16_t)(d[16] << 8 | d[17]);
			off = 18;
		}
	} else if (dlt == DLT_LINUX_SLL) {
		off = 16;
		if (caplen < off)
			return NULL;
		et = (uint16_t)(d[14] << 8 | d[15]);
	} else {
		off = 0;
		et = 0x0800;
	}
	if (et != 0x0800 || caplen < off + 20 || d[off] >> 4 != 4)
		return NULL;
	ihl = (size_t)(d[off] & 15) * 4;
	if (d[off + 9] != 17 || caplen < off + ihl + 8 ||
	    ((d[off + 6] & 0x3f) | d[off + 7]))	/* fragments */
		return NULL;
	off += ihl;
	*sport = (uint16_t)(d[off] << 8 | d[off + 1]);
	*dport = (uint16_t)(d[off + 2] << 8 | d[off + 3]);
	*len = (size_t)(d[off + 4] << 8 | d[off + 5]);
	if (*len < 8 || off + *len > caplen)
		return NULL;
	*len -= 8;
	return d + off + 8;
}

static struct cap_stream *cap_stream(struct cap *c, const struct vs_rtp_hdr *h,
				     uint16_t sport, uint16_t dport,
				     uint8_t event_pt)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (c->st[i].ssrc == h->ssrc && c->st[i].sport == sport &&
		    c->st[i].dport == dport)
			return &c->st[i];
	if (c->n == MAX_STREAMS)
		return NULL;
	c->st[i].ssrc = h->ssrc;
	c->st[i].sport = sport;
	c->st[i].dport = dport;
	/* All audio in these files is 8 kHz (PCMU/PCMA/G.729). */
	vs_rtp_stream__init(&c->st[i].s, h->ssrc, h->pt, 8000, event_pt);
	c->n++;
	return &c->st[i];
}

static struct cap_stream *by_ssrc(struct cap *c, uint32_t ssrc)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (c->st[i].ssrc == ssrc)
			return &c->st[i];
	return NULL;
}

/* SRs go to their sender's stream, report blocks to the reported one. */
static void cap_rtcp(struct cap *c, const struct vs_rtcp_info *in,
		     uint64_t t_us)
{
	struct cap_stream *cs = by_ssrc(c, in->sender_ssrc);
	int i;

	if (cs && in->has_sr) {
		cs->rtcp.packets++;
		vs_rtcp_stats__sr(&cs->rtcp, in->sr_ntp_mid, t_us);
	}
	for (i = 0; i < in->n_blocks; i++) {
		cs = by_ssrc(c, in->blocks[i].ssrc);
		if (cs)
			vs_rtcp_stats__block(&cs->rtcp, &in->blocks[i], 8000,
					     t_us);
	}
}

static void cap_packet(struct cap *c, const uint8_t *pl, size_t len,
		       uint16_t sport, uint16_t dport, uint64_t t_us,
		       uint8_t event_pt)
{
	struct vs_rtcp_info info;
	struct vs_rtp_hdr h;
	struct cap_stream *cs;

	if (sport == 5060 || dport == 5060)
		return;
	if (vs_rtcp__is_rtcp(pl, len)) {
		if (vs_rtcp__parse(pl, len, &info)) {
			c->rtcp_bad++;
			return;
		}
		c->rtcp_ok++;
		cap_rtcp(c, &info, t_us);
		return;
	}
	if (vs_rtp__parse(pl, len, &h))
		return;
	cs = cap_stream(c, &h, sport, dport, event_pt);
	if (cs)
		vs_rtp_stream__packet(&cs->s, &h, t_us);
}

/* 0, or 1 when the shared captures are absent (the test is skipped). */
static int cap_read(const char *file, uint8_t event_pt, struct cap *c)
{
	char path[256], err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *ph;
	const u_char *d;
	uint16_t sp, dp;
	const uint8_t *pl;
	size_t len;
	pcap_t *p;
	int dlt;

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), SHARED "%s", file);
	p = pcap_open_offline(path, err);
	if (!p)
		return 1;
	dlt = pcap_datalink(p);
	cr_assert(dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL || dlt == DLT_RAW,
		  "%s: link type %d", file, dlt);
	while (pcap_next_ex(p, &ph, &d) == 1) {
		pl = udp_payload(dlt, d, ph->caplen, &len, &sp, &dp);
		if (pl)
			cap_packet(c, pl, len, sp, dp,
				   (uint64_t)ph->ts.tv_sec * 1000000 +
					   (uint64_t)ph->ts.tv_usec,
				   event_pt);
	}
	pcap_close(p);
	return 0;
}

struct oracle_row {
	uint16_t sport, dport;
	uint32_t ssrc;
	long pkts, lost;
	double mean_jitter, max_jitter;
};

/* Rows of the first "tshark -q -z rtp,streams" table of an oracle. The
 * payload column may contain spaces, so fields are taken from the end. */
static int oracle_rows(const char *file, struct oracle_row *rows, int max)
{
	char path[256], line[512], *tok[32], *save = NULL, *t;
	int n = 0, in_table = 0, k;
	FILE *f;

	snprintf(path, sizeof(path), SHARED "oracle/%s.txt", file);
	f = fopen(path, "r");
	cr_assert(f, "%s", path);
	while (fgets(line, sizeof(line), f) && n < max) {
		if (strstr(line, "## tshark -q -z rtp,streams"))
			in_table = 1;
		else if (in_table && !strncmp(line, "====", 4) && n)
			break;
		if (!in_table || !strstr(line, " 0x"))
			continue;
		k = 0;
		for (t = strtok_r(line, " \n", &save); t && k < 32;
		     t = strtok_r(NULL, " \n", &save))
			tok[k++] = t;
		if (!strcmp(tok[k - 1], "X"))
			k--;
		rows[n].sport = (uint16_t)atoi(tok[3]);
		rows[n].dport = (uint16_t)atoi(tok[5]);
		rows[n].ssrc = (uint32_t)strtoul(tok[6], NULL, 16);
		rows[n].pkts = atol(tok[k - 9]);
		rows[n].lost = atol(tok[k - 8]);
		rows[n].mean_jitter = atof(tok[k - 2]);
		rows[n].max_jitter = atof(tok[k - 1]);
		n++;
	}
	fclose(f);
	return n;
}

/* Packets and lost exact (tshark's lost counts duplicates as received:
 * ours lost - duplicates); jitter equal to tshark's 3 printed decimals. */
static void check_oracle(const char *file, uint8_t event_pt, int want_rows)
{
	struct oracle_row rows[MAX_STREAMS];
	static struct cap c;
	struct vs_cdr_leg l;
	int n, i, j;

	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;

	if (cap_read(file, event_pt, &c))
		cr_skip_test("../shared/pcaps absent");
	n = oracle_rows(base, rows, MAX_STREAMS);
	cr_assert_eq(n, want_rows, "%s: %d oracle rows", file, n);
	for (i = 0; i < n; i++) {
		for (j = 0; j < c.n; j++)
			if (c.st[j].ssrc == rows[i].ssrc &&
			    c.st[j].sport == rows[i].sport &&
			    c.st[j].dport == rows[i].dport)
				break;
		cr_assert_lt(j, c.n, "%s: stream 0x%08x missing", file,
			     rows[i].ssrc);
		memset(&l, 0, sizeof(l));
		vs_rtp_stream__summary(&c.st[j].s, "PCMU", &l);
		cr_expect_eq((long)l.packets, rows[i].pkts, "%s 0x%08x packets",
			     file, rows[i].ssrc);
		cr_expect_eq((long)l.lost - (long)l.duplicates, rows[i].lost,
			     "%s 0x%08x lost", file, rows[i].ssrc);
		cr_expect(fabs(l.jitter_max_ms - rows[i].max_jitter) <= 0.0005 + 1e-9,
			  "%s 0x%08x max jitter %.4f != %.3f", file, rows[i].ssrc,
			  l.jitter_max_ms, rows[i].max_jitter);
		cr_expect(fabs(l.jitter_mean_ms - rows[i].mean_jitter) <=
				  0.0005 + 1e-9,
			  "%s 0x%08x mean jitter %.4f != %.3f", file,
			  rows[i].ssrc, l.jitter_mean_ms, rows[i].mean_jitter);
	}
	cr_expect_eq(c.rtcp_bad, 0u, "%s: malformed RTCP", file);
}

static struct cap_stream *find(struct cap *c, uint32_t ssrc)
{
	struct cap_stream *cs = by_ssrc(c, ssrc);

	cr_assert(cs, "ssrc 0x%08x missing", ssrc);
	return cs;
}

Test(rtp_capture, dups)
{
	static struct cap c;
	struct vs_cdr_leg l = { 0 };

	check_oracle("rtpproxy/dups.a.rtp", 0xff, 1);
	cap_read("rtpproxy/dups.a.rtp", 0xff, &c);
	vs_rtp_stream__summary(&find(&c, 0xae9dd7af)->s, "G729", &l);
	cr_expect_eq(l.duplicates, 1u);
	cr_expect_eq(l.lost, 0u);
	cr_expect_eq(l.ptime_ms, 20);
}

Test(rtp_capture, lost)
{
	static struct cap c;
	struct vs_cdr_leg l = { 0 };
	uint32_t i, sum = 0;

	check_oracle("rtpproxy/lost.a.rtp", 0xff, 1);
	cap_read("rtpproxy/lost.a.rtp", 0xff, &c);
	vs_rtp_stream__summary(&find(&c, 0x0a7328f3)->s, "G729", &l);
	cr_expect_eq(l.lost, 321u);
	for (i = 0; i < VS_CDR_LOSS_BURSTS; i++)
		sum += l.loss_burst[i] * (i + 1);
	/* Bursts of 10+ are counted as 10, so sum <= lost. */
	cr_expect_leq(sum, 321u);
	cr_expect_eq(l.mos, 1.0);	/* 57 % loss */
}

Test(rtp_capture, rtcp_o)
{
	check_oracle("rtpproxy/rtcp.o.pcap", 0xff, 1);
}

Test(rtp_capture, baresip_pcmu_with_dtmf)
{
	static struct cap c;
	struct vs_cdr_leg l = { 0 };

	check_oracle("live/baresip_call.pcap", 101, 2);
	cap_read("live/baresip_call.pcap", 101, &c);
	vs_rtp_stream__summary(&find(&c, 0x428d4d98)->s, "PCMU", &l);
	cr_expect_eq(l.dtmf_events, 4u);
	cr_expect_str_eq(l.dtmf, "123#");
	cr_expect_eq(l.ptime_ms, 20);
	cr_expect_eq(l.payload_type, 0);
	cr_expect_gt(c.rtcp_ok, 0u);
	/* RTT at the capture point, from the frame times and DLSRs (tshark
	 * -e frame.time_epoch -e rtcp.ssrc.lsr -e rtcp.ssrc.dlsr): frames
	 * 549/550 and 1254/1256 give 0.174 and 0.099 ms, 550/1254 0.122 ms. */
	vs_rtcp_stats__summary(&find(&c, 0x9fcd628b)->rtcp, &l);
	cr_expect_eq(l.rtcp_packets, 2u);
	cr_expect_eq(l.rtcp_reports, 2u);
	cr_expect(fabs(l.rtcp_rtt_max_ms - 0.174099) < 1e-3, "%f", l.rtcp_rtt_max_ms);
	cr_expect(fabs(l.rtcp_rtt_mean_ms - 0.136599) < 1e-3, "%f", l.rtcp_rtt_mean_ms);
	vs_rtcp_stats__summary(&find(&c, 0x428d4d98)->rtcp, &l);
	cr_expect_eq(l.rtcp_reports, 2u);
	cr_expect(fabs(l.rtcp_rtt_max_ms - 0.12216) < 1e-3, "%f", l.rtcp_rtt_max_ms);
	cr_expect_eq(l.rtcp_lost, 0);
}

Test(rtp_capture, baresip_pcma_with_dtmf)
{
	check_oracle("live/baresip_call_tcp_pcma.pcap", 101, 2);
}

Test(rtp_capture, sip_call_rtp_g711)
{
	/* The heuristic table (5 rows) includes the relayed copies. */
	struct oracle_row rows[MAX_STREAMS];

	if (access(SHARED "oracle/rtp_rtcp_sip.pcap.txt", R_OK))
		cr_skip_test("../shared/pcaps absent");
	cr_expect_eq(oracle_rows("rtp_rtcp_sip.pcap", rows, MAX_STREAMS), 3);
	check_oracle("heplify/rtp_rtcp_sip.pcap", 0xff, 3);
}

Test(rtp_capture, dtmf_only_streams)
{
	static struct cap c;
	struct vs_cdr_leg l = { 0 };

	check_oracle("rtpproxy/dtmf.pcap", 101, 2);
	cap_read("rtpproxy/dtmf.pcap", 101, &c);
	vs_rtp_stream__summary(&find(&c, 0x37ed87f3)->s, "PCMU", &l);
	cr_expect_str_eq(l.dtmf, "123456789*0#5");
	cr_expect_eq(l.dtmf_events, 13u);
	vs_rtp_stream__summary(&find(&c, 0xee693e61)->s, "PCMU", &l);
	cr_expect_str_eq(l.dtmf, "54321#");
}
