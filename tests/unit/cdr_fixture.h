/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A CDR with every field set, shared by the store tests (SQLite and
 * MariaDB must store the same values). Include once per test file. */
#ifndef VS_TEST_CDR_FIXTURE_H
#define VS_TEST_CDR_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "cdr/cdr.h"

#define T0 1700000000123456ull /* 2023-11-14 22:13:20.123456 UTC */

static void ep(struct vs_endpoint *e, const char *ip, uint16_t port)
{
	cr_assert_eq(vs_addr_parse(&e->addr, ip, strlen(ip)), 0);
	e->port = port;
}

/* Leg values: k = 0 for a, 1 for b, so the two differ everywhere. */
static void fill_leg(struct vs_cdr_leg *l, int k)
{
	int i;

	l->present = 1;
	l->dir = (uint8_t)k;
	l->ssrc = 0xdeadbeef + (uint32_t)k;
	l->payload_type = (uint8_t)(8 * k);
	strcpy(l->codec, k ? "PCMA" : "PCMU");
	l->clock_rate = 8000 + (uint32_t)k;
	ep(&l->src, k ? "10.0.0.2" : "10.0.0.1", (uint16_t)(4000 + k));
	ep(&l->dst, k ? "10.0.0.1" : "10.0.0.2", (uint16_t)(5000 + k));
	l->first_us = T0 + 5750000 + (uint64_t)k;
	l->last_us = T0 + 65000000 + (uint64_t)k;
	l->ptime_ms = (uint16_t)(20 + 10 * k);
	l->packets = 2950 + (uint64_t)k;
	l->lost = 12 + (uint64_t)k;
	l->duplicates = 2 + (uint64_t)k;
	l->reordered = 3 + (uint64_t)k;
	l->loss_pct = 0.5 + k;
	l->jitter_mean_ms = 1.25 + k;
	l->jitter_max_ms = 7.5 + k;
	l->mos = 4.25 - k;
	l->r_factor = 90.5 - k;
	for (i = 0; i < VS_CDR_LOSS_BURSTS; i++)
		l->loss_burst[i] = (uint32_t)(i + 1 + 100 * k);
	for (i = 0; i < VS_CDR_DELAY_BUCKETS; i++)
		l->delay[i] = (uint32_t)(200 + i + 100 * k);
	l->dtmf_events = 3 + (uint32_t)k;
	strcpy(l->dtmf, k ? "#*" : "123");
	l->rtcp_packets = 11 + (uint32_t)k;
	l->rtcp_reports = 10 + (uint32_t)k;
	l->rtcp_lost = -1 - k;
	l->rtcp_fraction_lost_max = 2.5 + k;
	l->rtcp_jitter_mean_ms = 3.25 + k;
	l->rtcp_jitter_max_ms = 6.5 + k;
	l->rtcp_rtt_mean_ms = 40.5 + k;
	l->rtcp_rtt_max_ms = 80.25 + k;
}

static void cdr_fill_fields(struct vs_cdr *c, const char *call_id)
{
	memset(c, 0, sizeof(*c));
	c->id_sensor = 7;
	snprintf(c->call_id, sizeof(c->call_id), "%s", call_id);
	strcpy(c->caller, "1001");
	strcpy(c->caller_domain, "a.example");
	strcpy(c->caller_name, "Alice");
	strcpy(c->called, "1002");
	strcpy(c->called_domain, "b.example");
	strcpy(c->called_name, "Bob");
	ep(&c->sip_caller, "10.0.0.1", 5060);
	ep(&c->sip_called, "2001:db8::2", 5062);
	c->calldate_us = T0;
	c->callend_us = T0 + 65500000;
	c->progress_us = T0 + 1250000;
	c->connect_us = T0 + 5500000;
	c->first_rtp_us = T0 + 5750000;
	c->duration_s = 65.5;
	c->connect_duration_s = 60.0;
	c->last_sip_code = 200;
	strcpy(c->last_sip_text, "OK");
	c->whohanged = VS_HANGUP_CALLEE;
	c->end = VS_END_BYE;
	strcpy(c->bye_reason, "Q.850;cause=16");
	strcpy(c->caller_ua, "UA-A");
	strcpy(c->called_ua, "UA-B");
	c->sip_messages = 9;
	c->reinvites = 1;
	strcpy(c->pcap_path, "2023-11-14/22/13/abc.pcap");
	fill_leg(&c->a, 0);
	fill_leg(&c->b, 1);
}

#endif
