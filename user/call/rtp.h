/* SPDX-License-Identifier: GPL-2.0-or-later */
/* call/rtp: RTP header parsing and per-stream statistics (RFC 3550 sequence
 * accounting and interarrival jitter, loss bursts, delay variation buckets,
 * RFC 4733 DTMF), summarised into a struct vs_cdr_leg. */
#ifndef VS_RTP_H
#define VS_RTP_H

#include <stddef.h>
#include <stdint.h>

#include "cdr/cdr.h"

struct vs_rtp_hdr {
	uint8_t version, padding, extension, csrc_count, marker, pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	const uint8_t *payload; /* after CSRCs and extension, before padding */
	uint32_t payload_len;	/* bytes of it captured */
};

/* 0, or -EINVAL when buf is not a plausible RTP packet (version != 2,
 * truncated header/CSRC/extension, bad padding, RTCP payload type 72-76). */
int vs_rtp__parse(const uint8_t *buf, size_t len, struct vs_rtp_hdr *h);
/* The same for a packet whose last `cut` bytes were not captured (struct
 * vs_datagram's cut): the header must be whole; the padding, at the end,
 * is then unknown, and payload_len counts what was captured. */
int vs_rtp__parse_cut(const uint8_t *buf, size_t len, size_t cut,
		      struct vs_rtp_hdr *h);

/* True when buf looks like RTCP (version 2, packet type 200-207). */
int vs_rtcp__is_rtcp(const uint8_t *buf, size_t len);

/* Per-stream state. Embed it; initialise with vs_rtp_stream__init. The
 * fields are private to rtp.c (kept here so callers can embed it). */
struct vs_rtp_stream {
	/* Read or written by every packet, first and in 88 bytes: after the
	 * 40-byte identity in struct vs_call_stream they end at its second
	 * cache line's end (checked in media.c). */
	uint32_t received;
	uint32_t clock_rate;	/* of the audio payload, Hz */
	uint32_t max_ext_seq;	/* sequence accounting (RFC 3550 A.1 style,
				 * extended to 32 bits) */
	uint32_t last_rtp_ts;
	uint32_t ptime_ts;	/* most common timestamp step seen */
	uint32_t jitter_n;
	int have_transit;
	uint8_t event_pt;	/* telephone-event PT, 0xff = none known */
	uint64_t seen_window;	/* bitmap of the last 64 seqs, for dup check */
	uint64_t last_us;
	uint64_t last_arrival_us;
	int64_t last_transit;	/* arrival (ts units) - rtp ts */
	/* jitter (RFC 3550 6.4.1), in timestamp units */
	double jitter, jitter_max, jitter_sum;
	/* the rest: first packet, loss, reordering, DTMF */
	uint32_t ssrc;
	uint8_t pt;		/* first audio payload type */
	uint64_t first_us;
	uint32_t base_ext_seq;
	uint32_t duplicates, reordered;
	/* loss bursts and delay variation */
	uint32_t loss_burst[VS_CDR_LOSS_BURSTS];
	uint32_t delay[VS_CDR_DELAY_BUCKETS];
	/* DTMF */
	uint32_t dtmf_events;
	uint32_t dtmf_last_ts;	/* rtp ts of the event being reported */
	int dtmf_active;
	char dtmf[33];
};

/* event_pt: payload type negotiated as telephone-event, 0xff if none. */
void vs_rtp_stream__init(struct vs_rtp_stream *s, uint32_t ssrc, uint8_t pt,
			 uint32_t clock_rate, uint8_t event_pt);

/* Accounts one packet that arrived at arrival_us. */
void vs_rtp_stream__packet(struct vs_rtp_stream *s, const struct vs_rtp_hdr *h,
			   uint64_t arrival_us);

/* Fills the RTP fields of out (present, ssrc, pt, clock_rate, first/last,
 * ptime, packets, lost, duplicates, reordered, loss_pct, jitter, bursts,
 * delay, dtmf, mos, r_factor). codec/src/dst/RTCP fields are the caller's. */
void vs_rtp_stream__summary(const struct vs_rtp_stream *s,
			    const char *codec, struct vs_cdr_leg *out);

/* G.107 BurstR of a summarised leg (1.0 for random or no loss). */
double vs_cdr_leg__burst_ratio(const struct vs_cdr_leg *l);

/* RTCP (RFC 3550 6.4): what we keep from one compound packet. */
#define VS_RTCP_MAX_BLOCKS 8
struct vs_rtcp_block {
	uint32_t ssrc;		/* source the report is about */
	uint8_t fraction_lost;	/* /256 */
	int32_t cum_lost;	/* 24-bit signed */
	uint32_t ext_max_seq;
	uint32_t jitter;	/* timestamp units */
	uint32_t lsr, dlsr;	/* 16.16 fixed point seconds */
};

struct vs_rtcp_info {
	uint32_t sender_ssrc;	/* of the first SR/RR */
	int has_sr;
	uint32_t sr_ntp_mid;	/* middle 32 bits of the SR NTP timestamp */
	uint8_t n_blocks;
	struct vs_rtcp_block blocks[VS_RTCP_MAX_BLOCKS];
};

/* Parses a compound RTCP packet. 0, or -EINVAL if malformed (lengths that
 * overrun, wrong version). Unknown packet types inside are skipped. */
int vs_rtcp__parse(const uint8_t *buf, size_t len, struct vs_rtcp_info *out);

/* Round-trip time as seen from the capture point: an RR's (LSR, DLSR) is
 * matched to the capture time of the SR it references. Keeps the last few
 * SR times per sender. */
#define VS_RTCP_SR_HISTORY 4
struct vs_rtcp_sr_seen {
	uint32_t ntp_mid;
	uint64_t seen_us;
};

struct vs_rtcp_stats {
	uint32_t packets;
	uint32_t reports;
	int64_t last_cum_lost;
	double fraction_lost_max;	/* % */
	double jitter_sum_ms, jitter_max_ms;
	double rtt_sum_ms, rtt_max_ms;
	uint32_t rtt_n;
	struct vs_rtcp_sr_seen sr[VS_RTCP_SR_HISTORY]; /* SRs sent by the
							* stream's sender */
	uint8_t sr_next;
};

/* The stream's sender sent an SR captured at seen_us. */
void vs_rtcp_stats__sr(struct vs_rtcp_stats *st, uint32_t ntp_mid,
		       uint64_t seen_us);
/* A report block about the stream arrived at seen_us; clock_rate converts
 * jitter to ms. */
void vs_rtcp_stats__block(struct vs_rtcp_stats *st,
			  const struct vs_rtcp_block *b, uint32_t clock_rate,
			  uint64_t seen_us);
/* Copies the RTCP figures into out (rtcp_* fields). */
void vs_rtcp_stats__summary(const struct vs_rtcp_stats *st,
			    struct vs_cdr_leg *out);

/* ITU-T G.107 E-model (see docs/cdr.md for the variant): R from codec
 * impairment (Ie, Bpl per G.113 App. I), packet loss %, burst ratio and
 * one-way delay in ms; MOS from R. Unknown codecs use G.711's values. */
double vs_mos__r_factor(const char *codec, double loss_pct, double burst_ratio,
			double delay_ms);
double vs_mos__from_r(double r);

#endif
