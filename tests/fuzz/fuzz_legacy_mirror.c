// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target for the legacy mirror receiver's stream decoder
 * (role/legacy_mirror_wire.c). Byte 0 picks the chunk size the bytes
 * arrive in; byte 1 the mode: even, the rest is the raw stream (hello,
 * records, or corrupt zstd); odd, the rest is records that the target
 * wraps in a valid hello and a valid zstd stream, so the record parser
 * behind the decompressor is reached too. Every frame must respect the
 * bounds, and a failed decoder must say why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "role/legacy_mirror.h"

static int on_frame(void *ctx, const struct vs_frame *f)
{
	volatile uint8_t sink = 0;

	(void)ctx;
	if (f->caplen > VS_LM_MAX_CAPLEN || f->caplen > f->origlen)
		abort();
	if (f->linktype == VS_LM_LINKTYPE_NONE)
		abort(); /* replaced by the default */
	if (f->caplen) /* the bytes must be readable */
		sink = f->data[0] ^ f->data[f->caplen - 1];
	(void)sink;
	return 0;
}

static void feed(const uint8_t *p, size_t n, size_t chunk)
{
	struct vs_lm_dec *d = vs_lm_dec__new(1);
	int r = 0;

	if (!d)
		return;
	for (size_t off = 0; off < n && !r; off += chunk) {
		size_t k = n - off < chunk ? n - off : chunk;

		r = vs_lm_dec__feed(d, p + off, k, on_frame, NULL);
	}
	if (r && !vs_lm_dec__error(d)[0])
		abort();
	vs_lm_dec__free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t chunk, bound, zn;
	uint8_t *buf;

	if (size < 2)
		return 0;
	chunk = (size_t)data[0] * 7 + 1;
	if (!(data[1] & 1)) {
		feed(data + 2, size - 2, chunk);
		return 0;
	}
	bound = ZSTD_compressBound(size - 2);
	buf = malloc(VS_LM_HELLO_LEN + bound);
	if (!buf)
		return 0;
	vs_lm__put_hello(buf, 42, VS_LM_COMP_ZSTD);
	zn = ZSTD_compress(buf + VS_LM_HELLO_LEN, bound, data + 2, size - 2, 1);
	if (!ZSTD_isError(zn))
		feed(buf, VS_LM_HELLO_LEN + zn, chunk);
	free(buf);
	return 0;
}
