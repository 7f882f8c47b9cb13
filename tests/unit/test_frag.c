// SPDX-License-Identifier: GPL-2.0-or-later
/* IPv4 and IPv6 fragment reassembly: order, duplicates, overlaps, limits,
 * timeouts, and the frame list of the reassembled datagram. */
#include <netinet/in.h>

#include "decode_test.h"

/* The datagram under test: UDP 5061 -> 5060 with 40 payload bytes, so the
 * L4 part is 48 bytes = three 16-byte fragments. */
static uint8_t l4[48];
static char text[41];

static void make_l4(void)
{
	for (int i = 0; i < 40; i++)
		text[i] = (char)('A' + i % 26);
	text[40] = '\0';
	mk_udp(l4, 5061, 5060, text, 40);
}

/* Ethernet/IPv4 fragment carrying l4[off, off + len). */
static uint32_t frag4(uint8_t *b, uint16_t id, uint32_t off, uint32_t len,
		      bool more)
{
	uint32_t n = mk_eth(b, 0x0800);

	n += mk_ip4(b + n, "192.0.2.1", "192.0.2.2", 17, id,
		    (uint16_t)((more ? 0x2000 : 0) | off / 8), len);
	memcpy(b + n, l4 + off, len);
	return n + len;
}

/* Ethernet/IPv6 + fragment header carrying data[off, off + len); the
 * header's next header is nh. */
static uint32_t frag6(uint8_t *b, uint32_t id, uint8_t nh, const uint8_t *data,
		      uint32_t off, uint32_t len, bool more)
{
	uint32_t n = mk_eth(b, 0x86dd);

	n += mk_ip6(b + n, "2001:db8::1", "2001:db8::2", 44, 8 + len);
	b[n] = nh;
	b[n + 1] = 0;
	put16(b + n + 2, (uint16_t)(off | (more ? 1 : 0)));
	put32(b + n + 4, id);
	n += 8;
	memcpy(b + n, data + off, len);
	return n + len;
}

struct fr {
	uint8_t b[256];
	uint32_t n;
	struct vs_frame f;
};

static void mk4(struct fr *x, uint16_t id, uint32_t off, uint32_t len,
		bool more, uint64_t ts)
{
	x->n = frag4(x->b, id, off, len, more);
	x->f = (struct vs_frame){ .data = x->b, .caplen = x->n,
				  .origlen = x->n, .ts_us = ts,
				  .linktype = DLT_EN10MB_ };
}

static void check_whole(const struct tdec *t, uint32_t i)
{
	cr_assert_gt(t->sink.n, i);
	cr_assert_eq(t->sink.g[i].dg.proto, IPPROTO_UDP);
	cr_assert_eq(t->sink.g[i].dg.src.port, 5061);
	cr_assert_eq(t->sink.g[i].dg.dst.port, 5060);
	cr_assert_str_eq(t->sink.g[i].payload, text);
}

Test(frag, ipv4_in_order)
{
	struct fr a, b, c;
	struct tdec t;

	make_l4();
	tdec_init(&t, NULL, NULL);
	mk4(&a, 7, 0, 16, true, 100);
	mk4(&b, 7, 16, 16, true, 200);
	mk4(&c, 7, 32, 16, false, 300);
	vs_decoder__frame(t.d, &a.f);
	vs_decoder__frame(t.d, &b.f);
	cr_assert_eq(vs_decoder__mem(t.d), a.n + b.n);
	vs_decoder__frame(t.d, &c.f);
	cr_assert_eq(t.sink.n, 1);
	check_whole(&t, 0);
	/* Every fragment frame, copied (not the caller's), arrival order. */
	cr_assert_eq(t.sink.g[0].nframes, 3);
	cr_assert_neq(t.sink.g[0].frame0, &a.f);
	cr_assert_eq(t.sink.g[0].frame_ts[0], 100);
	cr_assert_eq(t.sink.g[0].frame_ts[1], 200);
	cr_assert_eq(t.sink.g[0].frame_ts[2], 300);
	cr_assert_eq(t.sink.g[0].dg.ts_us, 300);
	cr_assert_eq(t.st.frag_fragments, 3);
	cr_assert_eq(t.st.frag_reassembled, 1);
	cr_assert_eq(t.st.udp_datagrams, 1);
	cr_assert_eq(vs_decoder__mem(t.d), 0);
	vs_decoder__free(t.d);
}

Test(frag, ipv4_reverse_first_last)
{
	struct fr a, b, c;
	struct tdec t;

	make_l4();
	tdec_init(&t, NULL, NULL);
	mk4(&a, 7, 0, 16, true, 300);
	mk4(&b, 7, 16, 16, true, 200);
	mk4(&c, 7, 32, 16, false, 100);
	vs_decoder__frame(t.d, &c.f);
	vs_decoder__frame(t.d, &b.f);
	cr_assert_eq(t.sink.n, 0);
	vs_decoder__frame(t.d, &a.f); /* first fragment last */
	cr_assert_eq(t.sink.n, 1);
	check_whole(&t, 0);
	cr_assert_eq(t.sink.g[0].frame_ts[0], 100);
	cr_assert_eq(t.sink.g[0].frame_ts[2], 300);
	vs_decoder__free(t.d);
}

Test(frag, ipv4_duplicate_ignored)
{
	struct fr a, b, c;
	struct tdec t;

	make_l4();
	tdec_init(&t, NULL, NULL);
	mk4(&a, 7, 0, 16, true, 1);
	mk4(&b, 7, 16, 16, true, 2);
	mk4(&c, 7, 32, 16, false, 3);
	vs_decoder__frame(t.d, &a.f);
	vs_decoder__frame(t.d, &b.f);
	vs_decoder__frame(t.d, &b.f);
	vs_decoder__frame(t.d, &a.f);
	vs_decoder__frame(t.d, &c.f);
	cr_assert_eq(t.sink.n, 1);
	check_whole(&t, 0);
	cr_assert_eq(t.sink.g[0].nframes, 3);
	cr_assert_eq(t.st.frag_fragments, 5);
	cr_assert_eq(t.st.frag_bad, 0);
	vs_decoder__free(t.d);
}

Test(frag, ipv4_overlap_discards)
{
	struct fr a, b, c, d;
	struct tdec t;

	make_l4();
	tdec_init(&t, NULL, NULL);
	mk4(&a, 7, 0, 16, true, 1);
	mk4(&b, 7, 8, 16, true, 2); /* overlaps a by 8 bytes */
	mk4(&c, 7, 16, 16, true, 3);
	mk4(&d, 7, 32, 16, false, 4);
	vs_decoder__frame(t.d, &a.f);
	vs_decoder__frame(t.d, &b.f);
	cr_assert_eq(t.st.frag_bad, 1);
	cr_assert_eq(vs_decoder__mem(t.d), 0);
	/* The rest starts a new datagram that lacks its first fragment. */
	vs_decoder__frame(t.d, &c.f);
	vs_decoder__frame(t.d, &d.f);
	cr_assert_eq(t.sink.n, 0);
	vs_decoder__expire(t.d, UINT64_MAX);
	cr_assert_eq(t.st.frag_timeout, 1);
	cr_assert_eq(vs_decoder__mem(t.d), 0);
	vs_decoder__free(t.d);
}

Test(frag, ipv4_inconsistent)
{
	struct fr a, b, c;
	struct tdec t;

	make_l4();
	tdec_init(&t, NULL, NULL);
	/* Two different ends. */
	mk4(&a, 1, 32, 16, false, 1);
	mk4(&b, 1, 16, 8, false, 2);
	vs_decoder__frame(t.d, &a.f);
	vs_decoder__frame(t.d, &b.f);
	/* A piece past the known end. */
	mk4(&a, 2, 16, 16, false, 3);
	mk4(&b, 2, 32, 16, true, 4);
	vs_decoder__frame(t.d, &a.f);
	vs_decoder__frame(t.d, &b.f);
	/* A middle fragment not a multiple of 8; an empty one; too long. */
	mk4(&c, 3, 0, 12, true, 5);
	vs_decoder__frame(t.d, &c.f);
	mk4(&c, 4, 0, 0, true, 6);
	vs_decoder__frame(t.d, &c.f);
	mk4(&c, 5, 0, 16, false, 7);
	put16(c.b + 14 + 6, 0x1fff); /* offset 65528 + 16 > 65535 */
	vs_decoder__frame(t.d, &c.f);
	cr_assert_eq(t.st.frag_bad, 5);
	cr_assert_eq(t.st.frag_fragments, 7);
	cr_assert_eq(t.sink.n, 0);
	cr_assert_eq(vs_decoder__mem(t.d), 0);
	vs_decoder__free(t.d);
}

Test(frag, ipv4_timeout)
{
	struct fr a, b, c;
	struct tdec t;

	make_l4();
	tdec_init(&t, NULL, NULL);
	mk4(&a, 7, 0, 16, true, 1000000);
	mk4(&b, 7, 16, 16, true, 1000000 + 30000000); /* exactly 30 s: kept */
	mk4(&c, 7, 32, 16, false, 1000000 + 30000001); /* past it */
	vs_decoder__frame(t.d, &a.f);
	vs_decoder__frame(t.d, &b.f);
	cr_assert_eq(t.st.frag_timeout, 0);
	vs_decoder__frame(t.d, &c.f);
	cr_assert_eq(t.st.frag_timeout, 1);
	cr_assert_eq(t.sink.n, 0);
	vs_decoder__expire(t.d, UINT64_MAX);
	cr_assert_eq(t.st.frag_timeout, 2);
	cr_assert_eq(vs_decoder__mem(t.d), 0);
	vs_decoder__free(t.d);
}

Test(frag, memory_limits)
{
	struct vs_decode_limits lim;
	struct fr a, b, c, x;
	struct tdec t;

	make_l4();
	vs_decode_limits__default(&lim);
	lim.frag_max_datagrams = 1;
	tdec_init(&t, &lim, NULL);
	mk4(&a, 1, 0, 16, true, 1);
	mk4(&x, 2, 0, 16, true, 2);
	mk4(&b, 1, 16, 16, true, 3);
	mk4(&c, 1, 32, 16, false, 4);
	vs_decoder__frame(t.d, &a.f);
	vs_decoder__frame(t.d, &x.f); /* evicts datagram 1 */
	vs_decoder__frame(t.d, &b.f); /* evicts datagram 2 */
	vs_decoder__frame(t.d, &c.f);
	cr_assert_eq(t.st.frag_evicted, 2);
	cr_assert_eq(t.sink.n, 0);
	vs_decoder__free(t.d);

	/* Bytes: room for two fragment frames. */
	lim.frag_max_datagrams = 10;
	lim.frag_max_bytes = 2 * (14 + 20 + 16);
	tdec_init(&t, &lim, NULL);
	vs_decoder__frame(t.d, &x.f);
	vs_decoder__frame(t.d, &a.f);
	vs_decoder__frame(t.d, &b.f); /* evicts the older datagram 2 */
	cr_assert_eq(t.st.frag_evicted, 1);
	vs_decoder__frame(t.d, &c.f); /* datagram 1 alone cannot fit */
	cr_assert_eq(t.st.frag_evicted, 2);
	cr_assert_eq(t.sink.n, 0);
	cr_assert_eq(vs_decoder__mem(t.d), 0);
	vs_decoder__free(t.d);

	lim.frag_max_datagrams = 0; /* reassembly off */
	tdec_init(&t, &lim, NULL);
	vs_decoder__frame(t.d, &a.f);
	cr_assert_eq(t.st.frag_evicted, 1);
	vs_decoder__free(t.d);
}

Test(frag, ipv6_fragments_and_ext_after)
{
	/* Fragmentable part: destination options (8) + UDP. */
	uint8_t part[8 + 48];
	struct vs_addr a;
	uint8_t b1[256], b2[256], b3[256];
	uint32_t n1, n2, n3;
	struct tdec t;

	make_l4();
	memset(part, 0, 8);
	part[0] = 17;
	memcpy(part + 8, l4, 48);
	tdec_init(&t, NULL, NULL);
	n1 = frag6(b1, 0xdeadbeef, 60, part, 0, 24, true);
	n2 = frag6(b2, 0xdeadbeef, 60, part, 24, 24, true);
	n3 = frag6(b3, 0xdeadbeef, 60, part, 48, 8, false);
	feed(&t, b3, n3, DLT_EN10MB_, 1);
	feed(&t, b1, n1, DLT_EN10MB_, 2);
	feed(&t, b2, n2, DLT_EN10MB_, 3);
	cr_assert_eq(t.sink.n, 1);
	check_whole(&t, 0);
	cr_assert_eq(vs_addr_parse(&a, "2001:db8::2", 11), 0);
	cr_assert(vs_addr_eq(&t.sink.g[0].dg.dst.addr, &a));
	cr_assert_eq(t.sink.g[0].nframes, 3);
	cr_assert_eq(t.st.frag_fragments, 3);
	cr_assert_eq(t.st.frag_reassembled, 1);

	/* Atomic fragment: no reassembly at all. */
	n1 = frag6(b1, 5, 17, l4, 0, 48, false);
	feed(&t, b1, n1, DLT_EN10MB_, 4);
	cr_assert_eq(t.sink.n, 2);
	check_whole(&t, 1);
	cr_assert_eq(t.st.frag_fragments, 3);

	/* A fragment header inside the reassembled payload. */
	part[0] = 44;
	n1 = frag6(b1, 9, 60, part, 0, 24, true);
	n2 = frag6(b2, 9, 60, part, 24, 32, false);
	feed(&t, b1, n1, DLT_EN10MB_, 5);
	feed(&t, b2, n2, DLT_EN10MB_, 6);
	cr_assert_eq(t.st.ip6_bad_ext, 1);
	cr_assert_eq(t.sink.n, 2);
	vs_decoder__free(t.d);
}

Test(frag, ipv6_overlap_and_cut_header)
{
	uint8_t b1[256], b2[256];
	uint32_t n1, n2;
	struct tdec t;

	make_l4();
	tdec_init(&t, NULL, NULL);
	n1 = frag6(b1, 1, 17, l4, 0, 24, true);
	n2 = frag6(b2, 1, 17, l4, 16, 32, false);
	feed(&t, b1, n1, DLT_EN10MB_, 1);
	feed(&t, b2, n2, DLT_EN10MB_, 2);
	cr_assert_eq(t.st.frag_bad, 1);
	/* Fragment header cut short by the payload length. */
	put16(b1 + 14 + 4, 4);
	feed(&t, b1, 14 + 44, DLT_EN10MB_, 3);
	cr_assert_eq(t.st.ip6_bad_ext, 1);
	cr_assert_eq(t.sink.n, 0);
	cr_assert_eq(vs_decoder__mem(t.d), 0);
	vs_decoder__free(t.d);
}

/* A SIP message over TCP whose one segment is split in two IPv4 fragments:
 * the message lists both fragment frames. */
Test(frag, tcp_segment_in_fragments)
{
	static const uint16_t ports[] = { 5060, 0 };
	static const char msg[] =
		"BYE sip:b@h SIP/2.0\r\nContent-Length: 4\r\n\r\nabcd";
	uint8_t seg[128], b1[256], b2[256];
	uint32_t slen, n1, n2;
	struct tdec t;

	slen = mk_tcp(seg, 40000, 5060, 1000, TF_ACK, msg, sizeof(msg) - 1);
	n1 = mk_eth(b1, 0x0800);
	n1 += mk_ip4(b1 + n1, "10.0.0.1", "10.0.0.2", 6, 99, 0x2000, 32);
	memcpy(b1 + n1, seg, 32);
	n1 += 32;
	n2 = mk_eth(b2, 0x0800);
	n2 += mk_ip4(b2 + n2, "10.0.0.1", "10.0.0.2", 6, 99, 4, slen - 32);
	memcpy(b2 + n2, seg + 32, slen - 32);
	n2 += slen - 32;
	tdec_init(&t, NULL, ports);
	feed(&t, b1, n1, DLT_EN10MB_, 10);
	feed(&t, b2, n2, DLT_EN10MB_, 20);
	cr_assert_eq(t.sink.n, 1);
	cr_assert_eq(t.sink.g[0].dg.proto, IPPROTO_TCP);
	cr_assert_str_eq(t.sink.g[0].payload, msg);
	cr_assert_eq(t.sink.g[0].nframes, 2);
	cr_assert_eq(t.sink.g[0].frame_ts[0], 10);
	cr_assert_eq(t.sink.g[0].frame_ts[1], 20);
	cr_assert_eq(t.sink.g[0].dg.ts_us, 20);
	cr_assert_eq(t.st.tcp_messages, 1);
	vs_decoder__free(t.d);
}
