// SPDX-License-Identifier: GPL-2.0-or-later
/* role/cdr_spool: opening, recovering and closing the sensor's CDR spool
 * (cdr_spool.h). Recovery trusts nothing on disk: every record's length,
 * sequence and CRC are checked, and the first bad record of the last
 * segment ends it (a crash between write and fdatasync). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/log.h"
#include "role/cdr_spool_int.h"

void vs_spool__seg_path(const struct vs_cdr_spool *s, uint64_t first,
			char *buf, size_t len)
{
	snprintf(buf, len, "%s/%020" PRIu64 ".seg", s->dir, first);
}

int vs_spool__fsync_dir(const struct vs_cdr_spool *s)
{
	int fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

uint32_t vs_spool__crc(uint64_t seq, const void *body, uint32_t len)
{
	uLong c = crc32(0L, (const Bytef *)&seq, sizeof(seq));

	return (uint32_t)crc32(c, body, len);
}

int vs_spool__seg_add(struct vs_cdr_spool *s, uint64_t first)
{
	if (s->nsegs == s->segs_cap) {
		size_t cap = s->segs_cap ? s->segs_cap * 2 : 16;
		void *p = realloc(s->segs, cap * sizeof(*s->segs));

		if (!p)
			return -ENOMEM;
		s->segs = p;
		s->segs_cap = cap;
	}
	s->segs[s->nsegs++] = (struct vs_spool_seg){ first, first - 1, 0 };
	return 0;
}

void vs_spool__gc(struct vs_cdr_spool *s)
{
	char path[PATH_MAX];
	size_t i = 0, keep = 0;

	for (i = 0; i < s->nsegs; i++) {
		struct vs_spool_seg *g = &s->segs[i];

		if (i + 1 < s->nsegs && g->last <= s->acked) {
			vs_spool__seg_path(s, g->first, path, sizeof(path));
			if (unlink(path) && errno != ENOENT)
				vs_warn("cdr spool: cannot delete %s: %s", path,
					strerror(errno));
			s->bytes -= g->bytes;
			continue;
		}
		s->segs[keep++] = *g;
	}
	s->nsegs = keep;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The first sequences of DIR/<digits>.seg, sorted. */
static int list_segments(struct vs_cdr_spool *s, uint64_t **out, size_t *n)
{
	DIR *d = opendir(s->dir);
	struct dirent *e;
	uint64_t *v = NULL;
	size_t cap = 0;

	*n = 0;
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char *end;
		unsigned long long x = strtoull(e->d_name, &end, 10);

		if (end == e->d_name || strcmp(end, ".seg"))
			continue;
		if (*n == cap) {
			void *p = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!p) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = p;
		}
		v[(*n)++] = x;
	}
	closedir(d);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), cmp_u64);
	*out = v;
	return 0;
}

/* Checks the records of one segment; cuts it after the last good one. */
static int scan_segment(struct vs_cdr_spool *s, struct vs_spool_seg *g,
			uint8_t *body)
{
	char path[PATH_MAX];
	uint8_t h[VS_SPOOL_REC_HDR];
	uint64_t off = 0, seq, want = g->first;
	uint32_t len, crc;
	struct stat st;
	int fd, err = 0;

	vs_spool__seg_path(s, g->first, path, sizeof(path));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		return fd < 0 ? -errno : (close(fd), -EIO);
	for (;;) {
		if (pread(fd, h, sizeof(h), (off_t)off) != (ssize_t)sizeof(h))
			break;
		memcpy(&len, h, 4);
		memcpy(&seq, h + 4, 8);
		memcpy(&crc, h + 12, 4);
		if (len > s->o.max_record || seq != want ||
		    pread(fd, body, len, (off_t)(off + sizeof(h))) != (ssize_t)len ||
		    vs_spool__crc(seq, body, len) != crc)
			break;
		off += sizeof(h) + len;
		want++;
	}
	if (off < (uint64_t)st.st_size) {
		vs_warn("cdr spool: %s: %llu bytes after sequence %llu are torn "
			"or corrupt: cut", path,
			(unsigned long long)((uint64_t)st.st_size - off),
			(unsigned long long)(want - 1));
		s->torn += (uint64_t)st.st_size - off;
		if (ftruncate(fd, (off_t)off) || fsync(fd))
			err = -errno;
	}
	close(fd);
	g->last = want - 1;
	g->bytes = off;
	return err;
}

static int read_acked(struct vs_cdr_spool *s)
{
	char path[PATH_MAX];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/acked", s->dir);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	if (fscanf(f, "%llu", &v) != 1)
		vs_warn("cdr spool: %s unreadable: replaying everything", path);
	fclose(f);
	s->acked = v;
	return 0;
}

static int recover(struct vs_cdr_spool *s)
{
	uint64_t *firsts = NULL, last = 0;
	uint8_t *body = malloc(s->o.max_record);
	size_t n = 0;
	int err = body ? list_segments(s, &firsts, &n) : -ENOMEM;

	for (size_t i = 0; !err && i < n; i++) {
		err = vs_spool__seg_add(s, firsts[i]);
		if (!err)
			err = scan_segment(s, &s->segs[s->nsegs - 1], body);
		if (!err) {
			s->bytes += s->segs[s->nsegs - 1].bytes;
			if (s->segs[s->nsegs - 1].last >= s->segs[s->nsegs - 1].first)
				last = s->segs[s->nsegs - 1].last;
		}
	}
	free(body);
	free(firsts);
	if (err)
		return err;
	if (last < s->acked)
		last = s->acked;
	if (!last) {
		struct timespec ts;

		/* fresh: start at the clock, above any earlier life's numbers */
		clock_gettime(CLOCK_REALTIME, &ts);
		last = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
		s->acked = last; /* nothing before it is ours to send */
	}
	s->next_seq = last + 1;
	s->wlast = last;
	s->durable = last;
	vs_spool__gc(s);
	return 0;
}

struct vs_cdr_spool *vs_cdr_spool__open(const struct vs_cdr_spool_opts *o)
{
	struct vs_cdr_spool *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return NULL;
	s->o = *o;
	if (!s->o.max_bytes)
		s->o.max_bytes = 1ull << 30;
	if (!s->o.seg_bytes)
		s->o.seg_bytes = 4u << 20;
	if (!s->o.max_record)
		s->o.max_record = 1u << 20;
	s->wfd = -1;
	pthread_mutex_init(&s->mu, NULL);
	snprintf(s->dir, sizeof(s->dir), "%s", o->dir);
	if (mkdir(s->dir, 0750) && errno != EEXIST) {
		err = -errno;
		goto fail;
	}
	err = read_acked(s);
	if (!err)
		err = recover(s);
	if (!err) {
		vs_info("cdr spool %s: %zu segments, %llu bytes, acknowledged up "
			"to %llu, next sequence %llu", s->dir, s->nsegs,
			(unsigned long long)s->bytes,
			(unsigned long long)s->acked,
			(unsigned long long)s->next_seq);
		return s;
	}
fail:
	vs_err("cdr spool %s: %s", s->dir, strerror(-err));
	vs_cdr_spool__close(s);
	errno = -err;
	return NULL;
}

void vs_cdr_spool__close(struct vs_cdr_spool *s)
{
	if (!s)
		return;
	if (s->wfd >= 0)
		close(s->wfd);
	vs_buf__free(&s->wbuf);
	free(s->segs);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void vs_cdr_spool__stats(struct vs_cdr_spool *s, struct vs_cdr_spool_stats *st)
{
	pthread_mutex_lock(&s->mu);
	*st = (struct vs_cdr_spool_stats){
		.appended = s->appended, .dropped = s->dropped,
		.acked = s->acked, .next_seq = s->next_seq,
		.durable = s->durable, .bytes = s->bytes,
		.segments = s->nsegs, .torn = s->torn,
	};
	pthread_mutex_unlock(&s->mu);
}
