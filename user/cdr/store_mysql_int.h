/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to the MariaDB store (store_mysql.c: the batch, the connection and
 * the transaction; store_mysql_ins.c: which INSERT a chunk of rows goes
 * with). */
#ifndef VS_STORE_MYSQL_INT_H
#define VS_STORE_MYSQL_INT_H

#include <mariadb/mysql.h>
#include <stdint.h>

#include "cdr/schema.h"
#include "cdr/store_mysql.h"
#include "core/addr.h"

#define CALLID_LEN sizeof(((struct vs_cdr *)0)->call_id)
#define ADDR_CACHE 64		/* addresses kept formatted (a power of 2) */
#define INS_MAX_PARAMS 256	/* params of one table at most (mask bits) */
#define INS_MASK_WORDS (INS_MAX_PARAMS / 64)
#define INS_CACHE 8		/* INSERTs prepared per table and link */

/* One parameter of a prepared INSERT for every row of the batch
 * (column-wise array binding): its values, indicators and, for strings,
 * lengths, offsets into the text arena and the pointers made from them
 * just before sending (the arena may move while the batch fills). */
struct param {
	enum enum_field_types type;	/* LONGLONG, DOUBLE, DATETIME, STRING */
	char *block;			/* every array below, one allocation */
	int64_t *i;
	double *d;
	MYSQL_TIME *tm;
	char **ptr;			/* STRING, DATETIME: what is bound */
	unsigned long *len;
	uint32_t *off;
	char *ind;			/* STMT_INDICATOR_NONE or _NULL */
};

/* An array execution sent but not answered yet (libmariadb's non-blocking
 * API): rows from..from+n-1 of t; t is NULL when none is in flight. */
struct flight {
	struct table *t;
	unsigned from, n;
	int status;			/* MYSQL_WAIT_* it waits for, 0: done */
	int ret;			/* mysql_stmt_execute's result once done */
	uint64_t deadline_us;
};

/* What a parameter holds in a row where the CDR has nothing for it (the
 * row of an all-zero CDR): the column's DEFAULT in the database. A chunk
 * whose rows all hold it leaves the column out of its INSERT (see
 * store_mysql_ins.c). */
struct param_def {
	char ind;			/* STMT_INDICATOR_NONE or _NULL */
	char bound;			/* always in the INSERT */
	int64_t i;			/* LONGLONG, DOUBLE (its bits) */
	MYSQL_TIME tm;			/* DATETIME */
	unsigned long len;		/* STRING: txt[0..len) */
	char *txt;
};

/* One INSERT prepared on the link, for the params in mask. */
struct ins_slot {
	uint64_t mask[INS_MASK_WORDS];
	MYSQL_STMT *st;			/* NULL: free slot */
	unsigned nparams;
	uint64_t used;			/* the table's tick at last use */
};

/* One table's rows in the batch and its prepared INSERTs. */
struct table {
	const char *name;
	const char *const *key_names;	/* the nkey key params' columns */
	const struct vs_cdr_column *cols;
	unsigned ncols, nkey;		/* nkey key params before the columns */
	unsigned np;			/* nkey + ncols */
	struct param *p;
	struct param_def *def;		/* np; NULL: every column, always */
	MYSQL_BIND *bind;
	MYSQL_STMT *st;			/* the INSERT last bound */
	struct ins_slot cache[INS_CACHE];
	uint64_t tick;
	unsigned rows, cap;
	size_t max_text;		/* text bytes of one row at most */
};

struct mysql_store {
	struct vs_cdr_store base;	/* first: the ops get a pointer to it */
	struct vs_mysql_opts o;		/* strings are our own copies */
	char where[320];		/* "host:port" or "socket PATH", for logs */
	MYSQL *db;			/* NULL while the database is down */
	/* The batch: table cdr (rows = CDRs), table cdr_rtp, the strings of
	 * both, and for each cdr_rtp row the batch row of its CDR. */
	struct table cdr, rtp;
	char *text;
	size_t text_len, text_cap, bytes, batch_bytes, max_row;
	uint32_t *owner;
	uint64_t *row_id;		/* cdr.ID of each batch row, at send */
	int resync_ids;			/* move the ID sequence past MAX(ID) */
	uint64_t *id_hash;		/* per row, when check_exists_callid */
	char (*ids)[CALLID_LEN];
	int in_doubt;			/* a send failed: it may have committed */
	/* The batch's transaction, opened while it fills (pipe_run): txn
	 * when begun with its marker; rows of cdr before `sent` and of
	 * cdr_rtp before `rtp_sent` are inserted in it; one execution may
	 * be in flight. */
	int txn;
	unsigned sent, rtp_sent, chunk;
	struct flight fly;
	uint64_t writer, batch_no;	/* the marker: vs_writer row */
	/* Back-off while down, or after the server refused a batch. */
	uint64_t next_try_us, down_since_us, last_log_us;
	unsigned backoff_ms, attempts;
	/* Conversion caches: the date of one day (DATETIME columns) and
	 * addresses already formatted, which repeat across CDRs. */
	uint64_t day;
	MYSQL_TIME day_tm;
	struct addr_text {
		struct vs_addr a;
		uint8_t len;		/* 0: empty slot */
		char s[VS_ADDR_STRLEN];
	} addrs[ADDR_CACHE];
	struct vs_mysql_stats st;
};

/* store_mysql.c, for store_mysql_ins.c */
int vs_mysql__exec(struct mysql_store *s, const char *sql);
int vs_mysql__stmt_fail(struct mysql_store *s, MYSQL_STMT *st,
			const char *what);

/* store_mysql_ins.c */
int vs_mysql_ins__init(struct table *t, const char *name,
		       const char *const *key_names);
void vs_mysql_ins__keep_defaults(struct mysql_store *s, struct table *t,
				 unsigned r);
int vs_mysql_ins__set_defaults(struct mysql_store *s);
char **vs_mysql_ins__literals(const struct table *t);
void vs_mysql_ins__free_literals(const struct table *t, char **l);
int vs_mysql_ins__bind(struct mysql_store *s, struct table *t, unsigned from,
		       unsigned n);
void vs_mysql_ins__close(struct table *t);
void vs_mysql_ins__free(struct table *t);

#endif
