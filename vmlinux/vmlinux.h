/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel types the voxsense programs use. A packet program needs no
 * kernel-internal struct: everything it touches (struct xdp_md,
 * struct __sk_buff, the protocol headers) is stable UAPI, so this small
 * hand-written file pulls in those UAPI headers instead of a 3 MB dump of
 * one kernel's BTF (as xdp-tools' headers/bpf/vmlinux.h does). Should a
 * program ever read a kernel struct, add it here with
 * __attribute__((preserve_access_index)) so CO-RE relocates it. */
#ifndef VS_VMLINUX_H
#define VS_VMLINUX_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>

/* 802.1Q / 802.1ad tag (not in UAPI as a struct). */
struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/* IPv6 fragment extension header (RFC 8200 4.5). */
struct ip6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset in 8-byte units << 3, low bit: more */
	__be32 id;
};

#endif
