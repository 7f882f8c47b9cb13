/* SPDX-License-Identifier: GPL-2.0-or-later */
/* call/: the call table. SIP messages create and drive calls (keyed by
 * Call-ID); SDP registers the calls' media endpoints; RTP and RTCP datagrams
 * are matched to calls by those endpoints and accounted per stream. When a
 * call ends (BYE answered, CANCEL, final error, timeout, end of input) its CDR
 * is built and handed to the on_end callback, then the call is freed.
 *
 * Time is packet time: every decision (timeouts, grace after BYE) is made
 * from the timestamps of the packets fed in, never from the wall clock, so
 * the same packets give the same CDRs however they are read. */
#ifndef VS_CALL_H
#define VS_CALL_H

#include <stdint.h>
#include <stdio.h>

#include "cdr/cdr.h"
#include "conf/conf.h"
#include "decode/decode.h"
#include "sip/sip.h"

#define VS_CALL_STATS(X)                                                       \
	X(calls_created)                                                        \
	X(calls_ended)                                                          \
	X(calls_timeout)     /* ended by rtptimeout & co */                    \
	X(calls_active_max)  /* high-water mark of concurrent calls */         \
	X(calls_limit)       /* INVITEs refused: max_calls reached */          \
	X(sip_in_call)       /* messages attributed to a call */               \
	X(sip_retrans)       /* retransmissions (not double counted) */        \
	X(sip_no_call)       /* in-dialog message for an unknown Call-ID */    \
	X(sip_register)                                                         \
	X(sip_options)                                                          \
	X(sip_other)         /* other out-of-dialog methods */                 \
	X(sdp_endpoints)     /* media endpoints registered from SDP */         \
	X(rtp_packets)       /* RTP packets matched to a call */               \
	X(rtp_bad)           /* matched endpoint but not valid RTP */          \
	X(rtcp_packets)                                                         \
	X(rtcp_bad)                                                             \
	X(rtcp_partial)      /* RTCP not captured whole (snaplen): skipped */  \
	X(rtp_by_ssrc)       /* RTP matched by SSRC on unannounced endpoints */\
	X(udp_unmatched)     /* UDP not SIP and not a known media endpoint */  \
	X(streams_limit)     /* streams refused: per-call limit reached */

struct vs_call_stats {
#define VS_X(n) uint64_t n;
	VS_CALL_STATS(VS_X)
#undef VS_X
	uint64_t calls_active;
};

struct vs_call;
struct vs_call_table;

/* Called once per ended call with its finished CDR; user is the call's
 * vs_call__user() pointer (e.g. its pcap file), to be released here. */
typedef void (*vs_call_end_fn)(void *ctx, const struct vs_cdr *cdr,
			       void *user);

/* A media endpoint became live (add = 1: the first call announced it) or
 * dead (add = 0: the last call using it ended). Lets the kernel flow table
 * follow the calls. */
typedef void (*vs_media_fn)(void *ctx, const struct vs_endpoint *ep, int add);

struct vs_call_opts {
	const struct vs_conf *conf;
	uint32_t max_calls;	/* 0 = default 1 000 000 */
	uint32_t end_grace_ms;	/* packets still absorbed after the end;
				 * default 5000 */
	vs_call_end_fn on_end;
	void *ctx;
	struct vs_call_stats *stats; /* caller-owned, zeroed */
	struct vs_sip_stats *sip_stats; /* SDP counters go here */
	vs_media_fn on_media;	/* optional */
	void *media_ctx;
	int track_only;		/* RTP/RTCP only keep the call alive: no
				 * streams, no statistics (mirroring sensor) */
};

struct vs_call_table *vs_call_table__new(const struct vs_call_opts *o);
/* Ends every call (VS_END_EOF) through on_end, then frees. */
void vs_call_table__free(struct vs_call_table *t);

/* Sets (fn = NULL: clears) the on_media hook after creation, for the live
 * capture source, which opens after the pipeline and closes before it.
 * Endpoints already live are not replayed. */
void vs_call_table__set_media_fn(struct vs_call_table *t, vs_media_fn fn,
				 void *ctx);

/* Track-only mode (the mirroring sensor, which analyses nothing): SIP still
 * creates, drives and ends calls and registers their media endpoints
 * (on_media), but a matched RTP or RTCP datagram only refreshes its call's
 * last-seen times (rtptimeout) and the rtp_packets / rtcp_packets counters:
 * no streams, no parsing, no jitter or MOS. Set before the first datagram. */
void vs_call_table__set_track_only(struct vs_call_table *t, int on);

/* A parsed SIP message carried by d. Returns the call it belongs to (new or
 * existing), or NULL when it belongs to none (REGISTER, OPTIONS, unknown
 * Call-ID, ...). */
struct vs_call *vs_call_table__sip(struct vs_call_table *t,
				   const struct vs_sip_msg *m,
				   const struct vs_datagram *d,
				   uint16_t id_sensor);

/* A non-SIP UDP datagram: RTP or RTCP of a known media endpoint. Returns the
 * call, or NULL when the endpoints belong to no call. *is_rtp tells which
 * kind it was (for savertp). */
struct vs_call *vs_call_table__udp(struct vs_call_table *t,
				   const struct vs_datagram *d, int *is_rtp);

/* Look-ahead for a datagram still to come whose destination endpoint
 * hashes to hint (vs_ep_hash): stage 0 starts loading its index slot,
 * stage 1 (later) reads the slot and starts loading the call and stream
 * it leads to, so that vs_call_table__udp finds them in cache. Reads
 * nothing it cannot check: a wrong hint costs a wasted prefetch. */
void vs_call_table__ahead(struct vs_call_table *t, int stage, uint32_t hint);

/* Advances packet time: ends calls whose grace or timeouts expired. Cheap to
 * call per packet (does work at most once per second of packet time). */
void vs_call_table__tick(struct vs_call_table *t, uint64_t now_us);

/* Ends all calls now (end of input). */
void vs_call_table__flush(struct vs_call_table *t);

/* Per-call opaque pointer for the next stage (pcap file). */
void *vs_call__user(const struct vs_call *c);
void vs_call__set_user(struct vs_call *c, void *user);
const struct vs_cdr *vs_call__cdr(const struct vs_call *c);

/* Bytes used by calls, streams and tables (for memory statistics). */
size_t vs_call_table__mem(const struct vs_call_table *t);

/* sizeof a call and of one RTP stream's state, for memory figures. */
void vs_call_table__sizes(size_t *call, size_t *stream);

void vs_call_stats__print(const struct vs_call_stats *s, FILE *out);

#endif
