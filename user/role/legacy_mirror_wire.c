// SPDX-License-Identifier: GPL-2.0-or-later
/* role/legacy_mirror_wire: the legacy mirror stream (format in
 * legacy_mirror.h). The decoder is a pure function over the bytes of one
 * connection: no sockets, no clock, bounded memory, so it can be fuzzed. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "channel/be.h"
#include "role/legacy_mirror.h"

#define ZOUT_LEN (64u << 10)

struct vs_lm_dec {
	uint8_t hello_raw[VS_LM_HELLO_LEN];
	size_t hello_have;
	struct vs_lm_hello hello;
	int have_hello;
	ZSTD_DStream *zd;		/* compress == zstd */
	uint8_t *zout;			/* ZOUT_LEN, decompressed bytes */
	uint8_t rec[VS_LM_REC_LEN];	/* header of the record being read */
	size_t rec_have;
	struct vs_frame f;		/* its header, parsed */
	uint8_t *data;			/* its bytes when split over feeds */
	size_t data_cap, data_have;
	uint16_t linktype;		/* for VS_LM_LINKTYPE_NONE */
	int failed;
	char err[160];
};

void vs_lm__put_hello(uint8_t out[VS_LM_HELLO_LEN], uint16_t id_sensor,
		      enum vs_lm_compress comp)
{
	memcpy(out, VS_LM_MAGIC, 4);
	out[4] = VS_LM_VERSION;
	out[5] = (uint8_t)comp;
	vs_be16_put(out + 6, id_sensor);
	vs_be32_put(out + 8, 0);
}

void vs_lm__put_rec(uint8_t out[VS_LM_REC_LEN], const struct vs_frame *f)
{
	vs_be64_put(out, f->ts_us);
	vs_be32_put(out + 8, f->caplen);
	vs_be32_put(out + 12, f->origlen);
	vs_be16_put(out + 16, f->linktype);
	vs_be16_put(out + 18, 0);
}

struct vs_lm_dec *vs_lm_dec__new(uint16_t linktype)
{
	struct vs_lm_dec *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->linktype = linktype;
	return d;
}

void vs_lm_dec__free(struct vs_lm_dec *d)
{
	if (!d)
		return;
	ZSTD_freeDStream(d->zd);
	free(d->zout);
	free(d->data);
	free(d);
}

const struct vs_lm_hello *vs_lm_dec__hello(const struct vs_lm_dec *d)
{
	return d->have_hello ? &d->hello : NULL;
}

const char *vs_lm_dec__error(const struct vs_lm_dec *d)
{
	return d->err;
}

int vs_lm_dec__at_boundary(const struct vs_lm_dec *d)
{
	return d->have_hello && !d->failed && d->rec_have == 0;
}

static int dec_fail(struct vs_lm_dec *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int dec_fail(struct vs_lm_dec *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
	d->failed = 1;
	return -EPROTO;
}

static int hello_check(struct vs_lm_dec *d)
{
	const uint8_t *h = d->hello_raw;

	if (memcmp(h, VS_LM_MAGIC, 4))
		return dec_fail(d, "not a voxsense legacy mirror stream (first "
				   "bytes %02x %02x %02x %02x; an old "
				   "VoIPmonitor sender cannot send to "
				   "voxsense)",
				h[0], h[1], h[2], h[3]);
	if (h[4] != VS_LM_VERSION)
		return dec_fail(d, "stream version %u not supported (this "
				   "receiver speaks %u)", h[4], VS_LM_VERSION);
	if (h[5] > VS_LM_COMP_ZSTD)
		return dec_fail(d, "unknown compression %u", h[5]);
	if (vs_be32(h + 8))
		return dec_fail(d, "reserved hello bytes not zero");
	d->hello = (struct vs_lm_hello){ .version = h[4], .compress = h[5],
					 .id_sensor = vs_be16(h + 6) };
	if (d->hello.compress == VS_LM_COMP_ZSTD) {
		d->zd = ZSTD_createDStream();
		d->zout = malloc(ZOUT_LEN);
		if (!d->zd || !d->zout)
			return dec_fail(d, "out of memory");
		ZSTD_DCtx_setParameter(d->zd, ZSTD_d_windowLogMax,
				       VS_LM_WINDOW_LOG_MAX);
	}
	d->have_hello = 1;
	return 0;
}

/* The record header is complete: check it. */
static int rec_check(struct vs_lm_dec *d)
{
	const uint8_t *r = d->rec;

	d->f = (struct vs_frame){ .ts_us = vs_be64(r),
				  .caplen = vs_be32(r + 8),
				  .origlen = vs_be32(r + 12),
				  .linktype = vs_be16(r + 16) };
	if (d->f.caplen > VS_LM_MAX_CAPLEN)
		return dec_fail(d, "record of %u bytes (at most %u)",
				d->f.caplen, VS_LM_MAX_CAPLEN);
	if (d->f.caplen > d->f.origlen)
		return dec_fail(d, "record caplen %u above origlen %u",
				d->f.caplen, d->f.origlen);
	if (vs_be16(r + 18))
		return dec_fail(d, "reserved record bytes not zero");
	if (d->f.linktype == VS_LM_LINKTYPE_NONE)
		d->f.linktype = d->linktype;
	d->data_have = 0;
	return 0;
}

static int rec_emit(struct vs_lm_dec *d, const uint8_t *data, vs_frame_fn fn,
		    void *ctx)
{
	d->f.data = data;
	d->rec_have = 0;
	d->data_have = 0;
	return fn(ctx, &d->f);
}

/* Records out of plain (decompressed) bytes. A record that lies whole in
 * buf is handed on in place; one split over feeds is copied. */
static int dec_plain(struct vs_lm_dec *d, const uint8_t *p, size_t n,
		     vs_frame_fn fn, void *ctx)
{
	size_t k;
	int r;

	while (n) {
		if (d->rec_have < VS_LM_REC_LEN) {
			k = VS_LM_REC_LEN - d->rec_have;
			k = k < n ? k : n;
			memcpy(d->rec + d->rec_have, p, k);
			d->rec_have += k;
			p += k;
			n -= k;
			if (d->rec_have < VS_LM_REC_LEN)
				return 0;
			r = rec_check(d);
			if (r)
				return r;
		}
		if (!d->data_have && n >= d->f.caplen) {
			r = rec_emit(d, p, fn, ctx);
			p += d->f.caplen;
			n -= d->f.caplen;
			if (r)
				return r;
			continue;
		}
		if (d->data_cap < d->f.caplen) {
			uint8_t *nb = realloc(d->data, d->f.caplen);

			if (!nb)
				return dec_fail(d, "out of memory");
			d->data = nb;
			d->data_cap = d->f.caplen;
		}
		k = d->f.caplen - d->data_have;
		k = k < n ? k : n;
		memcpy(d->data + d->data_have, p, k);
		d->data_have += k;
		p += k;
		n -= k;
		if (d->data_have == d->f.caplen) {
			r = rec_emit(d, d->data, fn, ctx);
			if (r)
				return r;
		}
	}
	return 0;
}

static int dec_zstd(struct vs_lm_dec *d, const uint8_t *p, size_t n,
		    vs_frame_fn fn, void *ctx)
{
	ZSTD_inBuffer in = { p, n, 0 };
	size_t zr;
	int r;

	for (;;) {
		ZSTD_outBuffer out = { d->zout, ZOUT_LEN, 0 };

		zr = ZSTD_decompressStream(d->zd, &out, &in);
		if (ZSTD_isError(zr))
			return dec_fail(d, "zstd: %s", ZSTD_getErrorName(zr));
		r = dec_plain(d, d->zout, out.pos, fn, ctx);
		if (r)
			return r;
		/* done when the input is used up and the output not full */
		if (in.pos == in.size && out.pos < out.size)
			return 0;
	}
}

int vs_lm_dec__feed(struct vs_lm_dec *d, const uint8_t *buf, size_t len,
		    vs_frame_fn fn, void *ctx)
{
	size_t k;
	int r;

	if (d->failed)
		return -EPROTO;
	if (!d->have_hello) {
		k = VS_LM_HELLO_LEN - d->hello_have;
		k = k < len ? k : len;
		memcpy(d->hello_raw + d->hello_have, buf, k);
		d->hello_have += k;
		buf += k;
		len -= k;
		if (d->hello_have < VS_LM_HELLO_LEN)
			return 0;
		r = hello_check(d);
		if (r)
			return r;
	}
	if (!len)
		return 0;
	if (d->hello.compress == VS_LM_COMP_ZSTD)
		return dec_zstd(d, buf, len, fn, ctx);
	return dec_plain(d, buf, len, fn, ctx);
}
