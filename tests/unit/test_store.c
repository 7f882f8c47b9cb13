// SPDX-License-Identifier: GPL-2.0-or-later
/* cdr/ stores: SQLite (every column read back, streams in cdr_rtp, Call-ID
 * dedup, batching, reopen, schema version and migration) and JSON lines
 * (parsed back field by field). */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdr/schema.h"
#include "cdr/store.h"

#include "cdr_fixture.h"

static void fill(struct vs_cdr *c, const char *call_id)
{
	cdr_fill_fields(c, call_id);
	/* every stream of the call: here a, b and one more from the callee */
	static struct vs_cdr_leg streams[3];

	streams[0] = c->a;
	streams[1] = c->b;
	fill_leg(&streams[2], 1);
	streams[2].ssrc = 77;
	c->streams = streams;
	c->n_streams = 3;
}

static char db_path[64];

static void new_db_path(void)
{
	int fd;

	strcpy(db_path, "/tmp/vs_test_db_XXXXXX");
	fd = mkstemp(db_path);
	cr_assert(fd >= 0);
	close(fd);
	unlink(db_path); /* sqlite creates it */
}

static void drop_db(void)
{
	char p[96];

	unlink(db_path);
	snprintf(p, sizeof(p), "%s-wal", db_path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db_path);
	unlink(p);
}

/* A second, independent connection: sees only committed rows. */
static sqlite3 *peek_open(void)
{
	sqlite3 *db;

	cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	return db;
}

static long long query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v;

	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK,
		     "%s: %s", sql, sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sql);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static long long count_rows(void)
{
	sqlite3 *db = peek_open();
	long long n = query_int(db, "SELECT COUNT(*) FROM cdr");

	sqlite3_close(db);
	return n;
}

/* --- every column, read back by name ------------------------------------ */

struct want {
	char name[32];
	int type;
	char text[64];
};

static struct want wants[256];
static int nwant;

static void want(const char *name, int type, const char *text)
{
	cr_assert_lt(nwant, 256);
	snprintf(wants[nwant].name, sizeof(wants[nwant].name), "%s", name);
	wants[nwant].type = type;
	snprintf(wants[nwant].text, sizeof(wants[nwant].text), "%s",
		 text ? text : "");
	nwant++;
}

static void want_i(const char *p, const char *name, long long v)
{
	char n[32], t[32];

	snprintf(n, sizeof(n), "%s%s", p, name);
	snprintf(t, sizeof(t), "%lld", v);
	want(n, SQLITE_INTEGER, t);
}

static void want_f(const char *p, const char *name, const char *text)
{
	char n[32];

	snprintf(n, sizeof(n), "%s%s", p, name);
	want(n, SQLITE_FLOAT, text);
}

static void want_t(const char *p, const char *name, const char *text)
{
	char n[32];

	snprintf(n, sizeof(n), "%s%s", p, name);
	want(n, SQLITE_TEXT, text);
}

static void want_leg(const char *p, int k)
{
	static const char *const sl[] = { "sl1", "sl2", "sl3", "sl4", "sl5",
					  "sl6", "sl7", "sl8", "sl9", "sl10" };
	static const char *const d[] = { "d50", "d70", "d90", "d120",
					 "d150", "d200", "d300" };
	int i;

	want_i(p, "present", 1);
	want_i(p, "ssrc", 3735928559ll + k);
	want_i(p, "payload", 8 * k);
	want_t(p, "codec", k ? "PCMA" : "PCMU");
	want_i(p, "clock_rate", 8000 + k);
	want_t(p, "saddr", k ? "10.0.0.2" : "10.0.0.1");
	want_i(p, "sport", 4000 + k);
	want_t(p, "daddr", k ? "10.0.0.1" : "10.0.0.2");
	want_i(p, "dport", 5000 + k);
	want_i(p, "first_us", (long long)T0 + 5750000 + k);
	want_i(p, "last_us", (long long)T0 + 65000000 + k);
	want_i(p, "ptime", 20 + 10 * k);
	want_i(p, "received", 2950 + k);
	want_i(p, "lost", 12 + k);
	want_i(p, "duplicates", 2 + k);
	want_i(p, "reordered", 3 + k);
	want_f(p, "loss_perc", k ? "1.5" : "0.5");
	want_f(p, "avgjitter", k ? "2.25" : "1.25");
	want_f(p, "maxjitter", k ? "8.5" : "7.5");
	want_f(p, "mos", k ? "3.25" : "4.25");
	want_f(p, "rfactor", k ? "89.5" : "90.5");
	for (i = 0; i < 10; i++)
		want_i(p, sl[i], i + 1 + 100 * k);
	for (i = 0; i < 7; i++)
		want_i(p, d[i], 200 + i + 100 * k);
	want_i(p, "dtmf_events", 3 + k);
	want_t(p, "dtmf", k ? "#*" : "123");
	want_i(p, "rtcp_packets", 11 + k);
	want_i(p, "rtcp_reports", 10 + k);
	want_i(p, "rtcp_loss", -1 - k);
	want_f(p, "rtcp_maxfr", k ? "3.5" : "2.5");
	want_f(p, "rtcp_avgjitter", k ? "4.25" : "3.25");
	want_f(p, "rtcp_maxjitter", k ? "7.5" : "6.5");
	want_f(p, "rtcp_avgrtd", k ? "41.5" : "40.5");
	want_f(p, "rtcp_maxrtd", k ? "81.25" : "80.25");
}

static void want_all(void)
{
	nwant = 0;
	want_i("", "id_sensor", 7);
	want_t("", "call_id", "abc123@host");
	want_t("", "calldate", "2023-11-14 22:13:20.123456");
	want_t("", "callend", "2023-11-14 22:14:25.623456");
	want_f("", "duration", "65.5");
	want_f("", "connect_duration", "60.0");
	want_f("", "progress_time", "1.25");
	want_f("", "first_rtp_time", "5.75");
	want_i("", "calldate_us", (long long)T0);
	want_i("", "callend_us", (long long)T0 + 65500000);
	want_i("", "progress_us", (long long)T0 + 1250000);
	want_i("", "connect_us", (long long)T0 + 5500000);
	want_i("", "first_rtp_us", (long long)T0 + 5750000);
	want_t("", "caller", "1001");
	want_t("", "caller_domain", "a.example");
	want_t("", "callername", "Alice");
	want_t("", "called", "1002");
	want_t("", "called_domain", "b.example");
	want_t("", "calledname", "Bob");
	want_t("", "sipcallerip", "10.0.0.1");
	want_i("", "sipcallerport", 5060);
	want_t("", "sipcalledip", "2001:db8::2");
	want_i("", "sipcalledport", 5062);
	want_i("", "lastSIPresponseNum", 200);
	want_t("", "lastSIPresponse", "OK");
	want_t("", "whohanged", "callee");
	want_t("", "bye", "bye");
	want_t("", "bye_reason", "Q.850;cause=16");
	want_t("", "a_ua", "UA-A");
	want_t("", "b_ua", "UA-B");
	want_i("", "sip_messages", 9);
	want_i("", "reinvites", 1);
	want_t("", "pcap_path", "2023-11-14/22/13/abc.pcap");
	want_leg("a_", 0);
	want_leg("b_", 1);
}

static void check_row(sqlite3 *db, const char *where)
{
	char sql[128];
	sqlite3_stmt *st;
	int i;

	snprintf(sql, sizeof(sql), "SELECT * FROM cdr WHERE %s", where);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_count(st), nwant);
	for (i = 0; i < nwant; i++) {
		const char *text;

		cr_expect_str_eq(sqlite3_column_name(st, i), wants[i].name);
		cr_expect_eq(sqlite3_column_type(st, i), wants[i].type,
			     "type of %s", wants[i].name);
		text = (const char *)sqlite3_column_text(st, i);
		cr_expect_str_eq(text ? text : "", wants[i].text, "%s",
				 wants[i].name);
	}
	cr_expect_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

Test(store_sqlite, every_column_read_back)
{
	struct vs_cdr_store *s;
	struct vs_cdr c;
	sqlite3 *db;

	new_db_path();
	s = vs_cdr_store__sqlite(db_path, 0);
	cr_assert(s, "%s", strerror(errno));
	cr_expect_str_eq(s->ops->name, "sqlite");
	fill(&c, "abc123@host");
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	cr_assert_eq(vs_cdr_store__flush(s), 0);
	db = peek_open();
	want_all();
	check_row(db, "call_id = 'abc123@host'");
	sqlite3_close(db);
	vs_cdr_store__close(s);
	drop_db();
}

Test(store_sqlite, zero_fields_are_null)
{
	struct vs_cdr_store *s;
	struct vs_cdr c;
	sqlite3 *db;

	new_db_path();
	s = vs_cdr_store__sqlite(db_path, 0);
	cr_assert(s);
	memset(&c, 0, sizeof(c));
	strcpy(c.call_id, "zero");
	c.end = VS_END_TIMEOUT;
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	vs_cdr_store__close(s); /* close commits too */
	db = peek_open();
	cr_expect_eq(query_int(db, "SELECT COUNT(*) FROM cdr WHERE "
				   "id_sensor IS NULL AND calldate IS NULL "
				   "AND callend IS NULL AND progress_time IS "
				   "NULL AND first_rtp_time IS NULL AND "
				   "whohanged IS NULL AND bye = 'timeout' AND "
				   "sipcallerip = '::' AND a_present = 0"),
		     1);
	sqlite3_close(db);
	drop_db();
}

Test(store_sqlite, wal_and_schema_version)
{
	struct vs_cdr_store *s;
	sqlite3 *db;
	sqlite3_stmt *st;

	new_db_path();
	s = vs_cdr_store__sqlite(db_path, 0);
	cr_assert(s);
	db = peek_open();
	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st,
					NULL),
		     SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_expect_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	cr_expect_eq(query_int(db, "SELECT COUNT(*) FROM vs_schema"), 1);
	cr_expect_eq(query_int(db, "SELECT version FROM vs_schema"),
		     VS_SCHEMA_VERSION);
	cr_expect_eq(query_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE "
				   "type = 'index' AND name IN "
				   "('cdr_call_id', 'cdr_calldate')"),
		     2);
	sqlite3_close(db);
	vs_cdr_store__close(s);
	/* Reopening does not add a second version row. */
	s = vs_cdr_store__sqlite(db_path, 0);
	cr_assert(s);
	vs_cdr_store__close(s);
	db = peek_open();
	cr_expect_eq(query_int(db, "SELECT COUNT(*) FROM vs_schema"), 1);
	sqlite3_close(db);
	drop_db();
}

Test(store_sqlite, newer_schema_refused)
{
	struct vs_cdr_store *s;
	sqlite3 *db;
	char want_msg[256], got[512] = "";
	FILE *f;
	int saved, fd;
	char err_path[] = "/tmp/vs_test_err_XXXXXX";
	size_t n;

	new_db_path();
	db = peek_open();
	cr_assert_eq(sqlite3_exec(db,
				  "CREATE TABLE vs_schema (version INTEGER NOT "
				  "NULL); INSERT INTO vs_schema VALUES (3)",
				  NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(db);

	fd = mkstemp(err_path);
	cr_assert(fd >= 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	s = vs_cdr_store__sqlite(db_path, 0);
	cr_expect_null(s);
	cr_expect_eq(errno, EPROTO);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	f = fopen(err_path, "r");
	cr_assert(f);
	n = fread(got, 1, sizeof(got) - 1, f);
	got[n] = '\0';
	fclose(f);
	unlink(err_path);
	snprintf(want_msg, sizeof(want_msg),
		 "voxsense: error: sqlite %s: schema version 3 is newer than "
		 "the 2 this voxsense writes: upgrade voxsense or set another "
		 "sqlite_path\n",
		 db_path);
	cr_expect_str_eq(got, want_msg);
	db = peek_open();
	cr_expect_eq(query_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE "
				   "name = 'cdr'"),
		     0);
	sqlite3_close(db);
	drop_db();
}

/* --- cdr_rtp: the streams ---------------------------------------------- */

/* Row `where` of cdr_rtp as "name=value" text, one per column, joined by
 * spaces (NULL as "NULL"). */
static void rtp_row(sqlite3 *db, const char *where, char *out, size_t len)
{
	char sql[160];
	sqlite3_stmt *st;
	size_t n = 0;
	int i;

	snprintf(sql, sizeof(sql), "SELECT * FROM cdr_rtp WHERE %s", where);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK,
		     "%s", sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sql);
	out[0] = '\0';
	for (i = 0; i < sqlite3_column_count(st); i++) {
		const char *t = (const char *)sqlite3_column_text(st, i);

		n += (size_t)snprintf(out + n, len - n, "%s%s=%s", i ? " " : "",
				      sqlite3_column_name(st, i),
				      t ? t : "NULL");
		cr_assert_lt(n, len);
	}
	cr_expect_eq(sqlite3_step(st), SQLITE_DONE, "%s: one row", sql);
	sqlite3_finalize(st);
}

Test(store_sqlite, streams_read_back)
{
	struct vs_cdr_store *s;
	struct vs_cdr c;
	char row[2048];
	sqlite3 *db;

	new_db_path();
	s = vs_cdr_store__sqlite(db_path, 0);
	cr_assert(s);
	fill(&c, "first");
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	fill(&c, "nostreams");
	c.n_streams = 0;
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	fill(&c, "third");
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	vs_cdr_store__close(s);
	db = peek_open();
	cr_expect_eq(query_int(db, "SELECT COUNT(*) FROM cdr_rtp"), 6);
	cr_expect_eq(query_int(db, "SELECT COUNT(*) FROM cdr_rtp r JOIN cdr c "
				   "ON c.rowid = r.cdr_ID WHERE c.call_id = "
				   "'third'"),
		     3);
	cr_expect_eq(query_int(db, "SELECT COUNT(*) FROM cdr_rtp r JOIN cdr c "
				   "ON c.rowid = r.cdr_ID WHERE c.call_id = "
				   "'nostreams'"),
		     0);
	/* Stream 2 of the first CDR: fill_leg(1) with ssrc 77. */
	rtp_row(db, "cdr_ID = 1 AND stream_index = 2", row, sizeof(row));
	cr_expect_str_eq(row,
		"cdr_ID=1 stream_index=2 dir=1 ssrc=77 payload=8 codec=PCMA "
		"clock_rate=8001 saddr=10.0.0.2 sport=4001 daddr=10.0.0.1 "
		"dport=5001 first_us=1700000005873457 "
		"last_us=1700000065123457 ptime=30 received=2951 lost=13 "
		"duplicates=3 reordered=4 loss_perc=1.5 avgjitter=2.25 "
		"maxjitter=8.5 mos=3.25 rfactor=89.5 dtmf_events=4 "
		"rtcp_packets=12 rtcp_reports=11 rtcp_loss=-2 rtcp_maxfr=3.5 "
		"rtcp_avgjitter=4.25 rtcp_maxjitter=7.5 rtcp_avgrtd=41.5 "
		"rtcp_maxrtd=81.25");
	rtp_row(db, "cdr_ID = 3 AND stream_index = 0", row, sizeof(row));
	cr_expect(strstr(row, "cdr_ID=3 stream_index=0 dir=0 ssrc=3735928559 "
			      "payload=0 codec=PCMU "),
		  "%s", row);
	sqlite3_close(db);
	drop_db();
}

/* A stream row that fails takes its CDR with it; the store goes on. */
Test(store_sqlite, cdr_and_streams_all_or_nothing)
{
	struct vs_cdr_store *s;
	struct vs_cdr c;
	sqlite3 *db;

	new_db_path();
	s = vs_cdr_store__sqlite(db_path, 0);
	cr_assert(s);
	db = peek_open();
	cr_assert_eq(sqlite3_exec(db,
				  "CREATE TRIGGER no66 BEFORE INSERT ON cdr_rtp "
				  "WHEN NEW.ssrc = 66 BEGIN SELECT RAISE(ABORT, "
				  "'no 66'); END",
				  NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(db);
	fill(&c, "before");
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	fill(&c, "bad");
	((struct vs_cdr_leg *)c.streams)[2].ssrc = 66; /* the third fails */
	cr_expect_eq(vs_cdr_store__insert(s, &c), -EIO);
	fill(&c, "after");
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	vs_cdr_store__close(s);
	db = peek_open();
	cr_expect_eq(query_int(db, "SELECT COUNT(*) FROM cdr"), 2);
	cr_expect_eq(query_int(db, "SELECT COUNT(*) FROM cdr WHERE call_id = "
				   "'bad'"),
		     0);
	cr_expect_eq(query_int(db, "SELECT COUNT(*) FROM cdr_rtp"), 6);
	cr_expect_eq(query_int(db, "SELECT COUNT(*) FROM cdr_rtp WHERE cdr_ID "
				   "NOT IN (SELECT rowid FROM cdr)"),
		     0);
	sqlite3_close(db);
	drop_db();
}

/* A file of schema version 1 (no cdr_rtp) gets the table and version 2;
 * its CDRs stay. */
Test(store_sqlite, migrates_version_1)
{
	struct vs_cdr_store *s;
	struct vs_cdr c;
	char *create = vs_schema__create_cdr();
	sqlite3 *db;

	new_db_path();
	db = peek_open();
	cr_assert(create);
	cr_assert_eq(sqlite3_exec(db, create, NULL, NULL, NULL), SQLITE_OK);
	free(create);
	cr_assert_eq(sqlite3_exec(db,
				  "CREATE TABLE vs_schema (version INTEGER NOT "
				  "NULL); INSERT INTO vs_schema VALUES (1); "
				  "INSERT INTO cdr (call_id) VALUES ('old')",
				  NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(db);
	s = vs_cdr_store__sqlite(db_path, 0);
	cr_assert(s, "%s", strerror(errno));
	fill(&c, "new");
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	vs_cdr_store__close(s);
	db = peek_open();
	cr_expect_eq(query_int(db, "SELECT MAX(version) FROM vs_schema"), 2);
	cr_expect_eq(query_int(db, "SELECT COUNT(*) FROM vs_schema"), 2);
	cr_expect_eq(query_int(db, "SELECT COUNT(*) FROM cdr"), 2);
	cr_expect_eq(query_int(db, "SELECT COUNT(*) FROM cdr_rtp WHERE cdr_ID "
				   "= 2"),
		     3);
	sqlite3_close(db);
	drop_db();
}

Test(store_sqlite, check_exists_callid)
{
	struct vs_cdr_store *s;
	struct vs_cdr c;

	new_db_path();
	s = vs_cdr_store__sqlite(db_path, 1);
	cr_assert(s);
	fill(&c, "dup@host");
	cr_expect_eq(vs_cdr_store__insert(s, &c), 0);
	cr_expect_eq(vs_cdr_store__insert(s, &c), 1); /* pending row seen */
	cr_expect_eq(vs_cdr_store__flush(s), 0);
	cr_expect_eq(vs_cdr_store__insert(s, &c), 1); /* committed row seen */
	fill(&c, "other@host");
	cr_expect_eq(vs_cdr_store__insert(s, &c), 0);
	vs_cdr_store__close(s);
	cr_expect_eq(count_rows(), 2);

	/* Without the option both copies are written. */
	s = vs_cdr_store__sqlite(db_path, 0);
	cr_assert(s);
	cr_expect_eq(vs_cdr_store__insert(s, &c), 0);
	vs_cdr_store__close(s);
	cr_expect_eq(count_rows(), 3);
	drop_db();
}

Test(store_sqlite, reopen_keeps_data)
{
	struct vs_cdr_store *s;
	struct vs_cdr c;
	sqlite3 *db;

	new_db_path();
	s = vs_cdr_store__sqlite(db_path, 0);
	cr_assert(s);
	fill(&c, "abc123@host");
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	vs_cdr_store__close(s);
	s = vs_cdr_store__sqlite(db_path, 0);
	cr_assert(s);
	fill(&c, "second@host");
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	vs_cdr_store__close(s);
	cr_expect_eq(count_rows(), 2);
	db = peek_open();
	want_all();
	check_row(db, "call_id = 'abc123@host'");
	sqlite3_close(db);
	drop_db();
}

Test(store_sqlite, batch_commits_every_1000_rows)
{
	struct vs_cdr_store *s;
	struct vs_cdr c;
	int i;

	new_db_path();
	s = vs_cdr_store__sqlite(db_path, 0);
	cr_assert(s);
	fill(&c, "x");
	for (i = 0; i < 999; i++)
		cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	cr_expect_eq(count_rows(), 0); /* nothing committed yet */
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	cr_expect_eq(count_rows(), 1000);
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	cr_expect_eq(count_rows(), 1000);
	cr_assert_eq(vs_cdr_store__flush(s), 0);
	cr_expect_eq(count_rows(), 1001);
	cr_expect_eq(vs_cdr_store__flush(s), 0); /* nothing pending: no-op */
	vs_cdr_store__close(s);
	drop_db();
}

Test(store_sqlite, not_a_database)
{
	FILE *f;

	new_db_path();
	f = fopen(db_path, "w");
	cr_assert(f);
	fputs("this is not an SQLite file, not at all, no no no no no no no\n",
	      f);
	fclose(f);
	cr_expect_null(vs_cdr_store__sqlite(db_path, 0));
	cr_expect_eq(errno, EBADMSG);
	drop_db();
}

Test(store_sqlite, unwritable_directory)
{
	cr_expect_null(vs_cdr_store__sqlite("/nonexistent/dir/x.db", 0));
	cr_expect_eq(errno, ENOENT);
}

/* --- JSON ---------------------------------------------------------------- */

static double jnum(const cJSON *o, const char *k)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);

	cr_assert(cJSON_IsNumber(x), "%s not a number", k);
	return x->valuedouble;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);

	cr_assert(cJSON_IsString(x), "%s not a string", k);
	return x->valuestring;
}

static void check_json_leg(const cJSON *o, const struct vs_cdr_leg *l)
{
	const cJSON *arr;
	int i;

	cr_expect_eq(jnum(o, "present"), l->present);
	cr_expect_eq(jnum(o, "ssrc"), l->ssrc);
	cr_expect_eq(jnum(o, "payload_type"), l->payload_type);
	cr_expect_str_eq(jstr(o, "codec"), l->codec);
	cr_expect_eq(jnum(o, "clock_rate"), l->clock_rate);
	cr_expect_str_eq(jstr(o, "src_ip"), l->src.port == 4000 ? "10.0.0.1" : "10.0.0.2");
	cr_expect_eq(jnum(o, "src_port"), l->src.port);
	cr_expect_str_eq(jstr(o, "dst_ip"), l->src.port == 4000 ? "10.0.0.2" : "10.0.0.1");
	cr_expect_eq(jnum(o, "dst_port"), l->dst.port);
	cr_expect_eq((uint64_t)jnum(o, "first_us"), l->first_us);
	cr_expect_eq((uint64_t)jnum(o, "last_us"), l->last_us);
	cr_expect_eq(jnum(o, "ptime_ms"), l->ptime_ms);
	cr_expect_eq(jnum(o, "packets"), (double)l->packets);
	cr_expect_eq(jnum(o, "lost"), (double)l->lost);
	cr_expect_eq(jnum(o, "duplicates"), (double)l->duplicates);
	cr_expect_eq(jnum(o, "reordered"), (double)l->reordered);
	cr_expect_eq(jnum(o, "loss_pct"), l->loss_pct);
	cr_expect_eq(jnum(o, "jitter_mean_ms"), l->jitter_mean_ms);
	cr_expect_eq(jnum(o, "jitter_max_ms"), l->jitter_max_ms);
	cr_expect_eq(jnum(o, "mos"), l->mos);
	cr_expect_eq(jnum(o, "r_factor"), l->r_factor);
	arr = cJSON_GetObjectItemCaseSensitive(o, "loss_burst");
	cr_assert_eq(cJSON_GetArraySize(arr), VS_CDR_LOSS_BURSTS);
	for (i = 0; i < VS_CDR_LOSS_BURSTS; i++)
		cr_expect_eq(cJSON_GetArrayItem(arr, i)->valuedouble,
			     l->loss_burst[i]);
	arr = cJSON_GetObjectItemCaseSensitive(o, "delay");
	cr_assert_eq(cJSON_GetArraySize(arr), VS_CDR_DELAY_BUCKETS);
	for (i = 0; i < VS_CDR_DELAY_BUCKETS; i++)
		cr_expect_eq(cJSON_GetArrayItem(arr, i)->valuedouble,
			     l->delay[i]);
	cr_expect_eq(jnum(o, "dtmf_events"), l->dtmf_events);
	cr_expect_str_eq(jstr(o, "dtmf"), l->dtmf);
	cr_expect_eq(jnum(o, "rtcp_packets"), l->rtcp_packets);
	cr_expect_eq(jnum(o, "rtcp_reports"), l->rtcp_reports);
	cr_expect_eq(jnum(o, "rtcp_lost"), (double)l->rtcp_lost);
	cr_expect_eq(jnum(o, "rtcp_fraction_lost_max"),
		     l->rtcp_fraction_lost_max);
	cr_expect_eq(jnum(o, "rtcp_jitter_mean_ms"), l->rtcp_jitter_mean_ms);
	cr_expect_eq(jnum(o, "rtcp_jitter_max_ms"), l->rtcp_jitter_max_ms);
	cr_expect_eq(jnum(o, "rtcp_rtt_mean_ms"), l->rtcp_rtt_mean_ms);
	cr_expect_eq(jnum(o, "rtcp_rtt_max_ms"), l->rtcp_rtt_max_ms);
	cr_expect_str_eq(jstr(o, "dir"), l->dir ? "b" : "a");
	cr_expect_eq(cJSON_GetArraySize(o), 34); /* no field more or less */
}

static void check_json(const cJSON *o, const struct vs_cdr *c)
{
	cr_assert(cJSON_IsObject(o));
	cr_expect_eq(jnum(o, "id_sensor"), 7);
	cr_expect_str_eq(jstr(o, "call_id"), c->call_id);
	cr_expect_str_eq(jstr(o, "caller"), "1001");
	cr_expect_str_eq(jstr(o, "caller_domain"), "a.example");
	cr_expect_str_eq(jstr(o, "caller_name"), "Alice");
	cr_expect_str_eq(jstr(o, "called"), "1002");
	cr_expect_str_eq(jstr(o, "called_domain"), "b.example");
	cr_expect_str_eq(jstr(o, "called_name"), "Bob");
	cr_expect_str_eq(jstr(o, "sip_caller_ip"), "10.0.0.1");
	cr_expect_eq(jnum(o, "sip_caller_port"), 5060);
	cr_expect_str_eq(jstr(o, "sip_called_ip"), "2001:db8::2");
	cr_expect_eq(jnum(o, "sip_called_port"), 5062);
	cr_expect_eq((uint64_t)jnum(o, "calldate_us"), T0);
	cr_expect_str_eq(jstr(o, "calldate"), "2023-11-14T22:13:20.123456Z");
	cr_expect_eq((uint64_t)jnum(o, "callend_us"), T0 + 65500000);
	cr_expect_str_eq(jstr(o, "callend"), "2023-11-14T22:14:25.623456Z");
	cr_expect_eq((uint64_t)jnum(o, "progress_us"), c->progress_us);
	cr_expect_eq((uint64_t)jnum(o, "connect_us"), c->connect_us);
	cr_expect_eq((uint64_t)jnum(o, "first_rtp_us"), c->first_rtp_us);
	cr_expect_eq(jnum(o, "duration_s"), 65.5);
	cr_expect_eq(jnum(o, "connect_duration_s"), 60.0);
	cr_expect_eq(jnum(o, "last_sip_code"), 200);
	cr_expect_str_eq(jstr(o, "last_sip_text"), "OK");
	cr_expect_str_eq(jstr(o, "whohanged"), "callee");
	cr_expect_str_eq(jstr(o, "end"), "bye");
	cr_expect_str_eq(jstr(o, "bye_reason"), "Q.850;cause=16");
	cr_expect_str_eq(jstr(o, "caller_ua"), "UA-A");
	cr_expect_str_eq(jstr(o, "called_ua"), "UA-B");
	cr_expect_eq(jnum(o, "sip_messages"), 9);
	cr_expect_eq(jnum(o, "reinvites"), 1);
	cr_expect_str_eq(jstr(o, "pcap_path"), "2023-11-14/22/13/abc.pcap");
	check_json_leg(cJSON_GetObjectItemCaseSensitive(o, "a"), &c->a);
	check_json_leg(cJSON_GetObjectItemCaseSensitive(o, "b"), &c->b);
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "streams");

	cr_assert(cJSON_IsArray(st));
	cr_expect_eq((uint32_t)cJSON_GetArraySize(st),
		     c->streams ? c->n_streams : 0);
	for (uint32_t i = 0; c->streams && i < c->n_streams; i++)
		check_json_leg(cJSON_GetArrayItem(st, (int)i), &c->streams[i]);
	cr_expect_eq(cJSON_GetArraySize(o), 34);
}

Test(cdr_json, every_field_round_trips)
{
	struct vs_cdr c;
	cJSON *o, *back;
	char *text;

	fill(&c, "abc123@host");
	o = vs_cdr__to_json(&c);
	cr_assert(o);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	cr_assert(text);
	cr_expect_null(strchr(text, '\n'));
	back = cJSON_Parse(text);
	cr_assert(back, "%s", text);
	check_json(back, &c);
	cJSON_Delete(back);
	cJSON_free(text);
}

Test(cdr_json, unterminated_strings_are_bounded)
{
	struct vs_cdr c;
	cJSON *o;

	fill(&c, "x");
	memset(c.caller, 'z', sizeof(c.caller)); /* no NUL */
	memset(c.a.codec, 'c', sizeof(c.a.codec));
	o = vs_cdr__to_json(&c);
	cr_assert(o);
	cr_expect_eq(strlen(jstr(o, "caller")), sizeof(c.caller));
	cr_expect_eq(strlen(jstr(cJSON_GetObjectItem(o, "a"), "codec")),
		     sizeof(c.a.codec));
	cJSON_Delete(o);
}

Test(store_json, lines_parse_back)
{
	char path[] = "/tmp/vs_test_json_XXXXXX";
	struct vs_cdr_store *s;
	struct vs_cdr c;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;
	int fd, n = 0;

	fd = mkstemp(path);
	cr_assert(fd >= 0);
	close(fd);
	s = vs_cdr_store__json(path);
	cr_assert(s);
	cr_expect_str_eq(s->ops->name, "json");
	fill(&c, "one@host");
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	fill(&c, "two@host");
	cr_assert_eq(vs_cdr_store__insert(s, &c), 0);
	cr_assert_eq(vs_cdr_store__flush(s), 0);
	f = fopen(path, "r");
	cr_assert(f);
	while (getline(&line, &cap, f) > 0) {
		cJSON *o = cJSON_Parse(line);

		cr_assert(o);
		fill(&c, n ? "two@host" : "one@host");
		check_json(o, &c);
		cJSON_Delete(o);
		n++;
	}
	cr_expect_eq(n, 2);
	free(line);
	fclose(f);
	vs_cdr_store__close(s);
	unlink(path);
}

Test(store_json, unwritable_path)
{
	cr_expect_null(vs_cdr_store__json("/nonexistent/dir/cdr.json"));
	cr_expect_eq(errno, ENOENT);
}

/* --- names, times, schema text ------------------------------------------ */

Test(cdr, names)
{
	cr_expect_str_eq(vs_cdr_end__name(VS_END_BYE), "bye");
	cr_expect_str_eq(vs_cdr_end__name(VS_END_CANCEL), "cancel");
	cr_expect_str_eq(vs_cdr_end__name(VS_END_ERROR), "error");
	cr_expect_str_eq(vs_cdr_end__name(VS_END_TIMEOUT), "timeout");
	cr_expect_str_eq(vs_cdr_end__name(VS_END_EOF), "eof");
	cr_expect_str_eq(vs_cdr_end__name((enum vs_cdr_end)42), "unknown");
	cr_expect_str_eq(vs_cdr_hangup__name(VS_HANGUP_UNKNOWN), "unknown");
	cr_expect_str_eq(vs_cdr_hangup__name(VS_HANGUP_CALLER), "caller");
	cr_expect_str_eq(vs_cdr_hangup__name(VS_HANGUP_CALLEE), "callee");
}

Test(cdr, time_format)
{
	char buf[40];

	cr_expect_eq(vs_cdr_time__format(0, 1, buf, sizeof(buf)), 27);
	cr_expect_str_eq(buf, "1970-01-01T00:00:00.000000Z");
	cr_expect_eq(vs_cdr_time__format(253402300799999999ull, 0, buf,
					 sizeof(buf)),
		     26);
	cr_expect_str_eq(buf, "9999-12-31 23:59:59.999999");
	cr_expect_eq(vs_cdr_time__format(253402300800000000ull, 0, buf,
					 sizeof(buf)),
		     -EINVAL);
	cr_expect_eq(vs_cdr_time__format(UINT64_MAX, 1, buf, sizeof(buf)),
		     -EINVAL);
}

Test(schema, create_and_insert_text)
{
	char *create = vs_schema__create_cdr(), *ins = vs_schema__insert_cdr();
	size_t q = 0;
	const char *p;

	cr_assert(create && ins);
	cr_expect_eq(strncmp(create,
			     "CREATE TABLE IF NOT EXISTS cdr (\n"
			     "  id_sensor SMALLINT UNSIGNED,\n"
			     "  call_id VARCHAR(255),\n"
			     "  calldate DATETIME(6),\n",
			     84),
		     0, "%s", create);
	cr_expect(strstr(create, "\n  b_rtcp_maxrtd DOUBLE\n)"));
	cr_expect_eq(strncmp(ins, "INSERT INTO cdr (  id_sensor,\n  call_id,",
			     39),
		     0, "%s", ins);
	for (p = ins; *p; p++)
		q += *p == '?';
	cr_expect_eq(q, vs_cdr_n_columns);
	cr_expect_eq(vs_cdr_n_columns, 33 + 2 * 48);
	free(create);
	free(ins);
}

Test(schema, cdr_rtp_text)
{
	char *create = vs_schema__create_rtp(), *ins = vs_schema__insert_rtp();
	char *my = vs_schema__create_rtp_mysql();
	size_t q = 0;
	const char *p;

	cr_assert(create && ins && my);
	cr_expect_eq(strncmp(create,
			     "CREATE TABLE IF NOT EXISTS cdr_rtp (\n"
			     "  cdr_ID INTEGER NOT NULL,\n"
			     "  stream_index INTEGER NOT NULL,\n"
			     "  dir TINYINT,\n  ssrc BIGINT,\n",
			     115),
		     0, "%s", create);
	cr_expect(strstr(create, "  rtcp_maxrtd DOUBLE,\n  PRIMARY KEY "
				 "(cdr_ID, stream_index)\n)"),
		  "%s", create);
	cr_expect_eq(strncmp(ins, "INSERT INTO cdr_rtp (cdr_ID, stream_index,"
				  "  dir,\n  ssrc,", 55),
		     0, "%s", ins);
	for (p = ins; *p; p++)
		q += *p == '?';
	cr_expect_eq(q, 2 + vs_rtp_n_columns);
	cr_expect_eq(vs_rtp_n_columns, 30);
	cr_expect(strstr(my, "  cdr_ID BIGINT UNSIGNED NOT NULL,\n"
			     "  stream_index INT UNSIGNED NOT NULL,\n"
			     "  dir TINYINT UNSIGNED,\n  ssrc BIGINT UNSIGNED,\n"),
		  "%s", my);
	cr_expect(strstr(my, "  PRIMARY KEY (cdr_ID, stream_index)\n) "
			     "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 "
			     "COLLATE=utf8mb4_bin"),
		  "%s", my);
	free(create);
	free(ins);
	free(my);
}
