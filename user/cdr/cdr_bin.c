// SPDX-License-Identifier: GPL-2.0-or-later
/* cdr/cdr_bin: struct vs_cdr <-> compact binary (layout in cdr_bin.h and
 * docs/channel.md). Both directions walk one table of fields per part, so
 * that a field added to the struct is added once, at the end of its table
 * (never in the middle: that would move every later field for older
 * readers).
 *
 *   0  magic VS_CDR_BIN_MAGIC, 1  version
 *   2  part: CDR           u32 length (little endian), then its fields
 *      part: leg a, leg b  the same, with the leg table
 *      u32 n_streams, then n_streams leg parts
 *
 * Integers are little endian of the field's width, doubles their IEEE
 * bits, an endpoint 16 address bytes and a u16 port, a string a u16 length
 * and its bytes (no NUL). */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cdr/cdr_bin.h"
#include "cdr/cdr_json.h"

/* Integers and doubles alike travel as their bits (B_NUM): the field's
 * width is all the codec needs; enums are range-checked on the way in. */
enum bin_kind { B_NUM, B_STR, B_EP, B_ENUM };

struct bin_field {
	uint16_t off;
	uint16_t size;	/* bytes of one value (B_STR: the array's size) */
	uint8_t kind;
	uint8_t count;	/* array elements (1 for a scalar) */
	uint8_t max;	/* B_ENUM: the highest value */
};

#define FLD(T, m, k) { offsetof(T, m), sizeof(((T *)0)->m), k, 1, 0 }
#define ARR(T, m, k)                                                  \
	{ offsetof(T, m), sizeof(((T *)0)->m[0]), k,                  \
	  sizeof(((T *)0)->m) / sizeof(((T *)0)->m[0]), 0 }
#define ENUM(T, m, hi) { offsetof(T, m), sizeof(((T *)0)->m), B_ENUM, 1, hi }

#define C(m, k) FLD(struct vs_cdr, m, k)
static const struct bin_field cdr_fields[] = {
	C(id_sensor, B_NUM), C(call_id, B_STR), C(caller, B_STR),
	C(caller_domain, B_STR), C(caller_name, B_STR), C(called, B_STR),
	C(called_domain, B_STR), C(called_name, B_STR),
	C(sip_caller, B_EP), C(sip_called, B_EP),
	C(calldate_us, B_NUM), C(callend_us, B_NUM),
	C(progress_us, B_NUM), C(connect_us, B_NUM),
	C(first_rtp_us, B_NUM), C(duration_s, B_NUM),
	C(connect_duration_s, B_NUM), C(last_sip_code, B_NUM),
	C(last_sip_text, B_STR),
	ENUM(struct vs_cdr, whohanged, VS_HANGUP_CALLEE),
	ENUM(struct vs_cdr, end, VS_END_EOF),
	C(bye_reason, B_STR), C(caller_ua, B_STR), C(called_ua, B_STR),
	C(sip_messages, B_NUM), C(reinvites, B_NUM), C(pcap_path, B_STR),
};
#undef C

#define L(m, k) FLD(struct vs_cdr_leg, m, k)
static const struct bin_field leg_fields[] = {
	L(present, B_NUM), L(ssrc, B_NUM), L(payload_type, B_NUM),
	L(codec, B_STR), L(clock_rate, B_NUM), L(src, B_EP), L(dst, B_EP),
	L(first_us, B_NUM), L(last_us, B_NUM), L(ptime_ms, B_NUM),
	L(packets, B_NUM), L(lost, B_NUM), L(duplicates, B_NUM),
	L(reordered, B_NUM), L(loss_pct, B_NUM), L(jitter_mean_ms, B_NUM),
	L(jitter_max_ms, B_NUM), L(mos, B_NUM), L(r_factor, B_NUM),
	ARR(struct vs_cdr_leg, loss_burst, B_NUM),
	ARR(struct vs_cdr_leg, delay, B_NUM),
	L(dtmf_events, B_NUM), L(dtmf, B_STR),
	L(rtcp_packets, B_NUM), L(rtcp_reports, B_NUM),
	L(rtcp_lost, B_NUM), L(rtcp_fraction_lost_max, B_NUM),
	L(rtcp_jitter_mean_ms, B_NUM), L(rtcp_jitter_max_ms, B_NUM),
	L(rtcp_rtt_mean_ms, B_NUM), L(rtcp_rtt_max_ms, B_NUM),
	ENUM(struct vs_cdr_leg, dir, 1),
};
#undef L

#define N_FIELDS(t) (sizeof(t) / sizeof((t)[0]))

/* ---- encoding ---------------------------------------------------------- */

static uint8_t *put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++, v >>= 8)
		*p++ = (uint8_t)v;
	return p;
}

/* A field's value as the integer its bytes hold (host order), widened. */
static uint64_t load_uint(const uint8_t *src, unsigned size)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64 = 0;

	switch (size) {
	case 1: memcpy(&u8, src, 1); return u8;
	case 2: memcpy(&u16, src, 2); return u16;
	case 4: memcpy(&u32, src, 4); return u32;
	default: memcpy(&u64, src, 8); return u64;
	}
}

/* The most bytes one field can take on the wire. */
static size_t field_max(const struct bin_field *f)
{
	switch (f->kind) {
	case B_STR: return 2u + f->size;
	case B_EP: return 18;
	default: return (size_t)f->size * f->count;
	}
}

static size_t part_max(const struct bin_field *t, size_t n)
{
	size_t sum = 4;

	for (size_t i = 0; i < n; i++)
		sum += field_max(&t[i]);
	return sum;
}

static uint8_t *put_field(uint8_t *p, const struct bin_field *f,
			  const uint8_t *base)
{
	const uint8_t *src = base + f->off;
	const struct vs_endpoint *ep;
	size_t len;

	switch (f->kind) {
	case B_STR:
		len = strnlen((const char *)src, f->size - 1u);
		p = put_le(p, len, 2);
		memcpy(p, src, len);
		return p + len;
	case B_EP:
		ep = (const struct vs_endpoint *)src;
		memcpy(p, ep->addr.b, 16);
		return put_le(p + 16, ep->port, 2);
	default: /* B_NUM, B_ENUM: the bits as they are */
		for (unsigned i = 0; i < f->count; i++, src += f->size)
			p = put_le(p, load_uint(src, f->size), f->size);
		return p;
	}
}

static uint8_t *put_part(uint8_t *p, const struct bin_field *t, size_t n,
			 const void *base)
{
	uint8_t *start = p + 4;

	p = start;
	for (size_t i = 0; i < n; i++)
		p = put_field(p, &t[i], base);
	put_le(start - 4, (uint64_t)(p - start), 4);
	return p;
}

int vs_cdr__to_bin(const struct vs_cdr *c, uint8_t **out, size_t *len)
{
	size_t leg = part_max(leg_fields, N_FIELDS(leg_fields));
	size_t cap = 2 + part_max(cdr_fields, N_FIELDS(cdr_fields)) +
		     (2 + (size_t)c->n_streams) * leg + 4;
	uint8_t *buf = malloc(cap), *p;

	if (!buf)
		return -ENOMEM;
	p = buf;
	*p++ = VS_CDR_BIN_MAGIC;
	*p++ = VS_CDR_BIN_VERSION;
	p = put_part(p, cdr_fields, N_FIELDS(cdr_fields), c);
	p = put_part(p, leg_fields, N_FIELDS(leg_fields), &c->a);
	p = put_part(p, leg_fields, N_FIELDS(leg_fields), &c->b);
	p = put_le(p, c->n_streams, 4);
	for (uint32_t i = 0; i < c->n_streams; i++)
		p = put_part(p, leg_fields, N_FIELDS(leg_fields),
			     &c->streams[i]);
	*out = buf;
	*len = (size_t)(p - buf);
	return 0;
}

/* ---- decoding ---------------------------------------------------------- */

struct rd {
	const uint8_t *p, *end;
};

static bool take(struct rd *r, size_t n, const uint8_t **at)
{
	if ((size_t)(r->end - r->p) < n)
		return false;
	*at = r->p;
	r->p += n;
	return true;
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* Stores v into a field of `size` bytes (host order). */
static void store_uint(uint8_t *dst, uint64_t v, unsigned size)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	switch (size) {
	case 1: memcpy(dst, &u8, 1); break;
	case 2: memcpy(dst, &u16, 2); break;
	case 4: memcpy(dst, &u32, 4); break;
	default: memcpy(dst, &v, 8); break;
	}
}

static int get_str(struct rd *r, const struct bin_field *f, uint8_t *dst)
{
	const uint8_t *at;
	size_t len;

	if (!take(r, 2, &at))
		return -EBADMSG;
	len = get_le(at, 2);
	if (!take(r, len, &at) || memchr(at, 0, len))
		return -EBADMSG;
	if (len >= f->size)
		len = f->size - 1u;
	memcpy(dst, at, len);
	return 0;
}

static int get_field(struct rd *r, const struct bin_field *f, uint8_t *base)
{
	uint8_t *dst = base + f->off;
	const uint8_t *at;
	uint64_t v;

	switch (f->kind) {
	case B_STR:
		return get_str(r, f, dst);
	case B_EP:
		if (!take(r, 18, &at))
			return -EBADMSG;
		memcpy(((struct vs_endpoint *)dst)->addr.b, at, 16);
		((struct vs_endpoint *)dst)->port = (uint16_t)get_le(at + 16, 2);
		return 0;
	case B_ENUM:
		if (!take(r, f->size, &at))
			return -EBADMSG;
		v = get_le(at, f->size);
		if (v > f->max)
			return -EBADMSG;
		store_uint(dst, v, f->size);
		return 0;
	default: /* B_NUM: the bits as they are */
		for (unsigned i = 0; i < f->count; i++, dst += f->size) {
			if (!take(r, f->size, &at))
				return -EBADMSG;
			store_uint(dst, get_le(at, f->size), f->size);
		}
		return 0;
	}
}

/* One part: its fields while it has bytes; what is left is a newer
 * sender's and is skipped. */
static int get_part(struct rd *r, const struct bin_field *t, size_t n,
		    void *base)
{
	const uint8_t *at;
	struct rd part;
	size_t len;
	int err;

	if (!take(r, 4, &at))
		return -EBADMSG;
	len = get_le(at, 4);
	if (!take(r, len, &at))
		return -EBADMSG;
	part = (struct rd){ at, at + len };
	for (size_t i = 0; i < n && part.p < part.end; i++) {
		err = get_field(&part, &t[i], base);
		if (err)
			return err;
	}
	return 0;
}

static int get_all(struct rd *r, struct vs_cdr *c, struct vs_cdr_leg *buf,
		   uint32_t max)
{
	const uint8_t *at;
	uint32_t n;
	int err;

	if (!take(r, 2, &at) || at[0] != VS_CDR_BIN_MAGIC ||
	    at[1] != VS_CDR_BIN_VERSION)
		return -EBADMSG;
	err = get_part(r, cdr_fields, N_FIELDS(cdr_fields), c);
	if (!err)
		err = get_part(r, leg_fields, N_FIELDS(leg_fields), &c->a);
	if (!err)
		err = get_part(r, leg_fields, N_FIELDS(leg_fields), &c->b);
	if (err)
		return err;
	if (!take(r, 4, &at))
		return -EBADMSG;
	n = (uint32_t)get_le(at, 4);
	if (n > max)
		return -E2BIG;
	for (uint32_t i = 0; i < n; i++) {
		memset(&buf[i], 0, sizeof(buf[i]));
		err = get_part(r, leg_fields, N_FIELDS(leg_fields), &buf[i]);
		if (err)
			return err;
	}
	c->n_streams = n;
	c->streams = n ? buf : NULL;
	return 0;
}

int vs_cdr__from_bin(const uint8_t *p, size_t n, struct vs_cdr *c,
		     struct vs_cdr_leg *streams_buf, uint32_t max_streams)
{
	struct rd r = { p, p + n };
	int err;

	memset(c, 0, sizeof(*c));
	err = get_all(&r, c, streams_buf, max_streams);
	if (err)
		memset(c, 0, sizeof(*c));
	return err;
}

int vs_cdr__from_body(const uint8_t *p, size_t n, struct vs_cdr *c,
		      struct vs_cdr_leg *streams_buf, uint32_t max_streams)
{
	if (n && p[0] == VS_CDR_BIN_MAGIC)
		return vs_cdr__from_bin(p, n, c, streams_buf, max_streams);
	return vs_cdr__from_json((const char *)p, n, c, streams_buf,
				 max_streams);
}
