// SPDX-License-Identifier: GPL-2.0-or-later
/* TCP stream reassembly on SIP ports: message cutting, frame lists,
 * retransmissions, out-of-order segments, gaps, limits, FIN/RST, expiry. */
#include <netinet/in.h>

#include "decode_test.h"

static const char m1[] =
	"INVITE sip:b@h SIP/2.0\r\nContent-Length: 5\r\n\r\nhello";
static const char m2[] = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
static const uint16_t sip_ports[] = { 5060, 0 };

/* The last frame fed: one buffer, rewritten by every call, so anything the
 * decoder keeps must be its own copy. */
static uint8_t wire[4096];
static struct vs_frame last;

/* A segment client 10.0.0.1:40000 -> server 10.0.0.2:5060, or back. */
static void seg_dir(struct tdec *t, bool back, uint32_t seq, uint8_t flags,
		    const char *p, uint32_t len, uint64_t ts)
{
	uint32_t n = mk_eth(wire, 0x0800);

	memset(wire + n, 0xff, sizeof(wire) - n);
	n += mk_ip4(wire + n, back ? "10.0.0.2" : "10.0.0.1",
		    back ? "10.0.0.1" : "10.0.0.2", 6, 1, 0x4000, 20 + len);
	n += mk_tcp(wire + n, back ? 5060 : 40000, back ? 40000 : 5060, seq,
		    flags | TF_ACK, p, len);
	last = (struct vs_frame){ .data = wire, .caplen = n, .origlen = n,
				  .ts_us = ts, .linktype = DLT_EN10MB_ };
	vs_decoder__frame(t->d, &last);
}

static void seg(struct tdec *t, uint32_t seq, uint8_t flags, const char *p,
		uint32_t len, uint64_t ts)
{
	seg_dir(t, false, seq, flags, p, len, ts);
}

static void seg_str(struct tdec *t, uint32_t seq, const char *p, uint64_t ts)
{
	seg(t, seq, 0, p, (uint32_t)strlen(p), ts);
}

static void check_msg(const struct tdec *t, uint32_t i, const char *msg,
		      uint32_t nframes)
{
	struct vs_addr a;

	cr_assert_gt(t->sink.n, i);
	cr_assert_eq(t->sink.g[i].dg.proto, IPPROTO_TCP);
	cr_assert_str_eq(t->sink.g[i].payload, msg);
	cr_assert_eq(t->sink.g[i].nframes, nframes);
	cr_assert_eq(vs_addr_parse(&a, "10.0.0.1", 8), 0);
	cr_assert(vs_addr_eq(&t->sink.g[i].dg.src.addr, &a));
	cr_assert_eq(t->sink.g[i].dg.src.port, 40000);
	cr_assert_eq(t->sink.g[i].dg.dst.port, 5060);
}

Test(tcp, two_messages_in_one_segment)
{
	char both[256];
	struct tdec t;

	snprintf(both, sizeof(both), "%s%s", m1, m2);
	tdec_init(&t, NULL, sip_ports);
	seg_str(&t, 1000, both, 7);
	cr_assert_eq(t.sink.n, 2);
	check_msg(&t, 0, m1, 1);
	check_msg(&t, 1, m2, 1);
	/* Whole messages in one segment: the caller's frame, no copy. */
	cr_assert_eq(t.sink.g[0].frame0, &last);
	cr_assert_eq(t.sink.g[1].frame0, &last);
	cr_assert_eq(t.sink.g[1].dg.ts_us, 7);
	cr_assert_eq(t.st.tcp_segments, 1);
	cr_assert_eq(t.st.tcp_messages, 2);
	cr_assert_eq(vs_decoder__mem(t.d), 0);
	vs_decoder__free(t.d);
}

Test(tcp, one_message_across_three_segments)
{
	struct tdec t;

	tdec_init(&t, NULL, sip_ports);
	seg(&t, 1000, 0, m1, 10, 1);
	seg(&t, 1010, 0, m1 + 10, 30, 2);
	cr_assert_eq(t.sink.n, 0);
	cr_assert_gt(vs_decoder__mem(t.d), 0);
	seg(&t, 1040, 0, m1 + 40, sizeof(m1) - 41, 3);
	cr_assert_eq(t.sink.n, 1);
	check_msg(&t, 0, m1, 3);
	cr_assert_neq(t.sink.g[0].frame0, &last); /* copies */
	cr_assert_eq(t.sink.g[0].frame_ts[0], 1);
	cr_assert_eq(t.sink.g[0].frame_ts[1], 2);
	cr_assert_eq(t.sink.g[0].frame_ts[2], 3);
	cr_assert_eq(t.sink.g[0].dg.ts_us, 3);
	cr_assert_eq(vs_decoder__mem(t.d), 0);
	vs_decoder__free(t.d);
}

Test(tcp, segment_shared_by_two_messages)
{
	char buf[256];
	uint32_t l1 = sizeof(m1) - 1, l2 = sizeof(m2) - 1;
	struct tdec t;

	snprintf(buf, sizeof(buf), "%s%s", m1, m2);
	tdec_init(&t, NULL, sip_ports);
	seg(&t, 1, 0, buf, l1 + 10, 1);
	seg(&t, 1 + l1 + 10, 0, buf + l1 + 10, l2 - 10, 2);
	cr_assert_eq(t.sink.n, 2);
	check_msg(&t, 0, m1, 1);
	check_msg(&t, 1, m2, 2);
	cr_assert_eq(t.sink.g[1].frame_ts[0], 1);
	cr_assert_eq(t.sink.g[1].frame_ts[1], 2);
	cr_assert_eq(vs_decoder__mem(t.d), 0);

	/* Three messages framed from the buffer in one pass: only the first
	 * lists the earlier segment. */
	snprintf(buf, sizeof(buf), "%s%s%s", m1, m2, m2);
	seg(&t, 1 + l1 + l2, 0, buf, 10, 3);
	seg(&t, 11 + l1 + l2, 0, buf + 10, l1 + 2 * l2 - 10, 4);
	cr_assert_eq(t.sink.n, 5);
	check_msg(&t, 2, m1, 2);
	check_msg(&t, 3, m2, 1);
	check_msg(&t, 4, m2, 1);
	cr_assert_eq(t.sink.g[3].frame_ts[0], 4);
	cr_assert_eq(t.sink.g[4].frame_ts[0], 4);
	cr_assert_eq(vs_decoder__mem(t.d), 0);
	vs_decoder__free(t.d);
}

Test(tcp, retransmissions)
{
	struct tdec t;

	tdec_init(&t, NULL, sip_ports);
	seg_str(&t, 1000, m1, 1);
	seg_str(&t, 1000, m1, 2); /* whole segment again */
	cr_assert_eq(t.sink.n, 1);
	cr_assert_eq(t.st.tcp_retrans, 1);
	/* Partly new: only the new bytes count. */
	seg(&t, 2000 - 1, 0, m2, 20, 3);
	seg(&t, 1000, 0, "", 0, 4); /* pure ACK */
	cr_assert_eq(t.st.tcp_retrans, 1);
	vs_decoder__free(t.d);

	tdec_init(&t, NULL, sip_ports);
	seg(&t, 1000, 0, m1, 20, 1);
	seg(&t, 1010, 0, m1 + 10, sizeof(m1) - 11, 2); /* overlaps 10 */
	cr_assert_eq(t.sink.n, 1);
	check_msg(&t, 0, m1, 2);
	cr_assert_eq(t.st.tcp_retrans, 0);
	vs_decoder__free(t.d);
}

Test(tcp, out_of_order)
{
	struct tdec t;

	tdec_init(&t, NULL, sip_ports);
	seg(&t, 999, TF_SYN, "", 0, 0);
	seg(&t, 1000, 0, m1, 10, 1);
	seg(&t, 1040, 0, m1 + 40, sizeof(m1) - 41, 2); /* ahead of a gap */
	cr_assert_eq(t.st.tcp_out_of_order, 1);
	cr_assert_eq(t.sink.n, 0);
	seg(&t, 1040, 0, m1 + 40, sizeof(m1) - 41, 3); /* queued already */
	cr_assert_eq(t.st.tcp_retrans, 1);
	seg(&t, 1010, 0, m1 + 10, 30, 4); /* fills it */
	cr_assert_eq(t.sink.n, 1);
	check_msg(&t, 0, m1, 3);
	/* Stream order, not arrival order; time of the last arrival. */
	cr_assert_eq(t.sink.g[0].frame_ts[0], 1);
	cr_assert_eq(t.sink.g[0].frame_ts[1], 4);
	cr_assert_eq(t.sink.g[0].frame_ts[2], 2);
	cr_assert_eq(t.sink.g[0].dg.ts_us, 4);
	cr_assert_eq(vs_decoder__mem(t.d), 0);
	vs_decoder__free(t.d);
}

Test(tcp, gap_timeout)
{
	uint32_t l1 = sizeof(m1) - 1;
	uint8_t udp[256];
	struct tdec t;

	tdec_init(&t, NULL, sip_ports);
	seg(&t, 999, TF_SYN, "", 0, 0);
	seg(&t, 1000, 0, m1, 20, 1000000);
	seg_str(&t, 1000 + l1, m2, 2000000); /* the rest of m1 is lost */
	/* Any frame moves the clock: 5 s after the gap opened is not yet. */
	feed(&t, udp, mk_eth_udp4(udp, "1.1.1.1", "2.2.2.2", 1, 2, "x"),
	     DLT_EN10MB_, 7000000);
	cr_assert_eq(t.sink.n, 1); /* only the UDP datagram */
	feed(&t, udp, mk_eth_udp4(udp, "1.1.1.1", "2.2.2.2", 1, 2, "x"),
	     DLT_EN10MB_, 7000001);
	/* Expiry runs before the frame is decoded: m2, then the datagram. */
	cr_assert_eq(t.st.tcp_gap_skipped, 1);
	cr_assert_eq(t.sink.n, 3);
	check_msg(&t, 1, m2, 1);
	cr_assert_eq(t.sink.g[1].dg.ts_us, 2000000);
	cr_assert_eq(t.sink.g[2].dg.proto, IPPROTO_UDP);
	/* The lost segment shows up late: old news. */
	seg(&t, 1020, 0, m1 + 20, l1 - 20, 8000000);
	cr_assert_eq(t.st.tcp_retrans, 1);
	cr_assert_eq(t.st.tcp_messages, 1);
	cr_assert_eq(vs_decoder__mem(t.d), 0);
	vs_decoder__free(t.d);
}

/* Gaps in two flows expire in the order they opened. */
Test(tcp, gaps_in_two_flows)
{
	uint32_t l1 = sizeof(m1) - 1, l2 = sizeof(m2) - 1;
	struct tdec t;

	tdec_init(&t, NULL, sip_ports);
	seg(&t, 1000, 0, m1, 10, 1000000);
	seg_dir(&t, true, 5000, 0, m2, 10, 1000000);
	seg(&t, 1000 + l1, 0, m2, l2, 2000000);
	seg_dir(&t, true, 5000 + l2, 0, m2, l2, 3000000);
	vs_decoder__expire(t.d, 7000001);
	cr_assert_eq(t.sink.n, 1);
	cr_assert_eq(t.sink.g[0].dg.src.port, 40000);
	vs_decoder__expire(t.d, 8000001);
	cr_assert_eq(t.sink.n, 2);
	cr_assert_eq(t.sink.g[1].dg.src.port, 5060);
	cr_assert_eq(t.st.tcp_gap_skipped, 2);
	cr_assert_eq(vs_decoder__mem(t.d), 0);
	vs_decoder__free(t.d);
}

Test(tcp, garbage_is_skipped)
{
	char buf[256];
	struct tdec t;

	snprintf(buf, sizeof(buf), "\x01garbage\r\nmore junk\r\n%s", m1);
	tdec_init(&t, NULL, sip_ports);
	seg_str(&t, 1, buf, 1);
	cr_assert_eq(t.sink.n, 1);
	check_msg(&t, 0, m1, 1);
	cr_assert_eq(t.st.tcp_not_sip, 1);
	/* A line cut by the segment end: skipped up to the next one. */
	seg_str(&t, 1 + (uint32_t)strlen(buf), "junk without end", 2);
	seg_str(&t, 17 + (uint32_t)strlen(buf), "still junk\r\n", 3);
	seg_str(&t, 29 + (uint32_t)strlen(buf), m2, 4);
	cr_assert_eq(t.st.tcp_not_sip, 2);
	cr_assert_eq(t.sink.n, 2);
	cr_assert_str_eq(t.sink.g[1].payload, m2);
	vs_decoder__free(t.d);
}

Test(tcp, stream_byte_limits)
{
	static const char head[] =
		"INVITE sip:b@h SIP/2.0\r\nContent-Length: 100\r\n\r\n";
	struct vs_decode_limits lim;
	uint32_t lh = sizeof(head) - 1;
	struct tdec t;

	vs_decode_limits__default(&lim);
	lim.tcp_max_stream_bytes = 64;
	tdec_init(&t, &lim, sip_ports);
	seg_str(&t, 1, head, 1);
	seg_str(&t, 1 + lh, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n", 2);
	cr_assert_eq(t.st.tcp_stream_limit, 1);
	cr_assert_eq(vs_decoder__mem(t.d), 0);
	seg_str(&t, 1 + lh + 40, m2, 3);
	cr_assert_eq(t.sink.n, 1);
	cr_assert_str_eq(t.sink.g[0].payload, m2);
	cr_assert_eq(t.st.tcp_not_sip, 0);
	vs_decoder__free(t.d);

	/* A segment ahead of a gap that would not fit, nothing queued. */
	tdec_init(&t, &lim, sip_ports);
	seg_str(&t, 1, head, 1);
	seg_str(&t, 1 + lh + 10, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n", 2);
	cr_assert_eq(t.st.tcp_stream_limit, 1);
	cr_assert_eq(t.st.tcp_out_of_order, 0);
	vs_decoder__free(t.d);

	/* Over all flows: the second flow's unfinished message is refused,
	 * and so is a segment it would have queued. */
	vs_decode_limits__default(&lim);
	lim.tcp_max_total_bytes = 60;
	tdec_init(&t, &lim, sip_ports);
	seg_str(&t, 1, head, 1);
	seg_dir(&t, true, 1, 0, head, lh, 2);
	cr_assert_eq(t.st.tcp_stream_limit, 1);
	seg_dir(&t, true, 500, 0, m2, sizeof(m2) - 1, 3);
	cr_assert_eq(t.st.tcp_stream_limit, 2);
	cr_assert_eq(t.st.tcp_out_of_order, 0);
	vs_decoder__free(t.d);
}

/* Five 1 KB messages back to back in 700-byte segments: buffer and frame
 * list compaction, and each message lists exactly the segments it spans. */
Test(tcp, pipeline_of_long_messages)
{
	enum { NMSG = 5, SEG = 700 };
	static char stream[NMSG * 1100];
	uint32_t len = 0, starts[NMSG + 1], off;
	struct tdec t;

	for (int i = 0; i < NMSG; i++) {
		starts[i] = len;
		len += (uint32_t)sprintf(stream + len,
					 "MESSAGE sip:%d@h SIP/2.0\r\n"
					 "Content-Length: 960\r\n\r\n", i);
		for (int k = 0; k < 16; k++)
			len += (uint32_t)sprintf(stream + len, "%058d\r\n", k);
	}
	starts[NMSG] = len;
	tdec_init(&t, NULL, sip_ports);
	for (off = 0; off < len; off += SEG)
		seg(&t, 1 + off, 0, stream + off,
		    len - off < SEG ? len - off : SEG, 1 + off / SEG);
	cr_assert_eq(t.sink.n, NMSG);
	for (int i = 0; i < NMSG; i++) {
		uint32_t first = starts[i] / SEG, lastb = starts[i + 1] - 1;
		const struct got *g = &t.sink.g[i];

		cr_assert_eq(g->dg.len, starts[i + 1] - starts[i]);
		cr_assert_eq(memcmp(g->payload, stream + starts[i], g->dg.len),
			     0);
		cr_assert_eq(g->nframes, lastb / SEG - first + 1, "msg %d", i);
		cr_assert_eq(g->frame_ts[0], 1 + first);
		cr_assert_eq(g->dg.ts_us, 1 + lastb / SEG);
	}
	cr_assert_eq(vs_decoder__mem(t.d), 0);
	vs_decoder__free(t.d);
}

Test(tcp, ooo_limit_gives_up_gap)
{
	struct vs_decode_limits lim;
	uint32_t l2 = sizeof(m2) - 1;
	struct tdec t;

	vs_decode_limits__default(&lim);
	lim.tcp_max_stream_bytes = 90;
	tdec_init(&t, &lim, sip_ports);
	seg(&t, 999, TF_SYN, "", 0, 0);
	seg(&t, 1000, 0, m1, 20, 1);
	seg(&t, 1100, 0, m2, l2, 2);
	seg(&t, 1200, 0, m2, l2, 3); /* 20 + 37 + 37 > 90: stop waiting */
	cr_assert_eq(t.st.tcp_gap_skipped, 1);
	cr_assert_eq(t.sink.n, 1);
	cr_assert_eq(t.sink.g[0].frame_ts[0], 2);
	cr_assert_eq(t.st.tcp_out_of_order, 2);
	vs_decoder__expire(t.d, UINT64_MAX); /* EOF: the last gap too */
	cr_assert_eq(t.st.tcp_gap_skipped, 2);
	cr_assert_eq(t.sink.n, 2);
	cr_assert_eq(t.sink.g[1].frame_ts[0], 3);
	cr_assert_eq(t.st.tcp_timeout, 1);
	cr_assert_eq(vs_decoder__mem(t.d), 0);
	vs_decoder__free(t.d);
}

Test(tcp, stream_count_limit)
{
	struct vs_decode_limits lim;
	struct tdec t;

	vs_decode_limits__default(&lim);
	lim.tcp_max_streams = 1;
	tdec_init(&t, &lim, sip_ports);
	seg(&t, 999, TF_SYN, "", 0, 1);
	seg_dir(&t, true, 5000, 0, m2, sizeof(m2) - 1, 2);
	cr_assert_eq(t.st.tcp_stream_limit, 1);
	cr_assert_eq(t.sink.n, 0);
	seg(&t, 1000, TF_FIN, m1, sizeof(m1) - 1, 3); /* frees the slot */
	seg_dir(&t, true, 5000, 0, m2, sizeof(m2) - 1, 4);
	cr_assert_eq(t.sink.n, 2);
	cr_assert_str_eq(t.sink.g[1].payload, m2);
	cr_assert_eq(t.st.tcp_stream_limit, 1);
	vs_decoder__free(t.d);
}

Test(tcp, fin_and_rst_close)
{
	struct tdec t;

	tdec_init(&t, NULL, sip_ports);
	seg(&t, 999, TF_SYN, "", 0, 0);
	seg(&t, 1000, TF_FIN, m1, 30, 1); /* unfinished message, then FIN */
	cr_assert_eq(t.st.tcp_not_sip, 1);
	cr_assert_eq(vs_decoder__mem(t.d), 0);
	cr_assert_eq(t.sink.n, 0);
	seg(&t, 1031, TF_FIN, "", 0, 2); /* FIN retransmitted: no stream */
	cr_assert_eq(t.st.tcp_not_sip, 1);

	/* RST from one side ends both directions. */
	seg(&t, 5000, 0, m1, 30, 3);
	seg_dir(&t, true, 7000, 0, m2, 20, 4);
	cr_assert_gt(vs_decoder__mem(t.d), 0);
	seg_dir(&t, true, 7020, TF_RST, "", 0, 5);
	cr_assert_eq(t.st.tcp_not_sip, 3);
	cr_assert_eq(vs_decoder__mem(t.d), 0);

	/* FIN ahead of a gap waits for it. */
	seg(&t, 8999, TF_SYN, "", 0, 6);
	seg(&t, 9010, TF_FIN, m1 + 10, sizeof(m1) - 11, 7);
	seg(&t, 9000, 0, m1, 10, 8);
	cr_assert_eq(t.sink.n, 1);
	check_msg(&t, 0, m1, 2);
	cr_assert_eq(vs_decoder__mem(t.d), 0);
	cr_assert_eq(t.st.tcp_not_sip, 3);
	vs_decoder__free(t.d);
}

Test(tcp, idle_timeout_and_eof_flush)
{
	uint8_t udp[256];
	struct tdec t;

	tdec_init(&t, NULL, sip_ports);
	seg(&t, 1000, 0, m1, 30, 1000000);
	feed(&t, udp, mk_eth_udp4(udp, "1.1.1.1", "2.2.2.2", 1, 2, "x"),
	     DLT_EN10MB_, 1000000 + 300000000);
	cr_assert_eq(t.st.tcp_timeout, 0);
	feed(&t, udp, mk_eth_udp4(udp, "1.1.1.1", "2.2.2.2", 1, 2, "x"),
	     DLT_EN10MB_, 1000000 + 300000001);
	cr_assert_eq(t.st.tcp_timeout, 1);
	cr_assert_eq(t.st.tcp_not_sip, 1);
	cr_assert_eq(vs_decoder__mem(t.d), 0);

	/* At EOF the framer's "need more" delivers nothing partial. */
	seg(&t, 1000, 0, m1, 30, 400000000);
	vs_decoder__expire(t.d, UINT64_MAX);
	cr_assert_eq(t.st.tcp_timeout, 2);
	cr_assert_eq(t.st.tcp_not_sip, 2);
	cr_assert_eq(t.st.tcp_messages, 0);
	cr_assert_eq(vs_decoder__mem(t.d), 0);
	vs_decoder__free(t.d);
}

Test(tcp, sequence_wraps)
{
	struct tdec t;

	tdec_init(&t, NULL, sip_ports);
	seg(&t, 0xffffffef, TF_SYN, "", 0, 0);
	seg(&t, 0xfffffff0, 0, m1, 10, 1);
	seg(&t, 0xfffffffa, 0, m1 + 10, 30, 2);
	seg(&t, 0x00000018, 0, m1 + 40, sizeof(m1) - 41, 3);
	cr_assert_eq(t.sink.n, 1);
	check_msg(&t, 0, m1, 3);
	vs_decoder__free(t.d);
}

Test(tcp, new_syn_restarts_stream)
{
	struct tdec t;

	tdec_init(&t, NULL, sip_ports);
	seg(&t, 99, TF_SYN, "", 0, 0);
	seg(&t, 100, 0, m1, 30, 1);
	seg(&t, 99, TF_SYN, "", 0, 2); /* SYN retransmitted: same stream */
	cr_assert_eq(t.st.tcp_not_sip, 0);
	seg(&t, 50000, TF_SYN, "", 0, 3); /* a new connection, same ports */
	cr_assert_eq(t.st.tcp_not_sip, 1);
	seg_str(&t, 50001, m1, 4);
	cr_assert_eq(t.sink.n, 1);
	check_msg(&t, 0, m1, 1);
	vs_decoder__free(t.d);
}

Test(tcp, mid_stream_start_and_reverse_direction)
{
	struct tdec t;

	tdec_init(&t, NULL, sip_ports);
	seg(&t, 123456, 0, "", 0, 1); /* ACK alone creates nothing */
	cr_assert_eq(vs_decoder__mem(t.d), 0);
	seg_dir(&t, true, 77, 0, m2, sizeof(m2) - 1, 2);
	cr_assert_eq(t.sink.n, 1);
	cr_assert_eq(t.sink.g[0].dg.src.port, 5060);
	cr_assert_eq(t.sink.g[0].dg.dst.port, 40000);
	cr_assert_eq(t.st.tcp_segments, 2);
	vs_decoder__free(t.d);
}
