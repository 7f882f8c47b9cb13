/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The maps of the capture programs. Names are what an admin sees in
 * `bpftool map show` and under /sys/fs/bpf/voxsense/, so they are short and
 * say what the map holds. */
#ifndef VS_BPF_MAPS_H
#define VS_BPF_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "vs_kern_user.h"

/* sipport: bit p of byte p / 8 is set when port p carries SIP. */
struct vs_port_bits {
	__u8 b[65536 / 8];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vs_port_bits);
} sip_ports SEC(".maps");

/* Tunnel carriers (UDP ports of HEP, VXLAN, TZSP, ...): passed whole for
 * userspace to decapsulate. Filled by the tunnels issue; empty today. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vs_port_bits);
} tun_ports SEC(".maps");

/* Interfaces whose clsact qdisc this run created (key ifindex, value 1).
 * Userspace only: a run that crashed leaves it pinned, and the next start
 * reads it to know that the qdisc it finds is voxsense's, so that its own
 * clean exit removes it (xdp_attach.c). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u8);
} tc_made SEC(".maps");

/* Tunnel carriers that are IP protocols (GRE 47, IPIP 4, IPv6 in IP 41,
 * ...): bit p of byte p / 8 set for protocol p. Passed whole like the UDP
 * carriers; filled by the tunnels issue, empty today. One cache line,
 * read only for IP frames that are neither UDP nor TCP. */
struct vs_proto_bits {
	__u8 b[256 / 8];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vs_proto_bits);
} tun_protos SEC(".maps");

/* Ports of the live media endpoints: bit p is set while at least one
 * endpoint in `media` has port p. Checked before the hash lookups, so UDP
 * to or from any other port is turned away with two bit tests instead of
 * hashing two 20-byte keys. Userspace counts the endpoints per port and
 * flips the bits through mmap (no syscall per call). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct vs_port_bits);
} media_ports SEC(".maps");

/* struct vs_port_sum of the three port bitmaps. Written by userspace
 * through mmap: sip and tun at start, media as media_ports changes (a
 * range's bit is set before a port bit in it, cleared after the last). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct vs_port_sum);
} port_sum SEC(".maps");

/* Per port (host order), the IPv4 address of the first IPv4 endpoint put
 * into `media` with that port while none had it, zero when there is none:
 * one array slot answers for most live RTP (a PBX gives each call its own
 * port) where the hash walks a bucket and then an element, two dependent
 * cache misses. A positive cache only: an address that is not in its
 * port's slot (IPv6 never is) is looked up in `media`. Written by
 * userspace through mmap, set after the endpoint is inserted, cleared
 * before it is removed. Four bytes a port, not the 16 of an IPv6 address:
 * a PBX's RTP ports lie in one range, so 16 of them share a cache line
 * and the 256 KiB array 64 pages, and the slot a frame reads is far more
 * often still in the cache (and its page in the TLB). Array values take
 * 8 bytes at least, so element p / 2 holds the slots of ports p (even) and
 * p + 1 (odd): in memory, port p's slot is the array's 4-byte word p. */
struct vs_media_slot {
	/* Network order; bytes, so that bpftool shows 10.0.0.2 as
	 * [10,0,0,2]. */
	__u8 even[4];
	__u8 odd[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536 / 2);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct vs_media_slot);
} media_one SEC(".maps");

/* Live RTP/RTCP endpoints: filled from SDP by the call table's on_media. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VS_MEDIA_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vs_media_key);
	__type(value, struct vs_media_val);
} media SEC(".maps");

/* First-fragment decisions (1 = passed, 0 = not), for the fragments that
 * follow. LRU: a datagram whose last fragment never came ages out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VS_FRAG_MAX);
	__type(key, struct vs_frag_key);
	__type(value, __u8);
} frags SEC(".maps");

/* interface_ip_filter, IPv4 mapped into the IPv6 space. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, VS_IPFILTER_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vs_lpm_key);
	__type(value, __u8);
} ipfilter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	/* Mmapable arrays start their values on a page: the 12 bytes are
	 * one cache line, where at the usual offset they would be two. */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct vs_kcfg);
} cfg SEC(".maps");

/* Counters per direction (0 = XDP receive, 1 = TC egress). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VS_DIR__MAX);
	__type(key, __u32);
	__type(value, struct vs_kcounters);
} counters SEC(".maps");

/* One ring buffer per CPU: a shared one makes every CPU contend for its
 * producer lock. Userspace sizes the outer map to the CPU count and inserts
 * the rings it created. */
struct ring_tmpl {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, VS_RING_BYTES);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct ring_tmpl);
} rings SEC(".maps");

/* afxdp mode: one AF_XDP socket per RX queue of every interface, at the
 * slot xsk_slots gives for (ifindex, queue). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VS_XSK_IF_MAX);
	__type(key, __u32);
	__type(value, struct vs_xsk_slot);
} xsk_slots SEC(".maps");

/* afxdp mode: xsk_slots' entries, direct-mapped (struct vs_xsk_if). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VS_XSK_IF_CACHE);
	__type(key, __u32);
	__type(value, struct vs_xsk_if);
} xsk_ifs SEC(".maps");

/* afxdp mode: frames waiting per socket (struct vs_xsk_fill). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VS_XSK_MAX);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct vs_xsk_fill);
} xsk_fill SEC(".maps");

/* afxdp mode: the reader's doorbell (VS_XSK_BELL_BYTES). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, VS_XSK_BELL_BYTES);
} xsk_bell SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, VS_XSK_MAX);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

#endif
