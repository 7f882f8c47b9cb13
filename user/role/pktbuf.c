// SPDX-License-Identifier: GPL-2.0-or-later
/* role/pktbuf: memory part, the reader, acknowledgements, and the "MEMORY
 * IS FULL" accounting. The disk files are in pktbuf_disk.c.
 *
 * Invariant: every batch in memory is older than every batch on disk (a
 * batch goes to memory only while the disk part is empty), so the buffer is
 * one ordered list of memory nodes followed by one of disk files, and a
 * cumulative acknowledgement frees a prefix of it. */
#include <errno.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "role/pktbuf_int.h"

#define DROP_LOG_MS 10000

static uint64_t wall_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

struct vs_pktbuf *vs_pktbuf__open(const struct vs_pktbuf_opts *o)
{
	struct vs_pktbuf *pb = calloc(1, sizeof(*pb));
	int err;

	if (!pb)
		return NULL;
	pb->o = *o;
	if (!pb->o.seg_bytes)
		pb->o.seg_bytes = VS_PKTBUF_SEG_DEFAULT;
	pb->wfd = pb->rd_fd = -1;
	pb->next_seq = o->first_seq ? o->first_seq : wall_us();
	pb->acked = pb->rd_seq = pb->next_seq;
	pb->acked--;
	pthread_mutex_init(&pb->mu, NULL);
	pthread_cond_init(&pb->room, NULL);
	err = vs_pktbuf_disk__init(pb, o->dir);
	if (err) {
		vs_pktbuf__close(pb);
		errno = -err;
		return NULL;
	}
	return pb;
}

void vs_pktbuf__close(struct vs_pktbuf *pb)
{
	struct pb_mem *m, *next;

	if (!pb)
		return;
	for (m = pb->mhead; m; m = next) {
		next = m->next;
		free(m);
	}
	vs_pktbuf_disk__fini(pb);
	pthread_cond_destroy(&pb->room);
	pthread_mutex_destroy(&pb->mu);
	free(pb);
}

uint64_t vs_pktbuf__next_seq(struct vs_pktbuf *pb)
{
	uint64_t s;

	pthread_mutex_lock(&pb->mu);
	s = pb->next_seq;
	pthread_mutex_unlock(&pb->mu);
	return s;
}

static void mem_add(struct vs_pktbuf *pb, size_t bytes)
{
	pb->st.mem_bytes += bytes;
	if (pb->st.mem_bytes > pb->st.mem_peak)
		pb->st.mem_peak = pb->st.mem_bytes;
}

/* 0, or -ENOSPC when memory has no room (or the disk part is in use). */
static int mem_push(struct vs_pktbuf *pb, const void *p, size_t n)
{
	size_t need = sizeof(struct pb_mem) + n;
	struct pb_mem *m;

	if (pb->shead || pb->st.mem_bytes + need > pb->o.mem_max)
		return -ENOSPC;
	m = malloc(need);
	if (!m)
		return -ENOSPC;
	m->next = NULL;
	m->seq = pb->next_seq;
	m->len = n;
	memcpy(m->data, p, n);
	if (pb->mtail)
		pb->mtail->next = m;
	else
		pb->mhead = m;
	pb->mtail = m;
	mem_add(pb, need);
	return 0;
}

/* Counted always, logged at most every DROP_LOG_MS with what was dropped
 * since the last line: the operator sees the rate, not a flood. */
static void drop(struct vs_pktbuf *pb, size_t n, uint32_t nframes)
{
	uint64_t now = vs_mono_ms();

	pb->st.dropped_batches++;
	pb->st.dropped_frames += nframes;
	pb->st.dropped_bytes += n;
	pb->drop_frames += nframes;
	pb->drop_bytes += n;
	if (pb->drop_log_ms && now - pb->drop_log_ms < DROP_LOG_MS)
		return;
	vs_err("packetbuffer: MEMORY IS FULL: %llu packets (%llu bytes) "
	       "dropped%s; memory %.1f of %.1f MB, disk %.1f of %.1f MB "
	       "(packetbuffer_total_maxheap, packetbuffer_file_totalmaxsize; "
	       "is the server reachable?)",
	       (unsigned long long)pb->drop_frames,
	       (unsigned long long)pb->drop_bytes,
	       pb->drop_log_ms ? " in the last 10 s" : "",
	       pb->st.mem_bytes / 1048576.0, pb->o.mem_max / 1048576.0,
	       pb->st.disk_bytes / 1048576.0, pb->o.disk_max / 1048576.0);
	pb->drop_log_ms = now ? now : 1;
	pb->drop_frames = pb->drop_bytes = 0;
}

static int push_once(struct vs_pktbuf *pb, const void *p, size_t n)
{
	int err = mem_push(pb, p, n);

	if (err && pb->o.disk_max) {
		err = vs_pktbuf_disk__push(pb, p, n);
		if (!err)
			pb->st.disk_batches++;
	}
	return err;
}

static void deadline(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

int vs_pktbuf__push(struct vs_pktbuf *pb, const void *p, size_t n,
		    uint32_t nframes, int wait_ms)
{
	struct timespec until;
	int err;

	pthread_mutex_lock(&pb->mu);
	err = push_once(pb, p, n);
	if (err == -ENOSPC && wait_ms > 0) {
		deadline(&until, wait_ms);
		while (err == -ENOSPC &&
		       pthread_cond_timedwait(&pb->room, &pb->mu, &until) == 0)
			err = push_once(pb, p, n);
		if (err == -ENOSPC)
			err = push_once(pb, p, n);
	}
	if (err) {
		drop(pb, n, nframes);
	} else {
		pb->next_seq++;
		pb->st.batches++;
		pb->st.bytes += n;
		pb->st.frames += nframes;
	}
	pthread_mutex_unlock(&pb->mu);
	return err ? -ENOSPC : 0;
}

static int mem_next(struct vs_pktbuf *pb, struct vs_buf *out)
{
	struct pb_mem *m = pb->rd_prev ? pb->rd_prev->next : pb->mhead;

	while (m && m->seq < pb->rd_seq)
		m = m->next;
	if (!m || m->seq != pb->rd_seq)
		return -EIO; /* cannot happen: the invariant above */
	out->len = 0;
	if (vs_buf__put(out, m->data, m->len, 0))
		return -ENOMEM;
	pb->rd_prev = m;
	return 0;
}

int vs_pktbuf__next(struct vs_pktbuf *pb, struct vs_buf *out, uint64_t *seq)
{
	int err;

	pthread_mutex_lock(&pb->mu);
	if (pb->rd_seq >= pb->next_seq) {
		pthread_mutex_unlock(&pb->mu);
		return 0;
	}
	if (pb->mtail && pb->rd_seq <= pb->mtail->seq)
		err = mem_next(pb, out);
	else
		err = vs_pktbuf_disk__read(pb, out);
	*seq = pb->rd_seq++;
	pthread_mutex_unlock(&pb->mu);
	return err ? err : 1;
}

void vs_pktbuf__rewind(struct vs_pktbuf *pb)
{
	pthread_mutex_lock(&pb->mu);
	pb->rd_seq = pb->acked + 1;
	pb->rd_prev = NULL;
	pthread_mutex_unlock(&pb->mu);
}

static void mem_ack(struct vs_pktbuf *pb, uint64_t upto)
{
	struct pb_mem *m;

	while ((m = pb->mhead) && m->seq <= upto) {
		pb->mhead = m->next;
		if (pb->rd_prev == m)
			pb->rd_prev = NULL;
		pb->st.mem_bytes -= sizeof(*m) + m->len;
		free(m);
	}
	if (!pb->mhead)
		pb->mtail = NULL;
}

uint64_t vs_pktbuf__ack(struct vs_pktbuf *pb, uint64_t upto)
{
	uint64_t n = 0;

	pthread_mutex_lock(&pb->mu);
	if (upto >= pb->next_seq) /* the server cannot know these: ignore */
		upto = pb->next_seq - 1;
	if (upto > pb->acked) {
		mem_ack(pb, upto);
		vs_pktbuf_disk__ack(pb, upto);
		n = upto - pb->acked;
		pb->acked = upto;
		if (pb->rd_seq <= upto)
			pb->rd_seq = upto + 1;
		pb->st.acked += n;
		pthread_cond_broadcast(&pb->room);
	}
	pthread_mutex_unlock(&pb->mu);
	return n;
}

uint64_t vs_pktbuf__acked(struct vs_pktbuf *pb)
{
	uint64_t a;

	pthread_mutex_lock(&pb->mu);
	a = pb->acked;
	pthread_mutex_unlock(&pb->mu);
	return a;
}

void vs_pktbuf__stats(struct vs_pktbuf *pb, struct vs_pktbuf_stats *st)
{
	pthread_mutex_lock(&pb->mu);
	*st = pb->st;
	pthread_mutex_unlock(&pb->mu);
}

void vs_pktbuf_stats__print(const struct vs_pktbuf_stats *st, FILE *out)
{
#define VS_X(n) fprintf(out, "packetbuffer.%s %llu\n", #n, \
			(unsigned long long)st->n);
	VS_PKTBUF_STATS(VS_X)
#undef VS_X
}
