// SPDX-License-Identifier: GPL-2.0-or-later
/* The decoder object: construction, the per-frame entry point, expiry and
 * statistics. The protocol work is in link.c, ip.c, frag.c, tcp.c, stream.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode/decode_int.h"

void vs_decode_limits__default(struct vs_decode_limits *l)
{
	l->frag_max_datagrams = 4096;
	l->frag_max_bytes = 16u << 20;
	l->frag_timeout_ms = 30000;
	l->tcp_max_streams = 65536;
	l->tcp_max_stream_bytes = 256u << 10;
	l->tcp_max_total_bytes = 64u << 20;
	l->tcp_timeout_ms = 300000;
}

/* Hash seed from the clock and an address, so that table layout is not
 * predictable from outside (keys come from the network). */
static uint64_t table_seed(const void *p)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
	       (uint64_t)(uintptr_t)p;
}

struct vs_decoder *vs_decoder__new(const struct vs_decoder_opts *o)
{
	struct vs_decoder *d;
	int err = -EINVAL;

	if (!o || !o->out || (o->sip_tcp_ports && !o->framer))
		goto fail;
	err = -ENOMEM;
	d = calloc(1, sizeof(*d));
	if (!d)
		goto fail;
	d->lim = o->limits;
	d->seed = table_seed(d);
	d->framer = o->framer;
	d->out = o->out;
	d->out_ctx = o->out_ctx;
	d->st = o->stats ? o->stats : &d->own_stats;
	if (o->sip_tcp_ports) {
		d->tcp_on = true;
		memcpy(d->tcp_ports, o->sip_tcp_ports, sizeof(d->tcp_ports));
	}
	d->reasm = malloc(VS_REASM_MAX);
	if (!d->reasm || !vs_decoder__fptrs(d, 64))
		goto fail_free;
	err = vs_frag__init(d);
	if (err)
		goto fail_free;
	err = vs_tcp__init(d);
	if (err)
		goto fail_frag;
	return d;

fail_frag:
	vs_frag__fini(d);
fail_free:
	free(d->fptrs);
	free(d->reasm);
	free(d);
fail:
	errno = -err;
	return NULL;
}

void vs_decoder__free(struct vs_decoder *d)
{
	if (!d)
		return;
	vs_tcp__fini(d);
	vs_frag__fini(d);
	vs_held_pool__fini(&d->pool);
	free(d->fptrs);
	free(d->reasm);
	free(d);
}

bool vs_decoder__fptrs(struct vs_decoder *d, uint32_t n)
{
	const struct vs_frame **p;
	uint32_t cap = d->fptrs_cap ? d->fptrs_cap : 16;

	if (n <= d->fptrs_cap)
		return true;
	while (cap < n)
		cap *= 2;
	p = realloc(d->fptrs, cap * sizeof(*p));
	if (!p)
		return false;
	d->fptrs = p;
	d->fptrs_cap = cap;
	return true;
}

void vs_decoder__frame(struct vs_decoder *d, const struct vs_frame *f)
{
	/* The frame list of a datagram that one frame carried: on the stack,
	 * so the plain UDP path neither allocates nor copies. */
	const struct vs_frame *one = f;
	struct vs_carrier c = {
		.frames = &one,
		.nframes = 1,
		.ts_us = f->ts_us,
	};

	d->st->frames++;
	vs_decoder__expire(d, f->ts_us);
	vs_link__input(d, f, &c);
}

void vs_decoder__expire(struct vs_decoder *d, uint64_t now_us)
{
	vs_frag__expire(d, now_us);
	vs_tcp__expire(d, now_us);
}

size_t vs_decoder__mem(const struct vs_decoder *d)
{
	return (size_t)(d->pool.bytes + d->tcp_buf_mem);
}

void vs_decode_stats__print(const struct vs_decode_stats *s, FILE *out)
{
#define VS_X(n) fprintf(out, "decode.%s %" PRIu64 "\n", #n, s->n);
	VS_DECODE_STATS(VS_X)
#undef VS_X
}
