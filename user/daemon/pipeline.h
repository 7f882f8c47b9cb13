/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The all-in-one pipeline: frame → filter → decode → SIP / media → calls →
 * CDR stores and per-call pcaps. One instance per daemon; all its state,
 * counters included, lives in struct vs_pipeline. */
#ifndef VS_PIPELINE_H
#define VS_PIPELINE_H

#include <pcap/pcap.h>

#include "call/call.h"
#include "capture/frame.h"
#include "capture/frame_filter.h"
#include "cdr/store.h"
#include "conf/conf.h"
#include "decode/decode.h"
#include "sip/sip.h"
#include "spool/pcap_spool.h"

#define VS_PIPE_STATS(X)                                                       \
	X(frames)                                                               \
	X(filtered)        /* refused by the `filter` expression */            \
	X(ip_filtered)     /* refused by interface_ip_filter */                \
	X(duplicates)      /* deduplicate: UDP datagram seen twice */          \
	X(sip_datagrams)   /* datagrams/messages on a SIP port parsed as SIP */\
	X(sip_partial)     /* SIP datagrams not captured whole: snaplen */     \
	X(cdrs)            /* CDRs produced */                                 \
	X(cdr_skipped)     /* cdr_check_exists_callid: already stored */       \
	X(cdr_errors)      /* a store refused a CDR */

struct vs_pipe_stats {
#define VS_X(n) uint64_t n;
	VS_PIPE_STATS(VS_X)
#undef VS_X
};

#define VS_PIPE_MAX_STORES 2
#define VS_PIPE_DEDUP_SLOTS 4096	/* recent datagrams remembered */
#define VS_PIPE_DEDUP_US 50000		/* a copy within 50 ms is one */

struct vs_pipe_seen {
	uint64_t hash;
	uint64_t ts_us;
};

struct vs_pipeline {
	const struct vs_conf *conf;
	struct vs_decoder *dec;
	struct vs_call_table *calls;
	struct vs_spool *spool;
	struct vs_cdr_store *stores[VS_PIPE_MAX_STORES];
	int nstores;
	struct vs_frame_filter filter;	/* the `filter` key */
	uint16_t cur_sensor;	/* id_sensor of the frame being decoded */
	int frame_refused;	/* the last frame fed was refused by filter
				 * or interface_ip_filter (a mirroring
				 * sensor does not send it) */
	int track_only;		/* mirroring sensor: calls tracked, nothing
				 * saved (vs_pipeline__set_track_only) */
	int dirty;		/* CDRs inserted since the last store flush */
	uint64_t next_flush_us;	/* packet time of the next flush */
	size_t mem_peak;	/* call table bytes at its peak */
	uint64_t calls_at_peak;
	struct vs_pipe_seen *seen;	/* deduplicate = yes only */
	struct vs_pipe_stats st;
	struct vs_decode_stats dst;
	struct vs_sip_stats sst;
	struct vs_call_stats cst;
	struct vs_spool_stats spst;
};

/* Sets up the stages from conf. Stores are added by the caller after, with
 * vs_pipeline__add_store. 0 or -errno (logged). */
int vs_pipeline__init(struct vs_pipeline *p, const struct vs_conf *conf);
int vs_pipeline__add_store(struct vs_pipeline *p, struct vs_cdr_store *s);

/* The mirroring sensor's pipeline: SIP parsed and calls tracked, so that
 * their media endpoints reach the kernel flow table (on_media) and leave it
 * when the calls end or time out, but RTP and RTCP only keep calls alive
 * (vs_call_table__set_track_only) and no per-call pcap is written. Add no
 * store. Call before the first frame. */
void vs_pipeline__set_track_only(struct vs_pipeline *p);

/* The vs_frame_fn every capture source feeds. Always 0. */
int vs_pipeline__frame(void *ctx, const struct vs_frame *f);

/* A vs_live_opts ahead callback: the call table prefetches what an
 * RTP/RTCP frame still in the ring will need (vs_call_table__ahead). */
void vs_pipeline__ahead(void *ctx, int stage, uint32_t hint);

/* Time passes without frames (live capture, wall clock): ends calls whose
 * timers ran out and commits finished CDRs. Also run for every frame. */
void vs_pipeline__idle(struct vs_pipeline *p, uint64_t now_us);

/* Commits the CDRs finished so far (the central server's mirror pipeline
 * calls it on wall time, as its packet time may stand still). */
void vs_pipeline__commit(struct vs_pipeline *p);

/* End of input: flush reassembly, end every call, flush stores. */
void vs_pipeline__finish(struct vs_pipeline *p);
/* Frees everything, stores included. */
void vs_pipeline__free(struct vs_pipeline *p);

/* All counters as "stage.name value" lines. */
void vs_pipeline__print_stats(const struct vs_pipeline *p, FILE *out);

#endif
