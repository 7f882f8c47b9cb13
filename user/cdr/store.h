/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cdr/store: where CDRs go. One small interface with one implementation per
 * backend (SQLite, JSON lines; MariaDB later), chosen at start-up. */
#ifndef VS_STORE_H
#define VS_STORE_H

#include "cdr/cdr.h"

struct vs_cdr_store;

struct vs_cdr_store_ops {
	const char *name;
	/* Inserts one CDR. Returns 0, 1 when skipped because a CDR with the
	 * same Call-ID exists and check_exists_callid is set, or -errno. */
	int (*insert)(struct vs_cdr_store *s, const struct vs_cdr *cdr);
	/* Makes what was inserted durable (commit / fflush). 0 or -errno. */
	int (*flush)(struct vs_cdr_store *s);
	void (*close)(struct vs_cdr_store *s);
};

struct vs_cdr_store {
	const struct vs_cdr_store_ops *ops;
	int check_exists_callid;
};

#define VS_SCHEMA_VERSION 2 /* 2: table cdr_rtp */

/* SQLite file at path (created with its schema on first use; schema version
 * kept in table vs_schema, refused when newer than ours). NULL + errno. */
struct vs_cdr_store *vs_cdr_store__sqlite(const char *path,
					  int check_exists_callid);
/* JSON lines, one object per CDR, to path ("-" = stdout). NULL + errno. */
struct vs_cdr_store *vs_cdr_store__json(const char *path);

static inline int vs_cdr_store__insert(struct vs_cdr_store *s,
				       const struct vs_cdr *c)
{
	return s->ops->insert(s, c);
}

static inline int vs_cdr_store__flush(struct vs_cdr_store *s)
{
	return s->ops->flush(s);
}

static inline void vs_cdr_store__close(struct vs_cdr_store *s)
{
	if (s)
		s->ops->close(s);
}

/* CDR as a cJSON object (also used by the JSON store and for printing). */
struct cJSON;
struct cJSON *vs_cdr__to_json(const struct vs_cdr *c);

#endif
