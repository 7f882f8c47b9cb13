/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A CDR with every field set to a value that is easy to get wrong (edges
 * of its type, text that needs escaping, both address families), for the
 * round-trip tests of the CDR codecs. */
#ifndef VS_TEST_CDR_CODEC_FIXTURE_H
#define VS_TEST_CDR_CODEC_FIXTURE_H

#include <criterion/criterion.h>
#include <string.h>

#include "cdr/cdr.h"

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

#endif
