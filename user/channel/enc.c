// SPDX-License-Identifier: GPL-2.0-or-later
/* Frame encoder: header plus payload, compressed with the connection's codec
 * straight into the output buffer (no staging copy). */
#include <errno.h>
#include <lzo/lzo1x.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "channel/be.h"
#include "channel/wire.h"

/* Fast levels: a mirroring sender compresses every packet, and SIP repeats
 * itself so much that higher levels buy little (docs/channel.md, figures). */
#define ENC_ZSTD_LEVEL 1
#define ENC_ZSTD_WLOG 20 /* 1 MiB window: what the receiver must hold */
#define ENC_ZLIB_LEVEL 1

int vs_buf__reserve(struct vs_buf *b, size_t extra, size_t limit)
{
	size_t want = b->len + extra, cap;
	uint8_t *p;

	if (want < b->len || (limit && want > limit))
		return -ENOBUFS;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap = cap * 2 > cap ? cap * 2 : want;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int vs_buf__put(struct vs_buf *b, const void *p, size_t n, size_t limit)
{
	int err = vs_buf__reserve(b, n, limit);

	if (err)
		return err;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

void vs_buf__free(struct vs_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static void put_hdr(uint8_t *h, uint8_t type, uint8_t flags, uint32_t wire,
		    uint32_t raw)
{
	h[0] = VS_CHAN_WIRE_VERSION;
	h[1] = type;
	h[2] = flags;
	h[3] = 0;
	vs_be32_put(h + 4, wire);
	vs_be32_put(h + 8, raw);
}

static void enc_count(struct vs_chan_enc *e, size_t raw, size_t wire)
{
	e->st.frames++;
	e->st.bytes_raw += raw;
	e->st.bytes_wire += VS_CHAN_HDR_LEN + wire;
}

/* A stream compressor that has taken input must emit its output, or the
 * peer's decompressor loses sync: so the queue limit is checked against the
 * worst case before the codec runs, and later growth ignores it. */
static bool over_limit(const struct vs_buf *out, size_t bound, size_t limit)
{
	return limit && (out->len + VS_CHAN_HDR_LEN + bound > limit ||
			 out->len + VS_CHAN_HDR_LEN + bound < out->len);
}

int vs_chan__frame_raw(struct vs_buf *out, uint8_t type, const void *p,
		       size_t n, size_t limit)
{
	int err;

	if (n > VS_CHAN_MAX_FRAME_LIMIT)
		return -EMSGSIZE;
	err = vs_buf__reserve(out, VS_CHAN_HDR_LEN + n, limit);
	if (err)
		return err;
	put_hdr(out->p + out->len, type, VS_CHAN_COMP_NONE, n, n);
	if (n)
		memcpy(out->p + out->len + VS_CHAN_HDR_LEN, p, n);
	out->len += VS_CHAN_HDR_LEN + n;
	return 0;
}

int vs_chan_enc__init(struct vs_chan_enc *e, enum vs_chan_compress comp)
{
	z_stream *zs;

	memset(e, 0, sizeof(*e));
	e->comp = comp;
	switch (comp) {
	case VS_CHAN_COMP_NONE:
		return 0;
	case VS_CHAN_COMP_ZSTD:
		e->zc = ZSTD_createCCtx();
		if (!e->zc)
			return -ENOMEM;
		ZSTD_CCtx_setParameter(e->zc, ZSTD_c_compressionLevel,
				       ENC_ZSTD_LEVEL);
		ZSTD_CCtx_setParameter(e->zc, ZSTD_c_windowLog, ENC_ZSTD_WLOG);
		return 0;
	case VS_CHAN_COMP_GZIP:
		zs = calloc(1, sizeof(*zs));
		if (!zs)
			return -ENOMEM;
		/* Raw deflate: the stream never ends, so zlib's header and
		 * trailer would only cost bytes. */
		if (deflateInit2(zs, ENC_ZLIB_LEVEL, Z_DEFLATED, -15, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK) {
			free(zs);
			return -ENOMEM;
		}
		e->zs = zs;
		return 0;
	case VS_CHAN_COMP_LZO:
		if (lzo_init() != LZO_E_OK)
			return -EIO;
		e->lzo_work = malloc(LZO1X_1_MEM_COMPRESS);
		return e->lzo_work ? 0 : -ENOMEM;
	}
	return -EINVAL;
}

void vs_chan_enc__fini(struct vs_chan_enc *e)
{
	ZSTD_freeCCtx(e->zc);
	if (e->zs) {
		deflateEnd(e->zs);
		free(e->zs);
	}
	free(e->lzo_work);
	memset(e, 0, sizeof(*e));
}

/* Compresses into out after the (not yet written) header; *wire gets the
 * compressed size. */
static int enc_zstd(struct vs_chan_enc *e, struct vs_buf *out, const void *p,
		    size_t n, size_t limit, size_t *wire)
{
	ZSTD_inBuffer in = { p, n, 0 };
	size_t base = out->len + VS_CHAN_HDR_LEN, done = 0, r;
	size_t need = ZSTD_compressBound(n) + 32;
	int err;

	if (over_limit(out, need, limit))
		return -ENOBUFS;
	for (;;) {
		err = vs_buf__reserve(out, VS_CHAN_HDR_LEN + done + need, 0);
		if (err)
			return err;
		ZSTD_outBuffer o = { out->p + base + done,
				     out->cap - base - done, 0 };
		r = ZSTD_compressStream2(e->zc, &o, &in, ZSTD_e_flush);
		if (ZSTD_isError(r))
			return -EIO;
		done += o.pos;
		if (r == 0)
			break;
		need = r + 64;
	}
	*wire = done;
	return 0;
}

static int enc_zlib(struct vs_chan_enc *e, struct vs_buf *out, const void *p,
		    size_t n, size_t limit, size_t *wire)
{
	z_stream *zs = e->zs;
	size_t base = out->len + VS_CHAN_HDR_LEN, done = 0;
	size_t need = deflateBound(zs, n) + 16;
	int err, zr;

	if (over_limit(out, need, limit))
		return -ENOBUFS;
	zs->next_in = (Bytef *)p;
	zs->avail_in = n;
	for (;;) {
		err = vs_buf__reserve(out, VS_CHAN_HDR_LEN + done + need, 0);
		if (err)
			return err;
		zs->next_out = out->p + base + done;
		zs->avail_out = out->cap - base - done;
		zr = deflate(zs, Z_SYNC_FLUSH);
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			return -EIO;
		done = zs->next_out - (out->p + base);
		/* Space left over means the flush completed. */
		if (zs->avail_out && !zs->avail_in)
			break;
		need = 4096;
	}
	*wire = done;
	return 0;
}

/* LZO is stateless per frame, so a frame it cannot shrink goes out raw. */
static int enc_lzo(struct vs_chan_enc *e, struct vs_buf *out, const void *p,
		   size_t n, size_t limit, size_t *wire, uint8_t *flags)
{
	size_t base = out->len + VS_CHAN_HDR_LEN;
	lzo_uint olen;
	int err;

	err = vs_buf__reserve(out, VS_CHAN_HDR_LEN + n + n / 16 + 64 + 3,
			      limit);
	if (err)
		return err;
	if (lzo1x_1_compress(p, n, out->p + base, &olen, e->lzo_work) !=
	    LZO_E_OK)
		return -EIO;
	if (olen >= n) {
		memcpy(out->p + base, p, n);
		olen = n;
		*flags = VS_CHAN_COMP_NONE;
	}
	*wire = olen;
	return 0;
}

int vs_chan_enc__frame(struct vs_chan_enc *e, struct vs_buf *out, uint8_t type,
		       const void *p, size_t n, size_t limit)
{
	uint8_t flags = e->comp;
	size_t wire = 0;
	int err;

	if (n > VS_CHAN_MAX_FRAME_LIMIT)
		return -EMSGSIZE;
	switch (e->comp) {
	case VS_CHAN_COMP_ZSTD:
		err = enc_zstd(e, out, p, n, limit, &wire);
		break;
	case VS_CHAN_COMP_GZIP:
		err = enc_zlib(e, out, p, n, limit, &wire);
		break;
	case VS_CHAN_COMP_LZO:
		err = enc_lzo(e, out, p, n, limit, &wire, &flags);
		break;
	default:
		err = vs_chan__frame_raw(out, type, p, n, limit);
		if (!err)
			enc_count(e, n, n);
		return err;
	}
	if (err)
		return err;
	if (wire > UINT32_MAX)
		return -EMSGSIZE;
	put_hdr(out->p + out->len, type, flags, wire, n);
	out->len += VS_CHAN_HDR_LEN + wire;
	enc_count(e, n, wire);
	return 0;
}
