// SPDX-License-Identifier: GPL-2.0-or-later
/* sip/sip.c: one pass over a SIP message. The start line is classified, the
 * first instance of each header we use is recorded as a view, and only then
 * are those values taken apart: most headers of a message are skipped after
 * reading their name. */
#include <errno.h>
#include <inttypes.h>

#include "sip/sip.h"
#include "sip/sip_lex.h"

#define T VS_CT_TOKEN
#define W (VS_CT_WS | VS_CT_LWS | VS_CT_STOP)
#define L (VS_CT_LWS | VS_CT_STOP)
const uint8_t vs_sip_ctype[256] = {
	['a' ... 'z'] = T, ['A' ... 'Z'] = T, ['0' ... '9'] = T,
	['-'] = T, ['.'] = T, ['!'] = T, ['%'] = T, ['*'] = T,
	['_'] = T, ['+'] = T, ['`'] = T, ['\''] = T, ['~'] = T,
	[' '] = W, ['\t'] = W, ['\r'] = L, ['\n'] = L,
	[';'] = VS_CT_STOP, [','] = VS_CT_STOP,
};
#undef T
#undef W
#undef L

/* Header names longer than this are garbage, not extension headers. */
#define VS_SIP_MAX_HNAME 64

struct vs_sip_mname {
	const char *name;
	uint8_t len;
};

static const struct vs_sip_mname vs_sip_methods[VS_SIP__COUNT] = {
	[VS_SIP_UNKNOWN] = { "UNKNOWN", 7 },
	[VS_SIP_INVITE] = { "INVITE", 6 },
	[VS_SIP_ACK] = { "ACK", 3 },
	[VS_SIP_BYE] = { "BYE", 3 },
	[VS_SIP_CANCEL] = { "CANCEL", 6 },
	[VS_SIP_REGISTER] = { "REGISTER", 8 },
	[VS_SIP_OPTIONS] = { "OPTIONS", 7 },
	[VS_SIP_PRACK] = { "PRACK", 5 },
	[VS_SIP_UPDATE] = { "UPDATE", 6 },
	[VS_SIP_INFO] = { "INFO", 4 },
	[VS_SIP_REFER] = { "REFER", 5 },
	[VS_SIP_NOTIFY] = { "NOTIFY", 6 },
	[VS_SIP_SUBSCRIBE] = { "SUBSCRIBE", 9 },
	[VS_SIP_MESSAGE] = { "MESSAGE", 7 },
	[VS_SIP_PUBLISH] = { "PUBLISH", 7 },
};

enum vs_sip_method vs_sip__method_from(const char *p, size_t len)
{
	int m;

	for (m = VS_SIP_INVITE; m < VS_SIP__COUNT; m++)
		if (vs_sip_methods[m].len == len &&
		    memcmp(vs_sip_methods[m].name, p, len) == 0)
			return (enum vs_sip_method)m;
	return VS_SIP_UNKNOWN;
}

const char *vs_sip__method_name(enum vs_sip_method m)
{
	if ((unsigned)m >= VS_SIP__COUNT)
		m = VS_SIP_UNKNOWN;
	return vs_sip_methods[m].name;
}

void vs_sip_stats__print(const struct vs_sip_stats *s, FILE *out)
{
#define VS_X(n) fprintf(out, "sip.%s %" PRIu64 "\n", #n, s->n);
	VS_SIP_STATS(VS_X)
#undef VS_X
}

/* "SIP/2.0" SP 3DIGIT SP Reason-Phrase. A missing reason phrase (no SP after
 * the code) is tolerated: some devices send it. */
static enum vs_sip_start start_response(const char *p, size_t n,
					struct vs_sip_msg *msg)
{
	if (n < 11 || !vs_iprefix(p, n, "sip/2.0 "))
		return VS_SIP_START_BAD;
	if (p[8] < '1' || p[8] > '6' || !vs_is_digit((unsigned char)p[9]) ||
	    !vs_is_digit((unsigned char)p[10]))
		return VS_SIP_START_BAD;
	if (n > 11 && p[11] != ' ')
		return VS_SIP_START_BAD;
	msg->is_request = 0;
	msg->status = (p[8] - '0') * 100 + (p[9] - '0') * 10 + (p[10] - '0');
	msg->status_text = n > 12 ? vs_str_make(p + 12, n - 12)
				  : vs_str_make(p + n, 0);
	return VS_SIP_START_RESPONSE;
}

/* Method SP Request-URI SP "SIP/2.0". A line that does not end in the SIP
 * version is some other protocol; one that does but is broken is bad SIP. */
static enum vs_sip_start start_request(const char *p, size_t n,
				       struct vs_sip_msg *msg)
{
	const char *sp1 = memchr(p, ' ', n), *sp2 = p + n;
	size_t i;

	if (!sp1)
		return VS_SIP_START_NOT_SIP;
	while (sp2 > sp1 && sp2[-1] != ' ')
		sp2--;
	if (!vs_ieq(sp2, (size_t)(p + n - sp2), "sip/2.0"))
		return VS_SIP_START_NOT_SIP;
	if (sp2 - 1 <= sp1 + 1 || sp1 == p)
		return VS_SIP_START_BAD;
	for (i = 0; p + i < sp1; i++)
		if (!vs_is_token((unsigned char)p[i]))
			return VS_SIP_START_BAD;
	if (memchr(sp1 + 1, ' ', (size_t)(sp2 - 1 - (sp1 + 1))))
		return VS_SIP_START_BAD;
	msg->is_request = 1;
	msg->method_str = vs_str_make(p, (size_t)(sp1 - p));
	msg->method = vs_sip__method_from(p, (size_t)(sp1 - p));
	msg->ruri = vs_str_make(sp1 + 1, (size_t)(sp2 - 1 - (sp1 + 1)));
	return VS_SIP_START_REQUEST;
}

enum vs_sip_start vs_sip__start_line(const char *p, size_t n,
				     struct vs_sip_msg *msg)
{
	if (vs_iprefix(p, n, "sip/"))
		return start_response(p, n, msg);
	return start_request(p, n, msg);
}

enum vs_sip_hdr {
	H_CALL_ID,
	H_FROM,
	H_TO,
	H_VIA,
	H_CONTACT,
	H_CLEN,
	H_CTYPE,
	H_CSEQ,
	H_UA,
	H_SERVER,
	H_REASON,
	H__COUNT
};

/* First value of each header we use, and what the header walk found. */
struct vs_sip_hdrs {
	struct vs_str v[H__COUNT];
	const char *body; /* first byte after the blank line; NULL if none */
	int bad_header;
};

static int hdr_compact(int c)
{
	switch (vs_lc(c)) {
	case 'i': return H_CALL_ID;
	case 'f': return H_FROM;
	case 't': return H_TO;
	case 'v': return H_VIA;
	case 'm': return H_CONTACT;
	case 'l': return H_CLEN;
	case 'c': return H_CTYPE;
	}
	return -1;
}

/* Header name to id; -1 for the many headers we skip. Dispatch on length
 * first so that most names cost one comparison at most. */
static int hdr_id(const char *n, size_t len)
{
	switch (len) {
	case 1: return hdr_compact((unsigned char)n[0]);
	case 2: return vs_ieq(n, len, "to") ? H_TO : -1;
	case 3: return vs_ieq(n, len, "via") ? H_VIA : -1;
	case 4:
		if (vs_ieq(n, len, "from"))
			return H_FROM;
		return vs_ieq(n, len, "cseq") ? H_CSEQ : -1;
	case 6:
		if (vs_ieq(n, len, "server"))
			return H_SERVER;
		return vs_ieq(n, len, "reason") ? H_REASON : -1;
	case 7:
		if (vs_ieq(n, len, "call-id"))
			return H_CALL_ID;
		return vs_ieq(n, len, "contact") ? H_CONTACT : -1;
	case 10: return vs_ieq(n, len, "user-agent") ? H_UA : -1;
	case 12: return vs_ieq(n, len, "content-type") ? H_CTYPE : -1;
	case 14: return vs_ieq(n, len, "content-length") ? H_CLEN : -1;
	}
	return -1;
}

/* One logical header line [p, le), folded continuations included. The name
 * is read as a token, so that the line is not searched for its colon. */
static void header_line(const char *p, const char *le, struct vs_sip_hdrs *h)
{
	const char *n = vs_skip_ct(p, le, VS_CT_TOKEN), *c = n, *v;
	size_t vlen;
	int id;

	while (c < le && vs_is_ws((unsigned char)*c))
		c++;
	if (n == p || c == le || *c != ':' || n - p > VS_SIP_MAX_HNAME) {
		h->bad_header = 1;
		return;
	}
	id = hdr_id(p, (size_t)(n - p));
	if (id < 0 || h->v[id].p)
		return; /* skipped, or a repeat: the first one wins */
	v = c + 1;
	vlen = (size_t)(le - v);
	vs_trim(&v, &vlen);
	h->v[id] = vs_str_make(v, vlen);
}

/* Walks the header lines from p; records h->body after the blank line. */
static void header_walk(const char *p, const char *end, struct vs_sip_hdrs *h)
{
	const char *next, *le;

	while (p < end) {
		le = vs_line_end(p, end, &next);
		if (le == p || (next == end && le == p + 1 && *p == '\r')) {
			h->body = next; /* a lone CR at the end: cut CRLF */
			return;
		}
		while (next < end && vs_is_ws((unsigned char)*next))
			le = vs_line_end(next, end, &next);
		header_line(p, le, h);
		p = next;
	}
}

/* Finds the value of header parameter `name` (lower case) in [p, end), which
 * holds ";name[=value]" pairs; stops at ',' (next header value). */
static struct vs_str param_find(const char *p, const char *end,
				const char *name)
{
	const char *ns, *ne, *vs, *ve;

	for (;;) {
		while (p < end && vs_is_lws((unsigned char)*p))
			p++;
		if (p == end || *p != ';')
			break;
		p++;
		while (p < end && vs_is_lws((unsigned char)*p))
			p++;
		ns = p;
		while (p < end && vs_is_token((unsigned char)*p))
			p++;
		ne = p;
		while (p < end && vs_is_lws((unsigned char)*p))
			p++;
		vs = ve = p;
		if (p < end && *p == '=') {
			p++;
			while (p < end && vs_is_lws((unsigned char)*p))
				p++;
			vs = p;
			p = vs_find_ct(p, end, VS_CT_STOP);
			ve = p;
		}
		if (vs_ieq(ns, (size_t)(ne - ns), name))
			return vs_str_make(vs, (size_t)(ve - vs));
	}
	return vs_str_make(NULL, 0);
}

/* The closing quote of the quoted string opening at p, or NULL. */
static const char *quoted_end(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\') {
			if (++p == end)
				break;
		} else if (*p == '"') {
			return p;
		}
	}
	return NULL;
}

/* First ';' or c2 in [p, end), or end. */
static const char *find_semi_or(const char *p, const char *end, char c2)
{
	while (p < end && *p != ';' && *p != c2)
		p++;
	return p;
}

/* user and host of a sip:, sips: or tel: URI; other schemes have neither.
 * The user stops at ':' (password) or ';' (user parameters such as
 * ";npdi"), so that it is the number; the host keeps its port. */
static void uri_split(const char *p, size_t n, struct vs_sip_nameaddr *na)
{
	const char *end = p + n, *colon = memchr(p, ':', n), *at, *h;

	na->uri = vs_str_make(p, n);
	if (!colon)
		return;
	if (vs_ieq(p, (size_t)(colon - p), "tel")) {
		h = find_semi_or(colon + 1, end, ';');
		na->user = vs_str_make(colon + 1, (size_t)(h - colon - 1));
		return;
	}
	if (!vs_ieq(p, (size_t)(colon - p), "sip") &&
	    !vs_ieq(p, (size_t)(colon - p), "sips"))
		return;
	p = colon + 1;
	at = memchr(p, '@', (size_t)(end - p));
	if (at) {
		h = find_semi_or(p, at, ':');
		na->user = vs_str_make(p, (size_t)(h - p));
		p = at + 1;
	}
	h = find_semi_or(p, end, '?');
	na->host = vs_str_make(p, (size_t)(h - p));
}

/* name-addr ("display" <uri>;params, display <uri>;params) or addr-spec
 * (uri;params, where the parameters belong to the header). */
static int nameaddr_parse(struct vs_str s, struct vs_sip_nameaddr *na)
{
	const char *p = s.p, *end = s.p + s.len, *lt, *gt, *q;
	size_t dlen;

	if (s.len && *p == '"') {
		q = quoted_end(p, end);
		if (!q)
			return -EINVAL;
		na->display = vs_str_make(p + 1, (size_t)(q - p - 1));
		lt = q + 1;
		while (lt < end && vs_is_lws((unsigned char)*lt))
			lt++;
		if (lt == end || *lt != '<')
			return -EINVAL;
	} else {
		lt = memchr(p, '<', s.len);
		if (lt) {
			dlen = (size_t)(lt - p);
			vs_trim(&p, &dlen);
			if (dlen)
				na->display = vs_str_make(p, dlen);
		}
	}
	if (lt) {
		gt = memchr(lt, '>', (size_t)(end - lt));
		if (!gt)
			return -EINVAL;
		p = lt + 1;
		dlen = (size_t)(gt - p);
		vs_trim(&p, &dlen);
		uri_split(p, dlen, na);
		p = gt + 1;
	} else {
		gt = vs_find_ct(p, end, VS_CT_STOP);
		uri_split(p, (size_t)(gt - p), na);
		p = gt;
	}
	na->tag = param_find(p, end, "tag");
	return na->uri.len ? 0 : -EINVAL;
}

/* First value of the top Via: sent-protocol LWS sent-by *(;param). */
static int via_parse(struct vs_str s, struct vs_sip_msg *msg)
{
	const char *p = s.p, *end = s.p + s.len, *h;
	int i;

	for (i = 0; i < 2; i++) {
		p = memchr(p, '/', (size_t)(end - p));
		if (!p)
			return -EINVAL;
		p++;
	}
	while (p < end && vs_is_lws((unsigned char)*p))
		p++;
	while (p < end && vs_is_token((unsigned char)*p))
		p++;
	while (p < end && vs_is_lws((unsigned char)*p))
		p++;
	h = vs_find_ct(p, end, VS_CT_STOP);
	if (h == p)
		return -EINVAL;
	msg->via_host = vs_str_make(p, (size_t)(h - p));
	msg->via_branch = param_find(h, end, "branch");
	return 0;
}

/* CSeq: 1*DIGIT LWS Method. */
static int cseq_parse(struct vs_str s, struct vs_sip_msg *msg)
{
	const char *p = s.p, *end = s.p + s.len, *d, *m;

	for (d = p; d < end && vs_is_digit((unsigned char)*d); d++)
		;
	if (!vs_parse_uint(p, (size_t)(d - p), UINT32_MAX, &msg->cseq))
		return -EINVAL;
	for (m = d; m < end && vs_is_lws((unsigned char)*m); m++)
		;
	if (m == d || m == end)
		return -EINVAL;
	msg->cseq_method = vs_sip__method_from(m, (size_t)(end - m));
	return 0;
}

/* Body: the bytes after the blank line, as many as Content-Length says when
 * it says, else all of them (a datagram ends where the message ends). */
static void body_take(struct vs_sip_msg *msg, const struct vs_sip_hdrs *h,
		      const char *end, struct vs_sip_stats *st)
{
	size_t avail = h->body ? (size_t)(end - h->body) : 0;
	struct vs_str cl = h->v[H_CLEN];
	uint32_t n;

	if (cl.p) {
		if (vs_parse_uint(cl.p, cl.len, INT32_MAX, &n)) {
			msg->content_length = (int)n;
			if (n > avail)
				st->bad_content_length++;
			else
				avail = n;
		} else {
			st->bad_content_length++;
		}
	}
	if (avail)
		msg->body = vs_str_make(h->body, avail);
}

static void msg_finish(struct vs_sip_msg *msg, const struct vs_sip_hdrs *h,
		       const char *end, struct vs_sip_stats *st)
{
	int bad = h->bad_header;

	msg->call_id = h->v[H_CALL_ID];
	if (h->v[H_FROM].p && nameaddr_parse(h->v[H_FROM], &msg->from))
		bad = 1;
	if (h->v[H_TO].p && nameaddr_parse(h->v[H_TO], &msg->to))
		bad = 1;
	if (h->v[H_VIA].p && via_parse(h->v[H_VIA], msg))
		bad = 1;
	if (!h->v[H_CSEQ].p || cseq_parse(h->v[H_CSEQ], msg))
		st->bad_cseq++;
	if (!msg->is_request)
		msg->method = msg->cseq_method;
	msg->contact = h->v[H_CONTACT];
	msg->reason = h->v[H_REASON];
	msg->content_type = h->v[H_CTYPE];
	msg->user_agent = h->v[H_UA];
	if (!msg->user_agent.p && !msg->is_request)
		msg->user_agent = h->v[H_SERVER];
	body_take(msg, h, end, st);
	if (bad)
		st->bad_header++;
}

int vs_sip__parse(const uint8_t *buf, size_t len, struct vs_sip_msg *msg,
		  struct vs_sip_stats *st)
{
	const char *p = (const char *)buf, *end = p + len, *le, *next;
	struct vs_sip_stats dummy;
	struct vs_sip_hdrs h;
	enum vs_sip_start kind;

	if (!st)
		st = &dummy;
	memset(msg, 0, sizeof(*msg));
	msg->content_length = -1;
	/* RFC 3261 7.5: CRLFs before the start line are ignored. */
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	if (p == end || len > UINT32_MAX) {
		st->not_sip++;
		return -EINVAL;
	}
	le = vs_line_end(p, end, &next);
	kind = vs_sip__start_line(p, (size_t)(le - p), msg);
	if (kind == VS_SIP_START_NOT_SIP) {
		st->not_sip++;
		return -EINVAL;
	}
	if (kind == VS_SIP_START_BAD) {
		st->bad_start_line++;
		return -EINVAL;
	}
	memset(&h, 0, sizeof(h));
	header_walk(next, end, &h);
	if (!h.v[H_CALL_ID].len) {
		st->missing_call_id++;
		return -EINVAL;
	}
	msg_finish(msg, &h, end, st);
	st->messages++;
	if (msg->is_request)
		st->requests++;
	else
		st->responses++;
	return 0;
}
