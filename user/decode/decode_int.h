/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internals of the decode stage, shared by its files only:
 *   decode.c  decoder object, expiry, stats
 *   link.c    link layers and the ethertype chain (VLAN, MPLS, PPPoE)
 *   ip.c      IPv4/IPv6 headers, IPv6 extension chain, UDP, L4 dispatch
 *   frag.c    IPv4/IPv6 fragment reassembly
 *   tcp.c     TCP flow table and sequence tracking
 *   stream.c  per-flow byte buffer and message framing
 *   table.c   hash table with age list; pool of frame copies */
#ifndef VS_DECODE_INT_H
#define VS_DECODE_INT_H

#include <stdbool.h>

#include "decode/decode.h"

/* Link types, as pcap_datalink() returns them (own copy: no pcap headers in
 * the per-packet code). */
#define VS_DLT_NULL 0
#define VS_DLT_EN10MB 1
#define VS_DLT_RAW 12
#define VS_DLT_RAW_OBSD 14
#define VS_DLT_RAW_LT 101 /* LINKTYPE_RAW, when not mapped to DLT_RAW */
#define VS_DLT_LOOP 108
#define VS_DLT_LINUX_SLL 113
#define VS_DLT_IPV4 228
#define VS_DLT_IPV6 229
#define VS_DLT_LINUX_SLL2 276

#define VS_IP_MAX_NEST 4	  /* IP-in-IP depth we follow */
#define VS_FRAG_MAX_PIECES 128	  /* fragments per datagram */
#define VS_REASM_MAX 65535	  /* largest reassembled IP payload */
#define VS_TCP_GAP_TIMEOUT_MS 5000 /* wait for a missing segment at most */

/* --- table.c: fixed-size keyed entries with an age list ---------------- */

#define VS_DKEY_LEN 36

/* Embedded first in every table entry. The age list runs oldest → newest so
 * that expiry only ever looks at its head. */
struct vs_dnode {
	struct vs_dnode *hnext;
	struct vs_dnode *older, *newer;
	uint64_t hash;
	uint64_t ts_us; /* creation (fragments) or last activity (TCP) */
	uint8_t key[VS_DKEY_LEN];
};

struct vs_dtable {
	struct vs_dnode **buckets;
	uint32_t mask;
	uint32_t count;
	uint32_t max;
	uint64_t seed;
	struct vs_dnode age; /* sentinel: age.newer = oldest */
};

int vs_dtable__init(struct vs_dtable *t, uint32_t max, uint64_t seed);
void vs_dtable__fini(struct vs_dtable *t);
struct vs_dnode *vs_dtable__find(struct vs_dtable *t, const uint8_t *key);
void vs_dtable__insert(struct vs_dtable *t, struct vs_dnode *n, uint64_t ts);
void vs_dtable__remove(struct vs_dtable *t, struct vs_dnode *n);
void vs_dtable__touch(struct vs_dtable *t, struct vs_dnode *n, uint64_t ts);
struct vs_dnode *vs_dtable__oldest(struct vs_dtable *t);

/* A copy of a frame kept past vs_decoder__frame(). Small ones come from a
 * free list so that steady TCP traffic does not call malloc per segment. */
struct vs_held {
	struct vs_held *next_free;
	struct vs_frame f;
	uint8_t bytes[];
};

struct vs_held_pool {
	struct vs_held *free;
	uint32_t nfree;
	uint64_t bytes; /* frame bytes in copies handed out */
};

struct vs_held *vs_held__get(struct vs_held_pool *p, const struct vs_frame *f);
void vs_held__put(struct vs_held_pool *p, struct vs_held *h);
void vs_held_pool__fini(struct vs_held_pool *p);

/* --- the decoder --------------------------------------------------------- */

/* The frames that carried the bytes being decoded: one frame straight off
 * the wire, or every fragment of a reassembled datagram. */
struct vs_carrier {
	const struct vs_frame *const *frames;
	uint32_t nframes;
	uint64_t ts_us;
	uint32_t depth; /* IP-in-IP nesting */
};

/* An IP payload ready for its L4 protocol. */
struct vs_l4pkt {
	struct vs_addr src, dst;
	uint8_t proto;
	const uint8_t *data;
	uint32_t len;	/* captured bytes at data */
	uint32_t cut;	/* bytes of the packet past the capture (snaplen, or
			 * the kernel's RTP header-only copy): UDP only */
};

struct tcp_stream;

struct vs_decoder {
	struct vs_decode_limits lim;
	vs_stream_framer_fn framer;
	vs_datagram_fn out;
	void *out_ctx;
	struct vs_decode_stats *st;
	struct vs_decode_stats own_stats;
	uint64_t seed; /* hash seed of both tables */
	bool tcp_on;
	uint8_t tcp_ports[65536 / 8];

	struct vs_dtable frags;
	uint64_t frag_bytes;

	struct vs_dtable streams;
	uint64_t tcp_bytes; /* unconsumed payload over all flows */
	uint64_t tcp_buf_mem; /* stream buffers and queued segments */
	struct tcp_stream *gap_first, *gap_last; /* by gap_since */

	struct vs_held_pool pool;

	/* Scratch, reused: reassembled datagram and its frames (frag.c),
	 * frame lists of TCP messages (stream.c). Separate because a
	 * reassembled datagram may carry a TCP segment. */
	uint8_t *reasm;
	const struct vs_frame *reasm_frames[VS_FRAG_MAX_PIECES];
	const struct vs_frame **fptrs;
	uint32_t fptrs_cap;
};

static inline uint16_t vs_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t vs_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Grows d->fptrs to hold n pointers; false when out of memory. */
bool vs_decoder__fptrs(struct vs_decoder *d, uint32_t n);

/* link.c */
void vs_link__input(struct vs_decoder *d, const struct vs_frame *f,
		    const struct vs_carrier *c);
void vs_link__ethertype(struct vs_decoder *d, uint16_t type, const uint8_t *p,
			uint32_t len, const struct vs_carrier *c);

/* ip.c */
void vs_ip4__input(struct vs_decoder *d, const uint8_t *p, uint32_t len,
		   const struct vs_carrier *c);
void vs_ip6__input(struct vs_decoder *d, const uint8_t *p, uint32_t len,
		   const struct vs_carrier *c);
/* IPv6 extension chain from next header nh at p (after reassembly too). */
void vs_ip6__chain(struct vs_decoder *d, struct vs_l4pkt *pkt, uint8_t nh,
		   const struct vs_carrier *c, bool reassembled);
void vs_l4__input(struct vs_decoder *d, const struct vs_l4pkt *pkt,
		  const struct vs_carrier *c);

/* frag.c */
struct vs_frag_in {
	bool v6;
	uint32_t id;
	uint8_t proto; /* L4 (IPv4) or next header after the fragment header */
	uint32_t off;  /* bytes */
	bool more;
	const uint8_t *data;
	uint32_t len;
};

int vs_frag__init(struct vs_decoder *d);
void vs_frag__fini(struct vs_decoder *d);
void vs_frag__input(struct vs_decoder *d, const struct vs_l4pkt *ip,
		    const struct vs_frag_in *fr, const struct vs_carrier *c);
void vs_frag__expire(struct vs_decoder *d, uint64_t now_us);

/* tcp.c */
int vs_tcp__init(struct vs_decoder *d);
void vs_tcp__fini(struct vs_decoder *d);
void vs_tcp__input(struct vs_decoder *d, const struct vs_l4pkt *pkt,
		   const struct vs_carrier *c);
void vs_tcp__expire(struct vs_decoder *d, uint64_t now_us);

#endif
