// SPDX-License-Identifier: GPL-2.0-or-later
/* TC egress and TSO/GSO super-packets, run in the kernel with
 * BPF_PROG_TEST_RUN (needs root: skipped otherwise). The test run sets
 * the skb's gso_segs from the context, so a frame of a few KB stands for a
 * super-packet: SIP in one is copied whole, snaplen aside; SIP in an
 * ordinary frame, other verdicts in a super-packet, and XDP keep snaplen.
 * The 64 KiB edge is the integration test's (t_xdp_gso). */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "capture/ring.h"
#include "capture/xdp_int.h"
#include "pin_sweep.h"

#define SNAP 100
#define LEN 3000 /* BPF_PROG_TEST_RUN takes at most about 3.5 KB */

static struct vs_conf conf;
static struct vs_xdp *x;
static struct vs_ring_set *rs;
static char pin[64];

static void setup(void)
{
	struct vs_xdp_opts o = { .conf = &conf, .snaplen = SNAP,
				 .ring_bytes = 1u << 20 };
	int fds[VS_RING_SET_MAX];

	vs_conf__init(&conf);
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/vs-gso-%d", (int)getpid());
	sweep_stale_pins("vs-gso-");
	o.pin_dir = pin;
	if (geteuid() != 0)
		return;
	x = vs_xdp__open(&o); /* no interface: load and fill only */
	if (!x)
		return;
	for (int i = 0; i < vs_xdp__nrings(x); i++)
		fds[i] = vs_xdp__ring_fd(x, i);
	rs = vs_ring_set__new(fds, vs_xdp__nrings(x), vs_xdp__ring_bytes(x));
}

static void teardown(void)
{
	vs_ring_set__free(rs);
	rs = NULL;
	vs_xdp__close(x);
	x = NULL;
	vs_conf__free(&conf);
}

TestSuite(xdp_gso, .init = setup, .fini = teardown);

/* What the last run queued. */
struct rec {
	int n;
	uint32_t caplen, origlen, reason;
	uint8_t b[LEN];
};

static int on_rec(void *ctx, const struct vs_ring_hdr *h, const uint8_t *fr)
{
	struct rec *r = ctx;

	r->n++;
	r->caplen = h->caplen;
	r->origlen = h->origlen;
	r->reason = h->reason;
	memcpy(r->b, fr, h->caplen < LEN ? h->caplen : LEN);
	return 0;
}

/* A LEN-byte IPv4/UDP frame from 10.0.0.1:40000 to 10.0.0.2:dport, a
 * counting pattern after the headers. */
static void frame(uint8_t *b, uint16_t dport)
{
	static const uint8_t eth_ip[26] = {
		2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0, /* Ethernet */
		0x45, 0, (LEN - 14) >> 8, (LEN - 14) & 0xff, 0, 1, 0x40, 0,
		64, IPPROTO_UDP, 0, 0,
	};
	const uint8_t addr_udp[16] = {
		10, 0, 0, 1, 10, 0, 0, 2, 40000 >> 8, 40000 & 0xff,
		dport >> 8, dport & 0xff, (LEN - 34) >> 8, (LEN - 34) & 0xff,
	};

	for (int i = 0; i < LEN; i++)
		b[i] = (uint8_t)(i * 7 + 3);
	memcpy(b, eth_ip, sizeof(eth_ip));
	memcpy(b + sizeof(eth_ip), addr_udp, sizeof(addr_udp));
}

/* Runs prog on b with gso_segs (TC only) and returns the record. */
static void run(struct bpf_program *prog, const uint8_t *b, uint32_t segs,
		struct rec *r)
{
	struct __sk_buff skb = { .gso_segs = segs,
				 .gso_size = segs ? 1448 : 0 };
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = b, .data_size_in = LEN);

	if (prog == x->skel->progs.vs_tc_egress) {
		t.ctx_in = &skb;
		t.ctx_size_in = sizeof(skb);
	}
	cr_assert_eq(bpf_prog_test_run_opts(bpf_program__fd(prog), &t), 0, "%s",
		     strerror(errno));
	memset(r, 0, sizeof(*r));
	while (vs_ring_set__drain(rs, 64, on_rec, r) > 0)
		;
	cr_assert_eq(r->n, 1, "%d records", r->n);
	cr_expect_eq(r->origlen, LEN);
}

static void need_bpf(void)
{
	if (!x || !rs)
		cr_skip_test(
			"BPF not loadable here (root with CAP_BPF needed)");
}

Test(xdp_gso, sip_super_packet_whole)
{
	static uint8_t b[LEN];
	static struct rec r;

	need_bpf();
	frame(b, 5060);
	run(x->skel->progs.vs_tc_egress, b, 3, &r);
	cr_expect_eq(r.reason, VS_KCNT_sip);
	cr_expect_eq(r.caplen, LEN, "caplen %u", r.caplen);
	cr_expect_eq(memcmp(r.b, b, LEN), 0, "frame changed");
}

Test(xdp_gso, snaplen_elsewhere)
{
	static uint8_t b[LEN];
	static struct rec r;

	need_bpf();
	frame(b, 5060);
	run(x->skel->progs.vs_tc_egress, b, 1, &r);
	cr_expect_eq(r.caplen, SNAP, "one segment: caplen %u", r.caplen);
	run(x->skel->progs.vs_tc_egress, b, 0, &r);
	cr_expect_eq(r.caplen, SNAP, "no GSO: caplen %u", r.caplen);
	run(x->skel->progs.vs_xdp_copy, b, 0, &r);
	cr_expect_eq(r.caplen, SNAP, "XDP: caplen %u", r.caplen);
	/* Not SIP: a tunnel carrier in a super-packet keeps snaplen. */
	frame(b, 4789);
	cr_assert_eq(vs_xdp__tun_port(x, 4789, 1), 0);
	run(x->skel->progs.vs_tc_egress, b, 3, &r);
	cr_expect_eq(r.reason, VS_KCNT_tunnel);
	cr_expect_eq(r.caplen, SNAP, "tunnel: caplen %u", r.caplen);
}
