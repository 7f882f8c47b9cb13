/* Ethernet / 802.1Q / IPv4 / IPv6 / UDP / TCP frame builders with correct
 * checksums. Every builder writes into a caller buffer of VG_MAX_FRAME. */
#include <arpa/inet.h>
#include <string.h>

#include "vsgen.h"

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define IPPROTO_UDP_ 17
#define IPPROTO_TCP_ 6
#define IPV6_FRAG_HDR 44

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* One's-complement sum in 16-bit big-endian words; four words a round
 * into a 64-bit accumulator, folded at the end. */
static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	uint64_t acc = sum;
	size_t i = 0;

	for (; i + 8 <= len; i += 8)
		acc += ((uint32_t)p[i] << 8 | p[i + 1]) +
		       ((uint32_t)p[i + 2] << 8 | p[i + 3]) +
		       ((uint32_t)p[i + 4] << 8 | p[i + 5]) +
		       ((uint32_t)p[i + 6] << 8 | p[i + 7]);
	for (; i + 1 < len; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)(acc & 0xffff) + (uint32_t)(acc >> 16);
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The UDP/TCP checksum covers a pseudo header of the addresses. */
static uint16_t l4_csum(const struct vg_net *n, const struct vg_ep *s,
			const struct vg_ep *d, uint8_t proto,
			const uint8_t *l4, size_t len)
{
	size_t alen = n->v6 ? 16 : 4;
	uint32_t sum = 0;
	uint16_t c;

	sum = sum16(s->ip, alen, sum);
	sum = sum16(d->ip, alen, sum);
	sum += proto;
	sum += (uint32_t)len;
	sum = sum16(l4, len, sum);
	c = fold(sum);
	/* UDP sends a computed zero as all ones (RFC 768). */
	return c || proto != IPPROTO_UDP_ ? c : 0xffff;
}

static size_t l2_hdr(const struct vg_net *n, uint8_t *b,
		     const struct vg_ep *s, const struct vg_ep *d)
{
	size_t off = 12;

	memcpy(b, d->mac, 6);
	memcpy(b + 6, s->mac, 6);
	if (n->qinq >= 0) {
		put16(b + off, ETH_P_8021AD);
		put16(b + off + 2, (uint16_t)n->qinq & 0x0fff);
		off += 4;
	}
	if (n->vlan >= 0) {
		put16(b + off, ETH_P_8021Q);
		put16(b + off + 2, (uint16_t)n->vlan & 0x0fff);
		off += 4;
	}
	put16(b + off, n->v6 ? ETH_P_IPV6 : ETH_P_IPV4);
	return off + 2;
}

struct ip_frag {
	bool on;		/* write fragment fields */
	size_t off;		/* byte offset of this piece */
	bool more;
	uint32_t id;
};

static size_t ip4_hdr(uint8_t *b, const struct vg_ep *s, const struct vg_ep *d,
		      uint8_t proto, uint16_t id, size_t plen,
		      const struct ip_frag *fr)
{
	uint16_t ff = proto == IPPROTO_TCP_ ? 0x4000 : 0;	/* DF on TCP */

	if (fr->on)
		ff = (uint16_t)(fr->off / 8) | (fr->more ? 0x2000 : 0);
	b[0] = 0x45;
	b[1] = 0;
	put16(b + 2, (uint16_t)(20 + plen));
	put16(b + 4, fr->on ? (uint16_t)fr->id : id);
	put16(b + 6, ff);
	b[8] = 64;
	b[9] = proto;
	put16(b + 10, 0);
	memcpy(b + 12, s->ip, 4);
	memcpy(b + 16, d->ip, 4);
	put16(b + 10, fold(sum16(b, 20, 0)));
	return 20;
}

static size_t ip6_hdr(uint8_t *b, const struct vg_ep *s, const struct vg_ep *d,
		      uint8_t proto, size_t plen, const struct ip_frag *fr)
{
	size_t hl = 40;

	put32(b, 0x60000000u);
	put16(b + 4, (uint16_t)(plen + (fr->on ? 8 : 0)));
	b[6] = fr->on ? IPV6_FRAG_HDR : proto;
	b[7] = 64;
	memcpy(b + 8, s->ip, 16);
	memcpy(b + 24, d->ip, 16);
	if (fr->on) {
		b[40] = proto;
		b[41] = 0;
		put16(b + 42, (uint16_t)(fr->off & ~7u) | (fr->more ? 1 : 0));
		put32(b + 44, fr->id);
		hl += 8;
	}
	return hl;
}

static size_t ip_hdr(const struct vg_net *n, uint8_t *b, const struct vg_ep *s,
		     const struct vg_ep *d, uint8_t proto, uint16_t id,
		     size_t plen, const struct ip_frag *fr)
{
	if (n->v6)
		return ip6_hdr(b, s, d, proto, plen, fr);
	return ip4_hdr(b, s, d, proto, id, plen, fr);
}

static size_t udp_hdr(const struct vg_net *n, uint8_t *u, const struct vg_ep *s,
		      const struct vg_ep *d, const void *pl, size_t len)
{
	put16(u, s->port);
	put16(u + 2, d->port);
	put16(u + 4, (uint16_t)(8 + len));
	put16(u + 6, 0);
	if (pl != u + 8)
		memcpy(u + 8, pl, len);
	put16(u + 6, l4_csum(n, s, d, IPPROTO_UDP_, u, 8 + len));
	return 8 + len;
}

size_t net_udp(const struct vg_net *n, uint8_t *frame, const struct vg_ep *s,
	       const struct vg_ep *d, uint16_t ipid, const void *pl, size_t len)
{
	static const struct ip_frag nofrag;
	size_t off = l2_hdr(n, frame, s, d);

	if (off + (n->v6 ? 40 : 20) + 8 + len > VG_MAX_FRAME)
		return 0;
	off += ip_hdr(n, frame + off, s, d, IPPROTO_UDP_, ipid, 8 + len,
		      &nofrag);
	return off + udp_hdr(n, frame + off, s, d, pl, len);
}

int net_udp_frag(const struct vg_net *n, const struct vg_ep *s,
		 const struct vg_ep *d, uint32_t ipid, const void *pl,
		 size_t len, unsigned mtu,
		 void (*emit)(void *arg, const uint8_t *f, size_t flen),
		 void *arg)
{
	uint8_t dgram[8192], frame[VG_MAX_FRAME];
	size_t total, piece, pos = 0;
	struct ip_frag fr = { .on = true, .id = ipid };
	int count = 0;

	if (len + 8 > sizeof(dgram) || mtu < 128 || mtu > 1500)
		return 0;
	total = udp_hdr(n, dgram, s, d, pl, len);
	/* Fragment data must be a multiple of 8 bytes except the last. */
	piece = (mtu - (n->v6 ? 48 : 20)) & ~(size_t)7;
	while (pos < total) {
		size_t take = total - pos > piece ? piece : total - pos;
		size_t off = l2_hdr(n, frame, s, d);

		fr.off = pos;
		fr.more = pos + take < total;
		off += ip_hdr(n, frame + off, s, d, IPPROTO_UDP_, 0, take, &fr);
		memcpy(frame + off, dgram + pos, take);
		emit(arg, frame, off + take);
		pos += take;
		count++;
	}
	return count;
}

size_t net_tcp(const struct vg_net *n, uint8_t *frame, const struct vg_ep *s,
	       const struct vg_ep *d, uint16_t ipid, uint32_t seq,
	       uint32_t ack, uint8_t flags, const void *pl, size_t len)
{
	static const struct ip_frag nofrag;
	size_t hl = (flags & TCP_SYN) ? 24 : 20;
	size_t off = l2_hdr(n, frame, s, d);
	uint8_t *t;

	if (off + (n->v6 ? 40 : 20) + hl + len > VG_MAX_FRAME)
		return 0;
	off += ip_hdr(n, frame + off, s, d, IPPROTO_TCP_, ipid, hl + len,
		      &nofrag);
	t = frame + off;
	put16(t, s->port);
	put16(t + 2, d->port);
	put32(t + 4, seq);
	put32(t + 8, (flags & TCP_ACK) ? ack : 0);
	t[12] = (uint8_t)((hl / 4) << 4);
	t[13] = flags;
	put16(t + 14, 64240);
	put16(t + 16, 0);
	put16(t + 18, 0);
	if (flags & TCP_SYN) {
		t[20] = 2;	/* MSS option */
		t[21] = 4;
		put16(t + 22, n->v6 ? 1440 : 1460);
	}
	if (len)
		memcpy(t + hl, pl, len);
	put16(t + 16, l4_csum(n, s, d, IPPROTO_TCP_, t, hl + len));
	return off + hl + len;
}

void net_ip_str(const struct vg_net *n, const uint8_t *ip, char *buf,
		size_t cap)
{
	if (!inet_ntop(n->v6 ? AF_INET6 : AF_INET, ip, buf, (socklen_t)cap))
		snprintf(buf, cap, "?");
}
