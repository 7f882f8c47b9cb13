/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cdr/: the call detail record, the one thing every store writes. Column by
 * column documentation: docs/cdr.md. Times are microseconds since the epoch
 * (0 = did not happen); strings are NUL-terminated and truncated to fit. */
#ifndef VS_CDR_H
#define VS_CDR_H

#include <stdint.h>

#include "core/addr.h"

#define VS_CDR_LOSS_BURSTS 10 /* bursts of 1..9 packets, and 10 or more */
#define VS_CDR_DELAY_BUCKETS 7 /* PDV 50,70,90,120,150,200,300+ ms */

/* Upper edges (ms) of the delay buckets, VoIPmonitor's d50..d300. */
#define VS_CDR_DELAY_EDGES { 50, 70, 90, 120, 150, 200, 300 }

enum vs_cdr_hangup { VS_HANGUP_UNKNOWN = 0, VS_HANGUP_CALLER, VS_HANGUP_CALLEE };

enum vs_cdr_end {
	VS_END_BYE = 0,	  /* BYE answered (or seen) */
	VS_END_CANCEL,	  /* CANCEL before answer */
	VS_END_ERROR,	  /* final 3xx-6xx to the INVITE */
	VS_END_TIMEOUT,	  /* rtptimeout / sipwithoutrtptimeout / absolute */
	VS_END_EOF,	  /* still open when the input ended */
};

/* One direction of media. a = sent by the caller, b = sent by the callee. */
struct vs_cdr_leg {
	int present;		/* 0: no RTP seen in this direction */
	uint32_t ssrc;
	uint8_t payload_type;	/* first audio payload type */
	char codec[16];		/* "PCMU", "G729", ... */
	uint32_t clock_rate;
	struct vs_endpoint src, dst;
	uint64_t first_us, last_us;
	uint16_t ptime_ms;	/* observed packetisation time */
	uint64_t packets;	/* received, duplicates included (as tshark) */
	uint64_t lost;		/* expected - unique received, >= 0 */
	uint64_t duplicates;
	uint64_t reordered;	/* arrived after a higher sequence number */
	double loss_pct;	/* lost / expected * 100 */
	double jitter_mean_ms;	/* RFC 3550 jitter, mean over packets */
	double jitter_max_ms;	/* RFC 3550 jitter, maximum */
	double mos;		/* G.107 E-model, see docs/cdr.md */
	double r_factor;
	uint32_t loss_burst[VS_CDR_LOSS_BURSTS];
	uint32_t delay[VS_CDR_DELAY_BUCKETS];
	uint32_t dtmf_events;	/* RFC 4733 events (digits) seen */
	char dtmf[33];		/* the digits, in order */
	/* RTCP receiver reports about this stream (sent by the other side). */
	uint32_t rtcp_packets;	/* RTCP packets from this leg's sender */
	uint32_t rtcp_reports;	/* report blocks about this leg's SSRC */
	int64_t rtcp_lost;	/* last cumulative lost reported */
	double rtcp_fraction_lost_max; /* %, max over reports */
	double rtcp_jitter_mean_ms;
	double rtcp_jitter_max_ms;
	double rtcp_rtt_mean_ms;	/* 0 when no LSR/DLSR pair matched */
	double rtcp_rtt_max_ms;
	uint8_t dir;		/* 0: sent by the caller (a), 1: by the callee */
};

struct vs_cdr {
	uint16_t id_sensor;
	char call_id[256];
	char caller[64], caller_domain[128], caller_name[64];
	char called[64], called_domain[128], called_name[64];
	struct vs_endpoint sip_caller;	/* source of the first INVITE */
	struct vs_endpoint sip_called;	/* its destination */
	uint64_t calldate_us;		/* first INVITE */
	uint64_t callend_us;		/* last packet of the call */
	uint64_t progress_us;		/* first 18x */
	uint64_t connect_us;		/* first 2xx to the INVITE */
	uint64_t first_rtp_us;
	double duration_s;		/* callend - calldate */
	double connect_duration_s;	/* callend - connect, 0 if unanswered */
	int last_sip_code;		/* last final (or last) response code */
	char last_sip_text[64];
	enum vs_cdr_hangup whohanged;
	enum vs_cdr_end end;
	char bye_reason[128];		/* Reason header of BYE or CANCEL */
	char caller_ua[128], called_ua[128];
	uint32_t sip_messages;		/* messages of this call, w/o retransmits */
	uint32_t reinvites;
	struct vs_cdr_leg a, b;
	char pcap_path[512];		/* relative to spooldir; "" if none */
	/* Every RTP stream of the call, a and b included, for per-stream
	 * tables and checks. Valid only while the CDR is being stored. */
	uint32_t n_streams;
	const struct vs_cdr_leg *streams;
};

const char *vs_cdr_end__name(enum vs_cdr_end e);
const char *vs_cdr_hangup__name(enum vs_cdr_hangup h);

#endif
