/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cdr/schema: the one definition of the cdr table, as a list of columns
 * (VoIPmonitor's names where it has the figure). SQLite uses it now and
 * MariaDB later: the types are plain SQL both accept. Column by column
 * meaning: docs/cdr.md. */
#ifndef VS_SCHEMA_H
#define VS_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "cdr/cdr.h"

/* How a column's value is read from struct vs_cdr. */
enum vs_col_kind {
	VS_COL_INT,	   /* int */
	VS_COL_U8,
	VS_COL_U16,
	VS_COL_U32,
	VS_COL_U64,	   /* stored as signed 64-bit */
	VS_COL_I64,
	VS_COL_DOUBLE,
	VS_COL_STR,	   /* char[len], NUL-terminated or full */
	VS_COL_ADDR,	   /* struct vs_addr as text */
	VS_COL_SENSOR,	   /* uint16_t, NULL when 0 (not set) */
	VS_COL_DATETIME,   /* uint64_t us -> 'YYYY-MM-DD HH:MM:SS.ffffff' UTC */
	VS_COL_SINCE_CALL, /* uint64_t us -> seconds after calldate; NULL if 0 */
	VS_COL_HANGUP,	   /* enum vs_cdr_hangup -> 'caller'/'callee'/NULL */
	VS_COL_END,	   /* enum vs_cdr_end -> its name */
};

struct vs_cdr_column {
	const char *name;
	const char *sql_type;
	enum vs_col_kind kind;
	uint32_t off;	/* offset in struct vs_cdr */
	uint32_t len;	/* VS_COL_STR: size of the char array */
};

extern const struct vs_cdr_column vs_cdr_columns[];
extern const size_t vs_cdr_n_columns;

/* One column's value, ready to bind or to quote. */
enum vs_sql_type { VS_SQL_NULL, VS_SQL_INT, VS_SQL_DOUBLE, VS_SQL_TEXT };

struct vs_sql_value {
	enum vs_sql_type type;
	int64_t i;
	double d;
	const char *s;	/* VS_SQL_TEXT: s[0..len), into c or buf */
	size_t len;
	char buf[48];
};

void vs_cdr_column__value(const struct vs_cdr_column *col,
			  const struct vs_cdr *c, struct vs_sql_value *v);

/* "CREATE TABLE IF NOT EXISTS cdr (...)" and "INSERT INTO cdr (...)
 * VALUES (?, ...)": malloc'd, NULL + errno. */
char *vs_schema__create_cdr(void);
char *vs_schema__insert_cdr(void);

/* MariaDB dialect of the same table. SQLite integers are 64-bit whatever
 * the declared type; MariaDB's are not, so a column read from an unsigned
 * field (kinds U8, U16, U32) becomes UNSIGNED there to hold the same values.
 * vs_schema__mysql_type writes that type into buf (len >= 32) and returns
 * buf. vs_schema__create_cdr_mysql: "CREATE TABLE IF NOT EXISTS cdr (ID
 * BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, <columns>) ENGINE=InnoDB ...",
 * utf8mb4 with a binary collation (Call-IDs compare byte for byte, as in
 * SQLite); malloc'd, NULL + errno. */
const char *vs_schema__mysql_type(const struct vs_cdr_column *col, char *buf,
				  size_t len);
char *vs_schema__create_cdr_mysql(void);
/* The same with "DEFAULT dflt[i]" for column i where dflt[i] is set. */
char *vs_schema__create_cdr_mysql_dflt(const char *const *dflt);

/* Table cdr_rtp (schema version 2): one row per element of
 * vs_cdr.streams. Its first two columns, not in this list, are the key:
 * cdr_ID (the cdr row: SQLite rowid, MariaDB ID) and stream_index (the
 * position in streams, from 0); then these, read from struct vs_cdr_leg
 * (offsets into it). Meaning: docs/cdr.md. */
extern const struct vs_cdr_column vs_rtp_columns[];
extern const size_t vs_rtp_n_columns;

/* A cdr_rtp column's value from a leg (kinds that need the CDR, such as
 * SINCE_CALL, give NULL). */
void vs_rtp_column__value(const struct vs_cdr_column *col,
			  const struct vs_cdr_leg *l, struct vs_sql_value *v);

/* "CREATE TABLE IF NOT EXISTS cdr_rtp (...)" (SQLite; MariaDB dialect with
 * the _mysql one) and "INSERT INTO cdr_rtp (cdr_ID, stream_index, ...)
 * VALUES (?, ...)": malloc'd, NULL + errno. */
char *vs_schema__create_rtp(void);
char *vs_schema__create_rtp_mysql(void);
char *vs_schema__create_rtp_mysql_dflt(const char *const *dflt);
char *vs_schema__insert_rtp(void);

/* Statements run after the table exists (indexes), NULL-terminated. */
extern const char *const vs_schema_indexes[];

#define VS_SCHEMA_VERSION_TABLE \
	"CREATE TABLE IF NOT EXISTS vs_schema (version INTEGER NOT NULL)"

/* Microseconds since the epoch as UTC text with microseconds:
 * iso = 1: "2024-05-01T12:00:00.000123Z"; iso = 0: "2024-05-01
 * 12:00:00.000123" (SQL DATETIME(6)). Returns the length, or -EINVAL when
 * the time is out of range. len >= 32. */
int vs_cdr_time__format(uint64_t us, int iso, char *buf, size_t len);

#endif
