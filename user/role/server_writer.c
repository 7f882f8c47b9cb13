// SPDX-License-Identifier: GPL-2.0-or-later
/* role/server_writer: one CDR writer, a thread with its own MariaDB store
 * (server_writer.h says why and how the server uses them). The queue and
 * the marks are shared with the epoll thread under w->mu; the store, the
 * rows pending their commit and the back-off are the writer thread's. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cdr/store.h"
#include "core/clock.h"
#include "core/log.h"
#include "role/server_writer.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000

struct job {
	struct job *next;
	uint16_t id_sensor;
	int has_cdr;		/* 0: only the sequence moves on */
	uint64_t seq;
	struct vs_cdr c;	/* c.streams points behind the job */
};

/* A CDR handed to the store, in order, until a commit covers it. row: 0
 * when the store skipped it (Call-ID known): done once those before are. */
struct pend {
	uint16_t id_sensor;
	uint8_t row;
	uint64_t seq;
};

struct vs_srv_writer {
	unsigned idx;
	int efd;
	struct vs_cdr_store *store;
	pthread_t th;
	int started;
	/* Shared with the epoll thread, under mu. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail;
	unsigned queued;
	int stop, full, down;
	uint64_t stop_at_ms;
	struct vs_srv_mark *marks;
	size_t nmarks, capmarks;
	uint64_t skipped;
	struct vs_mysql_stats db;
	/* The writer thread's own. */
	struct pend *pend;
	size_t phead, ptail, pcap;
	uint64_t committed_seen;	/* store rows committed, accounted */
	uint64_t first_ms;		/* oldest row not committed */
	unsigned uncommitted;
	unsigned backoff_ms;
};

static void wake_main(struct vs_srv_writer *w)
{
	uint64_t one = 1;

	if (write(w->efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, so the epoll thread wakes
		 * anyway; nothing else can fail on an eventfd. */
	}
}

/* --- the epoll thread's side ---------------------------------------------- */

int vs_srv_writer__push(struct vs_srv_writer *w, const struct vs_cdr *c,
			uint16_t id_sensor, uint64_t seq)
{
	size_t ns = c && c->streams ? c->n_streams : 0;
	struct job *j;

	/* Made before the lock, so that the queue is locked once a CDR. */
	j = malloc(sizeof(*j) + ns * sizeof(c->streams[0]));
	if (!j)
		return -ENOMEM;
	j->next = NULL;
	j->id_sensor = id_sensor;
	j->seq = seq;
	j->has_cdr = c != NULL;
	if (c)
		j->c = *c;
	j->c.n_streams = (uint32_t)ns;
	j->c.streams = ns ? (const struct vs_cdr_leg *)(j + 1) : NULL;
	if (ns)
		memcpy(j + 1, c->streams, ns * sizeof(c->streams[0]));
	pthread_mutex_lock(&w->mu);
	if (w->stop || w->queued >= VS_SRV_WRITER_QUEUE) {
		w->full = 1;
		pthread_mutex_unlock(&w->mu);
		free(j);
		return -EAGAIN;
	}
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	w->queued++;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

size_t vs_srv_writer__marks(struct vs_srv_writer *w, struct vs_srv_mark *out,
			    size_t max)
{
	size_t n;

	pthread_mutex_lock(&w->mu);
	n = w->nmarks < max ? w->nmarks : max;
	if (n) {
		memcpy(out, w->marks, n * sizeof(*out));
		memmove(w->marks, w->marks + n,
			(w->nmarks - n) * sizeof(*out));
		w->nmarks -= n;
	}
	pthread_mutex_unlock(&w->mu);
	return n;
}

void vs_srv_writer__stats(struct vs_srv_writer *w,
			  struct vs_srv_writer_stats *st)
{
	pthread_mutex_lock(&w->mu);
	st->db = w->db;
	st->skipped = w->skipped;
	st->queued = w->queued;
	st->down = w->down;
	pthread_mutex_unlock(&w->mu);
}

/* --- the writer thread's side --------------------------------------------- */

/* Raises sensor id's mark to seq; under mu. Out of memory it is dropped:
 * that sensor's next commit carries a higher one. */
static void mark(struct vs_srv_writer *w, uint16_t id, uint64_t seq)
{
	struct vs_srv_mark *m;
	size_t i, cap;

	for (i = 0; i < w->nmarks; i++) {
		if (w->marks[i].id_sensor == id) {
			if (seq > w->marks[i].seq)
				w->marks[i].seq = seq;
			return;
		}
	}
	if (w->nmarks == w->capmarks) {
		cap = w->capmarks ? 2 * w->capmarks : 16;
		m = realloc(w->marks, cap * sizeof(*m));
		if (!m)
			return;
		w->marks = m;
		w->capmarks = cap;
	}
	w->marks[w->nmarks++] = (struct vs_srv_mark){ id, seq };
}

/* Room for one more pending CDR, made before the store gets it: a CDR in
 * the store that is not in pend would shift every mark after it. */
static int pend_room(struct vs_srv_writer *w)
{
	struct pend *p;
	size_t cap;

	if (w->ptail < w->pcap)
		return 0;
	if (w->phead) {
		memmove(w->pend, w->pend + w->phead,
			(w->ptail - w->phead) * sizeof(*p));
		w->ptail -= w->phead;
		w->phead = 0;
		return 0;
	}
	cap = w->pcap ? 2 * w->pcap : 1024;
	p = realloc(w->pend, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	w->pend = p;
	w->pcap = cap;
	return 0;
}

/* The store committed rows since the last look: the pending CDRs they
 * cover, in order, become marks. */
static void settle(struct vs_srv_writer *w)
{
	struct vs_mysql_stats st;
	uint64_t rows;
	int any = 0;

	vs_mysql__stats(w->store, &st);
	rows = st.committed - w->committed_seen;
	/* Nothing committed and the oldest is a row: no mark moves (the
	 * usual case after an insert; the queue's lock is left alone). */
	if (!rows && (w->phead == w->ptail || w->pend[w->phead].row))
		return;
	w->committed_seen = st.committed;
	pthread_mutex_lock(&w->mu);
	while (w->phead < w->ptail) {
		const struct pend *p = &w->pend[w->phead];

		if (p->row) {
			if (!rows)
				break;
			rows--;
			w->uncommitted--;
		}
		mark(w, p->id_sensor, p->seq);
		w->phead++;
		any = 1;
	}
	w->db = st;
	pthread_mutex_unlock(&w->mu);
	if (w->phead == w->ptail)
		w->phead = w->ptail = 0;
	if (any)
		wake_main(w);
}

static void set_down(struct vs_srv_writer *w, int down)
{
	int changed;

	if (down)
		w->backoff_ms = w->backoff_ms ? 2 * w->backoff_ms :
						BACKOFF_MIN_MS;
	else
		w->backoff_ms = 0;
	if (w->backoff_ms > BACKOFF_MAX_MS)
		w->backoff_ms = BACKOFF_MAX_MS;
	pthread_mutex_lock(&w->mu);
	changed = w->down != down;
	w->down = down;
	pthread_mutex_unlock(&w->mu);
	if (changed)
		wake_main(w);
}

/* Puts jobs j.. (refused by the store) back at the front of the queue. */
static void requeue(struct vs_srv_writer *w, struct job *j)
{
	struct job *last = j;
	unsigned n = 1;

	while (last->next) {
		last = last->next;
		n++;
	}
	pthread_mutex_lock(&w->mu);
	last->next = w->head;
	w->head = j;
	if (!w->tail)
		w->tail = last;
	w->queued += n;
	pthread_mutex_unlock(&w->mu);
}

/* Inserts the jobs in order. 0, or -EAGAIN when the store refused one
 * (the database is away): it and the rest are queued again. */
static int insert_all(struct vs_srv_writer *w, struct job *j)
{
	struct job *next;
	int r;

	for (; j; j = next) {
		r = pend_room(w);
		if (!r)
			r = j->has_cdr ? vs_cdr_store__insert(w->store, &j->c) :
					 2; /* no row: a sequence only */
		if (r < 0) {
			requeue(w, j);
			return -EAGAIN;
		}
		if (r == 0 && !w->uncommitted)
			w->first_ms = vs_mono_ms();
		w->uncommitted += r == 0;
		w->pend[w->ptail++] = (struct pend){
			.id_sensor = j->id_sensor, .row = r == 0, .seq = j->seq
		};
		if (r == 1) {
			pthread_mutex_lock(&w->mu);
			w->skipped++;
			pthread_mutex_unlock(&w->mu);
		}
		next = j->next;
		free(j);
		settle(w); /* the store commits by itself when its batch fills */
	}
	return 0;
}

enum { W_WORK, W_COMMIT, W_DONE };

/* What to do next; waits under mu until there is something. */
static int wait_work(struct vs_srv_writer *w, uint64_t retry_at)
{
	struct timespec ts;
	uint64_t now, due;

	for (;;) {
		now = vs_mono_ms();
		if (w->stop && (now >= w->stop_at_ms ||
				(!w->head && !w->uncommitted)))
			return W_DONE;
		due = retry_at > now ? retry_at :
		      w->head ? 0 :
		      w->uncommitted ? w->first_ms + VS_SRV_WRITER_LINGER_MS :
				       UINT64_MAX;
		if (due <= now)
			return w->head ? W_WORK : W_COMMIT;
		if (w->stop && due > w->stop_at_ms)
			due = w->stop_at_ms;
		if (due == UINT64_MAX) {
			pthread_cond_wait(&w->cv, &w->mu);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		due -= now;
		ts.tv_sec += (time_t)(due / 1000);
		ts.tv_nsec += (long)(due % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	}
}

static void free_jobs(struct job *j)
{
	struct job *next;

	for (; j; j = next) {
		next = j->next;
		free(j);
	}
}

static void *run(void *arg)
{
	struct vs_srv_writer *w = arg;
	uint64_t retry_at = 0;
	struct job *j;
	int what, room, err;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		what = wait_work(w, retry_at);
		j = NULL;
		room = 0;
		if (what == W_WORK) {
			j = w->head;
			w->head = w->tail = NULL;
			w->queued = 0;
			room = w->full;
			w->full = 0;
		}
		pthread_mutex_unlock(&w->mu);
		if (what == W_DONE)
			break;
		if (room)
			wake_main(w);
		err = j ? insert_all(w, j) : vs_cdr_store__flush(w->store);
		if (!j)
			settle(w);
		set_down(w, err != 0);
		retry_at = err ? vs_mono_ms() + w->backoff_ms : 0;
	}
	pthread_mutex_lock(&w->mu);
	free_jobs(w->head);
	w->head = w->tail = NULL;
	w->queued = 0;
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct vs_srv_writer *vs_srv_writer__new(const struct vs_mysql_opts *o,
					 unsigned idx, int efd)
{
	struct vs_srv_writer *w = calloc(1, sizeof(*w));
	pthread_condattr_t ca;
	int err;

	if (!w)
		return NULL;
	w->idx = idx;
	w->efd = efd;
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* wait_work's */
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	w->store = vs_cdr_store__mysql(o); /* logs its cause */
	if (!w->store)
		goto fail;
	err = pthread_create(&w->th, NULL, run, w);
	if (err) {
		vs_err("server: CDR writer %u: cannot start a thread: %s", idx,
		       strerror(err));
		errno = err;
		goto fail;
	}
	w->started = 1;
	return w;
fail:
	err = errno;
	vs_srv_writer__free(w);
	errno = err;
	return NULL;
}

void vs_srv_writer__stop(struct vs_srv_writer *w, unsigned timeout_ms)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	w->stop_at_ms = vs_mono_ms() + timeout_ms;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	w->started = 0;
}

void vs_srv_writer__free(struct vs_srv_writer *w)
{
	if (!w)
		return;
	vs_srv_writer__stop(w, 0);
	vs_cdr_store__close(w->store);
	free_jobs(w->head);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w->marks);
	free(w->pend);
	free(w);
}
