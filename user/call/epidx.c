// SPDX-License-Identifier: GPL-2.0-or-later
/* The media endpoint index: open addressing, linear probing, at most half
 * full, deletion by backward shift (no tombstones, so a miss stops at the
 * first empty slot however long the sensor runs). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "call/epidx.h"

static struct vs_epidx_slot *slots_new(uint32_t n)
{
	void *p;

	if (posix_memalign(&p, sizeof(struct vs_epidx_slot),
			   (size_t)n * sizeof(struct vs_epidx_slot)))
		return NULL;
	memset(p, 0, (size_t)n * sizeof(struct vs_epidx_slot));
	return p;
}

int vs_epidx__init(struct vs_epidx *x, uint32_t slots)
{
	x->slot = slots_new(slots);
	if (!x->slot)
		return -ENOMEM;
	x->mask = slots - 1;
	x->n = 0;
	return 0;
}

void vs_epidx__free(struct vs_epidx *x)
{
	free(x->slot);
	x->slot = NULL;
}

static struct vs_epidx_slot *empty_for(const struct vs_epidx *x, uint32_t h)
{
	while (x->slot[h & x->mask].used)
		h++;
	return &x->slot[h & x->mask];
}

static int grow(struct vs_epidx *x)
{
	uint32_t n = (x->mask + 1) * 2;
	struct vs_epidx_slot *old = x->slot;
	uint32_t old_n = x->mask + 1;

	x->slot = slots_new(n);
	if (!x->slot) {
		x->slot = old;
		return -ENOMEM;
	}
	x->mask = n - 1;
	for (uint32_t i = 0; i < old_n; i++)
		if (old[i].used)
			*empty_for(x, old[i].hash) = old[i];
	free(old);
	return 0;
}

struct vs_epidx_slot *vs_epidx__add(struct vs_epidx *x,
				    const struct vs_endpoint *ep, int *added)
{
	uint32_t h = vs_epidx__hash(ep);
	struct vs_epidx_slot *s = vs_epidx__find(x, ep, h);

	*added = 0;
	if (s)
		return s;
	/* A failed grow still leaves room until one slot is left: probes
	 * need an empty slot to end. */
	if ((x->n + 1) * 2 > x->mask + 1 && grow(x) < 0 &&
	    x->n + 2 > x->mask + 1)
		return NULL;
	s = empty_for(x, h);
	memset(s, 0, sizeof(*s));
	s->ep = *ep;
	s->hash = h;
	s->used = 1;
	x->n++;
	*added = 1;
	return s;
}

/* Whether a slot whose probe starts at home may sit at j when i (between
 * home and j, cyclically) is emptied: it may not, it must move to i. */
static int may_stay(uint32_t home, uint32_t i, uint32_t j)
{
	if (i <= j)
		return i < home && home <= j;
	return i < home || home <= j;
}

void vs_epidx__del(struct vs_epidx *x, struct vs_epidx_slot *s)
{
	uint32_t i = (uint32_t)(s - x->slot), j = i;

	for (;;) {
		j = (j + 1) & x->mask;
		if (!x->slot[j].used)
			break;
		if (may_stay(x->slot[j].hash & x->mask, i, j))
			continue;
		x->slot[i] = x->slot[j];
		i = j;
	}
	memset(&x->slot[i], 0, sizeof(x->slot[i]));
	x->n--;
}
