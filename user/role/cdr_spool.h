/* SPDX-License-Identifier: GPL-2.0-or-later */
/* role/cdr_spool: a sensor's CDRs on disk until the central server has
 * committed them (docs/distributed.md).
 *
 * Append-only segment files DIR/<first seq>.seg of records
 *   u32 len, u64 seq, u32 crc32(seq bytes, body), body
 * (host byte order: the files never leave the machine), and DIR/acked
 * holding the highest sequence the server acknowledged. Sequence numbers
 * are contiguous; a fresh spool starts at the wall clock in microseconds,
 * so that a sensor whose spooldir was wiped still numbers above what the
 * server has seen from it. One writer thread (append, sync) and one reader
 * thread (rewind, next, ack) may use a spool at once. */
#ifndef VS_CDR_SPOOL_H
#define VS_CDR_SPOOL_H

#include <stdint.h>

#include "channel/wire.h"

struct vs_cdr_spool;

struct vs_cdr_spool_opts {
	const char *dir;	/* created when missing */
	uint64_t max_bytes;	/* segments in all; 0 = 1 GiB */
	uint32_t seg_bytes;	/* roll to a new segment past this [4 MiB] */
	uint32_t max_record;	/* largest body [1 MiB] */
};

struct vs_cdr_spool_stats {
	uint64_t appended, dropped, acked, next_seq, durable, bytes;
	uint64_t segments, torn; /* torn: bytes cut from a torn tail */
};

/* Opens or creates the spool, cuts a torn last record, deletes acked
 * segments. NULL + errno (logged). */
struct vs_cdr_spool *vs_cdr_spool__open(const struct vs_cdr_spool_opts *o);
void vs_cdr_spool__close(struct vs_cdr_spool *s);

/* Writer. append: the record gets the next sequence (*seq); not durable
 * until sync. -ENOSPC: over max_bytes, dropped (counted, logged at most
 * every 10 s); -EMSGSIZE: body above max_record; -EIO. */
int vs_cdr_spool__append(struct vs_cdr_spool *s, const void *body,
			 uint32_t len, uint64_t *seq);
/* Writes and fdatasyncs what was appended; records up to the returned
 * sequence may now be read. 0 or -errno. */
int vs_cdr_spool__sync(struct vs_cdr_spool *s);

/* Reader: a cursor over durable records. */
struct vs_cdr_spool_rd {
	int fd;
	uint64_t seg;	/* first sequence of the open segment */
	uint64_t off;
	uint64_t want;	/* next sequence to return */
};
/* Positions rd at the first record not acknowledged (after a connect). */
void vs_cdr_spool__rewind(struct vs_cdr_spool *s, struct vs_cdr_spool_rd *rd);
void vs_cdr_spool__rd_close(struct vs_cdr_spool_rd *rd);
/* 1 with the body in out (replaced) and *seq, 0 when no more durable
 * record, or -errno (-EBADMSG: a corrupt record in a synced segment). */
int vs_cdr_spool__next(struct vs_cdr_spool *s, struct vs_cdr_spool_rd *rd,
		       struct vs_buf *out, uint64_t *seq);

/* Everything up to seq is committed at the server: persists it (fsync'd)
 * and deletes segments whose records are all acknowledged. Smaller or
 * equal values than the current one are ignored. 0 or -errno. */
int vs_cdr_spool__ack(struct vs_cdr_spool *s, uint64_t seq);
uint64_t vs_cdr_spool__acked(struct vs_cdr_spool *s);
/* Highest sequence handed out so far (0: none yet). */
uint64_t vs_cdr_spool__last(struct vs_cdr_spool *s);
void vs_cdr_spool__stats(struct vs_cdr_spool *s, struct vs_cdr_spool_stats *st);

#endif
