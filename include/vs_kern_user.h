/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The contract between the kernel programs (bpf/voxsense.bpf.c) and the
 * daemon (user/capture/): map keys and values, the ring buffer record, the
 * counter ids. Included by both sides, so only fixed-width types and no
 * libc. Every multi-byte field is host order unless it says otherwise. */
#ifndef VS_KERN_USER_H
#define VS_KERN_USER_H

#include <linux/types.h>

/* Where the maps and programs are pinned: `bpftool map dump pinned
 * /sys/fs/bpf/voxsense/media` shows the live RTP flow table. */
#define VS_PIN_DIR "/sys/fs/bpf/voxsense"

/* Largest capture: frames are copied up to min(snaplen, VS_SNAP_MAX - 1)
 * bytes; the length is bounded with the mask VS_SNAP_MAX - 1 (a power of
 * two) because the verifier wants a bitmask bound on the copy length. */
#define VS_SNAP_MAX 4096
#define VS_SNAP_DEFAULT 2048
/* Payload bytes kept after an RTP header copied alone (vs_kcfg's rtp_head):
 * an RFC 4733 event (DTMF) is 4 bytes. */
#define VS_RTP_KEEP 4

/* TC egress: a TSO/GSO super-packet (gso_segs > 1) whose verdict is SIP
 * or a fragment is copied whole, snaplen aside, up to this many bytes (the
 * most caplen holds; an IPv4 super-packet is at most 65535 + 14). */
#define VS_GSO_MAX 65535

/* Ring buffer bytes per CPU (a power of two, multiple of the page size):
 * the default of the `ringbuffer` key (MB), and the size of the template
 * the outer `rings` map is declared with. */
#define VS_RING_BYTES (4u << 20)

/* Entries of the tables userspace fills. */
#define VS_MEDIA_MAX 262144 /* live RTP/RTCP endpoints */
#define VS_FRAG_MAX 16384   /* fragmented datagrams being followed */
#define VS_IPFILTER_MAX 1024
#define VS_XSK_MAX 256	    /* AF_XDP sockets (RX queues, all interfaces) */
#define VS_XSK_IF_MAX 32    /* interfaces in afxdp mode */

enum vs_kdir {
	VS_DIR_IN = 0,	/* seen by XDP on receive */
	VS_DIR_OUT = 1, /* seen by TC clsact on egress */
	VS_DIR__MAX
};

/* One record in a ring buffer: this header, then caplen bytes of frame
 * starting at the Ethernet header. */
struct vs_ring_hdr {
	__u64 ts_ns;   /* bpf_ktime_get_ns() when seen: CLOCK_MONOTONIC */
	__u32 ifindex; /* interface it was seen on */
	__u32 origlen; /* frame length on the wire */
	__u16 caplen;  /* bytes of frame that follow this header */
	__u8 dir;      /* enum vs_kdir */
	__u8 reason;   /* enum vs_kcnt that passed it (sip, rtp, ...) */
	__u32 hint;    /* RTP/RTCP: vs_ep_hash() of the destination endpoint,
			* so that the reader can prefetch the call table's
			* slot for it records ahead; 0 for other frames */
};

/* Three 64-bit words mixed by multiply-xorshift. Shared so that the
 * kernel's record hint is the very hash the daemon's endpoint index
 * (user/call/epidx.h) probes with. */
static inline __u64 vs_hash_words(__u64 a, __u64 b, __u64 c)
{
	__u64 h = (a ^ 0x9e3779b97f4a7c15ULL) * 0xff51afd7ed558ccdULL;

	h = (h ^ b ^ (h >> 29)) * 0xc4ceb9fe1a85ec53ULL;
	h = (h ^ c ^ (h >> 31)) * 0xff51afd7ed558ccdULL;
	return h ^ (h >> 32);
}

/* An endpoint's hash: its 16-byte address (network order, IPv4 mapped)
 * read as two host-order words, and its port in host order. */
static inline __u32 vs_ep_hash(const __u8 *addr, __u16 port)
{
	__u64 a, b;

	__builtin_memcpy(&a, addr, 8);
	__builtin_memcpy(&b, addr + 8, 8);
	return (__u32)vs_hash_words(a, b, port);
}

/* afxdp mode: written by XDP in the metadata area just before the frame
 * (bpf_xdp_adjust_meta); userspace reads it at desc.addr - sizeof and
 * clears magic, so a frame without metadata is never mistaken for one. */
#define VS_XSK_MAGIC 0x76734d44u /* "vsMD" */
struct vs_xsk_meta {
	__u64 ts_ns;  /* bpf_ktime_get_ns() when seen */
	__u32 magic;  /* VS_XSK_MAGIC */
	__u32 reason; /* enum vs_kcnt that passed it */
	__u32 hint;   /* as struct vs_ring_hdr's: RTP/RTCP's endpoint hash */
	__u32 origlen; /* frame length on the wire: RTP is cut after its
			* header when vs_kcfg's rtp_head is set */
};

/* afxdp mode: bytes of the xsk_bell ring buffer. The program rings it
 * (an 8-byte record, forced wakeup) for each frame that must reach the
 * daemon at once (SIP, fragments); the reader sleeps on it, not on the
 * sockets, which would wake it for every frame. */
#define VS_XSK_BELL_BYTES 16384

/* afxdp mode: value of the xsk_slots map (key: ifindex). Queue q of that
 * interface has its AF_XDP socket at xsks[base + q], q < n, so several
 * interfaces share one XSKMAP without their queue ids colliding. */
struct vs_xsk_slot {
	__u32 base; /* xsks key of queue 0 */
	__u32 n;    /* RX queues with a socket */
};

/* afxdp mode: value of the xsk_fill array (key: xsks slot). The program
 * counts the frames it redirects to the socket (sent) and rings xsk_bell
 * while sent - taken, the frames waiting in its RX ring, is wake or more;
 * the reader sets wake (a quarter of the ring) and stores taken as it
 * hands frames back. So the reader sleeps as long as copy mode's whatever
 * the rate, and is woken before the ring overflows. taken is on a line of
 * its own: the reader writes it, the program only reads it. */
struct vs_xsk_fill {
	__u64 sent;	/* frames redirected to the socket */
	__u32 wake;	/* 0: never ring */
	__u32 pad0;
	__u8 pad1[48];
	__u64 taken;	/* frames the reader has handed back */
	__u8 pad2[56];
};

/* afxdp mode: value of the xsk_ifs array (key: ifindex % VS_XSK_IF_CACHE),
 * the xsk_slots entry of the first interface whose ifindex gave that key.
 * The program reads it first: one array slot, where the hash map costs a
 * hash and two dependent cache misses per frame. Another ifindex there
 * (or none) sends it to xsk_slots. */
#define VS_XSK_IF_CACHE 256
struct vs_xsk_if {
	__u32 ifindex; /* 0: empty */
	struct vs_xsk_slot sl;
};

/* Key of the media map (a live RTP/RTCP endpoint announced in SDP) and of
 * the frag map's address part. Addresses are 16 bytes, IPv4 in the mapped
 * form ::ffff:a.b.c.d, exactly as struct vs_addr in user/core/addr.h. */
struct vs_media_key {
	__u8 addr[16];	/* address in network order */
	__be16 port;	/* UDP port in network order */
	__u16 pad;	/* zero */
};

/* Value of the media map: which the kernel counts it as is decided per
 * packet (RTCP packet types 200-207), so userspace stores only a use count. */
struct vs_media_val {
	__u32 refs; /* reserved: 1 today (the call table dedups) */
};

/* Key of the frag map: the first fragment's decision (pass or not) is
 * remembered so that the fragments that follow get the same one. */
struct vs_frag_key {
	__u8 src[16];	/* mapped form, network order */
	__u8 dst[16];
	__u32 id;	/* IPv4 id (16 bits) or IPv6 fragment id, as on the wire */
	__u8 proto;	/* L4 protocol (IPPROTO_UDP, ...) */
	__u8 pad[3];	/* zero */
};

/* Key of the ipfilter LPM trie: IPv4 and IPv6 share one 128-bit space
 * (IPv4 mapped, so 10.0.0.0/8 is stored with prefixlen 104), the same
 * convention as struct vs_ipnet in conf/. */
struct vs_lpm_key {
	__u32 prefixlen; /* bits that must match, 0-128 */
	__u8 addr[16];
};

/* Run-time switches in the `cfg` array map (index 0), written by userspace
 * before attach. */
/* Which 1024-port ranges hold any port of a port bitmap: bit r of a word
 * is set while a port in r * 1024 .. r * 1024 + 1023 is set in its map.
 * One cache line the program reads for every frame, so that a frame whose
 * ports are in no range (nearly all unrelated traffic) skips the bitmaps,
 * 8 KiB each, whose lines at random ports miss the cache. */
struct vs_port_sum {
	__u64 sip;	/* sip_ports */
	__u64 media;	/* media_ports */
	__u64 tun;	/* tun_ports */
};

struct vs_kcfg {
	__u32 snaplen;	 /* bytes copied per frame, 1 .. VS_SNAP_MAX - 1 */
	__u8 ipfilter;	 /* 1: only pass when src or dst is in ipfilter */
	__u8 rtp_head;	 /* 1: RTP copied only through its header and
			  * VS_RTP_KEEP bytes (the daemon needs no audio) */
	__u8 pad[2];
	__u32 wake_bytes; /* wake the ring's reader once this much waits
			   * (a quarter of the ring); 0: VS_WAKE_BYTES */
};

/* Wake threshold when cfg has none: the default ring's quarter. */
#define VS_WAKE_BYTES (VS_RING_BYTES / 4)

/* The per-CPU counters: one value holds them all, per direction (key 0 =
 * XDP receive, 1 = TC egress), so a packet costs one map lookup. `seen`
 * counts every frame; each frame then ends in exactly one verdict below.
 * The order is the cache's: what an unrelated frame (seen, not_voip) and
 * an RTP frame (seen, rtp, delivered) write comes first, so that each
 * writes one cache line of the value, not two (104 bytes, at any 8-byte
 * offset of a line: the per-CPU allocator aligns no further). */
#define VS_KCNT(X)                                                             \
	X(seen)		   /* every frame the program ran on */                \
	X(not_voip)	   /* IP, but no passing verdict below */              \
	X(rtp)		   /* passed: endpoint in media, RTP */                \
	X(delivered)	   /* passed and queued to userspace */                \
	X(sip)		   /* passed: TCP/UDP port in sipport */               \
	X(rtcp)		   /* passed: endpoint in media, RTCP type */          \
	X(fragment)	   /* passed: later fragment of a passed datagram */   \
	X(frag_unknown)	   /* passed: later fragment seen before its first */  \
	X(tunnel)	   /* passed: tun_ports UDP port or tun_protos proto */\
	X(ip_filtered)	   /* VoIP, refused by interface_ip_filter */          \
	X(not_ip)	   /* neither IPv4 nor IPv6 (ARP, LLDP, ...) */         \
	X(malformed)	   /* truncated or bad header */                       \
	X(delivery_failed) /* passed but ring full / no socket: lost */

enum vs_kcnt {
#define VS_X(n) VS_KCNT_##n,
	VS_KCNT(VS_X)
#undef VS_X
	VS_KCNT__MAX
};

struct vs_kcounters {
	__u64 c[VS_KCNT__MAX];
};

#endif
