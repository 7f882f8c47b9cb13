/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Header parsing for the capture programs: a cursor over [pos, end) and one
 * bounds-checked function per header that advances it and returns the next
 * protocol, or -1 when the header is truncated or malformed (the shape of
 * xdp-tools' parsing_helpers.h). Loops have constant bounds so that the
 * verifier can see they end. */
#ifndef VS_BPF_PARSE_H
#define VS_BPF_PARSE_H

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "vs_kern_user.h"

#define VLAN_MAX_DEPTH 2     /* QinQ: 802.1ad outer + 802.1Q inner */
#define IPV6_EXT_MAX_CHAIN 6 /* extension headers followed before giving up */

struct cursor {
	void *pos;
	void *end;
};

/* What classification needs from one frame. */
struct pkt {
	struct vs_media_key src, dst; /* addresses and L4 ports */
	__u32 frag_id;		      /* IP id when frag != FRAG_NONE */
	__u8 proto;		      /* L4 protocol */
	__u8 frag_proto;	      /* what the frag map is keyed on: the
				       * IPv4 protocol, or the next header
				       * an IPv6 fragment header names (the
				       * same in every fragment; a first
				       * fragment's L4 may come after more
				       * extension headers) */
	__u8 frag;		      /* enum frag_kind */
	__u8 l4_first;		      /* byte 0 of the UDP payload (RTP: V/P/X/CC) */
	__u8 l4_second;		      /* byte 1 (RTP: M/PT, RTCP: packet type) */
};

enum frag_kind {
	FRAG_NONE = 0,
	FRAG_FIRST, /* offset 0, more fragments follow: L4 header present */
	FRAG_LATER, /* offset > 0: no L4 header */
};

/* Ethernet and up to two VLAN tags; returns the EtherType (network order). */
static __always_inline int parse_eth(struct cursor *c, __be16 *proto)
{
	struct ethhdr *eth = c->pos;
	struct vlan_hdr *vh;
	__be16 p;

	if ((void *)(eth + 1) > c->end)
		return -1;
	p = eth->h_proto;
	c->pos = eth + 1;
#pragma unroll
	for (int i = 0; i < VLAN_MAX_DEPTH; i++) {
		if (p != bpf_htons(ETH_P_8021Q) && p != bpf_htons(ETH_P_8021AD))
			break;
		vh = c->pos;
		if ((void *)(vh + 1) > c->end)
			return -1;
		p = vh->proto;
		c->pos = vh + 1;
	}
	*proto = p;
	return 0;
}

static __always_inline void addr_from_v4(__u8 *dst16, __be32 a)
{
	__u32 *w = (__u32 *)dst16;

	w[0] = 0;
	w[1] = 0;
	w[2] = bpf_htonl(0xffff);
	w[3] = a;
}

static __always_inline void addr_from_v6(__u8 *dst16,
					 const struct in6_addr *a)
{
	__u32 *w = (__u32 *)dst16;

	w[0] = a->in6_u.u6_addr32[0];
	w[1] = a->in6_u.u6_addr32[1];
	w[2] = a->in6_u.u6_addr32[2];
	w[3] = a->in6_u.u6_addr32[3];
}

/* IPv4 with options. Returns the L4 protocol. */
static __always_inline int parse_ipv4(struct cursor *c, struct pkt *p)
{
	struct iphdr *ip = c->pos;
	__u32 hlen;
	__u16 off;

	if ((void *)(ip + 1) > c->end)
		return -1;
	hlen = ip->ihl * 4;
	if (hlen < sizeof(*ip) || c->pos + hlen > c->end)
		return -1;
	c->pos += hlen;
	addr_from_v4(p->src.addr, ip->saddr);
	addr_from_v4(p->dst.addr, ip->daddr);
	off = bpf_ntohs(ip->frag_off);
	if (off & 0x1fff)
		p->frag = FRAG_LATER;
	else if (off & 0x2000)
		p->frag = FRAG_FIRST;
	p->frag_id = ip->id;
	p->proto = ip->protocol;
	p->frag_proto = ip->protocol;
	return ip->protocol;
}

/* Length of an IPv6 extension header we can skip, or -1. */
static __always_inline int ipv6_ext_len(__u8 nexthdr, const __u8 *h)
{
	switch (nexthdr) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
		return (h[1] + 1) * 8;
	case IPPROTO_AH:
		return (h[1] + 2) * 4;
	}
	return -1;
}

/* IPv6 and its common extension headers (hop-by-hop, routing, destination
 * options, AH, fragment). Returns the L4 protocol. */
static __always_inline int parse_ipv6(struct cursor *c, struct pkt *p)
{
	struct ipv6hdr *ip6 = c->pos;
	struct ip6_frag_hdr *fh;
	__u8 nh;
	int len;

	if ((void *)(ip6 + 1) > c->end)
		return -1;
	addr_from_v6(p->src.addr, &ip6->saddr);
	addr_from_v6(p->dst.addr, &ip6->daddr);
	nh = ip6->nexthdr;
	c->pos = ip6 + 1;
#pragma unroll
	for (int i = 0; i < IPV6_EXT_MAX_CHAIN; i++) {
		if (nh == IPPROTO_FRAGMENT) {
			fh = c->pos;
			if ((void *)(fh + 1) > c->end)
				return -1;
			p->frag_id = fh->id;
			if (bpf_ntohs(fh->frag_off) & 0xfff8)
				p->frag = FRAG_LATER;
			else if (bpf_ntohs(fh->frag_off) & 1)
				p->frag = FRAG_FIRST;
			nh = fh->nexthdr;
			p->frag_proto = nh;
			c->pos = fh + 1;
			/* A later fragment holds payload only, even when
			 * the header names an extension header (RFC 8200:
			 * destination options in the fragmentable part). */
			if (p->frag == FRAG_LATER)
				break;
			continue;
		}
		if (c->pos + 2 > c->end)
			return -1;
		len = ipv6_ext_len(nh, c->pos);
		if (len < 0)
			break;
		nh = *(__u8 *)c->pos;
		c->pos += len;
	}
	p->proto = nh;
	return nh;
}

/* UDP or TCP ports (and, for UDP, the first two payload bytes, which tell
 * RTCP from RTP). Only called when the L4 header is in this fragment. */
static __always_inline int parse_l4(struct cursor *c, struct pkt *p)
{
	struct udphdr *udp;
	struct tcphdr *tcp;
	__u8 *b;

	if (p->proto == IPPROTO_UDP) {
		udp = c->pos;
		if ((void *)(udp + 1) > c->end)
			return -1;
		p->src.port = udp->source;
		p->dst.port = udp->dest;
		b = (void *)(udp + 1);
		if ((void *)(b + 2) <= c->end) {
			p->l4_first = b[0];
			p->l4_second = b[1];
		}
		c->pos = b; /* the payload: RTP's header (rtp_head_len) */
		return 0;
	}
	if (p->proto == IPPROTO_TCP) {
		tcp = c->pos;
		if ((void *)(tcp + 1) > c->end)
			return -1;
		p->src.port = tcp->source;
		p->dst.port = tcp->dest;
		return 0;
	}
	return 1; /* another protocol: not ours, not malformed */
}

#endif
