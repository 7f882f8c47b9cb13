/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to call/: the call, its media endpoints and streams. */
#ifndef VS_CALL_INT_H
#define VS_CALL_INT_H

#include "call/call.h"
#include "call/epidx.h"
#include "call/rtp.h"
#include "core/slab.h"

#define VS_CALL_MAX_MEDIA 12	/* endpoints per call (RTP+RTCP, re-INVITEs) */
#define VS_CALL_MAX_PT 8	/* payload types remembered per side */
#define VS_CALL_MAX_STREAMS 8	/* RTP streams (SSRC, src, dst) per call */
#define VS_CALL_SIG_RING 16	/* recent message signatures (retransmits) */
#define VS_CALL_TAG_MAX 48

enum vs_side { VS_SIDE_CALLER = 0, VS_SIDE_CALLEE = 1 };

struct vs_pt_map {
	uint8_t pt;
	uint8_t is_event;	/* telephone-event */
	uint8_t is_video;
	char name[13];
	uint32_t clock;
};

struct vs_call_stream;

/* One endpoint announced in SDP. The index (epidx) points at the newest
 * registration of each endpoint; older ones of the same endpoint (another
 * call, or the same call for the other side or RTCP) hang from it through
 * snext and become visible again when it goes. */
struct vs_media_ent {
	struct vs_media_ent *snext;	/* older registration, same endpoint */
	struct vs_call *call;
	struct vs_endpoint ep;
	uint8_t side;		/* who announced it, i.e. who receives there */
	uint8_t is_rtcp;
	uint8_t is_video;
};

/* Aligned to a cache line, the fields every RTP packet touches first: the
 * identity stream_find compares and then the hot head of rtp (see rtp.h) in
 * the first two lines. Live, each further line is a cache miss. */
struct vs_call_stream {
	uint32_t ssrc;
	struct vs_endpoint src, dst;
	struct vs_rtp_stream rtp;
	struct vs_call_stream *next;
	struct vs_call_stream *ssrc_next;	/* SSRC index chain */
	struct vs_call *call;
	uint8_t dir;		/* 0: a (sent by the caller), 1: b */
	uint8_t is_video;
	uint8_t by_ssrc;	/* joined by SSRC, not by an SDP endpoint */
	char codec[16];
	struct vs_rtcp_stats rtcp;
} __attribute__((aligned(64)));

/* Aligned to a cache line: the first line holds the list links and the
 * times, all that an RTP packet writes (last_us, last_rtp_us) and all that
 * the timeout sweep reads, so a packet dirties one line of its call. */
struct vs_call {
	struct vs_call *hnext;		/* Call-ID hash chain */
	struct vs_call *prev, *next;	/* list of all calls */
	uint64_t hash;
	uint64_t last_sip_us, last_rtp_us, last_us;
	uint64_t end_at_us;		/* finalise at this time; 0 = open */
	/* second line on */
	uint32_t invite_cseq;
	uint8_t answered, bye_seen, cancel_seen;
	uint8_t caller_tag_len;
	char caller_tag[VS_CALL_TAG_MAX];
	uint32_t sig[VS_CALL_SIG_RING];
	uint8_t sig_next;
	uint8_t npt[2];
	uint8_t nmedia;
	uint8_t nstreams;
	struct vs_pt_map pt[2][VS_CALL_MAX_PT];
	struct vs_media_ent media[VS_CALL_MAX_MEDIA];
	struct vs_call_stream *streams;
	void *user;
	struct vs_cdr cdr;	/* filled as the call goes; legs at the end */
} __attribute__((aligned(64)));

struct vs_call_table {
	struct vs_call_opts o;
	struct vs_call **calls;		/* Call-ID buckets */
	uint32_t calls_mask;
	struct vs_epidx media;		/* endpoint index */
	uint32_t nmedia;		/* registrations */
	struct vs_call_stream **ssrc;	/* SSRC buckets (fallback match) */
	uint32_t ssrc_mask;
	uint32_t nssrc;
	struct vs_call *head;		/* all calls, newest first */
	/* struct vs_call and vs_call_stream, packed in huge pages: an RTP
	 * packet then touches a few TLB entries for all calls (core/slab.h) */
	struct vs_slab call_slab, stream_slab;
	uint64_t now_us, next_tick_us;
	size_t mem;
};

/* call.c */
struct vs_call *vs_call__find(struct vs_call_table *t, const char *id,
			      uint32_t len, uint64_t hash);
struct vs_call *vs_call__create(struct vs_call_table *t, const char *id,
				uint32_t len, uint64_t hash);
void vs_call__end_at(struct vs_call *c, uint64_t at_us, enum vs_cdr_end how);

/* media.c */
void vs_media__register(struct vs_call_table *t, struct vs_call *c,
			uint8_t side, const struct vs_endpoint *ep,
			uint8_t is_rtcp, uint8_t is_video);
void vs_media__unregister_all(struct vs_call_table *t, struct vs_call *c);
void vs_media__free_streams(struct vs_call_table *t, struct vs_call *c);
struct vs_cdr_leg *vs_media__fill_legs(struct vs_call *c);

/* ssrc.c */
int vs_ssrc__init(struct vs_call_table *t);
void vs_ssrc__add(struct vs_call_table *t, struct vs_call_stream *s);
void vs_ssrc__del(struct vs_call_table *t, struct vs_call_stream *s);
struct vs_call_stream *vs_ssrc__find(const struct vs_call_table *t,
				     uint32_t ssrc);

/* Copies a view into a fixed buffer, truncating, always NUL-terminated. */
void vs_strcpy_view(char *dst, size_t size, const struct vs_str *s);

#endif
