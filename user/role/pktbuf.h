/* SPDX-License-Identifier: GPL-2.0-or-later */
/* role/pktbuf: the mirroring sensor's packet buffer (docs/distributed.md,
 * "Packet mirroring: sensor"). A FIFO of closed PACKETS batches, each an
 * opaque byte blob with a sequence number, between the capture thread (one
 * producer) and the sender thread (one reader).
 *
 *   memory (packetbuffer_total_maxheap)
 *     -> full: disk files under dir (packetbuffer_file_totalmaxsize)
 *        -> full: the batch is dropped, counted, and "packetbuffer: MEMORY
 *           IS FULL" logged at most every 10 s.
 *
 * Order is kept: once a batch went to disk, later batches go to disk too
 * until every disk batch is acknowledged. A batch stays (in memory or on
 * disk) until a cumulative acknowledgement covers it, so that after a
 * reconnect the reader rewinds and sends the unacknowledged ones again.
 * Files are this process's only: the files a previous run left are deleted
 * at open (their packets are too old for the server's time merge anyway).
 *
 * Sequence numbers are handed out here, one per accepted batch, without
 * gaps; the first is the wall clock in microseconds at open, so that a
 * restarted sensor numbers above everything the server saw from it. One
 * mutex guards everything, disk writes and reads of at most one batch
 * included (page cache, microseconds). */
#ifndef VS_PKTBUF_H
#define VS_PKTBUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "channel/wire.h"

struct vs_pktbuf_opts {
	size_t mem_max;		/* bytes of batches kept in memory */
	uint64_t disk_max;	/* bytes of disk files; 0 = no disk */
	const char *dir;	/* for the files (made if missing); may be
				 * NULL when disk_max is 0 */
	uint32_t seg_bytes;	/* roll disk files at this size [64 MiB] */
	uint64_t first_seq;	/* 0 = wall clock in microseconds */
};

#define VS_PKTBUF_STATS(X)                                                   \
	X(batches)        /* accepted (memory or disk) */                   \
	X(bytes)          /* accepted bytes */                              \
	X(frames)         /* accepted frames */                             \
	X(disk_batches)   /* of those, written to disk */                   \
	X(dropped_batches)/* buffer full (or disk write failed) */          \
	X(dropped_frames)                                                     \
	X(dropped_bytes)                                                      \
	X(disk_errors)    /* disk writes or reads that failed */            \
	X(acked)          /* batches freed by acknowledgements */           \
	X(mem_bytes)      /* now */                                         \
	X(mem_peak)                                                           \
	X(disk_bytes)     /* now */                                         \
	X(disk_peak)                                                          \
	X(disk_files)     /* now */

struct vs_pktbuf_stats {
#define VS_X(n) uint64_t n;
	VS_PKTBUF_STATS(VS_X)
#undef VS_X
};

struct vs_pktbuf;

/* NULL + errno (logged). Deletes stale files in dir first. */
struct vs_pktbuf *vs_pktbuf__open(const struct vs_pktbuf_opts *o);
/* Frees memory and deletes the disk files (what is in them is lost). */
void vs_pktbuf__close(struct vs_pktbuf *pb);

/* The sequence number the next accepted batch gets (producer: to write it
 * into the batch header before pushing). */
uint64_t vs_pktbuf__next_seq(struct vs_pktbuf *pb);

/* Producer: appends a copy of p[0..n) (nframes frames, for the counters)
 * as batch next_seq. When neither memory nor disk has room it waits up to
 * wait_ms for acknowledgements to make room (0: does not wait), then drops.
 * 0, or -ENOSPC when dropped (next_seq unchanged). */
int vs_pktbuf__push(struct vs_pktbuf *pb, const void *p, size_t n,
		    uint32_t nframes, int wait_ms);

/* Reader: copies the next batch not yet read into out and sets *seq: 1, 0
 * when there is none, or -errno when a disk read failed (the batch is then
 * skipped, counted and logged). */
int vs_pktbuf__next(struct vs_pktbuf *pb, struct vs_buf *out, uint64_t *seq);
/* Reader: the next vs_pktbuf__next starts again at the first batch not
 * acknowledged (after a reconnect). */
void vs_pktbuf__rewind(struct vs_pktbuf *pb);
/* Reader: every batch with a sequence <= upto is acknowledged: freed, and
 * disk files holding only such batches deleted. Returns how many batches
 * this acknowledged for the first time. */
uint64_t vs_pktbuf__ack(struct vs_pktbuf *pb, uint64_t upto);
/* Highest acknowledged sequence (next_seq - 1 when all are). */
uint64_t vs_pktbuf__acked(struct vs_pktbuf *pb);

void vs_pktbuf__stats(struct vs_pktbuf *pb, struct vs_pktbuf_stats *st);
/* "packetbuffer.* N" lines. */
void vs_pktbuf_stats__print(const struct vs_pktbuf_stats *st, FILE *out);

#endif
