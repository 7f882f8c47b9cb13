// SPDX-License-Identifier: GPL-2.0-or-later
/* capture/afxdp: the reader. Peeks a batch from every socket's RX ring,
 * hands the frames on oldest first (a merge of the batches' heads by the
 * XDP timestamp, so an INVITE on eth0 is not handed on after its 200 on
 * eth1), then returns every chunk through the fill ring. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "capture/afxdp_int.h"
#include "core/log.h"

/* Frames peeked per socket and round; rounds per poll call, so that a
 * flood still lets the caller run its idle work every few thousand. */
#define BATCH 256
#define ROUNDS 16

struct head {
	__u32 idx; /* RX ring index of the batch's first descriptor */
	__u32 n;   /* descriptors in the batch */
	__u32 i;   /* next one to hand on */
	uint64_t ts;	  /* its timestamp */
	uint32_t origlen; /* its length on the wire; 0: the descriptor's */
};

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000 + (uint64_t)t.tv_nsec;
}

static const struct xdp_desc *desc(struct vs_xsk *x, __u32 idx)
{
	return xsk_ring_cons__rx_desc(&x->rx, idx);
}

/* The XDP program's metadata just before the frame (NULL when the
 * chunk has no room for it). */
static struct vs_xsk_meta *meta(struct vs_xsk *x, __u32 idx)
{
	const struct xdp_desc *d = desc(x, idx);
	uint8_t *data = xsk_umem__get_data(x->buf, d->addr);

	if ((d->addr % x->chunk) < sizeof(struct vs_xsk_meta))
		return NULL;
	return (void *)(data - sizeof(struct vs_xsk_meta));
}

/* The timestamp and length of h's next frame from its metadata, if the
 * program wrote one. */
static void frame_meta(struct vs_afxdp *a, struct vs_xsk *x, struct head *h)
{
	struct vs_xsk_meta *m = meta(x, h->idx + h->i);

	if (!m || m->magic != VS_XSK_MAGIC) {
		a->no_meta++;
		h->ts = mono_ns();
		h->origlen = 0;
		return;
	}
	h->ts = m->ts_ns;
	h->origlen = m->origlen;
	m->magic = 0; /* the chunk is reused: never read it twice */
}

/* The batch's chunks back to the kernel. The fill ring is as large as the
 * UMEM, so there is always room; a zero-copy driver that found it empty
 * waits for a kick. */
static void recycle(struct vs_afxdp *a, struct vs_xsk *x, struct head *h)
{
	__u32 fidx;

	if (xsk_ring_prod__reserve(&x->fill, h->n, &fidx) != h->n)
		return; /* impossible: the chunks would be lost */
	for (__u32 i = 0; i < h->n; i++) {
		__u64 addr = desc(x, h->idx + i)->addr;

		*xsk_ring_prod__fill_addr(&x->fill, fidx + i) =
			addr - addr % x->chunk;
	}
	xsk_ring_prod__submit(&x->fill, h->n);
	xsk_ring_cons__release(&x->rx, h->n);
	__atomic_store_n(&a->fill[x->slot].taken,
			 a->fill[x->slot].taken + h->n, __ATOMIC_RELEASE);
	if (xsk_ring_prod__needs_wakeup(&x->fill)) {
		a->wakeups++;
		recvfrom(xsk_socket__fd(x->sock), NULL, 0, MSG_DONTWAIT, NULL,
			 NULL);
	}
}

/* The socket's RX ring was found empty: nothing the program counted is
 * waiting. Frames it redirected that never reached the ring (dropped when
 * it was full) would otherwise stay counted as waiting and make it ring
 * every 64th frame for good. A frame queued between the peek and this
 * read is counted as taken: what waits then reads low by a few frames until
 * the next empty ring, which only delays a ring by as much. */
static void resync(struct vs_afxdp *a, const struct vs_xsk *x)
{
	struct vs_xsk_fill *f = &a->fill[x->slot];

	__atomic_store_n(&f->taken, __atomic_load_n(&f->sent, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELEASE);
}

/* Look-ahead, as capture/ring.c's over the ring: the metadata of the
 * frame AHEAD_MEM descriptors on is asked for; at ahead_at[0] its hint goes
 * to the call table (stage 0: the index slot), at ahead_at[1] again (stage
 * 1: the call and stream the slot names). So the misses of a frame's
 * memory overlap with the work on the frames before it. */
#define AHEAD_MEM 12
static const __u32 ahead_at[2] = { 8, 3 };

static void ahead_one(struct vs_afxdp *a, struct vs_xsk *x, __u32 idx,
		      int stage)
{
	const struct vs_xsk_meta *m = meta(x, idx);

	if (m && m->magic == VS_XSK_MAGIC &&
	    (m->reason == VS_KCNT_rtp || m->reason == VS_KCNT_rtcp))
		a->ahead(a->ahead_ctx, stage, m->hint);
}

/* Before descriptor h->i is handed on: the stages for the ones ahead of
 * it (at a batch's start, for all its first ones). */
static void look_ahead(struct vs_afxdp *a, struct vs_xsk *x,
		       const struct head *h)
{
	__u32 j = h->i + AHEAD_MEM;

	if (j < h->n)
		__builtin_prefetch(meta(x, h->idx + j));
	for (int k = 0; k < 2; k++) {
		j = h->i + ahead_at[k];
		if (h->i == 0)
			for (__u32 f = 0; f < ahead_at[k] && f < h->n; f++)
				ahead_one(a, x, h->idx + f, k);
		if (j < h->n)
			ahead_one(a, x, h->idx + j, k);
	}
}

/* The socket whose next frame is oldest, or -1 when all are handed on. */
static int oldest(const struct head *h, int n)
{
	int best = -1;

	for (int q = 0; q < n; q++)
		if (h[q].i < h[q].n && (best < 0 || h[q].ts < h[best].ts))
			best = q;
	return best;
}

/* One round: a batch from each socket, merged. Frames handed on, or the
 * first non-zero fn result. */
static int round_all(struct vs_afxdp *a, vs_afxdp_fn fn, void *ctx)
{
	struct head h[VS_XSK_MAX];
	int q, rc = 0, done = 0;

	for (q = 0; q < a->n; q++) {
		struct vs_xsk *x = &a->q[q];

		h[q].i = 0;
		h[q].n = xsk_ring_cons__peek(&x->rx, BATCH, &h[q].idx);
		if (h[q].n)
			frame_meta(a, x, &h[q]);
		else
			resync(a, x);
	}
	while ((q = oldest(h, a->n)) >= 0) {
		struct vs_xsk *x = &a->q[q];
		const struct xdp_desc *d = desc(x, h[q].idx + h[q].i);

		if (a->ahead && !rc)
			look_ahead(a, x, &h[q]);
		if (!rc)
			rc = fn(ctx, h[q].ts, x->ifindex,
				xsk_umem__get_data(x->buf, d->addr), d->len,
				h[q].origlen > d->len ? h[q].origlen : d->len);
		done++;
		if (++h[q].i < h[q].n)
			frame_meta(a, x, &h[q]);
	}
	for (q = 0; q < a->n; q++)
		if (h[q].n)
			recycle(a, &a->q[q], &h[q]);
	a->frames += (uint64_t)done;
	return rc ? rc : done;
}

int vs_afxdp__drain(struct vs_afxdp *a, vs_afxdp_fn fn, void *ctx)
{
	int total = 0, rc;

	for (int r = 0; r < ROUNDS; r++) {
		rc = round_all(a, fn, ctx);
		if (rc <= 0)
			return rc < 0 ? rc : total;
		total += rc;
	}
	return total;
}

static int wait_sockets(struct vs_afxdp *a, int timeout_ms)
{
	struct pollfd pfd[VS_XSK_MAX];

	for (int i = 0; i < a->n; i++)
		pfd[i] = (struct pollfd){ .fd = xsk_socket__fd(a->q[i].sock),
					  .events = POLLIN };
	return poll(pfd, (nfds_t)a->n, timeout_ms) < 0 ? -errno : 0;
}

int vs_afxdp__wait(struct vs_afxdp *a, int timeout_ms)
{
	int rc;

	if (a->rang) {
		a->rang = 0;
		return wait_sockets(a, timeout_ms < 1 ? timeout_ms : 1);
	}
	rc = ring_buffer__poll(a->bell, timeout_ms);
	if (rc < 0)
		return rc == -EINTR ? 0 : rc;
	a->rang = rc > 0;
	return 0;
}

/* The kernel's counters of every socket, summed. */
static void sock_stats(const struct vs_afxdp *a, struct xdp_statistics *sum)
{
	struct xdp_statistics s;
	socklen_t len;

	memset(sum, 0, sizeof(*sum));
	for (int i = 0; i < a->n; i++) {
		len = sizeof(s);
		if (getsockopt(xsk_socket__fd(a->q[i].sock), SOL_XDP,
			       XDP_STATISTICS, &s, &len))
			continue;
		sum->rx_dropped += s.rx_dropped;
		sum->rx_invalid_descs += s.rx_invalid_descs;
		sum->rx_ring_full += s.rx_ring_full;
		sum->rx_fill_ring_empty_descs += s.rx_fill_ring_empty_descs;
	}
}

uint64_t vs_afxdp__lost(const struct vs_afxdp *a)
{
	struct xdp_statistics sum;

	sock_stats(a, &sum);
	return sum.rx_dropped + sum.rx_ring_full;
}

void vs_afxdp__print_stats(const struct vs_afxdp *a, FILE *out)
{
	struct xdp_statistics sum;

	sock_stats(a, &sum);
	fprintf(out, "afxdp.sockets %d\n", a->n);
	fprintf(out, "afxdp.frames %llu\n", (unsigned long long)a->frames);
	fprintf(out, "afxdp.no_meta %llu\n", (unsigned long long)a->no_meta);
	fprintf(out, "afxdp.wakeups %llu\n", (unsigned long long)a->wakeups);
	fprintf(out, "afxdp.bells %llu\n", (unsigned long long)a->bells);
	fprintf(out, "afxdp.fill_bells %llu\n",
		(unsigned long long)a->fill_bells);
	fprintf(out, "afxdp.rx_dropped %llu\n",
		(unsigned long long)sum.rx_dropped);
	fprintf(out, "afxdp.rx_ring_full %llu\n",
		(unsigned long long)sum.rx_ring_full);
	fprintf(out, "afxdp.rx_fill_empty %llu\n",
		(unsigned long long)sum.rx_fill_ring_empty_descs);
	fprintf(out, "afxdp.rx_invalid %llu\n",
		(unsigned long long)sum.rx_invalid_descs);
}
