// SPDX-License-Identifier: GPL-2.0-or-later
/* role/hwm: high-water marks and the existence check, on the server's own
 * libmariadb connection (hwm.h). Any error drops the connection; the next
 * call reconnects once its back-off delay (200 ms doubling to 5 s) has
 * passed, so no call blocks longer than one timeout. */
#include <errno.h>
#include <mariadb/mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "role/hwm.h"

struct vs_hwm {
	struct vs_mysql_opts o;
	MYSQL *db;
	uint64_t retry_at_ms;
	unsigned backoff_ms;
	int down_logged;
	char *sql;	/* save: reused statement text */
	size_t sql_cap;
};

static void drop(struct vs_hwm *h, const char *what)
{
	if (h->db) {
		if (!h->down_logged)
			vs_warn("server: bookkeeping connection to MariaDB "
				"lost (%s: %s): acknowledgements wait",
				what, mysql_error(h->db));
		h->down_logged = 1;
		mysql_close(h->db);
		h->db = NULL;
	}
	h->backoff_ms = h->backoff_ms ? h->backoff_ms * 2 : 200;
	if (h->backoff_ms > 5000)
		h->backoff_ms = 5000;
	h->retry_at_ms = vs_mono_ms() + h->backoff_ms;
}

static const char create_sql[] =
	"CREATE TABLE IF NOT EXISTS vs_dist_hwm ("
	"id_sensor SMALLINT UNSIGNED NOT NULL PRIMARY KEY, "
	"seq BIGINT UNSIGNED NOT NULL, "
	"updated DATETIME(6) NOT NULL) ENGINE=InnoDB";

static int connect_db(struct vs_hwm *h)
{
	unsigned t = h->o.timeout_s ? h->o.timeout_s : 5;
	my_bool off = 0;
	MYSQL *m;

	if (h->db)
		return 0;
	if (vs_mono_ms() < h->retry_at_ms)
		return -EAGAIN;
	m = mysql_init(NULL);
	if (!m)
		return -ENOMEM;
	mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &t);
	mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &t);
	mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &t);
	mysql_optionsv(m, MYSQL_OPT_RECONNECT, &off);
	mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_optionsv(m, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00'");
	if (!mysql_real_connect(m, h->o.host, h->o.user, h->o.password,
				h->o.db, h->o.port, h->o.socket, 0) ||
	    mysql_query(m, create_sql)) {
		h->db = m;
		drop(h, "connect");
		return -EAGAIN;
	}
	h->db = m;
	if (h->down_logged)
		vs_info("server: bookkeeping connection to MariaDB is back");
	h->down_logged = 0;
	h->backoff_ms = 0;
	return 0;
}

struct vs_hwm *vs_hwm__open(const struct vs_mysql_opts *o)
{
	struct vs_hwm *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->o = *o;
	if (connect_db(h)) {
		vs_err("server: cannot open the bookkeeping connection to "
		       "MariaDB");
		vs_hwm__close(h);
		errno = EIO;
		return NULL;
	}
	return h;
}

void vs_hwm__close(struct vs_hwm *h)
{
	if (!h)
		return;
	if (h->db)
		mysql_close(h->db);
	free(h->sql);
	free(h);
}

/* One value from a one-row SELECT: 1 with *v, 0 no row, -EAGAIN. */
static int select_u64(struct vs_hwm *h, const char *sql, uint64_t *v)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	int got = 0;

	if (connect_db(h))
		return -EAGAIN;
	if (mysql_query(h->db, sql) || !(r = mysql_store_result(h->db))) {
		drop(h, "query");
		return -EAGAIN;
	}
	row = mysql_fetch_row(r);
	if (row && row[0]) {
		*v = strtoull(row[0], NULL, 10);
		got = 1;
	}
	mysql_free_result(r);
	return got;
}

int vs_hwm__load(struct vs_hwm *h, uint16_t id_sensor, uint64_t *seq)
{
	char sql[96];
	int r;

	*seq = 0;
	snprintf(sql, sizeof(sql),
		 "SELECT seq FROM vs_dist_hwm WHERE id_sensor = %u", id_sensor);
	r = select_u64(h, sql, seq);
	return r < 0 ? r : 0;
}

int vs_hwm__save(struct vs_hwm *h, const uint16_t *ids, const uint64_t *seqs,
		 size_t n)
{
	size_t need = 160 + n * 64, len;

	if (!n)
		return 0;
	if (connect_db(h))
		return -EAGAIN;
	if (need > h->sql_cap) {
		char *p = realloc(h->sql, need);

		if (!p)
			return -ENOMEM;
		h->sql = p;
		h->sql_cap = need;
	}
	len = (size_t)snprintf(h->sql, need,
			       "INSERT INTO vs_dist_hwm (id_sensor, seq, "
			       "updated) VALUES ");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(h->sql + len, need - len,
					"%s(%u, %llu, UTC_TIMESTAMP(6))",
					i ? ", " : "", ids[i],
					(unsigned long long)seqs[i]);
	snprintf(h->sql + len, need - len,
		 " ON DUPLICATE KEY UPDATE seq = GREATEST(seq, VALUES(seq)), "
		 "updated = VALUES(updated)");
	if (mysql_query(h->db, h->sql)) {
		drop(h, "save");
		return -EAGAIN;
	}
	return 0;
}

int vs_hwm__cdr_exists(struct vs_hwm *h, uint16_t id_sensor,
		       const char *call_id, uint64_t calldate_us)
{
	size_t n = strlen(call_id);
	char esc[2 * 256 + 1], sql[768];
	uint64_t one;

	if (n > 255 || connect_db(h))
		return n > 255 ? 0 : -EAGAIN;
	mysql_real_escape_string(h->db, esc, call_id, (unsigned long)n);
	snprintf(sql, sizeof(sql),
		 "SELECT 1 FROM cdr WHERE call_id = '%s' AND id_sensor = %u "
		 "AND calldate_us = %llu LIMIT 1", esc, id_sensor,
		 (unsigned long long)calldate_us);
	return select_u64(h, sql, &one);
}
