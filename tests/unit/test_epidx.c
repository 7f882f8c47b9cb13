// SPDX-License-Identifier: GPL-2.0-or-later
/* The media endpoint index against a plain array model: random adds and
 * deletes over a small key space (so probes collide, wrap around the table
 * end and deletes shift slots back), through several grows. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "call/epidx.h"

#define KEYS 300

static struct vs_endpoint key(int i)
{
	struct vs_endpoint ep;

	memset(&ep, 0, sizeof(ep));
	vs_addr_from_v4(&ep.addr, (const uint8_t[]){ 10, 1, (uint8_t)(i / 7),
						    1 });
	ep.port = (uint16_t)(10000 + 2 * (i % 7));
	return ep;
}

/* Every key is found exactly when the model has it, in a slot holding
 * that key and the value it was given; the count matches. */
static void check(const struct vs_epidx *x, const int *in)
{
	uint32_t n = 0;

	for (int i = 0; i < KEYS; i++) {
		struct vs_endpoint ep = key(i);
		struct vs_epidx_slot *s =
			vs_epidx__find(x, &ep, vs_epidx__hash(&ep));

		if (!in[i]) {
			cr_assert_null(s, "key %d found after delete", i);
			continue;
		}
		cr_assert_not_null(s, "key %d lost", i);
		cr_assert(vs_endpoint_eq(&s->ep, &ep));
		cr_assert_eq(s->call, (struct vs_call *)(uintptr_t)(i + 1));
		n++;
	}
	cr_assert_eq(x->n, n);
	cr_assert_leq(x->n * 2, x->mask + 1, "more than half full");
}

Test(epidx, random_against_model)
{
	struct vs_epidx x;
	int in[KEYS] = { 0 }, added;

	srand(7);
	cr_assert_eq(vs_epidx__init(&x, 8), 0);
	for (int step = 0; step < 20000; step++) {
		int i = rand() % KEYS;
		struct vs_endpoint ep = key(i);
		/* mostly adds early, mostly deletes late: grows, then empties */
		int add = rand() % 100 < (step < 10000 ? 70 : 30);

		if (add) {
			struct vs_epidx_slot *s = vs_epidx__add(&x, &ep, &added);

			cr_assert_not_null(s);
			cr_assert_eq(added, !in[i]);
			if (added)
				s->call = (struct vs_call *)(uintptr_t)(i + 1);
			in[i] = 1;
		} else if (in[i]) {
			vs_epidx__del(&x, vs_epidx__find(&x, &ep,
							 vs_epidx__hash(&ep)));
			in[i] = 0;
		}
		if (step % 97 == 0)
			check(&x, in);
	}
	check(&x, in);
	vs_epidx__free(&x);
}

Test(epidx, slot_is_one_cache_line)
{
	struct vs_epidx x;

	cr_assert_eq(sizeof(struct vs_epidx_slot), 64);
	cr_assert_eq(vs_epidx__init(&x, 16), 0);
	cr_assert_eq((uintptr_t)x.slot % 64, 0);
	cr_assert_eq(vs_epidx__mem(&x), 16 * 64);
	vs_epidx__free(&x);
}
