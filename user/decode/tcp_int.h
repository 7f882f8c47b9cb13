/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One direction of a TCP connection on a SIP port: sequence tracking and the
 * out-of-order queue (tcp.c), the in-order byte buffer and framing
 * (stream.c). */
#ifndef VS_TCP_INT_H
#define VS_TCP_INT_H

#include "decode/decode_int.h"

/* A frame copy and the stream bytes it gave, in absolute stream offsets
 * (bytes since the stream was first seen), so that consuming bytes never
 * rewrites the list. */
struct tcp_ref {
	struct vs_held *h;
	uint64_t start, end;
};

/* A segment that arrived ahead of a gap: payload and frame copies. */
struct tcp_seg {
	struct tcp_seg *next;
	uint32_t seq, len;
	uint32_t nframes;
	uint32_t size; /* allocation, for vs_decoder__mem */
	uint8_t *data;
	const struct vs_frame **frames; /* &held[i]->f */
	struct vs_held *held[];
};

struct tcp_stream {
	struct vs_dnode n; /* first: the table hands us vs_dnode pointers */
	struct tcp_stream *gap_prev, *gap_next;
	bool in_gap;
	uint64_t gap_since;

	struct vs_endpoint src, dst;
	uint32_t next_seq; /* next byte we want */
	uint32_t isn;
	bool syn;
	bool fin;
	uint32_t fin_seq;
	bool resync; /* dropping bytes up to the next line start */

	/* Unconsumed in-order bytes buf[head, head + len); off is the
	 * absolute offset of buf[head]. */
	uint8_t *buf;
	uint32_t head, len, cap;
	uint64_t off;
	struct tcp_ref *refs;
	uint32_t rhead, rn, rcap;

	struct tcp_seg *ooo; /* sorted by seq */
	uint32_t ooo_bytes;
};

/* In-order bytes at s->next_seq's old value. frames carry them; held, when
 * not NULL, are copies of those frames whose ownership passes to the stream
 * (kept or released). Frames what it can and emits the messages. */
void vs_tcp_stream__append(struct vs_decoder *d, struct tcp_stream *s,
			   const uint8_t *p, uint32_t n,
			   const struct vs_frame *const *frames,
			   uint32_t nframes, struct vs_held **held);

/* Discards buffered bytes (a partial message). */
void vs_tcp_stream__drop(struct vs_decoder *d, struct tcp_stream *s);

#endif
