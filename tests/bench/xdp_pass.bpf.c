// SPDX-License-Identifier: GPL-2.0-or-later
/* The capture bench's reference program: passes every frame and does
 * nothing else. On veth, attaching any XDP program moves the receive path
 * to the veth's NAPI and copies each frame that the sender's socket built
 * (its head is not a page fragment); a run with this program measures that
 * cost, so that it is not charged to the sensor's program. */
#include <linux/bpf.h>

__attribute__((section("xdp"), used)) int vs_bench_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

/* The same for TC (TC_ACT_UNSPEC: the frame goes on), so that the tests'
 * kernel probe (tests/integration/xdp_lib.sh) can try a TC BPF filter
 * without touching traffic. */
__attribute__((section("tc"), used)) int vs_bench_tc_pass(struct __sk_buff *skb)
{
	(void)skb;
	return -1;
}

char LICENSE[] __attribute__((section("license"), used)) = "GPL";
