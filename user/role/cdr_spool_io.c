// SPDX-License-Identifier: GPL-2.0-or-later
/* role/cdr_spool: appending (pipeline thread), reading and acknowledging
 * (uplink thread). Only synced records are read, so a record the server
 * acknowledged can never be lost by a sensor crash and its sequence number
 * never handed out again. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "role/cdr_spool_int.h"

#define WBUF_MAX (1u << 20) /* written out (not synced) beyond this */

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int drain_wbuf(struct vs_cdr_spool *s)
{
	int err = write_all(s->wfd, s->wbuf.p, s->wbuf.len);

	if (!err)
		s->wbuf.len = 0;
	return err;
}

/* A new segment named after its first record. */
static int open_segment(struct vs_cdr_spool *s)
{
	char path[PATH_MAX];
	int err;

	vs_spool__seg_path(s, s->next_seq, path, sizeof(path));
	s->wfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (s->wfd < 0)
		return -errno;
	err = vs_spool__fsync_dir(s);
	if (err)
		return err;
	pthread_mutex_lock(&s->mu);
	err = vs_spool__seg_add(s, s->next_seq);
	pthread_mutex_unlock(&s->mu);
	return err;
}

static void log_drop(struct vs_cdr_spool *s)
{
	uint64_t t = now_us();

	if (s->last_drop_log_us && t - s->last_drop_log_us < 10000000)
		return;
	s->last_drop_log_us = t;
	vs_err("cdr spool %s: full (%llu bytes, limit %llu): CDRs dropped, "
	       "%llu so far; is the server reachable?", s->dir,
	       (unsigned long long)s->bytes,
	       (unsigned long long)s->o.max_bytes,
	       (unsigned long long)s->dropped);
}

int vs_cdr_spool__append(struct vs_cdr_spool *s, const void *body,
			 uint32_t len, uint64_t *seq)
{
	uint64_t rec = VS_SPOOL_REC_HDR + (uint64_t)len, q;
	uint8_t h[VS_SPOOL_REC_HDR];
	uint32_t crc;
	int err;

	if (len > s->o.max_record)
		return -EMSGSIZE;
	pthread_mutex_lock(&s->mu);
	if (s->bytes + rec > s->o.max_bytes) {
		s->dropped++;
		log_drop(s);
		pthread_mutex_unlock(&s->mu);
		return -ENOSPC;
	}
	s->bytes += rec;
	pthread_mutex_unlock(&s->mu);
	if (s->wfd < 0 && (err = open_segment(s))) {
		pthread_mutex_lock(&s->mu);
		s->bytes -= rec;
		pthread_mutex_unlock(&s->mu);
		vs_err("cdr spool %s: new segment: %s", s->dir, strerror(-err));
		return err;
	}
	q = s->next_seq;
	crc = vs_spool__crc(q, body, len);
	memcpy(h, &len, 4);
	memcpy(h + 4, &q, 8);
	memcpy(h + 12, &crc, 4);
	err = vs_buf__put(&s->wbuf, h, sizeof(h), 0);
	if (!err)
		err = vs_buf__put(&s->wbuf, body, len, 0);
	if (err)
		return err;
	pthread_mutex_lock(&s->mu);
	s->segs[s->nsegs - 1].last = q;
	s->segs[s->nsegs - 1].bytes += rec;
	s->next_seq = q + 1;
	s->appended++;
	pthread_mutex_unlock(&s->mu);
	s->wlast = q;
	*seq = q;
	if (s->wbuf.len >= WBUF_MAX)
		return drain_wbuf(s);
	return 0;
}

int vs_cdr_spool__sync(struct vs_cdr_spool *s)
{
	int err = 0, roll;

	if (s->wfd < 0)
		return 0;
	err = drain_wbuf(s);
	if (!err && fdatasync(s->wfd))
		err = -errno;
	if (err) {
		vs_err("cdr spool %s: write: %s", s->dir, strerror(-err));
		return err;
	}
	pthread_mutex_lock(&s->mu);
	s->durable = s->wlast;
	roll = s->segs[s->nsegs - 1].bytes >= s->o.seg_bytes;
	pthread_mutex_unlock(&s->mu);
	if (roll) {
		close(s->wfd);
		s->wfd = -1;
	}
	return 0;
}

void vs_cdr_spool__rewind(struct vs_cdr_spool *s, struct vs_cdr_spool_rd *rd)
{
	vs_cdr_spool__rd_close(rd);
	pthread_mutex_lock(&s->mu);
	rd->want = s->acked + 1;
	pthread_mutex_unlock(&s->mu);
}

void vs_cdr_spool__rd_close(struct vs_cdr_spool_rd *rd)
{
	if (rd->fd > 0)
		close(rd->fd);
	rd->fd = -1;
	rd->seg = 0;
	rd->off = 0;
}

/* Locked: the segment holding sequence rd->want (or the first after it). */
static const struct vs_spool_seg *find_seg(struct vs_cdr_spool *s,
					   struct vs_cdr_spool_rd *rd)
{
	for (size_t i = 0; i < s->nsegs; i++) {
		const struct vs_spool_seg *g = &s->segs[i];

		if (g->last < g->first || g->last < rd->want)
			continue;
		if (rd->want < g->first)
			rd->want = g->first; /* acknowledged before a restart */
		return g;
	}
	return NULL;
}

static int read_rec(struct vs_cdr_spool *s, struct vs_cdr_spool_rd *rd,
		    struct vs_buf *out, uint64_t *seq)
{
	uint8_t h[VS_SPOOL_REC_HDR];
	uint32_t len, crc;
	uint64_t q;
	int err;

	if (pread(rd->fd, h, sizeof(h), (off_t)rd->off) != (ssize_t)sizeof(h))
		return -EBADMSG;
	memcpy(&len, h, 4);
	memcpy(&q, h + 4, 8);
	memcpy(&crc, h + 12, 4);
	if (len > s->o.max_record)
		return -EBADMSG;
	out->len = 0;
	err = vs_buf__reserve(out, len ? len : 1, 0);
	if (err)
		return err;
	if (pread(rd->fd, out->p, len, (off_t)(rd->off + sizeof(h))) !=
		    (ssize_t)len ||
	    vs_spool__crc(q, out->p, len) != crc)
		return -EBADMSG;
	out->len = len;
	rd->off += sizeof(h) + len;
	*seq = q;
	return 0;
}

int vs_cdr_spool__next(struct vs_cdr_spool *s, struct vs_cdr_spool_rd *rd,
		       struct vs_buf *out, uint64_t *seq)
{
	char path[PATH_MAX];
	const struct vs_spool_seg *g;
	uint64_t first;
	int err;

	for (;;) {
		pthread_mutex_lock(&s->mu);
		g = rd->want <= s->durable ? find_seg(s, rd) : NULL;
		first = g ? g->first : 0;
		pthread_mutex_unlock(&s->mu);
		if (!g)
			return 0;
		if (rd->fd < 0 || rd->seg != first) {
			vs_cdr_spool__rd_close(rd);
			vs_spool__seg_path(s, first, path, sizeof(path));
			rd->fd = open(path, O_RDONLY | O_CLOEXEC);
			if (rd->fd < 0)
				return -errno;
			rd->seg = first;
		}
		err = read_rec(s, rd, out, seq);
		if (err)
			return err;
		if (*seq == rd->want) {
			rd->want++;
			return 1;
		}
		if (*seq > rd->want)
			return -EBADMSG; /* a gap in a synced segment */
	}
}

static int write_acked(struct vs_cdr_spool *s, uint64_t seq)
{
	char path[PATH_MAX], tmp[PATH_MAX], text[32];
	int fd, n, err = 0;

	snprintf(path, sizeof(path), "%s/acked", s->dir);
	snprintf(tmp, sizeof(tmp), "%s/acked.tmp", s->dir);
	n = snprintf(text, sizeof(text), "%llu\n", (unsigned long long)seq);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	err = write_all(fd, (const uint8_t *)text, (size_t)n);
	if (!err && fdatasync(fd))
		err = -errno;
	close(fd);
	if (!err && rename(tmp, path))
		err = -errno;
	return err ? err : vs_spool__fsync_dir(s);
}

int vs_cdr_spool__ack(struct vs_cdr_spool *s, uint64_t seq)
{
	int err;

	pthread_mutex_lock(&s->mu);
	if (seq > s->durable) /* the server cannot have what we never sent */
		seq = s->durable;
	if (seq <= s->acked) {
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	pthread_mutex_unlock(&s->mu);
	err = write_acked(s, seq);
	if (err) {
		vs_err("cdr spool %s: cannot persist the acknowledgement: %s",
		       s->dir, strerror(-err));
		return err;
	}
	pthread_mutex_lock(&s->mu);
	s->acked = seq;
	vs_spool__gc(s);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

uint64_t vs_cdr_spool__acked(struct vs_cdr_spool *s)
{
	uint64_t v;

	pthread_mutex_lock(&s->mu);
	v = s->acked;
	pthread_mutex_unlock(&s->mu);
	return v;
}

uint64_t vs_cdr_spool__last(struct vs_cdr_spool *s)
{
	uint64_t v;

	pthread_mutex_lock(&s->mu);
	v = s->next_seq - 1;
	pthread_mutex_unlock(&s->mu);
	return v;
}
