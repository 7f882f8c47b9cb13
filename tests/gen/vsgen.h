/* vsgen: test-capture generator for voxsense.
 *
 * It writes a pcap of overlapping SIP calls with RTP and a JSON-lines ground
 * truth. It shares no code with user/ on purpose: its output is the
 * independent reference the daemon is tested against.
 *
 * Data flow: main.c parses options and runs an event loop over a binary heap
 * (heap.c) of per-call events ordered by time. Each call (call.c) owns a SIP
 * script, two RTP directions (media.c) and a small queue of prebuilt frames
 * (net.c builds Ethernet/VLAN/IP/UDP/TCP). The truth line of a call is
 * printed (truth.c) when its last event has run, so memory stays bounded by
 * the number of calls active at one time.
 */
#ifndef VSGEN_H
#define VSGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <pcap/pcap.h>

#define VG_PTIME_US 20000u	/* one RTP packet every 20 ms */
#define VG_TS_PER_PKT 160u	/* 20 ms at the 8000 Hz RTP clock */
#define VG_DTMF_PT 101
#define VG_DTMF_SLOTS 6		/* 3 progress + 3 end packets per digit */
#define VG_DTMF_PERIOD 10	/* slots from one digit to the next */
#define VG_MAX_FRAME 1600
#define VG_NBURST 10		/* loss-burst histogram: 1..9, 10+ */

enum vg_scenario {
	SC_ANSWERED,
	SC_CANCEL,
	SC_BUSY,
	SC_NOANSWER,
	SC_NORTP,
	SC_REINVITE,
	SC_COUNT,
	SC_MIX = SC_COUNT,
};

enum vg_codec { CODEC_PCMU, CODEC_PCMA, CODEC_G729, CODEC_G722 };

struct vg_opts {
	const char *out;
	const char *truth;
	unsigned ncalls;
	double duration;	/* media seconds per call */
	double rate;		/* call starts per second */
	int codec;
	double loss;		/* percent of RTP packets dropped */
	unsigned loss_burst;	/* packets per loss event */
	double jitter_ms;	/* uniform 0..jitter added to arrivals */
	double reorder;		/* percent of packets delayed past the next */
	double dup;		/* percent of packets written twice */
	bool tcp, ipv6, frag, rtcp, retrans;
	int vlan;		/* 802.1Q VID, -1 for none */
	int qinq;		/* outer 802.1ad VID, -1 for none */
	unsigned mtu;
	int scenario;
	const char *dtmf;
	uint64_t seed;
	uint16_t sipport;
	uint64_t start_us;
};

/* --- util.c ------------------------------------------------------------- */
uint64_t vg_rand(uint64_t *state);
double vg_randf(uint64_t *state);		/* [0, 1) */
bool vg_chance(uint64_t *state, double pct);	/* true with pct percent */
uint32_t vg_rand_below(uint64_t *state, uint32_t n);
const char *vg_scenario_name(int sc);
const char *vg_codec_name(int codec);
int vg_codec_pt(int codec);
size_t vg_codec_bytes(int codec);	/* payload bytes per 20 ms */

/* --- net.c: frames ------------------------------------------------------ */
struct vg_ep {
	uint8_t mac[6];
	uint8_t ip[16];		/* IPv4 uses the first 4 bytes */
	uint16_t port;
};

struct vg_net {
	bool v6;
	int vlan;
	int qinq;
};

size_t net_udp(const struct vg_net *n, uint8_t *frame, const struct vg_ep *s,
	       const struct vg_ep *d, uint16_t ipid, const void *pl, size_t len);
/* Splits the UDP datagram into IP fragments of at most mtu bytes; calls
 * emit() once per fragment. Returns the number of fragments. */
int net_udp_frag(const struct vg_net *n, const struct vg_ep *s,
		 const struct vg_ep *d, uint32_t ipid, const void *pl,
		 size_t len, unsigned mtu,
		 void (*emit)(void *arg, const uint8_t *f, size_t flen),
		 void *arg);
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_PSH 0x08
#define TCP_ACK 0x10
size_t net_tcp(const struct vg_net *n, uint8_t *frame, const struct vg_ep *s,
	       const struct vg_ep *d, uint16_t ipid, uint32_t seq,
	       uint32_t ack, uint8_t flags, const void *pl, size_t len);
void net_ip_str(const struct vg_net *n, const uint8_t *ip, char *buf,
		size_t cap);

/* --- heap.c ------------------------------------------------------------- */
enum vg_ev_kind { EV_START, EV_STEP, EV_FRAME, EV_TICK, EV_RTP, EV_RTCP };

struct vg_call;

struct vg_ev {
	uint64_t t;		/* µs since the epoch */
	uint64_t order;		/* insertion count: ties keep FIFO order */
	struct vg_call *call;
	uint32_t arg;		/* slot, step or call index */
	uint8_t kind;
	uint8_t dir;
	uint8_t flags;		/* EVF_* */
};
#define EVF_DUP 0x01

struct vg_heap {
	struct vg_ev *v;
	size_t n, cap;
	uint64_t next_order;
};

int heap_push(struct vg_heap *h, const struct vg_ev *ev);
bool heap_pop(struct vg_heap *h, struct vg_ev *ev);
void heap_free(struct vg_heap *h);

/* --- media.c: one RTP direction ---------------------------------------- */
/* What a receiver saw of one stream, updated in write order. */
struct vg_rx {
	uint64_t packets;	/* written, duplicates included */
	uint64_t dup;
	uint64_t reordered;	/* first copies written after a higher seq */
	uint32_t max_slot;
	bool any;
	bool have_transit;
	uint64_t last_arr;	/* arrival of the last packet, events included */
	uint32_t last_ts_slot;	/* RTP time (slots) of the last audio packet */
	double jitter_us;
	double max_jitter_us;
};

/* What the sender did with one leg (one set of ports) of a stream. */
struct vg_leg {
	struct vg_ep src, dst;
	uint32_t first_slot, last_slot;	/* inclusive */
	uint64_t unique;	/* slots written at least once */
	uint64_t lost;		/* slots never written */
	uint64_t bursts[VG_NBURST];
	uint32_t run;		/* current run of lost slots */
	uint64_t max_arrival;	/* latest arrival scheduled so far */
	struct vg_rx rx;
};

struct vg_stream {
	uint64_t rng;
	uint64_t t0;		/* send time of slot 0 */
	uint32_t nslots;
	uint32_t switch_slot;	/* first slot of leg 1, or nslots */
	uint32_t ssrc;
	uint16_t seq0;
	uint32_t ts0;
	int pt;
	uint32_t dtmf_start;	/* first slot of the first digit */
	char dtmf[64];		/* digits actually sent */
	unsigned ndtmf;
	struct vg_leg leg[2];
	unsigned nlegs;
	struct vg_rx rx;	/* whole stream, across legs */
	uint64_t sent_pkts, sent_octets;	/* sender counters for SR */
	uint32_t rtcp_sent;
	uint32_t burst_left;	/* slots still to drop in this loss burst */
	uint64_t rr_expected, rr_received;	/* at our last report block */
	uint64_t last_sr_ntp;	/* NTP of the last SR this side sent */
	uint64_t last_sr_t;
};

struct vg_gen;
void media_init(struct vg_gen *g, struct vg_call *c, int dir, uint64_t t0);
void media_tick(struct vg_gen *g, struct vg_call *c, int dir, uint32_t slot,
		uint64_t now);
void media_write(struct vg_gen *g, struct vg_call *c, int dir, uint32_t slot,
		 bool dup, uint64_t now);
void media_rtcp(struct vg_gen *g, struct vg_call *c, int dir, uint32_t n,
		uint64_t now);
uint64_t media_end(const struct vg_stream *st);
uint32_t media_slots(const struct vg_gen *g);
/* Fills the audio payload pattern that media_write() copies from. */
void media_pattern(int codec, uint8_t *pat, size_t len);

/* --- call.c ------------------------------------------------------------- */
enum vg_msg {
	M_NONE,
	M_INVITE,
	M_100,
	M_180,
	M_100_180,	/* both in one TCP segment */
	M_200_INV,
	M_ACK,
	M_CANCEL,
	M_200_CANCEL,
	M_487,
	M_486,
	M_480,
	M_ACK_ERR,
	M_REINVITE,
	M_200_REINV,
	M_ACK_RE,
	M_BYE,
	M_200_BYE,
	M_TCP_OPEN,
	M_TCP_CLOSE,
};

enum vg_tag { TAG_NONE, TAG_INVITE, TAG_RING, TAG_ANSWER, TAG_FINAL,
	      TAG_BYE, TAG_END };

struct vg_step {
	uint64_t t;
	uint8_t msg;
	uint8_t tag;
};

struct vg_party {
	char number[24];
	char display[32];
	char domain[40];
	char tag[24];
	struct vg_ep sip;
	uint16_t rtp_port[2];	/* before and after a re-INVITE */
	uint32_t tcp_seq;
	uint16_t ipid;
};

#define VG_MAX_STEPS 24
#define VG_MAX_QFRAMES 12

struct vg_call {
	uint32_t index;
	int scenario;
	int final_code;
	bool callee_hangs_up;
	bool has_media;
	char call_id[80];
	char branch[2][24];	/* Via branch prefix of caller and callee */
	struct vg_party caller, callee;
	struct vg_step step[VG_MAX_STEPS];
	unsigned nsteps;
	uint64_t t_invite, t_ring, t_answer, t_final, t_bye, t_end;
	struct vg_stream dir[2];	/* 0: caller->callee (a), 1: back (b) */
	unsigned refs;		/* heap events pointing at this call */
	/* frames waiting to be written one after the other */
	uint8_t *qbuf;
	size_t qlen;
	struct { uint32_t off, len; uint8_t tag; } q[VG_MAX_QFRAMES];
	unsigned qn, qhead;
};

struct vg_call *call_new(struct vg_gen *g, uint32_t index, uint64_t t0);
void call_free(struct vg_call *c);
void call_step(struct vg_gen *g, struct vg_call *c, unsigned idx,
	       uint64_t now);
void call_frame(struct vg_gen *g, struct vg_call *c, uint64_t now);
const struct vg_ep *call_media_ep(const struct vg_call *c, int party,
				  int leg, struct vg_ep *tmp);

/* --- sip.c -------------------------------------------------------------- */
/* Writes SIP message msg of call c into buf; returns its length or 0. */
size_t sip_build(const struct vg_gen *g, const struct vg_call *c, int msg,
		 char *buf, size_t cap);
bool sip_from_caller(const struct vg_call *c, int msg);

/* --- main.c: the generator ---------------------------------------------- */
struct vg_gen {
	struct vg_opts o;
	struct vg_net net;
	pcap_t *pd;
	pcap_dumper_t *dump;
	FILE *truth;
	struct vg_heap heap;
	uint64_t last_t;
	uint64_t frames;
	uint64_t order_errors;	/* frames written before the previous one */
	int err;
	uint8_t scratch[VG_MAX_FRAME];
	char sipbuf[4096];
	uint8_t pattern[160 + 16];	/* audio payload bytes */
};

int gen_push(struct vg_gen *g, struct vg_call *c, int kind, uint64_t t,
	     int dir, uint32_t arg, uint8_t flags);
void gen_write(struct vg_gen *g, uint64_t t, const uint8_t *f, size_t len);

/* --- truth.c ------------------------------------------------------------ */
void truth_write(const struct vg_gen *g, const struct vg_call *c);

#endif
