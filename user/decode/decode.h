/* SPDX-License-Identifier: GPL-2.0-or-later */
/* decode/: link layer → IP (with fragment reassembly) → UDP datagrams and
 * SIP-over-TCP messages (with per-flow stream reassembly).
 *
 * The decoder never keeps a pointer into a frame after vs_decoder__frame()
 * returns: what it must wait for (fragments, TCP segments) it copies, within
 * the limits of struct vs_decode_limits. Output goes to one callback as
 * struct vs_datagram, which lists the original frames that carried it so that
 * the per-call pcap can store exactly what was on the wire. */
#ifndef VS_DECODE_H
#define VS_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "capture/frame.h"
#include "core/addr.h"

/* Counters of the decode stage. Each malformed or refused input bumps exactly
 * one named counter. X-macro so names print without a second list. */
#define VS_DECODE_STATS(X)                                                      \
	X(frames)              /* frames offered */                           \
	X(link_unsupported)    /* linktype or ethertype we do not decode */   \
	X(link_truncated)      /* L2 header cut short */                      \
	X(ip_truncated)        /* IP header or total length beyond caplen */  \
	X(ip_bad_header)       /* bad version, IHL, total length */           \
	X(ip6_bad_ext)         /* IPv6 extension header chain malformed */    \
	X(ip_other_proto)      /* neither UDP nor TCP: ignored */             \
	X(frag_fragments)      /* IP fragments seen */                        \
	X(frag_reassembled)    /* datagrams completed from fragments */       \
	X(frag_bad)            /* overlapping/oversized/inconsistent fragments */\
	X(frag_timeout)        /* incomplete datagrams expired */             \
	X(frag_evicted)        /* dropped: fragment memory limit reached */   \
	X(udp_datagrams)       /* UDP datagrams delivered */                  \
	X(udp_bad)             /* UDP header truncated or length wrong */     \
	X(udp_partial)         /* UDP delivered with its end not captured */  \
	X(tcp_segments)        /* TCP segments on SIP ports */                \
	X(tcp_bad)             /* TCP header truncated or bad offset */       \
	X(tcp_other_port)      /* TCP not on a SIP port: ignored */           \
	X(tcp_messages)        /* SIP messages delivered from TCP streams */  \
	X(tcp_retrans)         /* segments entirely already seen */           \
	X(tcp_out_of_order)    /* segments queued ahead of a gap */           \
	X(tcp_gap_skipped)     /* gaps given up on (timeout or limit) */      \
	X(tcp_not_sip)         /* stream bytes the SIP framer rejected */     \
	X(tcp_stream_limit)    /* streams or bytes refused: limits reached */ \
	X(tcp_timeout)         /* idle streams expired */

struct vs_decode_stats {
#define VS_X(n) uint64_t n;
	VS_DECODE_STATS(VS_X)
#undef VS_X
};

/* What comes out: one UDP datagram, or one complete SIP message from a TCP
 * stream. src/dst/ports are the L4 endpoints. */
struct vs_datagram {
	struct vs_endpoint src;
	struct vs_endpoint dst;
	uint8_t proto;		/* IPPROTO_UDP or IPPROTO_TCP */
	const uint8_t *payload; /* valid only during the callback */
	uint32_t len;		/* captured bytes at payload */
	/* UDP only: payload bytes the capture did not keep (0: whole). The
	 * kernel copies RTP only through its header when nothing needs the
	 * audio (savertp = no or header), and a file may have a snaplen;
	 * len + cut is the payload's length on the wire. SIP and RTCP need
	 * the whole datagram; RTP's header is enough. */
	uint32_t cut;
	uint64_t ts_us;		/* time of the frame that completed it */
	/* Original frames that carried these bytes (1 for a plain UDP packet;
	 * every fragment; every TCP segment that contributed bytes: a segment
	 * shared by two messages is listed in both). Valid during callback. */
	const struct vs_frame *const *frames;
	uint32_t nframes;
};

typedef void (*vs_datagram_fn)(void *ctx, const struct vs_datagram *d);

/* Framing of a byte stream into messages, supplied by the SIP stage:
 * returns the length of the complete message at buf (> 0), 0 when more bytes
 * are needed, or -1 when buf does not start with a message (the decoder then
 * drops bytes up to the next line that could start one, and counts it). */
typedef ssize_t (*vs_stream_framer_fn)(const uint8_t *buf, size_t len);

struct vs_decode_limits {
	uint32_t frag_max_datagrams;  /* datagrams being reassembled at once */
	uint32_t frag_max_bytes;      /* bytes held for reassembly, in total */
	uint32_t frag_timeout_ms;     /* incomplete datagram lifetime */
	uint32_t tcp_max_streams;     /* TCP flows tracked at once */
	uint32_t tcp_max_stream_bytes;/* unconsumed bytes per flow (incl. OOO) */
	uint32_t tcp_max_total_bytes; /* unconsumed bytes over all flows */
	uint32_t tcp_timeout_ms;      /* idle flow lifetime */
};

/* Defaults: 4096 datagrams, 16 MiB, 30 s; 65536 streams, 256 KiB/flow,
 * 64 MiB total, 300 s idle. */
void vs_decode_limits__default(struct vs_decode_limits *l);

struct vs_decoder;

struct vs_decoder_opts {
	const uint8_t *sip_tcp_ports; /* bitmap, 65536 bits: TCP ports to
				       * reassemble (sipport); NULL = none */
	vs_stream_framer_fn framer;   /* required when sip_tcp_ports is set */
	vs_datagram_fn out;
	void *out_ctx;
	struct vs_decode_limits limits;
	struct vs_decode_stats *stats; /* caller-owned, zeroed by caller */
};

/* NULL and errno on failure. */
struct vs_decoder *vs_decoder__new(const struct vs_decoder_opts *opts);
void vs_decoder__free(struct vs_decoder *d);

/* Decodes one frame; emits zero or more datagrams through opts.out before it
 * returns. Never fails: bad input is counted. Also expires fragments and
 * streams older than the limits relative to f->ts_us. */
void vs_decoder__frame(struct vs_decoder *d, const struct vs_frame *f);

/* Expire state idle since before now_us - timeout (also called at EOF with
 * UINT64_MAX to flush: TCP streams then deliver what they can frame). */
void vs_decoder__expire(struct vs_decoder *d, uint64_t now_us);

/* Bytes currently held (fragments + TCP), for memory statistics. */
size_t vs_decoder__mem(const struct vs_decoder *d);

void vs_decode_stats__print(const struct vs_decode_stats *s, FILE *out);

#endif
