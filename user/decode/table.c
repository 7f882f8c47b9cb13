// SPDX-License-Identifier: GPL-2.0-or-later
/* Chained hash table of fixed 36-byte keys with an age list, and the pool of
 * frame copies. Both the fragment and the TCP tables are instances: their
 * entries embed struct vs_dnode first. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "decode/decode_int.h"

#define VS_DTABLE_MAX_BUCKETS (1u << 20)
#define VS_HELD_SMALL 2048 /* frame bytes that fit a pooled copy */
#define VS_HELD_POOL_MAX 1024

int vs_dtable__init(struct vs_dtable *t, uint32_t max, uint64_t seed)
{
	uint32_t n = 16;

	memset(t, 0, sizeof(*t));
	while (n < max && n < VS_DTABLE_MAX_BUCKETS)
		n <<= 1;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets)
		return -ENOMEM;
	t->mask = n - 1;
	t->max = max;
	t->seed = seed;
	t->age.older = t->age.newer = &t->age;
	return 0;
}

void vs_dtable__fini(struct vs_dtable *t)
{
	free(t->buckets);
	t->buckets = NULL;
}

struct vs_dnode *vs_dtable__find(struct vs_dtable *t, const uint8_t *key)
{
	uint64_t h = vs_hash_bytes(key, VS_DKEY_LEN, t->seed);
	struct vs_dnode *n = t->buckets[h & t->mask];

	for (; n; n = n->hnext)
		if (n->hash == h && memcmp(n->key, key, VS_DKEY_LEN) == 0)
			return n;
	return NULL;
}

static void age_unlink(struct vs_dnode *n)
{
	n->older->newer = n->newer;
	n->newer->older = n->older;
}

static void age_append(struct vs_dtable *t, struct vs_dnode *n)
{
	n->newer = &t->age;
	n->older = t->age.older;
	t->age.older->newer = n;
	t->age.older = n;
}

/* n->key must be set. The caller checks t->max. */
void vs_dtable__insert(struct vs_dtable *t, struct vs_dnode *n, uint64_t ts)
{
	struct vs_dnode **b;

	n->hash = vs_hash_bytes(n->key, VS_DKEY_LEN, t->seed);
	b = &t->buckets[n->hash & t->mask];
	n->hnext = *b;
	*b = n;
	n->ts_us = ts;
	age_append(t, n);
	t->count++;
}

void vs_dtable__remove(struct vs_dtable *t, struct vs_dnode *n)
{
	struct vs_dnode **pp = &t->buckets[n->hash & t->mask];

	while (*pp && *pp != n)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = n->hnext;
	age_unlink(n);
	t->count--;
}

void vs_dtable__touch(struct vs_dtable *t, struct vs_dnode *n, uint64_t ts)
{
	n->ts_us = ts;
	if (t->age.older == n)
		return;
	age_unlink(n);
	age_append(t, n);
}

struct vs_dnode *vs_dtable__oldest(struct vs_dtable *t)
{
	return t->age.newer == &t->age ? NULL : t->age.newer;
}

struct vs_held *vs_held__get(struct vs_held_pool *p, const struct vs_frame *f)
{
	struct vs_held *h;

	if (f->caplen <= VS_HELD_SMALL && p->free) {
		h = p->free;
		p->free = h->next_free;
		p->nfree--;
	} else {
		size_t sz = f->caplen;

		if (sz < VS_HELD_SMALL)
			sz = VS_HELD_SMALL; /* so it can go back to the pool */
		h = malloc(sizeof(*h) + sz);
		if (!h)
			return NULL;
	}
	h->next_free = NULL;
	h->f = *f;
	memcpy(h->bytes, f->data, f->caplen);
	h->f.data = h->bytes;
	p->bytes += f->caplen;
	return h;
}

void vs_held__put(struct vs_held_pool *p, struct vs_held *h)
{
	if (!h)
		return;
	p->bytes -= h->f.caplen;
	if (h->f.caplen <= VS_HELD_SMALL && p->nfree < VS_HELD_POOL_MAX) {
		h->next_free = p->free;
		p->free = h;
		p->nfree++;
		return;
	}
	free(h);
}

void vs_held_pool__fini(struct vs_held_pool *p)
{
	while (p->free) {
		struct vs_held *h = p->free;

		p->free = h->next_free;
		free(h);
	}
	p->nfree = 0;
}
