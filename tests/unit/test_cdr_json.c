// SPDX-License-Identifier: GPL-2.0-or-later
/* cdr/cdr_from_json: every field of a CDR survives vs_cdr__to_json ->
 * text -> vs_cdr__from_json bit for bit; bad input is refused. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cdr/cdr_json.h"
#include "cdr/store.h"
#include <cjson/cJSON.h>

static void fill_leg(struct vs_cdr_leg *l, int k)
{
	l->present = 1;
	l->ssrc = 0xdeadbeef - (uint32_t)k;
	l->payload_type = (uint8_t)(8 + k);
	strcpy(l->codec, k ? "G729" : "PCMA");
	l->clock_rate = 8000 + (uint32_t)k;
	vs_addr_parse(&l->src.addr, "10.1.2.3", 8);
	l->src.port = (uint16_t)(40000 + k);
	vs_addr_parse(&l->dst.addr, "2001:db8::42", 12);
	l->dst.port = 65535;
	l->first_us = 1700000000123456ull + (uint64_t)k;
	l->last_us = 1700000060654321ull;
	l->ptime_ms = 20;
	l->packets = 3001;
	l->lost = 7;
	l->duplicates = 2;
	l->reordered = 1;
	l->loss_pct = 0.23279;
	l->jitter_mean_ms = 1.0 / 3.0;
	l->jitter_max_ms = 12.5e-7;
	l->mos = 4.40999999999999925393;
	l->r_factor = 93.2;
	for (int i = 0; i < VS_CDR_LOSS_BURSTS; i++)
		l->loss_burst[i] = (uint32_t)(i * 1000 + k);
	for (int i = 0; i < VS_CDR_DELAY_BUCKETS; i++)
		l->delay[i] = 4294967295u - (uint32_t)i;
	l->dtmf_events = 3;
	strcpy(l->dtmf, "12#");
	l->rtcp_packets = 11;
	l->rtcp_reports = 10;
	l->rtcp_lost = -3;
	l->rtcp_fraction_lost_max = 0.390625;
	l->rtcp_jitter_mean_ms = 2.25;
	l->rtcp_jitter_max_ms = 7.125;
	l->rtcp_rtt_mean_ms = 0.1;
	l->rtcp_rtt_max_ms = 1e300;
	l->dir = (uint8_t)(k & 1);
}

static void fill(struct vs_cdr *c, struct vs_cdr_leg *st, uint32_t n)
{
	memset(c, 0, sizeof(*c));
	c->id_sensor = 65535;
	strcpy(c->call_id, "a84b4c76e66710@pc33.example \"quoted\" \\ \x01 é");
	strcpy(c->caller, "alice");
	strcpy(c->caller_domain, "atlanta.example");
	strcpy(c->caller_name, "Alice Ä");
	strcpy(c->called, "bob");
	strcpy(c->called_domain, "biloxi.example");
	strcpy(c->called_name, "");
	vs_addr_parse(&c->sip_caller.addr, "192.0.2.1", 9);
	c->sip_caller.port = 5060;
	vs_addr_parse(&c->sip_called.addr, "fe80::1", 7);
	c->sip_called.port = 5061;
	c->calldate_us = 1700000000000001ull;
	c->callend_us = 1700000099999999ull;
	c->progress_us = 1700000000500000ull;
	c->connect_us = 1700000001000000ull;
	c->first_rtp_us = 9007199254740992ull; /* 2^53: still exact */
	c->duration_s = 99.999998;
	c->connect_duration_s = 98.999999;
	c->last_sip_code = 487;
	strcpy(c->last_sip_text, "Request Terminated");
	c->whohanged = VS_HANGUP_CALLEE;
	c->end = VS_END_TIMEOUT;
	strcpy(c->bye_reason, "Q.850;cause=16;text=\"Normal\"");
	strcpy(c->caller_ua, "UA/1.0");
	strcpy(c->called_ua, "UA/2.0\ttab");
	c->sip_messages = 4294967295u;
	c->reinvites = 2;
	fill_leg(&c->a, 0);
	fill_leg(&c->b, 1);
	strcpy(c->pcap_path, "2023-11-14/22/13/call.pcap");
	for (uint32_t i = 0; i < n; i++) {
		memset(&st[i], 0, sizeof(st[i]));
		fill_leg(&st[i], (int)i + 2);
	}
	c->n_streams = n;
	c->streams = n ? st : NULL;
}

static char *to_text(const struct vs_cdr *c)
{
	char *s = vs_cdr__to_json_text(c);

	cr_assert(s);
	return s;
}

static void expect_same(const struct vs_cdr *x, const struct vs_cdr *y)
{
	struct vs_cdr a = *x, b = *y;

	cr_assert_eq(a.n_streams, b.n_streams);
	for (uint32_t i = 0; i < a.n_streams; i++)
		cr_expect_eq(memcmp(&a.streams[i], &b.streams[i],
				    sizeof(a.streams[i])), 0, "stream %u", i);
	a.streams = b.streams = NULL;
	cr_expect_eq(memcmp(&a, &b, sizeof(a)), 0, "CDR differs");
}

Test(cdr_json, round_trip_every_field)
{
	static struct vs_cdr_leg st[3], back_st[8];
	struct vs_cdr c, back;
	char *s;

	fill(&c, st, 3);
	s = to_text(&c);
	cr_assert_eq(vs_cdr__from_json(s, strlen(s), &back, back_st, 8), 0);
	cr_expect_eq(back.streams, back_st);
	expect_same(&c, &back);
	cr_expect_eq(back.a.rtcp_lost, -3);
	cr_expect_eq(back.b.dir, 1);
	cr_expect_eq(back.first_rtp_us, 9007199254740992ull);
	free(s);
}

Test(cdr_json, zero_cdr_round_trip)
{
	struct vs_cdr c, back;
	struct vs_cdr_leg st[1];
	char *s;

	memset(&c, 0, sizeof(c));
	s = to_text(&c);
	cr_assert_eq(vs_cdr__from_json(s, strlen(s), &back, st, 1), 0);
	expect_same(&c, &back);
	cr_expect_null(back.streams);
	free(s);
}

Test(cdr_json, nan_and_infinity_read_as_nan)
{
	struct vs_cdr c, back;
	char *s;

	memset(&c, 0, sizeof(c));
	c.a.mos = NAN;
	c.b.jitter_max_ms = INFINITY;
	s = to_text(&c);
	cr_assert_eq(vs_cdr__from_json(s, strlen(s), &back, NULL, 0), 0);
	cr_expect(isnan(back.a.mos));
	cr_expect(isnan(back.b.jitter_max_ms));
	free(s);
}

Test(cdr_json, too_many_streams)
{
	static struct vs_cdr_leg st[3], back_st[2];
	struct vs_cdr c, back;
	char *s;

	fill(&c, st, 3);
	s = to_text(&c);
	cr_expect_eq(vs_cdr__from_json(s, strlen(s), &back, back_st, 2), -E2BIG);
	cr_expect_eq(back.id_sensor, 0, "zeroed on error");
	free(s);
}

Test(cdr_json, long_strings_truncated_to_fit)
{
	struct vs_cdr back;
	char text[1200] = "{\"caller\":\"";

	memset(text + strlen(text), 'x', 1000);
	strcat(text, "\"}");
	cr_assert_eq(vs_cdr__from_json(text, strlen(text), &back, NULL, 0), 0);
	cr_expect_eq(strlen(back.caller), sizeof(back.caller) - 1);
}

Test(cdr_json, bad_input_refused)
{
	static const char *const bad[] = {
		"", "{", "[]", "42", "{\"id_sensor\":65536}",
		"{\"id_sensor\":-1}", "{\"id_sensor\":1.5}",
		"{\"id_sensor\":\"1\"}", "{\"call_id\":5}",
		"{\"sip_caller_ip\":\"1.2.3\"}", "{\"sip_caller_port\":70000}",
		"{\"end\":\"later\"}", "{\"whohanged\":\"nobody\"}",
		"{\"a\":[]}", "{\"a\":{\"dir\":\"c\"}}",
		"{\"a\":{\"loss_burst\":[1,2]}}",
		"{\"a\":{\"delay\":[1,2,3,4,5,6,-7]}}",
		"{\"streams\":{}}", "{\"streams\":[1]}",
		"{\"calldate_us\":1e20}", "{\"a\":{\"rtcp_lost\":1e19}}",
	};
	struct vs_cdr back;
	struct vs_cdr_leg st[1];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(vs_cdr__from_json(bad[i], strlen(bad[i]), &back,
					       st, 1), -EBADMSG, "%s", bad[i]);
}

Test(cdr_json, length_bounds_the_parse)
{
	const char *s = "{\"id_sensor\":7}garbage";
	struct vs_cdr back;

	cr_expect_eq(vs_cdr__from_json(s, 15, &back, NULL, 0), 0);
	cr_expect_eq(back.id_sensor, 7);
	cr_expect_eq(vs_cdr__from_json(s, 10, &back, NULL, 0), -EBADMSG);
}

/* Why vs_cdr__to_json_text exists: cJSON's printer rounds to 15 digits. */
Test(cdr_json, cjson_printer_alone_is_not_exact)
{
	struct vs_cdr c, back;
	cJSON *o;
	char *s;

	memset(&c, 0, sizeof(c));
	c.a.mos = 4.40999999999999925393;
	o = vs_cdr__to_json(&c);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	cr_assert_eq(vs_cdr__from_json(s, strlen(s), &back, NULL, 0), 0);
	cr_expect_neq(back.a.mos, c.a.mos);
	free(s);
	s = to_text(&c);
	cr_assert_eq(vs_cdr__from_json(s, strlen(s), &back, NULL, 0), 0);
	cr_expect_eq(back.a.mos, c.a.mos);
	free(s);
}
