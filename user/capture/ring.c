// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture/ring.h"

struct vs_ring {
	uint64_t *cons_pos;	  /* shared, written by us */
	const uint64_t *prod_pos; /* shared, written by the kernel */
	const uint8_t *data;	  /* size bytes, mapped twice */
	uint64_t mask;
	uint64_t cons;		  /* our position */
	uint64_t published;	  /* last value stored in *cons_pos */
	uint32_t unpublished;	  /* records consumed since */
	uint64_t prod;		  /* last producer position read */
	uint32_t head_len;	  /* length of the record at cons */
	uint64_t scout[2];	  /* next record each look-ahead stage sees */
	size_t map_len;
};

struct vs_ring_set {
	int n;
	int epfd;
	size_t page;
	uint64_t malformed;
	vs_ring_ahead_fn ahead;
	struct vs_ring r[];
};

static int ring_map(struct vs_ring *r, int fd, uint32_t size, size_t page)
{
	void *p;

	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	r->cons_pos = p;
	r->map_len = page + 2 * (size_t)size;
	p = mmap(NULL, r->map_len, PROT_READ, MAP_SHARED, fd, (off_t)page);
	if (p == MAP_FAILED) {
		munmap(r->cons_pos, page);
		r->cons_pos = NULL;
		return -errno;
	}
	r->prod_pos = p;
	r->data = (const uint8_t *)p + page;
	r->mask = size - 1;
	r->cons = __atomic_load_n(r->cons_pos, __ATOMIC_ACQUIRE);
	r->published = r->cons;
	/* "Nothing read yet": head() loads the producer position first. A
	 * ring consumed before (cons != 0) must not be read past it. */
	r->prod = r->cons;
	return 0;
}

struct vs_ring_set *vs_ring_set__new(const int *fds, int n, uint32_t size)
{
	struct vs_ring_set *s;
	struct epoll_event ev = { .events = EPOLLIN };
	int err = 0;

	if (n < 1 || n > VS_RING_SET_MAX || (size & (size - 1))) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s) + (size_t)n * sizeof(s->r[0]));
	if (!s)
		return NULL;
	s->page = (size_t)sysconf(_SC_PAGESIZE);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		err = -errno;
	for (int i = 0; !err && i < n; i++) {
		err = ring_map(&s->r[i], fds[i], size, s->page);
		if (!err) {
			s->n++;
			ev.data.u32 = (uint32_t)i;
			if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fds[i], &ev))
				err = -errno;
		}
	}
	if (err) {
		vs_ring_set__free(s);
		errno = -err;
		return NULL;
	}
	return s;
}

void vs_ring_set__free(struct vs_ring_set *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->n; i++) {
		munmap(s->r[i].cons_pos, s->page);
		munmap((void *)s->r[i].prod_pos, s->r[i].map_len);
	}
	if (s->epfd >= 0)
		close(s->epfd);
	free(s);
}

int vs_ring_set__wait(struct vs_ring_set *s, int timeout_ms)
{
	struct epoll_event ev[8];

	if (epoll_wait(s->epfd, ev, 8, timeout_ms) < 0)
		return -errno;
	return 0;
}

/* The kernel reads the consumer position in every bpf_ringbuf_reserve and
 * bpf_ringbuf_commit on the producing CPU: storing it after every record
 * would move its cache line between the CPUs once per record. It is stored
 * every PUBLISH_EVERY records, before the producer position is read again
 * (so a commit that finds us caught up still wakes us) and when a drain
 * returns. Until then the space is not yet free: a few records' worth of a
 * ring of megabytes. */
#define PUBLISH_EVERY 64

static void publish(struct vs_ring *r)
{
	r->unpublished = 0;
	if (r->published == r->cons)
		return;
	__atomic_store_n(r->cons_pos, r->cons, __ATOMIC_RELEASE);
	r->published = r->cons;
}

static void advance(struct vs_ring *r, uint32_t len)
{
	r->cons += (len + BPF_RINGBUF_HDR_SZ + 7) & ~7u;
	if (++r->unpublished >= PUBLISH_EVERY)
		publish(r);
}

/* The ring's oldest committed record, skipping discarded ones; NULL when
 * it is empty or its head is still being written. */
static const struct vs_ring_hdr *head(struct vs_ring_set *s, struct vs_ring *r)
{
	const struct vs_ring_hdr *h;
	uint32_t len;

	for (;;) {
		if (r->cons == r->prod) {
			publish(r);
			r->prod = __atomic_load_n(r->prod_pos,
						  __ATOMIC_ACQUIRE);
			if (r->cons == r->prod)
				return NULL;
		}
		len = __atomic_load_n((const uint32_t *)(r->data +
							 (r->cons & r->mask)),
				      __ATOMIC_ACQUIRE);
		if (len & BPF_RINGBUF_BUSY_BIT)
			return NULL;
		h = (const void *)(r->data + ((r->cons + BPF_RINGBUF_HDR_SZ) &
					      r->mask));
		if (!(len & BPF_RINGBUF_DISCARD_BIT) && len >= sizeof(*h) &&
		    h->caplen <= len - sizeof(*h)) {
			r->head_len = len;
			return h;
		}
		if (!(len & BPF_RINGBUF_DISCARD_BIT))
			s->malformed++;
		advance(r, len & ~BPF_RINGBUF_DISCARD_BIT);
	}
}

/* The producer wrote the next record on another CPU: its first lines (the
 * length word, our header, the frame's headers) start moving here while the
 * pipeline works on the current one. Only below the producer position last
 * read: lines the kernel has already written (or is finishing). */
static void prefetch_next(const struct vs_ring *r)
{
	uint64_t next = r->cons + ((r->head_len + BPF_RINGBUF_HDR_SZ + 7) & ~7u);
	const uint8_t *p = r->data + (next & r->mask);

	if (next >= r->prod)
		return;
	__builtin_prefetch(p);
	__builtin_prefetch(p + 64);
	__builtin_prefetch(p + 128);
}

void vs_ring_set__set_ahead(struct vs_ring_set *s, vs_ring_ahead_fn fn)
{
	s->ahead = fn;
}

/* How far each look-ahead stage runs in front of the consumer, in bytes
 * of ring: a 20 ms G.711 packet takes a 256-byte record, so about 8 and 3
 * records; each is worth some 700 ns of the reader's work, time enough
 * for a cache miss to be served before the record is reached. Copied
 * through its RTP header only (cfg's rtp_head) it takes 104 bytes, about
 * 20 and 7 records; half these distances gave the same daemon time (four
 * interleaved pairs of the mixed bench, 19-21 ms per round either way). */
static const uint32_t ahead_bytes[2] = { 2048, 768 };

/* Shows the look-ahead stages the committed records up to their distance
 * in front of cons, each record once per stage. Stops at the first record
 * still being written (its length word has the busy bit). */
static void look_ahead(struct vs_ring_set *s, struct vs_ring *r, void *ctx)
{
	const struct vs_ring_hdr *h;
	uint64_t end;
	uint32_t len;

	for (int k = 0; k < 2; k++) {
		end = r->cons + ahead_bytes[k];
		if (r->scout[k] < r->cons)
			r->scout[k] = r->cons;
		while (r->scout[k] < end && r->scout[k] < r->prod) {
			len = __atomic_load_n((const uint32_t *)(r->data +
					      (r->scout[k] & r->mask)),
					      __ATOMIC_ACQUIRE);
			if (len & BPF_RINGBUF_BUSY_BIT)
				break;
			len &= ~BPF_RINGBUF_DISCARD_BIT;
			h = (const void *)(r->data + ((r->scout[k] +
					   BPF_RINGBUF_HDR_SZ) & r->mask));
			if (len >= sizeof(*h))
				s->ahead(ctx, k, h);
			r->scout[k] += (len + BPF_RINGBUF_HDR_SZ + 7) & ~7u;
		}
	}
}

int vs_ring_set__drain(struct vs_ring_set *s, int max, vs_ring_fn fn,
		       void *ctx)
{
	const struct vs_ring_hdr *h[VS_RING_SET_MAX];
	int done = 0, best, rc = 0;

	for (int i = 0; i < s->n; i++)
		h[i] = head(s, &s->r[i]);
	while (done < max) {
		best = -1;
		for (int i = 0; i < s->n; i++)
			if (h[i] && (best < 0 || h[i]->ts_ns < h[best]->ts_ns))
				best = i;
		if (best < 0)
			break;
		prefetch_next(&s->r[best]);
		if (s->ahead)
			look_ahead(s, &s->r[best], ctx);
		rc = fn(ctx, h[best], (const uint8_t *)(h[best] + 1));
		advance(&s->r[best], s->r[best].head_len);
		if (rc)
			break;
		done++;
		h[best] = head(s, &s->r[best]);
	}
	for (int i = 0; i < s->n; i++)
		publish(&s->r[i]);
	return rc ? rc : done;
}

uint64_t vs_ring_set__malformed(const struct vs_ring_set *s)
{
	return s->malformed;
}
