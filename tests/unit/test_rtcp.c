// SPDX-License-Identifier: GPL-2.0-or-later
/* RTCP parsing and receiver-report statistics (user/call/rtcp.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "call/rtp.h"

/* SR from 0x11111111 with one block about 0x22222222, then SDES. */
static const uint8_t sr_sdes[] = {
	0x81, 200, 0x00, 0x0c,			/* SR, RC 1, 13 words */
	0x11, 0x11, 0x11, 0x11,			/* sender SSRC */
	0xaa, 0xbb, 0xcc, 0xdd, 0x11, 0x22, 0x33, 0x44, /* NTP */
	0x00, 0x00, 0x10, 0x00,			/* RTP ts */
	0x00, 0x00, 0x00, 0x64,			/* packets */
	0x00, 0x00, 0x3e, 0x80,			/* octets */
	0x22, 0x22, 0x22, 0x22,			/* block: source */
	0x40, 0xff, 0xff, 0xfe,			/* fraction 64, cum -2 */
	0x00, 0x01, 0x00, 0x05,			/* ext max seq */
	0x00, 0x00, 0x00, 0x50,			/* jitter 80 */
	0x12, 0x34, 0x56, 0x78,			/* LSR */
	0x00, 0x00, 0x80, 0x00,			/* DLSR 0.5 s */
	0x81, 202, 0x00, 0x03,			/* SDES, 1 chunk, 4 words */
	0x11, 0x11, 0x11, 0x11,
	0x01, 0x02, 'a', 'b', 0x00, 0x00, 0x00, 0x00,
};

/* RR from 0x22222222 about 0x11111111 answering the SR above. */
static const uint8_t rr[] = {
	0x81, 201, 0x00, 0x07,
	0x22, 0x22, 0x22, 0x22,
	0x11, 0x11, 0x11, 0x11,
	0x00, 0x00, 0x01, 0x2c,			/* fraction 0, cum 300 */
	0x00, 0x00, 0x12, 0x34,
	0x00, 0x00, 0x01, 0x00,			/* jitter 256 */
	0xcc, 0xdd, 0x11, 0x22,			/* LSR = SR's NTP middle */
	0x00, 0x00, 0x80, 0x00,			/* DLSR 0.5 s */
};

Test(rtcp, sr_sdes_compound)
{
	struct vs_rtcp_info in;

	cr_assert_eq(vs_rtcp__parse(sr_sdes, sizeof(sr_sdes), &in), 0);
	cr_expect_eq(in.sender_ssrc, 0x11111111u);
	cr_expect_eq(in.has_sr, 1);
	cr_expect_eq(in.sr_ntp_mid, 0xccdd1122u);
	cr_assert_eq(in.n_blocks, 1);
	cr_expect_eq(in.blocks[0].ssrc, 0x22222222u);
	cr_expect_eq(in.blocks[0].fraction_lost, 64);
	cr_expect_eq(in.blocks[0].cum_lost, -2);
	cr_expect_eq(in.blocks[0].ext_max_seq, 0x10005u);
	cr_expect_eq(in.blocks[0].jitter, 80u);
	cr_expect_eq(in.blocks[0].lsr, 0x12345678u);
	cr_expect_eq(in.blocks[0].dlsr, 0x8000u);
}

Test(rtcp, rr)
{
	struct vs_rtcp_info in;

	cr_assert_eq(vs_rtcp__parse(rr, sizeof(rr), &in), 0);
	cr_expect_eq(in.sender_ssrc, 0x22222222u);
	cr_expect_eq(in.has_sr, 0);
	cr_assert_eq(in.n_blocks, 1);
	cr_expect_eq(in.blocks[0].cum_lost, 300);
	cr_expect_eq(in.blocks[0].lsr, 0xccdd1122u);
}

Test(rtcp, cum_lost_sign_extension)
{
	uint8_t b[sizeof(rr)];
	struct vs_rtcp_info in;

	memcpy(b, rr, sizeof(rr));
	b[13] = 0x80, b[14] = 0x00, b[15] = 0x00;
	cr_assert_eq(vs_rtcp__parse(b, sizeof(b), &in), 0);
	cr_expect_eq(in.blocks[0].cum_lost, -8388608);
	b[13] = 0x7f, b[14] = 0xff, b[15] = 0xff;
	cr_assert_eq(vs_rtcp__parse(b, sizeof(b), &in), 0);
	cr_expect_eq(in.blocks[0].cum_lost, 8388607);
}

/* Every truncation is malformed except the cut between SR and SDES (and
 * up to 3 octets after it, ignored as trailing junk). */
Test(rtcp, every_truncation)
{
	struct vs_rtcp_info in;
	size_t len;

	for (len = 0; len < sizeof(sr_sdes); len++) {
		int want = len >= 52 && len < 56 ? 0 : -EINVAL;

		cr_expect_eq(vs_rtcp__parse(sr_sdes, len, &in), want,
			     "len %zu", len);
	}
	for (len = 0; len < sizeof(rr); len++)
		cr_expect_eq(vs_rtcp__parse(rr, len, &in), -EINVAL, "len %zu", len);
}

Test(rtcp, malformed)
{
	uint8_t b[sizeof(sr_sdes)];
	struct vs_rtcp_info in;

	memcpy(b, sr_sdes, sizeof(b));
	b[52] = 0x41;		/* SDES with version 1 */
	cr_expect_eq(vs_rtcp__parse(b, sizeof(b), &in), -EINVAL);
	memcpy(b, sr_sdes, sizeof(b));
	b[0] = 0x82;		/* RC 2 does not fit in the SR's length */
	cr_expect_eq(vs_rtcp__parse(b, sizeof(b), &in), -EINVAL);
	memcpy(b, sr_sdes, sizeof(b));
	b[3] = 0x0d;		/* length overruns into the next packet */
	cr_expect_eq(vs_rtcp__parse(b, sizeof(b), &in), -EINVAL);
	memcpy(b, sr_sdes, sizeof(b));
	b[52] = 0xa1;		/* padding flag, pad count 0 */
	cr_expect_eq(vs_rtcp__parse(b, sizeof(b), &in), -EINVAL);
	b[67] = 13;		/* pad count beyond the packet body */
	cr_expect_eq(vs_rtcp__parse(b, sizeof(b), &in), -EINVAL);
	b[67] = 4;		/* valid padding */
	cr_expect_eq(vs_rtcp__parse(b, sizeof(b), &in), 0);
}

Test(rtcp, unknown_types_skipped_blocks_capped)
{
	/* APP (204) then an RR with 31 blocks: only 8 are kept. */
	uint8_t b[12 + 8 + 31 * 24];
	struct vs_rtcp_info in;
	int i;

	memset(b, 0, sizeof(b));
	b[0] = 0x80, b[1] = 204, b[3] = 2;
	b[12] = 0x9f, b[13] = 201, b[15] = 1 + 31 * 6;
	for (i = 0; i < 31; i++)
		b[20 + i * 24 + 3] = (uint8_t)i;
	cr_assert_eq(vs_rtcp__parse(b, sizeof(b), &in), 0);
	cr_expect_eq(in.n_blocks, VS_RTCP_MAX_BLOCKS);
	cr_expect_eq(in.blocks[7].ssrc, 7u);
	cr_expect(vs_rtcp__is_rtcp(b, sizeof(b)));
	cr_expect(vs_rtcp__is_rtcp(b + 12, 8));
	cr_expect(!vs_rtcp__is_rtcp(b + 12, 7));
}

Test(rtcp, rtt_from_capture_times)
{
	struct vs_rtcp_stats st = { 0 };
	struct vs_rtcp_info sr, r;
	struct vs_cdr_leg leg = { 0 };
	uint64_t t0 = 1700000000000000ull;

	cr_assert_eq(vs_rtcp__parse(sr_sdes, sizeof(sr_sdes), &sr), 0);
	cr_assert_eq(vs_rtcp__parse(rr, sizeof(rr), &r), 0);
	vs_rtcp_stats__sr(&st, sr.sr_ntp_mid, t0);
	/* Seen 0.5 s (DLSR) + 40 ms later: 40 ms round trip. */
	vs_rtcp_stats__block(&st, &r.blocks[0], 8000, t0 + 540000);
	cr_expect_eq(st.rtt_n, 1u);
	cr_expect(fabs(st.rtt_max_ms - 40.0) < 1e-9);
	/* An LSR matching no SR seen gives no RTT. */
	r.blocks[0].lsr = 0x01020304;
	vs_rtcp_stats__block(&st, &r.blocks[0], 8000, t0 + 1040000);
	/* LSR 0 means "no SR received yet". */
	r.blocks[0].lsr = 0;
	vs_rtcp_stats__block(&st, &r.blocks[0], 8000, t0 + 1540000);
	vs_rtcp_stats__summary(&st, &leg);
	cr_expect_eq(leg.rtcp_reports, 3u);
	cr_expect_eq(leg.rtcp_lost, 300);
	cr_expect(fabs(leg.rtcp_rtt_mean_ms - 40.0) < 1e-9);
	cr_expect(fabs(leg.rtcp_rtt_max_ms - 40.0) < 1e-9);
	cr_expect(fabs(leg.rtcp_jitter_mean_ms - 32.0) < 1e-9);
	cr_expect(fabs(leg.rtcp_jitter_max_ms - 32.0) < 1e-9);
	cr_expect_eq(leg.rtcp_fraction_lost_max, 0.0);
}

Test(rtcp, sr_history_and_fraction)
{
	struct vs_rtcp_stats st = { 0 };
	struct vs_rtcp_block b = { .fraction_lost = 128, .jitter = 160,
				   .dlsr = 0x10000, .cum_lost = 7 };
	struct vs_cdr_leg leg = { 0 };
	uint32_t i;

	/* Five SRs: the first falls out of the 4-entry history. */
	for (i = 1; i <= 5; i++)
		vs_rtcp_stats__sr(&st, i, i * 1000000ull);
	b.lsr = 1;
	vs_rtcp_stats__block(&st, &b, 16000, 9000000);
	cr_expect_eq(st.rtt_n, 0u);
	b.lsr = 2;	/* SR at 2 s, DLSR 1 s, seen at 3.010 s: 10 ms */
	vs_rtcp_stats__block(&st, &b, 16000, 3010000);
	b.lsr = 5;	/* 4 ms too early: clock granularity, counts as 0 */
	vs_rtcp_stats__block(&st, &b, 16000, 5996000);
	b.lsr = 4;	/* 1 s too early: not this SR, dropped */
	vs_rtcp_stats__block(&st, &b, 16000, 4000000);
	vs_rtcp_stats__summary(&st, &leg);
	cr_expect_eq(st.rtt_n, 2u);
	cr_expect(fabs(leg.rtcp_rtt_max_ms - 10.0) < 1e-9);
	cr_expect(fabs(leg.rtcp_rtt_mean_ms - 5.0) < 1e-9);
	cr_expect(fabs(leg.rtcp_fraction_lost_max - 50.0) < 1e-9);
	cr_expect(fabs(leg.rtcp_jitter_max_ms - 10.0) < 1e-9);
	cr_expect_eq(leg.rtcp_lost, 7);
}
