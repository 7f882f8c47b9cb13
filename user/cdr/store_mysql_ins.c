// SPDX-License-Identifier: GPL-2.0-or-later
/* The INSERTs of the MariaDB store: which columns a chunk of rows names.
 *
 * Most of a CDR's columns hold nothing for most calls (no video, no RTCP,
 * no DTMF, no T.38 ...), and mariadbd's work per row is mostly per bound
 * column (convert the value, store it in the record), on the one thread
 * that runs the connection. So a chunk names only the columns in which at
 * least one of its rows holds something else than an empty CDR would; the
 * database fills the others with their DEFAULT, which set_defaults makes
 * exactly what an empty CDR stores. The rows are the same as with every
 * column named. Where a DEFAULT cannot be set (no ALTER privilege, a
 * column changed by hand), every column is named, as before.
 *
 * The INSERTs are prepared on first use and kept per connection (INS_CACHE
 * per table); a chunk takes the smallest kept one that names all it needs,
 * so a few statements serve a steady mix of calls. */
#include <errno.h>
#include <mariadb/mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cdr/store_mysql_int.h"
#include "core/log.h"

static int mask_has(const uint64_t *m, unsigned k)
{
	return (m[k / 64] >> (k % 64)) & 1;
}

static void mask_set(uint64_t *m, unsigned k)
{
	m[k / 64] |= 1ull << (k % 64);
}

static int mask_covers(const uint64_t *big, const uint64_t *small)
{
	for (unsigned w = 0; w < INS_MASK_WORDS; w++)
		if (small[w] & ~big[w])
			return 0;
	return 1;
}

static const char *param_name(const struct table *t, unsigned k)
{
	return k < t->nkey ? t->key_names[k] : t->cols[k - t->nkey].name;
}

int vs_mysql_ins__init(struct table *t, const char *name,
		       const char *const *key_names)
{
	t->name = name;
	t->key_names = key_names;
	if (t->np > INS_MAX_PARAMS)
		return -E2BIG;
	t->def = calloc(t->np, sizeof(*t->def));
	if (!t->def)
		return -ENOMEM;
	for (unsigned k = 0; k < t->np; k++)
		t->def[k].bound = 1; /* until keep_defaults */
	return 0;
}

/* Row r of t is the row of an empty CDR (or stream): its values are the
 * columns' defaults. Keys, and DATETIMEs that are not NULL, stay bound. */
void vs_mysql_ins__keep_defaults(struct mysql_store *s, struct table *t,
				 unsigned r)
{
	for (unsigned k = t->nkey; k < t->np; k++) {
		const struct param *p = &t->p[k];
		struct param_def *d = &t->def[k];

		d->ind = p->ind[r];
		d->bound = 0;
		if (d->ind == STMT_INDICATOR_NULL)
			continue;
		if (p->type == MYSQL_TYPE_STRING) {
			d->len = p->len[r];
			d->txt = malloc(d->len + 1);
			if (d->txt)
				memcpy(d->txt, s->text + p->off[r], d->len);
			d->bound = !d->txt;
		} else if (p->type == MYSQL_TYPE_DATETIME) {
			d->bound = 1;
		} else {
			d->i = p->i[r];
		}
	}
}

/* 1 when row r of param k holds the column's default. */
static int is_default(const struct mysql_store *s, const struct table *t,
		      unsigned k, unsigned r)
{
	const struct param *p = &t->p[k];
	const struct param_def *d = &t->def[k];

	if (p->ind[r] != d->ind)
		return 0;
	if (d->ind == STMT_INDICATOR_NULL)
		return 1;
	if (p->type == MYSQL_TYPE_STRING)
		return p->len[r] == d->len &&
		       !memcmp(s->text + p->off[r], d->txt, d->len);
	return p->i[r] == d->i; /* LONGLONG, or a DOUBLE's bits */
}

/* The params that rows from..from+n-1 need named. */
static void need_mask(const struct mysql_store *s, const struct table *t,
		      unsigned from, unsigned n, uint64_t *m)
{
	memset(m, 0, INS_MASK_WORDS * sizeof(*m));
	for (unsigned k = 0; k < t->np; k++) {
		unsigned r = from;

		if (!t->def[k].bound)
			while (r < from + n && is_default(s, t, k, r))
				r++;
		if (r < from + n)
			mask_set(m, k);
	}
}

/* "INSERT INTO t (a, b) VALUES (?, ?)" for the params in m; malloc'd. */
static char *insert_sql(const struct table *t, const uint64_t *m,
			unsigned *nparams)
{
	size_t cap = 64 + strlen(t->name), len;
	unsigned k, n = 0;
	char *sql, *p;

	for (k = 0; k < t->np; k++)
		cap += strlen(param_name(t, k)) + 5;
	sql = malloc(cap);
	if (!sql)
		return NULL;
	p = sql + sprintf(sql, "INSERT INTO %s (", t->name);
	for (k = 0; k < t->np; k++) {
		if (!mask_has(m, k))
			continue;
		len = strlen(param_name(t, k));
		if (n++)
			*p++ = ',';
		memcpy(p, param_name(t, k), len);
		p += len;
	}
	p += sprintf(p, ") VALUES (");
	for (k = 0; k < n; k++)
		p += sprintf(p, k ? ",?" : "?");
	strcpy(p, ")");
	*nparams = n;
	return sql;
}

/* A kept INSERT that names all of need, the one naming fewest. */
static struct ins_slot *slot_find(struct table *t, const uint64_t *need)
{
	struct ins_slot *best = NULL;

	for (unsigned i = 0; i < INS_CACHE; i++) {
		struct ins_slot *sl = &t->cache[i];

		if (sl->st && mask_covers(sl->mask, need) &&
		    (!best || sl->nparams < best->nparams))
			best = sl;
	}
	return best;
}

/* Prepares the INSERT for need in a free slot or the least used one. */
static int slot_new(struct mysql_store *s, struct table *t,
		    const uint64_t *need, struct ins_slot **out)
{
	struct ins_slot *sl = &t->cache[0];
	unsigned i, nparams;
	MYSQL_STMT *st;
	char *sql;
	int err = 0;

	for (i = 1; i < INS_CACHE && sl->st; i++)
		if (!t->cache[i].st || t->cache[i].used < sl->used)
			sl = &t->cache[i];
	if (sl->st)
		mysql_stmt_close(sl->st);
	sl->st = NULL;
	sql = insert_sql(t, need, &nparams);
	if (!sql)
		return -ENOMEM;
	/* Not in the slot before it is ready: a lost link closes the slots
	 * (vs_mysql__stmt_fail drops it); this one is closed here. */
	st = mysql_stmt_init(s->db);
	if (!st)
		err = -ENOMEM;
	else if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql)))
		err = vs_mysql__stmt_fail(s, st, "prepare");
	free(sql);
	if (err) {
		if (st)
			mysql_stmt_close(st);
		return err;
	}
	sl->st = st;
	memcpy(sl->mask, need, sizeof(sl->mask));
	sl->nparams = nparams;
	*out = sl;
	return 0;
}

/* Rows from..from+n-1 of param p into b, as one column of an array
 * execution. Strings and DATETIMEs are bound as arrays of pointers, made
 * now: the text arena may have moved while the batch filled. */
static void bind_param(const struct mysql_store *s, struct param *p,
		       MYSQL_BIND *b, unsigned from, unsigned n)
{
	unsigned r;

	memset(b, 0, sizeof(*b));
	b->buffer_type = p->type;
	b->u.indicator = p->ind + from;
	if (p->type == MYSQL_TYPE_STRING) {
		for (r = from; r < from + n; r++)
			p->ptr[r] = s->text + p->off[r];
		b->buffer = p->ptr + from;
		b->length = p->len + from;
	} else if (p->type == MYSQL_TYPE_DATETIME) {
		for (r = from; r < from + n; r++)
			p->ptr[r] = (char *)&p->tm[r];
		b->buffer = p->ptr + from;
	} else {
		b->buffer = p->i + from;
	}
}

/* Picks (or prepares) the INSERT for rows from..from+n-1 of t into t->st
 * and fills t->bind for it. 0 or -errno as vs_mysql__stmt_fail. */
int vs_mysql_ins__bind(struct mysql_store *s, struct table *t, unsigned from,
		       unsigned n)
{
	uint64_t need[INS_MASK_WORDS];
	struct ins_slot *sl;
	unsigned k, j = 0;
	int err;

	need_mask(s, t, from, n, need);
	sl = slot_find(t, need);
	if (!sl) {
		err = slot_new(s, t, need, &sl);
		if (err)
			return err;
	}
	sl->used = ++t->tick;
	t->st = sl->st;
	for (k = 0; k < t->np; k++)
		if (mask_has(sl->mask, k))
			bind_param(s, &t->p[k], &t->bind[j++], from, n);
	return 0;
}

/* The statements die with the link. */
void vs_mysql_ins__close(struct table *t)
{
	for (unsigned i = 0; i < INS_CACHE; i++) {
		if (t->cache[i].st)
			mysql_stmt_close(t->cache[i].st);
		t->cache[i].st = NULL;
	}
	t->st = NULL;
}

void vs_mysql_ins__free(struct table *t)
{
	for (unsigned k = 0; t->def && k < t->np; k++)
		free(t->def[k].txt);
	free(t->def);
	t->def = NULL;
}

/* --- the columns' DEFAULTs ---------------------------------------------------- */

/* The DEFAULT clause for param d, as information_schema.columns shows it
 * (MariaDB 10.2.7+: NULL, a number, or a quoted string). 0 when it has
 * none we would write: the column is then always named. */
static int default_literal(const struct param *p, const struct param_def *d,
			   char *buf, size_t len)
{
	double v;
	char *o = buf;

	if (d->ind == STMT_INDICATOR_NULL)
		return snprintf(buf, len, "NULL") > 0;
	if (p->type == MYSQL_TYPE_LONGLONG)
		return snprintf(buf, len, "%lld", (long long)d->i) > 0;
	if (p->type == MYSQL_TYPE_DOUBLE) {
		memcpy(&v, &d->i, sizeof(v));
		return v == 0 && snprintf(buf, len, "0") > 0;
	}
	if (p->type != MYSQL_TYPE_STRING || 2 * d->len + 3 > len)
		return 0;
	*o++ = '\'';
	for (unsigned long i = 0; i < d->len; i++) {
		unsigned char c = (unsigned char)d->txt[i];

		if (c < 0x20 || c == '\\' || c >= 0x7f)
			return 0; /* plain ASCII only: shown as written */
		if (c == '\'')
			*o++ = '\'';
		*o++ = (char)c;
	}
	*o++ = '\'';
	*o = '\0';
	return 1;
}

/* The DEFAULT literals of t's columns (NULL where it has none we write),
 * for creating the table with them: an array of ncols, freed with
 * vs_mysql_ins__free_literals. NULL when out of memory. */
char **vs_mysql_ins__literals(const struct table *t)
{
	char **l = calloc(t->ncols, sizeof(*l)), lit[256];

	for (unsigned i = 0; l && i < t->ncols; i++) {
		unsigned k = t->nkey + i;

		if (t->def[k].bound ||
		    !default_literal(&t->p[k], &t->def[k], lit, sizeof(lit)))
			continue;
		l[i] = strdup(lit);
		if (!l[i]) {
			vs_mysql_ins__free_literals(t, l);
			return NULL;
		}
	}
	return l;
}

void vs_mysql_ins__free_literals(const struct table *t, char **l)
{
	for (unsigned i = 0; l && i < t->ncols; i++)
		free(l[i]);
	free(l);
}

/* Param k of t for the column `col`, or -1. */
static int param_of(const struct table *t, const char *col)
{
	for (unsigned k = t->nkey; k < t->np; k++)
		if (!strcasecmp(col, param_name(t, k)))
			return (int)k;
	return -1;
}

/* Every param of t named in every INSERT, as before this file. */
static void bind_all(struct table *t)
{
	for (unsigned k = 0; k < t->np; k++)
		t->def[k].bound = 1;
}

/* Adds to alter[] "ALTER COLUMN c SET DEFAULT v" for the column of one
 * information_schema row whose DEFAULT differs from the empty CDR's; marks
 * seen[] the params found. */
static void check_column(struct table *t, MYSQL_ROW row, char *seen,
			 char *alter, size_t *len, unsigned *n)
{
	char lit[256];
	int k = param_of(t, row[1]);

	if (k < 0 || t->def[k].bound)
		return;
	seen[k] = 1;
	if (!default_literal(&t->p[k], &t->def[k], lit, sizeof(lit))) {
		t->def[k].bound = 1;
		return;
	}
	if (row[2] && !strcmp(row[2], lit))
		return;
	*len += (size_t)sprintf(alter + *len, "%s ALTER COLUMN %s SET DEFAULT %s",
				(*n)++ ? "," : "", row[1], lit);
}

static int alter_defaults(struct mysql_store *s, struct table *t, char *sql,
			  unsigned n)
{
	char lw[64];
	int err, e2;

	if (!n)
		return 0;
	vs_info("mariadb %s: table %s: setting the DEFAULT of %u columns to "
		"what an empty CDR stores (INSERTs name only the columns a "
		"CDR fills)", s->where, t->name, n);
	/* The ALTER waits for the table's metadata lock, and every query on
	 * the table queues behind it meanwhile: a long SELECT of a GUI must
	 * not stall the other writers for long. It is tried again at the
	 * next start. Within the client's read timeout (timeout_s), or the
	 * wait would drop the link. */
	snprintf(lw, sizeof(lw), "SET SESSION lock_wait_timeout = %u",
		 s->o.timeout_s > 2 ? 2 : 1);
	err = vs_mysql__exec(s, lw);
	if (!err)
		err = vs_mysql__exec(s, sql);
	if (err != -EAGAIN) {
		e2 = vs_mysql__exec(s, "SET SESSION lock_wait_timeout = DEFAULT");
		if (!err || e2 == -EAGAIN)
			err = e2;
	}
	if (err && err != -EAGAIN) {
		vs_warn("mariadb %s: table %s: cannot set the columns' "
			"DEFAULTs: every column is inserted (slower)",
			s->where, t->name);
		bind_all(t);
		err = 0;
	}
	return err;
}

/* Makes the DEFAULT of every column that an empty CDR leaves empty equal
 * to what it stores there (ALTER ... SET DEFAULT changes only the table's
 * definition: instant, whatever the table's size). Columns this cannot be
 * done for are always named. 0 or -errno (-EAGAIN: the link died). */
int vs_mysql_ins__set_defaults(struct mysql_store *s)
{
	static const char q[] =
		"SELECT table_name, column_name, column_default FROM "
		"information_schema.columns WHERE table_schema = DATABASE() "
		"AND table_name IN ('cdr', 'cdr_rtp')";
	struct table *tabs[2] = { &s->cdr, &s->rtp };
	char *sql[2] = { NULL, NULL }, *seen[2] = { NULL, NULL };
	size_t len[2] = { 0, 0 };
	unsigned n[2] = { 0, 0 }, i, k;
	MYSQL_RES *r = NULL;
	MYSQL_ROW row;
	int err = -ENOMEM;

	for (i = 0; i < 2; i++) {
		sql[i] = malloc(64 + (size_t)tabs[i]->np * 400);
		seen[i] = calloc(tabs[i]->np, 1);
		if (!sql[i] || !seen[i])
			goto out;
		len[i] = (size_t)sprintf(sql[i], "ALTER TABLE %s",
					 tabs[i]->name);
	}
	err = vs_mysql__exec(s, q);
	r = err ? NULL : mysql_store_result(s->db);
	if (!err && !r)
		err = -EIO;
	while (!err && (row = mysql_fetch_row(r))) {
		if (!row[0] || !row[1])
			continue;
		i = !strcasecmp(row[0], "cdr_rtp");
		check_column(tabs[i], row, seen[i], sql[i], &len[i], &n[i]);
	}
	for (i = 0; !err && i < 2; i++) {
		for (k = tabs[i]->nkey; k < tabs[i]->np; k++)
			if (!seen[i][k]) /* not in the table: cannot happen */
				tabs[i]->def[k].bound = 1;
		err = alter_defaults(s, tabs[i], sql[i], n[i]);
	}
out:
	mysql_free_result(r);
	for (i = 0; i < 2; i++) {
		free(sql[i]);
		free(seen[i]);
	}
	return err;
}
