// SPDX-License-Identifier: GPL-2.0-or-later
/* sip/sip_frame.c: where one SIP message ends in a TCP byte stream (RFC 3261
 * 18.3): at the blank line plus Content-Length bytes. Only the start line and
 * Content-Length are looked at; the parser does the rest later. */
#include <stdbool.h>

#include "sip/sip.h"
#include "sip/sip_lex.h"

/* A body larger than this is not a SIP message we follow. */
#define VS_SIP_MAX_BODY (16 * 1024 * 1024)

int vs_sip__is_keepalive(const uint8_t *buf, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (buf[i] != '\r' && buf[i] != '\n')
			return 0;
	return 1;
}

/* Could the incomplete first line p[0..n) (no LF yet) still become a start
 * line? Printable text beginning with a token character. */
static bool start_prefix_ok(const char *p, size_t n)
{
	size_t i;

	if (!vs_is_token((unsigned char)p[0]))
		return false;
	for (i = 1; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((c < 0x20 || c > 0x7e) && !(c == '\r' && i == n - 1))
			return false;
	}
	return true;
}

/* Content-Length (or compact "l") in the header line [p, le): 1 and *cl set
 * when it is one, 0 when it is another header, -1 when its value is bad. */
static int content_length(const char *p, const char *le, uint32_t *cl)
{
	const char *n = vs_skip_ct(p, le, VS_CT_TOKEN), *v = n;
	size_t vlen;

	if (!vs_ieq(p, (size_t)(n - p), "content-length") &&
	    !vs_ieq(p, (size_t)(n - p), "l"))
		return 0;
	while (v < le && vs_is_ws((unsigned char)*v))
		v++;
	if (v == le || *v != ':')
		return 0;
	v++;
	vlen = (size_t)(le - v);
	vs_trim(&v, &vlen);
	return vs_parse_uint(v, vlen, VS_SIP_MAX_BODY, cl) ? 1 : -1;
}

/* Scans header lines from p (after the start line) up to lim. Returns the
 * header length including the blank line, 0 when the blank line is not in
 * [p, lim), -1 on a bad Content-Length. */
static ssize_t header_end(const char *start, const char *p, const char *lim,
			  uint32_t *cl)
{
	const char *next, *le;
	int have_cl = 0, r;

	while (p < lim) {
		le = vs_line_end(p, lim, &next);
		if (next == lim && le == lim)
			return 0; /* line not complete yet */
		if (le == p)
			return next - start;
		if (!have_cl && !vs_is_ws((unsigned char)*p)) {
			r = content_length(p, le, cl);
			if (r < 0)
				return -1;
			have_cl = r;
		}
		p = next;
	}
	return 0;
}

ssize_t vs_sip__message_len(const uint8_t *buf, size_t len)
{
	const char *p = (const char *)buf, *lim, *le, *next;
	struct vs_sip_msg scratch;
	uint32_t cl = 0;
	ssize_t hlen;
	size_t n;

	for (n = 0; n < len && (p[n] == '\r' || p[n] == '\n'); n++)
		;
	if (n)
		return (ssize_t)n;
	if (len == 0)
		return 0;
	lim = p + (len < VS_SIP_MAX_HEADER ? len : VS_SIP_MAX_HEADER);
	le = vs_line_end(p, lim, &next);
	if (next == lim && le == lim) {
		if (!start_prefix_ok(p, (size_t)(lim - p)))
			return -1;
		return len < VS_SIP_MAX_HEADER ? 0 : -1;
	}
	if (vs_sip__start_line(p, (size_t)(le - p), &scratch) < 0)
		return -1;
	hlen = header_end(p, next, lim, &cl);
	if (hlen < 0)
		return -1;
	if (hlen == 0)
		return len < VS_SIP_MAX_HEADER ? 0 : -1;
	if ((size_t)hlen + cl > len)
		return 0;
	return hlen + (ssize_t)cl;
}
