// SPDX-License-Identifier: GPL-2.0-or-later
/* IPv4 and IPv6 headers, the IPv6 extension header chain, IP-in-IP, and the
 * L4 dispatch with UDP delivery (the hot path: no allocation, no copy). */
#include <netinet/in.h>

#include "decode/decode_int.h"

#define VS_IP6_MAX_EXT 16 /* extension headers we walk before giving up */

void vs_ip4__input(struct vs_decoder *d, const uint8_t *p, uint32_t len,
		   const struct vs_carrier *c)
{
	struct vs_l4pkt pkt;
	uint32_t ihl, tot;
	uint16_t fo;

	if (len < 20) {
		d->st->ip_truncated++;
		return;
	}
	ihl = (p[0] & 15u) * 4;
	tot = vs_rd16(p + 2);
	if ((p[0] >> 4) != 4 || ihl < 20 || tot < ihl) {
		d->st->ip_bad_header++;
		return;
	}
	fo = vs_rd16(p + 6);
	/* tot, not len: Ethernet pads short frames. A UDP packet the capture
	 * cut goes on (RTP needs its header only); the rest needs it whole. */
	if (tot > len &&
	    (p[9] != IPPROTO_UDP || (fo & 0x3fff) || len < ihl + 8)) {
		d->st->ip_truncated++;
		return;
	}
	vs_addr_from_v4(&pkt.src, p + 12);
	vs_addr_from_v4(&pkt.dst, p + 16);
	pkt.proto = p[9];
	pkt.data = p + ihl;
	pkt.cut = tot > len ? tot - len : 0;
	pkt.len = tot - ihl - pkt.cut;
	if (fo & 0x3fff) { /* MF or an offset: a fragment */
		struct vs_frag_in fr = {
			.id = vs_rd16(p + 4),
			.proto = p[9],
			.off = (fo & 0x1fffu) * 8,
			.more = fo & 0x2000,
			.data = pkt.data,
			.len = pkt.len,
		};

		d->st->frag_fragments++;
		vs_frag__input(d, &pkt, &fr, c);
		return;
	}
	vs_l4__input(d, &pkt, c);
}

void vs_ip6__input(struct vs_decoder *d, const uint8_t *p, uint32_t len,
		   const struct vs_carrier *c)
{
	struct vs_l4pkt pkt;
	uint32_t plen;

	if (len < 40) {
		d->st->ip_truncated++;
		return;
	}
	plen = vs_rd16(p + 4);
	/* plen 0 means a jumbogram: not on any network we watch. */
	if ((p[0] >> 4) != 6 || plen == 0) {
		d->st->ip_bad_header++;
		return;
	}
	vs_addr_from_v6(&pkt.src, p + 8);
	vs_addr_from_v6(&pkt.dst, p + 24);
	pkt.data = p + 40;
	/* Cut by the capture: only UDP goes on (vs_l4__input). */
	pkt.cut = plen > len - 40 ? plen - (len - 40) : 0;
	pkt.len = plen - pkt.cut;
	vs_ip6__chain(d, &pkt, p[6], c, false);
}

/* Hands the fragmentable part after a fragment header to reassembly; an
 * atomic fragment (offset 0, no more) is just the rest of the packet. */
static bool ip6_fragment(struct vs_decoder *d, struct vs_l4pkt *pkt,
			 uint8_t *nh, const struct vs_carrier *c)
{
	const uint8_t *h = pkt->data;
	uint16_t fo = vs_rd16(h + 2);
	struct vs_frag_in fr;

	if (pkt->cut) { /* reassembly needs every byte */
		d->st->ip_truncated++;
		return true;
	}
	fr = (struct vs_frag_in){
		.v6 = true,
		.id = vs_rd32(h + 4),
		.proto = h[0],
		.off = fo & 0xfff8u,
		.more = fo & 1,
		.data = h + 8,
		.len = pkt->len - 8,
	};

	pkt->data += 8;
	pkt->len -= 8;
	*nh = h[0];
	if (fr.off == 0 && !fr.more)
		return false;
	d->st->frag_fragments++;
	vs_frag__input(d, pkt, &fr, c);
	return true;
}

void vs_ip6__chain(struct vs_decoder *d, struct vs_l4pkt *pkt, uint8_t nh,
		   const struct vs_carrier *c, bool reassembled)
{
	uint32_t hl;

	for (int i = 0; i < VS_IP6_MAX_EXT; i++) {
		switch (nh) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_AH:
			if (pkt->len < 8)
				goto short_hdr;
			if (nh == IPPROTO_AH)
				hl = (pkt->data[1] + 2u) * 4;
			else
				hl = (pkt->data[1] + 1u) * 8;
			if (hl > pkt->len)
				goto short_hdr;
			nh = pkt->data[0];
			pkt->data += hl;
			pkt->len -= hl;
			break;
		case IPPROTO_FRAGMENT:
			/* A fragment header inside a reassembled payload. */
			if (reassembled)
				goto bad;
			if (pkt->len < 8)
				goto short_hdr;
			if (ip6_fragment(d, pkt, &nh, c))
				return;
			break;
		default:
			pkt->proto = nh;
			vs_l4__input(d, pkt, c);
			return;
		}
	}
short_hdr:
	if (pkt->cut) { /* the capture cut it, not the sender */
		d->st->ip_truncated++;
		return;
	}
bad:
	d->st->ip6_bad_ext++;
}

static void udp(struct vs_decoder *d, const struct vs_l4pkt *pkt,
		const struct vs_carrier *c)
{
	struct vs_datagram dg;
	uint32_t ulen;

	if (pkt->len < 8) {
		if (pkt->cut)
			d->st->ip_truncated++;
		else
			d->st->udp_bad++;
		return;
	}
	ulen = vs_rd16(pkt->data + 4);
	if (ulen < 8 || ulen > pkt->len + pkt->cut) {
		d->st->udp_bad++;
		return;
	}
	dg.src.addr = pkt->src;
	dg.src.port = vs_rd16(pkt->data);
	dg.dst.addr = pkt->dst;
	dg.dst.port = vs_rd16(pkt->data + 2);
	dg.proto = IPPROTO_UDP;
	dg.payload = pkt->data + 8;
	dg.len = (ulen < pkt->len ? ulen : pkt->len) - 8;
	dg.cut = ulen - 8 - dg.len;
	if (dg.cut)
		d->st->udp_partial++;
	dg.ts_us = c->ts_us;
	dg.frames = c->frames;
	dg.nframes = c->nframes;
	d->st->udp_datagrams++;
	d->out(d->out_ctx, &dg);
}

/* IP-in-IP and IPv6-in-IP: the inner packet rides on the same frames. */
static void ip_in_ip(struct vs_decoder *d, const struct vs_l4pkt *pkt,
		     const struct vs_carrier *c)
{
	struct vs_carrier in = *c;

	if (c->depth >= VS_IP_MAX_NEST) {
		d->st->ip_other_proto++;
		return;
	}
	in.depth++;
	if (pkt->proto == IPPROTO_IPIP)
		vs_ip4__input(d, pkt->data, pkt->len, &in);
	else
		vs_ip6__input(d, pkt->data, pkt->len, &in);
}

void vs_l4__input(struct vs_decoder *d, const struct vs_l4pkt *pkt,
		  const struct vs_carrier *c)
{
	if (pkt->cut && pkt->proto != IPPROTO_UDP) {
		d->st->ip_truncated++;
		return;
	}
	switch (pkt->proto) {
	case IPPROTO_UDP:
		udp(d, pkt, c);
		break;
	case IPPROTO_TCP:
		vs_tcp__input(d, pkt, c);
		break;
	case IPPROTO_IPIP:
	case IPPROTO_IPV6:
		ip_in_ip(d, pkt, c);
		break;
	default:
		d->st->ip_other_proto++;
	}
}
