/* SPDX-License-Identifier: GPL-2.0-or-later */
/* role/server_writer: the central server's CDR writers.
 *
 * MariaDB runs one connection's statements on one thread, and with its
 * stream rows a CDR costs that thread about 50 us: one connection takes
 * 16 000-20 000 CDRs/s on the 2-core VM, short of what sensors send
 * (docs/bench.md). So the server has `mysqlstore_max_threads_cdr` writers,
 * each a thread with its own store (connection), and gives all of one
 * sensor's CDRs to the same writer (id_sensor % n): a sensor's CDRs are
 * still committed in the order of its sequence, which its mark needs
 * (docs/distributed.md, "Exactly once").
 *
 * The epoll thread decodes a CDR and queues a copy; the writer inserts it
 * into its store, which commits every 4000 rows, and commits what it holds
 * once its queue ran dry 20 ms after its oldest uncommitted row. After each
 * commit it reports, per sensor, the highest sequence now committed, and
 * wakes the epoll thread through an eventfd, which saves the marks and
 * acknowledges. */
#ifndef VS_SERVER_WRITER_H
#define VS_SERVER_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "cdr/cdr.h"
#include "cdr/store_mysql.h"

/* Jobs a writer's queue holds at most; a push beyond is refused and the
 * epoll thread stops reading sensors until there is room (back-pressure:
 * the CDRs wait in the sensors' spools). */
#define VS_SRV_WRITER_QUEUE 4096
/* Commit what is held once the queue ran dry this long after the oldest
 * row (and every batch_rows rows in any case). */
#define VS_SRV_WRITER_LINGER_MS 20

struct vs_srv_writer;

/* "Sensor id_sensor's CDRs up to seq are committed." */
struct vs_srv_mark {
	uint16_t id_sensor;
	uint64_t seq;
};

struct vs_srv_writer_stats {
	struct vs_mysql_stats db;	/* of its store */
	uint64_t skipped;		/* Call-ID known already */
	unsigned queued;		/* jobs waiting now */
	int down;			/* its store refuses: database away */
};

/* Opens the writer's store (o: batch_rows = rows per commit) and starts
 * its thread. efd gets 1 written when there are marks to collect, when
 * the queue has room again after a refused push, and when the writer
 * goes down or comes back. NULL + errno (logged). */
struct vs_srv_writer *vs_srv_writer__new(const struct vs_mysql_opts *o,
					 unsigned idx, int efd);

/* Queues a copy of c (its streams too): CDR seq of sensor id_sensor.
 * c NULL: no CDR, only the sequence (one the epoll thread dropped as
 * unreadable or stored already), whose mark follows those before it. 0,
 * -EAGAIN (queue full, or stopping) or -ENOMEM. */
int vs_srv_writer__push(struct vs_srv_writer *w, const struct vs_cdr *c,
			uint16_t id_sensor, uint64_t seq);

/* Moves the marks committed since the last call into out[0..max): the
 * number moved. Call again while it returns max. */
size_t vs_srv_writer__marks(struct vs_srv_writer *w, struct vs_srv_mark *out,
			    size_t max);

void vs_srv_writer__stats(struct vs_srv_writer *w,
			  struct vs_srv_writer_stats *st);

/* Ends the thread once what is queued is inserted and committed, trying
 * for at most timeout_ms while the database is away; what is left stays
 * unacknowledged (the sensors send it again). Marks can still be collected
 * afterwards. */
void vs_srv_writer__stop(struct vs_srv_writer *w, unsigned timeout_ms);

/* Stops (if not yet) and frees. NULL is ignored. */
void vs_srv_writer__free(struct vs_srv_writer *w);

#endif
