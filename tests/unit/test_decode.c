// SPDX-License-Identifier: GPL-2.0-or-later
/* Decode stage: link layers, IPv4/IPv6 headers and extension chains, UDP
 * delivery, malformed input counters, and two real captures through libpcap.
 * Fragments are in test_frag.c, TCP streams in test_tcp.c. */
#include <errno.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <unistd.h>

#include "decode_test.h"

static const char sip_msg[] =
	"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n";

static void check_v4_udp(const struct got *g, const char *payload)
{
	struct vs_addr a;

	cr_assert_eq(g->dg.proto, IPPROTO_UDP);
	cr_assert_eq(vs_addr_parse(&a, "192.0.2.1", 9), 0);
	cr_assert(vs_addr_eq(&g->dg.src.addr, &a));
	cr_assert_eq(vs_addr_parse(&a, "192.0.2.2", 9), 0);
	cr_assert(vs_addr_eq(&g->dg.dst.addr, &a));
	cr_assert_eq(g->dg.src.port, 5061);
	cr_assert_eq(g->dg.dst.port, 5060);
	cr_assert_str_eq(g->payload, payload);
	cr_assert_eq(g->nframes, 1);
}

Test(decode, udp_ethernet_ipv4_no_copy)
{
	uint8_t b[256];
	uint32_t n = mk_eth_udp4(b, "192.0.2.1", "192.0.2.2", 5061, 5060,
				 sip_msg);
	struct vs_frame f = { .data = b, .caplen = n, .origlen = n,
			      .ts_us = 42, .linktype = DLT_EN10MB_ };
	struct tdec t;

	tdec_init(&t, NULL, NULL);
	vs_decoder__frame(t.d, &f);
	cr_assert_eq(t.sink.n, 1);
	check_v4_udp(&t.sink.g[0], sip_msg);
	/* frames[0] is the caller's frame and the payload points into it. */
	cr_assert_eq(t.sink.g[0].frame0, &f);
	cr_assert_eq(t.sink.g[0].dg.payload, b + 14 + 20 + 8);
	cr_assert_eq(t.sink.g[0].dg.ts_us, 42);
	cr_assert_eq(t.st.frames, 1);
	cr_assert_eq(t.st.udp_datagrams, 1);
	cr_assert_eq(vs_decoder__mem(t.d), 0);
	vs_decoder__free(t.d);
}

/* Builds Ethernet + the given tags + IPv4/UDP. */
static uint32_t tagged(uint8_t *b, const uint16_t *tpids, int ntags)
{
	uint32_t n = mk_eth(b, ntags ? tpids[0] : 0x0800), len;

	for (int i = 0; i < ntags; i++)
		n += mk_vlan(b + n, (uint16_t)(100 + i),
			     i + 1 < ntags ? tpids[i + 1] : 0x0800);
	len = (uint32_t)strlen(sip_msg);
	n += mk_ip4(b + n, "192.0.2.1", "192.0.2.2", 17, 1, 0, 8 + len);
	return n + mk_udp(b + n, 5061, 5060, sip_msg, len);
}

Test(decode, vlan_and_qinq)
{
	static const uint16_t q[] = { 0x8100 };
	static const uint16_t ad[] = { 0x88a8, 0x8100 };
	static const uint16_t old[] = { 0x9100, 0x8100 };
	static const uint16_t triple[] = { 0x8100, 0x8100, 0x8100 };
	static const uint16_t q9200[] = { 0x9200, 0x8100 };
	uint8_t b[256];
	struct tdec t;

	tdec_init(&t, NULL, NULL);
	feed(&t, b, tagged(b, q, 1), DLT_EN10MB_, 1);
	feed(&t, b, tagged(b, ad, 2), DLT_EN10MB_, 2);
	feed(&t, b, tagged(b, old, 2), DLT_EN10MB_, 3);
	feed(&t, b, tagged(b, triple, 3), DLT_EN10MB_, 4);
	feed(&t, b, tagged(b, q9200, 2), DLT_EN10MB_, 5);
	cr_assert_eq(t.sink.n, 5);
	for (int i = 0; i < 5; i++)
		check_v4_udp(&t.sink.g[i], sip_msg);
	vs_decoder__free(t.d);
}

Test(decode, vlan_too_deep_and_truncated)
{
	static const uint16_t nine[9] = { 0x8100, 0x8100, 0x8100, 0x8100,
					  0x8100, 0x8100, 0x8100, 0x8100,
					  0x8100 };
	static const uint16_t q[] = { 0x8100 };
	uint8_t b[256];
	struct tdec t;

	tdec_init(&t, NULL, NULL);
	feed(&t, b, tagged(b, nine, 9), DLT_EN10MB_, 1);
	cr_assert_eq(t.st.link_unsupported, 1);
	tagged(b, q, 1);
	feed(&t, b, 16, DLT_EN10MB_, 2); /* tag cut after 2 bytes */
	feed(&t, b, 13, DLT_EN10MB_, 3); /* Ethernet cut */
	cr_assert_eq(t.st.link_truncated, 2);
	cr_assert_eq(t.sink.n, 0);
	vs_decoder__free(t.d);
}

/* Frame = link header + (IPv4/UDP sip_msg). */
static uint32_t with_link(uint8_t *b, const uint8_t *hdr, uint32_t hlen)
{
	uint32_t len = (uint32_t)strlen(sip_msg), n = hlen;

	if (hlen)
		memcpy(b, hdr, hlen);
	n += mk_ip4(b + n, "192.0.2.1", "192.0.2.2", 17, 1, 0, 8 + len);
	return n + mk_udp(b + n, 5061, 5060, sip_msg, len);
}

Test(decode, link_types)
{
	uint8_t sll[16] = { 0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0 };
	uint8_t sll2[20] = { 0x08, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6 };
	uint8_t null_le[4] = { 2, 0, 0, 0 }, null_be[4] = { 0, 0, 0, 2 };
	uint8_t loop[4] = { 0, 0, 0, 2 };
	uint8_t b[256];
	uint32_t n;
	struct tdec t;

	tdec_init(&t, NULL, NULL);
	feed(&t, b, with_link(b, sll, 16), DLT_LINUX_SLL_, 1);
	feed(&t, b, with_link(b, sll2, 20), DLT_LINUX_SLL2_, 2);
	n = with_link(b, NULL, 0);
	feed(&t, b, n, DLT_RAW_, 3);
	feed(&t, b, n, 101, 4);	/* LINKTYPE_RAW as stored in files */
	feed(&t, b, n, 14, 5);	/* DLT_RAW on OpenBSD */
	feed(&t, b, n, 228, 6); /* DLT_IPV4 */
	feed(&t, b, with_link(b, null_le, 4), 0, 7);
	feed(&t, b, with_link(b, null_be, 4), 0, 8);
	feed(&t, b, with_link(b, loop, 4), 108, 9);
	cr_assert_eq(t.sink.n, 9);
	for (uint32_t i = 0; i < t.sink.n; i++)
		check_v4_udp(&t.sink.g[i], sip_msg);

	feed(&t, b, n, 9999, 10); /* unknown linktype */
	feed(&t, b, with_link(b, null_le, 4), 108, 11); /* LOOP is big-endian */
	feed(&t, b, 15, DLT_LINUX_SLL_, 12);
	feed(&t, b, 19, DLT_LINUX_SLL2_, 13);
	feed(&t, b, 3, 0, 14);
	feed(&t, b, 0, DLT_RAW_, 15);
	b[0] = 0x55;
	feed(&t, b, n, DLT_RAW_, 16); /* version 5 */
	cr_assert_eq(t.st.link_unsupported, 2);
	cr_assert_eq(t.st.link_truncated, 3);
	cr_assert_eq(t.st.ip_truncated, 1);
	cr_assert_eq(t.st.ip_bad_header, 1);
	cr_assert_eq(t.sink.n, 9);
	vs_decoder__free(t.d);
}

Test(decode, ethertypes_other_than_ip)
{
	uint8_t b[128] = { 0 };
	struct tdec t;

	tdec_init(&t, NULL, NULL);
	mk_eth(b, 0x0806); /* ARP */
	feed(&t, b, 60, DLT_EN10MB_, 1);
	mk_eth(b, 0x0050); /* 802.3 length field: LLC */
	feed(&t, b, 60, DLT_EN10MB_, 2);
	cr_assert_eq(t.st.link_unsupported, 2);
	cr_assert_eq(t.st.frames, 2);
	vs_decoder__free(t.d);
}

Test(decode, mpls_and_pppoe)
{
	uint8_t mpls[14 + 8], pppoe[14 + 8];
	uint8_t b[256];
	struct tdec t;

	mk_eth(mpls, 0x8847);
	memcpy(mpls + 14, "\x00\x01\x00\x40\x00\x02\x01\x40", 8); /* 2 labels */
	mk_eth(pppoe, 0x8864);
	memcpy(pppoe + 14, "\x11\x00\x00\x01\x00\x40\x00\x21", 8);
	tdec_init(&t, NULL, NULL);
	feed(&t, b, with_link(b, mpls, sizeof(mpls)), DLT_EN10MB_, 1);
	feed(&t, b, with_link(b, pppoe, sizeof(pppoe)), DLT_EN10MB_, 2);
	cr_assert_eq(t.sink.n, 2);
	check_v4_udp(&t.sink.g[0], sip_msg);
	check_v4_udp(&t.sink.g[1], sip_msg);
	pppoe[21] = 0x23; /* PPP protocol we do not decode */
	feed(&t, b, with_link(b, pppoe, sizeof(pppoe)), DLT_EN10MB_, 3);
	feed(&t, b, 14 + 6, DLT_EN10MB_, 4); /* PPPoE cut */
	cr_assert_eq(t.st.link_unsupported, 1);
	cr_assert_eq(t.st.link_truncated, 1);
	vs_decoder__free(t.d);
}

Test(decode, ipv4_options_and_padding)
{
	uint32_t len = (uint32_t)strlen(sip_msg), n;
	uint8_t b[256];
	struct tdec t;

	n = mk_eth(b, 0x0800);
	mk_ip4(b + n, "192.0.2.1", "192.0.2.2", 17, 1, 0, 8 + len + 4);
	b[n] = 0x46; /* IHL 6: one option word (NOPs) */
	memset(b + n + 20, 1, 4);
	n += 24;
	n += mk_udp(b + n, 5061, 5060, sip_msg, len);
	memset(b + n, 0xee, 10); /* trailer past the IP total length */
	tdec_init(&t, NULL, NULL);
	feed(&t, b, n + 10, DLT_EN10MB_, 1);
	cr_assert_eq(t.sink.n, 1);
	check_v4_udp(&t.sink.g[0], sip_msg);
	vs_decoder__free(t.d);
}

Test(decode, ipv4_malformed)
{
	uint8_t b[256];
	uint32_t n;
	struct tdec t;

	tdec_init(&t, NULL, NULL);
	n = with_link(b, NULL, 0);
	feed(&t, b, 19, DLT_RAW_, 1); /* header cut */
	b[9] = 6; /* TCP: cut by the capture, it needs every byte */
	feed(&t, b, n - 1, DLT_RAW_, 2); /* total length beyond caplen */
	b[9] = 17;
	b[0] = 0x44;			 /* IHL 4 */
	feed(&t, b, n, DLT_RAW_, 3);
	b[0] = 0x45;
	put16(b + 2, 19); /* total length below the header */
	feed(&t, b, n, DLT_RAW_, 4);
	put16(b + 2, (uint16_t)n);
	b[9] = 1; /* ICMP */
	feed(&t, b, n, DLT_RAW_, 5);
	cr_assert_eq(t.st.ip_truncated, 2);
	cr_assert_eq(t.st.ip_bad_header, 2);
	cr_assert_eq(t.st.ip_other_proto, 1);
	cr_assert_eq(t.sink.n, 0);
	vs_decoder__free(t.d);
}

Test(decode, udp_malformed)
{
	uint8_t b[256];
	uint32_t n;
	struct tdec t;

	tdec_init(&t, NULL, NULL);
	n = mk_ip4(b, "192.0.2.1", "192.0.2.2", 17, 1, 0, 7);
	feed(&t, b, n + 7, DLT_RAW_, 1); /* 7 bytes of UDP header */
	n = with_link(b, NULL, 0);
	put16(b + 24, (uint16_t)(n - 20 + 1)); /* UDP length past IP */
	feed(&t, b, n, DLT_RAW_, 2);
	put16(b + 24, 7); /* below its own header */
	feed(&t, b, n, DLT_RAW_, 3);
	put16(b + 24, 8 + 7); /* shorter than IP: only its bytes count */
	feed(&t, b, n, DLT_RAW_, 4);
	cr_assert_eq(t.st.udp_bad, 3);
	cr_assert_eq(t.sink.n, 1);
	cr_assert_str_eq(t.sink.g[0].payload, "OPTIONS");
	vs_decoder__free(t.d);
}

/* UDP cut by the capture (a snaplen, the kernel's RTP header-only copy):
 * delivered with what was captured and `cut` the rest; anything that
 * needs the whole packet (TCP, a fragment, a header) is refused. */
Test(decode, udp_partial)
{
	uint8_t b[512], pl[172];
	uint32_t n;
	struct tdec t;

	tdec_init(&t, NULL, NULL);
	for (size_t i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)(0x80 + i);
	n = mk_eth(b, 0x0800);
	n += mk_ip4(b + n, "192.0.2.1", "192.0.2.2", 17, 1, 0, 8 + 172);
	n += mk_udp(b + n, 4000, 4002, pl, 172);
	feed(&t, b, 14 + 20 + 8 + 16, DLT_EN10MB_, 1);
	cr_assert_eq(t.sink.n, 1);
	cr_expect_eq(t.sink.g[0].dg.len, 16);
	cr_expect_eq(t.sink.g[0].dg.cut, 156);
	cr_expect_eq(memcmp(t.sink.g[0].payload, pl, 16), 0);
	cr_expect_eq(t.st.udp_partial, 1);
	feed(&t, b, n, DLT_EN10MB_, 2); /* whole */
	cr_assert_eq(t.sink.n, 2);
	cr_expect_eq(t.sink.g[1].dg.cut, 0);
	cr_expect_eq(t.st.udp_partial, 1);
	feed(&t, b, 14 + 20 + 4, DLT_EN10MB_, 3); /* UDP header cut */
	put16(b + 14 + 6, 0x2000); /* a first fragment, cut */
	feed(&t, b, 14 + 20 + 8 + 16, DLT_EN10MB_, 4);
	cr_expect_eq(t.st.ip_truncated, 2);
	cr_expect_eq(t.st.udp_bad, 0);

	n = mk_eth(b, 0x86dd); /* IPv6 after a destination options header */
	n += mk_ip6(b + n, "2001:db8::1", "2001:db8::2", 60, 8 + 8 + 172);
	memset(b + n, 0, 8);
	b[n] = 17;
	n += 8;
	n += mk_udp(b + n, 4000, 4002, pl, 172);
	feed(&t, b, 14 + 40 + 8 + 8 + 12, DLT_EN10MB_, 5);
	cr_assert_eq(t.sink.n, 3);
	cr_expect_eq(t.sink.g[2].dg.len, 12);
	cr_expect_eq(t.sink.g[2].dg.cut, 160);
	feed(&t, b, 14 + 40 + 4, DLT_EN10MB_, 6); /* options header cut */
	cr_expect_eq(t.st.ip_truncated, 3);
	cr_expect_eq(t.st.ip6_bad_ext, 0);
	cr_expect_eq(t.st.udp_partial, 2);
	vs_decoder__free(t.d);
}

/* IPv6/UDP after the extension headers in ext (ext[0] is what follows
 * the fixed header as nh). */
static uint32_t v6_frame(uint8_t *b, uint8_t nh, const uint8_t *ext,
			 uint32_t elen)
{
	uint32_t len = (uint32_t)strlen(sip_msg), n = mk_eth(b, 0x86dd);

	n += mk_ip6(b + n, "2001:db8::1", "2001:db8::2", nh, elen + 8 + len);
	if (elen)
		memcpy(b + n, ext, elen);
	n += elen;
	return n + mk_udp(b + n, 5061, 5060, sip_msg, len);
}

Test(decode, ipv6_extension_headers)
{
	/* HBH(8) -> routing(16) -> dest opts(8) -> AH(12+4) -> UDP */
	uint8_t ext[8 + 16 + 8 + 16] = { 0 };
	struct vs_addr a;
	uint8_t b[512];
	struct tdec t;

	ext[0] = 43;
	ext[1] = 0;
	ext[8] = 60;
	ext[9] = 1;
	ext[24] = 51;
	ext[25] = 0;
	ext[32] = 17;
	ext[33] = 2; /* AH: (2 + 2) * 4 = 16 bytes */
	tdec_init(&t, NULL, NULL);
	feed(&t, b, v6_frame(b, 0, ext, sizeof(ext)), DLT_EN10MB_, 1);
	feed(&t, b, v6_frame(b, 17, NULL, 0), DLT_EN10MB_, 2);
	cr_assert_eq(t.sink.n, 2);
	cr_assert_eq(vs_addr_parse(&a, "2001:db8::1", 11), 0);
	cr_assert(vs_addr_eq(&t.sink.g[0].dg.src.addr, &a));
	cr_assert_eq(t.sink.g[0].dg.dst.port, 5060);
	cr_assert_str_eq(t.sink.g[0].payload, sip_msg);
	cr_assert_str_eq(t.sink.g[1].payload, sip_msg);
	vs_decoder__free(t.d);
}

Test(decode, ipv6_malformed)
{
	uint8_t ext[16] = { 0 }, chain[8 * 17] = { 0 };
	uint8_t b[512];
	uint32_t n;
	struct tdec t;

	tdec_init(&t, NULL, NULL);
	ext[0] = 17;
	ext[1] = 5; /* claims 48 bytes */
	n = v6_frame(b, 0, ext, 8);
	b[14 + 4] = 0;
	b[14 + 5] = 4; /* payload length 4: ext header cut */
	feed(&t, b, 14 + 44, DLT_EN10MB_, 1);
	put16(b + 18, 8 + 8 + (uint16_t)strlen(sip_msg));
	b[14 + 40 + 1] = 200; /* ext length past the payload */
	feed(&t, b, n, DLT_EN10MB_, 2);
	for (int i = 0; i < 17; i++)
		chain[i * 8] = 60; /* 17 destination option headers */
	feed(&t, b, v6_frame(b, 60, chain, sizeof(chain)), DLT_EN10MB_, 3);
	cr_assert_eq(t.st.ip6_bad_ext, 3);

	feed(&t, b, v6_frame(b, 50, NULL, 0), DLT_EN10MB_, 4); /* ESP */
	feed(&t, b, v6_frame(b, 59, NULL, 0), DLT_EN10MB_, 5); /* none */
	cr_assert_eq(t.st.ip_other_proto, 2);
	n = v6_frame(b, 6, NULL, 0); /* TCP, cut: refused */
	feed(&t, b, 14 + 39, DLT_EN10MB_, 6);
	feed(&t, b, n - 1, DLT_EN10MB_, 7); /* payload beyond caplen */
	cr_assert_eq(t.st.ip_truncated, 2);
	put16(b + 18, 0); /* jumbogram */
	feed(&t, b, n, DLT_EN10MB_, 8);
	b[14] = 0x40; /* version 4 under an IPv6 ethertype */
	feed(&t, b, n, DLT_EN10MB_, 9);
	cr_assert_eq(t.st.ip_bad_header, 2);
	cr_assert_eq(t.sink.n, 0);
	vs_decoder__free(t.d);
}

Test(decode, ip_in_ip)
{
	uint32_t len = (uint32_t)strlen(sip_msg), n;
	uint8_t b[512];
	struct tdec t;

	tdec_init(&t, NULL, NULL);
	n = mk_eth(b, 0x0800);
	n += mk_ip4(b + n, "10.9.9.1", "10.9.9.2", 4, 7, 0, 20 + 8 + len);
	n += mk_ip4(b + n, "192.0.2.1", "192.0.2.2", 17, 1, 0, 8 + len);
	n += mk_udp(b + n, 5061, 5060, sip_msg, len);
	feed(&t, b, n, DLT_EN10MB_, 1);
	cr_assert_eq(t.sink.n, 1);
	check_v4_udp(&t.sink.g[0], sip_msg);

	/* Five levels of IPv4-in-IPv4: more than we follow. */
	n = 0;
	for (int i = 0; i < 5; i++)
		n += mk_ip4(b + n, "10.9.9.1", "10.9.9.2", 4, 7, 0,
			    (5 - i) * 20 + 8 + len);
	n += mk_ip4(b + n, "192.0.2.1", "192.0.2.2", 17, 1, 0, 8 + len);
	n += mk_udp(b + n, 5061, 5060, sip_msg, len);
	feed(&t, b, n, DLT_RAW_, 2);
	cr_assert_eq(t.st.ip_other_proto, 1);
	cr_assert_eq(t.sink.n, 1);
	vs_decoder__free(t.d);
}

Test(decode, tcp_port_filter_and_bad_headers)
{
	static const uint16_t ports[] = { 5060, 0 };
	uint8_t b[256];
	uint32_t n;
	struct tdec t, off;

	tdec_init(&t, NULL, ports);
	tdec_init(&off, NULL, NULL);
	n = mk_eth_tcp4(b, 40000, 80, 1, TF_ACK, "GET / HTTP/1.0\r\n\r\n");
	feed(&t, b, n, DLT_EN10MB_, 1);
	n = mk_eth_tcp4(b, 40000, 5060, 1, TF_ACK, sip_msg);
	feed(&off, b, n, DLT_EN10MB_, 1); /* no TCP ports configured */
	cr_assert_eq(t.st.tcp_other_port, 1);
	cr_assert_eq(off.st.tcp_other_port, 1);
	b[14 + 20 + 12] = 4 << 4; /* data offset 16 */
	feed(&t, b, n, DLT_EN10MB_, 2);
	b[14 + 20 + 12] = 15 << 4; /* 60 > segment */
	put16(b + 16, 20 + 40);
	feed(&t, b, 14 + 20 + 40, DLT_EN10MB_, 3);
	put16(b + 16, 20 + 19);
	feed(&t, b, 14 + 20 + 19, DLT_EN10MB_, 4);
	cr_assert_eq(t.st.tcp_bad, 3);
	cr_assert_eq(t.st.tcp_segments, 0);
	cr_assert_eq(t.sink.n + off.sink.n, 0);
	vs_decoder__free(t.d);
	vs_decoder__free(off.d);
}

static void nop_out(void *ctx, const struct vs_datagram *d)
{
	(void)ctx;
	(void)d;
}

Test(decode, new_checks_options)
{
	static uint8_t ports[65536 / 8];
	struct vs_decoder_opts o = { 0 };
	struct vs_decoder *d;

	vs_decode_limits__default(&o.limits);
	errno = 0;
	cr_assert_null(vs_decoder__new(&o)); /* no out */
	cr_assert_eq(errno, EINVAL);
	o.out = nop_out;
	o.sip_tcp_ports = ports;
	errno = 0;
	cr_assert_null(vs_decoder__new(&o)); /* ports without a framer */
	cr_assert_eq(errno, EINVAL);
	o.sip_tcp_ports = NULL;
	d = vs_decoder__new(&o); /* stats NULL: kept internally */
	cr_assert_not_null(d);
	vs_decoder__frame(d, &(struct vs_frame){ .data = ports, .caplen = 3,
						 .linktype = 1 });
	vs_decoder__free(d);
	vs_decoder__free(NULL);
}

Test(decode, limits_default)
{
	struct vs_decode_limits l;

	vs_decode_limits__default(&l);
	cr_assert_eq(l.frag_max_datagrams, 4096);
	cr_assert_eq(l.frag_max_bytes, 16u << 20);
	cr_assert_eq(l.frag_timeout_ms, 30000);
	cr_assert_eq(l.tcp_max_streams, 65536);
	cr_assert_eq(l.tcp_max_stream_bytes, 256u << 10);
	cr_assert_eq(l.tcp_max_total_bytes, 64u << 20);
	cr_assert_eq(l.tcp_timeout_ms, 300000);
}

Test(decode, stats_print)
{
	struct vs_decode_stats s = { .frames = 7, .tcp_timeout = 3 };
	char buf[4096] = { 0 };
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	cr_assert_not_null(f);
	vs_decode_stats__print(&s, f);
	fclose(f);
	cr_assert_not_null(strstr(buf, "decode.frames 7\n"));
	cr_assert_not_null(strstr(buf, "decode.tcp_timeout 3\n"));
	cr_assert_not_null(strstr(buf, "decode.udp_datagrams 0\n"));
	/* One line per counter. */
	int lines = 0;

	for (char *p = buf; *p; p++)
		lines += *p == '\n';
	cr_assert_eq(lines, sizeof(s) / sizeof(uint64_t));
}

/* --- real captures ------------------------------------------------------ */

/* The capture under ../shared (from the repo root), else /work/shared. */
static const char *pcap_path(const char *rel)
{
	static const char *const roots[] = { "../shared/pcaps",
					     "/work/shared/pcaps" };
	static char buf[512];

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(buf, sizeof(buf), "%s/%s", roots[i], rel);
		if (access(buf, R_OK) == 0)
			return buf;
	}
	return NULL;
}

struct pcap_run {
	struct vs_decode_stats st;
	uint32_t delivered;
	uint32_t multi_frame; /* datagrams/messages from more than one frame */
	uint32_t sip_starts;  /* payloads that start like a SIP message */
};

static void count_fn(void *ctx, const struct vs_datagram *dg)
{
	struct pcap_run *r = ctx;

	r->delivered++;
	const uint8_t *eol = memmem(dg->payload, dg->len, "\r\n", 2);

	r->multi_frame += dg->nframes > 1;
	/* A status line, or a request line ending in the version. */
	if (eol && eol - dg->payload > 8 &&
	    (memcmp(dg->payload, "SIP/2.0 ", 8) == 0 ||
	     memcmp(eol - 8, " SIP/2.0", 8) == 0))
		r->sip_starts++;
}

static void run_pcap(const char *path, const uint16_t *ports,
		     struct pcap_run *r)
{
	static uint8_t bm[65536 / 8];
	char err[PCAP_ERRBUF_SIZE];
	struct vs_decoder_opts o = { 0 };
	struct pcap_pkthdr *h;
	const u_char *data;
	struct vs_decoder *d;
	pcap_t *p;

	memset(bm, 0, sizeof(bm));
	for (; *ports; ports++)
		bm[*ports >> 3] |= 1 << (*ports & 7);
	o.sip_tcp_ports = bm;
	o.framer = cl_framer;
	o.out = count_fn;
	o.out_ctx = r;
	o.stats = &r->st;
	vs_decode_limits__default(&o.limits);
	d = vs_decoder__new(&o);
	cr_assert_not_null(d);
	p = pcap_open_offline(path, err);
	cr_assert_not_null(p, "%s", err);
	while (pcap_next_ex(p, &h, &data) == 1) {
		struct vs_frame f = {
			.data = data,
			.caplen = h->caplen,
			.origlen = h->len,
			.ts_us = (uint64_t)h->ts.tv_sec * 1000000 +
				 (uint64_t)h->ts.tv_usec,
			.linktype = (uint16_t)pcap_datalink(p),
		};

		vs_decoder__frame(d, &f);
	}
	vs_decoder__expire(d, UINT64_MAX);
	cr_assert_eq(vs_decoder__mem(d), 0);
	pcap_close(p);
	vs_decoder__free(d);
}

/* oracle/ipv6frag.pcap.txt: 34 frames, 32 SIP messages over UDP/IPv6 on
 * Linux SLL; 2 INVITE/200 with SDP are split in 2 fragments each
 * (2 "ipv6.fraghdr:udp:sip:sdp" + 2 "ipv6.fraghdr:data" frames). */
Test(decode, pcap_ipv6frag)
{
	static const uint16_t none[] = { 0 };
	struct pcap_run r = { 0 };
	const char *path = pcap_path("sngrep/ipv6frag.pcap");

	if (!path)
		cr_skip_test("../shared/pcaps absent");
	run_pcap(path, none, &r);
	cr_assert_eq(r.st.frames, 34);
	cr_assert_eq(r.st.frag_fragments, 4);
	cr_assert_eq(r.st.frag_reassembled, 2);
	cr_assert_eq(r.st.udp_datagrams, 32);
	cr_assert_eq(r.delivered, 32);
	cr_assert_eq(r.sip_starts, 32);
	cr_assert_eq(r.multi_frame, 2);
	cr_assert_eq(r.st.frag_bad + r.st.frag_timeout + r.st.frag_evicted, 0);
}

/* oracle/sip_ipv4_tcp_fragmented.pcap.txt (tshark -d tcp.port==6060,sip):
 * "Number of SIP messages: 406", 1542 frames, all Ethernet/IPv4/TCP. */
Test(decode, pcap_sip_tcp_fragmented)
{
	static const uint16_t ports[] = { 6060, 0 };
	struct pcap_run r = { 0 };
	const char *path = pcap_path("heplify/sip_ipv4_tcp_fragmented.pcap");

	if (!path)
		cr_skip_test("../shared/pcaps absent");
	run_pcap(path, ports, &r);
	cr_assert_eq(r.st.frames, 1542);
	cr_assert_eq(r.st.tcp_segments, 1542);
	cr_assert_eq(r.st.tcp_messages, 406);
	cr_assert_eq(r.delivered, 406);
	cr_assert_eq(r.sip_starts, 406);
	cr_assert_eq(r.st.tcp_not_sip, 0);
	cr_assert_eq(r.st.tcp_gap_skipped, 0);
}

/* oracle/ipip.pcap.txt: 4 SIP messages over TCP (port 5090), two of them
 * inside IP-in-IP ("eth:ethertype:ip:ip:tcp:sip:sdp"). */
Test(decode, pcap_ipip_tcp)
{
	static const uint16_t ports[] = { 5090, 0 };
	struct pcap_run r = { 0 };
	const char *path = pcap_path("sngrep/ipip.pcap");

	if (!path)
		cr_skip_test("../shared/pcaps absent");
	run_pcap(path, ports, &r);
	cr_assert_eq(r.st.frames, 4);
	cr_assert_eq(r.st.tcp_messages, 4);
	cr_assert_eq(r.sip_starts, 4);
	cr_assert_eq(r.st.ip_other_proto, 0);
}
