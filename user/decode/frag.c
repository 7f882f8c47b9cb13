// SPDX-License-Identifier: GPL-2.0-or-later
/* IPv4 and IPv6 fragment reassembly.
 *
 * Each fragment's frame is copied whole, so the finished datagram can list
 * every frame that carried it. Fragments may come in any order; an exact
 * duplicate is ignored, any other overlap discards the datagram (RFC 5722;
 * Linux does the same for IPv4: overlaps are attacks, not retransmissions).
 * Memory is bounded by datagram count and bytes: the oldest incomplete
 * datagram makes room for a newer one. */
#include <stdlib.h>
#include <string.h>

#include "decode/decode_int.h"

struct frag_piece {
	uint32_t off, len; /* in the reassembled payload */
	uint32_t data_off; /* where the bytes start in h->f.data */
	uint32_t arrival;  /* index in arrival order */
	struct vs_held *h;
};

struct frag_dgram {
	struct vs_dnode n; /* first: the table hands us vs_dnode pointers */
	struct vs_addr src, dst;
	bool v6;
	bool have_last;
	uint8_t proto; /* IPv4: header; IPv6: next header of offset 0 */
	uint32_t total; /* payload length, known with the last fragment */
	uint32_t got;	/* bytes in pieces (disjoint) */
	uint32_t npieces, cap;
	struct frag_piece *pieces; /* sorted by off */
};

enum add_result { ADD_OK, ADD_DUP, ADD_BAD, ADD_NOMEM };

int vs_frag__init(struct vs_decoder *d)
{
	return vs_dtable__init(&d->frags, d->lim.frag_max_datagrams,
			       d->seed ^ 0x9e3779b97f4a7c15ULL);
}

static void dgram_free(struct vs_decoder *d, struct frag_dgram *g)
{
	for (uint32_t i = 0; i < g->npieces; i++) {
		d->frag_bytes -= g->pieces[i].h->f.caplen;
		vs_held__put(&d->pool, g->pieces[i].h);
	}
	vs_dtable__remove(&d->frags, &g->n);
	free(g->pieces);
	free(g);
}

void vs_frag__fini(struct vs_decoder *d)
{
	struct vs_dnode *n;

	if (!d->frags.buckets)
		return;
	while ((n = vs_dtable__oldest(&d->frags)))
		dgram_free(d, (struct frag_dgram *)n);
	vs_dtable__fini(&d->frags);
}

/* Addresses, then the ID. RFC 791 keys IPv4 on the protocol too (beside
 * its 16-bit ID); RFC 8200 IPv6 does not. IPv4 addresses are in mapped form,
 * so the two families never share a key. */
static void frag_key(uint8_t *key, const struct vs_l4pkt *ip,
		     const struct vs_frag_in *fr)
{
	uint32_t id = fr->v6 ? fr->id : fr->id | (uint32_t)fr->proto << 16;

	memcpy(key, ip->src.b, 16);
	memcpy(key + 16, ip->dst.b, 16);
	memcpy(key + 32, &id, 4);
}

/* Evicts the oldest datagram other than keep; false when there is none. */
static bool evict_one(struct vs_decoder *d, const struct frag_dgram *keep)
{
	struct vs_dnode *n = vs_dtable__oldest(&d->frags);

	if (n && keep && n == &keep->n)
		n = n->newer == &d->frags.age ? NULL : n->newer;
	if (!n)
		return false;
	d->st->frag_evicted++;
	dgram_free(d, (struct frag_dgram *)n);
	return true;
}

static struct frag_dgram *dgram_new(struct vs_decoder *d, const uint8_t *key,
				    const struct vs_l4pkt *ip,
				    const struct vs_frag_in *fr, uint64_t ts)
{
	struct frag_dgram *g;

	if (d->frags.count >= d->frags.max && !evict_one(d, NULL))
		return NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	memcpy(g->n.key, key, VS_DKEY_LEN);
	g->src = ip->src;
	g->dst = ip->dst;
	g->v6 = fr->v6;
	g->proto = fr->proto;
	vs_dtable__insert(&d->frags, &g->n, ts);
	return g;
}

/* Where fr goes in the sorted piece list, or ADD_DUP / ADD_BAD. */
static int place(const struct frag_dgram *g, const struct vs_frag_in *fr,
		 uint32_t *at)
{
	uint32_t end = fr->off + fr->len, i = 0;
	const struct frag_piece *p = g->pieces;

	if (g->have_last && (fr->more ? end > g->total : end != g->total))
		return ADD_BAD;
	if (!fr->more && g->npieces &&
	    p[g->npieces - 1].off + p[g->npieces - 1].len > end)
		return ADD_BAD;
	while (i < g->npieces && p[i].off < fr->off)
		i++;
	if (i < g->npieces && p[i].off == fr->off && p[i].len == fr->len)
		return ADD_DUP;
	if (i > 0 && p[i - 1].off + p[i - 1].len > fr->off)
		return ADD_BAD;
	if (i < g->npieces && p[i].off < end)
		return ADD_BAD;
	if (g->npieces >= VS_FRAG_MAX_PIECES)
		return ADD_BAD;
	*at = i;
	return ADD_OK;
}

/* Makes room for bytes more, evicting older datagrams. */
static bool make_room(struct vs_decoder *d, const struct frag_dgram *g,
		      uint32_t bytes)
{
	if (bytes > d->lim.frag_max_bytes)
		return false;
	while (d->frag_bytes + bytes > d->lim.frag_max_bytes)
		if (!evict_one(d, g))
			return false;
	return true;
}

static int dgram_add(struct vs_decoder *d, struct frag_dgram *g,
		     const struct vs_frag_in *fr, const struct vs_frame *f)
{
	struct frag_piece *p;
	uint32_t at;
	int r = place(g, fr, &at);

	if (r != ADD_OK)
		return r;
	if (!make_room(d, g, f->caplen))
		return ADD_NOMEM;
	if (g->npieces == g->cap) {
		uint32_t cap = g->cap ? g->cap * 2 : 4;

		p = realloc(g->pieces, cap * sizeof(*p));
		if (!p)
			return ADD_NOMEM;
		g->pieces = p;
		g->cap = cap;
	}
	p = &g->pieces[at];
	memmove(p + 1, p, (g->npieces - at) * sizeof(*p));
	p->h = vs_held__get(&d->pool, f);
	if (!p->h) {
		memmove(p, p + 1, (g->npieces - at) * sizeof(*p));
		return ADD_NOMEM;
	}
	p->off = fr->off;
	p->len = fr->len;
	p->data_off = (uint32_t)(fr->data - f->data);
	p->arrival = g->npieces++;
	g->got += fr->len;
	d->frag_bytes += f->caplen;
	if (!fr->more) {
		g->have_last = true;
		g->total = fr->off + fr->len;
	}
	if (fr->v6 && fr->off == 0)
		g->proto = fr->proto;
	return ADD_OK;
}

/* Copies the pieces into one payload and sends it up the stack. */
static void deliver(struct vs_decoder *d, struct frag_dgram *g,
		    const struct vs_carrier *c)
{
	struct vs_carrier rc = *c;
	struct vs_l4pkt pkt = { .src = g->src, .dst = g->dst };

	for (uint32_t i = 0; i < g->npieces; i++) {
		const struct frag_piece *p = &g->pieces[i];

		memcpy(d->reasm + p->off, p->h->f.data + p->data_off, p->len);
		d->reasm_frames[p->arrival] = &p->h->f;
	}
	rc.frames = d->reasm_frames;
	rc.nframes = g->npieces;
	pkt.data = d->reasm;
	pkt.len = g->total;
	d->st->frag_reassembled++;
	if (g->v6) {
		vs_ip6__chain(d, &pkt, g->proto, &rc, true);
	} else {
		pkt.proto = g->proto;
		vs_l4__input(d, &pkt, &rc);
	}
}

static bool frag_sane(const struct vs_frag_in *fr, const struct vs_carrier *c)
{
	const struct vs_frame *f = c->frames[0];

	/* Only fragments straight off one frame: we copy that frame. */
	if (c->nframes != 1 || fr->data < f->data ||
	    fr->data + fr->len > f->data + f->caplen)
		return false;
	if (fr->len == 0 || (fr->more && fr->len % 8))
		return false;
	return fr->off + fr->len <= VS_REASM_MAX;
}

void vs_frag__input(struct vs_decoder *d, const struct vs_l4pkt *ip,
		    const struct vs_frag_in *fr, const struct vs_carrier *c)
{
	uint8_t key[VS_DKEY_LEN];
	struct frag_dgram *g;
	int r;

	if (!frag_sane(fr, c)) {
		d->st->frag_bad++;
		return;
	}
	frag_key(key, ip, fr);
	g = (struct frag_dgram *)vs_dtable__find(&d->frags, key);
	if (!g)
		g = dgram_new(d, key, ip, fr, c->ts_us);
	if (!g) {
		d->st->frag_evicted++;
		return;
	}
	r = dgram_add(d, g, fr, c->frames[0]);
	if (r == ADD_BAD || r == ADD_NOMEM) {
		if (r == ADD_BAD)
			d->st->frag_bad++;
		else
			d->st->frag_evicted++;
		dgram_free(d, g);
		return;
	}
	if (r == ADD_OK && g->have_last && g->got == g->total) {
		deliver(d, g, c);
		dgram_free(d, g);
	}
}

void vs_frag__expire(struct vs_decoder *d, uint64_t now_us)
{
	uint64_t tmo = (uint64_t)d->lim.frag_timeout_ms * 1000;
	struct vs_dnode *n;

	while ((n = vs_dtable__oldest(&d->frags)) && now_us > n->ts_us &&
	       now_us - n->ts_us > tmo) {
		d->st->frag_timeout++;
		dgram_free(d, (struct frag_dgram *)n);
	}
}
