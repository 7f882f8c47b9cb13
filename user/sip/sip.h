/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sip/: a zero-copy SIP message parser. Every string is a view into the
 * caller's buffer; nothing is allocated. Unknown headers are skipped; a
 * message that is not SIP, or whose start line or framing is broken, is
 * refused with a counter. */
#ifndef VS_SIP_H
#define VS_SIP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct vs_str {
	const char *p; /* NULL when absent */
	uint32_t len;
};

enum vs_sip_method {
	VS_SIP_UNKNOWN = 0,
	VS_SIP_INVITE,
	VS_SIP_ACK,
	VS_SIP_BYE,
	VS_SIP_CANCEL,
	VS_SIP_REGISTER,
	VS_SIP_OPTIONS,
	VS_SIP_PRACK,
	VS_SIP_UPDATE,
	VS_SIP_INFO,
	VS_SIP_REFER,
	VS_SIP_NOTIFY,
	VS_SIP_SUBSCRIBE,
	VS_SIP_MESSAGE,
	VS_SIP_PUBLISH,
	VS_SIP__COUNT
};

/* A name-addr / addr-spec header (From, To) split into its parts. */
struct vs_sip_nameaddr {
	struct vs_str display; /* without quotes; empty if none */
	struct vs_str uri;     /* sip:user@host;params, without <> */
	struct vs_str user;    /* user part of the URI (number) */
	struct vs_str host;    /* host[:port] part of the URI (domain) */
	struct vs_str tag;     /* ;tag= value */
};
/* Choices: display keeps backslash escapes as written (zero-copy). user stops
 * at ':' (password) or ';' (user parameters), so it is the number; for tel:
 * it is the number before any ';'. host is kept as written up to ';', '?' or
 * the end of the URI, port and IPv6 brackets included ("[2001:db8::1]:5060");
 * tel: and other schemes have no host (NULL). */

struct vs_sip_msg {
	int is_request;
	enum vs_sip_method method; /* request: method; response: CSeq method */
	struct vs_str method_str;  /* request method token as written */
	struct vs_str ruri;        /* request URI */
	int status;                /* response code, 0 for requests */
	struct vs_str status_text; /* reason phrase of the status line */
	struct vs_str call_id;
	struct vs_sip_nameaddr from, to;
	uint32_t cseq;
	enum vs_sip_method cseq_method;
	struct vs_str via_branch; /* branch of the top Via */
	struct vs_str via_host;   /* sent-by of the top Via */
	struct vs_str contact;
	struct vs_str user_agent; /* User-Agent, or Server in responses */
	struct vs_str reason;     /* Reason header value */
	struct vs_str content_type;
	int content_length;       /* -1 when absent */
	struct vs_str body;       /* the message body (SDP etc.) */
};

#define VS_SIP_STATS(X)                                                        \
	X(messages)        /* messages parsed */                                \
	X(requests)                                                             \
	X(responses)                                                            \
	X(not_sip)         /* payload on a SIP port that is not SIP */         \
	X(bad_start_line)  /* start line malformed */                          \
	X(bad_header)      /* header line malformed (no colon, too long) */    \
	X(missing_call_id) /* no Call-ID: message ignored */                   \
	X(bad_cseq)                                                             \
	X(bad_content_length) /* Content-Length unparsable or beyond data */   \
	X(sdp_parsed)                                                           \
	X(sdp_bad)         /* SDP line malformed (counted once per body) */    \
	X(sdp_truncated)   /* more media/formats than we keep */

struct vs_sip_stats {
#define VS_X(n) uint64_t n;
	VS_SIP_STATS(VS_X)
#undef VS_X
};

/* Parses one SIP message in buf[0..len). 0 on success, -EINVAL when it is not
 * a SIP message or is malformed (stats says which). msg points into buf. */
int vs_sip__parse(const uint8_t *buf, size_t len, struct vs_sip_msg *msg,
		  struct vs_sip_stats *st);

/* Stream framing for SIP over TCP: length of the complete message at buf
 * (headers + Content-Length body), 0 if incomplete, -1 if buf does not start
 * with a SIP start line. Leading CRLF keep-alives count as a message of their
 * own length (the caller delivers nothing for them: see vs_sip__is_keepalive).
 * A message without Content-Length over TCP ends at the blank line. */
ssize_t vs_sip__message_len(const uint8_t *buf, size_t len);

/* True when buf is only CR/LF bytes (RFC 5626 keep-alive). */
int vs_sip__is_keepalive(const uint8_t *buf, size_t len);

/* Method name to enum (case-sensitive per RFC 3261). */
enum vs_sip_method vs_sip__method_from(const char *p, size_t len);
const char *vs_sip__method_name(enum vs_sip_method m);

void vs_sip_stats__print(const struct vs_sip_stats *s, FILE *out);

#endif
