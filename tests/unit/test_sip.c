// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the SIP parser (user/sip/sip.c) and TCP framing
 * (user/sip/sip_frame.c). Every input is copied into a heap buffer of its
 * exact length, so that ASan catches any read past the end. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip/sdp.h"
#include "sip/sip.h"

static uint8_t *dup_exact(const char *s, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);

	cr_assert_not_null(b);
	memcpy(b, s, n);
	return b;
}

/* Parses s (a literal or string) from an exact-size copy. */
static int parse_n(const char *s, size_t n, struct vs_sip_msg *m,
		   struct vs_sip_stats *st)
{
	uint8_t *b = dup_exact(s, n);
	int rc = vs_sip__parse(b, n, m, st);

	/* Views must point into the buffer: re-point them at s so that the
	 * assertions after free() read valid memory. */
	if (rc == 0 || rc == -EINVAL) {
		const char *base = (const char *)b;
		struct vs_str *f[] = {
			&m->method_str, &m->ruri, &m->status_text, &m->call_id,
			&m->from.display, &m->from.uri, &m->from.user,
			&m->from.host, &m->from.tag, &m->to.display,
			&m->to.uri, &m->to.user, &m->to.host, &m->to.tag,
			&m->via_branch, &m->via_host, &m->contact,
			&m->user_agent, &m->reason, &m->content_type, &m->body,
		};
		size_t i;

		for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
			if (!f[i]->p)
				continue;
			cr_assert(f[i]->p >= base &&
				  f[i]->p + f[i]->len <= base + n,
				  "view %zu outside the buffer", i);
			f[i]->p = s + (f[i]->p - base);
		}
	}
	free(b);
	return rc;
}

static int parse(const char *s, struct vs_sip_msg *m, struct vs_sip_stats *st)
{
	return parse_n(s, strlen(s), m, st);
}

#define STR_EQ(field, want) str_eq(field, want, #field)
static void str_eq(struct vs_str s, const char *want, const char *what)
{
	if (!want) {
		cr_assert_null(s.p, "%s: expected absent, got '%.*s'", what,
			       (int)s.len, s.p);
		return;
	}
	cr_assert_not_null(s.p, "%s: expected '%s', got absent", what, want);
	cr_assert(s.len == strlen(want) && memcmp(s.p, want, s.len) == 0,
		  "%s: expected '%s', got '%.*s'", what, want, (int)s.len, s.p);
}

static const char invite_sdp[] =
	"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport\r\n"
	"Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKsecond\r\n"
	"Max-Forwards: 70\r\n"
	"To: Bob <sip:bob@biloxi.example.com>\r\n"
	"From: \"Alice A.\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
	"CSeq: 314159 INVITE\r\n"
	"Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
	"User-Agent: Softphone 1.0\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 149\r\n"
	"\r\n"
	"v=0\r\n"
	"o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.101\r\n"
	"t=0 0\r\n"
	"m=audio 49172 RTP/AVP 0\r\n"
	"a=rtpmap:0 PCMU/8000\r\n";

Test(sip, invite_with_sdp)
{
	struct vs_sip_stats st = { 0 };
	struct vs_sip_msg m;

	cr_assert_eq(parse(invite_sdp, &m, &st), 0);
	cr_assert_eq(m.is_request, 1);
	cr_assert_eq(m.method, VS_SIP_INVITE);
	STR_EQ(m.method_str, "INVITE");
	STR_EQ(m.ruri, "sip:bob@biloxi.example.com");
	cr_assert_eq(m.status, 0);
	STR_EQ(m.status_text, NULL);
	STR_EQ(m.call_id, "a84b4c76e66710@pc33.atlanta.example.com");
	STR_EQ(m.from.display, "Alice A.");
	STR_EQ(m.from.uri, "sip:alice@atlanta.example.com");
	STR_EQ(m.from.user, "alice");
	STR_EQ(m.from.host, "atlanta.example.com");
	STR_EQ(m.from.tag, "1928301774");
	STR_EQ(m.to.display, "Bob");
	STR_EQ(m.to.uri, "sip:bob@biloxi.example.com");
	STR_EQ(m.to.user, "bob");
	STR_EQ(m.to.host, "biloxi.example.com");
	STR_EQ(m.to.tag, NULL);
	cr_assert_eq(m.cseq, 314159);
	cr_assert_eq(m.cseq_method, VS_SIP_INVITE);
	STR_EQ(m.via_branch, "z9hG4bK776asdhds");
	STR_EQ(m.via_host, "pc33.atlanta.example.com:5060");
	STR_EQ(m.contact, "<sip:alice@pc33.atlanta.example.com>");
	STR_EQ(m.user_agent, "Softphone 1.0");
	STR_EQ(m.reason, NULL);
	STR_EQ(m.content_type, "application/sdp");
	cr_assert_eq(m.content_length, 149);
	cr_assert_eq(m.body.len, 149);
	cr_assert(memcmp(m.body.p, "v=0\r\n", 5) == 0);
	cr_assert_eq(m.body.p + 149, invite_sdp + sizeof(invite_sdp) - 1);
	cr_assert_eq(st.messages, 1);
	cr_assert_eq(st.requests, 1);
	cr_assert_eq(st.responses, 0);
	cr_assert_eq(st.bad_header + st.bad_cseq + st.bad_content_length, 0);
}

Test(sip, response_180_ringing)
{
	static const char s[] =
		"SIP/2.0 180 Ringing\r\n"
		"Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds8;received=192.0.2.1\r\n"
		"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
		"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
		"Call-ID: a84b4c76e66710\r\n"
		"Contact: <sip:bob@192.0.2.4>\r\n"
		"CSeq: 314159 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";
	struct vs_sip_stats st = { 0 };
	struct vs_sip_msg m;

	cr_assert_eq(parse(s, &m, &st), 0);
	cr_assert_eq(m.is_request, 0);
	cr_assert_eq(m.status, 180);
	STR_EQ(m.status_text, "Ringing");
	cr_assert_eq(m.method, VS_SIP_INVITE);
	STR_EQ(m.method_str, NULL);
	STR_EQ(m.ruri, NULL);
	STR_EQ(m.to.tag, "a6c85cf");
	STR_EQ(m.to.display, "Bob");
	STR_EQ(m.from.tag, "1928301774");
	STR_EQ(m.via_host, "192.0.2.4");
	STR_EQ(m.via_branch, "z9hG4bKnashds8");
	cr_assert_eq(m.content_length, 0);
	STR_EQ(m.body, NULL);
	STR_EQ(m.user_agent, NULL);
	cr_assert_eq(st.responses, 1);
	cr_assert_eq(st.requests, 0);
}

Test(sip, response_200_server_and_sdp)
{
	static const char s[] =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
		"From: <sip:100@pbx>;tag=aa\r\n"
		"To: <sip:200@pbx>;tag=bb\r\n"
		"Call-ID: c1\r\n"
		"CSeq: 2 INVITE\r\n"
		"Server: Asterisk PBX 18.0\r\n"
		"Content-Type: application/sdp\r\n"
		"Content-Length: 10\r\n\r\n"
		"v=0\r\nm=x\r\n";
	struct vs_sip_msg m;

	cr_assert_eq(parse(s, &m, NULL), 0);
	cr_assert_eq(m.status, 200);
	STR_EQ(m.status_text, "OK");
	cr_assert_eq(m.method, VS_SIP_INVITE);
	cr_assert_eq(m.cseq, 2);
	STR_EQ(m.user_agent, "Asterisk PBX 18.0");
	STR_EQ(m.from.display, NULL);
	STR_EQ(m.from.user, "100");
	STR_EQ(m.from.host, "pbx");
	STR_EQ(m.body, "v=0\r\nm=x\r\n");
}

Test(sip, user_agent_beats_server_and_server_ignored_in_requests)
{
	struct vs_sip_msg m;

	cr_assert_eq(parse("SIP/2.0 486 Busy Here\r\nServer: S\r\n"
			   "User-Agent: U\r\ni: x\r\nCSeq: 1 BYE\r\n\r\n",
			   &m, NULL), 0);
	STR_EQ(m.user_agent, "U");
	cr_assert_eq(m.method, VS_SIP_BYE);
	STR_EQ(m.status_text, "Busy Here");
	cr_assert_eq(parse("OPTIONS sip:a SIP/2.0\r\nServer: S\r\ni: x\r\n"
			   "CSeq: 1 OPTIONS\r\n\r\n", &m, NULL), 0);
	STR_EQ(m.user_agent, NULL);
	cr_assert_eq(m.method, VS_SIP_OPTIONS);
}

Test(sip, compact_forms)
{
	static const char s[] =
		"MESSAGE sip:bob@b.example SIP/2.0\r\n"
		"v: SIP/2.0/TCP client.a.example:5061;branch=z9hG4bKcmp\r\n"
		"f: <sip:alice@a.example>;tag=49583\r\n"
		"t: <sip:bob@b.example>\r\n"
		"i: compact-1@a.example\r\n"
		"m: <sip:alice@client.a.example>\r\n"
		"k: 100rel\r\n"
		"s: hello\r\n"
		"e: gzip\r\n"
		"CSeq: 7 MESSAGE\r\n"
		"c: text/plain\r\n"
		"l: 5\r\n\r\n"
		"Hello world";
	struct vs_sip_stats st = { 0 };
	struct vs_sip_msg m;

	cr_assert_eq(parse(s, &m, &st), 0);
	cr_assert_eq(m.method, VS_SIP_MESSAGE);
	STR_EQ(m.via_host, "client.a.example:5061");
	STR_EQ(m.via_branch, "z9hG4bKcmp");
	STR_EQ(m.from.user, "alice");
	STR_EQ(m.from.tag, "49583");
	STR_EQ(m.to.user, "bob");
	STR_EQ(m.call_id, "compact-1@a.example");
	STR_EQ(m.contact, "<sip:alice@client.a.example>");
	STR_EQ(m.content_type, "text/plain");
	cr_assert_eq(m.content_length, 5);
	STR_EQ(m.body, "Hello");
	cr_assert_eq(st.bad_content_length, 0);
}

Test(sip, header_names_case_insensitive)
{
	static const char s[] =
		"BYE sip:x@y SIP/2.0\r\n"
		"VIA: SIP/2.0/UDP h1;BRANCH=z9hG4bKup\r\n"
		"fRoM: <sip:a@b>;TAG=t1\r\n"
		"TO: <sip:c@d>;Tag=t2\r\n"
		"CALL-ID: up@case\r\n"
		"cseq: 3 BYE\r\n"
		"user-agent: lower\r\n"
		"CONTENT-LENGTH: 0\r\n\r\n";
	struct vs_sip_msg m;

	cr_assert_eq(parse(s, &m, NULL), 0);
	STR_EQ(m.via_branch, "z9hG4bKup");
	STR_EQ(m.from.tag, "t1");
	STR_EQ(m.to.tag, "t2");
	STR_EQ(m.call_id, "up@case");
	cr_assert_eq(m.cseq_method, VS_SIP_BYE);
	STR_EQ(m.user_agent, "lower");
	cr_assert_eq(m.content_length, 0);
}

Test(sip, header_folding)
{
	static const char s[] =
		"INVITE sip:b@h SIP/2.0\r\n"
		"Subject: I know you're there,\r\n"
		"   pick up the phone\r\n"
		"   and talk to me!\r\n"
		"Via: SIP/2.0/UDP\r\n"
		"\thost.example:5070\r\n"
		" ;branch=z9hG4bKfold\r\n"
		"From: Alice\r\n"
		" <sip:alice@a.example>\r\n"
		"\t;tag=ft\r\n"
		"To: <sip:b@h>\r\n"
		"Call-ID:\r\n"
		"  folded-id\r\n"
		"CSeq: 1\r\n INVITE\r\n"
		"\r\n";
	struct vs_sip_stats st = { 0 };
	struct vs_sip_msg m;

	cr_assert_eq(parse(s, &m, &st), 0);
	STR_EQ(m.via_host, "host.example:5070");
	STR_EQ(m.via_branch, "z9hG4bKfold");
	STR_EQ(m.from.display, "Alice");
	STR_EQ(m.from.uri, "sip:alice@a.example");
	STR_EQ(m.from.tag, "ft");
	STR_EQ(m.call_id, "folded-id");
	cr_assert_eq(m.cseq, 1);
	cr_assert_eq(m.cseq_method, VS_SIP_INVITE);
	cr_assert_eq(st.bad_header, 0);
	cr_assert_eq(st.bad_cseq, 0);
	cr_assert_eq(m.content_length, -1);
	STR_EQ(m.body, NULL);
}

Test(sip, quoted_display_names)
{
	static const char s[] =
		"INVITE sip:b@h SIP/2.0\r\n"
		"From: \"Bob \\\"The Builder\\\" <x>\" <sip:bob@b.example>;TAG=xyz\r\n"
		"To: \"\" <sip:empty@h>\r\n"
		"Call-ID: q1\r\n"
		"CSeq: 1 INVITE\r\n\r\n";
	struct vs_sip_msg m;

	cr_assert_eq(parse(s, &m, NULL), 0);
	/* escapes are kept as written: the view is zero-copy */
	STR_EQ(m.from.display, "Bob \\\"The Builder\\\" <x>");
	STR_EQ(m.from.uri, "sip:bob@b.example");
	STR_EQ(m.from.user, "bob");
	STR_EQ(m.from.tag, "xyz");
	cr_assert_not_null(m.to.display.p);
	cr_assert_eq(m.to.display.len, 0);
	STR_EQ(m.to.user, "empty");
}

Test(sip, token_display_and_addr_spec)
{
	static const char s[] =
		"INVITE sip:b@h SIP/2.0\r\n"
		"From: Alice Smith <sips:alice:secret@a.example;transport=tls>;tag=88\r\n"
		"To: sip:bob@b.example:5080;tag=99\r\n"
		"Call-ID: q2\r\n"
		"CSeq: 1 INVITE\r\n\r\n";
	struct vs_sip_msg m;

	cr_assert_eq(parse(s, &m, NULL), 0);
	STR_EQ(m.from.display, "Alice Smith");
	STR_EQ(m.from.uri, "sips:alice:secret@a.example;transport=tls");
	STR_EQ(m.from.user, "alice");
	STR_EQ(m.from.host, "a.example");
	STR_EQ(m.from.tag, "88");
	STR_EQ(m.to.display, NULL);
	STR_EQ(m.to.uri, "sip:bob@b.example:5080");
	STR_EQ(m.to.user, "bob");
	STR_EQ(m.to.host, "b.example:5080");
	STR_EQ(m.to.tag, "99");
}

Test(sip, tel_uris_and_user_params)
{
	static const char s[] =
		"INVITE tel:+15551234 SIP/2.0\r\n"
		"From: tel:+123;tag=9\r\n"
		"To: <tel:+4420;phone-context=example.com>\r\n"
		"Contact: <sip:+15551234;npdi@gw.example;user=phone>\r\n"
		"Call-ID: tel1\r\n"
		"CSeq: 1 INVITE\r\n\r\n";
	struct vs_sip_msg m;

	cr_assert_eq(parse(s, &m, NULL), 0);
	STR_EQ(m.ruri, "tel:+15551234");
	STR_EQ(m.from.uri, "tel:+123");
	STR_EQ(m.from.user, "+123");
	STR_EQ(m.from.host, NULL);
	STR_EQ(m.from.tag, "9");
	STR_EQ(m.to.uri, "tel:+4420;phone-context=example.com");
	STR_EQ(m.to.user, "+4420");
	STR_EQ(m.to.host, NULL);
	STR_EQ(m.to.tag, NULL);
	STR_EQ(m.contact, "<sip:+15551234;npdi@gw.example;user=phone>");
}

Test(sip, sip_uri_user_params_and_no_user)
{
	struct vs_sip_msg m;

	cr_assert_eq(parse("NOTIFY sip:x SIP/2.0\r\n"
			   "From: <sip:+15551234;npdi@gw.example;user=phone>;tag=1\r\n"
			   "To: <sip:pbx.example>\r\n"
			   "To: <sip:ignored@second>\r\n"
			   "Call-ID: n\r\nCSeq: 1 NOTIFY\r\n\r\n", &m, NULL), 0);
	STR_EQ(m.from.user, "+15551234");
	STR_EQ(m.from.host, "gw.example");
	STR_EQ(m.from.tag, "1");
	STR_EQ(m.to.user, NULL);
	STR_EQ(m.to.host, "pbx.example");
}

Test(sip, ipv6_hosts)
{
	static const char s[] =
		"INVITE sip:bob@[2001:db8::2] SIP/2.0\r\n"
		"Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK6;rport\r\n"
		"From: <sip:alice@[2001:db8::1]:5060;transport=udp>;tag=v6\r\n"
		"To: <sip:bob@[2001:db8::2]>\r\n"
		"Contact: <sip:alice@[2001:db8::1]:5060>\r\n"
		"Call-ID: v6call@[2001:db8::1]\r\n"
		"CSeq: 1 INVITE\r\n\r\n";
	struct vs_sip_msg m;

	cr_assert_eq(parse(s, &m, NULL), 0);
	STR_EQ(m.via_host, "[2001:db8::1]:5060");
	STR_EQ(m.via_branch, "z9hG4bK6");
	STR_EQ(m.from.host, "[2001:db8::1]:5060");
	STR_EQ(m.from.user, "alice");
	STR_EQ(m.from.tag, "v6");
	STR_EQ(m.to.host, "[2001:db8::2]");
	STR_EQ(m.contact, "<sip:alice@[2001:db8::1]:5060>");
	STR_EQ(m.call_id, "v6call@[2001:db8::1]");
}

Test(sip, cancel)
{
	static const char s[] =
		"CANCEL sip:bob@biloxi.example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
		"To: Bob <sip:bob@biloxi.example.com>\r\n"
		"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
		"Call-ID: a84b4c76e66710\r\n"
		"CSeq: 314159 CANCEL\r\n"
		"Content-Length: 0\r\n\r\n";
	struct vs_sip_msg m;

	cr_assert_eq(parse(s, &m, NULL), 0);
	cr_assert_eq(m.method, VS_SIP_CANCEL);
	cr_assert_eq(m.cseq_method, VS_SIP_CANCEL);
	cr_assert_eq(m.cseq, 314159);
	STR_EQ(m.via_branch, "z9hG4bK776asdhds");
}

Test(sip, bye_with_reason)
{
	static const char s[] =
		"BYE sip:alice@pc33.atlanta.example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds10\r\n"
		"From: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
		"To: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
		"Call-ID: a84b4c76e66710\r\n"
		"CSeq: 231 BYE\r\n"
		"Reason: Q.850;cause=16;text=\"Normal call clearing\"\r\n"
		"Reason: SIP;cause=200\r\n"
		"Content-Length: 0\r\n\r\n";
	struct vs_sip_msg m;

	cr_assert_eq(parse(s, &m, NULL), 0);
	cr_assert_eq(m.method, VS_SIP_BYE);
	STR_EQ(m.reason, "Q.850;cause=16;text=\"Normal call clearing\"");
	cr_assert_eq(m.cseq, 231);
}

Test(sip, register_multi_via_and_contact)
{
	static const char s[] =
		"REGISTER sip:registrar.biloxi.example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7,"
		" SIP/2.0/UDP other;branch=z9hG4bKno\r\n"
		"Via: SIP/2.0/UDP third;branch=z9hG4bKno2\r\n"
		"Max-Forwards: 70\r\n"
		"To: Bob <sip:bob@biloxi.example.com>\r\n"
		"From: Bob <sip:bob@biloxi.example.com>;tag=456248\r\n"
		"Call-ID: 843817637684230@998sdasdh09\r\n"
		"Call-ID: second-is-ignored\r\n"
		"CSeq: 1826 REGISTER\r\n"
		"Contact: <sip:bob@192.0.2.4>;expires=7200\r\n"
		"Contact: <sip:bob@192.0.2.5>\r\n"
		"Expires: 7200\r\n"
		"Content-Length: 0\r\n\r\n";
	struct vs_sip_msg m;

	cr_assert_eq(parse(s, &m, NULL), 0);
	cr_assert_eq(m.method, VS_SIP_REGISTER);
	STR_EQ(m.ruri, "sip:registrar.biloxi.example.com");
	STR_EQ(m.via_host, "bobspc.biloxi.example.com:5060");
	STR_EQ(m.via_branch, "z9hG4bKnashds7");
	STR_EQ(m.call_id, "843817637684230@998sdasdh09");
	STR_EQ(m.contact, "<sip:bob@192.0.2.4>;expires=7200");
	STR_EQ(m.from.tag, "456248");
	STR_EQ(m.to.tag, NULL);
}

Test(sip, lf_only_line_endings)
{
	static const char s[] =
		"INVITE sip:b@h SIP/2.0\n"
		"Via: SIP/2.0/UDP h:5060;branch=z9hG4bKlf\n"
		"From: <sip:a@h>;tag=1\n"
		"To: <sip:b@h>\n"
		"Call-ID: lf-only\n"
		"CSeq: 5 INVITE\n"
		"Content-Length: 4\n"
		"\n"
		"v=0\n";
	struct vs_sip_msg m;

	cr_assert_eq(parse(s, &m, NULL), 0);
	STR_EQ(m.call_id, "lf-only");
	STR_EQ(m.via_branch, "z9hG4bKlf");
	cr_assert_eq(m.cseq, 5);
	STR_EQ(m.body, "v=0\n");
}

Test(sip, leading_crlf_ignored)
{
	struct vs_sip_msg m;

	cr_assert_eq(parse("\r\n\r\nACK sip:x SIP/2.0\r\ni: ack1\r\n"
			   "CSeq: 1 ACK\r\n\r\n", &m, NULL), 0);
	cr_assert_eq(m.method, VS_SIP_ACK);
	STR_EQ(m.call_id, "ack1");
}

Test(sip, content_length_vs_data)
{
	struct vs_sip_stats st = { 0 };
	struct vs_sip_msg m;

	/* larger than the data: what is there, counted */
	cr_assert_eq(parse("INFO sip:x SIP/2.0\r\ni: c\r\nCSeq: 1 INFO\r\n"
			   "Content-Length: 100\r\n\r\nabc", &m, &st), 0);
	cr_assert_eq(m.content_length, 100);
	STR_EQ(m.body, "abc");
	cr_assert_eq(st.bad_content_length, 1);
	/* smaller: the rest is not body */
	cr_assert_eq(parse("INFO sip:x SIP/2.0\r\ni: c\r\nCSeq: 1 INFO\r\n"
			   "Content-Length: 2\r\n\r\nabc", &m, &st), 0);
	STR_EQ(m.body, "ab");
	cr_assert_eq(st.bad_content_length, 1);
	/* absent (UDP): the rest of the datagram */
	cr_assert_eq(parse("INFO sip:x SIP/2.0\r\ni: c\r\nCSeq: 1 INFO\r\n"
			   "\r\nabc\r\n", &m, &st), 0);
	cr_assert_eq(m.content_length, -1);
	STR_EQ(m.body, "abc\r\n");
	/* unparsable: counted, treated as absent */
	cr_assert_eq(parse("INFO sip:x SIP/2.0\r\ni: c\r\nCSeq: 1 INFO\r\n"
			   "Content-Length: 1x\r\n\r\nabc", &m, &st), 0);
	cr_assert_eq(m.content_length, -1);
	STR_EQ(m.body, "abc");
	cr_assert_eq(st.bad_content_length, 2);
	/* no blank line at all: no body, and the promised bytes are missing */
	cr_assert_eq(parse("INFO sip:x SIP/2.0\r\ni: c\r\nCSeq: 1 INFO\r\n"
			   "Content-Length: 3\r\n", &m, &st), 0);
	STR_EQ(m.body, NULL);
	cr_assert_eq(st.bad_content_length, 3);
	cr_assert_eq(st.messages, 5);
}

Test(sip, refused_inputs_counted)
{
	struct vs_sip_stats st = { 0 };
	struct vs_sip_msg m;

	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &m, &st), -EINVAL);
	cr_assert_eq(parse("     ", &m, &st), -EINVAL);
	cr_assert_eq(parse_n("\x80\x08\x00\x01\x00\x00", 6, &m, &st), -EINVAL);
	cr_assert_eq(parse("\r\n\r\n", &m, &st), -EINVAL);
	cr_assert_eq(parse("", &m, &st), -EINVAL);
	cr_assert_eq(st.not_sip, 5);
	cr_assert_eq(parse("SIP/2.0 abc OK\r\ni: x\r\n\r\n", &m, &st), -EINVAL);
	cr_assert_eq(parse("SIP/3.0 200 OK\r\ni: x\r\n\r\n", &m, &st), -EINVAL);
	cr_assert_eq(parse("SIP/2.0 200OK\r\ni: x\r\n\r\n", &m, &st), -EINVAL);
	cr_assert_eq(parse("INVITE SIP/2.0\r\ni: x\r\n\r\n", &m, &st), -EINVAL);
	cr_assert_eq(parse("INVITE sip:a b SIP/2.0\r\ni: x\r\n\r\n", &m, &st),
		     -EINVAL);
	cr_assert_eq(parse("INV(TE sip:a SIP/2.0\r\ni: x\r\n\r\n", &m, &st),
		     -EINVAL);
	cr_assert_eq(st.bad_start_line, 6);
	cr_assert_eq(parse("INVITE sip:a SIP/2.0\r\nFrom: <sip:a@b>\r\n\r\n"
			   "Call-ID: in-the-body\r\n", &m, &st), -EINVAL);
	cr_assert_eq(parse("INVITE sip:a SIP/2.0\r\nCall-ID:   \r\n\r\n", &m, &st),
		     -EINVAL);
	cr_assert_eq(st.missing_call_id, 2);
	cr_assert_eq(st.messages, 0);
	cr_assert_eq(st.requests + st.responses, 0);
}

Test(sip, flawed_headers_counted_but_accepted)
{
	struct vs_sip_stats st = { 0 };
	struct vs_sip_msg m;

	cr_assert_eq(parse("INVITE sip:a SIP/2.0\r\n"
			   "this line has no colon\r\n"
			   "Bad Name: x\r\n"
			   "From: \"unterminated <sip:a@b>\r\n"
			   "i: ok\r\n"
			   "CSeq: x INVITE\r\n\r\n", &m, &st), 0);
	STR_EQ(m.call_id, "ok");
	STR_EQ(m.from.uri, NULL);
	cr_assert_eq(m.cseq, 0);
	cr_assert_eq(st.bad_header, 1); /* once per message */
	cr_assert_eq(st.bad_cseq, 1);
	cr_assert_eq(parse("INVITE sip:a SIP/2.0\r\ni: ok\r\n\r\n", &m, &st), 0);
	cr_assert_eq(st.bad_cseq, 2); /* missing CSeq */
	cr_assert_eq(parse("SIP/2.0 200 OK\r\ni: ok\r\nCSeq: 12\r\n\r\n", &m, &st),
		     0);
	cr_assert_eq(st.bad_cseq, 3);
	cr_assert_eq(m.method, VS_SIP_UNKNOWN);
	cr_assert_eq(st.bad_header, 1);
	cr_assert_eq(st.messages, 3);
}

Test(sip, unknown_method_kept)
{
	struct vs_sip_msg m;

	cr_assert_eq(parse("FOOBAR sip:x SIP/2.0\r\ni: u\r\nCSeq: 9 FOOBAR\r\n\r\n",
			   &m, NULL), 0);
	cr_assert_eq(m.method, VS_SIP_UNKNOWN);
	STR_EQ(m.method_str, "FOOBAR");
	cr_assert_eq(m.cseq_method, VS_SIP_UNKNOWN);
	cr_assert_eq(m.cseq, 9);
}

Test(sip, method_table)
{
	int i;

	for (i = VS_SIP_INVITE; i < VS_SIP__COUNT; i++) {
		const char *n = vs_sip__method_name((enum vs_sip_method)i);

		cr_assert_eq((int)vs_sip__method_from(n, strlen(n)), i, "%s", n);
	}
	cr_assert_str_eq(vs_sip__method_name(VS_SIP_PRACK), "PRACK");
	cr_assert_str_eq(vs_sip__method_name(VS_SIP_UNKNOWN), "UNKNOWN");
	cr_assert_str_eq(vs_sip__method_name((enum vs_sip_method)99), "UNKNOWN");
	cr_assert_eq(vs_sip__method_from("invite", 6), VS_SIP_UNKNOWN);
	cr_assert_eq(vs_sip__method_from("INVITEX", 7), VS_SIP_UNKNOWN);
	cr_assert_eq(vs_sip__method_from("INVITE", 5), VS_SIP_UNKNOWN);
	cr_assert_eq(vs_sip__method_from("SUBSCRIBE", 9), VS_SIP_SUBSCRIBE);
}

Test(sip, stats_print)
{
	struct vs_sip_stats st = { 0 };
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);

	st.messages = 42;
	st.sdp_truncated = 7;
	vs_sip_stats__print(&st, f);
	fclose(f);
	cr_assert_not_null(strstr(out, "sip.messages 42\n"));
	cr_assert_not_null(strstr(out, "sip.sdp_truncated 7\n"));
	cr_assert_not_null(strstr(out, "sip.not_sip 0\n"));
	free(out);
}

/* Every prefix of a message: no crash, no read past the end, and the result
 * is a clean refusal until the Call-ID line is complete. */
static void truncate_all(const char *s)
{
	size_t len = strlen(s), n, cid;
	struct vs_sip_stats st = { 0 };
	struct vs_sip_msg m;
	int rc;

	cid = (size_t)(strstr(s, "Call-ID: ") - s) + 9; /* value start */
	for (n = 0; n <= len; n++) {
		rc = parse_n(s, n, &m, &st);
		cr_assert(rc == 0 || rc == -EINVAL, "len %zu rc %d", n, rc);
		if (n <= cid) {
			cr_assert_eq(rc, -EINVAL, "len %zu", n);
			continue;
		}
		/* a cut datagram is taken for what it holds */
		cr_assert_eq(rc, 0, "len %zu", n);
		cr_assert_eq(m.call_id.len, n - cid < 7 ? n - cid : 7);
		cr_assert(!memcmp(m.call_id.p, "trunc@h", m.call_id.len));
	}
	STR_EQ(m.body, "v=0\r\nc=IN IP4 1.2.3.4\r\n");
	cr_assert_eq(st.messages + st.not_sip + st.bad_start_line +
		     st.missing_call_id, len + 1);
	cr_assert_eq(st.messages, len - cid);
}

Test(sip, truncated_at_every_length)
{
	truncate_all("INVITE sip:bob@[2001:db8::2]:5060 SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK6\r\n"
		     "From: \"A \\\"q\\\"\" <sip:alice@h>;tag=1\r\n"
		     "To: <tel:+1234>\r\n"
		     "Call-ID: trunc@h\r\n"
		     "CSeq: 1 INVITE\r\n"
		     "Subject: folded\r\n line\r\n"
		     "Content-Length: 24\r\n\r\n"
		     "v=0\r\nc=IN IP4 1.2.3.4\r\n");
	truncate_all("SIP/2.0 200 OK\r\n"
		     "v: SIP/2.0/UDP h;branch=z9hG4bK6\r\n"
		     "f: <sip:alice@h>;tag=1\r\n"
		     "Call-ID: trunc@h\r\n"
		     "CSeq: 1 INVITE\r\n\r\n"
		     "v=0\r\nc=IN IP4 1.2.3.4\r\n");
}

/* ---- TCP framing ------------------------------------------------------- */

static ssize_t mlen(const char *s, size_t n)
{
	uint8_t *b = dup_exact(s, n);
	ssize_t r = vs_sip__message_len(b, n);

	free(b);
	return r;
}

Test(sip_frame, two_messages_concatenated)
{
	static const char a[] = "INVITE sip:b@h SIP/2.0\r\n"
				"Call-ID: one\r\n"
				"Content-Length: 5\r\n\r\nhello";
	static const char b[] = "SIP/2.0 200 OK\r\n"
				"l: 3\r\n"
				"i: two\r\n\r\nabc";
	char both[sizeof(a) + sizeof(b)];
	size_t la = sizeof(a) - 1, lb = sizeof(b) - 1;

	memcpy(both, a, la);
	memcpy(both + la, b, lb);
	cr_assert_eq(mlen(both, la + lb), (ssize_t)la);
	cr_assert_eq(mlen(both + la, lb), (ssize_t)lb);
	cr_assert_eq(mlen(both + la, lb + 0), (ssize_t)lb);
}

Test(sip_frame, partial_is_zero)
{
	static const char a[] = "BYE sip:b@h SIP/2.0\r\n"
				"content-length : 4\r\n"
				"Call-ID: x\r\n\r\nbody";
	size_t la = sizeof(a) - 1, n;

	for (n = 1; n < la; n++)
		cr_assert_eq(mlen(a, n), 0, "prefix %zu", n);
	cr_assert_eq(mlen(a, la), (ssize_t)la);
	cr_assert_eq(mlen(a, 0), 0);
}

Test(sip_frame, no_content_length_ends_at_blank_line)
{
	static const char a[] = "OPTIONS sip:b@h SIP/2.0\nCall-ID: x\n\nINVITE";

	cr_assert_eq(mlen(a, sizeof(a) - 1), (ssize_t)(sizeof(a) - 1 - 6));
}

Test(sip_frame, keepalives)
{
	cr_assert_eq(mlen("\r\n\r\n", 4), 4);
	cr_assert_eq(mlen("\r\n", 2), 2);
	cr_assert_eq(mlen("\r\n\r\nSIP/2.0 200 OK\r\n\r\n", 22), 4);
	cr_assert_eq(vs_sip__is_keepalive((const uint8_t *)"\r\n\r\n", 4), 1);
	cr_assert_eq(vs_sip__is_keepalive((const uint8_t *)"\n", 1), 1);
	cr_assert_eq(vs_sip__is_keepalive((const uint8_t *)"\r\n \r\n", 5), 0);
	cr_assert_eq(vs_sip__is_keepalive((const uint8_t *)"", 0), 0);
}

Test(sip_frame, garbage_is_minus_one)
{
	cr_assert_eq(mlen("\x16\x03\x01\x02\x00", 5), -1); /* TLS hello */
	cr_assert_eq(mlen("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27), -1);
	cr_assert_eq(mlen("SIP/2.0 2000 OK\r\n\r\n", 19), -1);
	cr_assert_eq(mlen("hello\x01world", 11), -1);
	cr_assert_eq(mlen("INVITE sip:b SIP/2.0\r\nContent-Length: x\r\n\r\n", 44),
		     -1);
	cr_assert_eq(mlen("INVITE sip:b SIP/2.0\r\nl: 99999999999\r\n\r\n", 39), -1);
}

Test(sip_frame, header_bound)
{
	size_t big = 70 * 1024, n;
	char *b = malloc(big);
	static const char start[] = "INVITE sip:b@h SIP/2.0\r\n";

	memcpy(b, start, sizeof(start) - 1);
	for (n = sizeof(start) - 1; n + 12 <= big; n += 12)
		memcpy(b + n, "X-Pad: abc\r\n", 12);
	n = n < big ? n : big;
	cr_assert_eq(mlen(b, 60 * 1024), 0); /* could still end */
	cr_assert_eq(mlen(b, n), -1);	      /* no blank line in 64 KiB */
	memset(b, 'A', big);
	cr_assert_eq(mlen(b, 1000), 0);
	cr_assert_eq(mlen(b, big), -1);
	free(b);
}

/* ---- a real capture ---------------------------------------------------- */

#include <pcap/pcap.h>
#include <unistd.h>

static const char *shared_path(const char *rel)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "../shared/%s", rel);
	if (access(buf, R_OK) == 0)
		return buf;
	snprintf(buf, sizeof(buf), "/work/shared/%s", rel);
	return access(buf, R_OK) == 0 ? buf : NULL;
}

/* UDP payload of an Ethernet/IPv4/UDP frame with port 5060 on either side. */
static const uint8_t *udp5060(const uint8_t *f, size_t caplen, size_t *plen)
{
	size_t ihl, ulen;
	const uint8_t *ip = f + 14, *udp;

	if (caplen < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
		return NULL;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	if ((ip[0] >> 4) != 4 || ip[9] != 17 || ihl < 20 ||
	    caplen < 14 + ihl + 8)
		return NULL;
	udp = ip + ihl;
	if (((udp[0] << 8 | udp[1]) != 5060) && ((udp[2] << 8 | udp[3]) != 5060))
		return NULL;
	ulen = (size_t)(udp[4] << 8 | udp[5]);
	if (ulen < 8 || 14 + ihl + ulen > caplen)
		return NULL;
	*plen = ulen - 8;
	return udp + 8;
}

struct cid_count {
	const char *id;
	int want, got;
};

Test(sip_pcap, aaa_matches_oracle)
{
	/* From oracle/aaa.pcap.txt: 81 SIP messages in 6 Call-IDs, 47
	 * requests (INVITE 11, ACK 7, REGISTER 18, CANCEL 11), 34 responses;
	 * 21 further datagrams on 5060 are five spaces, not SIP. */
	struct cid_count cids[] = {
		{ "578222729-4665d775@578222732-4665d772", 26 },
		{ "105090259-446faf7a@192.168.1.2", 18 },
		{ "85216695-42dcdb1d@192.168.1.2", 8 },
		{ "29858147-465b0752@29858051-465b07b2", 14 },
		{ "24487391-449bf2a0@192.168.1.2", 7 },
		{ "11894297-4432a9f8@192.168.1.2", 8 },
	};
	int per_method[VS_SIP__COUNT] = { 0 }, with_body = 0;
	const char *path = shared_path("pcaps/sngrep/aaa.pcap");
	struct vs_sip_stats st = { 0 };
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const uint8_t *data, *pl;
	struct vs_sip_msg m;
	struct vs_sdp sdp;
	size_t plen, i;
	char a[VS_ADDR_STRLEN];
	pcap_t *pc;

	if (!path)
		cr_skip_test("../shared/pcaps/sngrep/aaa.pcap not present");
	pc = pcap_open_offline(path, err);
	cr_assert_not_null(pc, "%s", err);
	while (pcap_next_ex(pc, &hdr, &data) == 1) {
		pl = udp5060(data, hdr->caplen, &plen);
		if (!pl || vs_sip__parse(pl, plen, &m, &st) != 0)
			continue;
		if (m.is_request)
			per_method[m.method]++;
		if (m.body.len && vs_sdp__parse(m.body.p, m.body.len, &sdp,
						&st) == 0)
			with_body++;
		for (i = 0; i < sizeof(cids) / sizeof(cids[0]); i++)
			if (m.call_id.len == strlen(cids[i].id) &&
			    !memcmp(m.call_id.p, cids[i].id, m.call_id.len))
				cids[i].got++;
	}
	pcap_close(pc);
	cr_assert_eq(st.messages, 81);
	cr_assert_eq(st.requests, 47);
	cr_assert_eq(st.responses, 34);
	cr_assert_eq(st.not_sip, 21);
	cr_assert_eq(per_method[VS_SIP_INVITE], 11);
	cr_assert_eq(per_method[VS_SIP_ACK], 7);
	cr_assert_eq(per_method[VS_SIP_REGISTER], 18);
	cr_assert_eq(per_method[VS_SIP_CANCEL], 11);
	cr_assert_eq(with_body, 12);
	cr_assert_eq(st.sdp_parsed, 12);
	cr_assert_eq(st.sdp_bad + st.sdp_truncated, 0);
	/* the last SDP is the 183's answer: audio 40392 RTP/AVP 8 0 */
	cr_assert_eq(sdp.n_media, 1);
	cr_assert_str_eq(vs_addr_str(&sdp.media[0].addr, a, sizeof(a)),
			 "212.242.33.36");
	cr_assert_eq(sdp.media[0].port, 40392);
	cr_assert_eq(sdp.media[0].n_fmt, 2);
	cr_assert_eq(sdp.media[0].fmt[0], 8);
	cr_assert_eq(sdp.media[0].fmt[1], 0);
	cr_assert_eq(sdp.media[0].ptime, 20);
	for (i = 0; i < sizeof(cids) / sizeof(cids[0]); i++)
		cr_assert_eq(cids[i].got, cids[i].want, "%s", cids[i].id);
	cr_assert_eq(st.bad_start_line + st.missing_call_id + st.bad_header +
		     st.bad_cseq + st.bad_content_length, 0);
}
