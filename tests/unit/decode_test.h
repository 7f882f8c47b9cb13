/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers for the decode tests: hand-built headers, a Content-Length
 * framer standing in for the SIP stage's, and a sink that records what the
 * decoder delivers. Header-only: each test file is its own binary. */
#ifndef VS_DECODE_TEST_H
#define VS_DECODE_TEST_H

#include <arpa/inet.h>
#include <ctype.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"

#define DLT_EN10MB_ 1
#define DLT_RAW_ 12
#define DLT_LINUX_SLL_ 113
#define DLT_LINUX_SLL2_ 276

/* --- builders: each writes at out and returns the bytes written --------- */

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static inline uint32_t mk_eth(uint8_t *out, uint16_t type)
{
	static const uint8_t macs[12] = { 0, 1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 10 };

	memcpy(out, macs, 12);
	put16(out + 12, type);
	return 14;
}

static inline uint32_t mk_vlan(uint8_t *out, uint16_t vid, uint16_t type)
{
	put16(out, vid);
	put16(out + 2, type);
	return 4;
}

/* IPv4 header; frag is the flags+offset word (offset in 8-byte units). */
static inline uint32_t mk_ip4(uint8_t *out, const char *src, const char *dst,
			      uint8_t proto, uint16_t id, uint16_t frag,
			      uint32_t payload_len)
{
	memset(out, 0, 20);
	out[0] = 0x45;
	put16(out + 2, (uint16_t)(20 + payload_len));
	put16(out + 4, id);
	put16(out + 6, frag);
	out[8] = 64;
	out[9] = proto;
	inet_pton(AF_INET, src, out + 12);
	inet_pton(AF_INET, dst, out + 16);
	return 20;
}

static inline uint32_t mk_ip6(uint8_t *out, const char *src, const char *dst,
			      uint8_t nh, uint32_t payload_len)
{
	memset(out, 0, 40);
	out[0] = 0x60;
	put16(out + 4, (uint16_t)payload_len);
	out[6] = nh;
	out[7] = 64;
	inet_pton(AF_INET6, src, out + 8);
	inet_pton(AF_INET6, dst, out + 24);
	return 40;
}

static inline uint32_t mk_udp(uint8_t *out, uint16_t sp, uint16_t dp,
			      const void *payload, uint32_t len)
{
	put16(out, sp);
	put16(out + 2, dp);
	put16(out + 4, (uint16_t)(8 + len));
	put16(out + 6, 0);
	memcpy(out + 8, payload, len);
	return 8 + len;
}

#define TF_FIN 0x01
#define TF_SYN 0x02
#define TF_RST 0x04
#define TF_ACK 0x10

static inline uint32_t mk_tcp(uint8_t *out, uint16_t sp, uint16_t dp,
			      uint32_t seq, uint8_t flags, const void *payload,
			      uint32_t len)
{
	memset(out, 0, 20);
	put16(out, sp);
	put16(out + 2, dp);
	put32(out + 4, seq);
	out[12] = 5 << 4;
	out[13] = flags;
	put16(out + 14, 65535);
	memcpy(out + 20, payload, len);
	return 20 + len;
}

/* Ethernet/IPv4/UDP frame of payload. */
static inline uint32_t mk_eth_udp4(uint8_t *out, const char *src,
				   const char *dst, uint16_t sp, uint16_t dp,
				   const char *payload)
{
	uint32_t len = (uint32_t)strlen(payload), n = mk_eth(out, 0x0800);

	n += mk_ip4(out + n, src, dst, 17, 1, 0, 8 + len);
	return n + mk_udp(out + n, sp, dp, payload, len);
}

/* Ethernet/IPv4/TCP frame. */
static inline uint32_t mk_eth_tcp4(uint8_t *out, uint16_t sp, uint16_t dp,
				   uint32_t seq, uint8_t flags,
				   const char *payload)
{
	uint32_t len = (uint32_t)strlen(payload), n = mk_eth(out, 0x0800);

	n += mk_ip4(out + n, "10.0.0.1", "10.0.0.2", 6, 1, 0x4000, 20 + len);
	return n + mk_tcp(out + n, sp, dp, seq, flags, payload, len);
}

/* --- a Content-Length framer: what the SIP stage's framer does, roughly -- */

static inline size_t find_crlf2(const uint8_t *b, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++)
		if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' &&
		    b[i + 3] == '\n')
			return i;
	return (size_t)-1;
}

static inline long content_length(const uint8_t *b, size_t hlen)
{
	for (size_t i = 0; i < hlen; i++) {
		size_t k;

		if (i && b[i - 1] != '\n')
			continue;
		if (hlen - i > 15 && strncasecmp((const char *)b + i,
						 "Content-Length:", 15) == 0)
			k = i + 15;
		else if (hlen - i > 2 && (b[i] == 'l' || b[i] == 'L') &&
			 b[i + 1] == ':')
			k = i + 2;
		else
			continue;
		while (k < hlen && b[k] == ' ')
			k++;
		return strtol((const char *)b + k, NULL, 10);
	}
	return 0;
}

static inline ssize_t cl_framer(const uint8_t *b, size_t len)
{
	const uint8_t *nl;
	size_t h;
	long cl;

	if (len == 0)
		return 0;
	if (!isupper(b[0]))
		return -1;
	nl = memchr(b, '\n', len);
	if (nl && !memmem(b, (size_t)(nl - b), "SIP/2.0", 7))
		return -1;
	h = find_crlf2(b, len);
	if (h == (size_t)-1)
		return 0;
	cl = content_length(b, h);
	if (cl < 0)
		return -1;
	return h + 4 + (size_t)cl <= len ? (ssize_t)(h + 4 + (size_t)cl) : 0;
}

/* --- a sink that records deliveries ------------------------------------- */

#define SINK_MAX 64

struct got {
	struct vs_datagram dg; /* pointers in it are stale after the call */
	char payload[2048];
	uint32_t nframes;
	const struct vs_frame *frame0; /* frames[0] as delivered */
	uint64_t frame_ts[16];	       /* frames[i]->ts_us */
};

struct sink {
	uint32_t n;
	struct got g[SINK_MAX];
};

static inline void sink_fn(void *ctx, const struct vs_datagram *dg)
{
	struct sink *s = ctx;
	struct got *g;

	cr_assert_lt(s->n, SINK_MAX);
	g = &s->g[s->n++];
	g->dg = *dg;
	cr_assert_lt(dg->len, sizeof(g->payload));
	memcpy(g->payload, dg->payload, dg->len);
	g->payload[dg->len] = '\0';
	g->nframes = dg->nframes;
	g->frame0 = dg->nframes ? dg->frames[0] : NULL;
	for (uint32_t i = 0; i < dg->nframes && i < 16; i++)
		g->frame_ts[i] = dg->frames[i]->ts_us;
}

/* A decoder with default limits unless lim, TCP on the ports given
 * (0-terminated list), recording into sink and stats. */
struct tdec {
	struct vs_decoder *d;
	struct sink sink;
	struct vs_decode_stats st;
	uint8_t ports[65536 / 8];
};

static inline void tdec_init(struct tdec *t, const struct vs_decode_limits *lim,
			     const uint16_t *ports)
{
	struct vs_decoder_opts o = { 0 };

	memset(t, 0, sizeof(*t));
	for (; ports && *ports; ports++)
		t->ports[*ports >> 3] |= 1 << (*ports & 7);
	o.sip_tcp_ports = ports ? t->ports : NULL;
	o.framer = cl_framer;
	o.out = sink_fn;
	o.out_ctx = &t->sink;
	o.stats = &t->st;
	if (lim)
		o.limits = *lim;
	else
		vs_decode_limits__default(&o.limits);
	t->d = vs_decoder__new(&o);
	cr_assert_not_null(t->d);
}

static inline void feed(struct tdec *t, const uint8_t *data, uint32_t len,
			uint16_t linktype, uint64_t ts)
{
	struct vs_frame f = {
		.data = data,
		.caplen = len,
		.origlen = len,
		.ts_us = ts,
		.linktype = linktype,
	};

	vs_decoder__frame(t->d, &f);
}

#endif
