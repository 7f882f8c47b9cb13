/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cdr/store_mysql: the central CDR store in MariaDB (libmariadb), on the
 * schema of cdr/schema.c, plus the sensors table the central server keeps.
 * Delivery contract (docs/mariadb.md):
 *   insert  0       accepted into the in-memory batch; durable once a later
 *                   flush() returns 0.
 *           1       skipped: check_exists_callid and the Call-ID is stored
 *                   (or waits in the batch).
 *           -EAGAIN not accepted: the database is unreachable or a batch
 *                   waits to be re-sent. Keep the CDR and insert it later.
 *   flush   0       every CDR accepted since the last flush() == 0 is
 *                   committed exactly once.
 *           -EAGAIN the batch is not committed yet; the store keeps it (one
 *                   batch at most) and re-sends it, after checking it did not
 *                   commit, when the database is back. Call flush() again
 *                   later; do not insert those CDRs again.
 * A batch's rows may go to the server before flush, in a transaction left
 * open between calls (pipelining); only its COMMIT acknowledges them.
 * One thread uses a store at a time. No call blocks longer than the
 * connect/read/write timeouts; while the database is down calls return at
 * once until the back-off delay has passed. */
#ifndef VS_STORE_MYSQL_H
#define VS_STORE_MYSQL_H

#include <stdint.h>

#include "cdr/store.h"

struct vs_mysql_opts {
	const char *host;	/* mysqlhost; NULL or "localhost": the socket */
	unsigned port;		/* mysqlport; 0 = 3306 */
	const char *socket;	/* mysqlsocket; NULL = libmariadb's default */
	const char *db;		/* mysqldb; must exist */
	const char *user;	/* mysqlusername (alias mysqluser) */
	const char *password;	/* mysqlpassword */
	int check_exists_callid;
	/* Tuning; 0 = the default in brackets. */
	unsigned batch_rows;	/* rows per transaction [1000] */
	unsigned batch_bytes;	/* bound bytes per transaction [4 MiB, capped by
				 * the server's max_allowed_packet] */
	unsigned timeout_s;	/* connect, read and write timeout [5] */
	unsigned retry_min_ms;	/* first reconnect delay [200] */
	unsigned retry_max_ms;	/* longest reconnect delay [10000] */
};

/* Connects, creates or migrates the schema (refusing a newer version) and
 * returns the store; NULL + errno with the cause logged: ECONNREFUSED
 * (nothing listens on host:port or socket), EHOSTUNREACH (unknown host),
 * EACCES (access denied), ENOENT (unknown database), EPROTO (newer schema),
 * ETIMEDOUT, EIO. */
struct vs_cdr_store *vs_cdr_store__mysql(const struct vs_mysql_opts *o);

struct vs_mysql_stats {
	uint64_t committed;	/* CDR rows committed */
	uint64_t skipped;	/* inserts that returned 1 */
	uint64_t refused;	/* inserts that returned -EAGAIN */
	uint64_t batches;	/* transactions committed */
	uint64_t resent;	/* batches sent again after a failure */
	uint64_t reconnects;	/* connections re-established */
	int connected;		/* 1 when a connection is up now */
};

/* Counters of a store made by vs_cdr_store__mysql; -EINVAL otherwise. */
int vs_mysql__stats(const struct vs_cdr_store *s, struct vs_mysql_stats *st);

/* One row of table sensors (docs/mariadb.md). Strings may be NULL (stored
 * as ''); times are microseconds since the epoch, 0 = NULL. */
struct vs_sensor_info {
	uint16_t id_sensor;	/* 1..65535: the key */
	const char *name;
	const char *address;	/* "ip:port" the sensor connected from */
	const char *version;	/* its software version */
	const char *mode;	/* "local", "mirror", "relay" */
	uint64_t connected_since_us;
	uint64_t last_seen_us;
	uint64_t cdrs;		/* CDRs received from it */
	uint64_t packets;	/* mirrored packets received from it */
	uint64_t bytes;		/* bytes received from it */
};

/* Inserts or replaces the row of si->id_sensor, at once (outside the CDR
 * batch). Call it on connect and on every heartbeat. 0, -EINVAL (not a
 * MariaDB store, id_sensor 0), -EAGAIN (database unreachable: the next
 * heartbeat will write it) or -EIO. */
int vs_mysql_sensors__upsert(struct vs_cdr_store *s,
			     const struct vs_sensor_info *si);

#endif
