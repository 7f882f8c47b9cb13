// SPDX-License-Identifier: GPL-2.0-or-later
/* Link layers down to an ethertype, then the ethertype chain: stacked VLAN
 * tags (802.1Q, 802.1ad and the old 0x9100/0x9200 QinQ), MPLS label stacks
 * and PPPoE sessions, until IPv4 or IPv6. */
#include "decode/decode_int.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_QINQ1 0x9100
#define ETH_P_QINQ2 0x9200
#define ETH_P_MPLS_UC 0x8847
#define ETH_P_MPLS_MC 0x8848
#define ETH_P_PPP_SES 0x8864

#define VS_MAX_TAGS 8 /* VLAN tags, MPLS labels, PPPoE: layers we peel */

/* The first nibble tells IPv4 from IPv6 where no type field does. */
static void ip_by_version(struct vs_decoder *d, const uint8_t *p, uint32_t len,
			  const struct vs_carrier *c)
{
	if (len == 0) {
		d->st->ip_truncated++;
		return;
	}
	switch (p[0] >> 4) {
	case 4:
		vs_ip4__input(d, p, len, c);
		break;
	case 6:
		vs_ip6__input(d, p, len, c);
		break;
	default:
		d->st->ip_bad_header++;
	}
}

/* MPLS: labels until the bottom-of-stack bit, then IP guessed by version
 * (no type field; pseudowires with a control word are not decoded). */
static void mpls(struct vs_decoder *d, const uint8_t *p, uint32_t len,
		 const struct vs_carrier *c)
{
	for (int i = 0; i < VS_MAX_TAGS; i++) {
		if (len < 4) {
			d->st->link_truncated++;
			return;
		}
		bool bos = p[2] & 1;

		p += 4;
		len -= 4;
		if (bos) {
			ip_by_version(d, p, len, c);
			return;
		}
	}
	d->st->link_unsupported++;
}

/* PPPoE session: 6-byte header, then a PPP protocol number. */
static void pppoe(struct vs_decoder *d, const uint8_t *p, uint32_t len,
		  const struct vs_carrier *c)
{
	uint16_t proto;

	if (len < 8) {
		d->st->link_truncated++;
		return;
	}
	proto = vs_rd16(p + 6);
	p += 8;
	len -= 8;
	if (proto == 0x0021)
		vs_ip4__input(d, p, len, c);
	else if (proto == 0x0057)
		vs_ip6__input(d, p, len, c);
	else
		d->st->link_unsupported++;
}

void vs_link__ethertype(struct vs_decoder *d, uint16_t type, const uint8_t *p,
			uint32_t len, const struct vs_carrier *c)
{
	for (int tags = 0; tags <= VS_MAX_TAGS; tags++) {
		switch (type) {
		case ETH_P_IP:
			vs_ip4__input(d, p, len, c);
			return;
		case ETH_P_IPV6:
			vs_ip6__input(d, p, len, c);
			return;
		case ETH_P_8021Q:
		case ETH_P_8021AD:
		case ETH_P_QINQ1:
		case ETH_P_QINQ2:
			if (len < 4) {
				d->st->link_truncated++;
				return;
			}
			type = vs_rd16(p + 2);
			p += 4;
			len -= 4;
			break;
		case ETH_P_MPLS_UC:
		case ETH_P_MPLS_MC:
			mpls(d, p, len, c);
			return;
		case ETH_P_PPP_SES:
			pppoe(d, p, len, c);
			return;
		default:
			d->st->link_unsupported++;
			return;
		}
	}
	d->st->link_unsupported++; /* more tags than any real network stacks */
}

/* BSD loopback: the address family, in host order (DLT_NULL, so either
 * order since we do not know the capturing host) or network order (LOOP).
 * IPv6 is 10, 24, 28 or 30 depending on the OS. */
static void loopback(struct vs_decoder *d, const struct vs_frame *f,
		     const struct vs_carrier *c)
{
	uint32_t fam;

	if (f->caplen < 4) {
		d->st->link_truncated++;
		return;
	}
	fam = vs_rd32(f->data);
	if (f->linktype == VS_DLT_NULL && (fam & 0xffff0000u))
		fam = __builtin_bswap32(fam);
	if (fam == 2)
		vs_ip4__input(d, f->data + 4, f->caplen - 4, c);
	else if (fam == 10 || fam == 24 || fam == 28 || fam == 30)
		vs_ip6__input(d, f->data + 4, f->caplen - 4, c);
	else
		d->st->link_unsupported++;
}

/* Skips a fixed link header that ends in (or starts with) an ethertype. */
static void fixed_header(struct vs_decoder *d, const struct vs_frame *f,
			 uint32_t hlen, uint32_t type_at,
			 const struct vs_carrier *c)
{
	if (f->caplen < hlen) {
		d->st->link_truncated++;
		return;
	}
	vs_link__ethertype(d, vs_rd16(f->data + type_at), f->data + hlen,
			   f->caplen - hlen, c);
}

void vs_link__input(struct vs_decoder *d, const struct vs_frame *f,
		    const struct vs_carrier *c)
{
	switch (f->linktype) {
	case VS_DLT_EN10MB:
		/* A type below 0x600 is an 802.3 length: LLC, not IP. */
		if (f->caplen >= 14 && vs_rd16(f->data + 12) < 0x600) {
			d->st->link_unsupported++;
			return;
		}
		fixed_header(d, f, 14, 12, c);
		return;
	case VS_DLT_LINUX_SLL:
		fixed_header(d, f, 16, 14, c);
		return;
	case VS_DLT_LINUX_SLL2:
		fixed_header(d, f, 20, 0, c);
		return;
	case VS_DLT_RAW:
	case VS_DLT_RAW_OBSD:
	case VS_DLT_RAW_LT:
		ip_by_version(d, f->data, f->caplen, c);
		return;
	case VS_DLT_IPV4:
		vs_ip4__input(d, f->data, f->caplen, c);
		return;
	case VS_DLT_IPV6:
		vs_ip6__input(d, f->data, f->caplen, c);
		return;
	case VS_DLT_NULL:
	case VS_DLT_LOOP:
		loopback(d, f, c);
		return;
	default:
		d->st->link_unsupported++;
	}
}
