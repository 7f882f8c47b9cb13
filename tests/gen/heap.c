/* Binary min-heap of events keyed by (time, insertion order). */
#include <errno.h>
#include <stdlib.h>

#include "vsgen.h"

static bool ev_less(const struct vg_ev *a, const struct vg_ev *b)
{
	if (a->t != b->t)
		return a->t < b->t;
	return a->order < b->order;
}

/* Both directions move a hole instead of swapping, which halves the
 * copying on the path every packet takes. */
int heap_push(struct vg_heap *h, const struct vg_ev *ev)
{
	struct vg_ev x = *ev;
	size_t i;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 1024;
		struct vg_ev *v = realloc(h->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	x.order = h->next_order++;
	i = h->n++;
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (!ev_less(&x, &h->v[p]))
			break;
		h->v[i] = h->v[p];
		i = p;
	}
	h->v[i] = x;
	return 0;
}

bool heap_pop(struct vg_heap *h, struct vg_ev *ev)
{
	struct vg_ev *last;
	size_t i = 0, n;

	if (!h->n)
		return false;
	*ev = h->v[0];
	n = --h->n;
	last = &h->v[n];
	for (;;) {
		size_t l = 2 * i + 1, m;

		if (l >= n)
			break;
		m = l + 1 < n && ev_less(&h->v[l + 1], &h->v[l]) ? l + 1 : l;
		if (!ev_less(&h->v[m], last))
			break;
		h->v[i] = h->v[m];
		i = m;
	}
	h->v[i] = *last;
	return true;
}

void heap_free(struct vg_heap *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}
