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

char LICENSE[] __attribute__((section("license"), used)) = "GPL";
