// SPDX-License-Identifier: GPL-2.0-or-later
/* SQLite store: one file, WAL journal, the cdr and cdr_rtp tables of
 * cdr/schema.c.
 * Inserts go into an open transaction committed by flush or every
 * SQLITE_BATCH rows, because a commit per row costs an fsync per call. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdr/schema.h"
#include "cdr/store.h"
#include "core/log.h"

#define SQLITE_BATCH 1000
#define SQLITE_BUSY_MS 5000

struct sqlite_store {
	struct vs_cdr_store base;	/* first: the ops get a pointer to it */
	sqlite3 *db;
	sqlite3_stmt *insert;
	sqlite3_stmt *insert_rtp;
	sqlite3_stmt *exists;		/* by call_id */
	unsigned pending;		/* rows in the open transaction */
	char *path;
};

static int sqlite_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return -EBADMSG;
	default:
		return -EIO;
	}
}

/* Logs what failed with SQLite's own words; returns -errno. */
static int fail(struct sqlite_store *s, const char *what, int rc)
{
	int sys = sqlite3_system_errno(s->db);

	vs_err("sqlite %s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
	/* For I/O failures the OS error says more (EACCES vs ENOENT). */
	if (sys > 0 && ((rc & 0xff) == SQLITE_CANTOPEN ||
			(rc & 0xff) == SQLITE_IOERR))
		return -sys;
	return sqlite_err(rc);
}

static int exec(struct sqlite_store *s, const char *sql)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : fail(s, sql, rc);
}

static int commit(struct sqlite_store *s)
{
	int err;

	if (!s->pending)
		return 0;
	err = exec(s, "COMMIT");
	if (!err)
		s->pending = 0;
	return err;
}

static int bind_value(sqlite3_stmt *st, int col, const struct vs_sql_value *v)
{
	if (v->type == VS_SQL_INT)
		return sqlite3_bind_int64(st, col, v->i);
	if (v->type == VS_SQL_DOUBLE)
		return sqlite3_bind_double(st, col, v->d);
	if (v->type == VS_SQL_TEXT)
		return sqlite3_bind_text(st, col, v->s, (int)v->len,
					 SQLITE_TRANSIENT);
	return sqlite3_bind_null(st, col);
}

static int bind_cdr(struct sqlite_store *s, const struct vs_cdr *c)
{
	struct vs_sql_value v;
	size_t i;
	int rc = SQLITE_OK;

	for (i = 0; i < vs_cdr_n_columns && rc == SQLITE_OK; i++) {
		vs_cdr_column__value(&vs_cdr_columns[i], c, &v);
		rc = bind_value(s->insert, (int)i + 1, &v);
	}
	return rc == SQLITE_OK ? 0 : fail(s, "bind", rc);
}

/* The cdr_rtp rows of the CDR just inserted as rowid id. */
static int insert_streams(struct sqlite_store *s, const struct vs_cdr *c,
			  sqlite3_int64 id)
{
	struct vs_sql_value v;
	uint32_t k;
	size_t i;
	int rc = SQLITE_OK;

	for (k = 0; c->streams && k < c->n_streams && rc == SQLITE_OK; k++) {
		rc = sqlite3_bind_int64(s->insert_rtp, 1, id);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(s->insert_rtp, 2, k);
		for (i = 0; i < vs_rtp_n_columns && rc == SQLITE_OK; i++) {
			vs_rtp_column__value(&vs_rtp_columns[i],
					     &c->streams[k], &v);
			rc = bind_value(s->insert_rtp, (int)i + 3, &v);
		}
		if (rc == SQLITE_OK)
			rc = sqlite3_step(s->insert_rtp);
		sqlite3_reset(s->insert_rtp);
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	return rc == SQLITE_OK ? 0 : fail(s, "insert cdr_rtp", rc);
}

/* A CDR is stored with all its streams or not at all: after a failed
 * stream row, its CDR and the streams already written go again. */
static void undo_cdr(struct sqlite_store *s, sqlite3_int64 id)
{
	char sql[96];

	if (sqlite3_get_autocommit(s->db))
		return; /* the transaction was rolled back: nothing to undo */
	snprintf(sql, sizeof(sql), "DELETE FROM cdr_rtp WHERE cdr_ID = %lld",
		 (long long)id);
	sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	snprintf(sql, sizeof(sql), "DELETE FROM cdr WHERE rowid = %lld",
		 (long long)id);
	sqlite3_exec(s->db, sql, NULL, NULL, NULL);
}

/* 1 when a CDR with this Call-ID is stored (committed or pending). */
static int callid_exists(struct sqlite_store *s, const struct vs_cdr *c)
{
	int rc;

	sqlite3_reset(s->exists);
	rc = sqlite3_bind_text(s->exists, 1, c->call_id,
			       (int)strnlen(c->call_id, sizeof(c->call_id)),
			       SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s->exists);
	sqlite3_reset(s->exists);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : fail(s, "lookup call_id", rc);
}

static int sqlite_insert(struct vs_cdr_store *base, const struct vs_cdr *c)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_int64 id;
	int err, rc;

	if (!s->pending) {
		err = exec(s, "BEGIN");
		if (err)
			return err;
	}
	s->pending++; /* the transaction is open: commit will close it */
	if (base->check_exists_callid) {
		err = callid_exists(s, c);
		if (err)
			return err;
	}
	err = bind_cdr(s, c);
	if (err)
		return err;
	rc = sqlite3_step(s->insert);
	sqlite3_reset(s->insert);
	if (rc != SQLITE_DONE) {
		err = fail(s, "insert", rc);
		/* Some errors (disk full) roll the transaction back. */
		if (sqlite3_get_autocommit(s->db))
			s->pending = 0;
		return err;
	}
	id = sqlite3_last_insert_rowid(s->db);
	err = insert_streams(s, c, id);
	if (err) {
		undo_cdr(s, id);
		if (sqlite3_get_autocommit(s->db))
			s->pending = 0;
		return err;
	}
	return s->pending >= SQLITE_BATCH ? commit(s) : 0;
}

static int sqlite_flush(struct vs_cdr_store *base)
{
	return commit((struct sqlite_store *)base);
}

static void sqlite_close(struct vs_cdr_store *base)
{
	struct sqlite_store *s = (struct sqlite_store *)base;

	if (s->db)
		commit(s);
	sqlite3_finalize(s->insert);
	sqlite3_finalize(s->insert_rtp);
	sqlite3_finalize(s->exists);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

static const struct vs_cdr_store_ops sqlite_ops = {
	.name = "sqlite",
	.insert = sqlite_insert,
	.flush = sqlite_flush,
	.close = sqlite_close,
};

/* Highest version in vs_schema, 0 for a new file; or -errno. */
static int stored_version(struct sqlite_store *s)
{
	sqlite3_stmt *st;
	int rc, v = 0;

	rc = sqlite3_prepare_v2(s->db, "SELECT MAX(version) FROM vs_schema", -1,
				&st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, "read schema version", rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return fail(s, "read schema version", rc);
	return v;
}

/* Also the migration: version 1 lacks only cdr_rtp, which IF NOT EXISTS
 * adds. */
static int create_tables(struct sqlite_store *s)
{
	const char *const *idx;
	char *sql = vs_schema__create_cdr();
	int err;

	if (!sql)
		return -ENOMEM;
	err = exec(s, sql);
	free(sql);
	sql = err ? NULL : vs_schema__create_rtp();
	if (!err && !sql)
		err = -ENOMEM;
	if (!err)
		err = exec(s, sql);
	free(sql);
	for (idx = vs_schema_indexes; !err && *idx; idx++)
		err = exec(s, *idx);
	return err;
}

/* In one transaction, so that two sensors starting on one file do not both
 * create it. A newer schema is refused: we would write wrong columns. */
static int setup_schema(struct sqlite_store *s)
{
	char sql[64];
	int err, v;

	err = exec(s, "BEGIN IMMEDIATE");
	if (err)
		return err;
	err = exec(s, VS_SCHEMA_VERSION_TABLE);
	v = err ? err : stored_version(s);
	if (v < 0) {
		err = v;
	} else if (v > VS_SCHEMA_VERSION) {
		vs_err("sqlite %s: schema version %d is newer than the %d this "
		       "voxsense writes: upgrade voxsense or set another "
		       "sqlite_path", s->path, v, VS_SCHEMA_VERSION);
		err = -EPROTO;
	} else {
		err = create_tables(s);
		snprintf(sql, sizeof(sql),
			 "INSERT INTO vs_schema (version) VALUES (%d)",
			 VS_SCHEMA_VERSION);
		if (!err && v < VS_SCHEMA_VERSION)
			err = exec(s, sql);
	}
	if (err) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return err;
	}
	return exec(s, "COMMIT");
}

static int prepare(struct sqlite_store *s)
{
	char *sql = vs_schema__insert_cdr();
	int rc;

	if (!sql)
		return -ENOMEM;
	rc = sqlite3_prepare_v2(s->db, sql, -1, &s->insert, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return fail(s, "prepare insert", rc);
	sql = vs_schema__insert_rtp();
	if (!sql)
		return -ENOMEM;
	rc = sqlite3_prepare_v2(s->db, sql, -1, &s->insert_rtp, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return fail(s, "prepare insert cdr_rtp", rc);
	rc = sqlite3_prepare_v2(s->db,
				"SELECT 1 FROM cdr WHERE call_id = ? LIMIT 1",
				-1, &s->exists, NULL);
	return rc == SQLITE_OK ? 0 : fail(s, "prepare lookup", rc);
}

/* WAL: readers (the GUI, sqlite3 shells) do not block the sensor. */
static int setup(struct sqlite_store *s)
{
	int err;

	sqlite3_busy_timeout(s->db, SQLITE_BUSY_MS);
	err = exec(s, "PRAGMA journal_mode=WAL");
	if (!err)
		err = exec(s, "PRAGMA synchronous=NORMAL");
	if (!err)
		err = setup_schema(s);
	return err ? err : prepare(s);
}

struct vs_cdr_store *vs_cdr_store__sqlite(const char *path,
					  int check_exists_callid)
{
	struct sqlite_store *s = calloc(1, sizeof(*s));
	int err = -ENOMEM, rc;

	if (!s)
		goto fail;
	s->base.ops = &sqlite_ops;
	s->base.check_exists_callid = check_exists_callid;
	s->path = strdup(path);
	if (!s->path)
		goto fail;
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		err = s->db ? fail(s, "open", rc) : -ENOMEM;
		goto fail;
	}
	err = setup(s);
	if (err)
		goto fail;
	return &s->base;
fail:
	if (s)
		sqlite_close(&s->base);
	errno = -err;
	return NULL;
}
