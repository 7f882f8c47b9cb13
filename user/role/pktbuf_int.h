/* SPDX-License-Identifier: GPL-2.0-or-later */
/* role/pktbuf internals: the memory part and the reader (pktbuf.c), the disk
 * files (pktbuf_disk.c). Every field is guarded by mu. */
#ifndef VS_PKTBUF_INT_H
#define VS_PKTBUF_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>

#include "role/pktbuf.h"

#define VS_PKTBUF_SEG_DEFAULT (64u << 20)
#define VS_PKTBUF_REC_HDR 12 /* u64 seq, u32 len (host order) */
#define VS_PKTBUF_SUFFIX ".pkb"

struct pb_mem { /* one batch in memory */
	struct pb_mem *next;
	uint64_t seq;
	size_t len;
	uint8_t data[];
};

struct pb_seg { /* one disk file: batches first_seq .. last_seq */
	struct pb_seg *next;
	uint64_t first_seq, last_seq;
	uint64_t size;
};

struct vs_pktbuf {
	pthread_mutex_t mu;
	pthread_cond_t room;	/* signalled when acknowledgements free room */
	struct vs_pktbuf_opts o;
	char dir[PATH_MAX];	/* "" without disk */
	struct pb_mem *mhead, *mtail;
	struct pb_seg *shead, *stail;
	int wfd;		/* stail, open for appending */
	uint64_t next_seq;	/* of the next accepted batch */
	uint64_t acked;		/* every batch <= this is acknowledged */
	/* reader */
	uint64_t rd_seq;	/* next batch to hand out */
	struct pb_mem *rd_prev;	/* memory batch handed out last, or NULL */
	struct pb_seg *rd_seg;	/* disk file open for reading, or NULL */
	int rd_fd;
	uint64_t rd_off;	/* offset of batch rd_file_seq in rd_seg */
	uint64_t rd_file_seq;
	/* "MEMORY IS FULL" */
	uint64_t drop_log_ms;	/* monotonic ms of the last line, 0 = none */
	uint64_t drop_frames, drop_bytes; /* since that line */
	uint64_t disk_log_ms;
	struct vs_pktbuf_stats st;
};

/* pktbuf_disk.c; all called with mu held but init and fini. */
int vs_pktbuf_disk__init(struct vs_pktbuf *pb, const char *dir);
void vs_pktbuf_disk__fini(struct vs_pktbuf *pb);
/* 0, -ENOSPC (no room) or another -errno (write failed: logged). */
int vs_pktbuf_disk__push(struct vs_pktbuf *pb, const void *p, size_t n);
/* Reads batch pb->rd_seq into out: 0 or -errno (logged). */
int vs_pktbuf_disk__read(struct vs_pktbuf *pb, struct vs_buf *out);
/* Deletes the files whose batches are all <= upto. */
void vs_pktbuf_disk__ack(struct vs_pktbuf *pb, uint64_t upto);

#endif
