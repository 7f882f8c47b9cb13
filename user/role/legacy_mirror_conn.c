// SPDX-License-Identifier: GPL-2.0-or-later
/* role/legacy_mirror_conn: the legacy mirror sender's queue and its
 * connection thread. The capture thread fills batches of records and
 * queues them (bounded by packetbuffer_total_maxheap: beyond it batches
 * are dropped and counted); the thread compresses each batch into the
 * connection's zstd stream (flushed per batch, so the receiver can decode
 * it at once) and writes it. Batches wait uncompressed, so that after a
 * reconnect they start a fresh stream. No acknowledgements (the legacy
 * mode has none): a batch whose write fails is lost and counted. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "core/log.h"
#include "role/legacy_mirror.h"
#include "role/legacy_mirror_int.h"

#define BATCH_FILL (64u << 10)	  /* a batch is queued at this size */
#define CONNECT_MS 5000
#define SEND_TIMEOUT_S 30	  /* a receiver that reads nothing is dead */
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
#define DROP_LOG_US 10000000ull	  /* "buffer full" at most every 10 s */

struct lm_batch {
	struct lm_batch *next;
	size_t len, cap;
	uint32_t frames;
	uint8_t data[];
};

struct vs_lm_send {
	const struct vs_conf *conf;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct lm_batch *head, *tail;	/* queue, under mu */
	size_t q_bytes, q_max;
	int busy;			/* the thread holds a batch */
	int closing, stop, done;	/* under mu */
	int fd;				/* under mu; -1 when not connected */
	struct lm_batch *cur;		/* capture thread only */
	uint64_t last_drop_log_us;	/* capture thread only */
	uint64_t frames_in, frames_nomem; /* capture thread only */
	ZSTD_CCtx *zc;			/* connection thread only */
	uint8_t *zbuf;
	size_t zcap;
	struct vs_lm_send_stats st;	/* under mu */
};

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

static void abs_after_ms(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/* --- the capture side ----------------------------------------------------*/

static void queue_batch(struct vs_lm_send *s, struct lm_batch *b)
{
	uint64_t now, dropped;

	pthread_mutex_lock(&s->mu);
	if (s->q_bytes + b->cap > s->q_max) {
		s->st.frames_dropped += b->frames;
		dropped = s->st.frames_dropped;
		pthread_mutex_unlock(&s->mu);
		now = mono_us();
		if (!s->last_drop_log_us ||
		    now - s->last_drop_log_us >= DROP_LOG_US) {
			vs_warn("legacy mirror: buffer full (%zu MB, "
				"packetbuffer_total_maxheap): dropping frames "
				"(%llu so far); is %s:%u reachable?",
				s->q_max >> 20,
				(unsigned long long)dropped,
				s->conf->pb.mirror_dest_ip,
				s->conf->pb.mirror_dest_port);
			s->last_drop_log_us = now;
		}
		free(b);
		return;
	}
	s->q_bytes += b->cap;
	b->next = NULL;
	if (s->tail)
		s->tail->next = b;
	else
		s->head = b;
	s->tail = b;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mu);
}

void vs_lm_send__push(struct vs_lm_send *s)
{
	if (s->cur && s->cur->frames)
		queue_batch(s, s->cur);
	else
		free(s->cur);
	s->cur = NULL;
}

int vs_lm_send__frame(struct vs_lm_send *s, const struct vs_frame *f)
{
	struct vs_frame g = *f;
	size_t need;

	if (g.caplen > VS_LM_MAX_CAPLEN) /* only pcap files hold such */
		g.caplen = VS_LM_MAX_CAPLEN;
	need = VS_LM_REC_LEN + g.caplen;
	if (s->cur && s->cur->len + need > s->cur->cap)
		vs_lm_send__push(s);
	if (!s->cur) {
		size_t cap = need > BATCH_FILL ? need : BATCH_FILL;

		s->cur = malloc(sizeof(*s->cur) + cap);
		if (!s->cur) {
			s->frames_nomem++;
			return 0;
		}
		s->cur->len = 0;
		s->cur->cap = cap;
		s->cur->frames = 0;
	}
	vs_lm__put_rec(s->cur->data + s->cur->len, &g);
	memcpy(s->cur->data + s->cur->len + VS_LM_REC_LEN, g.data, g.caplen);
	s->cur->len += need;
	s->cur->frames++;
	s->frames_in++;
	return 0;
}

/* --- the connection thread ---------------------------------------------*/

/* One TCP connection, bounded by CONNECT_MS; blocking afterwards, with a
 * send timeout. fd or -errno. */
static int connect_one(const struct addrinfo *ai)
{
	struct timeval tv = { .tv_sec = SEND_TIMEOUT_S };
	struct pollfd pf = { .events = POLLOUT };
	socklen_t sl = sizeof(int);
	int fd, err = 0;

	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			err = -errno;
			goto fail;
		}
		pf.fd = fd;
		err = poll(&pf, 1, CONNECT_MS);
		if (err <= 0) {
			err = err ? -errno : -ETIMEDOUT;
			goto fail;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
			err = errno;
		if (err) {
			err = -err;
			goto fail;
		}
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		err = -errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

static int connect_to(const char *host, uint16_t port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	char svc[8];
	int fd = -EHOSTUNREACH;

	snprintf(svc, sizeof(svc), "%u", port);
	if (getaddrinfo(host, svc, &hints, &res))
		return -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = connect_one(ai);
		if (fd >= 0)
			break;
	}
	freeaddrinfo(res);
	return fd;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Compresses b into the connection's stream, flushed, and writes it. */
static int send_batch(struct vs_lm_send *s, int fd, const struct lm_batch *b,
		      size_t *wire)
{
	ZSTD_inBuffer in = { b->data, b->len, 0 };
	size_t need = ZSTD_compressBound(b->len) + 64, zr;
	ZSTD_outBuffer out;

	if (s->zcap < need) {
		uint8_t *nb = realloc(s->zbuf, need);

		if (!nb)
			return -ENOMEM;
		s->zbuf = nb;
		s->zcap = need;
	}
	out = (ZSTD_outBuffer){ s->zbuf, s->zcap, 0 };
	do {
		zr = ZSTD_compressStream2(s->zc, &out, &in, ZSTD_e_flush);
		if (ZSTD_isError(zr)) {
			vs_err("legacy mirror: zstd: %s",
			       ZSTD_getErrorName(zr));
			return -EIO;
		}
	} while (zr && out.pos < out.size);
	if (zr)
		return -ENOBUFS; /* cannot happen: the bound holds a flush */
	*wire = out.pos;
	return write_all(fd, s->zbuf, out.pos);
}

/* Waits until stop or ms passed. Under mu. */
static void nap_locked(struct vs_lm_send *s, unsigned ms)
{
	struct timespec until;

	abs_after_ms(&until, ms);
	while (!s->stop &&
	       pthread_cond_timedwait(&s->cond, &s->mu, &until) == 0)
		;
}

/* Connects, with back-off; sends the hello. Under mu (released while
 * connecting). 0 when connected, -1 when told to stop. */
static int conn_up(struct vs_lm_send *s, unsigned *backoff, int *logged)
{
	const struct vs_conf_pb *pb = &s->conf->pb;
	uint8_t hello[VS_LM_HELLO_LEN];
	int fd;

	while (!s->stop) {
		/* closing with nothing queued: no reason to connect */
		if (s->closing && !s->head)
			return -1;
		pthread_mutex_unlock(&s->mu);
		fd = connect_to(pb->mirror_dest_ip, pb->mirror_dest_port);
		if (fd >= 0) {
			vs_lm__put_hello(hello, s->conf->id_sensor,
					 VS_LM_COMP_ZSTD);
			ZSTD_CCtx_reset(s->zc, ZSTD_reset_session_only);
			if (write_all(fd, hello, sizeof(hello)) < 0) {
				close(fd);
				fd = -EPIPE;
			}
		}
		pthread_mutex_lock(&s->mu);
		if (fd >= 0) {
			s->fd = fd;
			s->st.connects++;
			s->st.bytes_wire += sizeof(hello);
			vs_info("legacy mirror: connected to %s port %u "
				"(unencrypted)", pb->mirror_dest_ip,
				pb->mirror_dest_port);
			*backoff = BACKOFF_MIN_MS;
			*logged = 0;
			return 0;
		}
		if (!*logged) /* once per outage, not per attempt */
			vs_warn("legacy mirror: cannot connect to %s port %u: "
				"%s; retrying (up to every %u s)",
				pb->mirror_dest_ip, pb->mirror_dest_port,
				strerror(-fd), BACKOFF_MAX_MS / 1000);
		*logged = 1;
		nap_locked(s, *backoff);
		*backoff = *backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
							    *backoff * 2;
	}
	return -1;
}

static void conn_down(struct vs_lm_send *s, int err, uint32_t lost)
{
	vs_warn("legacy mirror: connection to %s port %u lost: %s (%u frames "
		"in flight lost); reconnecting",
		s->conf->pb.mirror_dest_ip, s->conf->pb.mirror_dest_port,
		strerror(-err), lost);
	close(s->fd);
	s->fd = -1;
}

static void *send_main(void *arg)
{
	struct vs_lm_send *s = arg;
	unsigned backoff = BACKOFF_MIN_MS;
	struct lm_batch *b;
	struct timespec until;
	size_t wire = 0;
	int logged = 0, err, fd;

	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		if (s->fd < 0 && conn_up(s, &backoff, &logged))
			break;
		if (!s->head) {
			if (s->closing)
				break;
			abs_after_ms(&until, 1000);
			pthread_cond_timedwait(&s->cond, &s->mu, &until);
			continue;
		}
		b = s->head;
		s->head = b->next;
		if (!s->head)
			s->tail = NULL;
		s->busy = 1;
		fd = s->fd;
		pthread_mutex_unlock(&s->mu);
		err = send_batch(s, fd, b, &wire);
		pthread_mutex_lock(&s->mu);
		s->busy = 0;
		s->q_bytes -= b->cap;
		if (err) {
			s->st.frames_lost += b->frames;
			conn_down(s, err, b->frames);
		} else {
			s->st.frames_sent += b->frames;
			s->st.bytes_raw += b->len;
			s->st.bytes_wire += wire;
		}
		free(b);
		pthread_cond_broadcast(&s->cond);
	}
	s->busy = 0;
	s->done = 1;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

struct vs_lm_send *vs_lm_send__open(const struct vs_conf *c)
{
	struct vs_lm_send *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;
	int err;

	if (!s)
		return NULL;
	s->conf = c;
	s->fd = -1;
	s->q_max = (size_t)c->pb.maxheap_mb << 20;
	s->zc = ZSTD_createCCtx();
	if (!s->zc) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	/* level 1: the sender's CPU matters more than the last bytes */
	ZSTD_CCtx_setParameter(s->zc, ZSTD_c_compressionLevel, 1);
	ZSTD_CCtx_setParameter(s->zc, ZSTD_c_windowLog, 20);
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	err = pthread_create(&s->thread, NULL, send_main, s);
	if (err) {
		vs_err("legacy mirror: cannot start the sending thread: %s",
		       strerror(err));
		ZSTD_freeCCtx(s->zc);
		free(s);
		errno = err;
		return NULL;
	}
	return s;
}

static void print_stats(const struct vs_lm_send_stats *st, FILE *out)
{
#define VS_X(n) fprintf(out, "legacy.%s %llu\n", #n, (unsigned long long)st->n);
	VS_LM_SEND_STATS(VS_X)
#undef VS_X
}

int vs_lm_send__close(struct vs_lm_send *s, unsigned drain_ms, FILE *stats)
{
	struct lm_batch *b, *next;
	struct timespec until;
	uint64_t left = 0;
	int err;

	if (!s)
		return 0;
	vs_lm_send__push(s);
	abs_after_ms(&until, drain_ms);
	pthread_mutex_lock(&s->mu);
	s->closing = 1;
	pthread_cond_broadcast(&s->cond);
	while ((s->head || s->busy) && !s->done &&
	       pthread_cond_timedwait(&s->cond, &s->mu, &until) == 0)
		;
	s->stop = 1;
	if (s->fd >= 0) /* wakes a send blocked on a silent receiver */
		shutdown(s->fd, SHUT_RDWR);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	for (b = s->head; b; b = next) {
		next = b->next;
		left += b->frames;
		free(b);
	}
	s->st.frames_lost += left;
	s->st.frames_queued = s->frames_in;
	s->st.frames_dropped += s->frames_nomem;
	if (s->fd >= 0)
		close(s->fd);
	vs_info("legacy mirror: %llu frames queued, %llu sent, %llu dropped "
		"(buffer full), %llu lost (connection); %llu bytes of records, "
		"%llu on the wire",
		(unsigned long long)s->st.frames_queued,
		(unsigned long long)s->st.frames_sent,
		(unsigned long long)s->st.frames_dropped,
		(unsigned long long)s->st.frames_lost,
		(unsigned long long)s->st.bytes_raw,
		(unsigned long long)s->st.bytes_wire);
	if (stats)
		print_stats(&s->st, stats);
	err = s->st.frames_sent == s->st.frames_queued ? 0 : -EIO;
	ZSTD_freeCCtx(s->zc);
	free(s->zbuf);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->mu);
	free(s);
	return err;
}
