/* RFC 3261 messages with SDP (RFC 4566) for the call scripts. */
#include <string.h>

#include "vsgen.h"

/* How each message of enum vg_msg is written. "owner" is the side that sent
 * the request of the transaction: Via, From and To follow the request. */
struct msg_desc {
	const char *method;	/* request method, or NULL for a response */
	int code;
	const char *reason;
	const char *cseq_method;
	uint8_t cseq;		/* 0: the BYE's, chosen at run time */
	uint8_t branch;		/* 0 INVITE, 1 re-INVITE, 2 BYE, 3/4 ACKs */
	bool to_tag;
	bool contact;
	int8_t sdp;		/* -1 none, else media leg */
	bool in_dialog;		/* Request-URI is the peer's Contact */
};

static const struct msg_desc descs[] = {
	[M_INVITE] = { "INVITE", 0, NULL, "INVITE", 1, 0, false, true, 0, false },
	[M_100] = { NULL, 100, "Trying", "INVITE", 1, 0, false, false, -1, false },
	[M_180] = { NULL, 180, "Ringing", "INVITE", 1, 0, true, true, -1, false },
	[M_200_INV] = { NULL, 200, "OK", "INVITE", 1, 0, true, true, 0, false },
	[M_ACK] = { "ACK", 0, NULL, "ACK", 1, 3, true, false, -1, true },
	[M_CANCEL] = { "CANCEL", 0, NULL, "CANCEL", 1, 0, false, false, -1, false },
	[M_200_CANCEL] = { NULL, 200, "OK", "CANCEL", 1, 0, true, false, -1, false },
	[M_487] = { NULL, 487, "Request Terminated", "INVITE", 1, 0, true, false, -1, false },
	[M_486] = { NULL, 486, "Busy Here", "INVITE", 1, 0, true, false, -1, false },
	[M_480] = { NULL, 480, "Temporarily Unavailable", "INVITE", 1, 0, true, false, -1, false },
	[M_ACK_ERR] = { "ACK", 0, NULL, "ACK", 1, 0, true, false, -1, false },
	[M_REINVITE] = { "INVITE", 0, NULL, "INVITE", 2, 1, true, true, 1, true },
	[M_200_REINV] = { NULL, 200, "OK", "INVITE", 2, 1, true, true, 1, false },
	[M_ACK_RE] = { "ACK", 0, NULL, "ACK", 2, 4, true, false, -1, true },
	[M_BYE] = { "BYE", 0, NULL, "BYE", 0, 2, true, false, -1, true },
	[M_200_BYE] = { NULL, 200, "OK", "BYE", 0, 2, true, false, -1, false },
};

bool sip_from_caller(const struct vg_call *c, int msg)
{
	switch (msg) {
	case M_INVITE: case M_ACK: case M_CANCEL: case M_ACK_ERR:
	case M_REINVITE: case M_ACK_RE:
		return true;
	case M_BYE:
		return !c->callee_hangs_up;
	case M_200_BYE:
		return c->callee_hangs_up;
	default:
		return false;
	}
}

/* ip:port with brackets around an IPv6 address, as SIP URIs want. */
static void hostport(const struct vg_gen *g, const struct vg_ep *ep,
		     char *buf, size_t cap)
{
	char ip[64];

	net_ip_str(&g->net, ep->ip, ip, sizeof(ip));
	if (g->net.v6)
		snprintf(buf, cap, "[%s]:%u", ip, ep->port);
	else
		snprintf(buf, cap, "%s:%u", ip, ep->port);
}

static size_t sdp_build(const struct vg_gen *g, const struct vg_call *c,
			bool caller, int leg, bool pad, char *buf, size_t cap)
{
	const struct vg_party *p = caller ? &c->caller : &c->callee;
	int codec = g->o.codec, pt = vg_codec_pt(codec);
	char ip[64];
	const char *fam = g->net.v6 ? "IP6" : "IP4";
	int n;

	net_ip_str(&g->net, p->sip.ip, ip, sizeof(ip));
	n = snprintf(buf, cap,
		     "v=0\r\n"
		     "o=vsgen %u %d IN %s %s\r\n"
		     "s=vsgen\r\n"
		     "c=IN %s %s\r\n"
		     "t=0 0\r\n"
		     "m=audio %u RTP/AVP %d %d\r\n"
		     "a=rtpmap:%d %s/8000\r\n"
		     "%s"
		     "a=rtpmap:%d telephone-event/8000\r\n"
		     "a=fmtp:%d 0-16\r\n"
		     "a=ptime:20\r\n"
		     "a=sendrecv\r\n",
		     c->index + 1000, leg + 1, fam, ip, fam, ip,
		     p->rtp_port[leg], pt, VG_DTMF_PT, pt, vg_codec_name(codec),
		     codec == CODEC_G729 ? "a=fmtp:18 annexb=no\r\n" : "",
		     VG_DTMF_PT, VG_DTMF_PT);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	/* --frag: attributes a receiver ignores, so the INVITE needs about
	 * three fragments at a 576-byte MTU. */
	while (pad && (size_t)n < 820 && (size_t)n + 80 < cap)
		n += snprintf(buf + n, cap - n,
			      "a=x-vsgen-pad:%04d "
			      "0123456789abcdef0123456789abcdef0123456789abcdef\r\n",
			      n);
	return (size_t)n;
}

static void print_party(const struct vg_party *p, bool display, bool tag,
			char *buf, size_t cap)
{
	char dn[48] = "";

	if (display)
		snprintf(dn, sizeof(dn), "\"%s\" ", p->display);
	snprintf(buf, cap, "%s<sip:%s@%s>%s%s", dn, p->number, p->domain,
		 tag ? ";tag=" : "", tag ? p->tag : "");
}

static void request_uri(const struct vg_gen *g, const struct vg_call *c,
			const struct msg_desc *d, bool from_caller, char *buf,
			size_t cap)
{
	const struct vg_party *peer = from_caller ? &c->callee : &c->caller;
	char hp[80];

	if (!d->in_dialog) {
		snprintf(buf, cap, "sip:%s@%s", peer->number, peer->domain);
		return;
	}
	hostport(g, &peer->sip, hp, sizeof(hp));
	snprintf(buf, cap, "sip:%s@%s%s", peer->number, hp,
		 g->o.tcp ? ";transport=tcp" : "");
}

size_t sip_build(const struct vg_gen *g, const struct vg_call *c, int msg,
		 char *buf, size_t cap)
{
	const struct msg_desc *d = &descs[msg];
	bool from_caller = sip_from_caller(c, msg);
	/* The owner sent the request of this transaction. */
	bool owner_caller = d->method ? from_caller : !from_caller;
	const struct vg_party *own = owner_caller ? &c->caller : &c->callee;
	const struct vg_party *peer = owner_caller ? &c->callee : &c->caller;
	const struct vg_party *snd = from_caller ? &c->caller : &c->callee;
	const char *tr = g->o.tcp ? "TCP" : "UDP";
	char first[200], ruri[160], via[80], from[160], to[160], contact[160];
	char sdp[2048] = "", hp[80];
	size_t sdplen = 0;
	unsigned cseq = d->cseq;
	int n;

	if (!d->cseq)
		cseq = c->callee_hangs_up ? 1 : (c->scenario == SC_REINVITE ? 3 : 2);
	if (d->method) {
		request_uri(g, c, d, from_caller, ruri, sizeof(ruri));
		snprintf(first, sizeof(first), "%s %s SIP/2.0", d->method,
			 ruri);
	} else {
		snprintf(first, sizeof(first), "SIP/2.0 %d %s", d->code,
			 d->reason);
	}
	hostport(g, &own->sip, via, sizeof(via));
	/* The dialog's From is the side that sent the request; the display
	 * name belongs to the caller only. */
	print_party(own, owner_caller, true, from, sizeof(from));
	print_party(peer, !owner_caller, d->to_tag || !owner_caller, to,
		    sizeof(to));
	hostport(g, &snd->sip, hp, sizeof(hp));
	snprintf(contact, sizeof(contact), "Contact: <sip:%s@%s%s>\r\n",
		 snd->number, hp, g->o.tcp ? ";transport=tcp" : "");
	if (d->sdp >= 0)
		sdplen = sdp_build(g, c, from_caller, d->sdp,
				   g->o.frag && msg == M_INVITE && !g->o.tcp,
				   sdp, sizeof(sdp));
	n = snprintf(buf, cap,
		     "%s\r\n"
		     "Via: SIP/2.0/%s %s;branch=z9hG4bK%s%u\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: %s\r\n"
		     "To: %s\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: %u %s\r\n"
		     "%s"
		     "User-Agent: vsgen\r\n"
		     "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n"
		     "%s"
		     "Content-Length: %zu\r\n"
		     "\r\n"
		     "%s",
		     first, tr, via, c->branch[owner_caller ? 0 : 1], d->branch,
		     from, to, c->call_id, cseq, d->cseq_method,
		     d->contact ? contact : "",
		     sdplen ? "Content-Type: application/sdp\r\n" : "",
		     sdplen, sdp);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	return (size_t)n;
}
