// SPDX-License-Identifier: GPL-2.0-or-later
/* cdr/store_mysql against a real MariaDB: every column equal to what the
 * SQLite store writes for the same CDR, streams in cdr_rtp (equal to
 * SQLite's, linked to their CDR across batches and with two stores
 * inserting at once), batching and commit visibility, Call-ID dedup,
 * reopen, schema version and migration, connect errors, the sensors table. Needs the private server of tests/integration/mariadb.sh
 * (run by tests/integration/t_mariadb.sh); skips when VS_MYSQL_SOCKET is not
 * set. Each test uses its own database. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <mariadb/mysql.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cdr/schema.h"
#include "cdr/store.h"
#include "cdr/store_mysql.h"

#include "cdr_fixture.h"

static void fill(struct vs_cdr *c, const char *call_id)
{
	cdr_fill_fields(c, call_id);
}

/* c's streams: a, b and n - 2 more, in st[] (n <= 8); ssrc of stream k
 * is base + k. */
static void with_streams(struct vs_cdr *c, struct vs_cdr_leg *st, unsigned n,
			 uint32_t base)
{
	unsigned k;

	for (k = 0; k < n; k++) {
		st[k] = k == 0 ? c->a : c->b;
		st[k].ssrc = base + k;
	}
	c->streams = st;
	c->n_streams = n;
}

/* --- the server ----------------------------------------------------------- */

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static void need_server(void)
{
	if (!env("VS_MYSQL_SOCKET"))
		cr_skip_test("VS_MYSQL_SOCKET not set: run "
			     "tests/integration/t_mariadb.sh");
}

static char dbname[64];

/* Options for a fresh database of this test's own (dropped and created). */
static struct vs_mysql_opts fresh_db(const char *suffix)
{
	struct vs_mysql_opts o = { 0 };
	char sql[160];
	MYSQL *m;

	need_server();
	snprintf(dbname, sizeof(dbname), "%s_%s", env("VS_MYSQL_DB"), suffix);
	o.socket = env("VS_MYSQL_SOCKET");
	o.user = env("VS_MYSQL_USER");
	o.password = env("VS_MYSQL_PASSWORD");
	o.db = dbname;
	m = mysql_init(NULL);
	cr_assert(mysql_real_connect(m, NULL, o.user, o.password, NULL, 0,
				     o.socket, 0),
		  "%s", mysql_error(m));
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", dbname);
	cr_assert_eq(mysql_query(m, sql), 0, "%s", mysql_error(m));
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
	cr_assert_eq(mysql_query(m, sql), 0, "%s", mysql_error(m));
	mysql_close(m);
	return o;
}

/* A second, independent connection: sees only committed rows. */
static MYSQL *peek(void)
{
	MYSQL *m = mysql_init(NULL);

	cr_assert(mysql_real_connect(m, NULL, env("VS_MYSQL_USER"),
				     env("VS_MYSQL_PASSWORD"), dbname, 0,
				     env("VS_MYSQL_SOCKET"), 0),
		  "%s", mysql_error(m));
	cr_assert_eq(mysql_set_character_set(m, "utf8mb4"), 0);
	return m;
}

static void run(MYSQL *m, const char *sql)
{
	cr_assert_eq(mysql_query(m, sql), 0, "%s: %s", sql, mysql_error(m));
}

static long long qint(MYSQL *m, const char *sql)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	long long v;

	run(m, sql);
	r = mysql_store_result(m);
	cr_assert(r, "%s", sql);
	row = mysql_fetch_row(r);
	cr_assert(row && row[0], "%s: no value", sql);
	v = strtoll(row[0], NULL, 10);
	mysql_free_result(r);
	return v;
}

static long long count_rows(void)
{
	MYSQL *m = peek();
	long long n = qint(m, "SELECT COUNT(*) FROM cdr");

	mysql_close(m);
	return n;
}

/* Runs fn with stderr captured into buf. */
static void capture_stderr(void (*fn)(void *), void *arg, char *buf,
			   size_t len)
{
	char path[] = "/tmp/vs_test_err_XXXXXX";
	int fd = mkstemp(path), saved;
	FILE *f;
	size_t n;

	cr_assert(fd >= 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	fn(arg);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	f = fopen(path, "r");
	cr_assert(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
}

/* --- every column equals SQLite's ----------------------------------------- */

/* MariaDB's text of column i against SQLite's value: same NULL-ness, same
 * number, same text. */
static void same_value(size_t i, const char *my, sqlite3_stmt *st)
{
	const char *name = vs_cdr_columns[i].name;
	const char *lite = (const char *)sqlite3_column_text(st, (int)i);

	cr_expect_str_eq(sqlite3_column_name(st, (int)i), name);
	if (!lite || !my) {
		cr_expect(!lite && !my, "%s: sqlite %s, mariadb %s", name,
			  lite ? lite : "NULL", my ? my : "NULL");
		return;
	}
	switch (sqlite3_column_type(st, (int)i)) {
	case SQLITE_INTEGER:
		cr_expect_eq(strtoll(my, NULL, 10),
			     sqlite3_column_int64(st, (int)i), "%s: %s vs %s",
			     name, my, lite);
		break;
	case SQLITE_FLOAT:
		cr_expect_eq(strtod(my, NULL), sqlite3_column_double(st, (int)i),
			     "%s: %s vs %s", name, my, lite);
		break;
	default:
		cr_expect_str_eq(my, lite, "%s", name);
		break;
	}
}

static void compare_with_sqlite(const struct vs_cdr *c, const char *call_id)
{
	char path[] = "/tmp/vs_test_db_XXXXXX", sql[4096], *p, wal[64];
	struct vs_cdr_store *lite;
	sqlite3 *db;
	sqlite3_stmt *st;
	MYSQL_RES *r;
	MYSQL_ROW row;
	MYSQL *m;
	size_t i;
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	close(fd);
	unlink(path);
	lite = vs_cdr_store__sqlite(path, 0);
	cr_assert(lite);
	cr_assert_eq(vs_cdr_store__insert(lite, c), 0);
	vs_cdr_store__close(lite);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT * FROM cdr", -1, &st, NULL),
		     SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq((size_t)sqlite3_column_count(st), vs_cdr_n_columns);

	p = sql + sprintf(sql, "SELECT ");
	for (i = 0; i < vs_cdr_n_columns; i++)
		p += sprintf(p, "%s%s", i ? "," : "", vs_cdr_columns[i].name);
	sprintf(p, " FROM cdr WHERE call_id = '%s'", call_id);
	m = peek();
	run(m, sql);
	r = mysql_store_result(m);
	cr_assert(r);
	cr_assert_eq(mysql_num_rows(r), 1);
	row = mysql_fetch_row(r);
	for (i = 0; i < vs_cdr_n_columns; i++)
		same_value(i, row[i], st);
	mysql_free_result(r);
	mysql_close(m);
	sqlite3_finalize(st);
	sqlite3_close(db);
	unlink(path);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", path);
	unlink(wal);
}

Test(store_mysql, every_column_equals_sqlite)
{
	struct vs_mysql_opts o = fresh_db("cols");
	struct vs_cdr_store *s;
	struct vs_cdr c;
	MYSQL *m;

	s = vs_cdr_store__mysql(&o);
	cr_assert(s, "%s", strerror(errno));
	cr_expect_str_eq(s->ops->name, "mariadb");
	fill(&c, "abc123@host");
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	cr_assert_eq(vs_cdr_store__flush(s), 0);
	compare_with_sqlite(&c, "abc123@host");
	/* A few values spelled out, so that "equal" is not "equally wrong". */
	m = peek();
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM cdr WHERE id_sensor = 7 AND "
			     "calldate = '2023-11-14 22:13:20.123456' AND "
			     "a_ssrc = 3735928559 AND b_rtcp_loss = -2 AND "
			     "sipcalledip = '2001:db8::2' AND b_mos = 3.25 AND "
			     "whohanged = 'callee' AND bye = 'bye'"),
		     1);
	cr_expect_eq(qint(m, "SELECT ID FROM cdr"), 1);
	mysql_close(m);
	vs_cdr_store__close(s);
}

Test(store_mysql, zero_cdr_equals_sqlite)
{
	struct vs_mysql_opts o = fresh_db("zero");
	struct vs_cdr_store *s;
	struct vs_cdr c;

	s = vs_cdr_store__mysql(&o);
	cr_assert(s);
	memset(&c, 0, sizeof(c));
	strcpy(c.call_id, "zero");
	c.end = VS_END_TIMEOUT;
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	vs_cdr_store__close(s); /* close commits too */
	compare_with_sqlite(&c, "zero");
}

/* Unsigned fields at their maximum, which MariaDB's signed INTEGER and
 * SMALLINT would refuse or clamp. */
Test(store_mysql, extremes_equal_sqlite)
{
	struct vs_mysql_opts o = fresh_db("ext");
	struct vs_cdr_store *s;
	struct vs_cdr c;

	s = vs_cdr_store__mysql(&o);
	cr_assert(s);
	fill(&c, "ext");
	c.id_sensor = 65535;
	c.sip_messages = UINT32_MAX;
	c.a.ptime_ms = UINT16_MAX;
	c.a.payload_type = 255;
	c.a.loss_burst[9] = UINT32_MAX;
	c.b.ssrc = UINT32_MAX;
	c.b.packets = UINT64_MAX; /* -1 in both, as documented */
	c.b.rtcp_lost = INT64_MIN;
	c.last_sip_code = -1;
	c.duration_s = 1e300;
	c.a.mos = 0.1;
	c.callend_us = 253402300799999999ull; /* 9999-12-31 23:59:59.999999 */
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	fill(&c, "ext2");
	c.callend_us = 253402300800000000ull; /* year 10000: NULL in both */
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	vs_cdr_store__close(s);
	compare_with_sqlite(&c, "ext2");
	fill(&c, "ext");
	c.id_sensor = 65535;
	c.sip_messages = UINT32_MAX;
	c.a.ptime_ms = UINT16_MAX;
	c.a.payload_type = 255;
	c.a.loss_burst[9] = UINT32_MAX;
	c.b.ssrc = UINT32_MAX;
	c.b.packets = UINT64_MAX;
	c.b.rtcp_lost = INT64_MIN;
	c.last_sip_code = -1;
	c.duration_s = 1e300;
	c.a.mos = 0.1;
	c.callend_us = 253402300799999999ull;
	compare_with_sqlite(&c, "ext");
}

Test(store_mysql, strings_are_escaped_and_utf8_safe)
{
	struct vs_mysql_opts o = fresh_db("str");
	struct vs_cdr_store *s;
	struct vs_cdr c;
	MYSQL_RES *r;
	MYSQL_ROW row;
	MYSQL *m;

	s = vs_cdr_store__mysql(&o);
	cr_assert(s);
	fill(&c, "q");
	strcpy(c.caller_name, "O'Brien \\ \"x\"\n\r\x1a;--");
	strcpy(c.called_name, "J\xc3\xbcrgen \xf0\x9f\x98\x80"); /* ü, emoji */
	strcpy(c.caller_ua, "bad \xff\xc3 \xed\xa0\x80 end"); /* not UTF-8 */
	memset(c.called, 'z', sizeof(c.called)); /* no NUL: 64 bytes */
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	cr_assert_eq(vs_cdr_store__flush(s), 0);
	m = peek();
	run(m, "SELECT callername, calledname, a_ua, LENGTH(called) FROM cdr");
	r = mysql_store_result(m);
	row = mysql_fetch_row(r);
	cr_assert(row);
	cr_expect_str_eq(row[0], "O'Brien \\ \"x\"\n\r\x1a;--");
	cr_expect_str_eq(row[1], "J\xc3\xbcrgen \xf0\x9f\x98\x80");
	cr_expect_str_eq(row[2], "bad ?? ??? end");
	cr_expect_str_eq(row[3], "63"); /* VARCHAR(63), as declared */
	mysql_free_result(r);
	mysql_close(m);
	vs_cdr_store__close(s);
}

/* --- batching, dedup, reopen ---------------------------------------------- */

Test(store_mysql, batch_commit_visibility)
{
	struct vs_mysql_opts o = fresh_db("batch");
	struct vs_mysql_stats st;
	struct vs_cdr_store *s;
	struct vs_cdr c;
	int i;

	o.batch_rows = 10;
	s = vs_cdr_store__mysql(&o);
	cr_assert(s);
	fill(&c, "x");
	for (i = 0; i < 9; i++)
		cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	cr_expect_eq(count_rows(), 0); /* nothing committed yet */
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	cr_expect_eq(count_rows(), 10);
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	cr_expect_eq(count_rows(), 10);
	cr_assert_eq(vs_cdr_store__flush(s), 0);
	cr_expect_eq(count_rows(), 11);
	cr_expect_eq(vs_cdr_store__flush(s), 0); /* nothing pending: no-op */
	cr_assert_eq(vs_mysql__stats(s, &st), 0);
	cr_expect_eq(st.committed, 11);
	cr_expect_eq(st.batches, 2);
	cr_expect_eq(st.refused, 0);
	cr_expect_eq(st.connected, 1);
	vs_cdr_store__close(s);
}

/* A byte budget smaller than two rows: every row is its own batch. */
Test(store_mysql, batch_bytes_limit)
{
	struct vs_mysql_opts o = fresh_db("bytes");
	struct vs_mysql_stats st;
	struct vs_cdr_store *s;
	struct vs_cdr c;
	int i;

	o.batch_bytes = 100;
	s = vs_cdr_store__mysql(&o);
	cr_assert(s);
	fill(&c, "x");
	for (i = 0; i < 3; i++) {
		cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
		cr_expect_eq(count_rows(), i + 1);
	}
	cr_assert_eq(vs_mysql__stats(s, &st), 0);
	cr_expect_eq(st.batches, 3);
	vs_cdr_store__close(s);
}

Test(store_mysql, check_exists_callid)
{
	struct vs_mysql_opts o = fresh_db("dedup");
	struct vs_mysql_stats st;
	struct vs_cdr_store *s;
	struct vs_cdr c;

	o.check_exists_callid = 1;
	s = vs_cdr_store__mysql(&o);
	cr_assert(s);
	fill(&c, "dup@host");
	cr_expect_eq(vs_cdr_store__insert(s, &c), 0);
	cr_expect_eq(vs_cdr_store__insert(s, &c), 1); /* pending row seen */
	cr_expect_eq(vs_cdr_store__flush(s), 0);
	cr_expect_eq(vs_cdr_store__insert(s, &c), 1); /* committed row seen */
	fill(&c, "DUP@host"); /* Call-IDs are case-sensitive */
	cr_expect_eq(vs_cdr_store__insert(s, &c), 0);
	fill(&c, "dup@hos"); /* a prefix is another Call-ID */
	cr_expect_eq(vs_cdr_store__insert(s, &c), 0);
	cr_assert_eq(vs_mysql__stats(s, &st), 0);
	cr_expect_eq(st.skipped, 2);
	vs_cdr_store__close(s);
	cr_expect_eq(count_rows(), 3);

	/* Without the option every copy is written. */
	o.check_exists_callid = 0;
	s = vs_cdr_store__mysql(&o);
	cr_assert(s);
	cr_expect_eq(vs_cdr_store__insert(s, &c), 0);
	vs_cdr_store__close(s);
	cr_expect_eq(count_rows(), 4);
}

Test(store_mysql, reopen_keeps_data_and_schema)
{
	struct vs_mysql_opts o = fresh_db("reopen");
	struct vs_cdr_store *s;
	struct vs_cdr c;
	MYSQL *m;

	s = vs_cdr_store__mysql(&o);
	cr_assert(s);
	fill(&c, "abc123@host");
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	vs_cdr_store__close(s);
	s = vs_cdr_store__mysql(&o);
	cr_assert(s);
	fill(&c, "second@host");
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	vs_cdr_store__close(s);
	cr_expect_eq(count_rows(), 2);
	fill(&c, "abc123@host");
	compare_with_sqlite(&c, "abc123@host");
	m = peek();
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM vs_schema"), 1);
	cr_expect_eq(qint(m, "SELECT version FROM vs_schema"),
		     VS_SCHEMA_VERSION);
	cr_expect_eq(qint(m, "SELECT COUNT(DISTINCT index_name) FROM "
			     "information_schema.statistics WHERE table_schema "
			     "= DATABASE() AND table_name = 'cdr' AND "
			     "index_name IN ('cdr_call_id', 'cdr_calldate')"),
		     2);
	cr_expect_eq(qint(m, "SELECT MAX(ID) FROM cdr"), 2);
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM information_schema.columns "
			     "WHERE table_schema = DATABASE() AND table_name "
			     "= 'cdr'"),
		     (long long)vs_cdr_n_columns + 1);
	mysql_close(m);
}

static void open_expect_fail(void *arg)
{
	const struct vs_mysql_opts *o = arg;

	cr_expect_null(vs_cdr_store__mysql(o));
}

Test(store_mysql, newer_schema_refused)
{
	struct vs_mysql_opts o = fresh_db("newer");
	char got[512], want[512];
	MYSQL *m = peek();

	run(m, "CREATE TABLE vs_schema (version INTEGER NOT NULL)");
	run(m, "INSERT INTO vs_schema VALUES (3)");
	capture_stderr(open_expect_fail, &o, got, sizeof(got));
	cr_expect_eq(errno, EPROTO);
	snprintf(want, sizeof(want),
		 "voxsense: error: mariadb socket %s: database %s: schema "
		 "version 3 is newer than the 2 this voxsense writes: upgrade "
		 "voxsense or set another mysqldb\n",
		 o.socket, dbname);
	cr_expect_str_eq(got, want);
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM information_schema.tables "
			     "WHERE table_schema = DATABASE() AND table_name "
			     "= 'cdr'"),
		     0);
	mysql_close(m);
}

/* A table made by an older voxsense (fewer columns) gets the new ones;
 * its rows stay. */
Test(store_mysql, missing_columns_added)
{
	struct vs_mysql_opts o = fresh_db("migr");
	struct vs_cdr_store *s;
	struct vs_cdr c;
	MYSQL *m = peek();

	run(m, "CREATE TABLE vs_schema (version INTEGER NOT NULL)");
	run(m, "INSERT INTO vs_schema VALUES (1)");
	run(m, "CREATE TABLE cdr (ID BIGINT UNSIGNED NOT NULL AUTO_INCREMENT "
	       "PRIMARY KEY, id_sensor SMALLINT UNSIGNED, call_id "
	       "VARCHAR(255)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin");
	run(m, "INSERT INTO cdr (id_sensor, call_id) VALUES (3, 'old')");
	s = vs_cdr_store__mysql(&o);
	cr_assert(s);
	fill(&c, "new");
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	vs_cdr_store__close(s);
	compare_with_sqlite(&c, "new");
	cr_expect_eq(qint(m, "SELECT id_sensor FROM cdr WHERE call_id = 'old'"),
		     3);
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM vs_schema"), 2); /* 1, 2 */
	cr_expect_eq(qint(m, "SELECT MAX(version) FROM vs_schema"), 2);
	mysql_close(m);
}

/* --- cdr_rtp ---------------------------------------------------------------- */

/* The cdr_rtp rows of CDR `call_id` in both stores, column by column. */
static void compare_streams_with_sqlite(const struct vs_cdr *c,
					const char *call_id)
{
	char path[] = "/tmp/vs_test_db_XXXXXX", sql[2048], *p, wal[64];
	struct vs_cdr_store *lite;
	sqlite3 *db;
	sqlite3_stmt *st;
	MYSQL_RES *r;
	MYSQL_ROW row;
	MYSQL *m;
	size_t i;
	unsigned k = 0;
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	close(fd);
	unlink(path);
	lite = vs_cdr_store__sqlite(path, 0);
	cr_assert(lite);
	cr_assert_eq(vs_cdr_store__insert(lite, c), 0);
	vs_cdr_store__close(lite);
	p = sql + sprintf(sql, "SELECT stream_index");
	for (i = 0; i < vs_rtp_n_columns; i++)
		p += sprintf(p, ",%s", vs_rtp_columns[i].name);
	p += sprintf(p, " FROM cdr_rtp ORDER BY stream_index");
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sprintf(p - strlen(" FROM cdr_rtp ORDER BY stream_index"),
		" FROM cdr_rtp JOIN cdr ON cdr.ID = cdr_rtp.cdr_ID WHERE "
		"cdr.call_id = '%s' ORDER BY stream_index", call_id);
	m = peek();
	run(m, sql);
	r = mysql_store_result(m);
	cr_assert(r);
	cr_expect_eq(mysql_num_rows(r), c->n_streams);
	while ((row = mysql_fetch_row(r))) {
		cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
		cr_expect_eq(strtoll(row[0], NULL, 10), k++);
		for (i = 0; i < vs_rtp_n_columns; i++) {
			const char *lt = (const char *)sqlite3_column_text(
				st, (int)i + 1);

			cr_expect(lt && row[i + 1], "%s",
				  vs_rtp_columns[i].name);
			if (lt && row[i + 1] &&
			    sqlite3_column_type(st, (int)i + 1) == SQLITE_FLOAT)
				cr_expect_eq(strtod(row[i + 1], NULL),
					     strtod(lt, NULL), "%s",
					     vs_rtp_columns[i].name);
			else if (lt && row[i + 1])
				cr_expect_str_eq(row[i + 1], lt, "%s",
						 vs_rtp_columns[i].name);
		}
	}
	cr_expect_eq(sqlite3_step(st), SQLITE_DONE);
	mysql_free_result(r);
	mysql_close(m);
	sqlite3_finalize(st);
	sqlite3_close(db);
	unlink(path);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", path);
	unlink(wal);
}

Test(store_mysql, streams_equal_sqlite)
{
	struct vs_mysql_opts o = fresh_db("rtp");
	struct vs_cdr_leg st[3];
	struct vs_cdr_store *s;
	struct vs_cdr c;
	MYSQL *m;

	s = vs_cdr_store__mysql(&o);
	cr_assert(s, "%s", strerror(errno));
	fill(&c, "nostreams");
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	fill(&c, "odd");
	with_streams(&c, st, 3, 100);
	st[2].rtcp_rtt_max_ms = NAN; /* NULL in MariaDB, as in SQLite */
	strcpy(st[2].codec, "x\xff"); /* not UTF-8: '?' */
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	fill(&c, "three");
	with_streams(&c, st, 3, 200);
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	cr_assert_eq(vs_cdr_store__flush(s), 0);
	m = peek();
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM cdr_rtp"), 6);
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM cdr_rtp WHERE cdr_ID = 2 "
			     "AND stream_index = 2 AND ssrc = 102 AND dir = 1 "
			     "AND codec = 'x?' AND rtcp_maxrtd IS NULL AND "
			     "saddr = '10.0.0.2' AND sport = 4001 AND "
			     "rtcp_loss = -2 AND mos = 3.25"),
		     1);
	mysql_close(m);
	compare_streams_with_sqlite(&c, "three");
	vs_cdr_store__close(s);
}

/* cdr_rtp rows whose CDR (by cdr_ID) is the one their SSRC names: CDR
 * "<prefix><i>" has streams with ssrc 10 * i + stream_index. */
static long long linked(MYSQL *m, const char *prefix)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "SELECT COUNT(*) FROM cdr_rtp r JOIN cdr c ON c.ID = r.cdr_ID "
		 "WHERE CONCAT('%s', r.ssrc DIV 10) = c.call_id AND "
		 "r.ssrc %% 10 = r.stream_index", prefix);
	return qint(m, sql);
}

/* Many batches, 0..3 streams per CDR: each stream row names its CDR. */
static void streams_link(const char *db, unsigned batch, unsigned cdrs)
{
	struct vs_mysql_opts o = fresh_db(db);
	struct vs_cdr_leg st[4];
	struct vs_cdr_store *s;
	struct vs_cdr c;
	long long want = 0;
	char id[32];
	unsigned i;
	MYSQL *m;

	o.batch_rows = batch;
	s = vs_cdr_store__mysql(&o);
	cr_assert(s, "%s", strerror(errno));
	for (i = 0; i < cdrs; i++) {
		snprintf(id, sizeof(id), "c%u", i);
		fill(&c, id);
		with_streams(&c, st, i % 4, 10 * i);
		want += i % 4;
		cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
		if (i % 37 == 36)
			cr_assert_eq(vs_cdr_store__flush(s), 0);
	}
	cr_assert_eq(vs_cdr_store__flush(s), 0);
	m = peek();
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM cdr_rtp"), want);
	cr_expect_eq(linked(m, "c"),
		     want);
	mysql_close(m);
	vs_cdr_store__close(s);
}

Test(store_mysql, streams_link_across_batches)
{
	streams_link("rtplink", 10, 300);
}

/* cdr.ID comes from the sequence vs_cdr_id, not from auto-increment: two
 * stores (two connections, as the central server's CDR writers) inserting
 * at once, chunk for chunk, get IDs that interleave, and every stream row
 * still names its own CDR. */
Test(store_mysql, two_stores_at_once_link_streams)
{
	struct vs_mysql_opts o = fresh_db("two");
	struct vs_cdr_store *s[2];
	struct vs_cdr_leg st[4];
	struct vs_cdr c;
	long long want = 0;
	char id[32];
	unsigned i;
	MYSQL *m;

	o.batch_rows = 64; /* executions of 16 while a batch fills */
	s[0] = vs_cdr_store__mysql(&o);
	s[1] = vs_cdr_store__mysql(&o);
	cr_assert(s[0] && s[1], "%s", strerror(errno));
	for (i = 0; i < 600; i++) {
		snprintf(id, sizeof(id), "c%u", i);
		fill(&c, id);
		with_streams(&c, st, i % 4, 10 * i);
		want += i % 4;
		cr_assert_eq(vs_cdr_store__insert(s[i % 2], &c), 0);
	}
	cr_assert_eq(vs_cdr_store__flush(s[0]), 0);
	cr_assert_eq(vs_cdr_store__flush(s[1]), 0);
	m = peek();
	cr_expect_eq(qint(m, "SELECT COUNT(DISTINCT ID) FROM cdr"), 600);
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM cdr_rtp"), want);
	cr_expect_eq(linked(m, "c"),
		     want);
	mysql_close(m);
	vs_cdr_store__close(s[0]);
	vs_cdr_store__close(s[1]);
}

/* Rows inserted by auto-increment behind the store's back (an older
 * voxsense on the same database) take IDs the sequence would hand out:
 * the batch that hits one fails once, the sequence moves past MAX(ID), and
 * the batch goes again whole, its streams linked. */
Test(store_mysql, ids_taken_by_another_writer)
{
	struct vs_mysql_opts o = fresh_db("idtaken");
	struct vs_cdr_leg st[4];
	struct vs_cdr_store *s;
	struct vs_cdr c;
	char id[32];
	unsigned i;
	int tries;
	MYSQL *m;

	o.retry_min_ms = o.retry_max_ms = 100;
	s = vs_cdr_store__mysql(&o);
	cr_assert(s, "%s", strerror(errno));
	for (i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "c%u", i);
		fill(&c, id);
		with_streams(&c, st, 2, 10 * i);
		cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	}
	cr_assert_eq(vs_cdr_store__flush(s), 0);
	m = peek();
	run(m, "INSERT INTO cdr (call_id) VALUES ('old1'), ('old2'), ('old3')");
	for (i = 10; i < 20; i++) {
		snprintf(id, sizeof(id), "c%u", i);
		fill(&c, id);
		with_streams(&c, st, 2, 10 * i);
		cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	}
	for (tries = 0; tries < 20 && vs_cdr_store__flush(s); tries++)
		usleep(150000);
	cr_expect_lt(tries, 20, "the batch never went through");
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM cdr"), 23);
	cr_expect_eq(linked(m, "c"),
		     40);
	mysql_close(m);
	vs_cdr_store__close(s);
}

/* --- pipelining: rows go to the server while the batch fills -------------- */

/* CDRs named from..to-1 ("p<i>"), i % 4 streams each with ssrc 10 * i + k. */
static void insert_range(struct vs_cdr_store *s, unsigned from, unsigned to)
{
	struct vs_cdr_leg st[4];
	struct vs_cdr c;
	char id[32];
	unsigned i;

	for (i = from; i < to; i++) {
		snprintf(id, sizeof(id), "p%u", i);
		fill(&c, id);
		with_streams(&c, st, i % 4, 10 * i);
		cr_assert_eq(vs_cdr_store__insert(s, &c), 0, "CDR %u", i);
	}
}

/* Every CDR p0..p<n-1> once, each stream once and with its CDR. */
static void expect_linked(unsigned n)
{
	MYSQL *m = peek();
	long long want = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		want += i % 4;
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM cdr"), n);
	cr_expect_eq(qint(m, "SELECT COUNT(DISTINCT call_id) FROM cdr"), n);
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM cdr_rtp"), want);
	cr_expect_eq(linked(m, "p"),
		     want);
	mysql_close(m);
}

/* Batches of 400 go out in executions of 100 while they fill, in one
 * open transaction: nothing is visible before the commit, everything
 * once after it. */
Test(store_mysql, pipelined_batch_commits_once)
{
	struct vs_mysql_opts o = fresh_db("pipe");
	struct vs_mysql_stats st;
	struct vs_cdr_store *s;

	o.batch_rows = 400;
	s = vs_cdr_store__mysql(&o);
	cr_assert(s, "%s", strerror(errno));
	insert_range(s, 0, 350);
	cr_expect_eq(count_rows(), 0); /* sent maybe, not committed */
	cr_assert_eq(vs_cdr_store__flush(s), 0);
	expect_linked(350);
	insert_range(s, 350, 750); /* the 400th fills the batch: commit */
	cr_expect_eq(count_rows(), 750);
	insert_range(s, 750, 1000);
	cr_assert_eq(vs_cdr_store__flush(s), 0);
	expect_linked(1000);
	cr_assert_eq(vs_mysql__stats(s, &st), 0);
	cr_expect_eq(st.committed, 1000);
	cr_expect_eq(st.batches, 3);
	cr_expect_eq(st.refused, 0);
	vs_cdr_store__close(s);
}

/* The server refuses a pipelined execution (a trigger fails it): the
 * batch is held, nothing of it is stored, and once the cause is gone it
 * is committed whole, once. */
Test(store_mysql, pipelined_refusal_holds_batch)
{
	struct vs_mysql_opts o = fresh_db("piperef");
	struct vs_mysql_stats st;
	struct vs_cdr_store *s;
	MYSQL *m;

	o.batch_rows = 400;
	o.retry_min_ms = 50;
	o.retry_max_ms = 50;
	s = vs_cdr_store__mysql(&o);
	cr_assert(s, "%s", strerror(errno));
	m = peek();
	run(m, "CREATE TRIGGER boom BEFORE INSERT ON cdr FOR EACH ROW IF "
	       "NEW.call_id = 'p50' THEN SIGNAL SQLSTATE '45000' SET "
	       "MESSAGE_TEXT = 'refused by test'; END IF");
	insert_range(s, 0, 150);
	cr_expect_eq(vs_cdr_store__flush(s), -EAGAIN);
	cr_expect_eq(count_rows(), 0);
	run(m, "DROP TRIGGER boom");
	mysql_close(m);
	usleep(60000);
	cr_assert_eq(vs_cdr_store__flush(s), 0);
	expect_linked(150);
	cr_assert_eq(vs_mysql__stats(s, &st), 0);
	cr_expect_eq(st.committed, 150);
	cr_expect_eq(st.batches, 1);
	vs_cdr_store__close(s);
}

/* A database of schema version 1 (no cdr_rtp) gets the table and version
 * 2; its CDRs stay. */
Test(store_mysql, migrates_version_1)
{
	struct vs_mysql_opts o = fresh_db("v1");
	struct vs_cdr_leg st[2];
	struct vs_cdr_store *s;
	char *create = vs_schema__create_cdr_mysql();
	struct vs_cdr c;
	MYSQL *m = peek();

	cr_assert(create);
	run(m, create);
	free(create);
	run(m, "CREATE TABLE vs_schema (version INTEGER NOT NULL)");
	run(m, "INSERT INTO vs_schema VALUES (1)");
	run(m, "INSERT INTO cdr (call_id) VALUES ('old')");
	s = vs_cdr_store__mysql(&o);
	cr_assert(s, "%s", strerror(errno));
	fill(&c, "new");
	with_streams(&c, st, 2, 0);
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	vs_cdr_store__close(s);
	cr_expect_eq(qint(m, "SELECT MAX(version) FROM vs_schema"), 2);
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM vs_schema"), 2);
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM cdr"), 2);
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM cdr_rtp WHERE cdr_ID = 2"),
		     2);
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM information_schema.columns "
			     "WHERE table_schema = DATABASE() AND table_name "
			     "= 'cdr_rtp'"),
		     (long long)vs_rtp_n_columns + 2);
	mysql_close(m);
}

/* --- INSERTs that name only the filled columns (store_mysql_ins.c) ---------- */

static void qtext(MYSQL *m, const char *sql, char *buf, size_t len)
{
	MYSQL_RES *r;
	MYSQL_ROW row;

	run(m, sql);
	r = mysql_store_result(m);
	cr_assert(r, "%s", sql);
	row = mysql_fetch_row(r);
	cr_assert(row, "%s: no row", sql);
	snprintf(buf, len, "%s", row[0] ? row[0] : "(null)");
	mysql_free_result(r);
}

/* CDR i of a mix in which rows fill different columns: full with 2
 * streams, empty, full without leg b and DTMF, full with 3 streams one of
 * which is empty but for its SSRC. */
static void mixed_cdr(struct vs_cdr *c, struct vs_cdr_leg *st, unsigned i,
		      char *id, size_t len)
{
	snprintf(id, len, "mix%u", i);
	switch (i % 4) {
	case 0:
		fill(c, id);
		with_streams(c, st, 2, 10 * i);
		break;
	case 1:
		memset(c, 0, sizeof(*c));
		snprintf(c->call_id, sizeof(c->call_id), "%s", id);
		c->end = VS_END_TIMEOUT;
		break;
	case 2:
		fill(c, id);
		memset(&c->b, 0, sizeof(c->b));
		c->a.dtmf[0] = '\0';
		c->a.dtmf_events = 0;
		break;
	default:
		fill(c, id);
		with_streams(c, st, 3, 10 * i);
		memset(&st[2], 0, sizeof(st[2]));
		st[2].ssrc = 10 * i + 2;
		break;
	}
}

/* One batch mixes them, over several pipelined chunks (batch 64: chunks of
 * 16) and several batches: every row, and every stream row, equals
 * SQLite's. */
Test(store_mysql, narrow_mixed_rows_equal_sqlite)
{
	struct vs_mysql_opts o = fresh_db("narrow");
	struct vs_cdr_leg st[4];
	struct vs_cdr_store *s;
	struct vs_cdr c;
	char id[32];
	unsigned i;
	MYSQL *m;

	o.batch_rows = 64;
	s = vs_cdr_store__mysql(&o);
	cr_assert(s, "%s", strerror(errno));
	for (i = 0; i < 200; i++) {
		/* Runs of one kind, so that chunks differ in what they fill. */
		mixed_cdr(&c, st, i < 100 ? i / 25 : i, id, sizeof(id));
		snprintf(c.call_id, sizeof(c.call_id), "mix%u", i);
		cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	}
	cr_assert_eq(vs_cdr_store__flush(s), 0);
	vs_cdr_store__close(s);
	m = peek();
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM cdr"), 200);
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM cdr_rtp"),
		     25 * 2 + 25 * 3 + 25 * 2 + 25 * 3);
	mysql_close(m);
	for (i = 0; i < 200; i += i < 100 ? 25 : 1) {
		mixed_cdr(&c, st, i < 100 ? i / 25 : i, id, sizeof(id));
		snprintf(id, sizeof(id), "mix%u", i);
		snprintf(c.call_id, sizeof(c.call_id), "%s", id);
		compare_with_sqlite(&c, id);
		if (c.n_streams && c.streams)
			compare_streams_with_sqlite(&c, id);
		if (i >= 100)
			i += 4; /* a sample of the second half: every kind */
	}
}

/* Opens a store, inserts c and closes (which commits). */
static void insert_one(const struct vs_mysql_opts *o, const struct vs_cdr *c)
{
	struct vs_cdr_store *s = vs_cdr_store__mysql(o);

	cr_assert(s, "%s", strerror(errno));
	cr_assert_eq(vs_cdr_store__insert(s, c), 0);
	vs_cdr_store__close(s);
}

static void open_close(void *arg)
{
	struct vs_cdr_store *s = vs_cdr_store__mysql(arg);

	cr_assert(s);
	vs_cdr_store__close(s);
}

/* The defaults are what an empty CDR stores; one changed by hand is set
 * back at the next start, and a start that finds them right alters
 * nothing. */
Test(store_mysql, column_defaults_set_and_kept)
{
	struct vs_mysql_opts o = fresh_db("defs");
	static const char q[] =
		"SELECT CONCAT(column_default) FROM information_schema.columns "
		"WHERE table_schema = DATABASE() AND table_name = 'cdr' AND "
		"column_name = ";
	char log[4096], v[64], sql[256];
	struct vs_cdr c;
	MYSQL *m;

	open_close(&o);
	m = peek();
	snprintf(sql, sizeof(sql), "%s'a_codec'", q);
	qtext(m, sql, v, sizeof(v));
	cr_expect_str_eq(v, "''");
	snprintf(sql, sizeof(sql), "%s'a_ssrc'", q);
	qtext(m, sql, v, sizeof(v));
	cr_expect_str_eq(v, "0");
	run(m, "ALTER TABLE cdr ALTER COLUMN a_codec SET DEFAULT 'x', "
	       "ALTER COLUMN a_ssrc SET DEFAULT 5");
	capture_stderr(open_close, &o, log, sizeof(log));
	cr_expect(strstr(log, "table cdr: setting the DEFAULT of 2 columns"),
		  "%s", log);
	snprintf(sql, sizeof(sql), "%s'a_ssrc'", q);
	qtext(m, sql, v, sizeof(v));
	cr_expect_str_eq(v, "0");
	capture_stderr(open_close, &o, log, sizeof(log));
	cr_expect(!strstr(log, "DEFAULT"), "altered again: %s", log);
	mysql_close(m);
	memset(&c, 0, sizeof(c));
	strcpy(c.call_id, "empty");
	insert_one(&o, &c);
	compare_with_sqlite(&c, "empty");
}

/* A reader holding the table (a GUI's long query) makes the ALTER wait
 * for its metadata lock: the store gives up after 2 s, names every column
 * and works; nothing else queues behind it for longer. */
Test(store_mysql, defaults_wait_is_bounded, .timeout = 60)
{
	struct vs_mysql_opts o = fresh_db("defwait");
	struct vs_cdr_store *s;
	char log[4096];
	struct vs_cdr c;
	MYSQL *m, *reader;

	open_close(&o);
	m = peek();
	run(m, "ALTER TABLE cdr ALTER COLUMN a_codec SET DEFAULT 'x'");
	reader = peek();
	run(reader, "START TRANSACTION");
	qint(reader, "SELECT COUNT(*) FROM cdr");
	capture_stderr(open_close, &o, log, sizeof(log));
	cr_expect(strstr(log, "Lock wait timeout"), "%s", log);
	cr_expect(strstr(log, "every column is inserted"), "%s", log);
	s = vs_cdr_store__mysql(&o);
	cr_assert(s);
	fill(&c, "waited");
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	run(reader, "COMMIT");
	vs_cdr_store__close(s);
	compare_with_sqlite(&c, "waited");
	mysql_close(reader);
	mysql_close(m);
}

/* A user who may not ALTER the tables: the store says so and names every
 * column, so rows are still right although a default differs. */
Test(store_mysql, no_alter_privilege_names_every_column)
{
	struct vs_mysql_opts o = fresh_db("noalt"), lim;
	char log[4096];
	struct vs_cdr c;
	MYSQL *m;

	if (!env("VS_MYSQL_NOALTER_USER"))
		cr_skip_test("VS_MYSQL_NOALTER_USER not set");
	open_close(&o);
	m = peek();
	run(m, "ALTER TABLE cdr ALTER COLUMN a_codec SET DEFAULT 'x'");
	lim = o;
	lim.user = env("VS_MYSQL_NOALTER_USER");
	capture_stderr(open_close, &lim, log, sizeof(log));
	cr_expect(strstr(log, "cannot set the columns' DEFAULTs: every "
			      "column is inserted"), "%s", log);
	memset(&c, 0, sizeof(c));
	strcpy(c.call_id, "empty");
	insert_one(&lim, &c);
	compare_with_sqlite(&c, "empty");
	fill(&c, "full");
	insert_one(&lim, &c);
	compare_with_sqlite(&c, "full");
	mysql_close(m);
}

/* --- connect errors --------------------------------------------------------- */

static void open_with_cause(struct vs_mysql_opts *o, int want_errno,
			    const char *want_text)
{
	char got[1024];

	capture_stderr(open_expect_fail, o, got, sizeof(got));
	cr_expect_eq(errno, want_errno, "%s", got);
	cr_expect(strstr(got, want_text), "want \"%s\" in: %s", want_text, got);
}

Test(store_mysql, connect_errors_say_why)
{
	struct vs_mysql_opts o = fresh_db("errs"), b;
	char text[128];

	b = o;
	b.password = "wrong";
	open_with_cause(&b, EACCES, "access denied: check mysqlusername and "
				    "mysqlpassword");
	b = o;
	b.db = "voxsense_no_such_db";
	open_with_cause(&b, ENOENT, "database voxsense_no_such_db: unknown "
				    "database");
	b = o;
	b.socket = "/nonexistent/mysqld.sock";
	open_with_cause(&b, ECONNREFUSED, "mariadb socket "
					  "/nonexistent/mysqld.sock: user");
	/* TCP: the test server's address works, port 1 does not. */
	b = o;
	b.socket = NULL;
	b.host = env("VS_MYSQL_HOST");
	b.port = 1;
	snprintf(text, sizeof(text), "mariadb %s:1: ", b.host);
	open_with_cause(&b, ECONNREFUSED, text);
	b.port = (unsigned)atoi(env("VS_MYSQL_PORT"));
	struct vs_cdr_store *s = vs_cdr_store__mysql(&b);

	cr_expect(s, "tcp: %s", strerror(errno));
	vs_cdr_store__close(s);
}

/* --- sensors ---------------------------------------------------------------- */

Test(store_mysql, sensors_upsert)
{
	struct vs_mysql_opts o = fresh_db("sens");
	struct vs_sensor_info si = {
		.id_sensor = 12,
		.name = "probe-'a'",
		.address = "192.0.2.7:41000",
		.version = "0.3.0",
		.mode = "local",
		.connected_since_us = T0,
		.last_seen_us = T0 + 5000000,
		.cdrs = 10,
		.packets = 0,
		.bytes = 12345,
	};
	struct vs_cdr_store *s, *lite;
	MYSQL_RES *r;
	MYSQL_ROW row;
	MYSQL *m;

	s = vs_cdr_store__mysql(&o);
	cr_assert(s);
	cr_assert_eq(vs_mysql_sensors__upsert(s, &si), 0);
	si.last_seen_us = T0 + 65000000;
	si.cdrs = 20;
	si.version = NULL;
	cr_assert_eq(vs_mysql_sensors__upsert(s, &si), 0);
	si.id_sensor = 13;
	si.name = "b";
	si.connected_since_us = 0;
	cr_assert_eq(vs_mysql_sensors__upsert(s, &si), 0);
	si.id_sensor = 0;
	cr_expect_eq(vs_mysql_sensors__upsert(s, &si), -EINVAL);
	m = peek();
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM sensors"), 2);
	run(m, "SELECT id_sensor, name, address, version, mode, "
	       "connected_since, last_seen, cdrs, packets, bytes FROM sensors "
	       "ORDER BY id_sensor");
	r = mysql_store_result(m);
	row = mysql_fetch_row(r);
	cr_assert(row);
	cr_expect_str_eq(row[0], "12");
	cr_expect_str_eq(row[1], "probe-'a'");
	cr_expect_str_eq(row[2], "192.0.2.7:41000");
	cr_expect_str_eq(row[3], "");
	cr_expect_str_eq(row[4], "local");
	cr_expect_str_eq(row[5], "2023-11-14 22:13:20.123456");
	cr_expect_str_eq(row[6], "2023-11-14 22:14:25.123456");
	cr_expect_str_eq(row[7], "20");
	cr_expect_str_eq(row[8], "0");
	cr_expect_str_eq(row[9], "12345");
	row = mysql_fetch_row(r);
	cr_assert(row);
	cr_expect_str_eq(row[0], "13");
	cr_expect_null(row[5]);
	mysql_free_result(r);
	mysql_close(m);
	vs_cdr_store__close(s);

	/* Not a MariaDB store. */
	lite = vs_cdr_store__json("/dev/null");
	cr_assert(lite);
	si.id_sensor = 1;
	cr_expect_eq(vs_mysql_sensors__upsert(lite, &si), -EINVAL);
	vs_cdr_store__close(lite);
}

/* --- a COMMIT whose answer is lost ---------------------------------------- */

/* A TCP proxy to the test server that, once armed, either swallows the next
 * COMMIT (the server rolls back when the client gives up) or forwards it and
 * swallows every answer after it (the server commits; the client never
 * hears). One connection at a time, which is all a store uses. */
enum { PASS, EAT_COMMIT, EAT_ANSWER };

struct proxy {
	int lfd, port;
	volatile int armed;	/* EAT_COMMIT or EAT_ANSWER for one COMMIT */
	volatile int stop;
	pthread_t th;
};

static int is_commit(const char *b, ssize_t n)
{
	/* MySQL packet: 3-byte length, sequence, COM_QUERY (3), text */
	return n >= 11 && b[4] == 3 && !memcmp(b + 5, "COMMIT", 6);
}

static void pump(struct proxy *px, int c, int u)
{
	struct pollfd pf[2] = { { .fd = c, .events = POLLIN },
				{ .fd = u, .events = POLLIN } };
	int deaf = 0; /* the client no longer hears the server */
	char b[65536];
	ssize_t n;

	while (!px->stop && poll(pf, 2, 100) >= 0) {
		if (pf[0].revents) {
			n = read(c, b, sizeof(b));
			if (n <= 0)
				return;
			if (px->armed && is_commit(b, n)) {
				deaf = 1;
				if (px->armed == EAT_COMMIT) {
					px->armed = PASS;
					continue;
				}
				px->armed = PASS;
			}
			if (write(u, b, (size_t)n) != n)
				return;
		}
		if (pf[1].revents) {
			n = read(u, b, sizeof(b));
			if (n <= 0)
				return;
			if (!deaf && write(c, b, (size_t)n) != n)
				return;
		}
	}
}

static void *proxy_main(void *arg)
{
	struct proxy *px = arg;
	struct sockaddr_in to = { .sin_family = AF_INET };
	int c, u;

	to.sin_port = htons((uint16_t)atoi(env("VS_MYSQL_PORT")));
	inet_pton(AF_INET, env("VS_MYSQL_HOST"), &to.sin_addr);
	while (!px->stop) {
		struct pollfd pf = { .fd = px->lfd, .events = POLLIN };

		if (poll(&pf, 1, 100) <= 0)
			continue;
		c = accept(px->lfd, NULL, NULL);
		if (c < 0)
			continue;
		u = socket(AF_INET, SOCK_STREAM, 0);
		if (u >= 0 && !connect(u, (struct sockaddr *)&to, sizeof(to)))
			pump(px, c, u);
		close(c);
		if (u >= 0)
			close(u);
	}
	return NULL;
}

static void proxy_start(struct proxy *px)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);

	memset(px, 0, sizeof(*px));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	px->lfd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(px->lfd >= 0);
	cr_assert_eq(bind(px->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(px->lfd, 4), 0);
	cr_assert_eq(getsockname(px->lfd, (struct sockaddr *)&a, &len), 0);
	px->port = ntohs(a.sin_port);
	cr_assert_eq(pthread_create(&px->th, NULL, proxy_main, px), 0);
}

static void proxy_stop(struct proxy *px)
{
	px->stop = 1;
	pthread_join(px->th, NULL);
	close(px->lfd);
}

/* The store loses the answer to its COMMIT (times out, drops the
 * connection) while the server did or did not commit. After reconnecting
 * it must find out which from the marker row and store the rows once. */
static void lost_commit_answer(int mode)
{
	struct vs_mysql_opts o = fresh_db(mode == EAT_ANSWER ? "doubt1" :
							       "doubt0");
	struct vs_mysql_stats st;
	struct vs_cdr_store *s;
	struct vs_cdr_leg legs[2];
	struct proxy px;
	struct vs_cdr c;
	char id[32];
	int i;
	MYSQL *m;

	proxy_start(&px);
	o.socket = NULL;
	o.host = "127.0.0.1";
	o.port = (unsigned)px.port;
	o.timeout_s = 1;
	o.retry_min_ms = 300; /* the insert below comes before the retry */
	o.retry_max_ms = 300;
	s = vs_cdr_store__mysql(&o);
	cr_assert(s, "%s", strerror(errno));
	for (i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "doubt-%d", i);
		fill(&c, id);
		with_streams(&c, legs, 2, 0);
		cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	}
	px.armed = mode;
	cr_expect_eq(vs_cdr_store__flush(s), -EAGAIN); /* no answer in 1 s */
	cr_assert_eq(vs_mysql__stats(s, &st), 0);
	cr_expect_eq(st.connected, 0);
	cr_expect_eq(st.committed, 0);
	cr_expect_eq(px.armed, PASS, "the proxy did not see the COMMIT");
	/* While in doubt, no new CDR joins the batch. */
	fill(&c, "refused");
	cr_expect_eq(vs_cdr_store__insert(s, &c), -EAGAIN);
	cr_expect_eq(count_rows(), mode == EAT_ANSWER ? 5 : 0);
	usleep(350000);
	cr_expect_eq(vs_cdr_store__flush(s), 0);
	cr_assert_eq(vs_mysql__stats(s, &st), 0);
	cr_expect_eq(st.resent, 1);
	cr_expect_eq(st.reconnects, 1);
	cr_expect_eq(st.committed, 5);
	cr_expect_eq(count_rows(), 5);
	/* And the store goes on. */
	fill(&c, "after");
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	cr_assert_eq(vs_cdr_store__flush(s), 0);
	cr_expect_eq(count_rows(), 6);
	m = peek(); /* the streams once too, each with its CDR */
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM cdr_rtp r JOIN cdr c ON "
			     "c.ID = r.cdr_ID WHERE c.call_id LIKE 'doubt-%'"),
		     10);
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM cdr_rtp"), 10);
	mysql_close(m);
	vs_cdr_store__close(s);
	proxy_stop(&px);
}

Test(store_mysql, lost_commit_answer_committed)
{
	lost_commit_answer(EAT_ANSWER);
}

Test(store_mysql, lost_commit_rolled_back)
{
	lost_commit_answer(EAT_COMMIT);
}

/* --- kill -9 of the server in the middle of a stream ----------------------- */

static pid_t server_pid(void)
{
	FILE *f = fopen(env("VS_MYSQL_PIDFILE"), "r");
	int pid = 0;

	if (f) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return pid;
}

/* The child: kills the server `kills` times at random moments, restarting
 * it each time after a random pause. */
static void killer(int kills, unsigned seed)
{
	pid_t pid;
	int k;

	srand(seed);
	for (k = 0; k < kills; k++) {
		usleep(200000 + (useconds_t)(rand() % 800000));
		pid = server_pid();
		if (pid <= 0 || kill(pid, SIGKILL))
			_exit(2);
		while (!kill(pid, 0))
			usleep(10000);
		usleep((useconds_t)(rand() % 500000));
		if (system(env("VS_MYSQL_START")))
			_exit(3);
	}
	_exit(0);
}

/* Like the central server: CDRs 0..n in order; a CDR the store refuses
 * (-EAGAIN) stays in "the spool" and is offered again; a flush that
 * returns 0 acknowledges everything accepted before it. The stream runs
 * until the killer is done. Afterwards every CDR is in the table once. */
Test(mysql_crash, kill9_exactly_once, .timeout = 300)
{
	struct vs_mysql_opts o;
	struct vs_mysql_stats st;
	struct vs_cdr_store *s;
	struct vs_cdr_leg legs[2];
	unsigned next = 0, acked = 0, per_flush;
	int r, status, killer_done = 0, kills = 4;
	struct vs_cdr c;
	char sql[160];
	pid_t child;
	MYSQL *m;

	if (!env("VS_MYSQL_CRASH"))
		cr_skip_test("VS_MYSQL_CRASH not set: run "
			     "tests/integration/t_mariadb_crash.sh");
	o = fresh_db("crash");
	o.retry_min_ms = 20;
	o.retry_max_ms = 200;
	o.batch_rows = 200;
	s = vs_cdr_store__mysql(&o);
	cr_assert(s);
	fill(&c, "");
	with_streams(&c, legs, 2, 0);
	fflush(NULL);
	child = fork();
	cr_assert(child >= 0);
	if (!child)
		killer(kills, (unsigned)getpid());
	while (!killer_done || acked < next) {
		per_flush = 1 + next % 97; /* batches of 1..97, some of 200 */
		while (!killer_done && next - acked < per_flush) {
			snprintf(c.call_id, sizeof(c.call_id), "k%08u", next);
			r = vs_cdr_store__insert(s, &c);
			if (r == -EAGAIN)
				break;
			cr_assert_eq(r, 0);
			next++;
		}
		r = vs_cdr_store__flush(s);
		if (!r)
			acked = next;
		else
			cr_assert_eq(r, -EAGAIN);
		if (r || next == acked)
			usleep(r ? 20000 : 0);
		if (!killer_done && waitpid(child, &status, WNOHANG) == child) {
			cr_assert(WIFEXITED(status) && !WEXITSTATUS(status),
				  "killer failed: %d", status);
			killer_done = 1;
		}
	}
	cr_assert_eq(vs_mysql__stats(s, &st), 0);
	vs_cdr_store__close(s);
	cr_log_info("%u CDRs, %llu batches, %llu reconnects, %llu re-sent, "
		    "%llu refused", next, (unsigned long long)st.batches,
		    (unsigned long long)st.reconnects,
		    (unsigned long long)st.resent,
		    (unsigned long long)st.refused);
	cr_expect_geq(st.reconnects, (uint64_t)kills);
	cr_expect_eq(st.committed, next);
	cr_expect_gt(next, 1000);
	m = peek();
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM cdr"), next);
	cr_expect_eq(qint(m, "SELECT COUNT(DISTINCT call_id) FROM cdr"), next);
	snprintf(sql, sizeof(sql),
		 "SELECT COUNT(*) FROM cdr WHERE call_id >= 'k00000000' AND "
		 "call_id < 'k%08u' AND LENGTH(call_id) = 9", next);
	cr_expect_eq(qint(m, sql), next);
	/* Every CDR with its two streams, once. */
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM cdr_rtp"), 2 * (long long)next);
	cr_expect_eq(qint(m, "SELECT COUNT(*) FROM cdr c WHERE (SELECT COUNT(*) "
			     "FROM cdr_rtp r WHERE r.cdr_ID = c.ID) = 2"),
		     next);
	mysql_close(m);
}
