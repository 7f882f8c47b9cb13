// SPDX-License-Identifier: GPL-2.0-or-later
/* JSON text -> struct vs_cdr: the inverse of vs_cdr__to_json, so that a CDR
 * crosses the channel as the JSON a sensor also writes with --cdr-json.
 *
 * Every field vs_cdr__to_json writes is read back to the same value, with
 * two limits that come from JSON and cJSON: a NaN or infinite double was
 * written as null and reads back as NaN, and an integer above 2^53 passes
 * through a double. Missing keys leave their field 0 (the reader is
 * lenient so that a newer sensor's extra or absent keys do not lose a
 * CDR); a key of the wrong type, a bad address or enum name is an error,
 * because it means the sender is broken, not newer. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdr/cdr_json.h"
#include "cdr/store.h"

/* An object being read, and where the last key was found. The reader asks
 * for keys in about the order vs_cdr__to_json writes them, so looking from
 * the last hit onwards (and wrapping) finds most keys at the first try;
 * cJSON's own look-up starts at the first key every time, which made the
 * ~130 look-ups per CDR the central server's biggest cost. */
struct jo {
	const cJSON *obj;
	const cJSON *hint; /* next key to try first; NULL = the first */
};

static const cJSON *jget(struct jo *o, const char *k)
{
	const cJSON *start = o->hint ? o->hint : o->obj->child, *x;

	for (x = start; x; x = x->next)
		if (x->string && !strcmp(x->string, k))
			goto hit;
	for (x = o->obj->child; x && x != start; x = x->next)
		if (x->string && !strcmp(x->string, k))
			goto hit;
	return NULL;
hit:
	o->hint = x->next;
	return x;
}

static int get_num(struct jo *o, const char *k, double *v)
{
	const cJSON *x = jget(o, k);

	if (!x)
		return 0;
	if (cJSON_IsNull(x)) {
		*v = NAN;
		return 0;
	}
	/* a literal too big for a double (1e999) parses as infinite; the
	 * writer never makes one (it writes null), so the sender is broken */
	if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
		return -1;
	*v = x->valuedouble;
	return 0;
}

/* Integers must be whole and within [lo, hi]. */
static int get_int(struct jo *o, const char *k, double lo, double hi,
		   double *v)
{
	double d = 0;

	if (get_num(o, k, &d) || isnan(d) || d < lo || d > hi ||
	    d != floor(d))
		return -1;
	*v = d;
	return 0;
}

static int get_u64(struct jo *o, const char *k, uint64_t *v)
{
	double d = 0;

	/* 2^64 is the first double above UINT64_MAX */
	if (get_int(o, k, 0, 18446744073709551616.0, &d) ||
	    d >= 18446744073709551616.0)
		return -1;
	*v = (uint64_t)d;
	return 0;
}

#define DEF_UINT(name, type, max)                                     \
	static int name(struct jo *o, const char *k, type *v)         \
	{                                                               \
		double d = 0;                                           \
		if (get_int(o, k, 0, (double)(max), &d))                \
			return -1;                                      \
		*v = (type)d;                                           \
		return 0;                                               \
	}
DEF_UINT(get_u32, uint32_t, UINT32_MAX)
DEF_UINT(get_u16, uint16_t, UINT16_MAX)
DEF_UINT(get_u8, uint8_t, UINT8_MAX)

static int get_i32(struct jo *o, const char *k, int *v)
{
	double d = 0;

	if (get_int(o, k, INT32_MIN, INT32_MAX, &d))
		return -1;
	*v = (int)d;
	return 0;
}

static int get_i64(struct jo *o, const char *k, int64_t *v)
{
	double d = 0;

	if (get_int(o, k, -9223372036854775808.0, 9223372036854775807.0, &d) ||
	    d >= 9223372036854775808.0)
		return -1;
	*v = (int64_t)d;
	return 0;
}

static int get_dbl(struct jo *o, const char *k, double *v)
{
	return get_num(o, k, v);
}

/* Truncated to fit, as the struct's strings are. */
static int get_str(struct jo *o, const char *k, char *dst, size_t size)
{
	const cJSON *x = jget(o, k);
	size_t n;

	if (!x)
		return 0;
	if (!cJSON_IsString(x) || !x->valuestring)
		return -1;
	n = strlen(x->valuestring);
	if (n >= size)
		n = size - 1;
	memcpy(dst, x->valuestring, n);
	dst[n] = '\0';
	return 0;
}

static int get_endpoint(struct jo *o, const char *ip_key,
			const char *port_key, struct vs_endpoint *e)
{
	const cJSON *x = jget(o, ip_key);

	if (get_u16(o, port_key, &e->port))
		return -1;
	if (!x)
		return 0;
	if (!cJSON_IsString(x) || !x->valuestring)
		return -1;
	return vs_addr_parse(&e->addr, x->valuestring,
			     strlen(x->valuestring)) ? -1 : 0;
}

static int get_u32_array(struct jo *o, const char *k, uint32_t *v, int n)
{
	const cJSON *arr = jget(o, k), *x;
	int i = 0;

	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != n)
		return -1;
	cJSON_ArrayForEach(x, arr) {
		double d = x->valuedouble;

		if (!cJSON_IsNumber(x) || d < 0 || d > UINT32_MAX ||
		    d != floor(d))
			return -1;
		v[i++] = (uint32_t)d;
	}
	return 0;
}

/* Names as vs_cdr_*__name prints them; -1 for anything else. */
static int get_name(struct jo *o, const char *k,
		    const char *(*name)(int v), int n, int *out)
{
	const cJSON *x = jget(o, k);

	if (!x)
		return 0;
	if (!cJSON_IsString(x) || !x->valuestring)
		return -1;
	for (int i = 0; i < n; i++) {
		if (!strcmp(x->valuestring, name(i))) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

static const char *hangup_name(int v)
{
	return vs_cdr_hangup__name((enum vs_cdr_hangup)v);
}

static const char *end_name(int v)
{
	return vs_cdr_end__name((enum vs_cdr_end)v);
}

static const char *dir_name(int v)
{
	return v ? "b" : "a";
}

#define U(t, o, s, f) get_##t(o, #f, &(s)->f)
#define S(o, s, f) get_str(o, #f, (s)->f, sizeof((s)->f))

static int leg_rtp(struct jo *o, struct vs_cdr_leg *l)
{
	int dir = 0, err;

	err = get_i32(o, "present", &l->present) | U(u32, o, l, ssrc) |
	      U(u8, o, l, payload_type) | S(o, l, codec) |
	      U(u32, o, l, clock_rate) |
	      get_endpoint(o, "src_ip", "src_port", &l->src) |
	      get_endpoint(o, "dst_ip", "dst_port", &l->dst) |
	      U(u64, o, l, first_us) | U(u64, o, l, last_us) |
	      U(u16, o, l, ptime_ms) | U(u64, o, l, packets) |
	      U(u64, o, l, lost) | U(u64, o, l, duplicates) |
	      U(u64, o, l, reordered) | U(dbl, o, l, loss_pct) |
	      U(dbl, o, l, jitter_mean_ms) | U(dbl, o, l, jitter_max_ms) |
	      U(dbl, o, l, mos) | U(dbl, o, l, r_factor) |
	      get_u32_array(o, "loss_burst", l->loss_burst,
			    VS_CDR_LOSS_BURSTS) |
	      get_u32_array(o, "delay", l->delay, VS_CDR_DELAY_BUCKETS) |
	      U(u32, o, l, dtmf_events) | S(o, l, dtmf) |
	      get_name(o, "dir", dir_name, 2, &dir);
	l->dir = (uint8_t)dir;
	return err;
}

static int leg_rtcp(struct jo *o, struct vs_cdr_leg *l)
{
	return U(u32, o, l, rtcp_packets) | U(u32, o, l, rtcp_reports) |
	       U(i64, o, l, rtcp_lost) | U(dbl, o, l, rtcp_fraction_lost_max) |
	       U(dbl, o, l, rtcp_jitter_mean_ms) |
	       U(dbl, o, l, rtcp_jitter_max_ms) |
	       U(dbl, o, l, rtcp_rtt_mean_ms) | U(dbl, o, l, rtcp_rtt_max_ms);
}

static int leg(struct jo *parent, const char *key, struct vs_cdr_leg *l)
{
	struct jo o = { jget(parent, key), NULL };

	if (!o.obj)
		return 0;
	if (!cJSON_IsObject(o.obj))
		return -1;
	return leg_rtp(&o, l) | leg_rtcp(&o, l);
}

static int streams(struct jo *parent, struct vs_cdr *c,
		   struct vs_cdr_leg *buf, uint32_t max)
{
	const cJSON *arr = jget(parent, "streams");
	const cJSON *x;
	struct jo o;
	uint32_t n = 0;

	c->n_streams = 0;
	c->streams = NULL;
	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr))
		return -EBADMSG;
	if ((uint32_t)cJSON_GetArraySize(arr) > max)
		return -E2BIG;
	cJSON_ArrayForEach(x, arr) {
		memset(&buf[n], 0, sizeof(buf[n]));
		o = (struct jo){ x, NULL };
		if (!cJSON_IsObject(x) || leg_rtp(&o, &buf[n]) ||
		    leg_rtcp(&o, &buf[n]))
			return -EBADMSG;
		n++;
	}
	c->n_streams = n;
	c->streams = n ? buf : NULL;
	return 0;
}

static int parties(struct jo *o, struct vs_cdr *c)
{
	return U(u16, o, c, id_sensor) | S(o, c, call_id) | S(o, c, caller) |
	       S(o, c, caller_domain) | S(o, c, caller_name) |
	       S(o, c, called) | S(o, c, called_domain) |
	       S(o, c, called_name) |
	       get_endpoint(o, "sip_caller_ip", "sip_caller_port",
			    &c->sip_caller) |
	       get_endpoint(o, "sip_called_ip", "sip_called_port",
			    &c->sip_called);
}

static int timing(struct jo *o, struct vs_cdr *c)
{
	return U(u64, o, c, calldate_us) | U(u64, o, c, callend_us) |
	       U(u64, o, c, progress_us) | U(u64, o, c, connect_us) |
	       U(u64, o, c, first_rtp_us) | U(dbl, o, c, duration_s) |
	       U(dbl, o, c, connect_duration_s);
}

static int outcome(struct jo *o, struct vs_cdr *c)
{
	int who = 0, end = 0, err;

	err = get_i32(o, "last_sip_code", &c->last_sip_code) |
	      S(o, c, last_sip_text) |
	      get_name(o, "whohanged", hangup_name, 3, &who) |
	      get_name(o, "end", end_name, VS_END_EOF + 1, &end) |
	      S(o, c, bye_reason) | S(o, c, caller_ua) | S(o, c, called_ua) |
	      U(u32, o, c, sip_messages) | U(u32, o, c, reinvites) |
	      S(o, c, pcap_path);
	c->whohanged = (enum vs_cdr_hangup)who;
	c->end = (enum vs_cdr_end)end;
	return err;
}

int vs_cdr__from_json(const char *text, size_t len, struct vs_cdr *c,
		      struct vs_cdr_leg *streams_buf, uint32_t max_streams)
{
	struct jo top = { NULL, NULL };
	cJSON *o;
	int err = -EBADMSG;

	memset(c, 0, sizeof(*c));
	o = cJSON_ParseWithLength(text, len);
	if (!o)
		return -EBADMSG;
	top.obj = o;
	if (!cJSON_IsObject(o))
		goto out;
	if (parties(&top, c) | timing(&top, c) | outcome(&top, c) |
	    leg(&top, "a", &c->a) | leg(&top, "b", &c->b))
		goto out;
	err = streams(&top, c, streams_buf, max_streams);
out:
	cJSON_Delete(o);
	if (err)
		memset(c, 0, sizeof(*c));
	return err;
}

/* cJSON prints a double with 15 digits when that reads back "close
 * enough", which loses the last bits; 17 digits always read back exactly. */
static int exact_numbers(cJSON *o)
{
	cJSON *x, *next, *raw;
	char buf[40];

	for (x = o->child; x; x = next) {
		next = x->next;
		if (cJSON_IsObject(x) || cJSON_IsArray(x)) {
			if (exact_numbers(x))
				return -1;
			continue;
		}
		if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
			continue;
		snprintf(buf, sizeof(buf), "%.17g", x->valuedouble);
		raw = cJSON_CreateRaw(buf);
		/* the key moves with the item (array items have none) */
		if (raw && x->string) {
			raw->string = strdup(x->string);
			if (!raw->string) {
				cJSON_Delete(raw);
				return -1;
			}
		}
		if (!raw || !cJSON_ReplaceItemViaPointer(o, x, raw)) {
			cJSON_Delete(raw);
			return -1;
		}
	}
	return 0;
}

char *vs_cdr__to_json_text(const struct vs_cdr *c)
{
	cJSON *o = vs_cdr__to_json(c);
	char *s = NULL;

	if (o && !exact_numbers(o))
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!s)
		errno = ENOMEM;
	return s;
}
