/* SPDX-License-Identifier: GPL-2.0-or-later */
/* role/cdr_spool internals, shared by cdr_spool.c and cdr_spool_io.c. */
#ifndef VS_CDR_SPOOL_INT_H
#define VS_CDR_SPOOL_INT_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "role/cdr_spool.h"

#define VS_SPOOL_REC_HDR 16 /* u32 len, u64 seq, u32 crc */

struct vs_spool_seg {
	uint64_t first, last; /* sequences; last < first: empty */
	uint64_t bytes;
};

struct vs_cdr_spool {
	char dir[PATH_MAX - 64];
	struct vs_cdr_spool_opts o;
	pthread_mutex_t mu; /* guards everything below but the writer's */
	struct vs_spool_seg *segs;
	size_t nsegs, segs_cap;
	uint64_t durable; /* highest synced sequence */
	uint64_t acked;
	uint64_t bytes;   /* all segments, synced or not */
	uint64_t dropped, appended, torn;
	/* Writer's own: the open segment and what waits to be written. */
	int wfd;
	uint64_t next_seq;
	uint64_t wlast;   /* last sequence appended */
	struct vs_buf wbuf;
	uint64_t last_drop_log_us;
};

void vs_spool__seg_path(const struct vs_cdr_spool *s, uint64_t first,
			char *buf, size_t len);
int vs_spool__fsync_dir(const struct vs_cdr_spool *s);
uint32_t vs_spool__crc(uint64_t seq, const void *body, uint32_t len);
/* Locked: appends a segment entry. 0 or -ENOMEM. */
int vs_spool__seg_add(struct vs_cdr_spool *s, uint64_t first);
/* Locked: unlinks segments all acknowledged but the writer's last one. */
void vs_spool__gc(struct vs_cdr_spool *s);

#endif
