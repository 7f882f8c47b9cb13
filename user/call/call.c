// SPDX-License-Identifier: GPL-2.0-or-later
/* The call table: Call-ID hash, the list of live calls, and their end. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "call/call_int.h"
#include "core/hash.h"

#define CALLS_INITIAL_BUCKETS 1024
#define MEDIA_INITIAL_SLOTS 2048 /* 1024 endpoints before it grows */
#define TICK_US 1000000ULL

struct vs_call_table *vs_call_table__new(const struct vs_call_opts *o)
{
	struct vs_call_table *t;

	if (!o->conf || !o->on_end || !o->stats || !o->sip_stats) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->o = *o;
	if (!t->o.max_calls)
		t->o.max_calls = 1000000;
	if (!t->o.end_grace_ms)
		t->o.end_grace_ms = 5000;
	t->calls = calloc(CALLS_INITIAL_BUCKETS, sizeof(*t->calls));
	/* aligned: see struct vs_call and struct vs_call_stream */
	if (vs_slab__init(&t->call_slab, sizeof(struct vs_call),
			  _Alignof(struct vs_call)) < 0 ||
	    vs_slab__init(&t->stream_slab, sizeof(struct vs_call_stream),
			  _Alignof(struct vs_call_stream)) < 0 || !t->calls ||
	    vs_epidx__init(&t->media, MEDIA_INITIAL_SLOTS) < 0 ||
	    vs_ssrc__init(t) < 0) {
		free(t->calls);
		vs_epidx__free(&t->media);
		free(t->ssrc);
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->calls_mask = CALLS_INITIAL_BUCKETS - 1;
	t->mem += sizeof(*t) + CALLS_INITIAL_BUCKETS * sizeof(void *) +
		  vs_epidx__mem(&t->media);
	return t;
}

void vs_call_table__free(struct vs_call_table *t)
{
	if (!t)
		return;
	vs_call_table__flush(t);
	vs_slab__destroy(&t->call_slab);
	vs_slab__destroy(&t->stream_slab);
	free(t->calls);
	vs_epidx__free(&t->media);
	free(t->ssrc);
	free(t);
}

struct vs_call *vs_call__find(struct vs_call_table *t, const char *id,
			      uint32_t len, uint64_t hash)
{
	struct vs_call *c;

	for (c = t->calls[hash & t->calls_mask]; c; c = c->hnext)
		if (c->hash == hash && strlen(c->cdr.call_id) == len &&
		    memcmp(c->cdr.call_id, id, len) == 0)
			return c;
	return NULL;
}

/* Doubles the Call-ID buckets when calls outnumber them. */
static void calls_grow(struct vs_call_table *t)
{
	uint32_t n = (t->calls_mask + 1) * 2;
	struct vs_call **b = calloc(n, sizeof(*b));
	struct vs_call *c;

	if (!b)
		return; /* keep the longer chains; still correct */
	for (c = t->head; c; c = c->next) {
		c->hnext = b[c->hash & (n - 1)];
		b[c->hash & (n - 1)] = c;
	}
	t->mem += (n - (t->calls_mask + 1)) * sizeof(*b);
	free(t->calls);
	t->calls = b;
	t->calls_mask = n - 1;
}

struct vs_call *vs_call__create(struct vs_call_table *t, const char *id,
				uint32_t len, uint64_t hash)
{
	struct vs_call_stats *st = t->o.stats;
	struct vs_call *c;

	if (st->calls_active >= t->o.max_calls) {
		st->calls_limit++;
		return NULL;
	}
	c = vs_slab__zalloc(&t->call_slab);
	if (!c)
		return NULL;
	c->hash = hash;
	if (len >= sizeof(c->cdr.call_id))
		len = sizeof(c->cdr.call_id) - 1; /* documented truncation */
	memcpy(c->cdr.call_id, id, len);
	c->hnext = t->calls[hash & t->calls_mask];
	t->calls[hash & t->calls_mask] = c;
	c->next = t->head;
	if (t->head)
		t->head->prev = c;
	t->head = c;
	t->mem += sizeof(*c);
	st->calls_created++;
	if (++st->calls_active > st->calls_active_max)
		st->calls_active_max = st->calls_active;
	if (st->calls_active > t->calls_mask + 1)
		calls_grow(t);
	return c;
}

/* Schedules the end; a later, earlier-or-equal schedule wins so that e.g. the
 * 200 to a BYE shortens the wait the BYE started. */
void vs_call__end_at(struct vs_call *c, uint64_t at_us, enum vs_cdr_end how)
{
	if (!c->end_at_us || at_us < c->end_at_us || c->cdr.end != how) {
		c->end_at_us = at_us;
		c->cdr.end = how;
	}
}

static void call_unlink(struct vs_call_table *t, struct vs_call *c)
{
	struct vs_call **pp = &t->calls[c->hash & t->calls_mask];

	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
	if (c->prev)
		c->prev->next = c->next;
	else
		t->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
}

static void call_finish(struct vs_call_table *t, struct vs_call *c,
			enum vs_cdr_end how)
{
	struct vs_cdr *r = &c->cdr;

	call_unlink(t, c);
	vs_media__unregister_all(t, c);
	if (how == VS_END_TIMEOUT || how == VS_END_EOF || !c->end_at_us)
		r->end = how;
	r->callend_us = c->last_us;
	r->duration_s = (double)(r->callend_us - r->calldate_us) / 1e6;
	if (r->connect_us && r->callend_us > r->connect_us)
		r->connect_duration_s =
			(double)(r->callend_us - r->connect_us) / 1e6;
	struct vs_cdr_leg *streams = vs_media__fill_legs(c);

	t->o.on_end(t->o.ctx, r, c->user);
	free(streams);
	vs_media__free_streams(t, c);
	t->mem -= sizeof(*c);
	t->o.stats->calls_ended++;
	t->o.stats->calls_active--;
	vs_slab__free(&t->call_slab, c);
}

/* Why a call should end now, or -1 to keep it. */
static int call_due(const struct vs_call_table *t, const struct vs_call *c,
		    uint64_t now)
{
	const struct vs_conf *cf = t->o.conf;

	if (c->end_at_us && now >= c->end_at_us)
		return c->cdr.end;
	if (c->last_rtp_us && now - c->last_rtp_us > cf->rtptimeout_s * 1000000ULL &&
	    now - c->last_sip_us > cf->rtptimeout_s * 1000000ULL)
		return VS_END_TIMEOUT;
	if (!c->last_rtp_us &&
	    now - c->last_sip_us > cf->sipwithoutrtptimeout_s * 1000000ULL)
		return VS_END_TIMEOUT;
	if (now - c->cdr.calldate_us > cf->absolute_timeout_s * 1000000ULL)
		return VS_END_TIMEOUT;
	return -1;
}

void vs_call_table__tick(struct vs_call_table *t, uint64_t now_us)
{
	struct vs_call *c, *next;
	int why;

	if (now_us > t->now_us)
		t->now_us = now_us;
	if (t->now_us < t->next_tick_us)
		return;
	t->next_tick_us = t->now_us + TICK_US;
	for (c = t->head; c; c = next) {
		next = c->next;
		why = call_due(t, c, t->now_us);
		if (why < 0)
			continue;
		if (why == VS_END_TIMEOUT)
			t->o.stats->calls_timeout++;
		call_finish(t, c, why);
	}
}

void vs_call_table__flush(struct vs_call_table *t)
{
	struct vs_call *c, *prev;

	/* Oldest first (the list is newest first), so CDRs come out in call
	 * order. */
	for (c = t->head; c && c->next; c = c->next)
		;
	for (; c; c = prev) {
		prev = c->prev;
		call_finish(t, c, c->end_at_us ? c->cdr.end : VS_END_EOF);
	}
}

void *vs_call__user(const struct vs_call *c)
{
	return c->user;
}

void vs_call__set_user(struct vs_call *c, void *user)
{
	c->user = user;
}

const struct vs_cdr *vs_call__cdr(const struct vs_call *c)
{
	return &c->cdr;
}

void vs_call_table__set_media_fn(struct vs_call_table *t, vs_media_fn fn,
				 void *ctx)
{
	t->o.on_media = fn;
	t->o.media_ctx = ctx;
}

size_t vs_call_table__mem(const struct vs_call_table *t)
{
	return t->mem;
}

void vs_call_table__sizes(size_t *call, size_t *stream)
{
	*call = sizeof(struct vs_call);
	*stream = sizeof(struct vs_call_stream);
}

void vs_strcpy_view(char *dst, size_t size, const struct vs_str *s)
{
	size_t n = s->p ? s->len : 0;

	if (n >= size)
		n = size - 1;
	if (n)
		memcpy(dst, s->p, n);
	dst[n] = '\0';
}

void vs_call_stats__print(const struct vs_call_stats *s, FILE *out)
{
#define VS_X(n) fprintf(out, "call.%s %llu\n", #n, (unsigned long long)s->n);
	VS_CALL_STATS(VS_X)
#undef VS_X
}
