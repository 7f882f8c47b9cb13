/* One call: addresses, the SIP script of its scenario, and the queue of
 * frames (TCP segments, IP fragments) that one SIP step turns into. */
#include <stdlib.h>
#include <string.h>

#include "vsgen.h"

#define MS 1000ull
#define FRAME_GAP_US 50		/* between frames of one SIP step */
#define RING_US (1000 * MS)	/* 180 Ringing to answer or CANCEL */
#define QBUF_SIZE 16384

static void party_addr(struct vg_party *p, bool v6, int side, uint32_t i)
{
	uint8_t x = (uint8_t)(1 + (i / 250) % 250), y = (uint8_t)(1 + i % 250);
	static const uint8_t mac[6] = { 0x02, 0x00, 0x0a, 0, 0, 0 };

	memcpy(p->sip.mac, mac, 6);
	p->sip.mac[3] = (uint8_t)side;
	p->sip.mac[4] = x;
	p->sip.mac[5] = y;
	memset(p->sip.ip, 0, sizeof(p->sip.ip));
	if (v6) {
		p->sip.ip[0] = 0xfd;	/* fd00::side:x:y */
		p->sip.ip[11] = (uint8_t)side;
		p->sip.ip[13] = x;
		p->sip.ip[15] = y;
	} else {
		p->sip.ip[0] = 10;	/* 10.side.x.y */
		p->sip.ip[1] = (uint8_t)side;
		p->sip.ip[2] = x;
		p->sip.ip[3] = y;
	}
}

static void parties_init(struct vg_gen *g, struct vg_call *c, uint64_t *rng)
{
	struct vg_party *a = &c->caller, *b = &c->callee;
	uint32_t i = c->index;

	snprintf(a->number, sizeof(a->number), "4930%07u", 1000000 + i);
	snprintf(b->number, sizeof(b->number), "4940%07u", 2000000 + i);
	snprintf(a->display, sizeof(a->display), "Caller %u", i);
	snprintf(b->display, sizeof(b->display), "Callee %u", i);
	snprintf(a->domain, sizeof(a->domain), "pbx%u.example.com", i % 4);
	snprintf(b->domain, sizeof(b->domain), "voice.example.net");
	snprintf(a->tag, sizeof(a->tag), "%08x", (uint32_t)vg_rand(rng));
	snprintf(b->tag, sizeof(b->tag), "%08x", (uint32_t)vg_rand(rng));
	party_addr(a, g->o.ipv6, 1, i);
	party_addr(b, g->o.ipv6, 2, i);
	b->sip.port = g->o.sipport;
	/* Over TCP the caller connects from an ephemeral port. */
	a->sip.port = g->o.tcp ? (uint16_t)(32768 + i % 28000) : g->o.sipport;
	a->rtp_port[0] = (uint16_t)(10000 + 4 * (i % 12000));
	b->rtp_port[0] = (uint16_t)(10000 + 4 * ((i + 6000) % 12000));
	/* A re-INVITE always moves the callee, and the caller on odd calls. */
	b->rtp_port[1] = b->rtp_port[0] + 2;
	a->rtp_port[1] = a->rtp_port[0] + (i & 1 ? 2 : 0);
	a->tcp_seq = (uint32_t)vg_rand(rng);
	b->tcp_seq = (uint32_t)vg_rand(rng);
	a->ipid = (uint16_t)vg_rand(rng);
	b->ipid = (uint16_t)vg_rand(rng);
	snprintf(c->branch[0], sizeof(c->branch[0]), "%010llx",
		 (unsigned long long)(vg_rand(rng) >> 24));
	snprintf(c->branch[1], sizeof(c->branch[1]), "%010llx",
		 (unsigned long long)(vg_rand(rng) >> 24));
	snprintf(c->call_id, sizeof(c->call_id), "%08x-%u-%llu@vsgen.invalid",
		 (uint32_t)vg_rand(rng), i, (unsigned long long)g->o.seed);
}

/* Steps run in the order added: a step never goes before the previous one
 * (only a very short --duration could ask for that). */
static uint64_t add_step(struct vg_call *c, uint64_t t, int msg, int tag)
{
	if (c->nsteps && t <= c->step[c->nsteps - 1].t)
		t = c->step[c->nsteps - 1].t + MS;
	if (c->nsteps < VG_MAX_STEPS) {
		c->step[c->nsteps].t = t;
		c->step[c->nsteps].msg = (uint8_t)msg;
		c->step[c->nsteps].tag = (uint8_t)tag;
		c->nsteps++;
	}
	return t;
}

/* INVITE, 100 and 180; returns the time of the 180 (or of the 100 for a
 * busy callee, which does not ring). */
static uint64_t script_setup(struct vg_gen *g, struct vg_call *c, uint64_t t)
{
	if (g->o.tcp)
		t = add_step(c, t, M_TCP_OPEN, TAG_NONE) + MS;
	add_step(c, t, M_INVITE, TAG_INVITE);
	/* A retransmission goes out after T1 when no 100 came back. */
	if (g->o.retrans)
		t = add_step(c, t + 500 * MS, M_INVITE, TAG_NONE);
	t += 10 * MS;
	if (c->scenario == SC_BUSY)
		return add_step(c, t, M_100, TAG_NONE);
	if (g->o.tcp)
		return add_step(c, t, M_100_180, TAG_RING);
	add_step(c, t, M_100, TAG_NONE);
	return add_step(c, t + 40 * MS, M_180, TAG_RING);
}

/* 200 OK, ACK, media, optional re-INVITE, BYE. */
static uint64_t script_answer(struct vg_gen *g, struct vg_call *c, uint64_t t)
{
	uint64_t ta = add_step(c, t + RING_US, M_200_INV, TAG_ANSWER);
	uint64_t t0 = ta + 20 * MS, end;
	uint32_t nslots;

	t = ta;
	if (g->o.retrans)
		t = add_step(c, t + 500 * MS, M_200_INV, TAG_NONE);
	add_step(c, t + 10 * MS, M_ACK, TAG_NONE);
	c->has_media = c->scenario != SC_NORTP;
	if (c->has_media) {
		media_init(g, c, 0, t0);
		media_init(g, c, 1, t0 + 3 * MS);
	}
	nslots = media_slots(g);
	end = t0 + 3 * MS + (uint64_t)nslots * VG_PTIME_US;
	if (c->scenario == SC_REINVITE) {
		/* The new ports take effect at the switch slot. */
		uint64_t ts = t0 + (uint64_t)(nslots / 2) * VG_PTIME_US;

		add_step(c, ts - 60 * MS, M_REINVITE, TAG_NONE);
		add_step(c, ts - 40 * MS, M_200_REINV, TAG_NONE);
		add_step(c, ts - 20 * MS, M_ACK_RE, TAG_NONE);
	}
	add_step(c, end + 20 * MS, M_BYE, TAG_BYE);
	return add_step(c, end + 30 * MS, M_200_BYE, TAG_END);
}

static void script_build(struct vg_gen *g, struct vg_call *c, uint64_t t0)
{
	uint64_t t = script_setup(g, c, t0);

	switch (c->scenario) {
	case SC_BUSY:
		c->final_code = 486;
		t = add_step(c, t + 300 * MS, M_486, TAG_FINAL);
		t = add_step(c, t + 5 * MS, M_ACK_ERR, TAG_END);
		break;
	case SC_CANCEL:
		c->final_code = 487;
		t = add_step(c, t + RING_US, M_CANCEL, TAG_NONE);
		add_step(c, t + 5 * MS, M_200_CANCEL, TAG_NONE);
		add_step(c, t + 8 * MS, M_487, TAG_FINAL);
		t = add_step(c, t + 13 * MS, M_ACK_ERR, TAG_END);
		break;
	case SC_NOANSWER:
		c->final_code = 480;
		t += (uint64_t)(g->o.duration * 1e6);
		t = add_step(c, t, M_480, TAG_FINAL);
		t = add_step(c, t + 5 * MS, M_ACK_ERR, TAG_END);
		break;
	default:
		c->final_code = 200;
		t = script_answer(g, c, t);
		break;
	}
	if (g->o.tcp)
		add_step(c, t + 5 * MS, M_TCP_CLOSE, TAG_NONE);
}

struct vg_call *call_new(struct vg_gen *g, uint32_t index, uint64_t t0)
{
	struct vg_call *c = calloc(1, sizeof(*c));
	uint64_t rng;

	if (!c)
		return NULL;
	c->index = index;
	rng = g->o.seed * 0x100000001b3ull + index;
	c->scenario = g->o.scenario == SC_MIX ? (int)(index % SC_COUNT)
					      : g->o.scenario;
	c->callee_hangs_up = index & 1;
	parties_init(g, c, &rng);
	script_build(g, c, t0);
	return c;
}

void call_free(struct vg_call *c)
{
	if (!c)
		return;
	free(c->qbuf);
	free(c);
}

const struct vg_ep *call_media_ep(const struct vg_call *c, int party,
				  int leg, struct vg_ep *tmp)
{
	const struct vg_party *p = party ? &c->callee : &c->caller;

	*tmp = p->sip;
	tmp->port = p->rtp_port[leg];
	return tmp;
}

/* --- the frame queue ---------------------------------------------------- */

static void q_add(struct vg_call *c, const uint8_t *f, size_t len, int tag)
{
	if (!len || c->qn >= VG_MAX_QFRAMES)
		return;
	if (!c->qbuf) {
		c->qbuf = malloc(QBUF_SIZE);
		if (!c->qbuf)
			return;
	}
	if (c->qlen + len > QBUF_SIZE)
		return;
	memcpy(c->qbuf + c->qlen, f, len);
	c->q[c->qn].off = (uint32_t)c->qlen;
	c->q[c->qn].len = (uint32_t)len;
	c->q[c->qn].tag = (uint8_t)tag;
	c->qlen += len;
	c->qn++;
}

struct frag_ctx {
	struct vg_call *c;
};

static void q_add_frag(void *arg, const uint8_t *f, size_t len)
{
	struct frag_ctx *fc = arg;

	q_add(fc->c, f, len, TAG_NONE);
}

static void stamp(struct vg_call *c, int tag, uint64_t t)
{
	switch (tag) {
	case TAG_INVITE:
		if (!c->t_invite)
			c->t_invite = t;
		break;
	case TAG_RING:
		if (!c->t_ring)
			c->t_ring = t;
		break;
	case TAG_ANSWER:
		if (!c->t_answer)
			c->t_answer = t;
		/* fall through */
	case TAG_FINAL:
		if (!c->t_final)
			c->t_final = t;
		break;
	case TAG_BYE:
		c->t_bye = t;
		break;
	case TAG_END:
		c->t_end = t;
		break;
	}
}

/* Writes the next queued frame; schedules the one after it. */
void call_frame(struct vg_gen *g, struct vg_call *c, uint64_t now)
{
	if (c->qhead >= c->qn)
		return;
	gen_write(g, now, c->qbuf + c->q[c->qhead].off, c->q[c->qhead].len);
	stamp(c, c->q[c->qhead].tag, now);
	c->qhead++;
	if (c->qhead < c->qn)
		gen_push(g, c, EV_FRAME, now + FRAME_GAP_US, 0, 0, 0);
	else
		c->qn = c->qhead = 0, c->qlen = 0;
}

/* --- SIP over UDP and TCP ----------------------------------------------- */

static void tcp_seg(struct vg_gen *g, struct vg_call *c, bool from_caller,
		    uint8_t flags, const char *pl, size_t len, int tag)
{
	struct vg_party *s = from_caller ? &c->caller : &c->callee;
	struct vg_party *d = from_caller ? &c->callee : &c->caller;
	size_t n = net_tcp(&g->net, g->scratch, &s->sip, &d->sip, s->ipid++,
			   s->tcp_seq, d->tcp_seq, flags, pl, len);

	q_add(c, g->scratch, n, tag);
	s->tcp_seq += (uint32_t)len + ((flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);
}

static void tcp_open(struct vg_gen *g, struct vg_call *c)
{
	tcp_seg(g, c, true, TCP_SYN, NULL, 0, TAG_NONE);
	tcp_seg(g, c, false, TCP_SYN | TCP_ACK, NULL, 0, TAG_NONE);
	tcp_seg(g, c, true, TCP_ACK, NULL, 0, TAG_NONE);
}

static void tcp_close(struct vg_gen *g, struct vg_call *c)
{
	tcp_seg(g, c, true, TCP_FIN | TCP_ACK, NULL, 0, TAG_NONE);
	tcp_seg(g, c, false, TCP_FIN | TCP_ACK, NULL, 0, TAG_NONE);
	tcp_seg(g, c, true, TCP_ACK, NULL, 0, TAG_NONE);
}

/* Over TCP the INVITE, and the 200 OK of odd calls, are split across two
 * segments, so a receiver has to reassemble them. */
static void sip_tcp(struct vg_gen *g, struct vg_call *c, int msg, size_t len,
		    int tag)
{
	bool fc = sip_from_caller(c, msg == M_100_180 ? M_100 : msg);
	bool split = msg == M_INVITE || (msg == M_200_INV && (c->index & 1));
	uint8_t fl = TCP_PSH | TCP_ACK;

	if (split && len > 64) {
		size_t half = len / 2;

		tcp_seg(g, c, fc, TCP_ACK, g->sipbuf, half, TAG_NONE);
		tcp_seg(g, c, fc, fl, g->sipbuf + half, len - half, tag);
		return;
	}
	tcp_seg(g, c, fc, fl, g->sipbuf, len, tag);
}

static void sip_udp(struct vg_gen *g, struct vg_call *c, int msg, size_t len,
		    int tag)
{
	bool fc = sip_from_caller(c, msg);
	struct vg_party *s = fc ? &c->caller : &c->callee;
	struct vg_party *d = fc ? &c->callee : &c->caller;
	size_t n;

	if (g->o.frag && msg == M_INVITE) {
		struct frag_ctx fctx = { c };
		unsigned before = c->qn;

		net_udp_frag(&g->net, &s->sip, &d->sip, s->ipid++, g->sipbuf,
			     len, g->o.mtu, q_add_frag, &fctx);
		/* The last fragment completes the message. */
		if (c->qn > before)
			c->q[c->qn - 1].tag = (uint8_t)tag;
		return;
	}
	n = net_udp(&g->net, g->scratch, &s->sip, &d->sip, s->ipid++,
		    g->sipbuf, len);
	q_add(c, g->scratch, n, tag);
}

static size_t build_text(struct vg_gen *g, struct vg_call *c, int msg)
{
	size_t n;

	if (msg != M_100_180)
		return sip_build(g, c, msg, g->sipbuf, sizeof(g->sipbuf));
	/* One TCP segment carrying two messages. */
	n = sip_build(g, c, M_100, g->sipbuf, sizeof(g->sipbuf));
	return n + sip_build(g, c, M_180, g->sipbuf + n,
			     sizeof(g->sipbuf) - n);
}

void call_step(struct vg_gen *g, struct vg_call *c, unsigned idx,
	       uint64_t now)
{
	const struct vg_step *s = &c->step[idx];
	bool idle = c->qhead >= c->qn;

	if (idx + 1 < c->nsteps)
		gen_push(g, c, EV_STEP, c->step[idx + 1].t, 0, idx + 1, 0);
	if (s->msg == M_TCP_OPEN) {
		tcp_open(g, c);
	} else if (s->msg == M_TCP_CLOSE) {
		tcp_close(g, c);
	} else {
		size_t len = build_text(g, c, s->msg);

		if (!len)
			return;
		if (g->o.tcp)
			sip_tcp(g, c, s->msg, len, s->tag);
		else
			sip_udp(g, c, s->msg, len, s->tag);
	}
	if (idle)
		call_frame(g, c, now);
}
