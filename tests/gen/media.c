/* RTP directions: what the sender sends (loss, jitter, duplicates, DTMF)
 * and what a receiver sees in write order (the truth's statistics). */
#include <math.h>
#include <string.h>

#include "vsgen.h"

#define NTP_UNIX_OFFSET 2208988800ull
#define RTCP_INTERVAL_US 5000000ull

uint32_t media_slots(const struct vg_gen *g)
{
	double n = floor(g->o.duration * 1e6 / VG_PTIME_US + 0.5);

	return n < 4 ? 4 : (uint32_t)n;
}

uint64_t media_end(const struct vg_stream *st)
{
	return st->t0 + (uint64_t)st->nslots * VG_PTIME_US;
}

static int dtmf_code(char d)
{
	static const char map[] = "0123456789*#ABCD";
	const char *p = d ? strchr(map, d) : NULL;

	return p ? (int)(p - map) : -1;
}

/* Digits go one every VG_DTMF_PERIOD slots from a quarter of the call, and
 * only where they fit inside one leg without its first or last slot. */
static void dtmf_plan(struct vg_stream *st, const char *digits)
{
	uint32_t s;

	st->dtmf_start = st->nslots / 4;
	if (st->dtmf_start < 1)
		st->dtmf_start = 1;
	s = st->dtmf_start;
	for (; digits && *digits && st->ndtmf + 1 < sizeof(st->dtmf);
	     digits++) {
		const struct vg_leg *l = &st->leg[s >= st->switch_slot];

		if (dtmf_code(*digits) < 0)
			continue;
		if (s <= l->first_slot || s + VG_DTMF_SLOTS > l->last_slot)
			break;
		st->dtmf[st->ndtmf++] = *digits;
		s += VG_DTMF_PERIOD;
	}
}

static void leg_init(struct vg_call *c, struct vg_stream *st, int dir,
		     int leg, uint32_t first, uint32_t last)
{
	struct vg_leg *l = &st->leg[leg];

	call_media_ep(c, dir, leg, &l->src);
	call_media_ep(c, !dir, leg, &l->dst);
	l->first_slot = first;
	l->last_slot = last;
}

void media_init(struct vg_gen *g, struct vg_call *c, int dir, uint64_t t0)
{
	struct vg_stream *st = &c->dir[dir];

	memset(st, 0, sizeof(*st));
	st->rng = g->o.seed * 0x9e3779b97f4a7c15ull + c->index * 2u + dir + 1;
	st->t0 = t0;
	st->nslots = media_slots(g);
	st->switch_slot = c->scenario == SC_REINVITE ? st->nslots / 2
						     : st->nslots;
	st->ssrc = (uint32_t)vg_rand(&st->rng);
	st->seq0 = (uint16_t)vg_rand(&st->rng);
	st->ts0 = (uint32_t)vg_rand(&st->rng);
	st->pt = vg_codec_pt(g->o.codec);
	leg_init(c, st, dir, 0, 0, st->switch_slot - 1);
	st->nlegs = 1;
	if (st->switch_slot < st->nslots) {
		leg_init(c, st, dir, 1, st->switch_slot, st->nslots - 1);
		st->nlegs = 2;
	}
	if (dir == 0)
		dtmf_plan(st, g->o.dtmf);
	gen_push(g, c, EV_TICK, t0, dir, 0, 0);
	if (g->o.rtcp && t0 + RTCP_INTERVAL_US < media_end(st))
		gen_push(g, c, EV_RTCP, t0 + RTCP_INTERVAL_US, dir, 1, 0);
}

/* Returns the digit index of an RFC 4733 event slot, or -1 for audio. */
static int event_of(const struct vg_stream *st, uint32_t slot, int *part)
{
	uint32_t rel;

	if (!st->ndtmf || slot < st->dtmf_start)
		return -1;
	rel = slot - st->dtmf_start;
	if (rel / VG_DTMF_PERIOD >= st->ndtmf ||
	    rel % VG_DTMF_PERIOD >= VG_DTMF_SLOTS)
		return -1;
	*part = (int)(rel % VG_DTMF_PERIOD);
	return (int)(rel / VG_DTMF_PERIOD);
}

/* Bursty loss: a burst of loss_burst slots starts with a probability chosen
 * so that the long-run share of lost slots is --loss percent. */
static bool lose(struct vg_gen *g, struct vg_stream *st)
{
	double p = g->o.loss / 100.0, n = g->o.loss_burst, q;

	if (st->burst_left) {
		st->burst_left--;
		return true;
	}
	if (p <= 0)
		return false;
	q = p >= 1 ? 1 : p / (n - n * p + p);
	if (vg_randf(&st->rng) >= q)
		return false;
	st->burst_left = g->o.loss_burst - 1;
	return true;
}

static void count_run(struct vg_leg *l)
{
	if (l->run)
		l->bursts[(l->run > VG_NBURST ? VG_NBURST : l->run) - 1]++;
	l->run = 0;
}

static uint64_t arrival(struct vg_gen *g, struct vg_stream *st,
			const struct vg_leg *l, uint32_t slot, bool exempt,
			uint64_t now)
{
	uint32_t jit = (uint32_t)(g->o.jitter_ms * 1000);
	uint64_t arr = now;

	/* The first packet of a leg is on time so a receiver starts the
	 * stream at its first sequence number. */
	if (slot != l->first_slot && jit)
		arr += vg_rand_below(&st->rng, jit + 1);
	/* --reorder: late enough to land after the next packet. */
	if (!exempt && vg_chance(&st->rng, g->o.reorder))
		arr = now + VG_PTIME_US + jit + 1 + vg_rand_below(&st->rng, 5000);
	/* The last packet is written last, so the highest sequence number a
	 * receiver sees at the end is the last one sent. */
	if (slot == l->last_slot && arr <= l->max_arrival)
		arr = l->max_arrival + 1;
	return arr;
}

void media_tick(struct vg_gen *g, struct vg_call *c, int dir, uint32_t slot,
		uint64_t now)
{
	struct vg_stream *st = &c->dir[dir];
	struct vg_leg *l = &st->leg[slot >= st->switch_slot];
	int part;
	bool ev = event_of(st, slot, &part) >= 0;
	bool exempt = ev || slot == l->first_slot || slot == l->last_slot;
	bool dup;
	uint64_t arr;

	if (slot + 1 < st->nslots)
		gen_push(g, c, EV_TICK, now + VG_PTIME_US, dir, slot + 1, 0);
	st->sent_pkts++;
	st->sent_octets += ev ? 4 : vg_codec_bytes(g->o.codec);
	if (exempt)
		st->burst_left = 0;
	else if (lose(g, st)) {
		l->lost++;
		l->run++;
		return;
	}
	count_run(l);
	l->unique++;
	arr = arrival(g, st, l, slot, exempt, now);
	if (arr > l->max_arrival)
		l->max_arrival = arr;
	dup = !exempt && vg_chance(&st->rng, g->o.dup);
	/* On time and single: write now rather than through the heap; the
	 * order is still by time, and this halves heap work without jitter. */
	if (arr == now && !dup)
		media_write(g, c, dir, slot, false, now);
	else
		gen_push(g, c, EV_RTP, arr, dir, slot, 0);
	if (dup) {
		arr += 1 + vg_rand_below(&st->rng, VG_PTIME_US / 2);
		if (arr > l->max_arrival)
			l->max_arrival = arr;
		gen_push(g, c, EV_RTP, arr, dir, slot, EVF_DUP);
	}
}

/* RFC 3550 A.8 in write order, as tshark 4.0's RTP analysis computes it
 * (the reference the CDRs are checked against): telephone-event packets
 * (which carry the event's start timestamp) do not update J or the last
 * timestamp, but their arrival does become the last arrival. */
static void rx_update(struct vg_rx *rx, uint32_t slot, uint32_t ts_slot,
		      bool dup, bool ev, uint64_t arr)
{
	rx->packets++;
	if (dup)
		rx->dup++;
	else if (rx->any && slot < rx->max_slot)
		rx->reordered++;
	if (!rx->any || slot > rx->max_slot)
		rx->max_slot = slot;
	rx->any = true;
	if (rx->have_transit && !ev) {
		double d = fabs((double)((int64_t)arr - (int64_t)rx->last_arr) -
				((double)ts_slot - rx->last_ts_slot) *
					VG_PTIME_US);

		rx->jitter_us += (d - rx->jitter_us) / 16.0;
		if (rx->jitter_us > rx->max_jitter_us)
			rx->max_jitter_us = rx->jitter_us;
	}
	rx->last_arr = arr;
	if (!ev) {
		rx->last_ts_slot = ts_slot;
		rx->have_transit = true;
	}
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

void media_pattern(int codec, uint8_t *pat, size_t len)
{
	uint8_t base = codec == CODEC_PCMU ? 0xff :
		       codec == CODEC_PCMA ? 0xd5 : 0;
	size_t i;

	for (i = 0; i < len; i++)
		pat[i] = base ^ (uint8_t)(i & 0x0f);
}

void media_write(struct vg_gen *g, struct vg_call *c, int dir, uint32_t slot,
		 bool dup, uint64_t now)
{
	struct vg_stream *st = &c->dir[dir];
	struct vg_leg *l = &st->leg[slot >= st->switch_slot];
	struct vg_party *snd = dir ? &c->callee : &c->caller;
	uint8_t rtp[12 + 200];
	int part = 0, digit = event_of(st, slot, &part);
	uint32_t ts_slot = slot;
	size_t len, n;
	bool marker = slot == 0;

	if (digit >= 0) {
		ts_slot = st->dtmf_start + (uint32_t)digit * VG_DTMF_PERIOD;
		marker = part == 0;
		rtp[12] = (uint8_t)dtmf_code(st->dtmf[digit]);
		rtp[13] = (uint8_t)((part >= 3 ? 0x80 : 0) | 10);
		put16(rtp + 14, (uint32_t)((part >= 3 ? 3 : part + 1) *
					   VG_TS_PER_PKT));
		len = 4;
	} else {
		/* Codec silence with a small ramp, so payloads differ. */
		len = vg_codec_bytes(g->o.codec);
		memcpy(rtp + 12, g->pattern + (slot & 0x0f), len);
	}
	rtp[0] = 0x80;
	rtp[1] = (uint8_t)((marker ? 0x80 : 0) |
			   (digit >= 0 ? VG_DTMF_PT : st->pt));
	put16(rtp + 2, (uint16_t)(st->seq0 + slot));
	put32(rtp + 4, st->ts0 + ts_slot * VG_TS_PER_PKT);
	put32(rtp + 8, st->ssrc);
	n = net_udp(&g->net, g->scratch, &l->src, &l->dst, snd->ipid++, rtp,
		    12 + len);
	gen_write(g, now, g->scratch, n);
	rx_update(&l->rx, slot, ts_slot, dup, digit >= 0, now);
	rx_update(&st->rx, slot, ts_slot, dup, digit >= 0, now);
}

static uint64_t ntp_of(uint64_t t_us)
{
	uint64_t sec = t_us / 1000000 + NTP_UNIX_OFFSET;
	uint64_t frac = ((t_us % 1000000) << 32) / 1000000;

	return sec << 32 | frac;
}

/* One report block about the other direction, as its receiver sees it. */
static size_t report_block(struct vg_stream *me, const struct vg_stream *peer,
			   uint64_t now, uint8_t *p)
{
	const struct vg_rx *rx = &peer->rx;
	uint64_t expected = rx->max_slot + 1ull, received = rx->packets;
	uint64_t de = expected - me->rr_expected;
	int64_t dr = (int64_t)received - (int64_t)me->rr_received;
	int64_t lost = (int64_t)expected - (int64_t)received;
	int64_t dl = (int64_t)de - dr;
	uint32_t dlsr = 0;

	if (!rx->any)
		return 0;
	if (lost < 0)
		lost = 0;
	put32(p, peer->ssrc);
	p[4] = de && dl > 0 ? (uint8_t)((dl << 8) / (int64_t)de) : 0;
	p[5] = (uint8_t)(lost >> 16);
	put16(p + 6, (uint32_t)lost);
	put32(p + 8, (uint32_t)peer->seq0 + rx->max_slot);
	put32(p + 12, (uint32_t)(rx->jitter_us / 125.0));
	put32(p + 16, (uint32_t)(peer->last_sr_ntp >> 16));
	if (peer->last_sr_ntp)
		dlsr = (uint32_t)((now - peer->last_sr_t) * 65536 / 1000000);
	put32(p + 20, dlsr);
	me->rr_expected = expected;
	me->rr_received = received;
	return 24;
}

/* A compound RTCP packet: SR with one report block, then SDES CNAME. */
void media_rtcp(struct vg_gen *g, struct vg_call *c, int dir, uint32_t n,
		uint64_t now)
{
	struct vg_stream *st = &c->dir[dir];
	uint32_t slot = (uint32_t)((now - st->t0) / VG_PTIME_US);
	struct vg_leg *l = &st->leg[slot >= st->switch_slot];
	struct vg_party *snd = dir ? &c->callee : &c->caller;
	struct vg_ep s = l->src, d = l->dst;
	uint8_t pkt[160];
	uint64_t ntp = ntp_of(now);
	size_t rb, len, cn, sd;
	char cname[80], ip[64];

	if (now + RTCP_INTERVAL_US < media_end(st))
		gen_push(g, c, EV_RTCP, now + RTCP_INTERVAL_US, dir, n + 1, 0);
	rb = report_block(st, &c->dir[!dir], now, pkt + 28);
	pkt[0] = (uint8_t)(0x80 | (rb ? 1 : 0));
	pkt[1] = 200;
	put16(pkt + 2, (uint32_t)((28 + rb) / 4 - 1));
	put32(pkt + 4, st->ssrc);
	put32(pkt + 8, (uint32_t)(ntp >> 32));
	put32(pkt + 12, (uint32_t)ntp);
	put32(pkt + 16, st->ts0 + (uint32_t)((now - st->t0) * 8 / 1000));
	put32(pkt + 20, (uint32_t)st->sent_pkts);
	put32(pkt + 24, (uint32_t)st->sent_octets);
	len = 28 + rb;
	net_ip_str(&g->net, snd->sip.ip, ip, sizeof(ip));
	cn = (size_t)snprintf(cname, sizeof(cname), "vsgen@%s", ip);
	/* SDES chunk: SSRC, CNAME item, end marker, padded to 32 bits. */
	sd = (4 + 2 + cn + 1 + 3) & ~(size_t)3;
	memset(pkt + len, 0, 4 + sd);
	pkt[len] = 0x81;
	pkt[len + 1] = 202;
	put16(pkt + len + 2, (uint32_t)(sd / 4));
	put32(pkt + len + 4, st->ssrc);
	pkt[len + 8] = 1;
	pkt[len + 9] = (uint8_t)cn;
	memcpy(pkt + len + 10, cname, cn);
	len += 4 + sd;
	s.port++;
	d.port++;
	len = net_udp(&g->net, g->scratch, &s, &d, snd->ipid++, pkt, len);
	gen_write(g, now, g->scratch, len);
	st->last_sr_ntp = ntp;
	st->last_sr_t = now;
	st->rtcp_sent++;
}
