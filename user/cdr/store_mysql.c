// SPDX-License-Identifier: GPL-2.0-or-later
/* MariaDB store. CDRs and their streams are copied into column arrays in
 * memory and sent, when the batch is full or on flush, in one transaction
 * as two prepared INSERTs executed with array binding (the binary bulk
 * protocol, COM_STMT_BULK_EXECUTE): one round trip per table and one log
 * sync per batch, and the server parses no values. While the batch fills,
 * its rows already go to the server in the open transaction, a quarter of
 * a batch at a time, without waiting for the answer (pipe_run), so that
 * the server inserts while the caller converts the next CDRs. The batch
 * is kept until its COMMIT is acknowledged, so a batch lost with the
 * connection is sent again; a marker row (vs_writer) written in the same
 * transaction tells, after a reconnect, whether a COMMIT whose answer was
 * lost did happen, so nothing is stored twice. Contract: store_mysql.h and
 * docs/mariadb.md. */
#include <errno.h>
#include <mariadb/errmsg.h>
#include <mariadb/mysql.h>
#include <mariadb/mysqld_error.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "cdr/schema.h"
#include "cdr/store_mysql_int.h"
#include "core/addr.h"
#include "core/hash.h"
#include "core/log.h"

#define DEF_BATCH_ROWS 1000
#define DEF_BATCH_BYTES (4u << 20)
#define DEF_TIMEOUT_S 5
#define DEF_RETRY_MIN_MS 200
#define DEF_RETRY_MAX_MS 10000
#define LOG_EVERY_US (30ull * 1000000)	/* "still down" at most this often */
#define LOCK_WAIT_S 10			/* innodb_lock_wait_timeout */
#define CHUNK_MIN 16		/* pipelined executions: rows at least, */
#define CHUNK_MAX 256		/* at most, and a quarter of a batch between */
#define ASYNC_STACK (256u << 10) /* libmariadb's non-blocking calls run here */
#define DAY_US (86400ull * 1000000)
#define ID_SEQ "vs_cdr_id"	/* the sequence cdr.ID comes from */
/* IDs asked for in one query at most: the recursive query that makes the
 * rows stops at max_recursive_iterations (1000 by default); fewer rows
 * than asked are taken as they come. */
#define ID_BLOCK 500
#define MAX_TIME_US (253402300799ull * 1000000 + 999999) /* 9999-12-31 */


static const struct vs_cdr_store_ops mysql_ops;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* --- text (Call-ID lookup, sensors) and UTF-8 ---------------------------- */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0; /* overlong, surrogate, above U+10FFFF */
	return len;
}

/* Appends s[0..n) quoted. Bytes that are not UTF-8 become '?': a utf8mb4
 * column refuses them, and one bad Call-ID would fail the whole batch.
 * Writes at most 2 * n + 2 bytes. */
static char *put_text(char *p, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	*p++ = '\'';
	while (i < n) {
		k = utf8_seq(u + i, n - i);
		if (k > 1) {
			memcpy(p, u + i, k);
			p += k;
			i += k;
			continue;
		}
		switch (k ? u[i] : '?') {
		case '\'': *p++ = '\\'; *p++ = '\''; break;
		case '\\': *p++ = '\\'; *p++ = '\\'; break;
		case '\0': *p++ = '\\'; *p++ = '0'; break;
		case '\n': *p++ = '\\'; *p++ = 'n'; break;
		case '\r': *p++ = '\\'; *p++ = 'r'; break;
		case 0x1a: *p++ = '\\'; *p++ = 'Z'; break;
		default: *p++ = k ? (char)u[i] : '?'; break;
		}
		i++;
	}
	*p++ = '\'';
	return p;
}

/* Copies s[0..n) into d with every byte that is not part of valid UTF-8
 * replaced by '?', as put_text does. Writes n bytes. */
static void copy_utf8(char *d, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n && u[i] < 0x80) /* ASCII, the usual case: as is */
		i++;
	memcpy(d, s, i);
	while (i < n) {
		k = utf8_seq(u + i, n - i);
		if (k) {
			memcpy(d + i, u + i, k);
			i += k;
		} else {
			d[i++] = '?';
		}
	}
}

/* --- the batch in bound arrays ---------------------------------------------- */

static enum enum_field_types param_type(enum vs_col_kind k)
{
	switch (k) {
	case VS_COL_DOUBLE:
	case VS_COL_SINCE_CALL:
		return MYSQL_TYPE_DOUBLE;
	case VS_COL_DATETIME:
		return MYSQL_TYPE_DATETIME;
	case VS_COL_STR:
	case VS_COL_ADDR:
	case VS_COL_HANGUP:
	case VS_COL_END:
		return MYSQL_TYPE_STRING;
	default:
		return MYSQL_TYPE_LONGLONG;
	}
}

/* (Re)allocates p's arrays for cap rows, keeping the first `keep`. */
static int param_alloc(struct param *p, unsigned cap, unsigned keep)
{
	size_t n = cap, vsz;
	struct param q = *p;
	char *b;

	vsz = p->type == MYSQL_TYPE_STRING ?
		      sizeof(char *) + sizeof(unsigned long) + sizeof(uint32_t) :
	      p->type == MYSQL_TYPE_DATETIME ?
		      sizeof(MYSQL_TIME) + sizeof(char *) :
		      sizeof(int64_t);
	b = malloc(n * (vsz + 1));
	if (!b)
		return -ENOMEM;
	q.block = b;
	if (p->type == MYSQL_TYPE_DATETIME) {
		/* Bound as an array of pointers (libmariadb's rule for
		 * types without a fixed packed length). */
		q.tm = (MYSQL_TIME *)b;
		q.ptr = (char **)(q.tm + n);
		q.ind = (char *)(q.ptr + n);
		if (keep)
			memcpy(q.tm, p->tm, keep * sizeof(*q.tm));
	} else if (p->type == MYSQL_TYPE_STRING) {
		q.ptr = (char **)b;
		q.len = (unsigned long *)(b + n * sizeof(char *));
		q.off = (uint32_t *)(q.len + n);
		q.ind = (char *)(q.off + n);
		if (keep) {
			memcpy(q.len, p->len, keep * sizeof(*q.len));
			memcpy(q.off, p->off, keep * sizeof(*q.off));
		}
	} else {
		q.i = (int64_t *)b;
		q.d = (double *)b; /* one of the two is used */
		q.ind = b + n * sizeof(int64_t);
		if (keep)
			memcpy(b, p->block, keep * sizeof(int64_t));
	}
	if (keep)
		memcpy(q.ind, p->ind, keep);
	free(p->block);
	*p = q;
	return 0;
}

static int table_grow(struct table *t, unsigned cap)
{
	unsigned k;
	int err = 0;

	for (k = 0; k < t->np && !err; k++)
		err = param_alloc(&t->p[k], cap, t->rows);
	if (!err)
		t->cap = cap;
	return err;
}

/* Sets up table `name` for the columns cols[0..n) after nkey integer key
 * params (key_names). */
static int table_init(struct table *t, const char *name,
		      const char *const *key_names,
		      const struct vs_cdr_column *cols, unsigned n,
		      unsigned nkey, unsigned cap)
{
	unsigned k;
	int err;

	t->cols = cols;
	t->ncols = n;
	t->nkey = nkey;
	t->np = nkey + n;
	t->p = calloc(t->np, sizeof(*t->p));
	t->bind = calloc(t->np, sizeof(*t->bind));
	if (!t->p || !t->bind)
		return -ENOMEM;
	for (k = 0; k < t->np; k++) {
		t->p[k].type = k < nkey ? MYSQL_TYPE_LONGLONG :
					  param_type(cols[k - nkey].kind);
		if (k >= nkey && t->p[k].type == MYSQL_TYPE_STRING)
			t->max_text += cols[k - nkey].kind == VS_COL_STR ?
					       cols[k - nkey].len :
					       sizeof(((struct vs_sql_value *)0)->buf);
	}
	err = vs_mysql_ins__init(t, name, key_names);
	return err ? err : table_grow(t, cap);
}

static void table_free(struct table *t)
{
	unsigned k;

	for (k = 0; t->p && k < t->np; k++)
		free(t->p[k].block);
	free(t->p);
	free(t->bind);
	vs_mysql_ins__free(t);
}

/* Makes room in the text arena for `more` bytes. */
static int text_reserve(struct mysql_store *s, size_t more)
{
	size_t cap = s->text_cap ? s->text_cap : 65536;
	char *t;

	while (cap < s->text_len + more)
		cap *= 2;
	if (cap == s->text_cap)
		return 0;
	t = realloc(s->text, cap);
	if (!t)
		return -ENOMEM;
	s->text = t;
	s->text_cap = cap;
	return 0;
}

/* Row r of parameter p gets v; the arena has room (text_reserve). NaN and
 * infinities are NULL: MariaDB has neither. */
static void put_value(struct mysql_store *s, struct param *p, unsigned r,
		      const struct vs_sql_value *v)
{
	p->ind[r] = STMT_INDICATOR_NONE;
	if (v->type == VS_SQL_INT && p->type == MYSQL_TYPE_LONGLONG) {
		p->i[r] = v->i;
		s->bytes += 9;
	} else if (v->type == VS_SQL_DOUBLE && p->type == MYSQL_TYPE_DOUBLE &&
		   isfinite(v->d)) {
		p->d[r] = v->d;
		s->bytes += 9;
	} else if (v->type == VS_SQL_TEXT && p->type == MYSQL_TYPE_STRING) {
		copy_utf8(s->text + s->text_len, v->s, v->len);
		p->off[r] = (uint32_t)s->text_len;
		p->len[r] = v->len;
		s->text_len += v->len;
		s->bytes += 4 + v->len;
	} else {
		p->ind[r] = STMT_INDICATOR_NULL;
		s->bytes += 1;
	}
}

static void put_int(struct mysql_store *s, struct param *p, unsigned r,
		    int64_t v)
{
	p->ind[r] = STMT_INDICATOR_NONE;
	p->i[r] = v;
	s->bytes += 9;
}

/* Text known to be ASCII (addresses): no UTF-8 check. */
static void put_ascii(struct mysql_store *s, struct param *p, unsigned r,
		      const char *t, size_t n)
{
	memcpy(s->text + s->text_len, t, n);
	p->ind[r] = STMT_INDICATOR_NONE;
	p->off[r] = (uint32_t)s->text_len;
	p->len[r] = n;
	s->text_len += n;
	s->bytes += 4 + n;
}

/* An address as text, formatted once and then taken from the cache. */
static void put_addr(struct mysql_store *s, struct param *p, unsigned r,
		     const struct vs_addr *a)
{
	uint64_t h = vs_hash_bytes(a->b, sizeof(a->b), 0);
	struct addr_text *e = &s->addrs[h & (ADDR_CACHE - 1)];

	if (!e->len || !vs_addr_eq(&e->a, a)) {
		vs_addr_str(a, e->s, sizeof(e->s));
		e->a = *a;
		e->len = (uint8_t)strlen(e->s);
	}
	put_ascii(s, p, r, e->s, e->len);
}

/* Microseconds since the epoch as a DATETIME(6) in UTC: the same value as
 * vs_cdr_time__format's text (NULL for 0 and past year 9999), without
 * formatting it; gmtime_r only when the day changes. */
static void put_datetime(struct mysql_store *s, struct param *p, unsigned r,
			 uint64_t us)
{
	uint64_t day = us / DAY_US, sec = us % DAY_US / 1000000;
	MYSQL_TIME *t = &p->tm[r];
	time_t midnight;
	struct tm tm;

	if (!us || us > MAX_TIME_US) {
		p->ind[r] = STMT_INDICATOR_NULL;
		s->bytes += 1;
		return;
	}
	if (day != s->day || !s->day_tm.year) {
		midnight = (time_t)(day * 86400);
		if (!gmtime_r(&midnight, &tm)) {
			p->ind[r] = STMT_INDICATOR_NULL;
			s->bytes += 1;
			return;
		}
		memset(&s->day_tm, 0, sizeof(s->day_tm));
		s->day_tm.year = (unsigned)tm.tm_year + 1900;
		s->day_tm.month = (unsigned)tm.tm_mon + 1;
		s->day_tm.day = (unsigned)tm.tm_mday;
		s->day_tm.time_type = MYSQL_TIMESTAMP_DATETIME;
		s->day = day;
	}
	*t = s->day_tm;
	t->hour = (unsigned)(sec / 3600);
	t->minute = (unsigned)(sec / 60 % 60);
	t->second = (unsigned)(sec % 60);
	t->second_part = (unsigned long)(us % 1000000);
	p->ind[r] = STMT_INDICATOR_NONE;
	s->bytes += 12;
}

/* Row r of p gets column col of the struct at base (the CDR c, or one of
 * its legs when c is NULL). The common kinds are read here directly; the
 * others (and so the meaning of every value) come from cdr/schema.c. */
static inline __attribute__((always_inline)) void
put_column(struct mysql_store *s, struct param *p, unsigned r,
		       const struct vs_cdr_column *col, const void *base,
		       const struct vs_cdr *c)
{
	const void *f = (const char *)base + col->off;
	struct vs_sql_value v;

	switch (col->kind) {
	case VS_COL_INT:
		put_int(s, p, r, *(const int *)f);
		return;
	case VS_COL_U8:
		put_int(s, p, r, *(const uint8_t *)f);
		return;
	case VS_COL_U16:
		put_int(s, p, r, *(const uint16_t *)f);
		return;
	case VS_COL_U32:
		put_int(s, p, r, *(const uint32_t *)f);
		return;
	case VS_COL_U64:
	case VS_COL_I64:
		put_int(s, p, r, *(const int64_t *)f);
		return;
	case VS_COL_ADDR:
		put_addr(s, p, r, f);
		return;
	case VS_COL_DATETIME:
		put_datetime(s, p, r, *(const uint64_t *)f);
		return;
	case VS_COL_DOUBLE:
		v.type = VS_SQL_DOUBLE;
		v.d = *(const double *)f;
		break;
	case VS_COL_STR:
		v.type = VS_SQL_TEXT;
		v.s = f;
		v.len = strnlen(f, col->len);
		break;
	default:
		if (c)
			vs_cdr_column__value(col, c, &v);
		else
			vs_rtp_column__value(col, base, &v);
		break;
	}
	put_value(s, p, r, &v);
}

/* Adds c and its streams to the batch. 0 or -ENOMEM (nothing added). */
static int batch_add(struct mysql_store *s, const struct vs_cdr *c)
{
	uint32_t n = c->streams ? c->n_streams : 0, k;
	unsigned r, i;
	uint32_t *o;

	if (s->rtp.rows + n > s->rtp.cap) {
		if (table_grow(&s->rtp, (s->rtp.rows + n) * 2))
			return -ENOMEM;
		o = realloc(s->owner, s->rtp.cap * sizeof(*o));
		if (!o)
			return -ENOMEM;
		s->owner = o;
	}
	if (text_reserve(s, s->cdr.max_text + (size_t)n * s->rtp.max_text))
		return -ENOMEM;
	r = s->cdr.rows++;
	for (i = 0; i < s->cdr.ncols; i++)
		put_column(s, &s->cdr.p[1 + i], r, &vs_cdr_columns[i], c, c);
	s->cdr.p[0].ind[r] = STMT_INDICATOR_NONE; /* ID: at send */
	s->bytes += 9;
	for (k = 0; k < n; k++) {
		r = s->rtp.rows++;
		s->owner[r] = s->cdr.rows - 1;
		s->rtp.p[0].ind[r] = STMT_INDICATOR_NONE; /* cdr_ID: at send */
		s->rtp.p[1].ind[r] = STMT_INDICATOR_NONE;
		s->rtp.p[1].i[r] = k;
		s->bytes += 18;
		for (i = 0; i < s->rtp.ncols; i++)
			put_column(s, &s->rtp.p[2 + i], r, &vs_rtp_columns[i],
				   &c->streams[k], NULL);
	}
	return 0;
}

/* --- connection ------------------------------------------------------------- */

/* Errors after which the connection is unusable: the client's own (lost,
 * gone, timeout) and the server's "you are disconnected". */
static int conn_lost(unsigned e)
{
	return (e >= CR_MIN_ERROR && e <= CR_MAX_ERROR) || IS_MARIADB_ERROR(e) ||
	       e == ER_CONNECTION_KILLED || e == ER_SERVER_SHUTDOWN ||
	       e == ER_CON_COUNT_ERROR || e == ER_NET_READ_INTERRUPTED ||
	       e == ER_QUERY_INTERRUPTED;
}

/* Why a connection could not be made, as an errno, with a hint. */
static int connect_cause(unsigned e, const char **hint)
{
	switch (e) {
	case ER_ACCESS_DENIED_ERROR:
	case ER_DBACCESS_DENIED_ERROR:
	case ER_ACCESS_DENIED_NO_PASSWORD_ERROR:
		*hint = "access denied: check mysqlusername and mysqlpassword";
		return -EACCES;
	case ER_BAD_DB_ERROR:
		*hint = "unknown database: create it or fix mysqldb";
		return -ENOENT;
	case CR_UNKNOWN_HOST:
		*hint = "unknown host: check mysqlhost";
		return -EHOSTUNREACH;
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
		*hint = "cannot connect: is mariadbd running there? check "
			"mysqlhost, mysqlport, mysqlsocket";
		return -ECONNREFUSED;
	case CR_SERVER_LOST:
		*hint = "no answer: check the server and mysqlport";
		return -ETIMEDOUT;
	default:
		*hint = "cannot connect";
		return -EIO;
	}
}

static void set_options(struct mysql_store *s, MYSQL *m)
{
	unsigned t = s->o.timeout_s;
	size_t stack = ASYNC_STACK;
	my_bool off = 0;
	char init[160];

	snprintf(init, sizeof(init),
		 "SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION', "
		 "time_zone = '+00:00', innodb_lock_wait_timeout = %d",
		 LOCK_WAIT_S);
	mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &t);
	mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &t);
	mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &t);
	/* libmariadb's own reconnect would lose the open transaction. */
	mysql_optionsv(m, MYSQL_OPT_RECONNECT, &off);
	mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_optionsv(m, MYSQL_INIT_COMMAND, init);
	/* For the executions that run while the batch fills (pipe_run); the
	 * blocking calls work as before. */
	mysql_optionsv(m, MYSQL_OPT_NONBLOCK, &stack);
}

/* A batch must fit in one packet of the server's max_allowed_packet. */
static void fit_packet(struct mysql_store *s)
{
	size_t room, pkt = 0;
	MYSQL_RES *r;
	MYSQL_ROW row;

	s->batch_bytes = s->o.batch_bytes;
	if (mysql_query(s->db, "SELECT @@max_allowed_packet"))
		return;
	r = mysql_store_result(s->db);
	row = r ? mysql_fetch_row(r) : NULL;
	if (row && row[0])
		pkt = strtoul(row[0], NULL, 10);
	mysql_free_result(r);
	room = pkt > s->max_row + 4096 ? pkt - s->max_row - 4096 : 1;
	if (pkt && room < s->batch_bytes)
		s->batch_bytes = room;
}

/* Opens s->db. On failure returns -errno and leaves s->db NULL; *cause
 * gets the hint and msg the library's words. */
static int db_connect(struct mysql_store *s, const char **cause, char *msg,
		      size_t msg_len)
{
	MYSQL *m = mysql_init(NULL);
	int err;

	if (!m) {
		*cause = "out of memory";
		snprintf(msg, msg_len, "mysql_init");
		return -ENOMEM;
	}
	set_options(s, m);
	if (!mysql_real_connect(m, s->o.host, s->o.user, s->o.password,
				s->o.db, s->o.port, s->o.socket, 0)) {
		err = connect_cause(mysql_errno(m), cause);
		snprintf(msg, msg_len, "%s", mysql_error(m));
		mysql_close(m);
		return err;
	}
	s->db = m;
	fit_packet(s);
	return 0;
}

/* Closes the connection and the statements prepared on it; a transaction
 * open on it is gone (rolled back by the server). Never called while an
 * execution is in flight: every failure first ends it (fly_wait). */
static void drop_db(struct mysql_store *s)
{
	s->txn = 0;
	s->sent = s->rtp_sent = 0;
	s->fly.t = NULL;
	vs_mysql_ins__close(&s->cdr);
	vs_mysql_ins__close(&s->rtp);
	if (s->db)
		mysql_close(s->db);
	s->db = NULL;
}

/* The connection failed (or could not be made): drop it, wait before the
 * next try (doubling up to retry_max_ms), and say so once, then every 30 s. */
static void went_down(struct mysql_store *s, const char *what,
		      const char *why)
{
	uint64_t t = now_us();
	char msg[256];

	snprintf(msg, sizeof(msg), "%s", why); /* why may be in s->db */
	drop_db(s);
	s->attempts++;
	if (!s->down_since_us) {
		/* A link that comes back only to fail again keeps backing
		 * off: the delay is reset by a committed batch, not by a
		 * connect. */
		s->down_since_us = t;
		s->backoff_ms = s->backoff_ms ? s->backoff_ms : s->o.retry_min_ms;
		s->last_log_us = t;
		vs_err("mariadb %s: %s: %s; CDRs wait, reconnecting with back-off",
		       s->where, what, msg);
	} else {
		s->backoff_ms = s->backoff_ms * 2 > s->o.retry_max_ms ?
					s->o.retry_max_ms :
					s->backoff_ms * 2;
		if (t - s->last_log_us >= LOG_EVERY_US) {
			s->last_log_us = t;
			vs_err("mariadb %s: still unreachable after %.0f s (%u "
			       "attempts): %s", s->where,
			       (double)(t - s->down_since_us) / 1e6,
			       s->attempts, msg);
		}
	}
	s->next_try_us = t + (uint64_t)s->backoff_ms * 1000;
}

/* Runs one statement. 0; -EAGAIN when the connection was lost (and is now
 * dropped); -EBUSY for a lock timeout or deadlock; -EIO for the rest. */
static int query(struct mysql_store *s, const char *sql, size_t len)
{
	unsigned e;

	if (!mysql_real_query(s->db, sql, (unsigned long)len))
		return 0;
	e = mysql_errno(s->db);
	if (conn_lost(e)) {
		went_down(s, "connection lost", mysql_error(s->db));
		return -EAGAIN;
	}
	return e == ER_LOCK_WAIT_TIMEOUT || e == ER_LOCK_DEADLOCK ? -EBUSY :
								    -EIO;
}

int vs_mysql__exec(struct mysql_store *s, const char *sql)
{
	int err = query(s, sql, strlen(sql));

	if (err && err != -EAGAIN)
		vs_err("mariadb %s: %.60s: %s", s->where, sql,
		       mysql_error(s->db));
	return err;
}

/* Rows of a result that must be there: the connection may die between
 * the query and its result. NULL with *err = -EAGAIN or -EIO. */
static MYSQL_RES *result(struct mysql_store *s, int *err)
{
	MYSQL_RES *r = mysql_store_result(s->db);

	if (r)
		return r;
	if (conn_lost(mysql_errno(s->db))) {
		went_down(s, "connection lost", mysql_error(s->db));
		*err = -EAGAIN;
	} else {
		*err = -EIO;
	}
	return NULL;
}

/* Integer result of a one-value query (NULL = 0); -errno. */
static int64_t query_int(struct mysql_store *s, const char *sql, int *err)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	int64_t v = 0;

	*err = vs_mysql__exec(s, sql);
	r = *err ? NULL : result(s, err);
	if (!r)
		return 0;
	row = mysql_fetch_row(r);
	if (row && row[0])
		v = strtoll(row[0], NULL, 10);
	mysql_free_result(r);
	return v;
}

static int send_batch(struct mysql_store *s);

/* 0 when connected (reconnecting if the back-off allows; a held batch is
 * resolved first so that new rows never join a batch in doubt), else
 * -EAGAIN. */
static int ensure_up(struct mysql_store *s)
{
	const char *cause;
	char msg[256];
	uint64_t t;

	if (s->db)
		return 0;
	t = now_us();
	if (t < s->next_try_us)
		return -EAGAIN;
	if (db_connect(s, &cause, msg, sizeof(msg))) {
		went_down(s, cause, msg);
		return -EAGAIN;
	}
	s->st.reconnects++;
	vs_info("mariadb %s: reconnected after %.1f s", s->where,
		(double)(t - s->down_since_us) / 1e6);
	s->down_since_us = 0;
	s->attempts = 0;
	s->next_try_us = 0;
	return s->cdr.rows ? send_batch(s) : 0;
}

/* --- the batch -------------------------------------------------------------- */

static void batch_reset(struct mysql_store *s)
{
	s->cdr.rows = s->rtp.rows = 0;
	s->text_len = s->bytes = 0;
	s->in_doubt = s->txn = 0;
	s->sent = s->rtp_sent = 0;
	s->batch_no++;
}

static int batch_full(const struct mysql_store *s)
{
	return s->cdr.rows >= s->o.batch_rows || s->bytes >= s->batch_bytes;
}

/* A statement failed: like query(), 0 is never returned. */
int vs_mysql__stmt_fail(struct mysql_store *s, MYSQL_STMT *st,
			const char *what)
{
	unsigned e = mysql_stmt_errno(st);

	if (conn_lost(e)) {
		went_down(s, "connection lost", mysql_stmt_error(st));
		return -EAGAIN;
	}
	vs_err("mariadb %s: %s: %s", s->where, what, mysql_stmt_error(st));
	return e == ER_LOCK_WAIT_TIMEOUT || e == ER_LOCK_DEADLOCK ? -EBUSY :
								    -EIO;
}

/* Rows of cdr_rtp that belong to the CDRs before row `upto` of cdr (rows
 * from rtp_sent on are looked at: those before are inserted). */
static unsigned rtp_upto(const struct mysql_store *s, unsigned upto)
{
	unsigned r = s->rtp_sent;

	while (r < s->rtp.rows && s->owner[r] < upto)
		r++;
	return r;
}

/* Moves the sequence past every ID in table cdr: after a failed batch,
 * and at start, in case something inserted rows by auto-increment (an
 * older voxsense on the same database) into the range it hands out.
 * SETVAL never moves a sequence back. */
static int sync_ids(struct mysql_store *s)
{
	char sql[96];
	int err;
	int64_t max = query_int(s, "SELECT MAX(ID) FROM cdr", &err);

	if (err)
		return err;
	snprintf(sql, sizeof(sql), "DO SETVAL(" ID_SEQ ", %lld)",
		 (long long)max);
	return vs_mysql__exec(s, sql);
}

/* IDs for cdr rows from..from+n-1, from the sequence: NEXTVAL is not part
 * of the transaction, so no lock is held until the batch commits and
 * writers on other connections go on (a rolled-back batch leaves a gap).
 * With auto-increment, two connections inserting at once interleave their
 * IDs, and the cdr_rtp rows could not be linked without reading each
 * batch's IDs back. */
static int reserve_ids(struct mysql_store *s, unsigned from, unsigned n)
{
	unsigned r = from, end = from + n, k, got;
	MYSQL_RES *res;
	MYSQL_ROW row;
	char sql[192];
	int err;

	if (s->resync_ids) {
		err = sync_ids(s);
		if (err)
			return err;
		s->resync_ids = 0;
	}
	while (r < end) {
		k = end - r > ID_BLOCK ? ID_BLOCK : end - r;
		snprintf(sql, sizeof(sql),
			 "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT "
			 "i + 1 FROM n WHERE i < %u) SELECT NEXTVAL(" ID_SEQ
			 ") FROM n", k);
		err = vs_mysql__exec(s, sql);
		res = err ? NULL : result(s, &err);
		if (!res)
			return err;
		for (got = 0; got < k && (row = mysql_fetch_row(res)) && row[0];
		     got++, r++)
			s->row_id[r] = strtoull(row[0], NULL, 10);
		mysql_free_result(res);
		if (!got) {
			vs_err("mariadb %s: sequence " ID_SEQ " gave no ID",
			       s->where);
			return -EIO;
		}
	}
	for (r = from; r < end; r++)
		s->cdr.p[0].i[r] = (int64_t)s->row_id[r];
	return 0;
}

/* cdr_rtp.cdr_ID of rows from..from+n-1, from the IDs of their CDRs. */
static void link_streams(struct mysql_store *s, unsigned from, unsigned n)
{
	unsigned r;

	for (r = from; r < from + n; r++)
		s->rtp.p[0].i[r] = (int64_t)s->row_id[s->owner[r]];
}

/* --- pipelining: the server inserts while the batch fills ------------------- */

static void fly_deadline(struct mysql_store *s)
{
	struct flight *f = &s->fly;
	uint64_t ms = f->status & MYSQL_WAIT_TIMEOUT ?
			      mysql_get_timeout_value_ms(s->db) :
			      (uint64_t)s->o.timeout_s * 1000;

	f->deadline_us = now_us() + ms * 1000;
}

/* Sends rows from..from+n-1 of t and returns without waiting for the
 * answer (mysql_stmt_execute_start builds the whole packet first, so the
 * arrays may grow afterwards). fly_wait collects the answer. */
static int fly_start(struct mysql_store *s, struct table *t, unsigned from,
		     unsigned n)
{
	unsigned size = n;
	int err = vs_mysql_ins__bind(s, t, from, n);

	if (err)
		return err;
	if (mysql_stmt_attr_set(t->st, STMT_ATTR_ARRAY_SIZE, &size) ||
	    mysql_stmt_bind_param(t->st, t->bind))
		return vs_mysql__stmt_fail(s, t->st, "bind");
	s->fly = (struct flight){ .t = t, .from = from, .n = n };
	s->fly.status = mysql_stmt_execute_start(&s->fly.ret, t->st);
	fly_deadline(s);
	return 0;
}

/* MYSQL_WAIT_* bits that poll found ready; 0 when none. */
static int fly_ready(const struct flight *f, const struct pollfd *pf)
{
	int r = 0;

	if (pf->revents & (POLLERR | POLLHUP | POLLNVAL))
		return f->status & (MYSQL_WAIT_READ | MYSQL_WAIT_WRITE);
	if (pf->revents & POLLIN)
		r |= MYSQL_WAIT_READ;
	if (pf->revents & POLLOUT)
		r |= MYSQL_WAIT_WRITE;
	if (pf->revents & POLLPRI)
		r |= MYSQL_WAIT_EXCEPT;
	return r;
}

/* The answer to the execution in flight: 0 (rows in), -EINPROGRESS (not
 * there yet and !block), or -errno as stmt_fail. A silent server fails it
 * after timeout_s, as a blocking call would. */
static int fly_wait(struct mysql_store *s, int block)
{
	struct flight *f = &s->fly;
	struct pollfd pf;
	uint64_t t;
	int n, ready, ms;

	while (f->status) {
		pf.fd = mysql_get_socket(s->db);
		pf.events = (f->status & MYSQL_WAIT_READ ? POLLIN : 0) |
			    (f->status & MYSQL_WAIT_WRITE ? POLLOUT : 0) |
			    (f->status & MYSQL_WAIT_EXCEPT ? POLLPRI : 0);
		t = now_us();
		ms = !block || t >= f->deadline_us ?
			     0 :
			     (int)((f->deadline_us - t + 999) / 1000);
		n = poll(&pf, 1, ms);
		if (n < 0 && errno == EINTR)
			continue;
		ready = n > 0 ? fly_ready(f, &pf) : 0;
		if (!ready && now_us() < f->deadline_us) {
			if (block)
				continue; /* a wake for nothing */
			return -EINPROGRESS;
		}
		f->status = mysql_stmt_execute_cont(&f->ret, f->t->st,
						    ready ? ready :
							    MYSQL_WAIT_TIMEOUT);
		fly_deadline(s);
	}
	if (!f->ret) {
		f->t = NULL;
		return 0;
	}
	n = vs_mysql__stmt_fail(s, f->t->st, f->t == &s->cdr ? "insert cdr" :
						   "insert cdr_rtp");
	f->t = NULL;
	return n;
}

/* The execution in flight is answered: its rows are in. */
static int fly_done(struct mysql_store *s, const struct flight *f)
{
	if (f->t == &s->rtp) {
		s->rtp_sent = f->from + f->n;
		return 0;
	}
	s->sent = f->from + f->n;
	return 0;
}

/* Moves the open transaction on: collects the execution in flight, then
 * starts the next one: the streams of the CDRs inserted so far, else the
 * CDRs waiting (all of them with `all`, else only once `chunk` wait).
 * One execution at a time is in flight on a connection. With block it
 * waits for each and returns once all that was due is in; without, it
 * returns as soon as one is in flight. 0 or -errno. */
static int pipe_run(struct mysql_store *s, int block, int all)
{
	struct flight f;
	unsigned upto, n;
	int err;

	for (;;) {
		if (s->fly.t) {
			f = s->fly;
			err = fly_wait(s, block);
			if (err == -EINPROGRESS)
				return 0;
			if (!err)
				err = fly_done(s, &f);
			if (err)
				return err;
		}
		upto = rtp_upto(s, s->sent);
		n = s->cdr.rows - s->sent;
		if (upto > s->rtp_sent) {
			link_streams(s, s->rtp_sent, upto - s->rtp_sent);
			err = fly_start(s, &s->rtp, s->rtp_sent,
					upto - s->rtp_sent);
		} else if (n && (all || n >= s->chunk)) {
			err = reserve_ids(s, s->sent, n) ?:
			      fly_start(s, &s->cdr, s->sent, n);
		} else {
			return 0;
		}
		if (err || (!block && s->fly.status))
			return err;
	}
}

/* --- the transaction ---------------------------------------------------------- */

/* After a reconnect: 1 when the held batch did commit before the
 * connection died (the marker says so), 0 when not, or -errno. FOR UPDATE
 * waits for a transaction of the old connection still holding the marker. */
static int committed_already(struct mysql_store *s)
{
	char sql[128];
	int err;
	int64_t v;

	snprintf(sql, sizeof(sql),
		 "SELECT batch FROM vs_writer WHERE writer = %llu FOR UPDATE",
		 (unsigned long long)s->writer);
	v = query_int(s, sql, &err);
	return err ? err : (uint64_t)v == s->batch_no;
}

/* START TRANSACTION, then the marker first (see committed_already). For a
 * batch in doubt, *done = 1 when it turns out committed already. */
static int begin(struct mysql_store *s, int *done)
{
	char mark[192];
	int err;

	*done = 0;
	err = vs_mysql__exec(s, "START TRANSACTION");
	if (err)
		return err;
	s->txn = 1;
	if (s->in_doubt) {
		*done = committed_already(s);
		if (*done)
			return *done < 0 ? *done : 0;
		s->in_doubt = 0; /* the old transaction is over */
	}
	snprintf(mark, sizeof(mark),
		 "INSERT INTO vs_writer (writer, batch, updated) VALUES "
		 "(%llu, %llu, NOW(6)) ON DUPLICATE KEY UPDATE batch = "
		 "VALUES(batch), updated = VALUES(updated)",
		 (unsigned long long)s->writer, (unsigned long long)s->batch_no);
	return vs_mysql__exec(s, mark);
}

/* Ends the open transaction without committing: the batch is held and sent
 * again from its first row. */
static void rollback(struct mysql_store *s)
{
	if (s->db && s->txn)
		mysql_query(s->db, "ROLLBACK");
	s->txn = 0;
	s->sent = s->rtp_sent = 0;
	s->resync_ids = 1; /* maybe an ID was taken (duplicate key) */
}

/* Finishes the batch: the rows not inserted yet (all of them when no
 * transaction is open), then COMMIT. 1 when a batch in doubt was
 * committed already, 0, or -errno. */
static int run_batch(struct mysql_store *s)
{
	int err = 0, done = 0;

	if (!s->txn)
		err = begin(s, &done);
	if (!err && !done)
		err = pipe_run(s, 1, 1);
	if (!err)
		err = vs_mysql__exec(s, "COMMIT");
	if (err == -EAGAIN)
		s->in_doubt = 1; /* maybe the COMMIT got there */
	else if (err)
		rollback(s);
	s->txn = 0;
	return err ? err : done;
}

/* Sends the batch; keeps it when that fails. 0 or -EAGAIN. */
static int send_batch(struct mysql_store *s)
{
	unsigned rows = s->cdr.rows;
	int err, doubt = s->in_doubt;

	if (!rows)
		return 0;
	if (!s->db)
		return ensure_up(s); /* which sends the batch once connected */
	if (now_us() < s->next_try_us)
		return -EAGAIN;
	err = run_batch(s);
	if (err < 0) {
		if (s->db) /* refused by the server: do not hammer it */
			s->next_try_us = now_us() +
					 (uint64_t)s->o.retry_max_ms * 1000;
		return -EAGAIN;
	}
	if (doubt)
		s->st.resent++;
	if (err == 1)
		vs_info("mariadb %s: %u CDRs were committed before the "
			"connection was lost", s->where, rows);
	s->st.committed += rows;
	s->st.batches++;
	s->backoff_ms = 0;
	batch_reset(s);
	return 0;
}

/* A pipelined step failed (pipe_run's err): the batch is held, and sent
 * again from its first row. */
static void pipe_fail(struct mysql_store *s)
{
	rollback(s);
	if (s->db) /* refused by the server: do not hammer it */
		s->next_try_us = now_us() + (uint64_t)s->o.retry_max_ms * 1000;
}

/* After an insert: opens the batch's transaction and keeps it moving
 * without waiting (pipe_run), so that the server inserts rows while the
 * caller adds more. A failure leaves the batch held, as a failed send
 * does; flush sends it again from its first row. */
static void pipe_step(struct mysql_store *s)
{
	int err = 0, done;

	if (!s->chunk || !s->db || s->in_doubt)
		return;
	if (s->fly.t ? s->cdr.rows % 4 : s->cdr.rows - s->sent < s->chunk)
		return; /* look for an answer every 4 rows */
	if (now_us() < s->next_try_us)
		return;
	if (!s->txn)
		err = begin(s, &done);
	if (!err)
		err = pipe_run(s, 0, 0);
	if (err)
		pipe_fail(s);
}

/* Before any other statement on the link: no execution in flight. 0 or
 * -EAGAIN. */
static int pipe_drain(struct mysql_store *s)
{
	int err;

	if (!s->fly.t)
		return 0;
	err = pipe_run(s, 1, 0);
	if (err)
		pipe_fail(s);
	return err ? -EAGAIN : 0;
}

/* --- check_exists_callid ---------------------------------------------------- */

/* 1 when the Call-ID waits in the batch or is in table cdr, 0, -EAGAIN. */
static int callid_exists(struct mysql_store *s, const struct vs_cdr *c,
			 uint64_t h)
{
	char sql[2 * CALLID_LEN + 64], *p;
	size_t n = strnlen(c->call_id, CALLID_LEN);
	unsigned i;
	int err;
	int64_t found;

	for (i = 0; i < s->cdr.rows; i++)
		if (s->id_hash[i] == h && !strncmp(s->ids[i], c->call_id, n) &&
		    !s->ids[i][n])
			return 1;
	if (pipe_drain(s))
		return -EAGAIN;
	p = sql + sprintf(sql, "SELECT EXISTS (SELECT 1 FROM cdr WHERE "
			       "call_id = ");
	p = put_text(p, c->call_id, n);
	strcpy(p, ")");
	found = query_int(s, sql, &err);
	return err ? -EAGAIN : found > 0;
}

/* --- ops -------------------------------------------------------------------- */

static int mysql_insert(struct vs_cdr_store *base, const struct vs_cdr *c)
{
	struct mysql_store *s = (struct mysql_store *)base;
	uint64_t h = 0;
	size_t n;
	int err;

	/* A full batch, or one that may have committed, takes no more rows. */
	if ((batch_full(s) || s->in_doubt) && send_batch(s))
		goto refused;
	if (ensure_up(s))
		goto refused;
	if (base->check_exists_callid) {
		n = strnlen(c->call_id, CALLID_LEN);
		h = vs_hash_bytes(c->call_id, n, 0);
		err = callid_exists(s, c, h);
		if (err < 0)
			goto refused;
		if (err) {
			s->st.skipped++;
			return 1;
		}
		s->id_hash[s->cdr.rows] = h;
		memcpy(s->ids[s->cdr.rows], c->call_id, n);
		s->ids[s->cdr.rows][n < CALLID_LEN ? n : CALLID_LEN - 1] = '\0';
	}
	if (batch_add(s, c)) {
		vs_err("mariadb %s: out of memory for a CDR with %u streams",
		       s->where, c->n_streams);
		goto refused;
	}
	if (batch_full(s))
		send_batch(s); /* on failure the batch is held: still ours */
	else
		pipe_step(s);
	return 0;
refused:
	s->st.refused++;
	return -EAGAIN;
}

static int mysql_flush(struct vs_cdr_store *base)
{
	return send_batch((struct mysql_store *)base);
}

static void mysql_close_store(struct vs_cdr_store *base)
{
	struct mysql_store *s = (struct mysql_store *)base;

	if (s->cdr.rows && send_batch(s))
		vs_err("mariadb %s: closing with %u CDRs not committed (they "
		       "were never acknowledged)", s->where, s->cdr.rows);
	drop_db(s);
	table_free(&s->cdr);
	table_free(&s->rtp);
	free(s->text);
	free(s->owner);
	free(s->row_id);
	free(s->id_hash);
	free(s->ids);
	free((char *)s->o.host);
	free((char *)s->o.socket);
	free((char *)s->o.db);
	free((char *)s->o.user);
	free((char *)s->o.password);
	free(s);
}

static const struct vs_cdr_store_ops mysql_ops = {
	.name = "mariadb",
	.insert = mysql_insert,
	.flush = mysql_flush,
	.close = mysql_close_store,
};

int vs_mysql__stats(const struct vs_cdr_store *base, struct vs_mysql_stats *st)
{
	const struct mysql_store *s = (const struct mysql_store *)base;

	if (!base || base->ops != &mysql_ops)
		return -EINVAL;
	*st = s->st;
	st->connected = s->db != NULL;
	return 0;
}

/* --- schema ----------------------------------------------------------------- */

static const char *const extra_tables[] = {
	/* cdr.ID (reserve_ids); created at 1 and moved past MAX(ID) at once
	 * (resync_ids), so a table of an older voxsense keeps its IDs. */
	"CREATE SEQUENCE IF NOT EXISTS " ID_SEQ " START WITH 1 CACHE 1000",
	/* Which batch of which writer committed last: see run_batch. */
	"CREATE TABLE IF NOT EXISTS vs_writer (\n"
	"  writer BIGINT UNSIGNED NOT NULL PRIMARY KEY,\n"
	"  batch BIGINT UNSIGNED NOT NULL,\n"
	"  updated DATETIME(6) NOT NULL\n"
	") ENGINE=InnoDB",
	"DELETE FROM vs_writer WHERE updated < NOW(6) - INTERVAL 30 DAY",
	"CREATE TABLE IF NOT EXISTS sensors (\n"
	"  id_sensor SMALLINT UNSIGNED NOT NULL PRIMARY KEY,\n"
	"  name VARCHAR(255) NOT NULL DEFAULT '',\n"
	"  address VARCHAR(64) NOT NULL DEFAULT '',\n"
	"  version VARCHAR(64) NOT NULL DEFAULT '',\n"
	"  mode VARCHAR(16) NOT NULL DEFAULT '',\n"
	"  connected_since DATETIME(6) NULL,\n"
	"  last_seen DATETIME(6) NULL,\n"
	"  cdrs BIGINT UNSIGNED NOT NULL DEFAULT 0,\n"
	"  packets BIGINT UNSIGNED NOT NULL DEFAULT 0,\n"
	"  bytes BIGINT UNSIGNED NOT NULL DEFAULT 0\n"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
	NULL,
};

/* Marks in have[] the columns of cdr/schema.c that table cdr has. */
static int existing_columns(struct mysql_store *s, char *have)
{
	static const char q[] =
		"SELECT column_name FROM information_schema.columns WHERE "
		"table_schema = DATABASE() AND table_name = 'cdr'";
	MYSQL_RES *r;
	MYSQL_ROW row;
	size_t i;
	int err = vs_mysql__exec(s, q);

	r = err ? NULL : mysql_store_result(s->db);
	if (!err && !r)
		return -EIO;
	while (r && (row = mysql_fetch_row(r)))
		for (i = 0; i < vs_cdr_n_columns; i++)
			if (row[0] && !strcasecmp(row[0], vs_cdr_columns[i].name))
				have[i] = 1;
	mysql_free_result(r);
	return err;
}

/* Adds, in one ALTER TABLE, the columns that a table made by an older
 * voxsense lacks: columns are only ever appended to the list, so this is
 * the whole migration. */
static int add_missing_columns(struct mysql_store *s)
{
	char *have, *sql, *p, type[48];
	size_t i, missing = 0;
	int err = -ENOMEM;

	have = calloc(vs_cdr_n_columns, 1);
	sql = malloc(32 + vs_cdr_n_columns * 96);
	if (!have || !sql)
		goto out;
	err = existing_columns(s, have);
	p = sql + sprintf(sql, "ALTER TABLE cdr");
	for (i = 0; !err && i < vs_cdr_n_columns; i++) {
		if (have[i])
			continue;
		p += sprintf(p, "%s ADD COLUMN %s %s", missing++ ? "," : "",
			     vs_cdr_columns[i].name,
			     vs_schema__mysql_type(&vs_cdr_columns[i], type,
						   sizeof(type)));
	}
	if (!err && missing) {
		vs_info("mariadb %s: database %s: adding %zu columns to table "
			"cdr", s->where, s->o.db, missing);
		err = vs_mysql__exec(s, sql);
	}
out:
	free(have);
	free(sql);
	return err;
}

/* A new table gets its columns' DEFAULTs at once (set_defaults then finds
 * nothing to change); an older voxsense's table gets them there. */
static int create_tables(struct mysql_store *s)
{
	const char *const *t;
	char **lit = vs_mysql_ins__literals(&s->cdr);
	char *sql = vs_schema__create_cdr_mysql_dflt((const char *const *)lit);
	int err;

	vs_mysql_ins__free_literals(&s->cdr, lit);
	if (!sql)
		return -ENOMEM;
	err = vs_mysql__exec(s, sql);
	free(sql);
	if (!err)
		err = add_missing_columns(s);
	lit = err ? NULL : vs_mysql_ins__literals(&s->rtp);
	sql = err ? NULL :
		    vs_schema__create_rtp_mysql_dflt((const char *const *)lit);
	vs_mysql_ins__free_literals(&s->rtp, lit);
	if (!err && !sql)
		err = -ENOMEM;
	if (!err)
		err = vs_mysql__exec(s, sql);
	free(sql);
	for (t = vs_schema_indexes; !err && *t; t++)
		err = vs_mysql__exec(s, *t);
	for (t = extra_tables; !err && *t; t++)
		err = vs_mysql__exec(s, *t);
	if (!err)
		err = vs_mysql_ins__set_defaults(s);
	return err;
}

/* DDL commits on its own in MariaDB, so a named lock, not a transaction,
 * keeps two servers starting at once from both creating the schema. */
static int setup_schema(struct mysql_store *s)
{
	char sql[80];
	int err;
	int64_t v;

	v = query_int(s, "SELECT GET_LOCK('voxsense_schema', 30)", &err);
	if (err || v != 1)
		return err ? -EIO : -ETIMEDOUT;
	err = vs_mysql__exec(s, VS_SCHEMA_VERSION_TABLE);
	v = err ? 0 : query_int(s, "SELECT MAX(version) FROM vs_schema", &err);
	if (!err && v > VS_SCHEMA_VERSION) {
		vs_err("mariadb %s: database %s: schema version %lld is newer "
		       "than the %d this voxsense writes: upgrade voxsense or "
		       "set another mysqldb", s->where, s->o.db, (long long)v,
		       VS_SCHEMA_VERSION);
		err = -EPROTO;
	}
	if (!err)
		err = create_tables(s);
	snprintf(sql, sizeof(sql), "INSERT INTO vs_schema (version) VALUES (%d)",
		 VS_SCHEMA_VERSION);
	if (!err && v < VS_SCHEMA_VERSION)
		err = vs_mysql__exec(s, sql);
	if (s->db)
		mysql_query(s->db, "DO RELEASE_LOCK('voxsense_schema')");
	return err == -EAGAIN ? -EIO : err;
}

/* --- open ------------------------------------------------------------------- */

static char *dup_opt(const char *v, int *fail)
{
	char *d;

	if (!v || !*v)
		return NULL;
	d = strdup(v);
	if (!d)
		*fail = 1;
	return d;
}

static int copy_opts(struct mysql_store *s, const struct vs_mysql_opts *o)
{
	int fail = 0;
	int local;

	s->o = *o;
	s->o.host = dup_opt(o->host, &fail);
	s->o.socket = dup_opt(o->socket, &fail);
	s->o.db = dup_opt(o->db, &fail);
	s->o.user = dup_opt(o->user, &fail);
	s->o.password = dup_opt(o->password, &fail);
	if (!s->o.batch_rows)
		s->o.batch_rows = DEF_BATCH_ROWS;
	if (!s->o.batch_bytes)
		s->o.batch_bytes = DEF_BATCH_BYTES;
	if (!s->o.timeout_s)
		s->o.timeout_s = DEF_TIMEOUT_S;
	if (!s->o.retry_min_ms)
		s->o.retry_min_ms = DEF_RETRY_MIN_MS;
	if (!s->o.retry_max_ms)
		s->o.retry_max_ms = DEF_RETRY_MAX_MS;
	if (s->o.retry_max_ms < s->o.retry_min_ms)
		s->o.retry_max_ms = s->o.retry_min_ms;
	local = !s->o.host || !strcmp(s->o.host, "localhost");
	if (local)
		snprintf(s->where, sizeof(s->where), "socket %s",
			 s->o.socket ? s->o.socket : "(default)");
	else
		snprintf(s->where, sizeof(s->where), "%s:%u", s->o.host,
			 s->o.port ? s->o.port : 3306);
	return fail ? -ENOMEM : 0;
}

/* The rows of an empty CDR with one empty stream hold the columns'
 * DEFAULTs (store_mysql_ins.c). */
static int keep_defaults(struct mysql_store *s)
{
	struct vs_cdr_leg leg;
	struct vs_cdr c;

	memset(&c, 0, sizeof(c));
	memset(&leg, 0, sizeof(leg));
	c.streams = &leg;
	c.n_streams = 1;
	if (batch_add(s, &c))
		return -ENOMEM;
	vs_mysql_ins__keep_defaults(s, &s->cdr, 0);
	vs_mysql_ins__keep_defaults(s, &s->rtp, 0);
	s->cdr.rows = s->rtp.rows = 0;
	s->text_len = s->bytes = 0;
	return 0;
}

static int alloc_batch(struct mysql_store *s)
{
	static const char *const cdr_keys[] = { "ID" };
	static const char *const rtp_keys[] = { "cdr_ID", "stream_index" };
	unsigned n = s->o.batch_rows;
	int err;

	err = table_init(&s->cdr, "cdr", cdr_keys, vs_cdr_columns,
			 (unsigned)vs_cdr_n_columns, 1, n);
	if (!err)
		err = table_init(&s->rtp, "cdr_rtp", rtp_keys, vs_rtp_columns,
				 (unsigned)vs_rtp_n_columns, 2, 2 * n);
	s->owner = calloc(2 * (size_t)n, sizeof(*s->owner));
	s->row_id = calloc(n, sizeof(*s->row_id));
	if (!err && (!s->owner || !s->row_id))
		err = -ENOMEM;
	if (!err)
		err = keep_defaults(s);
	if (err)
		return err;
	/* Executions while the batch fills: a quarter of it, within limits;
	 * small batches go whole. */
	s->chunk = n / 4 < CHUNK_MIN ? 0 : n / 4 > CHUNK_MAX ? CHUNK_MAX : n / 4;
	/* The longest CDR row: its text and 9 bytes per other value. */
	s->max_row = s->cdr.max_text + 9 * vs_cdr_n_columns;
	if (!s->base.check_exists_callid)
		return 0;
	s->id_hash = calloc(s->o.batch_rows, sizeof(*s->id_hash));
	s->ids = calloc(s->o.batch_rows, sizeof(*s->ids));
	return s->id_hash && s->ids ? 0 : -ENOMEM;
}

struct vs_cdr_store *vs_cdr_store__mysql(const struct vs_mysql_opts *o)
{
	struct mysql_store *s = calloc(1, sizeof(*s));
	const char *cause;
	char msg[256];
	int err = -ENOMEM;

	if (!s)
		goto fail;
	s->base.ops = &mysql_ops;
	s->base.check_exists_callid = o->check_exists_callid;
	err = copy_opts(s, o);
	if (!err)
		err = alloc_batch(s);
	if (err)
		goto fail;
	if (getrandom(&s->writer, sizeof(s->writer), 0) != sizeof(s->writer))
		s->writer = (uint64_t)time(NULL) ^ now_us() << 20;
	s->writer >>= 1; /* fits a signed BIGINT too, for readers */
	s->batch_no = 1; /* 0 is what a missing marker row reads as */
	s->resync_ids = 1;
	err = db_connect(s, &cause, msg, sizeof(msg));
	if (err) {
		vs_err("mariadb %s: user %s, database %s: %s (%s)", s->where,
		       s->o.user ? s->o.user : "(none)",
		       s->o.db ? s->o.db : "(none)", cause, msg);
		goto fail;
	}
	err = setup_schema(s);
	if (err)
		goto fail;
	return &s->base;
fail:
	if (s)
		mysql_close_store(&s->base);
	errno = -err;
	return NULL;
}

/* --- sensors ---------------------------------------------------------------- */

/* Appends v (cut to max bytes) quoted, or '' for NULL. */
static char *put_opt_text(char *p, const char *v, size_t max)
{
	return put_text(p, v ? v : "", v ? strnlen(v, max) : 0);
}

static char *put_time(char *p, uint64_t us)
{
	char t[48];
	int n = us ? vs_cdr_time__format(us, 0, t, sizeof(t)) : -1;

	if (n > 0)
		return put_text(p, t, (size_t)n);
	memcpy(p, "NULL", 4);
	return p + 4;
}

int vs_mysql_sensors__upsert(struct vs_cdr_store *base,
			     const struct vs_sensor_info *si)
{
	struct mysql_store *s = (struct mysql_store *)base;
	char sql[2048], *p;
	int err;

	if (!base || base->ops != &mysql_ops || !si || !si->id_sensor)
		return -EINVAL;
	if (ensure_up(s) || pipe_drain(s))
		return -EAGAIN;
	p = sql + sprintf(sql, "INSERT INTO sensors (id_sensor, name, address, "
			       "version, mode, connected_since, last_seen, "
			       "cdrs, packets, bytes) VALUES (%u,",
			  si->id_sensor);
	p = put_opt_text(p, si->name, 255);
	*p++ = ',';
	p = put_opt_text(p, si->address, 64);
	*p++ = ',';
	p = put_opt_text(p, si->version, 64);
	*p++ = ',';
	p = put_opt_text(p, si->mode, 16);
	*p++ = ',';
	p = put_time(p, si->connected_since_us);
	*p++ = ',';
	p = put_time(p, si->last_seen_us);
	p += sprintf(p, ",%llu,%llu,%llu) ON DUPLICATE KEY UPDATE ",
		     (unsigned long long)si->cdrs,
		     (unsigned long long)si->packets,
		     (unsigned long long)si->bytes);
	strcpy(p, "name = VALUES(name), address = VALUES(address), version = "
		  "VALUES(version), mode = VALUES(mode), connected_since = "
		  "VALUES(connected_since), last_seen = VALUES(last_seen), "
		  "cdrs = VALUES(cdrs), packets = VALUES(packets), bytes = "
		  "VALUES(bytes)");
	err = vs_mysql__exec(s, sql);
	return err == -EAGAIN || err == -EBUSY ? -EAGAIN : err;
}
