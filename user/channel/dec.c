// SPDX-License-Identifier: GPL-2.0-or-later
/* Incremental frame decoder: any chunking of the byte stream, bounded memory
 * (two buffers of at most max_frame), zero copies when an uncompressed frame
 * lies whole inside the chunk it arrived in. */
#include <errno.h>
#include <lzo/lzo1x.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "channel/be.h"
#include "channel/wire.h"

/* The receiver holds at most a 4 MiB zstd window per connection, whatever a
 * hostile peer's frame header asks for. */
#define DEC_ZSTD_WLOG_MAX 22

static const uint8_t empty_payload[1];

void vs_chan_dec__init(struct vs_chan_dec *d, uint32_t max_frame)
{
	memset(d, 0, sizeof(*d));
	if (!max_frame)
		max_frame = VS_CHAN_MAX_FRAME_DEFAULT;
	d->max_frame = max_frame < VS_CHAN_MAX_FRAME_LIMIT ?
			       max_frame : VS_CHAN_MAX_FRAME_LIMIT;
	d->allow = 1u << VS_CHAN_COMP_NONE;
}

void vs_chan_dec__fini(struct vs_chan_dec *d)
{
	vs_buf__free(&d->in);
	vs_buf__free(&d->out);
	ZSTD_freeDCtx(d->zd);
	if (d->zs) {
		inflateEnd(d->zs);
		free(d->zs);
	}
	memset(d, 0, sizeof(*d));
}

void vs_chan_dec__allow(struct vs_chan_dec *d, enum vs_chan_compress c)
{
	d->allow |= 1u << (c & VS_CHAN_F_COMP);
}

static int dec_fail(struct vs_chan_dec *d, int err, const char *why,
		    uint64_t *counter)
{
	d->err = err;
	d->why = why;
	if (counter)
		(*counter)++;
	return err;
}

/* Compressed data may be a little larger than raw data it failed to shrink. */
static uint32_t wire_max(const struct vs_chan_dec *d)
{
	return d->max_frame + d->max_frame / 64 + 1024;
}

static int dec_header(struct vs_chan_dec *d)
{
	const uint8_t *h = d->hdr;
	unsigned comp;

	if (h[0] != VS_CHAN_WIRE_VERSION || h[3] || (h[2] & ~VS_CHAN_F_COMP))
		return dec_fail(d, -EPROTO, "bad frame header",
				&d->st.err_header);
	d->type = h[1];
	d->flags = h[2];
	d->wire_len = vs_be32(h + 4);
	d->raw_len = vs_be32(h + 8);
	if (!d->type || d->type > VS_CHAN_TYPE_MAX)
		return dec_fail(d, -ENOMSG, "unknown frame type",
				&d->st.err_type);
	if (d->raw_len > d->max_frame || d->wire_len > wire_max(d))
		return dec_fail(d, -EMSGSIZE, "frame above the maximum size",
				&d->st.err_oversize);
	comp = d->flags & VS_CHAN_F_COMP;
	if (!(d->allow & (1u << comp)))
		return dec_fail(d, -EBADMSG, "compression not negotiated",
				&d->st.err_comp);
	if (comp == VS_CHAN_COMP_NONE && d->wire_len != d->raw_len)
		return dec_fail(d, -EPROTO, "bad frame header",
				&d->st.err_header);
	return 0;
}

static int corrupt(struct vs_chan_dec *d, const char *why)
{
	return dec_fail(d, -EBADMSG, why, &d->st.err_corrupt);
}

static int dec_zstd(struct vs_chan_dec *d, const uint8_t *p, size_t n)
{
	ZSTD_inBuffer in = { p, n, 0 };
	ZSTD_outBuffer o = { d->out.p, d->raw_len, 0 };
	uint8_t spill;
	size_t r, before;

	if (!d->zd) {
		d->zd = ZSTD_createDCtx();
		if (!d->zd)
			return dec_fail(d, -ENOMEM, "out of memory", NULL);
		ZSTD_DCtx_setParameter(d->zd, ZSTD_d_windowLogMax,
				       DEC_ZSTD_WLOG_MAX);
	}
	while (in.pos < in.size) {
		before = in.pos;
		if (o.pos < o.size) {
			r = ZSTD_decompressStream(d->zd, &o, &in);
		} else {
			/* Output is full: the rest of the input must add
			 * nothing, or this is a bomb or a lie. */
			ZSTD_outBuffer x = { &spill, 1, 0 };

			r = ZSTD_decompressStream(d->zd, &x, &in);
			if (x.pos)
				return corrupt(d, "frame decompresses beyond its size");
		}
		if (ZSTD_isError(r))
			return corrupt(d, "corrupt zstd data");
		if (in.pos == before && o.pos == o.size)
			break;
	}
	if (in.pos != in.size || o.pos != d->raw_len)
		return corrupt(d, "zstd data does not match the frame size");
	/* zstd may have decoded more than fit and kept it: ask for it. */
	{
		ZSTD_outBuffer x = { &spill, 1, 0 };

		r = ZSTD_decompressStream(d->zd, &x, &in);
		if (ZSTD_isError(r) || x.pos)
			return corrupt(d, "frame decompresses beyond its size");
	}
	return 0;
}

static int dec_zlib(struct vs_chan_dec *d, const uint8_t *p, size_t n)
{
	z_stream *zs = d->zs;
	uint8_t spill;
	size_t got = 0;
	int zr;

	if (!zs) {
		zs = calloc(1, sizeof(*zs));
		if (!zs || inflateInit2(zs, -15) != Z_OK) {
			free(zs);
			return dec_fail(d, -ENOMEM, "out of memory", NULL);
		}
		d->zs = zs;
	}
	zs->next_in = (Bytef *)p;
	zs->avail_in = n;
	while (zs->avail_in) {
		uInt before = zs->avail_in;

		if (got < d->raw_len) {
			zs->next_out = d->out.p + got;
			zs->avail_out = d->raw_len - got;
			zr = inflate(zs, Z_SYNC_FLUSH);
			got = d->raw_len - zs->avail_out;
		} else {
			zs->next_out = &spill;
			zs->avail_out = 1;
			zr = inflate(zs, Z_SYNC_FLUSH);
			if (!zs->avail_out)
				return corrupt(d, "frame decompresses beyond its size");
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			return corrupt(d, "corrupt deflate data");
		if (zs->avail_in == before && got == d->raw_len)
			break;
		if (zs->avail_in == before && zr == Z_BUF_ERROR)
			break;
	}
	if (zs->avail_in || got != d->raw_len)
		return corrupt(d, "deflate data does not match the frame size");
	/* Z_SYNC_FLUSH ends every frame between blocks, byte aligned, never
	 * on the last block (data_type 128); anything else is a cut marker
	 * that would garble the next frame. */
	if (n && zs->data_type != 128)
		return corrupt(d, "deflate frame does not end with a flush");
	/* A match may still be pending inside zlib: ask for it. */
	zs->next_out = &spill;
	zs->avail_out = 1;
	zr = inflate(zs, Z_SYNC_FLUSH);
	if (!zs->avail_out || (zr != Z_OK && zr != Z_BUF_ERROR))
		return corrupt(d, "frame decompresses beyond its size");
	return 0;
}

static int dec_lzo(struct vs_chan_dec *d, const uint8_t *p, size_t n)
{
	lzo_uint olen = d->raw_len;

	if (lzo1x_decompress_safe(p, n, d->out.p, &olen, NULL) != LZO_E_OK ||
	    olen != d->raw_len)
		return corrupt(d, "corrupt lzo data");
	return 0;
}

static int dec_payload(struct vs_chan_dec *d, const uint8_t *p,
		       struct vs_chan_frame *f)
{
	unsigned comp = d->flags & VS_CHAN_F_COMP;
	int err = 0;

	f->type = d->type;
	f->flags = d->flags;
	f->len = d->raw_len;
	f->data = d->wire_len ? p : empty_payload;
	if (comp != VS_CHAN_COMP_NONE) {
		d->out.len = 0;
		if (vs_buf__reserve(&d->out, d->raw_len + 1, 0))
			return dec_fail(d, -ENOMEM, "out of memory", NULL);
		if (comp == VS_CHAN_COMP_ZSTD)
			err = dec_zstd(d, p, d->wire_len);
		else if (comp == VS_CHAN_COMP_GZIP)
			err = dec_zlib(d, p, d->wire_len);
		else
			err = dec_lzo(d, p, d->wire_len);
		if (err)
			return err;
		f->data = d->out.p;
	}
	d->st.frames++;
	d->st.bytes_wire += VS_CHAN_HDR_LEN + d->wire_len;
	d->st.bytes_raw += d->raw_len;
	return 0;
}

int vs_chan_dec__next(struct vs_chan_dec *d, const uint8_t **p, size_t *n,
		      struct vs_chan_frame *f)
{
	const uint8_t *payload;
	bool partial = false;
	size_t take;
	int err;

	if (d->err)
		return d->err;
	/* A frame always completes in a call that brought bytes. */
	if (!*n)
		return -EAGAIN;
	if (d->hdr_have < VS_CHAN_HDR_LEN) {
		take = VS_CHAN_HDR_LEN - d->hdr_have;
		take = take < *n ? take : *n;
		memcpy(d->hdr + d->hdr_have, *p, take);
		d->hdr_have += take;
		*p += take;
		*n -= take;
		if (d->hdr_have < VS_CHAN_HDR_LEN)
			return -EAGAIN;
		err = dec_header(d);
		if (err)
			return err;
		d->in.len = 0;
	}
	if (!d->in.len && *n >= d->wire_len) {
		payload = *p; /* whole in this chunk: no copy */
		take = d->wire_len;
	} else {
		take = d->wire_len - d->in.len;
		take = take < *n ? take : *n;
		if (vs_buf__put(&d->in, *p, take, 0))
			return dec_fail(d, -ENOMEM, "out of memory", NULL);
		payload = d->in.p;
		partial = d->in.len < d->wire_len;
	}
	*p += take;
	*n -= take;
	if (partial)
		return -EAGAIN;
	d->hdr_have = 0;
	return dec_payload(d, payload, f);
}
