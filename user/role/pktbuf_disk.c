// SPDX-License-Identifier: GPL-2.0-or-later
/* role/pktbuf: the disk part. Files named after their first batch's
 * sequence number (%020llu.pkb) hold records of u64 seq, u32 len, then len
 * bytes, appended in order and rolled at seg_bytes. A file is deleted when
 * every batch in it is acknowledged. No checksums and no fsync: the files
 * live only as long as the process (stale ones are deleted at open), the
 * page cache is their durability. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/log.h"
#include "role/pktbuf_int.h"

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n > m && !strcmp(s + n - m, suf);
}

/* A previous run's batches are too old for the server's time merge
 * (receive_packetbuffer_maximum_time_diff_s): they are removed, not sent. */
static void remove_stale(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (has_suffix(e->d_name, VS_PKTBUF_SUFFIX) &&
		    !unlinkat(dirfd(d), e->d_name, 0))
			n++;
	closedir(d);
	if (n)
		vs_info("packetbuffer: removed %d files a previous run left in "
			"%s", n, dir);
}

int vs_pktbuf_disk__init(struct vs_pktbuf *pb, const char *dir)
{
	int err;

	if (!dir || !dir[0]) {
		if (!pb->o.disk_max)
			return 0;
		vs_err("packetbuffer: a disk buffer needs a directory");
		return -EINVAL;
	}
	if (snprintf(pb->dir, sizeof(pb->dir), "%s", dir) >=
	    (int)sizeof(pb->dir))
		return -ENAMETOOLONG;
	if (pb->o.disk_max) {
		err = vs_mkdir_p(dir, 0750);
		if (err) {
			vs_err("packetbuffer: cannot create %s: %s", dir,
			       strerror(-err));
			return err;
		}
	}
	remove_stale(dir);
	return 0;
}

static void seg_path(const struct vs_pktbuf *pb, uint64_t first, char *out,
		     size_t n)
{
	snprintf(out, n, "%s/%020llu" VS_PKTBUF_SUFFIX, pb->dir,
		 (unsigned long long)first);
}

static void seg_delete(struct vs_pktbuf *pb, struct pb_seg *s)
{
	char path[PATH_MAX + 32];

	seg_path(pb, s->first_seq, path, sizeof(path));
	if (unlink(path) && errno != ENOENT)
		vs_warn("packetbuffer: cannot delete %s: %s", path,
			strerror(errno));
	pb->st.disk_bytes -= s->size;
	pb->st.disk_files--;
	if (pb->rd_seg == s) {
		close(pb->rd_fd);
		pb->rd_fd = -1;
		pb->rd_seg = NULL;
	}
	if (pb->stail == s) {
		close(pb->wfd);
		pb->wfd = -1;
		pb->stail = NULL;
	}
	free(s);
}

void vs_pktbuf_disk__fini(struct vs_pktbuf *pb)
{
	struct pb_seg *s;

	while ((s = pb->shead)) {
		pb->shead = s->next;
		seg_delete(pb, s);
	}
}

/* Disk trouble is logged like a full buffer: counted, once per 10 s. */
static void disk_error(struct vs_pktbuf *pb, const char *what, int err)
{
	struct timespec ts;
	uint64_t now;

	pb->st.disk_errors++;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000;
	if (pb->disk_log_ms && now - pb->disk_log_ms < 10000)
		return;
	pb->disk_log_ms = now ? now : 1;
	vs_err("packetbuffer: %s in %s: %s (%llu disk errors so far)", what,
	       pb->dir, strerror(-err), (unsigned long long)pb->st.disk_errors);
}

/* Opens a new file for batch next_seq: the fd or -errno. */
static int seg_create(struct vs_pktbuf *pb)
{
	char path[PATH_MAX + 32];
	int fd;

	seg_path(pb, pb->next_seq, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	return fd < 0 ? -errno : fd;
}

static int seg_link(struct vs_pktbuf *pb, int fd)
{
	struct pb_seg *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->first_seq = pb->next_seq;
	s->last_seq = pb->next_seq - 1; /* empty */
	if (pb->stail) {
		close(pb->wfd);
		pb->stail->next = s;
	} else {
		pb->shead = s;
	}
	pb->stail = s;
	pb->wfd = fd;
	pb->st.disk_files++;
	return 0;
}

static int write_rec(int fd, uint64_t seq, const void *p, size_t n)
{
	uint8_t hdr[VS_PKTBUF_REC_HDR];
	uint32_t len = (uint32_t)n;
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { (void *)p, n } };
	ssize_t w;

	memcpy(hdr, &seq, 8);
	memcpy(hdr + 8, &len, 4);
	w = writev(fd, iov, 2);
	if (w == (ssize_t)(sizeof(hdr) + n))
		return 0;
	return w < 0 ? -errno : -ENOSPC;
}

int vs_pktbuf_disk__push(struct vs_pktbuf *pb, const void *p, size_t n)
{
	uint64_t rec = VS_PKTBUF_REC_HDR + (uint64_t)n;
	struct pb_seg *s = pb->stail;
	int fd = -1, err;

	if (n > UINT32_MAX || pb->st.disk_bytes + rec > pb->o.disk_max)
		return -ENOSPC;
	if (!s || s->size + rec > pb->o.seg_bytes) {
		fd = seg_create(pb);
		if (fd < 0) {
			disk_error(pb, "cannot create a file", fd);
			return fd;
		}
	}
	err = write_rec(fd >= 0 ? fd : pb->wfd, pb->next_seq, p, n);
	if (err) {
		disk_error(pb, "cannot write", err);
		if (fd >= 0) {
			char path[PATH_MAX + 32];

			close(fd);
			seg_path(pb, pb->next_seq, path, sizeof(path));
			unlink(path);
		} else if (ftruncate(pb->wfd, (off_t)s->size)) {
			pb->st.disk_errors++;
		}
		return err;
	}
	if (fd >= 0 && (err = seg_link(pb, fd))) {
		close(fd);
		return err;
	}
	s = pb->stail;
	s->last_seq = pb->next_seq;
	s->size += rec;
	pb->st.disk_bytes += rec;
	if (pb->st.disk_bytes > pb->st.disk_peak)
		pb->st.disk_peak = pb->st.disk_bytes;
	return 0;
}

static struct pb_seg *seg_find(struct vs_pktbuf *pb, uint64_t seq)
{
	struct pb_seg *s;

	for (s = pb->shead; s; s = s->next)
		if (seq >= s->first_seq && seq <= s->last_seq)
			return s;
	return NULL;
}

static int rd_open(struct vs_pktbuf *pb)
{
	char path[PATH_MAX + 32];
	struct pb_seg *s = seg_find(pb, pb->rd_seq);

	if (pb->rd_fd >= 0)
		close(pb->rd_fd);
	pb->rd_fd = -1;
	pb->rd_seg = NULL;
	if (!s)
		return -ENOENT;
	seg_path(pb, s->first_seq, path, sizeof(path));
	pb->rd_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pb->rd_fd < 0)
		return -errno;
	pb->rd_seg = s;
	pb->rd_off = 0;
	pb->rd_file_seq = s->first_seq;
	return 0;
}

/* Reads the record header at rd_off: 0 with *len set, or -errno. */
static int rd_hdr(struct vs_pktbuf *pb, uint32_t *len)
{
	uint8_t hdr[VS_PKTBUF_REC_HDR];
	uint64_t seq;
	ssize_t r = pread(pb->rd_fd, hdr, sizeof(hdr), (off_t)pb->rd_off);

	if (r != (ssize_t)sizeof(hdr))
		return r < 0 ? -errno : -EIO;
	memcpy(&seq, hdr, 8);
	memcpy(len, hdr + 8, 4);
	if (seq != pb->rd_file_seq ||
	    pb->rd_off + sizeof(hdr) + *len > pb->rd_seg->size)
		return -EIO;
	return 0;
}

static int rd_batch(struct vs_pktbuf *pb, struct vs_buf *out)
{
	uint32_t len = 0;
	ssize_t r;
	int err;

	if (!pb->rd_seg || pb->rd_seq < pb->rd_file_seq ||
	    pb->rd_seq > pb->rd_seg->last_seq) {
		err = rd_open(pb);
		if (err)
			return err;
	}
	for (;;) { /* skip to rd_seq (after a rewind into this file) */
		err = rd_hdr(pb, &len);
		if (err)
			return err;
		if (pb->rd_file_seq == pb->rd_seq)
			break;
		pb->rd_off += VS_PKTBUF_REC_HDR + len;
		pb->rd_file_seq++;
	}
	out->len = 0;
	if (vs_buf__reserve(out, len, 0))
		return -ENOMEM;
	r = pread(pb->rd_fd, out->p, len,
		  (off_t)(pb->rd_off + VS_PKTBUF_REC_HDR));
	if (r != (ssize_t)len)
		return r < 0 ? -errno : -EIO;
	out->len = len;
	pb->rd_off += VS_PKTBUF_REC_HDR + len;
	pb->rd_file_seq++;
	return 0;
}

int vs_pktbuf_disk__read(struct vs_pktbuf *pb, struct vs_buf *out)
{
	int err = rd_batch(pb, out);

	if (err) {
		disk_error(pb, "cannot read a batch back", err);
		if (pb->rd_fd >= 0)
			close(pb->rd_fd);
		pb->rd_fd = -1;
		pb->rd_seg = NULL;
	}
	return err;
}

void vs_pktbuf_disk__ack(struct vs_pktbuf *pb, uint64_t upto)
{
	struct pb_seg *s;

	while ((s = pb->shead) && s->last_seq <= upto) {
		pb->shead = s->next;
		seg_delete(pb, s);
	}
}
