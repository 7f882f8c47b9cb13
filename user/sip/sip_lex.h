/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sip/: private byte-level helpers shared by the SIP parser, the TCP framer
 * and the SDP parser. All work on (pointer, length) views: the input is never
 * NUL-terminated, so nothing here may look past the end it is given. */
#ifndef VS_SIP_LEX_H
#define VS_SIP_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sip/sip.h"

/* Headers larger than this are not SIP we can use: refuse instead of waiting
 * for (or scanning) more. */
#define VS_SIP_MAX_HEADER (64 * 1024)

static inline int vs_lc(int c)
{
	return (c >= 'A' && c <= 'Z') ? c | 0x20 : c;
}

/* Character classes, one table lookup instead of a chain of compares
 * (defined in sip.c). */
enum {
	VS_CT_TOKEN = 1, /* RFC 3261 token */
	VS_CT_WS = 2,    /* SP, HT */
	VS_CT_LWS = 4,   /* SP, HT, CR, LF: white space of a folded header */
	VS_CT_STOP = 8,  /* LWS ; , -- what ends a host, parameter value, URI */
};
extern const uint8_t vs_sip_ctype[256];

static inline bool vs_is_ws(unsigned char c)
{
	return vs_sip_ctype[c] & VS_CT_WS;
}

static inline bool vs_is_lws(unsigned char c)
{
	return vs_sip_ctype[c] & VS_CT_LWS;
}

static inline bool vs_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static inline bool vs_is_token(unsigned char c)
{
	return vs_sip_ctype[c] & VS_CT_TOKEN;
}

/* First character of [p, end) not in class mask, or end. */
static inline const char *vs_skip_ct(const char *p, const char *end,
				     uint8_t mask)
{
	while (p < end && (vs_sip_ctype[(unsigned char)*p] & mask))
		p++;
	return p;
}

/* First character of [p, end) in class mask, or end. */
static inline const char *vs_find_ct(const char *p, const char *end,
				     uint8_t mask)
{
	while (p < end && !(vs_sip_ctype[(unsigned char)*p] & mask))
		p++;
	return p;
}

/* p[0..n) equals the lower-case literal lit, ignoring case. */
static inline bool vs_ieq(const char *p, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!lit[i] || vs_lc((unsigned char)p[i]) != lit[i])
			return false;
	return lit[n] == '\0';
}

/* p[0..n) starts with the lower-case literal lit, ignoring case. */
static inline bool vs_iprefix(const char *p, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; lit[i]; i++)
		if (i >= n || vs_lc((unsigned char)p[i]) != lit[i])
			return false;
	return true;
}

/* Strips linear white space from both ends of [*p, *p + *n). */
static inline void vs_trim(const char **p, size_t *n)
{
	while (*n && vs_is_lws((unsigned char)(*p)[0])) {
		(*p)++;
		(*n)--;
	}
	while (*n && vs_is_lws((unsigned char)(*p)[*n - 1]))
		(*n)--;
}

static inline struct vs_str vs_str_make(const char *p, size_t n)
{
	struct vs_str s = { p, (uint32_t)n };

	return s;
}

/* One line of [p, end): returns the end of its content (before CR LF or LF)
 * and sets *next to the start of the following line (end when none). */
static inline const char *vs_line_end(const char *p, const char *end,
				      const char **next)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));

	if (!lf) {
		*next = end;
		return end;
	}
	*next = lf + 1;
	if (lf > p && lf[-1] == '\r')
		return lf - 1;
	return lf;
}

/* Decimal digits p[0..n) (all of them, at least one) as a number <= max. */
static inline bool vs_parse_uint(const char *p, size_t n, uint32_t max,
				 uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 10)
		return false;
	for (i = 0; i < n; i++) {
		if (!vs_is_digit((unsigned char)p[i]))
			return false;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Start line classification, shared by the parser and the TCP framer. */
enum vs_sip_start {
	VS_SIP_START_NOT_SIP = -2, /* does not look like SIP at all */
	VS_SIP_START_BAD = -1,     /* SIP, but the start line is malformed */
	VS_SIP_START_REQUEST = 1,
	VS_SIP_START_RESPONSE = 2,
};

/* Classifies the start line p[0..n) (without line break) and, when it is
 * valid, fills the start-line fields of msg. */
enum vs_sip_start vs_sip__start_line(const char *p, size_t n,
				     struct vs_sip_msg *msg);

#endif
