// SPDX-License-Identifier: GPL-2.0-or-later
/* channel/wire: the frame codec with every compression, any chunking, and
 * every way a peer can send garbage; the binary payloads. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "channel/be.h"
#include "channel/wire.h"

static const enum vs_chan_compress comps[] = {
	VS_CHAN_COMP_NONE, VS_CHAN_COMP_ZSTD, VS_CHAN_COMP_GZIP,
	VS_CHAN_COMP_LZO,
};

/* SIP-like text (compressible) or pseudo-random bytes (not). */
static uint8_t *payload(size_t n, unsigned seed, bool text)
{
	static const char sip[] = "INVITE sip:bob@10.2.0.1 SIP/2.0\r\nVia: "
				  "SIP/2.0/UDP 10.1.0.1:5060;branch=z9hG4bK";
	uint8_t *p = malloc(n + 1);
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = text ? (uint8_t)sip[(i + seed) % (sizeof(sip) - 1)] :
			      (uint8_t)(x >> 16);
	}
	return p;
}

#define NPAY 6
static const size_t pay_len[NPAY] = { 0, 1, 100, 1500, 70000, 300000 };

struct set {
	uint8_t *p[NPAY];
	struct vs_buf wire;
};

static void make_set(struct set *s, enum vs_chan_compress c, bool text)
{
	struct vs_chan_enc e;

	memset(s, 0, sizeof(*s));
	cr_assert_eq(vs_chan_enc__init(&e, c), 0);
	for (int i = 0; i < NPAY; i++) {
		s->p[i] = payload(pay_len[i], i, text);
		cr_assert_eq(vs_chan_enc__frame(&e, &s->wire, VS_CHAN_PACKETS,
						s->p[i], pay_len[i], 0),
			     0);
	}
	cr_assert_eq(e.st.frames, NPAY);
	vs_chan_enc__fini(&e);
}

static void free_set(struct set *s)
{
	for (int i = 0; i < NPAY; i++)
		free(s->p[i]);
	vs_buf__free(&s->wire);
}

/* Feeds the wire bytes in pieces of the given sizes (cycled); checks that
 * exactly the payloads come out, in order. */
static void check_decode(const struct set *s, enum vs_chan_compress c,
			 const size_t *cuts, size_t ncuts)
{
	struct vs_chan_dec d;
	struct vs_chan_frame f;
	size_t off = 0, k = 0;
	int got = 0, r;

	vs_chan_dec__init(&d, 1u << 20);
	vs_chan_dec__allow(&d, c);
	while (off < s->wire.len) {
		size_t piece = cuts[k++ % ncuts];
		const uint8_t *p = s->wire.p + off;
		size_t n = piece < s->wire.len - off ? piece : s->wire.len - off;

		off += n;
		while ((r = vs_chan_dec__next(&d, &p, &n, &f)) == 0) {
			cr_assert_lt(got, NPAY);
			cr_assert_eq(f.type, VS_CHAN_PACKETS);
			cr_assert_eq(f.len, pay_len[got], "frame %d: %u != %zu",
				     got, f.len, pay_len[got]);
			cr_assert_eq(memcmp(f.data, s->p[got], f.len), 0);
			got++;
		}
		cr_assert_eq(r, -EAGAIN, "r=%d (%s)", r, d.why ?: "");
		cr_assert_eq(n, 0);
	}
	cr_assert_eq(got, NPAY);
	cr_assert_eq(d.st.frames, NPAY);
	vs_chan_dec__fini(&d);
}

Test(chan_frame, roundtrip_every_compression_one_chunk)
{
	for (size_t i = 0; i < 4; i++) {
		for (int text = 0; text < 2; text++) {
			struct set s;
			size_t all = SIZE_MAX;

			make_set(&s, comps[i], text);
			check_decode(&s, comps[i], &all, 1);
			free_set(&s);
		}
	}
}

Test(chan_frame, compression_shrinks_text)
{
	for (size_t i = 1; i < 4; i++) {
		struct set s;
		size_t raw = 0;

		make_set(&s, comps[i], true);
		for (int k = 0; k < NPAY; k++)
			raw += pay_len[k] + VS_CHAN_HDR_LEN;
		cr_assert_lt(s.wire.len, raw / 10, "%s: %zu of %zu",
			     vs_chan_compress__name(comps[i]), s.wire.len, raw);
		free_set(&s);
	}
}

Test(chan_frame, odd_chunk_sizes)
{
	static const size_t cuts[] = { 1, 7, 12, 13, 4096, 3, 65536, 11 };

	for (size_t i = 0; i < 4; i++) {
		struct set s;

		make_set(&s, comps[i], false);
		check_decode(&s, comps[i], cuts, 8);
		free_set(&s);
	}
}

/* Three small frames split in two at every byte offset. */
Test(chan_frame, split_at_every_byte)
{
	static const char *msg[3] = { "", "PING", "SIP/2.0 200 OK\r\n\r\n" };

	for (size_t i = 0; i < 4; i++) {
		struct vs_chan_enc e;
		struct vs_buf w = { 0 };

		vs_chan_enc__init(&e, comps[i]);
		for (int k = 0; k < 3; k++)
			vs_chan_enc__frame(&e, &w, VS_CHAN_PING + (k & 1),
					   msg[k], strlen(msg[k]), 0);
		for (size_t cut = 0; cut <= w.len; cut++) {
			struct vs_chan_dec d;
			struct vs_chan_frame f;
			const uint8_t *p = w.p;
			size_t n = cut;
			int got = 0, r;

			vs_chan_dec__init(&d, 0);
			vs_chan_dec__allow(&d, comps[i]);
			for (int part = 0; part < 2; part++) {
				while ((r = vs_chan_dec__next(&d, &p, &n, &f)) == 0) {
					cr_assert_eq(f.len, strlen(msg[got]));
					cr_assert_eq(memcmp(f.data, msg[got], f.len), 0);
					cr_assert_eq(f.type, VS_CHAN_PING + (got & 1));
					got++;
				}
				cr_assert_eq(r, -EAGAIN);
				n = w.len - cut;
			}
			cr_assert_eq(got, 3, "%s cut %zu",
				     vs_chan_compress__name(comps[i]), cut);
			vs_chan_dec__fini(&d);
		}
		vs_buf__free(&w);
		vs_chan_enc__fini(&e);
	}
}

Test(chan_frame, many_frames_per_chunk)
{
	struct vs_chan_enc e;
	struct vs_chan_dec d;
	struct vs_chan_frame f;
	struct vs_buf w = { 0 };
	const uint8_t *p;
	size_t n;
	uint64_t v;
	int got = 0;

	vs_chan_enc__init(&e, VS_CHAN_COMP_ZSTD);
	for (v = 0; v < 1000; v++)
		vs_chan_enc__frame(&e, &w, VS_CHAN_CDR_ACK, &v, sizeof(v), 0);
	vs_chan_dec__init(&d, 0);
	vs_chan_dec__allow(&d, VS_CHAN_COMP_ZSTD);
	p = w.p;
	n = w.len;
	while (vs_chan_dec__next(&d, &p, &n, &f) == 0) {
		cr_assert_eq(f.len, 8);
		memcpy(&v, f.data, 8);
		cr_assert_eq(v, (uint64_t)got);
		got++;
	}
	cr_assert_eq(got, 1000);
	cr_assert_eq(n, 0);
	vs_chan_dec__fini(&d);
	vs_chan_enc__fini(&e);
	vs_buf__free(&w);
}

/* A header with the given fields, then `extra` payload bytes of 'x'. */
static int decode_hdr(uint8_t ver, uint8_t type, uint8_t flags, uint8_t rsv,
		      uint32_t wire, uint32_t raw, uint32_t max,
		      struct vs_chan_dec *d)
{
	uint8_t b[VS_CHAN_HDR_LEN + 16];
	struct vs_chan_frame f;
	const uint8_t *p = b;
	size_t n = VS_CHAN_HDR_LEN + (wire < 16 ? wire : 16);

	b[0] = ver;
	b[1] = type;
	b[2] = flags;
	b[3] = rsv;
	vs_be32_put(b + 4, wire);
	vs_be32_put(b + 8, raw);
	memset(b + VS_CHAN_HDR_LEN, 'x', 16);
	vs_chan_dec__init(d, max);
	vs_chan_dec__allow(d, VS_CHAN_COMP_ZSTD);
	return vs_chan_dec__next(d, &p, &n, &f);
}

Test(chan_frame, bad_headers)
{
	struct vs_chan_dec d;

	cr_assert_eq(decode_hdr(1, VS_CHAN_PING, 0, 0, 4, 4, 0, &d), 0);
	vs_chan_dec__fini(&d);
	cr_assert_eq(decode_hdr(2, VS_CHAN_PING, 0, 0, 4, 4, 0, &d), -EPROTO);
	cr_assert_eq(d.st.err_header, 1);
	vs_chan_dec__fini(&d);
	cr_assert_eq(decode_hdr(1, VS_CHAN_PING, 0x10, 0, 4, 4, 0, &d), -EPROTO);
	vs_chan_dec__fini(&d);
	cr_assert_eq(decode_hdr(1, VS_CHAN_PING, 0, 7, 4, 4, 0, &d), -EPROTO);
	vs_chan_dec__fini(&d);
	/* uncompressed, but the sizes disagree */
	cr_assert_eq(decode_hdr(1, VS_CHAN_PING, 0, 0, 4, 5, 0, &d), -EPROTO);
	vs_chan_dec__fini(&d);
}

Test(chan_frame, unknown_type)
{
	static const uint8_t types[] = { 0, VS_CHAN_TYPE_MAX + 1, 255 };
	struct vs_chan_dec d;

	for (size_t i = 0; i < sizeof(types); i++) {
		cr_assert_eq(decode_hdr(1, types[i], 0, 0, 4, 4, 0, &d), -ENOMSG);
		cr_assert_eq(d.st.err_type, 1);
		cr_assert_str_eq(d.why, "unknown frame type");
		vs_chan_dec__fini(&d);
	}
}

Test(chan_frame, oversize)
{
	struct vs_chan_dec d;

	cr_assert_eq(decode_hdr(1, VS_CHAN_CDR, 0, 0, 1001, 1001, 1000, &d),
		     -EMSGSIZE);
	cr_assert_eq(d.st.err_oversize, 1);
	vs_chan_dec__fini(&d);
	cr_assert_eq(decode_hdr(1, VS_CHAN_CDR, 0, 0, 1000, 1000, 1000, &d),
		     -EAGAIN);
	vs_chan_dec__fini(&d);
	cr_assert_eq(decode_hdr(1, VS_CHAN_CDR, 0, 0, UINT32_MAX, UINT32_MAX,
				0, &d),
		     -EMSGSIZE);
	vs_chan_dec__fini(&d);
	/* compressed: small on the wire, huge declared */
	cr_assert_eq(decode_hdr(1, VS_CHAN_CDR, VS_CHAN_COMP_ZSTD, 0, 10,
				(4u << 20) + 1, 0, &d),
		     -EMSGSIZE);
	vs_chan_dec__fini(&d);
}

Test(chan_frame, compression_not_negotiated)
{
	struct vs_chan_dec d;

	cr_assert_eq(decode_hdr(1, VS_CHAN_CDR, VS_CHAN_COMP_LZO, 0, 4, 4, 0,
				&d),
		     -EBADMSG);
	cr_assert_eq(d.st.err_comp, 1);
	vs_chan_dec__fini(&d);
}

Test(chan_frame, truncated_waits_then_errors_stick)
{
	struct vs_chan_enc e;
	struct vs_chan_dec d;
	struct vs_chan_frame f;
	struct vs_buf w = { 0 };
	const uint8_t *p;
	size_t n;

	vs_chan_enc__init(&e, VS_CHAN_COMP_NONE);
	vs_chan_enc__frame(&e, &w, VS_CHAN_CDR, "0123456789", 10, 0);
	vs_chan_dec__init(&d, 0);
	p = w.p;
	n = w.len - 1;
	cr_assert_eq(vs_chan_dec__next(&d, &p, &n, &f), -EAGAIN);
	cr_assert_eq(n, 0);
	cr_assert_eq(d.st.frames, 0);
	/* garbage instead of the last byte's successor header */
	p = (const uint8_t *)"9\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff";
	n = 13;
	cr_assert_eq(vs_chan_dec__next(&d, &p, &n, &f), 0);
	cr_assert_eq(f.len, 10);
	cr_assert_eq(memcmp(f.data, "0123456789", 10), 0);
	cr_assert_eq(vs_chan_dec__next(&d, &p, &n, &f), -EPROTO);
	p = w.p;
	n = w.len;
	cr_assert_eq(vs_chan_dec__next(&d, &p, &n, &f), -EPROTO);
	vs_chan_dec__fini(&d);
	vs_chan_enc__fini(&e);
	vs_buf__free(&w);
}

/* Rewrites the first frame of w so its payload is `len` bytes of fill. */
static int decode_patched(enum vs_chan_compress c, const struct vs_buf *w,
			  uint32_t wire, uint32_t raw, int fill)
{
	struct vs_chan_dec d;
	struct vs_chan_frame f;
	uint8_t *b = malloc(w->len);
	const uint8_t *p = b;
	size_t n = VS_CHAN_HDR_LEN + wire;
	int r;

	memcpy(b, w->p, w->len);
	vs_be32_put(b + 4, wire);
	vs_be32_put(b + 8, raw);
	if (fill >= 0)
		memset(b + VS_CHAN_HDR_LEN, fill, wire);
	vs_chan_dec__init(&d, 0);
	vs_chan_dec__allow(&d, c);
	r = vs_chan_dec__next(&d, &p, &n, &f);
	if (r)
		cr_assert_eq(d.st.err_corrupt, 1);
	vs_chan_dec__fini(&d);
	free(b);
	return r;
}

Test(chan_frame, corrupt_compressed_data)
{
	for (size_t i = 1; i < 4; i++) {
		enum vs_chan_compress c = comps[i];
		struct vs_chan_enc e;
		struct vs_buf w = { 0 };
		uint8_t *text = payload(5000, 3, true);
		uint32_t wire;

		vs_chan_enc__init(&e, c);
		vs_chan_enc__frame(&e, &w, VS_CHAN_CDR, text, 5000, 0);
		wire = vs_be32(w.p + 4);
		cr_assert_eq(w.p[2], c);
		/* intact */
		cr_assert_eq(decode_patched(c, &w, wire, 5000, -1), 0);
		/* truncated compressed data */
		cr_assert_eq(decode_patched(c, &w, wire - 3, 5000, -1), -EBADMSG,
			     "%s truncated", vs_chan_compress__name(c));
		/* garbage */
		cr_assert_eq(decode_patched(c, &w, wire, 5000, 0xff), -EBADMSG,
			     "%s garbage", vs_chan_compress__name(c));
		/* declared smaller than it inflates to: a bomb */
		cr_assert_eq(decode_patched(c, &w, wire, 4000, -1), -EBADMSG,
			     "%s bomb", vs_chan_compress__name(c));
		/* declared larger than it inflates to */
		cr_assert_eq(decode_patched(c, &w, wire, 6000, -1), -EBADMSG,
			     "%s short", vs_chan_compress__name(c));
		vs_chan_enc__fini(&e);
		vs_buf__free(&w);
		free(text);
	}
}

/* 64 MiB of zeros compresses to a few KiB; the decoder must refuse it
 * from the header alone, without inflating. */
Test(chan_frame, bomb_above_max_frame)
{
	size_t big = 64u << 20;
	uint8_t *z = calloc(1, big);
	struct vs_chan_enc e;
	struct vs_chan_dec d;
	struct vs_chan_frame f;
	struct vs_buf w = { 0 };
	const uint8_t *p;
	size_t n;

	vs_chan_enc__init(&e, VS_CHAN_COMP_ZSTD);
	cr_assert_eq(vs_chan_enc__frame(&e, &w, VS_CHAN_PACKETS, z, big, 0), 0);
	cr_assert_lt(w.len, 64u << 10);
	vs_chan_dec__init(&d, 0);
	vs_chan_dec__allow(&d, VS_CHAN_COMP_ZSTD);
	p = w.p;
	n = w.len;
	cr_assert_eq(vs_chan_dec__next(&d, &p, &n, &f), -EMSGSIZE);
	cr_assert_eq(d.out.cap, 0);
	vs_chan_dec__fini(&d);
	vs_chan_enc__fini(&e);
	vs_buf__free(&w);
	free(z);
}

Test(chan_frame, queue_limit_keeps_stream_intact)
{
	struct vs_chan_enc e;
	struct vs_buf w = { 0 };
	struct set s;
	size_t all = SIZE_MAX;
	uint8_t *big = payload(100000, 1, false);

	vs_chan_enc__init(&e, VS_CHAN_COMP_ZSTD);
	cr_assert_eq(vs_chan_enc__frame(&e, &w, VS_CHAN_CDR, big, 100000, 5000),
		     -ENOBUFS);
	cr_assert_eq(w.len, 0);
	/* the stream continues as if the refused frame never existed */
	memset(&s, 0, sizeof(s));
	for (int i = 0; i < NPAY; i++) {
		s.p[i] = payload(pay_len[i], i, true);
		cr_assert_eq(vs_chan_enc__frame(&e, &s.wire, VS_CHAN_PACKETS,
						s.p[i], pay_len[i], 0),
			     0);
	}
	check_decode(&s, VS_CHAN_COMP_ZSTD, &all, 1);
	free_set(&s);
	vs_chan_enc__fini(&e);
	vs_buf__free(&w);
	free(big);
}

/* --- payloads -------------------------------------------------------------*/

Test(chan_msg, error_roundtrip_and_sanitised)
{
	struct vs_buf b = { 0 };
	char text[16];
	uint16_t code;

	cr_assert_eq(vs_chan_error__put(&b, VS_CHAN_E_BAD_PASSWORD,
					"bad\npassword"),
		     0);
	cr_assert_eq(b.len, 14);
	cr_assert_eq(vs_chan_error__parse(b.p, b.len, &code, text, sizeof(text)),
		     0);
	cr_assert_eq(code, 1);
	cr_assert_str_eq(text, "bad?password");
	cr_assert_eq(vs_chan_error__parse(b.p, 1, &code, text, sizeof(text)),
		     -EBADMSG);
	cr_assert_eq(vs_chan_error__parse(b.p, b.len, &code, text, 4), 0);
	cr_assert_str_eq(text, "bad");
	cr_assert_eq(vs_chan_error__errno(VS_CHAN_E_BAD_PASSWORD), -EACCES);
	cr_assert_eq(vs_chan_error__errno(VS_CHAN_E_CLOCK_SKEW), -ERANGE);
	cr_assert_eq(vs_chan_error__errno(999), -ECONNABORTED);
	vs_buf__free(&b);
}

Test(chan_msg, cdr_and_ack)
{
	struct vs_buf b = { 0 };
	struct vs_chan_cdr c = { 7, 0x0102030405060708ull,
				 (const uint8_t *)"{\"a\":1}", 7 }, c2;
	struct vs_chan_ack a = { 7, 1ull << 40, 25 }, a2;

	cr_assert_eq(vs_chan_cdr__put(&b, &c), 0);
	cr_assert_eq(b.len, 17);
	cr_assert_eq(b.p[2], 0x01);
	cr_assert_eq(vs_chan_cdr__parse(b.p, b.len, &c2), 0);
	cr_assert_eq(c2.id_sensor, 7);
	cr_assert_eq(c2.seq, 0x0102030405060708ull);
	cr_assert_eq(c2.len, 7);
	cr_assert_eq(memcmp(c2.body, "{\"a\":1}", 7), 0);
	cr_assert_eq(vs_chan_cdr__parse(b.p, 9, &c2), -EBADMSG);
	b.len = 0;
	cr_assert_eq(vs_chan_ack__put(&b, &a), 0);
	cr_assert_eq(vs_chan_ack__parse(b.p, b.len, &a2), 0);
	cr_assert_eq(a2.first_seq, 1ull << 40);
	cr_assert_eq(a2.count, 25);
	cr_assert_eq(vs_chan_ack__parse(b.p, b.len - 1, &a2), -EBADMSG);
	vs_buf__free(&b);
}

Test(chan_msg, packets_roundtrip)
{
	struct vs_buf b = { 0 };
	struct vs_chan_pkt_iter it;
	struct vs_frame f = { 0 }, g;
	uint8_t data[200];
	uint16_t ifx;

	for (int i = 0; i < 200; i++)
		data[i] = (uint8_t)i;
	cr_assert_eq(vs_chan_packets__begin(&b, 42, 7), 0);
	for (uint32_t i = 0; i < 10; i++) {
		f.data = data;
		f.caplen = i * 20;
		f.origlen = i * 20 + 4;
		f.ts_us = 1700000000000000ull + i;
		f.linktype = 1;
		cr_assert_eq(vs_chan_packets__add(&b, &f, (uint16_t)(i % 3), 0), 0);
	}
	cr_assert_eq(vs_chan_packets__count(&b), 10);
	cr_assert_eq(b.len, VS_CHAN_PKT_HDR + 10 * VS_CHAN_PKT_REC + 900);
	vs_chan_packets__close(&b, 1700000000500000ull);
	cr_assert_eq(vs_chan_packets__iter(&it, b.p, b.len), 0);
	cr_assert_eq(it.seq, 7);
	cr_assert_eq(it.watermark_us, 1700000000500000ull);
	for (uint32_t i = 0; i < 10; i++) {
		cr_assert_eq(vs_chan_packets__next(&it, &g, &ifx), 1);
		cr_assert_eq(g.caplen, i * 20);
		cr_assert_eq(g.origlen, i * 20 + 4);
		cr_assert_eq(g.ts_us, 1700000000000000ull + i);
		cr_assert_eq(g.id_sensor, 42);
		cr_assert_eq(ifx, i % 3);
		cr_assert_eq(memcmp(g.data, data, g.caplen), 0);
	}
	cr_assert_eq(vs_chan_packets__next(&it, &g, &ifx), 0);
	/* truncated last record */
	vs_chan_packets__iter(&it, b.p, b.len - 1);
	for (int i = 0; i < 9; i++)
		cr_assert_eq(vs_chan_packets__next(&it, &g, &ifx), 1);
	cr_assert_eq(vs_chan_packets__next(&it, &g, &ifx), -EBADMSG);
	/* trailing bytes */
	vs_buf__put(&b, "x", 1, 0);
	vs_chan_packets__iter(&it, b.p, b.len);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(vs_chan_packets__next(&it, &g, &ifx), 1);
	cr_assert_eq(vs_chan_packets__next(&it, &g, &ifx), -EBADMSG);
	cr_assert_eq(vs_chan_packets__iter(&it, b.p, 7), -EBADMSG);
	/* caplen above origlen is refused both ways */
	f.caplen = 10;
	f.origlen = 5;
	cr_assert_eq(vs_chan_packets__add(&b, &f, 0, 0), -EINVAL);
	vs_buf__free(&b);
}

Test(chan_msg, ping_pcap)
{
	struct vs_buf b = { 0 };
	struct vs_chan_ping pg = { 9, 123456789 }, pg2;
	struct vs_chan_pcap_req r = { 5, 2, 1700000000000000ull, "abc@host", 8 },
				r2;
	struct vs_chan_pcap_data d = { 5, VS_CHAN_PCAP_F_LAST,
				       (const uint8_t *)"PCAP", 4 }, d2;

	vs_chan_ping__put(&b, &pg);
	cr_assert_eq(vs_chan_ping__parse(b.p, b.len, &pg2), 0);
	cr_assert_eq(pg2.token, 9);
	cr_assert_eq(pg2.clock_us, 123456789);
	b.len = 0;
	cr_assert_eq(vs_chan_pcap_req__put(&b, &r), 0);
	cr_assert_eq(vs_chan_pcap_req__parse(b.p, b.len, &r2), 0);
	cr_assert_eq(r2.call_id_len, 8);
	cr_assert_eq(memcmp(r2.call_id, "abc@host", 8), 0);
	cr_assert_eq(r2.calldate_us, 1700000000000000ull);
	cr_assert_eq(vs_chan_pcap_req__parse(b.p, b.len - 1, &r2), -EBADMSG);
	b.len = 0;
	cr_assert_eq(vs_chan_pcap_data__put(&b, &d), 0);
	cr_assert_eq(vs_chan_pcap_data__parse(b.p, b.len, &d2), 0);
	cr_assert_eq(d2.flags, VS_CHAN_PCAP_F_LAST);
	cr_assert_eq(d2.len, 4);
	b.p[4] = 0x80;
	cr_assert_eq(vs_chan_pcap_data__parse(b.p, b.len, &d2), -EBADMSG);
	vs_buf__free(&b);
}

Test(chan_msg, names)
{
	enum vs_chan_compress c;

	cr_assert_eq(vs_chan_compress__parse("ZSTD", &c), 0);
	cr_assert_eq(c, VS_CHAN_COMP_ZSTD);
	cr_assert_eq(vs_chan_compress__parse("gzip", &c), 0);
	cr_assert_eq(c, VS_CHAN_COMP_GZIP);
	cr_assert_eq(vs_chan_compress__parse("lzo", &c), 0);
	cr_assert_eq(c, VS_CHAN_COMP_LZO);
	cr_assert_eq(vs_chan_compress__parse("none", &c), 0);
	cr_assert_eq(c, VS_CHAN_COMP_NONE);
	cr_assert_eq(vs_chan_compress__parse("lz4", &c), -EINVAL);
	cr_assert_str_eq(vs_chan_type__name(VS_CHAN_CDR_ACK), "CDR_ACK");
	cr_assert_str_eq(vs_chan_type__name(0), "unknown");
	cr_assert_str_eq(vs_chan_type__name(VS_CHAN_PACKETS_ACK), "PACKETS_ACK");
	cr_assert_str_eq(vs_chan_type__name(VS_CHAN_TYPE_MAX + 1), "unknown");
	cr_assert_str_eq(vs_chan_type__name(VS_CHAN_SENSOR_INFO),
			 "SENSOR_INFO");
}

Test(chan_msg, sensor_info)
{
	struct vs_chan_sensor_info si = { .id_sensor = 4242, .up = 1,
					  .mode = 1, .since_us = 1ull << 52 },
				   back;
	struct vs_buf b = { 0 };

	strcpy(si.name, "pbx-\x01-a");
	memset(si.version, 'v', sizeof(si.version) - 1);
	strcpy(si.addr, "10.0.0.1:5555");
	cr_assert_eq(vs_chan_sensor_info__put(&b, &si), 0);
	cr_assert_eq(b.len, 12 + 3 + 7 + 32 + 13);
	cr_assert_eq(vs_chan_sensor_info__parse(b.p, b.len, &back), 0);
	cr_expect_eq(back.id_sensor, 4242);
	cr_expect_eq(back.up, 1);
	cr_expect_eq(back.mode, 1);
	cr_expect_eq(back.since_us, 1ull << 52);
	cr_expect_str_eq(back.name, "pbx-?-a", "non-printable as '?'");
	cr_expect_eq(strlen(back.version), 32);
	cr_expect_str_eq(back.addr, "10.0.0.1:5555");
	/* every truncation, a trailing byte, a bad flag, id_sensor 0 */
	for (size_t n = 0; n < b.len; n++)
		cr_expect_eq(vs_chan_sensor_info__parse(b.p, n, &back), -EBADMSG,
			     "%zu of %zu bytes", n, b.len);
	cr_assert_eq(vs_buf__put(&b, "x", 1, 0), 0);
	cr_expect_eq(vs_chan_sensor_info__parse(b.p, b.len, &back), -EBADMSG);
	b.len--;
	b.p[2] = 2;
	cr_expect_eq(vs_chan_sensor_info__parse(b.p, b.len, &back), -EBADMSG);
	b.p[2] = 0;
	b.p[0] = b.p[1] = 0;
	cr_expect_eq(vs_chan_sensor_info__parse(b.p, b.len, &back), -EBADMSG);
	vs_buf__free(&b);
}
