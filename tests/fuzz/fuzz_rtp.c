// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: RTP header parsing and stream accounting over packet
 * sequences, RTCP compound parsing and report statistics, E-model.
 * Input: 4 config bytes (clock selector, audio PT, event PT, MOS loss),
 * then records of [len][dt ms][len bytes]: each record is tried as RTCP
 * and as RTP and fed to one stream. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "call/rtp.h"

static const uint32_t clocks[4] = { 8000, 16000, 48000, 0 };

static void feed_rtcp(struct vs_rtcp_stats *st, const uint8_t *p, size_t len,
		      uint32_t clock, uint64_t t)
{
	struct vs_rtcp_info in;
	int i;

	if (!vs_rtcp__is_rtcp(p, len) || vs_rtcp__parse(p, len, &in))
		return;
	if (in.has_sr)
		vs_rtcp_stats__sr(st, in.sr_ntp_mid, t);
	for (i = 0; i < in.n_blocks; i++)
		vs_rtcp_stats__block(st, &in.blocks[i], clock, t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *codecs[] = { "PCMU", "G729", "opus", "x" };
	struct vs_rtcp_stats st;
	struct vs_rtp_stream s;
	struct vs_cdr_leg leg;
	struct vs_rtp_hdr h;
	uint64_t t = 1000000;
	size_t off = 4, n;

	if (size < 4)
		return 0;
	memset(&st, 0, sizeof(st));
	vs_rtp_stream__init(&s, 1, data[1] & 0x7f, clocks[data[0] & 3],
			    data[2] & 0x80 ? 0xff : data[2] & 0x7f);
	while (off + 2 <= size) {
		n = data[off];
		t += (uint64_t)data[off + 1] * 1000;
		off += 2;
		if (n > size - off)
			n = size - off;
		feed_rtcp(&st, data + off, n, s.clock_rate, t);
		/* A packet the capture cut (data[3]: how much of it it
		 * kept): the header must be whole, the rest is never read. */
		if (!vs_rtp__parse_cut(data + off, n, data[3] & 1 ? 160 : 0,
				       &h)) {
			if (h.payload + h.payload_len > data + off + n)
				__builtin_trap();
			vs_rtp_stream__packet(&s, &h, t);
		}
		off += n;
	}
	memset(&leg, 0, sizeof(leg));
	vs_rtp_stream__summary(&s, codecs[data[0] >> 6], &leg);
	vs_rtcp_stats__summary(&st, &leg);
	if (leg.dtmf[sizeof(leg.dtmf) - 1] || leg.mos < 0 || leg.mos > 4.5 ||
	    leg.lost > (uint64_t)UINT32_MAX + 1)
		__builtin_trap();
	if (vs_mos__from_r(vs_mos__r_factor(codecs[data[0] & 3], data[3],
					    data[2] / 16.0, data[1] * 4.0)) > 4.5)
		__builtin_trap();
	return 0;
}
