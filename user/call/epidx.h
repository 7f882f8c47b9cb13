/* SPDX-License-Identifier: GPL-2.0-or-later */
/* call/epidx: the media endpoint index, private to call/. Open addressing
 * with linear probing; the key (address and port) and everything an RTP
 * packet to or from the endpoint needs (its call, the side that announced
 * it, the last stream matched) sit in the slot itself, one cache line, so a
 * lookup touches that line and no other. Live, the reader drains the ring
 * every few ms and finds every call's memory cold again: each further line
 * per packet costs a cache miss (~100 ns on a VM), which is what a chained
 * hash with its entries inside struct vs_call used to cost. */
#ifndef VS_CALL_EPIDX_H
#define VS_CALL_EPIDX_H

#include <stdint.h>
#include <string.h>

#include "core/addr.h"
#include "core/hash.h"

struct vs_media_ent;
struct vs_call;
struct vs_call_stream;

struct vs_epidx_slot {
	struct vs_endpoint ep;		/* the key */
	uint8_t used;
	/* copies of ent's, so that a packet never reads ent */
	uint8_t side, is_rtcp, is_video;
	uint32_t hash;			/* of ep, for probing and moving */
	struct vs_media_ent *ent;	/* newest registration (visible) */
	struct vs_call *call;		/* ent->call */
	struct vs_call_stream *last;	/* last stream matched (a cache of
					 * the call's streams; NULL = none) */
} __attribute__((aligned(64)));

struct vs_epidx {
	struct vs_epidx_slot *slot;
	uint32_t mask;			/* slots - 1 (a power of two) */
	uint32_t n;			/* used slots */
};

/* slots: a power of two. 0, or -ENOMEM. */
int vs_epidx__init(struct vs_epidx *x, uint32_t slots);
void vs_epidx__free(struct vs_epidx *x);

/* Bytes held by the slots. */
static inline size_t vs_epidx__mem(const struct vs_epidx *x)
{
	return ((size_t)x->mask + 1) * sizeof(struct vs_epidx_slot);
}

/* The kernel writes the same hash in a ring record's hint. */
static inline uint32_t vs_epidx__hash(const struct vs_endpoint *ep)
{
	return vs_ep_hash(ep->addr.b, ep->port);
}

/* The slot of ep, or NULL. hash = vs_epidx__hash(ep). */
static inline struct vs_epidx_slot *
vs_epidx__find(const struct vs_epidx *x, const struct vs_endpoint *ep,
	       uint32_t hash)
{
	struct vs_epidx_slot *s;

	for (uint32_t i = hash;; i++) {
		s = &x->slot[i & x->mask];
		if (!s->used)
			return NULL;
		if (s->hash == hash && vs_endpoint_eq(&s->ep, ep))
			return s;
	}
}

/* Starts loading the line a later vs_epidx__find(hash) reads first. */
static inline void vs_epidx__prefetch(const struct vs_epidx *x, uint32_t hash)
{
	__builtin_prefetch(&x->slot[hash & x->mask]);
}

/* The slot of ep; *added = 1 when it is new (then all but the key is zero).
 * Grows the table past half full, so earlier slot pointers are stale after
 * a call. NULL when the table is full and could not grow. */
struct vs_epidx_slot *vs_epidx__add(struct vs_epidx *x,
				    const struct vs_endpoint *ep, int *added);

/* Empties s; other slots may move (earlier slot pointers are stale). */
void vs_epidx__del(struct vs_epidx *x, struct vs_epidx_slot *s);

#endif
