// SPDX-License-Identifier: GPL-2.0-or-later
/* The SSRC index: every live stream by its SSRC. It is the fallback when a
 * stream's packets use endpoints no SDP announced (a NAT that rebinds, a
 * relay in the path): RTP whose SSRC belongs to a live call joins that call
 * as a new stream of the same direction. */
#include <stdlib.h>

#include "call/call_int.h"
#include "core/hash.h"

#define SSRC_INITIAL_BUCKETS 1024

static inline uint32_t bucket(const struct vs_call_table *t, uint32_t ssrc)
{
	return (uint32_t)vs_hash_words(ssrc, 0, 0) & t->ssrc_mask;
}

int vs_ssrc__init(struct vs_call_table *t)
{
	t->ssrc = calloc(SSRC_INITIAL_BUCKETS, sizeof(*t->ssrc));
	if (!t->ssrc)
		return -1;
	t->ssrc_mask = SSRC_INITIAL_BUCKETS - 1;
	t->mem += SSRC_INITIAL_BUCKETS * sizeof(*t->ssrc);
	return 0;
}

static void ssrc_grow(struct vs_call_table *t)
{
	uint32_t n = (t->ssrc_mask + 1) * 2, old = t->ssrc_mask + 1;
	struct vs_call_stream **b = calloc(n, sizeof(*b)), **ob = t->ssrc;

	if (!b)
		return; /* longer chains, still correct */
	t->ssrc = b;
	t->ssrc_mask = n - 1;
	for (uint32_t i = 0; i < old; i++) {
		struct vs_call_stream *s = ob[i], *next;

		for (; s; s = next) {
			uint32_t h = bucket(t, s->ssrc);

			next = s->ssrc_next;
			s->ssrc_next = b[h];
			b[h] = s;
		}
	}
	t->mem += (n - old) * sizeof(*b);
	free(ob);
}

void vs_ssrc__add(struct vs_call_table *t, struct vs_call_stream *s)
{
	uint32_t h = bucket(t, s->ssrc);

	s->ssrc_next = t->ssrc[h];
	t->ssrc[h] = s;
	if (++t->nssrc > t->ssrc_mask + 1)
		ssrc_grow(t);
}

void vs_ssrc__del(struct vs_call_table *t, struct vs_call_stream *s)
{
	struct vs_call_stream **pp = &t->ssrc[bucket(t, s->ssrc)];

	while (*pp && *pp != s)
		pp = &(*pp)->ssrc_next;
	if (*pp) {
		*pp = s->ssrc_next;
		t->nssrc--;
	}
}

struct vs_call_stream *vs_ssrc__find(const struct vs_call_table *t,
				     uint32_t ssrc)
{
	struct vs_call_stream *s = t->ssrc[bucket(t, ssrc)];

	for (; s; s = s->ssrc_next)
		if (s->ssrc == ssrc)
			return s;
	return NULL;
}
