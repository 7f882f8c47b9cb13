// SPDX-License-Identifier: GPL-2.0-or-later
/* The capture program's verdicts, run in the kernel with BPF_PROG_TEST_RUN
 * on hand-made frames (needs root: skipped otherwise), and the libpcap
 * fallback's filter text. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/live.h"
#include "capture/ring.h"
#include "capture/xdp_int.h"
#include "pin_sweep.h"

static struct vs_conf conf;
static struct vs_xdp *x;
static char pin[64];

static void setup(void)
{
	struct vs_xdp_opts o = { .conf = &conf };

	vs_conf__init(&conf);
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/vs-unit-%d", (int)getpid());
	sweep_stale_pins("vs-unit-");
	o.pin_dir = pin;
	if (geteuid() != 0)
		return;
	x = vs_xdp__open(&o); /* no interface: load and fill only */
}

static void teardown(void)
{
	vs_xdp__close(x);
	x = NULL;
	vs_conf__free(&conf);
}

static void need_bpf(void)
{
	if (!x)
		cr_skip_test("BPF not loadable here (root with CAP_BPF needed)");
}

/* The programs loaded again with other options (same pin directory). */
static void reopen(struct vs_xdp_opts *o)
{
	vs_xdp__close(x);
	o->pin_dir = pin;
	x = vs_xdp__open(o);
	cr_assert_not_null(x);
}

/* Frame builder: Ethernet [VLAN tags] IPv4 UDP/TCP payload. */
struct frame {
	uint8_t b[256];
	size_t n;
};

static void put(struct frame *f, const void *p, size_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

/* n bytes that differ from their neighbours (and from zero), so that a
 * record that misses or moves one is told from the frame. */
static void put_pattern(struct frame *f, size_t n)
{
	for (size_t i = 0; i < n; i++, f->n++)
		f->b[f->n] = (uint8_t)(f->n * 13 + 5) | 1;
}

static void eth(struct frame *f, int vlans, uint16_t type)
{
	static const uint8_t mac[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	uint16_t t;

	f->n = 0;
	put(f, mac, 12);
	for (int i = 0; i < vlans; i++) {
		uint8_t tag[4] = { i ? 0x81 : (vlans == 2 ? 0x88 : 0x81),
				   i || vlans == 1 ? 0x00 : 0xa8, 0, 10 };
		put(f, tag, 4);
	}
	t = htons(type);
	put(f, &t, 2);
}

/* IPv4 + UDP (or TCP) header with ports, frag offset/flags word, id. */
static void ip4(struct frame *f, uint8_t proto, uint32_t dst, uint16_t sport,
		uint16_t dport, uint16_t frag, uint16_t id, int l4)
{
	uint8_t ip[20] = { 0x45, 0, 0, 60, id >> 8, id & 0xff, frag >> 8,
			   frag & 0xff, 64, proto, 0, 0, 10, 0, 0, 1 };
	uint32_t d = htonl(dst);
	uint8_t l4h[20] = { sport >> 8, sport & 0xff, dport >> 8, dport & 0xff,
			    0, 20, 0, 0, 0x80, 0 };

	memcpy(ip + 16, &d, 4);
	put(f, ip, 20);
	if (l4)
		put(f, l4h, proto == IPPROTO_TCP ? 20 : 12);
}

/* IPv6 (fd00::1 → fd00::<dst>) + UDP + the first payload bytes of RTP
 * version 2, payload type pt. */
static void ip6_udp(struct frame *f, uint8_t dst, uint16_t sport,
		    uint16_t dport, uint8_t pt)
{
	uint8_t ip6[40] = { 0x60, 0, 0, 0, 0, 12, IPPROTO_UDP, 64 };
	uint8_t udp[12] = { sport >> 8, sport & 0xff, dport >> 8,
			    dport & 0xff, 0, 12, 0, 0, 0x80, pt };

	ip6[8] = 0xfd;
	ip6[23] = 1;
	ip6[24] = 0xfd;
	ip6[39] = dst;
	put(f, ip6, 40);
	put(f, udp, 12);
}

/* IPv4 (10.0.0.1 → dst) with opt bytes of options after the fixed
 * header, then UDP and RTP's first byte. The options: a Record Route of
 * opt - 1 bytes when there is room for one, else NOPs, and an EOL last. */
static void ip4_opts(struct frame *f, size_t opt, uint32_t dst,
		     uint16_t sport, uint16_t dport)
{
	uint8_t udp[12] = { sport >> 8, sport & 0xff, dport >> 8, dport & 0xff,
			    0, 12, 0, 0, 0x80, 0 };
	uint8_t *o;
	size_t ip = f->n;

	ip4(f, IPPROTO_UDP, dst, sport, dport, 0, 1, 0);
	f->b[ip] = (uint8_t)(0x40 | (5 + opt / 4));
	o = f->b + f->n;
	memset(o, 1, opt); /* NOP */
	if (opt >= 8) {
		o[0] = 7; /* Record Route: type, length, pointer, slots */
		o[1] = (uint8_t)(opt - 1);
		o[2] = 4;
		memset(o + 3, 0, opt - 4);
	}
	o[opt - 1] = 0; /* EOL */
	f->n += opt;
	put(f, udp, sizeof(udp));
}

/* The IPv6 header alone: fd00::1 → fd00::<dst>, first header nh. */
static void ip6_hdr(struct frame *f, uint8_t dst, uint8_t nh)
{
	uint8_t ip6[40] = { 0x60, 0, 0, 0, 0, 0, nh, 64 };

	ip6[8] = 0xfd;
	ip6[23] = 1;
	ip6[24] = 0xfd;
	ip6[39] = dst;
	put(f, ip6, 40);
}

/* An IPv6 fragment header before UDP: offset in 8-byte units, more
 * fragments flag, id. */
static void ip6_frag_hdr(struct frame *f, uint16_t off, int more, uint32_t id)
{
	uint16_t fo = (uint16_t)(off << 3 | (more ? 1 : 0));
	uint8_t h[8] = { IPPROTO_UDP, 0, fo >> 8, fo & 0xff, id >> 24,
			 id >> 16 & 0xff, id >> 8 & 0xff, id & 0xff };

	put(f, h, 8);
}

/* UDP header and RTP version 2's first two bytes. */
static void udp_rtp(struct frame *f, uint16_t sport, uint16_t dport)
{
	uint8_t udp[12] = { sport >> 8, sport & 0xff, dport >> 8, dport & 0xff,
			    0, 12, 0, 0, 0x80, 8 };

	put(f, udp, sizeof(udp));
}

/* Runs a program on f; returns the verdict counter it hit in dir. */
static int verdict_of(const struct frame *f, struct bpf_program *prog,
		      enum vs_kdir dir, int retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = f->b,
		    .data_size_in = (__u32)f->n);
	struct vs_kcounters before, after;
	int fd = bpf_program__fd(prog);

	cr_assert_eq(vs_xdp__counters(x, dir, &before), 0);
	cr_assert_eq(bpf_prog_test_run_opts(fd, &t), 0, "%s", strerror(errno));
	cr_assert_eq(t.retval, (__u32)retval);
	cr_assert_eq(vs_xdp__counters(x, dir, &after), 0);
	cr_assert_eq(after.c[VS_KCNT_seen], before.c[VS_KCNT_seen] + 1);
	for (int i = 0; i < VS_KCNT__MAX; i++)
		if (i != VS_KCNT_seen && i != VS_KCNT_delivered &&
		    i != VS_KCNT_delivery_failed && after.c[i] != before.c[i])
			return i; /* the verdict */
	return -1;
}

/* The XDP (receive) program's verdict. */
static int verdict(const struct frame *f)
{
	return verdict_of(f, x->skel->progs.vs_xdp_copy, VS_DIR_IN, XDP_PASS);
}

/* Bit `port` of media_ports, read back from the kernel. */
static int media_port_bit(uint16_t port)
{
	uint8_t bits[65536 / 8];
	__u32 zero = 0;

	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(x->skel->maps.media_ports),
					 &zero, bits), 0);
	return (bits[port >> 3] >> (port & 7)) & 1;
}

static void media_v4(uint8_t last, uint16_t port, int add)
{
	struct vs_endpoint ep = { .port = port };
	uint8_t v4[4] = { 10, 0, 0, last };

	vs_addr_from_v4(&ep.addr, v4);
	vs_xdp__media(x, &ep, add);
}

TestSuite(xdp_prog, .init = setup, .fini = teardown);

Test(xdp_prog, sip_udp_tcp_vlan)
{
	struct frame f;

	need_bpf();
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 40000, 5060, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_sip);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_TCP, 0x0a000002, 5060, 40000, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_sip);
	eth(&f, 2, 0x0800); /* QinQ */
	ip4(&f, IPPROTO_UDP, 0x0a000002, 40000, 5060, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_sip);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 40000, 5061, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
}

Test(xdp_prog, other_and_malformed)
{
	struct frame f;

	need_bpf();
	eth(&f, 0, 0x0806); /* ARP */
	put(&f, (uint8_t[28]){ 0 }, 28);
	cr_expect_eq(verdict(&f), VS_KCNT_not_ip);
	eth(&f, 0, 0x0800);
	put(&f, (uint8_t[10]){ 0x45 }, 10); /* IPv4 cut short */
	cr_expect_eq(verdict(&f), VS_KCNT_malformed);
	eth(&f, 0, 0x0800);
	put(&f, (uint8_t[20]){ 0x44 }, 20); /* IHL 4 */
	cr_expect_eq(verdict(&f), VS_KCNT_malformed);
}

/* quick() answers only what classify() would: frames at its
 * edges (a cut TCP header, a port in a range that holds a SIP port, IPv4
 * options, a fragment, another protocol) get the verdicts they had before
 * it existed. (xsk_drops_the_rest runs it in the afxdp program.) */
Test(xdp_prog, quick_path_agrees)
{
	struct frame f;

	need_bpf();
	eth(&f, 0, 0x0800); /* TCP 80 -> 443: the quick path */
	ip4(&f, IPPROTO_TCP, 0x0a000002, 80, 443, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
	cr_expect_eq(verdict_of(&f, x->skel->progs.vs_tc_egress, VS_DIR_OUT,
				TC_ACT_UNSPEC), VS_KCNT_not_voip);
	f.n -= 1; /* 19 bytes of TCP header */
	cr_expect_eq(verdict(&f), VS_KCNT_malformed);
	eth(&f, 0, 0x0800); /* 5061: SIP's range, not a SIP port */
	ip4(&f, IPPROTO_UDP, 0x0a000002, 5061, 443, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
	f.b[14 + 21] = 5060 & 0xff; /* source port 5060 */
	cr_expect_eq(verdict(&f), VS_KCNT_sip);
	eth(&f, 0, 0x0800); /* a later fragment of unknown datagram */
	ip4(&f, IPPROTO_UDP, 0x0a000002, 80, 443, 0x0010, 77, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_frag_unknown);
	eth(&f, 0, 0x0800);
	ip4_opts(&f, 8, 0x0a000002, 5060, 443);
	cr_expect_eq(verdict(&f), VS_KCNT_sip, "IPv4 options");
	eth(&f, 0, 0x0800);
	ip4(&f, 47, 0x0a000002, 0, 0, 0, 1, 1); /* GRE: tun_protos */
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
	cr_assert_eq(vs_xdp__tun_proto(x, 47, 1), 0);
	cr_expect_eq(verdict(&f), VS_KCNT_tunnel);
	cr_assert_eq(vs_xdp__tun_proto(x, 47, 0), 0);

	/* quick_media: RTP to its port's media_one address; to a second
	 * address on that port (the hash), to a media port in SIP's range
	 * and from a live endpoint: the full path, the same verdicts. */
	media_v4(2, 4000, 1);
	media_v4(3, 4000, 1);
	media_v4(2, 5070, 1);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 30000, 4000, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_rtp);
	f.b[14 + 20 + 9] = 201;
	cr_expect_eq(verdict(&f), VS_KCNT_rtcp);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000003, 30000, 4000, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_rtp, "second address: the hash");
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000004, 30000, 4000, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip, "live port, other address");
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 30000, 5070, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_rtp, "media port in SIP's range");
	media_v4(2, 4000, 0);
	media_v4(3, 4000, 0);
	media_v4(2, 5070, 0);
}

Test(xdp_prog, media_follows_on_media)
{
	struct vs_endpoint ep = { .port = 4000 };
	uint8_t v4[4] = { 10, 0, 0, 2 };
	struct frame f;

	need_bpf();
	vs_addr_from_v4(&ep.addr, v4);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 30000, 4000, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
	vs_xdp__media(x, &ep, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_rtp);
	f.b[14 + 20 + 9] = 200; /* RTCP SR */
	cr_expect_eq(verdict(&f), VS_KCNT_rtcp);
	vs_xdp__media(x, &ep, 0);
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
	cr_expect_eq(x->media_live, 0);
}

Test(xdp_prog, fragments)
{
	struct frame f;

	need_bpf();
	/* First fragment of a SIP datagram (MF), then a later one. */
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 40000, 5060, 0x2000, 77, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_sip);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 0, 0, 0x0010, 77, 0);
	cr_expect_eq(verdict(&f), VS_KCNT_fragment);
	/* Not SIP: its later fragment is not passed. */
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 40000, 53, 0x2000, 78, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 0, 0, 0x0010, 78, 0);
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
	/* A later fragment before its first: passed, never lost. */
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 0, 0, 0x0010, 79, 0);
	cr_expect_eq(verdict(&f), VS_KCNT_frag_unknown);
}

Test(xdp_prog, ipv6_extension_headers)
{
	uint8_t ip6[40] = { 0x60, 0, 0, 0, 0, 24, 0 /* hop-by-hop */, 64 };
	uint8_t hbh[8] = { IPPROTO_UDP, 0 };
	uint8_t udp[8] = { 0x9c, 0x40, 0x13, 0xc4, 0, 8, 0, 0 }; /* → 5060 */
	struct frame f;

	need_bpf();
	ip6[8] = 0xfd;
	ip6[24] = 0xfd;
	eth(&f, 0, 0x86dd);
	put(&f, ip6, 40);
	put(&f, hbh, 8);
	put(&f, udp, 8);
	cr_expect_eq(verdict(&f), VS_KCNT_sip);
}

/* IHL above 5: the options are skipped whatever their length (4 bytes of
 * NOPs, 40 of Record Route, the most IHL 15 allows), so SIP and RTP still
 * match; an IHL that reaches past the frame is malformed. */
Test(xdp_prog, ipv4_options_skipped)
{
	static const size_t opt[] = { 4, 40 };
	struct frame f;

	need_bpf();
	media_v4(2, 4000, 1);
	for (size_t i = 0; i < 2; i++) {
		eth(&f, 0, 0x0800);
		ip4_opts(&f, opt[i], 0x0a000002, 40000, 5060);
		cr_expect_eq(verdict(&f), VS_KCNT_sip, "%zu option bytes",
			     opt[i]);
		eth(&f, 0, 0x0800);
		ip4_opts(&f, opt[i], 0x0a000002, 30000, 4000);
		cr_expect_eq(f.b[14 + 20 + opt[i] + 8], 0x80);
		cr_expect_eq(verdict(&f), VS_KCNT_rtp, "%zu option bytes",
			     opt[i]);
		eth(&f, 0, 0x0800);
		ip4_opts(&f, opt[i], 0x0a000002, 30000, 4002);
		cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
	}
	/* IHL 15 (60 bytes) on a frame with 20 + 12 after Ethernet */
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 40000, 5060, 0, 1, 1);
	f.b[14] = 0x4f;
	cr_expect_eq(verdict(&f), VS_KCNT_malformed);
	/* IHL 6, the frame ending with the fixed header */
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 40000, 5060, 0, 1, 0);
	f.b[14] = 0x46;
	cr_expect_eq(verdict(&f), VS_KCNT_malformed);
	media_v4(2, 4000, 0);
}

/* IPv6 fragment header: a first fragment (offset 0, M) is classified on
 * its UDP header and its verdict remembered by id; the later fragment of
 * a passed one is `fragment`, of a refused one not_voip, of an id never
 * seen frag_unknown. */
/* IPv6 fd00::1 -> fd00::2 with a fragment header (offset in 8-byte units,
 * more-fragments flag, id): a first fragment carries UDP sport -> dport,
 * a later one 16 bytes of payload. Returns the XDP verdict. */
static int frag6(uint16_t off, int more, uint32_t id, uint16_t sport,
		 uint16_t dport)
{
	struct frame f;

	eth(&f, 0, 0x86dd);
	ip6_hdr(&f, 2, IPPROTO_FRAGMENT);
	ip6_frag_hdr(&f, off, more, id);
	if (!off)
		udp_rtp(&f, sport, dport);
	else
		put(&f, (uint8_t[16]){ 0 }, 16);
	return verdict(&f);
}

Test(xdp_prog, ipv6_fragments)
{
	struct vs_endpoint ep = { .port = 4000 };
	uint8_t a6[16] = { 0xfd, [15] = 2 };

	need_bpf();
	vs_addr_from_v6(&ep.addr, a6);
	vs_xdp__media(x, &ep, 1);
	/* RTP to a live endpoint, then its later fragment */
	cr_expect_eq(frag6(0, 1, 0x10001, 30000, 4000), VS_KCNT_rtp);
	cr_expect_eq(frag6(185, 0, 0x10001, 0, 0), VS_KCNT_fragment);
	/* SIP, then a later fragment that is not the last */
	cr_expect_eq(frag6(0, 1, 0x10002, 40000, 5060), VS_KCNT_sip);
	cr_expect_eq(frag6(185, 1, 0x10002, 0, 0), VS_KCNT_fragment);
	/* DNS: refused, and its later fragment too */
	cr_expect_eq(frag6(0, 1, 0x10003, 40000, 53), VS_KCNT_not_voip);
	cr_expect_eq(frag6(185, 0, 0x10003, 0, 0), VS_KCNT_not_voip);
	/* a later fragment of an id never seen */
	cr_expect_eq(frag6(185, 0, 0x10004, 0, 0), VS_KCNT_frag_unknown);
	vs_xdp__media(x, &ep, 0);
}

/* A destination options header in the fragmentable part (RFC 8200 4.5):
 * every fragment header then names it as next header, and a later
 * fragment's bytes after the fragment header are payload, not a header. */
Test(xdp_prog, ipv6_later_fragment_after_dstopts)
{
	uint8_t dst[8] = { IPPROTO_UDP, 0, 1, 4 };
	uint8_t later[16] = { 0x11, 0xff, 0x55, 0xaa };
	struct frame f;

	need_bpf();
	eth(&f, 0, 0x86dd);
	ip6_hdr(&f, 2, IPPROTO_FRAGMENT);
	ip6_frag_hdr(&f, 0, 1, 0x20001);
	f.b[f.n - 8] = IPPROTO_DSTOPTS;
	put(&f, dst, sizeof(dst));
	udp_rtp(&f, 40000, 5060);
	cr_expect_eq(verdict(&f), VS_KCNT_sip);
	eth(&f, 0, 0x86dd);
	ip6_hdr(&f, 2, IPPROTO_FRAGMENT);
	ip6_frag_hdr(&f, 185, 0, 0x20001);
	f.b[f.n - 8] = IPPROTO_DSTOPTS;
	put(&f, later, sizeof(later));
	/* Its payload's 0xff is not a 2 KiB header length: the datagram's
	 * first fragment passed, so this one does too. */
	cr_expect_eq(verdict(&f), VS_KCNT_fragment);
}

/* A routing header (type 2, 24 bytes), a destination options header
 * (PadN, 8 bytes), and the two after a hop-by-hop one are skipped. */
Test(xdp_prog, ipv6_routing_and_dstopts)
{
	uint8_t rt[24] = { IPPROTO_UDP, 2, 2, 1 };
	uint8_t dst[8] = { IPPROTO_UDP, 0, 1, 4 };
	uint8_t hbh[8] = { IPPROTO_DSTOPTS, 0, 1, 4 };
	struct frame f;

	need_bpf();
	eth(&f, 0, 0x86dd);
	ip6_hdr(&f, 2, IPPROTO_ROUTING);
	put(&f, rt, sizeof(rt));
	udp_rtp(&f, 40000, 5060);
	cr_expect_eq(verdict(&f), VS_KCNT_sip);
	eth(&f, 0, 0x86dd);
	ip6_hdr(&f, 2, IPPROTO_DSTOPTS);
	put(&f, dst, sizeof(dst));
	udp_rtp(&f, 40000, 5060);
	cr_expect_eq(verdict(&f), VS_KCNT_sip);
	eth(&f, 0, 0x86dd); /* hop-by-hop → dstopts → routing → UDP */
	ip6_hdr(&f, 2, IPPROTO_HOPOPTS);
	put(&f, hbh, sizeof(hbh));
	dst[0] = IPPROTO_ROUTING;
	put(&f, dst, sizeof(dst));
	put(&f, rt, sizeof(rt));
	udp_rtp(&f, 40000, 5061);
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
	f.b[f.n - 9] = 0xc4; /* destination port 5061 → 5060 */
	cr_expect_eq(verdict(&f), VS_KCNT_sip);
}

/* Two endpoints on one port: the port stays live until the last goes. */
Test(xdp_prog, media_ports_count_endpoints_per_port)
{
	struct frame f;

	need_bpf();
	cr_expect_eq(media_port_bit(4000), 0);
	media_v4(2, 4000, 1);
	media_v4(3, 4000, 1);
	cr_expect_eq(media_port_bit(4000), 1);
	cr_expect_eq(media_port_bit(4001), 0);
	cr_expect_eq(x->port_refs[4000], 2);
	cr_expect_eq(x->media_live, 2);
	media_v4(2, 4000, 0);
	cr_expect_eq(media_port_bit(4000), 1);
	cr_expect_eq(x->port_refs[4000], 1);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 30000, 4000, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000003, 30000, 4000, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_rtp);
	media_v4(3, 4000, 0);
	cr_expect_eq(media_port_bit(4000), 0);
	cr_expect_eq(x->port_refs[4000], 0);
	cr_expect_eq(x->media_live, 0);
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
	cr_expect_eq(x->media_errors, 0);
}

/* The last byte of port's media_one slot (the IPv4 address's last byte),
 * or -1 when the slot is empty. */
static int media_slot_last(uint16_t port)
{
	uint8_t pair[8], zero[4] = { 0 }, *v4 = pair + 4 * (port & 1);
	__u32 k = port >> 1;

	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(x->skel->maps.media_one),
					 &k, pair), 0);
	return memcmp(v4, zero, 4) ? v4[3] : -1;
}

/* media_one names the first endpoint on a port and only while it is in
 * `media`; frames to the others on that port are found in the hash. */
Test(xdp_prog, media_one_slot)
{
	struct frame f;

	need_bpf();
	media_v4(2, 4100, 1);
	media_v4(3, 4100, 1);
	cr_expect_eq(media_slot_last(4100), 2);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 30000, 4100, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_rtp);
	media_v4(2, 4100, 0);
	cr_expect_eq(media_slot_last(4100), -1);
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip, "removed: not cached");
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000003, 30000, 4100, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_rtp, "second endpoint: the hash");
	media_v4(4, 4100, 1);
	cr_expect_eq(media_slot_last(4100), 4, "empty slot: the next one");
	media_v4(3, 4100, 0);
	cr_expect_eq(media_slot_last(4100), 4);
	media_v4(4, 4100, 0);
	cr_expect_eq(media_slot_last(4100), -1);
	cr_expect_eq(x->media_live, 0);
}

/* The summary of each port bitmap: default sipport 5060 is in range 4;
 * no tunnel ports; a media range's bit follows its ports (two ports in one
 * range: set with the first, cleared with the last), and a frame whose
 * ports are in no summed range is turned away before any bitmap. */
Test(xdp_prog, port_summary)
{
	struct frame f;

	need_bpf();
	cr_expect_eq(x->port_sum->sip, 1ull << (5060 >> 10));
	cr_expect_eq(x->port_sum->tun, 0);
	cr_expect_eq(x->port_sum->media, 0);
	media_v4(2, 10000, 1);
	media_v4(2, 10002, 1);
	media_v4(2, 40000, 1);
	cr_expect_eq(x->port_sum->media,
		     (1ull << (10000 >> 10)) | (1ull << (40000 >> 10)));
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 30000, 10002, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_rtp);
	media_v4(2, 10000, 0);
	cr_expect_eq(x->port_sum->media,
		     (1ull << (10000 >> 10)) | (1ull << (40000 >> 10)),
		     "10002 still live in the range");
	cr_expect_eq(verdict(&f), VS_KCNT_rtp);
	media_v4(2, 10002, 0);
	cr_expect_eq(x->port_sum->media, 1ull << (40000 >> 10));
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
	media_v4(2, 40000, 0);
	cr_expect_eq(x->port_sum->media, 0);
	cr_expect_eq(x->range_refs[10000 >> 10], 0);
	/* SIP on 5060 still passes through the summed range */
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_TCP, 0x0a000002, 30000, 5060, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_sip);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_TCP, 0x0a000002, 30000, 5061, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
}

/* An endpoint announced twice (the map already holds it) counts once. */
Test(xdp_prog, media_add_twice_counts_once)
{
	need_bpf();
	media_v4(2, 5004, 1);
	media_v4(2, 5004, 1);
	cr_expect_eq(x->media_live, 1);
	cr_expect_eq(x->port_refs[5004], 1);
	cr_expect_eq(x->media_errors, 0);
	media_v4(2, 5004, 0);
	cr_expect_eq(x->media_live, 0);
	cr_expect_eq(x->port_refs[5004], 0);
	cr_expect_eq(media_port_bit(5004), 0);
	media_v4(2, 5004, 0); /* already gone: nothing to undo */
	cr_expect_eq(x->port_refs[5004], 0);
	cr_expect_eq(x->media_live, 0);
}

/* A live port on another address, a live endpoint as the source, the RTCP
 * port, and a payload that is not RTP version 2. */
Test(xdp_prog, media_port_address_and_direction)
{
	struct frame f;

	need_bpf();
	media_v4(2, 4000, 1);
	media_v4(2, 4001, 1);
	media_v4(1, 6000, 1); /* 10.0.0.1, the frames' source */
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000009, 30000, 4000, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000009, 6000, 30000, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_rtp);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 30001, 4001, 0, 1, 1);
	f.b[14 + 20 + 9] = 201; /* RTCP RR */
	cr_expect_eq(verdict(&f), VS_KCNT_rtcp);
	f.b[14 + 20 + 8] = 0x40; /* version 1: not RTP */
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
	eth(&f, 0, 0x0800); /* TCP to a live endpoint is not media */
	ip4(&f, IPPROTO_TCP, 0x0a000002, 30000, 4000, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
	media_v4(2, 4000, 0);
	media_v4(2, 4001, 0);
	media_v4(1, 6000, 0);
	cr_expect_eq(x->media_live, 0);
	cr_expect_eq(media_port_bit(6000), 0);
}

Test(xdp_prog, media_ipv6)
{
	struct vs_endpoint ep = { .port = 4000 };
	uint8_t a6[16] = { 0xfd, [15] = 2 };
	struct frame f;

	need_bpf();
	vs_addr_from_v6(&ep.addr, a6);
	eth(&f, 0, 0x86dd);
	ip6_udp(&f, 2, 30000, 4000, 8);
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
	vs_xdp__media(x, &ep, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_rtp);
	cr_expect_eq(media_slot_last(4000), -1, "IPv6: no media_one slot");
	media_v4(2, 4000, 1); /* same port, IPv4 twin (natalias) */
	cr_expect_eq(media_slot_last(4000), 2, "the port's first IPv4 one");
	eth(&f, 0, 0x86dd);
	ip6_udp(&f, 3, 30000, 4000, 8); /* fd00::3: another address */
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
	vs_xdp__media(x, &ep, 0);
	eth(&f, 0, 0x86dd);
	ip6_udp(&f, 2, 30000, 4000, 8);
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
	cr_expect_eq(media_port_bit(4000), 1); /* the IPv4 twin holds it */
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 30000, 4000, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_rtp);
	media_v4(2, 4000, 0);
	cr_expect_eq(media_port_bit(4000), 0);
	cr_expect_eq(x->media_live, 0);
}

/* A fragmented RTP datagram: the first fragment has the ports, the later
 * one follows its verdict. */
Test(xdp_prog, media_fragments)
{
	struct frame f;

	need_bpf();
	media_v4(2, 4000, 1);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 30000, 4000, 0x2000, 91, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_rtp);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 0, 0, 0x0010, 91, 0);
	cr_expect_eq(verdict(&f), VS_KCNT_fragment);
	media_v4(2, 4000, 0);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 30000, 4000, 0x2000, 92, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 0, 0, 0x0010, 92, 0);
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
}

/* TC egress classifies with the same code, counted as `out`. */
Test(xdp_prog, tc_egress_same_verdicts)
{
	struct bpf_program *tc;
	struct frame f;

	need_bpf();
	tc = x->skel->progs.vs_tc_egress;
	media_v4(2, 4000, 1);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 30000, 4000, 0, 1, 1);
	cr_expect_eq(verdict_of(&f, tc, VS_DIR_OUT, TC_ACT_UNSPEC),
		     VS_KCNT_rtp);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 30000, 4002, 0, 1, 1);
	cr_expect_eq(verdict_of(&f, tc, VS_DIR_OUT, TC_ACT_UNSPEC),
		     VS_KCNT_not_voip);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_TCP, 0x0a000002, 5060, 40000, 0, 1, 1);
	cr_expect_eq(verdict_of(&f, tc, VS_DIR_OUT, TC_ACT_UNSPEC),
		     VS_KCNT_sip);
	media_v4(2, 4000, 0);
}

Test(xdp_prog, media_ports_pinned)
{
	char path[128];
	struct stat st;

	need_bpf();
	snprintf(path, sizeof(path), "%s/media_ports", pin);
	cr_expect_eq(stat(path, &st), 0, "%s: %s", path, strerror(errno));
}

/* The records the copy program wrote, oldest first: caplen and origlen of
 * the last one. */
struct last_rec {
	int n;
	uint32_t caplen, origlen;
	uint8_t data[256]; /* the frame's first bytes, up to caplen */
};

static int on_rec(void *ctx, const struct vs_ring_hdr *h, const uint8_t *fr)
{
	struct last_rec *r = ctx;

	r->n++;
	r->caplen = h->caplen;
	r->origlen = h->origlen;
	memcpy(r->data, fr, h->caplen < sizeof(r->data) ? h->caplen
							: sizeof(r->data));
	return 0;
}

static void drain_rings(struct last_rec *r)
{
	int fds[VS_RING_SET_MAX];
	struct vs_ring_set *rs;

	for (int i = 0; i < vs_xdp__nrings(x); i++)
		fds[i] = vs_xdp__ring_fd(x, i);
	rs = vs_ring_set__new(fds, vs_xdp__nrings(x), vs_xdp__ring_bytes(x));
	cr_assert_not_null(rs, "%s", strerror(errno));
	memset(r, 0, sizeof(*r));
	while (vs_ring_set__drain(rs, 64, on_rec, r) > 0)
		;
	vs_ring_set__free(rs);
}

/* snaplen bounds the copy; the ring has the size asked for. */
Test(xdp_prog, snaplen_and_ring_size)
{
	struct vs_xdp_opts o = { .conf = &conf, .snaplen = 100,
				 .ring_bytes = 1u << 20 };
	struct bpf_map_info info = { 0 };
	__u32 ilen = sizeof(info);
	struct last_rec r;
	struct frame f;

	need_bpf();
	reopen(&o);
	cr_assert_eq(bpf_obj_get_info_by_fd(vs_xdp__ring_fd(x, 0), &info,
					    &ilen), 0);
	cr_expect_eq(info.max_entries, 1u << 20);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 40000, 5060, 0, 1, 1);
	put(&f, (uint8_t[150]){ 0 }, 150); /* 196 bytes in all */
	cr_expect_eq(verdict(&f), VS_KCNT_sip);
	drain_rings(&r);
	cr_expect_eq(r.n, 1);
	cr_expect_eq(r.caplen, 100);
	cr_expect_eq(r.origlen, f.n);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 40000, 5060, 0, 1, 1);
	cr_expect_eq(verdict(&f), VS_KCNT_sip);
	drain_rings(&r);
	cr_expect_eq(r.caplen, f.n, "a short frame is copied whole");
}

/* An RTP frame to 10.0.0.2:4000: the UDP header and byte 0 (`first`:
 * CC, X) and 1 from ip4(), then the rest of the fixed header, `ext` words
 * of header extension when X is set, and 160 bytes of audio. */
static void rtp_frame(struct frame *f, int vlans, uint8_t first, uint8_t pt,
		      uint16_t ext)
{
	size_t udp = 14 + 4 * (size_t)vlans + 20;

	eth(f, vlans, 0x0800);
	ip4(f, IPPROTO_UDP, 0x0a000002, 30000, 4000, 0, 1, 1);
	f->b[udp + 8] = first;
	f->b[udp + 9] = pt;
	put_pattern(f, 8);
	put_pattern(f, 4u * (first & 15));
	if (first & 0x10) {
		put(f, (uint8_t[4]){ 0xbe, 0xde, ext >> 8, ext & 0xff }, 4);
		put_pattern(f, 4u * ext);
	}
	put_pattern(f, 160);
}

/* The record of one frame through prog (XDP or TC). */
static struct last_rec one_rec(const struct frame *f, struct bpf_program *prog)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = f->b,
		    .data_size_in = (__u32)f->n);
	struct last_rec r;

	drain_rings(&r);
	cr_assert_eq(bpf_prog_test_run_opts(bpf_program__fd(prog), &t), 0);
	drain_rings(&r);
	cr_assert_eq(r.n, 1);
	cr_expect_eq(r.origlen, f->n);
	cr_expect_eq(memcmp(r.data, f->b, r.caplen < sizeof(r.data) ?
			    r.caplen : sizeof(r.data)), 0,
		     "the record's bytes are not the frame's");
	return r;
}

/* rtp_head: RTP is copied through its header and VS_RTP_KEEP bytes, by
 * both programs; RTCP, SIP and RTP without the option stay whole. */
Test(xdp_prog, rtp_header_only)
{
	struct vs_xdp_opts o = { .conf = &conf, .rtp_head = 1 };
	struct bpf_program *in, *out;
	const size_t hdr = 14 + 20 + 8 + 12 + VS_RTP_KEEP;
	struct frame f;

	need_bpf();
	reopen(&o);
	in = x->skel->progs.vs_xdp_copy;
	out = x->skel->progs.vs_tc_egress;
	media_v4(2, 4000, 1);
	rtp_frame(&f, 0, 0x80, 8, 0);
	cr_expect_eq(f.n, 14 + 20 + 8 + 12 + 160);
	cr_expect_eq(one_rec(&f, in).caplen, hdr);
	cr_expect_eq(one_rec(&f, out).caplen, hdr);
	rtp_frame(&f, 1, 0x80, 8, 0);
	cr_expect_eq(one_rec(&f, in).caplen, hdr + 4, "VLAN tag");
	rtp_frame(&f, 0, 0x83, 8, 0);
	cr_expect_eq(one_rec(&f, in).caplen, hdr + 12, "3 CSRCs");
	rtp_frame(&f, 0, 0x91, 8, 3);
	cr_expect_eq(one_rec(&f, in).caplen, hdr + 4 + 4 + 12,
		     "a CSRC and 3 words of extension");
	rtp_frame(&f, 0, 0x90, 8, 3);
	f.n = 14 + 20 + 8 + 12 + 2; /* the extension header cut */
	cr_expect_eq(one_rec(&f, in).caplen, f.n, "cannot tell: whole");
	rtp_frame(&f, 0, 0x80, 200, 0);
	cr_expect_eq(one_rec(&f, in).caplen, f.n, "RTCP on the RTP port");
	media_v4(2, 4000, 0);

	o.rtp_head = 0;
	reopen(&o);
	media_v4(2, 4000, 1);
	rtp_frame(&f, 0, 0x80, 8, 0);
	cr_expect_eq(one_rec(&f, x->skel->progs.vs_xdp_copy).caplen, f.n);
	media_v4(2, 4000, 0);
}

/* The last record's frame bytes, for comparing with what was sent. */
struct rec_copy {
	int n;
	uint32_t caplen;
	uint8_t b[VS_SNAP_MAX];
};

static int on_rec_copy(void *ctx, const struct vs_ring_hdr *h,
		       const uint8_t *fr)
{
	struct rec_copy *r = ctx;

	r->n++;
	r->caplen = h->caplen;
	memcpy(r->b, fr, h->caplen < sizeof(r->b) ? h->caplen : sizeof(r->b));
	return 0;
}

/* One SIP frame of n bytes (ports then a counting pattern) through prog;
 * the record must hold the frame whole and unchanged. */
static void copy_whole(struct vs_ring_set *rs, struct bpf_program *prog,
		       uint32_t n)
{
	static uint8_t b[4096];
	static struct rec_copy r;
	struct frame f;
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = b, .data_size_in = n);

	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 40000, 5060, 0, 1, 1);
	for (uint32_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 7 + 3);
	memcpy(b, f.b, f.n);
	cr_assert_eq(bpf_prog_test_run_opts(bpf_program__fd(prog), &t), 0,
		     "%u bytes: %s", n, strerror(errno));
	memset(&r, 0, sizeof(r));
	while (vs_ring_set__drain(rs, 64, on_rec_copy, &r) > 0)
		;
	cr_expect_eq(r.n, 1, "%u bytes: %d records", n, r.n);
	cr_expect_eq(r.caplen, n, "%u bytes: caplen %u", n, r.caplen);
	cr_expect_eq(memcmp(r.b, b, n), 0, "%u bytes: frame changed", n);
}

/* Records come in a few fixed sizes (bpf_ringbuf_reserve wants a constant
 * one): frames at each size's edges are copied whole by both programs
 * (BPF_PROG_TEST_RUN takes at most about 3.5 KB). */
Test(xdp_prog, record_sizes)
{
	static const uint32_t len[] = { 60,  72,	  73,	104,  105,
					232, 233,  488,	 489,  1000, 1001,
					2024, 2025, 3000 };
	struct vs_xdp_opts o = { .conf = &conf, .snaplen = VS_SNAP_MAX - 1 };
	int fds[VS_RING_SET_MAX];
	struct vs_ring_set *rs;

	need_bpf();
	reopen(&o);
	for (int i = 0; i < vs_xdp__nrings(x); i++)
		fds[i] = vs_xdp__ring_fd(x, i);
	rs = vs_ring_set__new(fds, vs_xdp__nrings(x), vs_xdp__ring_bytes(x));
	cr_assert_not_null(rs, "%s", strerror(errno));
	for (size_t i = 0; i < sizeof(len) / sizeof(len[0]); i++) {
		copy_whole(rs, x->skel->progs.vs_xdp_copy, len[i]);
		copy_whole(rs, x->skel->progs.vs_tc_egress, len[i]);
	}
	vs_ring_set__free(rs);
}

/* Tunnel carriers: an IP protocol in tun_protos (GRE here) or a UDP port
 * in tun_ports is passed as `tunnel` and queued; cleared, it is not. */
Test(xdp_prog, tunnel_hooks)
{
	struct frame f;
	struct last_rec r;

	need_bpf();
	eth(&f, 0, 0x0800);
	ip4(&f, 47, 0x0a000002, 0, 0, 0, 1, 0);
	put(&f, (uint8_t[8]){ 0, 0, 0x08, 0 }, 8); /* GRE, IPv4 inside */
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
	cr_assert_eq(vs_xdp__tun_proto(x, 47, 1), 0);
	drain_rings(&r);
	cr_expect_eq(verdict(&f), VS_KCNT_tunnel);
	drain_rings(&r);
	cr_expect_eq(r.n, 1, "the carrier is queued whole");
	cr_expect_eq(r.caplen, f.n);
	cr_assert_eq(vs_xdp__tun_proto(x, 47, 0), 0);
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);

	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 40000, 4789, 0, 1, 1); /* VXLAN */
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
	cr_assert_eq(vs_xdp__tun_port(x, 4789, 1), 0);
	cr_expect_eq(x->port_sum->tun, 1ull << (4789 / 1024));
	cr_expect_eq(verdict(&f), VS_KCNT_tunnel);
	cr_assert_eq(vs_xdp__tun_port(x, 4789, 0), 0);
	cr_expect_eq(x->port_sum->tun, 0);
	cr_expect_eq(verdict(&f), VS_KCNT_not_voip);
}

/* What the look-ahead stages were shown and what was delivered, in
 * order, as the records' hints. */
struct ahead_log {
	int n, shown[2], early[2];
	uint32_t del[16], seen[2][16];
};

static void on_ahead(void *ctx, int stage, const struct vs_ring_hdr *h)
{
	struct ahead_log *l = ctx;

	if (l->shown[stage] < 16)
		l->seen[stage][l->shown[stage]] = h->hint;
	l->shown[stage]++;
}

static int on_rec_hint(void *ctx, const struct vs_ring_hdr *h,
		       const uint8_t *fr)
{
	struct ahead_log *l = ctx;

	(void)fr;
	/* Both stages saw this record before it came. */
	for (int k = 0; k < 2; k++)
		l->early[k] += l->shown[k] > l->n;
	if (l->n < 16)
		l->del[l->n] = h->hint;
	l->n++;
	return 0;
}

/* An RTP record carries the hash of its destination endpoint, the one the
 * call table's index probes first; other records 0. The ring's look-ahead
 * shows every record to both stages, once, before it is delivered. */
Test(xdp_prog, ring_hint_and_look_ahead)
{
	static struct ahead_log l;
	uint8_t v4[4] = { 10, 0, 0, 2 };
	int fds[VS_RING_SET_MAX];
	struct vs_ring_set *rs;
	struct vs_addr a;
	uint32_t want[7];
	struct frame f;

	need_bpf();
	vs_addr_from_v4(&a, v4);
	for (int i = 0; i < 7; i++) {
		uint16_t port = (uint16_t)(4000 + 2 * i);

		eth(&f, 0, 0x0800);
		if (i == 3) { /* SIP: no hint */
			ip4(&f, IPPROTO_UDP, 0x0a000002, 40000, 5060, 0, 1, 1);
			cr_assert_eq(verdict(&f), VS_KCNT_sip);
			want[i] = 0;
			continue;
		}
		media_v4(2, port, 1);
		ip4(&f, IPPROTO_UDP, 0x0a000002, 30000, port, 0, 1, 1);
		cr_assert_eq(verdict(&f), VS_KCNT_rtp);
		want[i] = vs_ep_hash(a.b, port);
		cr_assert_neq(want[i], 0);
	}
	for (int i = 0; i < vs_xdp__nrings(x); i++)
		fds[i] = vs_xdp__ring_fd(x, i);
	rs = vs_ring_set__new(fds, vs_xdp__nrings(x), vs_xdp__ring_bytes(x));
	cr_assert_not_null(rs, "%s", strerror(errno));
	vs_ring_set__set_ahead(rs, on_ahead);
	while (vs_ring_set__drain(rs, 64, on_rec_hint, &l) > 0)
		;
	vs_ring_set__free(rs);
	cr_assert_eq(l.n, 7);
	for (int k = 0; k < 2; k++) {
		cr_expect_eq(l.shown[k], 7, "stage %d saw %d", k, l.shown[k]);
		cr_expect_eq(l.early[k], 7, "stage %d late", k);
	}
	for (int i = 0; i < 7; i++) {
		cr_expect_eq(l.del[i], want[i], "record %d: hint %08x, not %08x",
			     i, l.del[i], want[i]);
		cr_expect_eq(l.seen[0][i], want[i]);
		cr_expect_eq(l.seen[1][i], want[i]);
	}
}

/* afxdp: a frame is redirected only to a socket of its own interface and
 * queue (xsk_slots); without one it is dropped and counted as lost. */
Test(xdp_prog, xsk_slots)
{
	struct vs_xdp_opts o = { .conf = &conf, .afxdp = 1 };
	/* Without a context, the test run's frame comes from lo, queue 0. */
	LIBBPF_OPTS(bpf_test_run_opts, t);
	struct vs_xsk_slot sl = { .base = 4, .n = 0 };
	struct vs_kcounters before, after;
	struct frame f;
	int fd, ifi = 1;

	need_bpf();
	reopen(&o);
	fd = bpf_program__fd(x->skel->progs.vs_xdp_xsk);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 40000, 5060, 0, 1, 1);
	t.data_in = f.b;
	t.data_size_in = (__u32)f.n;
	/* No slot for lo; a slot without queue 0 in xsk_slots, behind an
	 * xsk_ifs entry of another interface (ifindex 257: the same array
	 * slot); then in xsk_ifs itself, in front of an xsk_slots entry
	 * that has queue 0 (so only xsk_ifs can make the frame drop). (A
	 * redirect that fails later, at an empty XSKMAP slot, cannot be run
	 * here: the test run refuses a frame that grew metadata.) */
	for (int k = 0; k < 3; k++) {
		struct vs_xsk_if c = { .ifindex = 257, .sl = { .base = 0, .n = 1 } };
		__u32 ck = (__u32)ifi % VS_XSK_IF_CACHE;

		if (k == 1) {
			cr_assert_eq(bpf_map_update_elem(vs_xdp__xsk_slots_fd(x),
							 &ifi, &sl, 0), 0);
			cr_assert_eq(bpf_map_update_elem(vs_xdp__xsk_ifs_fd(x),
							 &ck, &c, 0), 0);
		} else if (k == 2) {
			c = (struct vs_xsk_if){ .ifindex = 1, .sl = sl };
			cr_assert_eq(bpf_map_update_elem(vs_xdp__xsk_ifs_fd(x),
							 &ck, &c, 0), 0);
			cr_assert_eq(bpf_map_update_elem(
					     vs_xdp__xsk_slots_fd(x), &ifi,
					     &(struct vs_xsk_slot){ .n = 1 }, 0),
				     0);
		}
		cr_assert_eq(vs_xdp__counters(x, VS_DIR_IN, &before), 0);
		cr_assert_eq(bpf_prog_test_run_opts(fd, &t), 0, "%s",
			     strerror(errno));
		cr_expect_eq(t.retval, XDP_DROP, "case %d", k);
		cr_assert_eq(vs_xdp__counters(x, VS_DIR_IN, &after), 0);
		cr_expect_eq(after.c[VS_KCNT_sip], before.c[VS_KCNT_sip] + 1);
		cr_expect_eq(after.c[VS_KCNT_delivery_failed],
			     before.c[VS_KCNT_delivery_failed] + 1, "case %d", k);
	}
}

/* afxdp: what is not VoIP is dropped (the socket would only get noise)
 * and counted by its verdict alone: no delivery, no loss. RTP to a live
 * endpoint without a socket is dropped as lost, like SIP (xsk_slots). */
Test(xdp_prog, xsk_drops_the_rest)
{
	struct vs_xdp_opts o = { .conf = &conf, .afxdp = 1 };
	struct vs_kcounters before, after;
	struct bpf_program *xsk;
	struct frame f;

	need_bpf();
	reopen(&o);
	xsk = x->skel->progs.vs_xdp_xsk;
	cr_assert_eq(vs_xdp__counters(x, VS_DIR_IN, &before), 0);
	eth(&f, 0, 0x0800); /* HTTP */
	ip4(&f, IPPROTO_TCP, 0x0a000002, 40000, 80, 0, 1, 1);
	cr_expect_eq(verdict_of(&f, xsk, VS_DIR_IN, XDP_DROP),
		     VS_KCNT_not_voip);
	eth(&f, 0, 0x0800); /* DNS */
	ip4(&f, IPPROTO_UDP, 0x0a000002, 40000, 53, 0, 1, 1);
	cr_expect_eq(verdict_of(&f, xsk, VS_DIR_IN, XDP_DROP),
		     VS_KCNT_not_voip);
	eth(&f, 0, 0x0806); /* ARP */
	put(&f, (uint8_t[28]){ 0 }, 28);
	cr_expect_eq(verdict_of(&f, xsk, VS_DIR_IN, XDP_DROP), VS_KCNT_not_ip);
	cr_assert_eq(vs_xdp__counters(x, VS_DIR_IN, &after), 0);
	cr_expect_eq(after.c[VS_KCNT_not_voip], before.c[VS_KCNT_not_voip] + 2);
	cr_expect_eq(after.c[VS_KCNT_delivered], before.c[VS_KCNT_delivered]);
	cr_expect_eq(after.c[VS_KCNT_delivery_failed],
		     before.c[VS_KCNT_delivery_failed]);
	media_v4(2, 4000, 1);
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 30000, 4000, 0, 1, 1);
	cr_expect_eq(verdict_of(&f, xsk, VS_DIR_IN, XDP_DROP), VS_KCNT_rtp);
	cr_assert_eq(vs_xdp__counters(x, VS_DIR_IN, &before), 0);
	cr_expect_eq(before.c[VS_KCNT_delivery_failed],
		     after.c[VS_KCNT_delivery_failed] + 1);
	cr_expect_eq(before.c[VS_KCNT_delivered], after.c[VS_KCNT_delivered]);
	media_v4(2, 4000, 0);
}

/* Checks every record against the frame that was sent n times. */
struct full_check {
	const uint8_t *want;
	uint32_t len;
	int n, bad;
};

static int on_rec_check(void *ctx, const struct vs_ring_hdr *h,
			const uint8_t *fr)
{
	struct full_check *c = ctx;

	c->n++;
	if (h->caplen != c->len || h->origlen != c->len ||
	    h->reason != VS_KCNT_sip || memcmp(fr, c->want, c->len))
		c->bad++;
	return 0;
}

/* Keeps this test on the CPU it runs on: the test runs write that CPU's
 * ring, and filling one ring needs them all on the same one. */
static void stay_on_this_cpu(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	cr_assert_geq(cpu, 0);
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	cr_assert_eq(sched_setaffinity(0, sizeof(set), &set), 0, "%s",
		     strerror(errno));
}

/* Copy mode, the smallest ring (one page): 1000-byte SIP frames take
 * 1024-byte records, 1032 bytes with the ring's own header, so a page
 * holds 3; the rest fail to reserve and are counted as lost. The records
 * that fit come out whole, and a drained ring takes frames again. */
Test(xdp_prog, copy_ring_full_counts_delivery_failed)
{
	struct vs_xdp_opts o = { .conf = &conf, .snaplen = VS_SNAP_MAX - 1 };
	static uint8_t b[1000];
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = b,
		    .data_size_in = sizeof(b));
	struct full_check chk = { .want = b, .len = sizeof(b) };
	struct vs_kcounters before, after;
	int fds[VS_RING_SET_MAX], fd, fits, sent = 8;
	struct vs_ring_set *rs;
	struct frame f;

	need_bpf();
	o.ring_bytes = (uint32_t)sysconf(_SC_PAGESIZE);
	reopen(&o);
	fits = (int)(o.ring_bytes / 1032);
	cr_assert_gt(fits, 0);
	cr_assert_lt(fits, sent);
	stay_on_this_cpu();
	eth(&f, 0, 0x0800);
	ip4(&f, IPPROTO_UDP, 0x0a000002, 40000, 5060, 0, 1, 1);
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 7 + 3);
	memcpy(b, f.b, f.n);
	fd = bpf_program__fd(x->skel->progs.vs_xdp_copy);
	cr_assert_eq(vs_xdp__counters(x, VS_DIR_IN, &before), 0);
	for (int i = 0; i < sent; i++) {
		cr_assert_eq(bpf_prog_test_run_opts(fd, &t), 0, "%s",
			     strerror(errno));
		cr_assert_eq(t.retval, XDP_PASS, "lost or not, it goes on");
	}
	cr_assert_eq(vs_xdp__counters(x, VS_DIR_IN, &after), 0);
	cr_expect_eq(after.c[VS_KCNT_sip] - before.c[VS_KCNT_sip],
		     (uint64_t)sent);
	cr_expect_eq(after.c[VS_KCNT_delivered] - before.c[VS_KCNT_delivered],
		     (uint64_t)fits);
	cr_expect_eq(after.c[VS_KCNT_delivery_failed] -
			     before.c[VS_KCNT_delivery_failed],
		     (uint64_t)(sent - fits));
	for (int i = 0; i < vs_xdp__nrings(x); i++)
		fds[i] = vs_xdp__ring_fd(x, i);
	rs = vs_ring_set__new(fds, vs_xdp__nrings(x), vs_xdp__ring_bytes(x));
	cr_assert_not_null(rs, "%s", strerror(errno));
	while (vs_ring_set__drain(rs, 64, on_rec_check, &chk) > 0)
		;
	cr_expect_eq(chk.n, fits);
	cr_expect_eq(chk.bad, 0, "%d of %d records damaged", chk.bad, chk.n);
	/* drained: room again */
	cr_assert_eq(bpf_prog_test_run_opts(fd, &t), 0, "%s", strerror(errno));
	cr_assert_eq(vs_xdp__counters(x, VS_DIR_IN, &before), 0);
	cr_expect_eq(before.c[VS_KCNT_delivered], after.c[VS_KCNT_delivered] + 1);
	memset(&chk, 0, sizeof(chk));
	chk.want = b;
	chk.len = sizeof(b);
	while (vs_ring_set__drain(rs, 64, on_rec_check, &chk) > 0)
		;
	cr_expect_eq(chk.n, 1);
	cr_expect_eq(chk.bad, 0);
	vs_ring_set__free(rs);
}

Test(live, pcap_filter_from_sipport)
{
	struct vs_conf c;
	char *s;

	vs_conf__init(&c);
	cr_assert_eq(vs_conf__set(&c, "sipport", "5060,5070-5080", NULL), 0);
	s = vs_live__pcap_filter(&c);
	cr_assert_not_null(s);
	cr_expect_str_eq(s,
		"(((tcp or udp) and (port 5060 or portrange 5070-5080)) or "
		"(udp and udp[8] & 0xc0 = 0x80) or (ip[6:2] & 0x3fff != 0) or "
		"(ip6 and ip6[6] = 44)) or (vlan and (((tcp or udp) and "
		"(port 5060 or portrange 5070-5080)) or (udp and udp[8] & "
		"0xc0 = 0x80) or (ip[6:2] & 0x3fff != 0) or (ip6 and ip6[6] "
		"= 44)))");
	free(s);
	vs_conf__free(&c);
}

Test(live, interface_list)
{
	int ix[4], n = -1;

	cr_expect_eq(vs_live__interfaces("lo", ix, 4, &n), 0);
	cr_expect_eq(n, 1);
	cr_expect_eq(ix[0], 1);
	cr_expect_eq(vs_live__interfaces(" lo , lo", ix, 4, &n), 0);
	cr_expect_eq(n, 2);
	cr_expect_eq(vs_live__interfaces("vs-no-such-if", ix, 4, &n), -ENODEV);
	cr_expect_eq(vs_live__interfaces("", ix, 4, &n), -EINVAL);
	cr_expect_eq(vs_live__interfaces("lo,lo,lo", ix, 2, &n), -EINVAL);
}

/* interface = any: every interface that is up, loopback excluded. In a
 * private network namespace of this test's process, with a veth pair of
 * which one end is up. */
Test(live, interface_any)
{
	int ix[4], n = -1;

	if (geteuid() != 0 || unshare(CLONE_NEWNET))
		cr_skip_test("needs root for a private network namespace");
	cr_expect_eq(vs_live__interfaces("any", ix, 4, &n), -ENODEV,
		     "only lo, which does not count");
	cr_assert_eq(system("ip link add vxsany0 type veth peer name vxsany1 &&"
			    " ip link set vxsany0 up"), 0);
	cr_expect_eq(vs_live__interfaces("any", ix, 4, &n), 0);
	cr_expect_eq(n, 1, "the peer is down");
	cr_expect_eq(ix[0], (int)if_nametoindex("vxsany0"));
	cr_assert_eq(system("ip link set vxsany1 up"), 0);
	cr_expect_eq(vs_live__interfaces("any", ix, 4, &n), 0);
	cr_expect_eq(n, 2);
	cr_expect_eq(vs_live__interfaces("any", ix, 1, &n), -E2BIG);
	/* the namespace, and the pair in it, go with this process */
}
