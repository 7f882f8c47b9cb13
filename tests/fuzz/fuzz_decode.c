// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target for the decode stage.
 *
 * Input: byte 0 picks the link type (low nibble), tiny limits (bit 6) and
 * the mode (bit 7).
 * Mode 0: the rest is one frame. Mode 1: the rest is a sequence of frames,
 * each [length, 2 bytes BE][time step, 1 byte, x 250 ms][bytes], so that
 * fragment and TCP state, limits and timeouts all get exercised. Limits are
 * small, or tiny, so that eviction and gap give-up happen often. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "decode/decode.h"

static const uint16_t linktypes[16] = { 1, 113, 276, 12, 101, 228, 229, 0,
					108, 14, 1, 1, 113, 1, 9999, 1 };

/* Messages end at a blank line plus a "Content-Length:" body; -1 for a
 * line that does not start with a capital. */
static ssize_t framer(const uint8_t *b, size_t len)
{
	const uint8_t *end, *cl;
	size_t h, body = 0;

	if (len == 0)
		return 0;
	if (b[0] < 'A' || b[0] > 'Z')
		return -1;
	end = memmem(b, len, "\r\n\r\n", 4);
	if (!end)
		return 0;
	h = (size_t)(end - b) + 4;
	cl = memmem(b, h, "Content-Length:", 15);
	if (cl)
		for (cl += 15; cl < end && *cl >= '0' && *cl <= '9'; cl++)
			body = body * 10 + (size_t)(*cl - '0') % 100000;
	if (body > 100000)
		return -1;
	return h + body <= len ? (ssize_t)(h + body) : 0;
}

/* Reads every byte it is given, so ASan sees any stale pointer. */
static void sink(void *ctx, const struct vs_datagram *d)
{
	volatile uint8_t *acc = ctx;
	uint8_t x = 0;

	for (uint32_t i = 0; i < d->len; i++)
		x ^= d->payload[i];
	for (uint32_t f = 0; f < d->nframes; f++)
		for (uint32_t i = 0; i < d->frames[f]->caplen; i++)
			x ^= d->frames[f]->data[i];
	*acc ^= x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ports[65536 / 8];
	static volatile uint8_t acc;
	struct vs_decode_stats st = { 0 };
	struct vs_decoder_opts o = {
		.sip_tcp_ports = ports,
		.framer = framer,
		.out = sink,
		.out_ctx = (void *)&acc,
		.stats = &st,
		.limits = {
			.frag_max_datagrams = 4,
			.frag_max_bytes = 4096,
			.frag_timeout_ms = 2000,
			.tcp_max_streams = 4,
			.tcp_max_stream_bytes = 2048,
			.tcp_max_total_bytes = 4096,
			.tcp_timeout_ms = 10000,
		},
	};
	struct vs_frame f = { 0 };
	struct vs_decoder *d;

	if (size < 1)
		return 0;
	ports[5060 >> 3] |= 1 << (5060 & 7);
	ports[5061 >> 3] |= 1 << (5061 & 7);
	if (data[0] & 0x40)
		o.limits = (struct vs_decode_limits){ 2, 300, 2000, 2, 128, 256,
						      10000 };
	d = vs_decoder__new(&o);
	if (!d)
		return 0;
	f.linktype = linktypes[data[0] & 15];
	f.ts_us = 1000000;
	if (!(data[0] & 0x80)) {
		f.data = data + 1;
		f.caplen = f.origlen = (uint32_t)(size - 1);
		vs_decoder__frame(d, &f);
	} else {
		size_t i = 1;

		while (i + 3 <= size) {
			size_t len = (size_t)data[i] << 8 | data[i + 1];

			f.ts_us += (uint64_t)data[i + 2] * 250000;
			i += 3;
			if (len > size - i)
				len = size - i;
			f.data = data + i;
			f.caplen = f.origlen = (uint32_t)len;
			vs_decoder__frame(d, &f);
			i += len;
		}
	}
	vs_decoder__expire(d, UINT64_MAX);
	if (vs_decoder__mem(d) != 0)
		__builtin_trap(); /* everything held must be gone after flush */
	vs_decoder__free(d);
	return 0;
}
