// SPDX-License-Identifier: GPL-2.0-or-later
/* voxsense capture programs. Every frame is parsed once and classified:
 * SIP (sipport), RTP/RTCP of a live call (media map), fragments of passed
 * datagrams (frags map), tunnel carriers (tun_ports, tun_protos). What passes is copied
 * to this CPU's ring buffer (copy mode: XDP on receive, TC on egress; the
 * frame goes on untouched) or redirected to the RX queue's AF_XDP socket
 * (afxdp mode: the rest is dropped). Every frame ends in one verdict,
 * counted per CPU. */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "maps.h"
#include "parse.h"
#include "vs_kern_user.h"

char LICENSE[] SEC("license") = "GPL";

/* SIP (and fragments, which are mostly large SIP) wakes the reader at
 * once: the SDP in a 200 OK must reach the media map before the RTP that
 * follows it reaches XDP, and the reader's 100 ms poll is far longer than
 * that gap. SIP is a few frames per call, so the wakeups cost little.
 * Other frames wake it only when a quarter of the ring waits (cfg's
 * wake_bytes): batching keeps the cost per frame low, and the reader
 * polls every 100 ms anyway. */
static __always_inline int wakes_now(int v)
{
	return v == VS_KCNT_sip || v == VS_KCNT_fragment ||
	       v == VS_KCNT_frag_unknown;
}

static __always_inline int port_bit(const struct vs_port_bits *pb, __be16 p)
{
	__u16 h = bpf_ntohs(p);

	return (pb->b[(h >> 3) & 8191] >> (h & 7)) & 1;
}

/* Whether p's 1024-port range holds any port of the bitmap summed in sum
 * (struct vs_port_sum): a register test before the bitmap's line. */
static __always_inline int in_sum(__u64 sum, __be16 p)
{
	return (sum >> (bpf_ntohs(p) >> 10)) & 1;
}

/* Port p's bit in pb, looked at only when its range has one. */
static __always_inline int port_in(const struct vs_port_bits *pb, __u64 sum,
				   __be16 p)
{
	return in_sum(sum, p) && port_bit(pb, p);
}

static __always_inline int ip_allowed(const struct pkt *p)
{
	struct vs_lpm_key k = { .prefixlen = 128 };
	__u32 zero = 0;
	struct vs_kcfg *c = bpf_map_lookup_elem(&cfg, &zero);

	if (!c || !c->ipfilter)
		return 1;
	__builtin_memcpy(k.addr, p->src.addr, 16);
	if (bpf_map_lookup_elem(&ipfilter, &k))
		return 1;
	__builtin_memcpy(k.addr, p->dst.addr, 16);
	return bpf_map_lookup_elem(&ipfilter, &k) != NULL;
}

/* Built only for fragments: zeroing a key on every frame would cost the
 * unrelated ones. */
static __always_inline void frag_key(struct vs_frag_key *k,
				     const struct pkt *p)
{
	__builtin_memcpy(k->src, p->src.addr, 16);
	__builtin_memcpy(k->dst, p->dst.addr, 16);
	k->id = p->frag_id;
	k->proto = p->frag_proto;
	k->pad[0] = 0;
	k->pad[1] = 0;
	k->pad[2] = 0;
}

/* RTCP packet types are 200-207 with version 2 (RFC 5761 keeps RTP
 * payload types out of that range when multiplexed). */
static __always_inline int is_rtcp(__u8 first, __u8 second)
{
	return (first & 0xc0) == 0x80 && second >= 200 && second <= 207;
}

/* IPv4 address v4 (network order) on port is its port's media_one slot:
 * one array read. */
static __always_inline int media_slot_v4(__be16 port, __be32 v4)
{
	__u32 p = bpf_ntohs(port), k = p >> 1;
	struct vs_media_slot *sl = bpf_map_lookup_elem(&media_one, &k);

	if (!sl || !v4)
		return 0;
	return *(__u32 *)(p & 1 ? sl->odd : sl->even) == v4;
}

/* The endpoint is its port's media_one slot (IPv6 never is). */
static __always_inline int media_slot_is(const struct vs_media_key *ep)
{
	const __u32 *a = (const __u32 *)ep->addr;

	return !a[0] && !a[1] && a[2] == bpf_htonl(0xffff) &&
	       media_slot_v4(ep->port, a[3]);
}

/* Is this (address, port) a live media endpoint? The port's bit in
 * media_ports first: it turns away nearly all other UDP without hashing
 * the 20-byte key; then the port's slot, then the hash. */
static __always_inline int media_live(const struct vs_port_bits *mp,
				      __u64 sum, const struct vs_media_key *ep)
{
	return port_in(mp, sum, ep->port) &&
	       (media_slot_is(ep) || bpf_map_lookup_elem(&media, ep));
}

/* What a passed frame's record needs besides its verdict. */
struct pass {
	__u32 hint; /* RTP/RTCP: struct vs_ring_hdr's hint */
	__u32 head; /* RTP: rtp_head_len(); 0 for other frames */
};

/* Bytes of the frame up to the end of its RTP header (fixed part, CSRCs,
 * extension) plus VS_RTP_KEEP bytes of payload: all the daemon reads of an
 * RTP packet when nothing needs the audio (cfg's rtp_head). pos is the UDP
 * payload, first its byte 0. 0 when the header is not all in the frame. */
static __always_inline __u32 rtp_head_len(void *data, void *pos, void *end,
					  __u8 first)
{
	__u32 off = 12 + 4 * (first & 15);
	__u8 *x;

	if (first & 0x10) { /* X: a 4-byte extension header, then its words */
		x = pos + off;
		if ((void *)(x + 4) > end)
			return 0;
		off += 4 + 4 * ((__u32)x[2] << 8 | x[3]);
	}
	return (__u32)(pos - data) + off + VS_RTP_KEEP;
}

/* L4 decision for a frame that carries its UDP/TCP header. The array
 * lookups cannot fail (one element, key 0); the checks satisfy the
 * verifier. RTP/RTCP also sets out->hint. */
static __always_inline int classify_l4(struct pkt *p, struct pass *out)
{
	__u32 zero = 0;
	struct vs_port_sum *ps = bpf_map_lookup_elem(&port_sum, &zero);
	struct vs_port_bits *pb = bpf_map_lookup_elem(&sip_ports, &zero);

	if (!ps)
		return VS_KCNT_not_voip;
	if (pb && (port_in(pb, ps->sip, p->src.port) ||
		   port_in(pb, ps->sip, p->dst.port)))
		return VS_KCNT_sip;
	if (p->proto != IPPROTO_UDP)
		return VS_KCNT_not_voip;
	/* RTP and RTCP are version 2: anything else skips the media test.
	 * The announcer receives on its endpoint: destination first. */
	pb = bpf_map_lookup_elem(&media_ports, &zero);
	if (pb && (p->l4_first & 0xc0) == 0x80 &&
	    (media_live(pb, ps->media, &p->dst) ||
	     media_live(pb, ps->media, &p->src))) {
		/* The daemon looks the destination up first. */
		out->hint = vs_ep_hash(p->dst.addr, bpf_ntohs(p->dst.port));
		return is_rtcp(p->l4_first, p->l4_second) ? VS_KCNT_rtcp
							  : VS_KCNT_rtp;
	}
	pb = bpf_map_lookup_elem(&tun_ports, &zero);
	if (pb && (port_in(pb, ps->tun, p->src.port) ||
		   port_in(pb, ps->tun, p->dst.port)))
		return VS_KCNT_tunnel;
	return VS_KCNT_not_voip;
}

/* RTP or RTCP of the quick path's frame (see quick()) sent to a live
 * endpoint that is its port's media_one slot, with no SIP port range
 * involved and no interface_ip_filter: what classify() would decide, in
 * fewer lines of code. -1 when unsure. */
static __always_inline int quick_media(void *data, void *end, struct iphdr *ip,
				       const struct vs_port_sum *ps,
				       struct pass *out)
{
	struct udphdr *udp = (void *)(ip + 1);
	struct vs_media_key k = {};
	struct vs_port_bits *mp;
	__u8 *b = (void *)(udp + 1);
	struct vs_kcfg *c;
	__u32 zero = 0;

	if ((void *)(b + 2) > end || (b[0] & 0xc0) != 0x80 ||
	    in_sum(ps->sip, udp->source) || in_sum(ps->sip, udp->dest))
		return -1;
	c = bpf_map_lookup_elem(&cfg, &zero);
	mp = bpf_map_lookup_elem(&media_ports, &zero);
	if (!c || c->ipfilter || !mp || !port_in(mp, ps->media, udp->dest) ||
	    !media_slot_v4(udp->dest, ip->daddr))
		return -1;
	addr_from_v4(k.addr, ip->daddr);
	k.port = udp->dest;
	out->hint = vs_ep_hash(k.addr, bpf_ntohs(k.port));
	if (is_rtcp(b[0], b[1]))
		return VS_KCNT_rtcp;
	out->head = rtp_head_len(data, b, end, b[0]);
	return VS_KCNT_rtp;
}

/* The common cases of a busy host in few instructions: an untagged IPv4
 * TCP or UDP packet, no options, not a fragment. Neither port in a
 * 1024-port range that holds a SIP, media or tunnel port (struct
 * vs_port_sum): not_voip; UDP to a live endpoint: quick_media(). classify()
 * would decide the same after parsing the frame in full, but the program
 * is 6 KB of code that the stack evicts from the instruction cache between
 * two frames: in traffic, what a frame costs is mostly the cache lines
 * its path touches, not its instructions. -1 when unsure: classify()
 * decides. */
static __always_inline int quick(void *data, void *end, struct pass *out)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__be16 *ports = (void *)(ip + 1);
	struct vs_port_sum *ps;
	__u32 zero = 0, l4;
	__u64 any;

	if ((void *)(ports + 2) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    *(__u8 *)ip != 0x45 || ip->frag_off & bpf_htons(0x3fff))
		return -1;
	if (ip->protocol == IPPROTO_TCP)
		l4 = sizeof(struct tcphdr);
	else if (ip->protocol == IPPROTO_UDP)
		l4 = sizeof(struct udphdr);
	else
		return -1;
	/* parse_l4 calls a shorter header malformed */
	if ((void *)ip + sizeof(*ip) + l4 > end)
		return -1;
	ps = bpf_map_lookup_elem(&port_sum, &zero);
	if (!ps)
		return -1;
	any = ps->sip | ps->media | ps->tun;
	if (!in_sum(any, ports[0]) && !in_sum(any, ports[1]))
		return VS_KCNT_not_voip;
	if (ip->protocol != IPPROTO_UDP)
		return -1;
	return quick_media(data, end, ip, ps, out);
}

static __always_inline int is_pass(int v)
{
	return v == VS_KCNT_sip || v == VS_KCNT_rtp || v == VS_KCNT_rtcp ||
	       v == VS_KCNT_fragment || v == VS_KCNT_frag_unknown ||
	       v == VS_KCNT_tunnel;
}

/* An IP protocol other than UDP and TCP: a tunnel carrier or nothing. */
static __always_inline int classify_proto(const struct pkt *p)
{
	__u32 zero = 0;
	struct vs_proto_bits *pb = bpf_map_lookup_elem(&tun_protos, &zero);

	if (pb && (pb->b[(p->proto >> 3) & 31] >> (p->proto & 7)) & 1)
		return VS_KCNT_tunnel;
	return VS_KCNT_not_voip;
}

/* A later fragment (no L4 header): the verdict of its first. */
static __always_inline int frag_later(const struct pkt *p)
{
	struct vs_frag_key k;
	__u8 *seen;

	frag_key(&k, p);
	seen = bpf_map_lookup_elem(&frags, &k);
	/* Before its first fragment: pass it, userspace reassembles or
	 * drops it; losing it would lose the whole datagram. */
	if (!seen)
		return VS_KCNT_frag_unknown;
	return *seen ? VS_KCNT_fragment : VS_KCNT_not_voip;
}

/* A first fragment: its verdict, for the fragments that follow. */
static __always_inline void frag_first(const struct pkt *p, int v)
{
	struct vs_frag_key k;
	__u8 pass = is_pass(v);

	frag_key(&k, p);
	bpf_map_update_elem(&frags, &k, &pass, BPF_ANY);
}

/* The whole decision for one frame: a VS_KCNT_* verdict (and what its
 * record needs, in *out). */
static __always_inline int classify(void *data, void *data_end,
				    struct pass *out)
{
	struct cursor c = { .pos = data, .end = data_end };
	struct pkt p = {};
	__be16 eth_proto;
	int v, l4;

	if (parse_eth(&c, &eth_proto) < 0)
		return VS_KCNT_malformed;
	if (eth_proto == bpf_htons(ETH_P_IP))
		l4 = parse_ipv4(&c, &p);
	else if (eth_proto == bpf_htons(ETH_P_IPV6))
		l4 = parse_ipv6(&c, &p);
	else
		return VS_KCNT_not_ip;
	if (l4 < 0)
		return VS_KCNT_malformed;

	if (p.frag == FRAG_LATER) {
		v = frag_later(&p);
	} else {
		l4 = parse_l4(&c, &p);
		if (l4 < 0)
			return VS_KCNT_malformed;
		v = l4 ? classify_proto(&p) : classify_l4(&p, out);
		if (v == VS_KCNT_rtp)
			out->head = rtp_head_len(data, c.pos, c.end,
						 p.l4_first);
	}
	if (is_pass(v) && !ip_allowed(&p))
		v = VS_KCNT_ip_filtered;
	if (p.frag == FRAG_FIRST)
		frag_first(&p, v);
	return v;
}

static __always_inline struct vs_kcounters *counters_of(__u32 dir)
{
	return bpf_map_lookup_elem(&counters, &dir);
}

/* The one exit: counts seen, the verdict and the delivery outcome. */
static __always_inline void count(struct vs_kcounters *k, int v, int dv)
{
	if (!k)
		return;
	k->c[VS_KCNT_seen]++;
	if (v >= 0 && v < VS_KCNT__MAX)
		k->c[v]++;
	if (dv > 0)
		k->c[VS_KCNT_delivered]++;
	else if (dv < 0)
		k->c[VS_KCNT_delivery_failed]++;
}

/* The frame's verdict in *v: quick()'s when it can tell, else
 * classify()'s. An unrelated frame quick() turned away is counted here and
 * 1 returned: the program then returns at once, having run only the few
 * lines of code quick() takes. */
static __always_inline int decide(void *data, void *end, struct pass *ps,
				  struct vs_kcounters *k, int *v)
{
	*v = quick(data, end, ps);
	if (*v == VS_KCNT_not_voip) {
		count(k, *v, 0);
		return 1;
	}
	if (*v < 0)
		*v = classify(data, end, ps);
	return 0;
}

/* Frame length to copy: bounded by snaplen and by VS_SNAP_MAX - 1, and for
 * RTP by the end of its header (head, struct pass) when cfg's rtp_head is
 * set. 0 when nothing can be copied. */
static __always_inline __u32 cap_len(__u32 len, __u32 head)
{
	__u32 zero = 0, snap = VS_SNAP_DEFAULT;
	struct vs_kcfg *c = bpf_map_lookup_elem(&cfg, &zero);

	if (c && c->snaplen)
		snap = c->snaplen;
	if (c && c->rtp_head && head && head < snap)
		snap = head;
	if (len > snap)
		len = snap;
	if (len > VS_SNAP_MAX - 1)
		len = VS_SNAP_MAX - 1;
	return len;
}

/* A ring record: the header, then the frame. */
struct vs_rec {
	struct vs_ring_hdr h;
	__u8 data[];
};

/* The copy length (1 .. room) as the verifier must see it: clamped in asm
 * right before the helper call, since the compiler drops a bound it can
 * prove redundant. len >= 1. */
static __always_inline __u32 bound_len(__u32 len, __u32 room)
{
	len -= 1;
	asm volatile("if %[v] < %[m] goto +1; %[v] = %[m]"
		     : [v] "+r"(len)
		     : [m] "i"(room - 1));
	return len + 1;
}

/* The frame's first len bytes into dst: XDP or TC (skb is a constant, so
 * each program keeps only its own helper). */
static __always_inline long load_frame(void *ctx, int skb, void *dst,
				       __u32 len)
{
	if (skb)
		return bpf_skb_load_bytes(ctx, 0, dst, len);
	return bpf_xdp_load_bytes(ctx, 0, dst, len);
}

/* Reserves a record of `size` bytes (a constant: bpf_ringbuf_reserve wants
 * one) in the ring and copies the frame straight into it: one copy, where
 * building the record in a per-CPU scratch buffer and bpf_ringbuf_output
 * made two. 1 or -1. */
static __always_inline int ring_rec(void *rb, const struct vs_ring_hdr *h,
				    void *ctx, int skb, __u32 size,
				    __u64 flags)
{
	struct vs_rec *r = bpf_ringbuf_reserve(rb, size, 0);
	__u32 len = h->caplen;

	if (!r)
		return -1;
	r->h = *h;
	len = bound_len(len, size - sizeof(r->h));
	if (load_frame(ctx, skb, r->data, len)) {
		bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
		return -1;
	}
	bpf_ringbuf_submit(r, flags);
	return 1;
}

/* Record sizes: the smallest that holds header and frame (RTP of 20 ms
 * G.711 is a 214-byte frame: 256). The reader takes the frame length from
 * the header, so the slack costs ring space only. */
#define REC_SZ(n) ((n) - sizeof(struct vs_ring_hdr))

static __always_inline __u64 wake_bytes(void)
{
	__u32 zero = 0;
	struct vs_kcfg *c = bpf_map_lookup_elem(&cfg, &zero);

	return c && c->wake_bytes ? c->wake_bytes : VS_WAKE_BYTES;
}

/* Queues the frame (h->caplen bytes, 1 .. VS_SNAP_MAX - 1) on this CPU's
 * ring. 1 or -1. */
static __always_inline int ring_out(void *ctx, int skb,
				    const struct vs_ring_hdr *h)
{
	__u32 cpu = bpf_get_smp_processor_id(), cap = h->caplen;
	void *rb = bpf_map_lookup_elem(&rings, &cpu);
	__u64 fl;

	if (!rb)
		return -1;
	fl = wakes_now(h->reason) ||
			bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA) >=
				wake_bytes() ?
			BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	if (cap <= REC_SZ(96)) /* RTP's header alone (cfg's rtp_head) */
		return ring_rec(rb, h, ctx, skb, 96, fl);
	if (cap <= REC_SZ(128))
		return ring_rec(rb, h, ctx, skb, 128, fl);
	if (cap <= REC_SZ(256))
		return ring_rec(rb, h, ctx, skb, 256, fl);
	if (cap <= REC_SZ(512))
		return ring_rec(rb, h, ctx, skb, 512, fl);
	if (cap <= REC_SZ(1024))
		return ring_rec(rb, h, ctx, skb, 1024, fl);
	if (cap <= REC_SZ(2048))
		return ring_rec(rb, h, ctx, skb, 2048, fl);
	if (!skb || cap <= VS_SNAP_MAX - 1)
		return ring_rec(rb, h, ctx, skb, sizeof(*h) + VS_SNAP_MAX - 1,
				fl);
	/* TC only (deliver_tc): a GSO super-packet of SIP, up to 64 KiB. A
	 * 6 KB INVITE must not take 64 KiB of a ring that holds 4 MiB. */
	if (cap <= REC_SZ(8192))
		return ring_rec(rb, h, ctx, skb, 8192, fl);
	if (cap <= REC_SZ(16384))
		return ring_rec(rb, h, ctx, skb, 16384, fl);
	return ring_rec(rb, h, ctx, skb, sizeof(*h) + VS_GSO_MAX, fl);
}

/* Builds the header of a passed frame (caplen bytes of it copied) and
 * queues it. 1 or -1. */
static __always_inline int deliver(void *ctx, int skb, __u32 origlen,
				   __u32 caplen, __u32 ifindex, int v,
				   __u32 hint, __u8 dir)
{
	struct vs_ring_hdr h = {
		.ifindex = ifindex,
		.origlen = origlen,
		.caplen = caplen,
		.dir = dir,
		.reason = v,
		.hint = hint,
	};

	if (!h.caplen)
		return -1;
	h.ts_ns = bpf_ktime_get_ns();
	return ring_out(ctx, skb, &h);
}

static __always_inline int deliver_xdp(struct xdp_md *ctx, int v,
				       const struct pass *ps)
{
	__u32 len = bpf_xdp_get_buff_len(ctx);

	return deliver(ctx, 0, len, cap_len(len, ps->head),
		       ctx->ingress_ifindex, v, ps->hint, VS_DIR_IN);
}

SEC("xdp")
int vs_xdp_copy(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct vs_kcounters *k = counters_of(VS_DIR_IN);
	struct pass ps = {};
	int v, dv = 0;

	if (decide(data, data_end, &ps, k, &v))
		return XDP_PASS;
	if (is_pass(v))
		dv = deliver_xdp(ctx, v, &ps);
	count(k, v, dv);
	return XDP_PASS;
}

/* afxdp mode: an RTP frame is cut after its header, as copy mode's
 * records are (cfg's rtp_head): the socket then gets a copy of 58 bytes
 * instead of 214 (20 ms of G.711), and the host has no use for the frame.
 * Its length on the wire, returned, goes in the metadata. */
static __always_inline __u32 xsk_cut(struct xdp_md *ctx, __u32 head)
{
	__u32 len = bpf_xdp_get_buff_len(ctx), zero = 0;
	struct vs_kcfg *c;

	if (!head || head >= len)
		return len;
	c = bpf_map_lookup_elem(&cfg, &zero);
	if (c && c->rtp_head)
		bpf_xdp_adjust_tail(ctx, -(int)(len - head));
	return len;
}

/* afxdp mode: the timestamp, the hint and the length travel in the
 * metadata area. A frame is cut only once that area is there to say how
 * long it was. */
static __always_inline void xsk_meta(struct xdp_md *ctx, int v,
				     const struct pass *ps)
{
	struct vs_xsk_meta *m;
	__u32 origlen;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m)))
		return;
	origlen = xsk_cut(ctx, ps->head);
	m = (void *)(long)ctx->data_meta;
	if ((void *)(m + 1) > (void *)(long)ctx->data)
		return;
	m->ts_ns = bpf_ktime_get_ns();
	m->magic = VS_XSK_MAGIC;
	m->reason = v;
	m->hint = ps->hint;
	m->origlen = origlen;
}

/* The interface's range of xsks slots: xsk_ifs, else xsk_slots. */
static __always_inline const struct vs_xsk_slot *xsk_slot_of(__u32 ifi)
{
	__u32 k = ifi % VS_XSK_IF_CACHE;
	struct vs_xsk_if *c = bpf_map_lookup_elem(&xsk_ifs, &k);

	if (c && c->ifindex == ifi)
		return &c->sl;
	return bpf_map_lookup_elem(&xsk_slots, &ifi);
}

/* To the AF_XDP socket of this interface's RX queue; XDP_DROP when the
 * interface or queue has none (the frame is then counted as lost). */
static __always_inline long xsk_redirect(struct xdp_md *ctx, int v,
					 const struct pass *ps, __u32 *slot)
{
	__u32 ifi = ctx->ingress_ifindex, q = ctx->rx_queue_index;
	const struct vs_xsk_slot *sl = xsk_slot_of(ifi);

	if (!sl || q >= sl->n)
		return XDP_DROP;
	xsk_meta(ctx, v, ps);
	*slot = sl->base + q;
	return bpf_redirect_map(&xsks, *slot, XDP_DROP);
}

/* A frame more in the RX ring of socket slot: 1 when the reader must be
 * woken for the ring's fill level (struct vs_xsk_fill), every 64th frame
 * while a quarter of the ring waits. */
static __always_inline int xsk_filled(__u32 slot)
{
	struct vs_xsk_fill *f = bpf_map_lookup_elem(&xsk_fill, &slot);
	__u64 n;

	if (!f || !f->wake)
		return 0;
	__sync_fetch_and_add(&f->sent, 1);
	n = f->sent;
	return !(n & 63) && (__s64)(n - f->taken) >= (__s64)f->wake;
}

SEC("xdp")
int vs_xdp_xsk(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct vs_kcounters *k = counters_of(VS_DIR_IN);
	struct pass ps = {};
	long act = XDP_DROP;
	__u32 slot = 0;
	int v, dv = 0;

	if (decide(data, data_end, &ps, k, &v))
		return XDP_DROP;

	if (is_pass(v)) {
		act = xsk_redirect(ctx, v, &ps, &slot);
		dv = act == XDP_REDIRECT ? 1 : -1;
	}
	/* The frame reaches its socket at the end of the NAPI poll; the
	 * reader, woken now, waits for it briefly (afxdp_rx.c). The ring
	 * says why: bit 32 for the fill level, and the verdict. */
	if (dv > 0) {
		__u64 full = xsk_filled(slot), bell = full << 32 | (__u32)v;

		if (full || wakes_now(v))
			bpf_ringbuf_output(&xsk_bell, &bell, sizeof(bell),
					   BPF_RB_FORCE_WAKEUP);
	}
	count(k, v, dv);
	return act;
}

/* A TSO/GSO super-packet of SIP (or a fragment) is copied whole, up to
 * VS_GSO_MAX bytes, snaplen aside: the stack hands TC one skb of up to
 * 64 KiB for a large write (an INVITE with a big SDP over TCP), which
 * snaplen would cut. gso_segs is read only for SIP and fragments: RTP
 * pays the verdict tests alone (a few compares in registers). */
static __always_inline int deliver_tc(struct __sk_buff *skb, int v,
				      const struct pass *ps)
{
	__u32 len = skb->len, cap;

	if (wakes_now(v) && skb->gso_segs > 1)
		cap = len < VS_GSO_MAX ? len : VS_GSO_MAX;
	else
		cap = cap_len(len, ps->head);
	return deliver(skb, 1, len, cap, skb->ifindex, v, ps->hint,
		       VS_DIR_OUT);
}

SEC("tc")
int vs_tc_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct vs_kcounters *k = counters_of(VS_DIR_OUT);
	struct pass ps = {};
	int v, dv = 0;

	if (decide(data, data_end, &ps, k, &v))
		return TC_ACT_UNSPEC;

	if (is_pass(v))
		dv = deliver_tc(skb, v, &ps);
	count(k, v, dv);
	return TC_ACT_UNSPEC;
}
