// SPDX-License-Identifier: GPL-2.0-or-later
/* The cdr table, column by column. A column is a name, an SQL type and
 * where its value sits in struct vs_cdr; CREATE TABLE, INSERT and the
 * bindings are all derived from this list, so they cannot disagree. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdr/schema.h"
#include "core/addr.h"

#define CALL(field) (uint32_t)offsetof(struct vs_cdr, field)
#define LEG(leg, field) \
	(uint32_t)(offsetof(struct vs_cdr, leg) + offsetof(struct vs_cdr_leg, field))
#define STRLEN(field) (uint32_t)sizeof(((struct vs_cdr *)0)->field)
#define LSTRLEN(field) (uint32_t)sizeof(((struct vs_cdr_leg *)0)->field)

#define COL(n, t, k, f) { n, t, VS_COL_##k, CALL(f), 0 }
#define SCOL(n, t, f) { n, t, VS_COL_STR, CALL(f), STRLEN(f) }

/* The columns of one direction; p is "a_" or "b_", leg is a or b. */
#define LEG_COLUMNS(p, leg)                                                  \
	{ p "present", "TINYINT", VS_COL_INT, LEG(leg, present), 0 },        \
	{ p "ssrc", "BIGINT", VS_COL_U32, LEG(leg, ssrc), 0 },               \
	{ p "payload", "SMALLINT", VS_COL_U8, LEG(leg, payload_type), 0 },   \
	{ p "codec", "VARCHAR(15)", VS_COL_STR, LEG(leg, codec),             \
	  LSTRLEN(codec) },                                                  \
	{ p "clock_rate", "INTEGER", VS_COL_U32, LEG(leg, clock_rate), 0 },  \
	{ p "saddr", "VARCHAR(45)", VS_COL_ADDR, LEG(leg, src.addr), 0 },    \
	{ p "sport", "INTEGER", VS_COL_U16, LEG(leg, src.port), 0 },         \
	{ p "daddr", "VARCHAR(45)", VS_COL_ADDR, LEG(leg, dst.addr), 0 },    \
	{ p "dport", "INTEGER", VS_COL_U16, LEG(leg, dst.port), 0 },         \
	{ p "first_us", "BIGINT", VS_COL_U64, LEG(leg, first_us), 0 },       \
	{ p "last_us", "BIGINT", VS_COL_U64, LEG(leg, last_us), 0 },         \
	{ p "ptime", "SMALLINT", VS_COL_U16, LEG(leg, ptime_ms), 0 },        \
	{ p "received", "BIGINT", VS_COL_U64, LEG(leg, packets), 0 },        \
	{ p "lost", "BIGINT", VS_COL_U64, LEG(leg, lost), 0 },               \
	{ p "duplicates", "BIGINT", VS_COL_U64, LEG(leg, duplicates), 0 },   \
	{ p "reordered", "BIGINT", VS_COL_U64, LEG(leg, reordered), 0 },     \
	{ p "loss_perc", "DOUBLE", VS_COL_DOUBLE, LEG(leg, loss_pct), 0 },   \
	{ p "avgjitter", "DOUBLE", VS_COL_DOUBLE, LEG(leg, jitter_mean_ms),  \
	  0 },                                                               \
	{ p "maxjitter", "DOUBLE", VS_COL_DOUBLE, LEG(leg, jitter_max_ms),   \
	  0 },                                                               \
	{ p "mos", "DOUBLE", VS_COL_DOUBLE, LEG(leg, mos), 0 },              \
	{ p "rfactor", "DOUBLE", VS_COL_DOUBLE, LEG(leg, r_factor), 0 },     \
	BURSTS(p, leg), DELAYS(p, leg),                                      \
	{ p "dtmf_events", "INTEGER", VS_COL_U32, LEG(leg, dtmf_events), 0 },\
	{ p "dtmf", "VARCHAR(32)", VS_COL_STR, LEG(leg, dtmf),               \
	  LSTRLEN(dtmf) },                                                   \
	{ p "rtcp_packets", "INTEGER", VS_COL_U32, LEG(leg, rtcp_packets),   \
	  0 },                                                               \
	{ p "rtcp_reports", "INTEGER", VS_COL_U32, LEG(leg, rtcp_reports),   \
	  0 },                                                               \
	{ p "rtcp_loss", "BIGINT", VS_COL_I64, LEG(leg, rtcp_lost), 0 },     \
	{ p "rtcp_maxfr", "DOUBLE", VS_COL_DOUBLE,                           \
	  LEG(leg, rtcp_fraction_lost_max), 0 },                             \
	{ p "rtcp_avgjitter", "DOUBLE", VS_COL_DOUBLE,                       \
	  LEG(leg, rtcp_jitter_mean_ms), 0 },                                \
	{ p "rtcp_maxjitter", "DOUBLE", VS_COL_DOUBLE,                       \
	  LEG(leg, rtcp_jitter_max_ms), 0 },                                 \
	{ p "rtcp_avgrtd", "DOUBLE", VS_COL_DOUBLE, LEG(leg, rtcp_rtt_mean_ms),\
	  0 },                                                               \
	{ p "rtcp_maxrtd", "DOUBLE", VS_COL_DOUBLE, LEG(leg, rtcp_rtt_max_ms),\
	  0 }

#define BURST(p, leg, i, n) \
	{ p n, "INTEGER", VS_COL_U32, LEG(leg, loss_burst[i]), 0 }
#define BURSTS(p, leg)                                                      \
	BURST(p, leg, 0, "sl1"), BURST(p, leg, 1, "sl2"),                   \
	BURST(p, leg, 2, "sl3"), BURST(p, leg, 3, "sl4"),                   \
	BURST(p, leg, 4, "sl5"), BURST(p, leg, 5, "sl6"),                   \
	BURST(p, leg, 6, "sl7"), BURST(p, leg, 7, "sl8"),                   \
	BURST(p, leg, 8, "sl9"), BURST(p, leg, 9, "sl10")
#define DELAY(p, leg, i, n) \
	{ p n, "INTEGER", VS_COL_U32, LEG(leg, delay[i]), 0 }
#define DELAYS(p, leg)                                                      \
	DELAY(p, leg, 0, "d50"), DELAY(p, leg, 1, "d70"),                   \
	DELAY(p, leg, 2, "d90"), DELAY(p, leg, 3, "d120"),                  \
	DELAY(p, leg, 4, "d150"), DELAY(p, leg, 5, "d200"),                 \
	DELAY(p, leg, 6, "d300")

const struct vs_cdr_column vs_cdr_columns[] = {
	COL("id_sensor", "SMALLINT UNSIGNED", SENSOR, id_sensor),
	SCOL("call_id", "VARCHAR(255)", call_id),
	COL("calldate", "DATETIME(6)", DATETIME, calldate_us),
	COL("callend", "DATETIME(6)", DATETIME, callend_us),
	COL("duration", "DOUBLE", DOUBLE, duration_s),
	COL("connect_duration", "DOUBLE", DOUBLE, connect_duration_s),
	COL("progress_time", "DOUBLE", SINCE_CALL, progress_us),
	COL("first_rtp_time", "DOUBLE", SINCE_CALL, first_rtp_us),
	COL("calldate_us", "BIGINT", U64, calldate_us),
	COL("callend_us", "BIGINT", U64, callend_us),
	COL("progress_us", "BIGINT", U64, progress_us),
	COL("connect_us", "BIGINT", U64, connect_us),
	COL("first_rtp_us", "BIGINT", U64, first_rtp_us),
	SCOL("caller", "VARCHAR(63)", caller),
	SCOL("caller_domain", "VARCHAR(127)", caller_domain),
	SCOL("callername", "VARCHAR(63)", caller_name),
	SCOL("called", "VARCHAR(63)", called),
	SCOL("called_domain", "VARCHAR(127)", called_domain),
	SCOL("calledname", "VARCHAR(63)", called_name),
	COL("sipcallerip", "VARCHAR(45)", ADDR, sip_caller.addr),
	COL("sipcallerport", "INTEGER", U16, sip_caller.port),
	COL("sipcalledip", "VARCHAR(45)", ADDR, sip_called.addr),
	COL("sipcalledport", "INTEGER", U16, sip_called.port),
	COL("lastSIPresponseNum", "INTEGER", INT, last_sip_code),
	SCOL("lastSIPresponse", "VARCHAR(63)", last_sip_text),
	COL("whohanged", "VARCHAR(6)", HANGUP, whohanged),
	COL("bye", "VARCHAR(7)", END, end),
	SCOL("bye_reason", "VARCHAR(127)", bye_reason),
	SCOL("a_ua", "VARCHAR(127)", caller_ua),
	SCOL("b_ua", "VARCHAR(127)", called_ua),
	COL("sip_messages", "INTEGER", U32, sip_messages),
	COL("reinvites", "INTEGER", U32, reinvites),
	SCOL("pcap_path", "VARCHAR(511)", pcap_path),
	LEG_COLUMNS("a_", a),
	LEG_COLUMNS("b_", b),
};

const size_t vs_cdr_n_columns =
	sizeof(vs_cdr_columns) / sizeof(vs_cdr_columns[0]);

const char *const vs_schema_indexes[] = {
	"CREATE INDEX IF NOT EXISTS cdr_call_id ON cdr (call_id)",
	"CREATE INDEX IF NOT EXISTS cdr_calldate ON cdr (calldate)",
	NULL,
};

/* Table cdr_rtp: one row per stream. Offsets are into struct vs_cdr_leg;
 * the key columns cdr_ID and stream_index come first and are not listed
 * (the stores bind them). */
#define RCOL(n, t, k, f) \
	{ n, t, VS_COL_##k, (uint32_t)offsetof(struct vs_cdr_leg, f), 0 }

const struct vs_cdr_column vs_rtp_columns[] = {
	RCOL("dir", "TINYINT", U8, dir),
	RCOL("ssrc", "BIGINT", U32, ssrc),
	RCOL("payload", "SMALLINT", U8, payload_type),
	{ "codec", "VARCHAR(15)", VS_COL_STR,
	  (uint32_t)offsetof(struct vs_cdr_leg, codec), LSTRLEN(codec) },
	RCOL("clock_rate", "INTEGER", U32, clock_rate),
	RCOL("saddr", "VARCHAR(45)", ADDR, src.addr),
	RCOL("sport", "INTEGER", U16, src.port),
	RCOL("daddr", "VARCHAR(45)", ADDR, dst.addr),
	RCOL("dport", "INTEGER", U16, dst.port),
	RCOL("first_us", "BIGINT", U64, first_us),
	RCOL("last_us", "BIGINT", U64, last_us),
	RCOL("ptime", "SMALLINT", U16, ptime_ms),
	RCOL("received", "BIGINT", U64, packets),
	RCOL("lost", "BIGINT", U64, lost),
	RCOL("duplicates", "BIGINT", U64, duplicates),
	RCOL("reordered", "BIGINT", U64, reordered),
	RCOL("loss_perc", "DOUBLE", DOUBLE, loss_pct),
	RCOL("avgjitter", "DOUBLE", DOUBLE, jitter_mean_ms),
	RCOL("maxjitter", "DOUBLE", DOUBLE, jitter_max_ms),
	RCOL("mos", "DOUBLE", DOUBLE, mos),
	RCOL("rfactor", "DOUBLE", DOUBLE, r_factor),
	RCOL("dtmf_events", "INTEGER", U32, dtmf_events),
	RCOL("rtcp_packets", "INTEGER", U32, rtcp_packets),
	RCOL("rtcp_reports", "INTEGER", U32, rtcp_reports),
	RCOL("rtcp_loss", "BIGINT", I64, rtcp_lost),
	RCOL("rtcp_maxfr", "DOUBLE", DOUBLE, rtcp_fraction_lost_max),
	RCOL("rtcp_avgjitter", "DOUBLE", DOUBLE, rtcp_jitter_mean_ms),
	RCOL("rtcp_maxjitter", "DOUBLE", DOUBLE, rtcp_jitter_max_ms),
	RCOL("rtcp_avgrtd", "DOUBLE", DOUBLE, rtcp_rtt_mean_ms),
	RCOL("rtcp_maxrtd", "DOUBLE", DOUBLE, rtcp_rtt_max_ms),
};

const size_t vs_rtp_n_columns =
	sizeof(vs_rtp_columns) / sizeof(vs_rtp_columns[0]);

/* Joins head, one piece per column of cols[0..n), tail; each piece
 * printed with fmt from the separator, the column name and its type. */
static char *build(const struct vs_cdr_column *cols, size_t n,
		   const char *head, const char *fmt, const char *tail)
{
	size_t cap = strlen(head) + strlen(tail) + 1, i;
	char *s, *p;

	for (i = 0; i < n; i++)
		cap += strlen(fmt) + strlen(cols[i].name) +
		       strlen(cols[i].sql_type);
	s = malloc(cap);
	if (!s)
		return NULL;
	p = s + sprintf(s, "%s", head);
	for (i = 0; i < n; i++)
		p += sprintf(p, fmt, i ? ",\n  " : "  ", cols[i].name,
			     cols[i].sql_type);
	strcpy(p, tail);
	return s;
}

char *vs_schema__create_cdr(void)
{
	return build(vs_cdr_columns, vs_cdr_n_columns,
		     "CREATE TABLE IF NOT EXISTS cdr (\n", "%s%s %s", "\n)");
}

/* head + the columns + ") VALUES (?, ..., ?)" with extra more '?'. */
static char *build_insert(const struct vs_cdr_column *cols, size_t n,
			  const char *head, size_t extra)
{
	char *names, *sql;
	size_t i, len;

	/* "%.0s" consumes the type and prints nothing. */
	names = build(cols, n, head, "%s%s%.0s", ") VALUES (");
	if (!names)
		return NULL;
	len = strlen(names);
	sql = realloc(names, len + 3 * (n + extra) + 2);
	if (!sql) {
		free(names);
		return NULL;
	}
	for (i = 0; i < n + extra; i++)
		len += (size_t)sprintf(sql + len, i ? ", ?" : "?");
	strcpy(sql + len, ")");
	return sql;
}

char *vs_schema__insert_cdr(void)
{
	return build_insert(vs_cdr_columns, vs_cdr_n_columns,
			    "INSERT INTO cdr (", 0);
}

char *vs_schema__create_rtp(void)
{
	return build(vs_rtp_columns, vs_rtp_n_columns,
		     "CREATE TABLE IF NOT EXISTS cdr_rtp (\n"
		     "  cdr_ID INTEGER NOT NULL,\n"
		     "  stream_index INTEGER NOT NULL,\n",
		     "%s%s %s",
		     ",\n  PRIMARY KEY (cdr_ID, stream_index)\n)");
}

char *vs_schema__insert_rtp(void)
{
	return build_insert(vs_rtp_columns, vs_rtp_n_columns,
			    "INSERT INTO cdr_rtp (cdr_ID, stream_index,", 2);
}

static void set_text(struct vs_sql_value *v, const char *s, size_t len)
{
	v->type = VS_SQL_TEXT;
	v->s = s;
	v->len = len;
}

static void set_int(struct vs_sql_value *v, int64_t i)
{
	v->type = VS_SQL_INT;
	v->i = i;
}

/* The kinds that turn a field into text or NULL. */
static void text_value(const struct vs_cdr_column *col,
		       const struct vs_cdr *c, const void *f,
		       struct vs_sql_value *v)
{
	const char *name;
	int n;

	switch (col->kind) {
	case VS_COL_STR:
		set_text(v, f, strnlen(f, col->len));
		break;
	case VS_COL_ADDR:
		vs_addr_str(f, v->buf, sizeof(v->buf));
		set_text(v, v->buf, strlen(v->buf));
		break;
	case VS_COL_DATETIME:
		n = vs_cdr_time__format(*(const uint64_t *)f, 0, v->buf,
					sizeof(v->buf));
		if (n > 0 && *(const uint64_t *)f)
			set_text(v, v->buf, (size_t)n);
		break;
	case VS_COL_SINCE_CALL:
		if (*(const uint64_t *)f) {
			v->type = VS_SQL_DOUBLE;
			v->d = ((double)*(const uint64_t *)f -
				(double)c->calldate_us) / 1e6;
		}
		break;
	case VS_COL_HANGUP:
		if (c->whohanged != VS_HANGUP_UNKNOWN) {
			name = vs_cdr_hangup__name(c->whohanged);
			set_text(v, name, strlen(name));
		}
		break;
	case VS_COL_END:
		name = vs_cdr_end__name(c->end);
		set_text(v, name, strlen(name));
		break;
	default:
		break;
	}
}

/* The value of col in the struct at base; c is the CDR for the kinds
 * that need it (SINCE_CALL, HANGUP), NULL for a leg. */
static void value_at(const struct vs_cdr_column *col, const void *base,
		     const struct vs_cdr *c, struct vs_sql_value *v)
{
	const void *f = (const char *)base + col->off;

	v->type = VS_SQL_NULL;
	switch (col->kind) {
	case VS_COL_INT:
		set_int(v, *(const int *)f);
		break;
	case VS_COL_U8:
		set_int(v, *(const uint8_t *)f);
		break;
	case VS_COL_U16:
		set_int(v, *(const uint16_t *)f);
		break;
	case VS_COL_U32:
		set_int(v, *(const uint32_t *)f);
		break;
	case VS_COL_U64:
		set_int(v, (int64_t)*(const uint64_t *)f);
		break;
	case VS_COL_I64:
		set_int(v, *(const int64_t *)f);
		break;
	case VS_COL_SENSOR:
		if (*(const uint16_t *)f)
			set_int(v, *(const uint16_t *)f);
		break;
	case VS_COL_DOUBLE:
		v->type = VS_SQL_DOUBLE;
		v->d = *(const double *)f;
		break;
	case VS_COL_SINCE_CALL:
	case VS_COL_HANGUP:
	case VS_COL_END:
		if (c)
			text_value(col, c, f, v);
		break;
	default:
		text_value(col, c, f, v);
		break;
	}
}

void vs_cdr_column__value(const struct vs_cdr_column *col,
			  const struct vs_cdr *c, struct vs_sql_value *v)
{
	value_at(col, c, c, v);
}

void vs_rtp_column__value(const struct vs_cdr_column *col,
			  const struct vs_cdr_leg *l, struct vs_sql_value *v)
{
	value_at(col, l, NULL, v);
}

const char *vs_schema__mysql_type(const struct vs_cdr_column *col, char *buf,
				  size_t len)
{
	int unsig = col->kind == VS_COL_U8 || col->kind == VS_COL_U16 ||
		    col->kind == VS_COL_U32;

	if (unsig && !strstr(col->sql_type, "UNSIGNED"))
		snprintf(buf, len, "%s UNSIGNED", col->sql_type);
	else
		snprintf(buf, len, "%s", col->sql_type);
	return buf;
}

/* "CREATE TABLE IF NOT EXISTS name (head, <columns>, tail) ENGINE...";
 * column i gets "DEFAULT dflt[i]" when dflt and dflt[i] are set. */
static char *build_mysql(const struct vs_cdr_column *cols, size_t n,
			 const char *head, const char *tail,
			 const char *const *dflt)
{
	static const char engine[] =
		"\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
	size_t cap = strlen(head) + strlen(tail) + sizeof(engine), i;
	char type[48], *s, *p;

	for (i = 0; i < n; i++)
		cap += 5 + strlen(cols[i].name) + sizeof(type) +
		       (dflt && dflt[i] ? 9 + strlen(dflt[i]) : 0);
	s = malloc(cap);
	if (!s)
		return NULL;
	p = s + sprintf(s, "%s", head);
	for (i = 0; i < n; i++) {
		p += sprintf(p, ",\n  %s %s", cols[i].name,
			     vs_schema__mysql_type(&cols[i], type,
						   sizeof(type)));
		if (dflt && dflt[i])
			p += sprintf(p, " DEFAULT %s", dflt[i]);
	}
	sprintf(p, "%s%s", tail, engine);
	return s;
}

char *vs_schema__create_cdr_mysql_dflt(const char *const *dflt)
{
	return build_mysql(vs_cdr_columns, vs_cdr_n_columns,
			   "CREATE TABLE IF NOT EXISTS cdr (\n"
			   "  ID BIGINT UNSIGNED NOT NULL AUTO_INCREMENT "
			   "PRIMARY KEY", "", dflt);
}

char *vs_schema__create_cdr_mysql(void)
{
	return vs_schema__create_cdr_mysql_dflt(NULL);
}

/* Keyed by (cdr_ID, stream_index): rows cluster by call and arrive in key
 * order, so InnoDB appends them and keeps no secondary index. */
char *vs_schema__create_rtp_mysql_dflt(const char *const *dflt)
{
	return build_mysql(vs_rtp_columns, vs_rtp_n_columns,
			   "CREATE TABLE IF NOT EXISTS cdr_rtp (\n"
			   "  cdr_ID BIGINT UNSIGNED NOT NULL,\n"
			   "  stream_index INT UNSIGNED NOT NULL",
			   ",\n  PRIMARY KEY (cdr_ID, stream_index)", dflt);
}

char *vs_schema__create_rtp_mysql(void)
{
	return vs_schema__create_rtp_mysql_dflt(NULL);
}
