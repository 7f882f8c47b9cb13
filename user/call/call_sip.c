// SPDX-License-Identifier: GPL-2.0-or-later
/* SIP drives calls: creation on INVITE, progress, answer, the end (BYE,
 * CANCEL, final error), retransmission detection and SDP media. */
#include <string.h>
#include <strings.h>

#include "call/call_int.h"
#include "core/hash.h"
#include "sip/sdp.h"

/* A SIP transaction can only end a call after final timers ran out: RFC 3261
 * Timer B/F (64*T1). Used when a BYE or CANCEL is never answered. */
#define SIP_TXN_TIMEOUT_US (32ULL * 1000000)

/* After 401/407 the caller's phone retries with credentials, the same
 * Call-ID and the next CSeq; when a person types the password that can take
 * a while (51 s in sngrep's aaa.pcap). Waiting keeps it one call, one CDR. */
#define SIP_AUTH_WAIT_US (120ULL * 1000000)

static int view_eq(const struct vs_str *s, const char *p, size_t len)
{
	return s->p && s->len == len && memcmp(s->p, p, len) == 0;
}

/* Which side a message belongs to: requests sent by the caller and the
 * responses to them carry the caller's From tag. */
static enum vs_side msg_side(const struct vs_call *c, const struct vs_sip_msg *m,
			     const struct vs_datagram *d)
{
	if (c->caller_tag_len)
		return view_eq(&m->from.tag, c->caller_tag, c->caller_tag_len) ?
			       VS_SIDE_CALLER : VS_SIDE_CALLEE;
	/* No From tag on the INVITE: fall back on addresses. */
	if (m->is_request)
		return vs_endpoint_eq(&d->src, &c->cdr.sip_caller) ?
			       VS_SIDE_CALLER : VS_SIDE_CALLEE;
	return vs_endpoint_eq(&d->dst, &c->cdr.sip_caller) ? VS_SIDE_CALLER :
							     VS_SIDE_CALLEE;
}

/* Retransmissions repeat the same message between the same two hops; a proxy
 * forwarding it changes the hop, so the copy on the next leg is not one. */
static int is_retransmission(struct vs_call *c, const struct vs_sip_msg *m,
			     const struct vs_datagram *d)
{
	struct {
		uint32_t cseq;
		uint16_t status, method;
		struct vs_endpoint src, dst;
	} k;
	uint64_t h;
	uint32_t sig;

	memset(&k, 0, sizeof(k));
	k.cseq = m->cseq;
	k.status = (uint16_t)m->status;
	k.method = (uint16_t)(m->is_request ? m->method : m->cseq_method) |
		   (m->is_request ? 0x8000 : 0);
	k.src = d->src;
	k.dst = d->dst;
	h = vs_hash_bytes(&k, sizeof(k), 0);
	if (m->via_branch.p)
		h ^= vs_hash_bytes(m->via_branch.p, m->via_branch.len, 1);
	sig = (uint32_t)(h | 1); /* 0 marks an empty ring slot */
	for (int i = 0; i < VS_CALL_SIG_RING; i++)
		if (c->sig[i] == sig)
			return 1;
	c->sig[c->sig_next] = sig;
	c->sig_next = (c->sig_next + 1) % VS_CALL_SIG_RING;
	return 0;
}

static void remember_pt(struct vs_call *c, uint8_t side,
			const struct vs_sdp_media *md)
{
	for (int i = 0; i < md->n_fmt; i++) {
		struct vs_pt_map *pm = NULL;
		const char *name;
		uint32_t clock;
		uint8_t pt = md->fmt[i];

		if (vs_sdp_media__codec(md, pt, &name, &clock) < 0)
			continue;
		for (int j = 0; j < c->npt[side]; j++)
			if (c->pt[side][j].pt == pt)
				pm = &c->pt[side][j];
		if (!pm) {
			if (c->npt[side] >= VS_CALL_MAX_PT)
				continue;
			pm = &c->pt[side][c->npt[side]++];
		}
		pm->pt = pt;
		pm->clock = clock;
		pm->is_event = strcasecmp(name, "telephone-event") == 0;
		pm->is_video = md->type == VS_SDP_VIDEO;
		strncpy(pm->name, name, sizeof(pm->name) - 1);
		pm->name[sizeof(pm->name) - 1] = '\0';
	}
}

/* Registers one endpoint and, when natalias maps its address, the address
 * the packets will really carry. */
static void register_ep(struct vs_call_table *t, struct vs_call *c,
			uint8_t side, const struct vs_addr *a, uint16_t port,
			uint8_t is_rtcp, uint8_t is_video)
{
	const struct vs_conf *cf = t->o.conf;
	struct vs_endpoint ep = { .addr = *a, .port = port };

	vs_media__register(t, c, side, &ep, is_rtcp, is_video);
	for (uint32_t i = 0; i < cf->n_natalias; i++) {
		if (!vs_addr_eq(a, &cf->natalias[i].from))
			continue;
		ep.addr = cf->natalias[i].to;
		vs_media__register(t, c, side, &ep, is_rtcp, is_video);
	}
}

static void handle_sdp(struct vs_call_table *t, struct vs_call *c,
		       const struct vs_sip_msg *m, uint8_t side,
		       struct vs_sip_stats *sst)
{
	struct vs_sdp sdp;

	if (!m->body.len || vs_sdp__parse(m->body.p, m->body.len, &sdp, sst))
		return;
	for (int i = 0; i < sdp.n_media; i++) {
		const struct vs_sdp_media *md = &sdp.media[i];
		uint8_t video = md->type == VS_SDP_VIDEO;

		if (md->type == VS_SDP_OTHER || !md->port || !md->has_addr)
			continue;
		remember_pt(c, side, md);
		register_ep(t, c, side, &md->addr, md->port, 0, video);
		if (md->rtcp_port && !(md->rtcp_port == md->port &&
				       vs_addr_eq(&md->rtcp_addr, &md->addr)))
			register_ep(t, c, side, &md->rtcp_addr, md->rtcp_port,
				    1, video);
	}
}

static void set_nameaddr(char *num, size_t nn, char *dom, size_t nd,
			 char *name, size_t nm, const struct vs_sip_nameaddr *na)
{
	vs_strcpy_view(num, nn, &na->user);
	vs_strcpy_view(dom, nd, &na->host);
	vs_strcpy_view(name, nm, &na->display);
}

static void call_start(struct vs_call *c, const struct vs_sip_msg *m,
		       const struct vs_datagram *d, uint16_t id_sensor)
{
	struct vs_cdr *r = &c->cdr;

	r->id_sensor = id_sensor;
	r->calldate_us = d->ts_us;
	r->sip_caller = d->src;
	r->sip_called = d->dst;
	set_nameaddr(r->caller, sizeof(r->caller), r->caller_domain,
		     sizeof(r->caller_domain), r->caller_name,
		     sizeof(r->caller_name), &m->from);
	set_nameaddr(r->called, sizeof(r->called), r->called_domain,
		     sizeof(r->called_domain), r->called_name,
		     sizeof(r->called_name), &m->to);
	vs_strcpy_view(r->caller_ua, sizeof(r->caller_ua), &m->user_agent);
	if (m->from.tag.p && m->from.tag.len < VS_CALL_TAG_MAX) {
		memcpy(c->caller_tag, m->from.tag.p, m->from.tag.len);
		c->caller_tag_len = (uint8_t)m->from.tag.len;
	}
	c->invite_cseq = m->cseq;
}

static void handle_request(struct vs_call *c,
			   const struct vs_sip_msg *m,
			   const struct vs_datagram *d, enum vs_side side)
{
	struct vs_cdr *r = &c->cdr;

	switch (m->method) {
	case VS_SIP_INVITE:
		if (m->cseq != c->invite_cseq) {
			if (c->answered)
				r->reinvites++;
			else if (c->end_at_us && r->end == VS_END_ERROR)
				c->end_at_us = 0; /* new try after 401/407 */
			c->invite_cseq = m->cseq;
		}
		break;
	case VS_SIP_BYE:
		if (!c->bye_seen) {
			c->bye_seen = 1;
			r->whohanged = side == VS_SIDE_CALLER ?
					       VS_HANGUP_CALLER :
					       VS_HANGUP_CALLEE;
			vs_strcpy_view(r->bye_reason, sizeof(r->bye_reason),
				       &m->reason);
		}
		vs_call__end_at(c, d->ts_us + SIP_TXN_TIMEOUT_US, VS_END_BYE);
		break;
	case VS_SIP_CANCEL:
		if (!c->answered && !c->cancel_seen) {
			c->cancel_seen = 1;
			r->whohanged = VS_HANGUP_CALLER;
			vs_strcpy_view(r->bye_reason, sizeof(r->bye_reason),
				       &m->reason);
			vs_call__end_at(c, d->ts_us + SIP_TXN_TIMEOUT_US,
					VS_END_CANCEL);
		}
		break;
	default:
		break;
	}
}

static void handle_invite_response(struct vs_call_table *t, struct vs_call *c,
				   const struct vs_sip_msg *m,
				   const struct vs_datagram *d)
{
	uint64_t grace = t->o.end_grace_ms * 1000ULL;
	struct vs_cdr *r = &c->cdr;
	int code = m->status;

	if (c->answered && code >= 200) /* re-INVITE answers: not the call's */
		return;
	r->last_sip_code = code;
	vs_strcpy_view(r->last_sip_text, sizeof(r->last_sip_text),
		       &m->status_text);
	if (code >= 180 && code < 190 && !r->progress_us)
		r->progress_us = d->ts_us;
	if (code > 100 && m->user_agent.p && !r->called_ua[0])
		vs_strcpy_view(r->called_ua, sizeof(r->called_ua),
			       &m->user_agent);
	if (code >= 200 && code < 300) {
		c->answered = 1;
		if (!r->connect_us)
			r->connect_us = d->ts_us;
		if (c->end_at_us && r->end == VS_END_CANCEL) /* 200 won race */
			c->end_at_us = 0;
	} else if (code == 401 || code == 407) {
		vs_call__end_at(c, d->ts_us + SIP_AUTH_WAIT_US, VS_END_ERROR);
	} else if (code >= 300) {
		vs_call__end_at(c, d->ts_us + grace,
				c->cancel_seen ? VS_END_CANCEL : VS_END_ERROR);
	}
}

static void handle_response(struct vs_call_table *t, struct vs_call *c,
			    const struct vs_sip_msg *m,
			    const struct vs_datagram *d)
{
	uint64_t grace = t->o.end_grace_ms * 1000ULL;

	switch (m->cseq_method) {
	case VS_SIP_INVITE:
		handle_invite_response(t, c, m, d);
		break;
	case VS_SIP_BYE:
		if (m->status >= 200)
			vs_call__end_at(c, d->ts_us + grace, VS_END_BYE);
		break;
	default:
		break;
	}
}

static void count_outside(struct vs_call_stats *st, const struct vs_sip_msg *m)
{
	enum vs_sip_method meth = m->is_request ? m->method : m->cseq_method;

	if (meth == VS_SIP_REGISTER)
		st->sip_register++;
	else if (meth == VS_SIP_OPTIONS)
		st->sip_options++;
	else if (meth == VS_SIP_INVITE || meth == VS_SIP_ACK ||
		 meth == VS_SIP_BYE || meth == VS_SIP_CANCEL ||
		 meth == VS_SIP_PRACK || meth == VS_SIP_UPDATE ||
		 meth == VS_SIP_INFO)
		st->sip_no_call++;
	else
		st->sip_other++;
}

struct vs_call *vs_call_table__sip(struct vs_call_table *t,
				   const struct vs_sip_msg *m,
				   const struct vs_datagram *d,
				   uint16_t id_sensor)
{
	struct vs_call_stats *st = t->o.stats;
	uint64_t h = vs_hash_bytes(m->call_id.p, m->call_id.len, 0);
	struct vs_call *c = vs_call__find(t, m->call_id.p, m->call_id.len, h);
	enum vs_side side;

	if (!c) {
		if (!m->is_request || m->method != VS_SIP_INVITE) {
			count_outside(st, m);
			return NULL;
		}
		c = vs_call__create(t, m->call_id.p, m->call_id.len, h);
		if (!c)
			return NULL;
		call_start(c, m, d, id_sensor);
	}
	st->sip_in_call++;
	if (d->ts_us > c->last_us)
		c->last_us = d->ts_us;
	c->last_sip_us = d->ts_us;
	if (is_retransmission(c, m, d)) {
		st->sip_retrans++;
		return c;
	}
	c->cdr.sip_messages++;
	side = msg_side(c, m, d);
	if (m->is_request)
		handle_request(c, m, d, side);
	else
		handle_response(t, c, m, d);
	/* SDP in a request describes its sender; in a response, the side the
	 * request went to. */
	if (m->body.len)
		handle_sdp(t, c, m, m->is_request ? side : !side,
			   t->o.sip_stats);
	return c;
}
