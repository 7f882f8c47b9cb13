// SPDX-License-Identifier: GPL-2.0-or-later
/* struct vs_cdr as a cJSON object: every field under its struct name, the
 * two media directions as objects "a" and "b", addresses as text, and
 * calldate/callend also as ISO 8601 UTC text. Microsecond times are
 * written as integers (cJSON would print them as 1.7e+15); other numbers are
 * JSON doubles. Every stream of the call is listed under "streams". */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cdr/schema.h"
#include "cdr/store.h"

/* Adders return 0, or -1 once cJSON fails; callers OR the results. */
static int num(cJSON *o, const char *k, double v)
{
	return cJSON_AddNumberToObject(o, k, v) ? 0 : -1;
}

/* Struct strings may fill their array without a NUL: copy bounded. */
static int str(cJSON *o, const char *k, const char *s, size_t size)
{
	char buf[512];
	size_t n = strnlen(s, size < sizeof(buf) ? size : sizeof(buf) - 1);

	memcpy(buf, s, n);
	buf[n] = '\0';
	return cJSON_AddStringToObject(o, k, buf) ? 0 : -1;
}

/* Integers as written, not through a double's %g. */
static int u64(cJSON *o, const char *k, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return cJSON_AddRawToObject(o, k, buf) ? 0 : -1;
}

#define STR(o, c, f) str(o, #f, (c)->f, sizeof((c)->f))
#define U64(o, c, f) u64(o, #f, (c)->f)
#define NUM(o, c, f) num(o, #f, (double)(c)->f)

static int endpoint(cJSON *o, const char *ip_key, const char *port_key,
		    const struct vs_endpoint *e)
{
	char buf[VS_ADDR_STRLEN];

	vs_addr_str(&e->addr, buf, sizeof(buf));
	return (cJSON_AddStringToObject(o, ip_key, buf) ? 0 : -1) |
	       num(o, port_key, e->port);
}

static int time_pair(cJSON *o, const char *key, const char *us_key,
		     uint64_t us)
{
	char buf[40];
	int err = u64(o, us_key, us);

	if (vs_cdr_time__format(us, 1, buf, sizeof(buf)) < 0)
		buf[0] = '\0';
	return err | (cJSON_AddStringToObject(o, key, buf) ? 0 : -1);
}

static int u32_array(cJSON *o, const char *key, const uint32_t *v, int n)
{
	cJSON *arr = cJSON_AddArrayToObject(o, key);
	int i, err = arr ? 0 : -1;

	for (i = 0; arr && i < n; i++) {
		cJSON *x = cJSON_CreateNumber(v[i]);

		if (!x || !cJSON_AddItemToArray(arr, x)) {
			cJSON_Delete(x);
			err = -1;
		}
	}
	return err;
}

static int leg_rtp(cJSON *o, const struct vs_cdr_leg *l)
{
	return NUM(o, l, present) | NUM(o, l, ssrc) | NUM(o, l, payload_type) |
	       STR(o, l, codec) | NUM(o, l, clock_rate) |
	       endpoint(o, "src_ip", "src_port", &l->src) |
	       endpoint(o, "dst_ip", "dst_port", &l->dst) |
	       U64(o, l, first_us) | U64(o, l, last_us) | NUM(o, l, ptime_ms) |
	       NUM(o, l, packets) | NUM(o, l, lost) | NUM(o, l, duplicates) |
	       NUM(o, l, reordered) | NUM(o, l, loss_pct) |
	       NUM(o, l, jitter_mean_ms) | NUM(o, l, jitter_max_ms) |
	       NUM(o, l, mos) | NUM(o, l, r_factor) |
	       u32_array(o, "loss_burst", l->loss_burst, VS_CDR_LOSS_BURSTS) |
	       u32_array(o, "delay", l->delay, VS_CDR_DELAY_BUCKETS) |
	       NUM(o, l, dtmf_events) | STR(o, l, dtmf) |
	       (cJSON_AddStringToObject(o, "dir", l->dir ? "b" : "a") ? 0 : -1);
}

static int leg_rtcp(cJSON *o, const struct vs_cdr_leg *l)
{
	return NUM(o, l, rtcp_packets) | NUM(o, l, rtcp_reports) |
	       NUM(o, l, rtcp_lost) | NUM(o, l, rtcp_fraction_lost_max) |
	       NUM(o, l, rtcp_jitter_mean_ms) | NUM(o, l, rtcp_jitter_max_ms) |
	       NUM(o, l, rtcp_rtt_mean_ms) | NUM(o, l, rtcp_rtt_max_ms);
}

static int leg(cJSON *parent, const char *key, const struct vs_cdr_leg *l)
{
	cJSON *o = cJSON_AddObjectToObject(parent, key);

	return o ? leg_rtp(o, l) | leg_rtcp(o, l) : -1;
}

static int streams(cJSON *parent, const struct vs_cdr *c)
{
	cJSON *arr = cJSON_AddArrayToObject(parent, "streams");
	int err = arr ? 0 : -1;

	for (uint32_t i = 0; arr && c->streams && i < c->n_streams; i++) {
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			return -1;
		}
		err |= leg_rtp(o, &c->streams[i]) | leg_rtcp(o, &c->streams[i]);
	}
	return err;
}

static int parties(cJSON *o, const struct vs_cdr *c)
{
	return NUM(o, c, id_sensor) | STR(o, c, call_id) | STR(o, c, caller) |
	       STR(o, c, caller_domain) | STR(o, c, caller_name) |
	       STR(o, c, called) | STR(o, c, called_domain) |
	       STR(o, c, called_name) |
	       endpoint(o, "sip_caller_ip", "sip_caller_port", &c->sip_caller) |
	       endpoint(o, "sip_called_ip", "sip_called_port", &c->sip_called);
}

static int timing(cJSON *o, const struct vs_cdr *c)
{
	return time_pair(o, "calldate", "calldate_us", c->calldate_us) |
	       time_pair(o, "callend", "callend_us", c->callend_us) |
	       U64(o, c, progress_us) | U64(o, c, connect_us) |
	       U64(o, c, first_rtp_us) | NUM(o, c, duration_s) |
	       NUM(o, c, connect_duration_s);
}

static int outcome(cJSON *o, const struct vs_cdr *c)
{
	return NUM(o, c, last_sip_code) | STR(o, c, last_sip_text) |
	       (cJSON_AddStringToObject(o, "whohanged",
					vs_cdr_hangup__name(c->whohanged)) ?
			0 : -1) |
	       (cJSON_AddStringToObject(o, "end", vs_cdr_end__name(c->end)) ?
			0 : -1) |
	       STR(o, c, bye_reason) | STR(o, c, caller_ua) |
	       STR(o, c, called_ua) | NUM(o, c, sip_messages) |
	       NUM(o, c, reinvites) | STR(o, c, pcap_path);
}

cJSON *vs_cdr__to_json(const struct vs_cdr *c)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		goto nomem;
	if (parties(o, c) | timing(o, c) | outcome(o, c) | leg(o, "a", &c->a) |
	    leg(o, "b", &c->b) | streams(o, c))
		goto nomem;
	return o;
nomem:
	cJSON_Delete(o);
	errno = ENOMEM;
	return NULL;
}
