// SPDX-License-Identifier: GPL-2.0-or-later
/* sip/sdp.c: one pass over the lines of an SDP body. Session-level values
 * (c=, direction) are kept aside and applied to each media at the end, since
 * a media-level value, wherever it appears in the media section, wins. */
#include <errno.h>
#include <stdbool.h>

#include "sip/sdp.h"
#include "sip/sip_lex.h"

/* What was written explicitly at media level, to resolve defaults at the end. */
struct sdp_media_seen {
	bool addr, dir, rtcp, rtcp_addr;
};

struct sdp_state {
	struct vs_sdp *sdp;
	struct vs_sdp_media *cur; /* NULL at session level or past the limit */
	struct sdp_media_seen *seen;
	struct vs_addr sess_addr;
	bool sess_has_addr;
	enum vs_sdp_dir sess_dir;
	bool in_media; /* an m= line was seen (even one we dropped) */
	bool bad, truncated;
	struct sdp_media_seen media_seen[VS_SDP_MAX_MEDIA];
};

/* Next run of non-blank characters in [*p, end), advancing *p past it. */
static struct vs_str sdp_word(const char **p, const char *end)
{
	const char *s;

	while (*p < end && vs_is_ws((unsigned char)**p))
		(*p)++;
	s = *p;
	while (*p < end && !vs_is_ws((unsigned char)**p))
		(*p)++;
	return vs_str_make(s, (size_t)(*p - s));
}

/* "IN IP4 addr[/ttl[/n]]" or "IN IP6 addr[/n]". */
static int sdp_conn(const char *p, const char *end, struct vs_addr *a)
{
	struct vs_str nt = sdp_word(&p, end), at = sdp_word(&p, end);
	struct vs_str ad = sdp_word(&p, end);
	const char *slash;

	if (!vs_ieq(nt.p, nt.len, "in"))
		return -EINVAL;
	if (!vs_ieq(at.p, at.len, "ip4") && !vs_ieq(at.p, at.len, "ip6"))
		return -EINVAL;
	slash = memchr(ad.p, '/', ad.len);
	if (slash)
		ad.len = (uint32_t)(slash - ad.p);
	return vs_addr_parse(a, ad.p, ad.len);
}

static int sdp_port(struct vs_str w, uint16_t *port)
{
	const char *slash = memchr(w.p, '/', w.len);
	uint32_t v;

	if (slash)
		w.len = (uint32_t)(slash - w.p); /* port/count */
	if (!vs_parse_uint(w.p, w.len, 65535, &v))
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static enum vs_sdp_media_type sdp_media_type(struct vs_str w)
{
	if (vs_ieq(w.p, w.len, "audio"))
		return VS_SDP_AUDIO;
	if (vs_ieq(w.p, w.len, "video"))
		return VS_SDP_VIDEO;
	return VS_SDP_OTHER;
}

/* m=<media> <port>[/<count>] <proto> <fmt> ... Formats that are not RTP
 * payload type numbers (t38, *) are skipped, not counted as errors. */
static void sdp_m(struct sdp_state *s, const char *p, const char *end)
{
	struct vs_str type = sdp_word(&p, end), port = sdp_word(&p, end);
	struct vs_str proto = sdp_word(&p, end), f;
	struct vs_sdp_media *m;
	uint32_t pt;

	s->in_media = true;
	s->cur = NULL;
	if (s->sdp->n_media >= VS_SDP_MAX_MEDIA) {
		s->truncated = true;
		return;
	}
	m = &s->sdp->media[s->sdp->n_media];
	memset(m, 0, sizeof(*m));
	if (!type.len || !proto.len || sdp_port(port, &m->port)) {
		s->bad = true;
		return;
	}
	m->type = sdp_media_type(type);
	for (f = sdp_word(&p, end); f.len; f = sdp_word(&p, end)) {
		if (!vs_parse_uint(f.p, f.len, 127, &pt))
			continue;
		if (m->n_fmt == VS_SDP_MAX_FMT) {
			s->truncated = true;
			break;
		}
		m->fmt[m->n_fmt++] = (uint8_t)pt;
	}
	s->seen = &s->media_seen[s->sdp->n_media];
	memset(s->seen, 0, sizeof(*s->seen));
	s->cur = m;
	s->sdp->n_media++;
}

static void sdp_c(struct sdp_state *s, const char *p, const char *end)
{
	struct vs_addr a;

	if (sdp_conn(p, end, &a)) {
		s->bad = true;
		return;
	}
	if (!s->in_media) {
		s->sess_addr = a;
		s->sess_has_addr = true;
	} else if (s->cur) {
		s->cur->addr = a;
		s->cur->has_addr = 1;
		s->seen->addr = true;
	}
}

/* a=rtpmap:<pt> <name>/<clock>[/<channels>] */
static int sdp_rtpmap(struct sdp_state *s, const char *p, const char *end)
{
	struct vs_str pt = sdp_word(&p, end), enc = sdp_word(&p, end);
	const char *s1 = memchr(enc.p, '/', enc.len), *s2;
	struct vs_sdp_rtpmap *r;
	uint32_t v, clock;
	size_t nlen;

	if (!s1 || !vs_parse_uint(pt.p, pt.len, 127, &v))
		return -EINVAL;
	s2 = memchr(s1 + 1, '/', (size_t)(enc.p + enc.len - (s1 + 1)));
	if (!s2)
		s2 = enc.p + enc.len;
	if (s1 == enc.p || vs_skip_ct(enc.p, s1, VS_CT_TOKEN) != s1 ||
	    !vs_parse_uint(s1 + 1, (size_t)(s2 - s1 - 1), UINT32_MAX, &clock) ||
	    clock == 0)
		return -EINVAL;
	if (!s->cur)
		return 0; /* session level or a dropped media */
	if (s->cur->n_rtpmap == VS_SDP_MAX_FMT) {
		s->truncated = true;
		return 0;
	}
	r = &s->cur->rtpmap[s->cur->n_rtpmap++];
	r->pt = (uint8_t)v;
	r->clock = clock;
	nlen = (size_t)(s1 - enc.p);
	if (nlen >= sizeof(r->name))
		nlen = sizeof(r->name) - 1;
	memcpy(r->name, enc.p, nlen);
	r->name[nlen] = '\0';
	return 0;
}

/* a=rtcp:<port> [IN IP4 <addr>] (RFC 3605) */
static int sdp_rtcp(struct sdp_state *s, const char *p, const char *end)
{
	struct vs_str port = sdp_word(&p, end);
	struct vs_addr a;
	uint16_t v;
	bool has_addr = false;

	if (sdp_port(port, &v))
		return -EINVAL;
	while (p < end && vs_is_ws((unsigned char)*p))
		p++;
	if (p < end) {
		if (sdp_conn(p, end, &a))
			return -EINVAL;
		has_addr = true;
	}
	if (!s->cur)
		return 0;
	s->cur->rtcp_port = v;
	s->seen->rtcp = true;
	if (has_addr) {
		s->cur->rtcp_addr = a;
		s->seen->rtcp_addr = true;
	}
	return 0;
}

static int sdp_dir(struct vs_str name, enum vs_sdp_dir *d)
{
	if (vs_ieq(name.p, name.len, "sendrecv"))
		*d = VS_SDP_SENDRECV;
	else if (vs_ieq(name.p, name.len, "sendonly"))
		*d = VS_SDP_SENDONLY;
	else if (vs_ieq(name.p, name.len, "recvonly"))
		*d = VS_SDP_RECVONLY;
	else if (vs_ieq(name.p, name.len, "inactive"))
		*d = VS_SDP_INACTIVE;
	else
		return -ENOENT;
	return 0;
}

static void sdp_a(struct sdp_state *s, const char *p, const char *end)
{
	const char *colon = memchr(p, ':', (size_t)(end - p)), *v;
	struct vs_str name = vs_str_make(p, (size_t)((colon ? colon : end) - p));
	enum vs_sdp_dir d;
	uint32_t ms;
	int err = 0;

	v = colon ? colon + 1 : end;
	if (vs_ieq(name.p, name.len, "rtpmap")) {
		err = sdp_rtpmap(s, v, end);
	} else if (vs_ieq(name.p, name.len, "rtcp")) {
		err = sdp_rtcp(s, v, end);
	} else if (vs_ieq(name.p, name.len, "ptime")) {
		name = sdp_word(&v, end);
		/* "20" or "20.0": whole milliseconds are enough */
		colon = memchr(name.p, '.', name.len);
		if (colon)
			name.len = (uint32_t)(colon - name.p);
		if (!vs_parse_uint(name.p, name.len, 65535, &ms))
			err = -EINVAL;
		else if (s->cur)
			s->cur->ptime = (uint16_t)ms;
	} else if (!colon && sdp_dir(name, &d) == 0) {
		if (!s->in_media) {
			s->sess_dir = d;
		} else if (s->cur) {
			s->cur->dir = d;
			s->seen->dir = true;
		}
	}
	if (err)
		s->bad = true;
}

/* Media values not written at media level come from the session, then from
 * the RFC defaults (RTCP on port + 1 at the media address). */
static void sdp_resolve(struct sdp_state *s)
{
	uint8_t i;

	for (i = 0; i < s->sdp->n_media; i++) {
		struct vs_sdp_media *m = &s->sdp->media[i];
		const struct sdp_media_seen *seen = &s->media_seen[i];

		if (!seen->addr && s->sess_has_addr) {
			m->addr = s->sess_addr;
			m->has_addr = 1;
		}
		if (!seen->dir)
			m->dir = s->sess_dir;
		if (!seen->rtcp)
			m->rtcp_port = m->port ? (uint16_t)(m->port + 1) : 0;
		if (!seen->rtcp_addr)
			m->rtcp_addr = m->addr;
	}
}

static void sdp_line(struct sdp_state *s, const char *p, const char *le)
{
	if (le - p < 2 || p[1] != '=' || p[0] < 'a' || p[0] > 'z') {
		s->bad = true;
		return;
	}
	switch (p[0]) {
	case 'm':
		sdp_m(s, p + 2, le);
		break;
	case 'c':
		sdp_c(s, p + 2, le);
		break;
	case 'a':
		sdp_a(s, p + 2, le);
		break;
	}
}

int vs_sdp__parse(const char *body, size_t len, struct vs_sdp *sdp,
		  struct vs_sip_stats *st)
{
	const char *p = body, *end = body + len, *next, *le;
	struct vs_sip_stats dummy;
	struct sdp_state s;

	if (!st)
		st = &dummy;
	sdp->n_media = 0;
	while (p < end && vs_is_lws((unsigned char)*p))
		p++;
	if (end - p < 2 || p[0] != 'v' || p[1] != '=') {
		st->sdp_bad++;
		return -EINVAL;
	}
	memset(&s, 0, sizeof(s));
	s.sdp = sdp;
	for (; p < end; p = next) {
		le = vs_line_end(p, end, &next);
		if (le > p)
			sdp_line(&s, p, le);
	}
	sdp_resolve(&s);
	st->sdp_parsed++;
	st->sdp_bad += s.bad;
	st->sdp_truncated += s.truncated;
	return 0;
}

int vs_sdp_media__codec(const struct vs_sdp_media *m, uint8_t pt,
			const char **name, uint32_t *clock)
{
	const char *n;
	uint32_t c;
	uint8_t i;

	for (i = 0; i < m->n_rtpmap && i < VS_SDP_MAX_FMT; i++) {
		if (m->rtpmap[i].pt == pt) {
			*name = m->rtpmap[i].name;
			*clock = m->rtpmap[i].clock;
			return 0;
		}
	}
	n = vs_rtp_static_pt(pt, &c);
	if (!n)
		return -ENOENT;
	*name = n;
	*clock = c;
	return 0;
}

struct vs_rtp_static {
	const char *name;
	uint32_t clock;
};

/* RFC 3551 tables 4 and 5. G722 is 8000 on the RTP clock although it samples
 * at 16 kHz: an error in RFC 1890 that RFC 3551 kept for compatibility. */
static const struct vs_rtp_static vs_rtp_static_tab[] = {
	[0] = { "PCMU", 8000 },	  [3] = { "GSM", 8000 },
	[4] = { "G723", 8000 },	  [5] = { "DVI4", 8000 },
	[6] = { "DVI4", 16000 },  [7] = { "LPC", 8000 },
	[8] = { "PCMA", 8000 },	  [9] = { "G722", 8000 },
	[10] = { "L16", 44100 },  [11] = { "L16", 44100 },
	[12] = { "QCELP", 8000 }, [13] = { "CN", 8000 },
	[14] = { "MPA", 90000 },  [15] = { "G728", 8000 },
	[16] = { "DVI4", 11025 }, [17] = { "DVI4", 22050 },
	[18] = { "G729", 8000 },  [25] = { "CelB", 90000 },
	[26] = { "JPEG", 90000 }, [28] = { "nv", 90000 },
	[31] = { "H261", 90000 }, [32] = { "MPV", 90000 },
	[33] = { "MP2T", 90000 }, [34] = { "H263", 90000 },
};

const char *vs_rtp_static_pt(uint8_t pt, uint32_t *clock)
{
	const struct vs_rtp_static *e;

	if (pt >= sizeof(vs_rtp_static_tab) / sizeof(vs_rtp_static_tab[0]))
		return NULL;
	e = &vs_rtp_static_tab[pt];
	if (!e->name)
		return NULL;
	if (clock)
		*clock = e->clock;
	return e->name;
}
