// SPDX-License-Identifier: GPL-2.0-or-later
/* The call table driven by SIP text and hand-made RTP: call life cycle,
 * retransmissions, media matching by SDP endpoints, timeouts. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "call/call.h"
#include "conf/conf.h"
#include "sip/sip.h"

#define CALLER "10.1.0.1"
#define CALLEE "10.2.0.1"
#define T0 1700000000000000ULL

static struct vs_conf conf;
static struct vs_call_stats cst;
static struct vs_sip_stats sst;
static struct vs_call_table *tab;
static struct vs_cdr got[8];
static int ngot;

static void on_end(void *ctx, const struct vs_cdr *cdr, void *user)
{
	(void)ctx;
	(void)user;
	cr_assert_lt(ngot, 8);
	got[ngot++] = *cdr;
	got[ngot - 1].streams = NULL;
}

static void setup(void)
{
	struct vs_call_opts o = { .conf = &conf, .on_end = on_end,
				  .stats = &cst, .sip_stats = &sst };

	vs_conf__init(&conf);
	memset(&cst, 0, sizeof(cst));
	memset(&sst, 0, sizeof(sst));
	ngot = 0;
	tab = vs_call_table__new(&o);
	cr_assert_not_null(tab);
}

static void teardown(void)
{
	vs_call_table__free(tab);
	vs_conf__free(&conf);
}

static struct vs_datagram dgram(const char *src, uint16_t sp, const char *dst,
				uint16_t dp, const void *pl, size_t len,
				uint64_t ts)
{
	struct vs_datagram d = { .proto = IPPROTO_UDP, .payload = pl,
				 .len = (uint32_t)len, .ts_us = ts };

	cr_assert_eq(vs_addr_parse(&d.src.addr, src, strlen(src)), 0);
	cr_assert_eq(vs_addr_parse(&d.dst.addr, dst, strlen(dst)), 0);
	d.src.port = sp;
	d.dst.port = dp;
	return d;
}

/* Sends SIP text from src to dst at ts (ms after T0). */
static struct vs_call *sip(const char *src, const char *dst, uint64_t ms,
			   const char *fmt, ...)
{
	static char buf[4096];
	struct vs_sip_msg m;
	struct vs_datagram d;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	d = dgram(src, 5060, dst, 5060, buf, (size_t)n, T0 + ms * 1000);
	cr_assert_eq(vs_sip__parse((const uint8_t *)buf, (size_t)n, &m, &sst), 0,
		     "bad SIP in test: %s", buf);
	vs_call_table__tick(tab, d.ts_us);
	return vs_call_table__sip(tab, &m, &d, 7);
}

static const char *sdp_fmt =
	"v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
	"m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n";

static const char *req(const char *method, int cseq, const char *totag,
		       const char *body)
{
	static char b[2048];

	snprintf(b, sizeof(b),
		 "%s sip:200@example.org SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP " CALLER ";branch=z9hG4bK%s%d\r\n"
		 "From: \"Alice\" <sip:100@example.org>;tag=abc\r\n"
		 "To: <sip:200@example.org>%s%s\r\n"
		 "Call-ID: call-1@test\r\nCSeq: %d %s\r\n"
		 "User-Agent: phoneA\r\n"
		 "%sContent-Length: %zu\r\n\r\n%s",
		 method, method, cseq, totag ? ";tag=" : "", totag ? totag : "",
		 cseq, method,
		 body ? "Content-Type: application/sdp\r\n" : "",
		 body ? strlen(body) : 0, body ? body : "");
	return b;
}

static const char *resp(int code, const char *text, const char *method,
			int cseq, const char *body)
{
	static char b[2048];

	snprintf(b, sizeof(b),
		 "SIP/2.0 %d %s\r\n"
		 "Via: SIP/2.0/UDP " CALLER ";branch=z9hG4bK%s%d\r\n"
		 "From: \"Alice\" <sip:100@example.org>;tag=abc\r\n"
		 "To: <sip:200@example.org>;tag=xyz\r\n"
		 "Call-ID: call-1@test\r\nCSeq: %d %s\r\nServer: phoneB\r\n"
		 "%sContent-Length: %zu\r\n\r\n%s",
		 code, text, method, cseq, cseq, method,
		 body ? "Content-Type: application/sdp\r\n" : "",
		 body ? strlen(body) : 0, body ? body : "");
	return b;
}

static char sdp_a[512], sdp_b[512];

static void answered_call(void)
{
	snprintf(sdp_a, sizeof(sdp_a), sdp_fmt, CALLER, CALLER, 4000);
	snprintf(sdp_b, sizeof(sdp_b), sdp_fmt, CALLEE, CALLEE, 6000);
	cr_assert_not_null(sip(CALLER, CALLEE, 0, "%s", req("INVITE", 1, NULL, sdp_a)));
	sip(CALLEE, CALLER, 10, "%s", resp(100, "Trying", "INVITE", 1, NULL));
	sip(CALLEE, CALLER, 100, "%s", resp(180, "Ringing", "INVITE", 1, NULL));
	sip(CALLEE, CALLER, 2000, "%s", resp(200, "OK", "INVITE", 1, sdp_b));
	sip(CALLER, CALLEE, 2010, "%s", req("ACK", 1, "xyz", NULL));
}

/* An RTP packet of seq at ms, from -> to. */
static struct vs_call *rtp(const char *src, uint16_t sp, const char *dst,
			   uint16_t dp, uint16_t seq, uint32_t ssrc, uint64_t ms)
{
	static uint8_t p[172];
	struct vs_datagram d;
	int is_rtp = -1;
	struct vs_call *c;

	memset(p, 0, sizeof(p));
	p[0] = 0x80;
	p[1] = 0;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	uint32_t ts = htonl((uint32_t)seq * 160), s = htonl(ssrc);

	memcpy(p + 4, &ts, 4);
	memcpy(p + 8, &s, 4);
	d = dgram(src, sp, dst, dp, p, sizeof(p), T0 + ms * 1000);
	vs_call_table__tick(tab, d.ts_us);
	c = vs_call_table__udp(tab, &d, &is_rtp);
	if (c)
		cr_assert_eq(is_rtp, 1);
	return c;
}

TestSuite(call, .init = setup, .fini = teardown);

Test(call, answered_bye_cdr)
{
	answered_call();
	for (int i = 0; i < 50; i++) {
		if (i != 10) /* one packet lost caller -> callee */
			cr_assert_not_null(rtp(CALLER, 4000, CALLEE, 6000, (uint16_t)(100 + i), 0x1111, 2100 + i * 20));
		cr_assert_not_null(rtp(CALLEE, 6000, CALLER, 4000, (uint16_t)(500 + i), 0x2222, 2105 + i * 20));
	}
	sip(CALLEE, CALLER, 3200, "%s", req("BYE", 2, "xyz", NULL) );
	cr_assert_eq(ngot, 0);
	sip(CALLER, CALLEE, 3210, "%s", resp(200, "OK", "BYE", 2, NULL));
	cr_assert_eq(ngot, 0, "the call lives through the grace period");
	vs_call_table__tick(tab, T0 + 9000 * 1000);
	cr_assert_eq(ngot, 1);
	struct vs_cdr *r = &got[0];

	cr_assert_str_eq(r->call_id, "call-1@test");
	cr_assert_eq(r->id_sensor, 7);
	cr_assert_str_eq(r->caller, "100");
	cr_assert_str_eq(r->called, "200");
	cr_assert_str_eq(r->caller_name, "Alice");
	cr_assert_str_eq(r->caller_ua, "phoneA");
	cr_assert_str_eq(r->called_ua, "phoneB");
	cr_assert_eq(r->calldate_us, T0);
	cr_assert_eq(r->progress_us, T0 + 100000);
	cr_assert_eq(r->connect_us, T0 + 2000000);
	cr_assert_eq(r->first_rtp_us, T0 + 2100000);
	cr_assert_eq(r->callend_us, T0 + 3210000);
	cr_assert_eq(r->last_sip_code, 200);
	cr_assert_eq(r->end, VS_END_BYE);
	/* the BYE carries the caller's From tag in this test: caller hung up */
	cr_assert_eq(r->whohanged, VS_HANGUP_CALLER);
	cr_assert_eq(r->a.present, 1);
	cr_assert_eq(r->a.ssrc, 0x1111);
	cr_assert_eq(r->a.packets, 49);
	cr_assert_eq(r->a.lost, 1);
	cr_assert_str_eq(r->a.codec, "PCMU");
	cr_assert_eq(r->b.ssrc, 0x2222);
	cr_assert_eq(r->b.packets, 50);
	cr_assert_eq(r->b.lost, 0);
	cr_assert_eq(r->sip_messages, 7);
	cr_assert_eq(cst.rtp_packets, 99);
}

Test(call, retransmission_not_double_counted)
{
	snprintf(sdp_a, sizeof(sdp_a), sdp_fmt, CALLER, CALLER, 4000);
	sip(CALLER, CALLEE, 0, "%s", req("INVITE", 1, NULL, sdp_a));
	sip(CALLER, CALLEE, 500, "%s", req("INVITE", 1, NULL, sdp_a));
	sip(CALLEE, CALLER, 600, "%s", resp(486, "Busy Here", "INVITE", 1, NULL));
	sip(CALLEE, CALLER, 1100, "%s", resp(486, "Busy Here", "INVITE", 1, NULL));
	vs_call_table__flush(tab);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(cst.sip_retrans, 2);
	cr_assert_eq(got[0].sip_messages, 2);
	cr_assert_eq(got[0].last_sip_code, 486);
	cr_assert_str_eq(got[0].last_sip_text, "Busy Here");
	cr_assert_eq(got[0].end, VS_END_ERROR);
	cr_assert_eq(got[0].a.present, 0);
}

Test(call, cancel_then_487)
{
	snprintf(sdp_a, sizeof(sdp_a), sdp_fmt, CALLER, CALLER, 4000);
	sip(CALLER, CALLEE, 0, "%s", req("INVITE", 1, NULL, sdp_a));
	sip(CALLEE, CALLER, 50, "%s", resp(180, "Ringing", "INVITE", 1, NULL));
	sip(CALLER, CALLEE, 3000, "%s", req("CANCEL", 1, NULL, NULL));
	sip(CALLEE, CALLER, 3010, "%s", resp(200, "OK", "CANCEL", 1, NULL));
	sip(CALLEE, CALLER, 3020, "%s", resp(487, "Request Terminated", "INVITE", 1, NULL));
	vs_call_table__tick(tab, T0 + 60000 * 1000ULL);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(got[0].end, VS_END_CANCEL);
	cr_assert_eq(got[0].whohanged, VS_HANGUP_CALLER);
	cr_assert_eq(got[0].last_sip_code, 487);
	cr_assert_eq(got[0].connect_us, 0);
	cr_assert_float_eq(got[0].connect_duration_s, 0.0, 1e-9);
}

Test(call, auth_challenge_does_not_end_call)
{
	snprintf(sdp_a, sizeof(sdp_a), sdp_fmt, CALLER, CALLER, 4000);
	sip(CALLER, CALLEE, 0, "%s", req("INVITE", 1, NULL, sdp_a));
	sip(CALLEE, CALLER, 10, "%s", resp(407, "Proxy Authentication Required", "INVITE", 1, NULL));
	sip(CALLER, CALLEE, 20, "%s", req("INVITE", 2, NULL, sdp_a));
	vs_call_table__tick(tab, T0 + 20000 * 1000ULL); /* past the 5 s grace */
	cr_assert_eq(ngot, 0, "new INVITE after 407 keeps the call");
	sip(CALLEE, CALLER, 20100, "%s", resp(200, "OK", "INVITE", 2, NULL));
	vs_call_table__flush(tab);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(got[0].last_sip_code, 200);
	cr_assert_eq(got[0].end, VS_END_EOF);
}

Test(call, rtp_timeout_and_unmatched)
{
	conf.rtptimeout_s = 10;
	answered_call();
	cr_assert_null(rtp(CALLER, 4002, CALLEE, 6002, 1, 0x9, 2100),
		       "ports not in SDP are not the call's");
	cr_assert_eq(cst.udp_unmatched, 1);
	cr_assert_not_null(rtp(CALLER, 4000, CALLEE, 6000, 1, 0x9, 2100));
	vs_call_table__tick(tab, T0 + 11000 * 1000ULL);
	cr_assert_eq(ngot, 0);
	vs_call_table__tick(tab, T0 + 12200 * 1000ULL);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(got[0].end, VS_END_TIMEOUT);
	cr_assert_eq(cst.calls_timeout, 1);
	cr_assert_null(rtp(CALLER, 4000, CALLEE, 6000, 2, 0x9, 12300),
		       "an ended call's endpoints are released");
}

Test(call, register_and_options_not_calls)
{
	const char *reg =
		"REGISTER sip:example.org SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.0.1;branch=z9hG4bKr\r\n"
		"From: <sip:100@example.org>;tag=r1\r\nTo: <sip:100@example.org>\r\n"
		"Call-ID: reg-1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";

	cr_assert_null(sip(CALLER, CALLEE, 0, "%s", reg));
	cr_assert_eq(cst.sip_register, 1);
	cr_assert_eq(cst.calls_created, 0);
}

Test(call, reinvite_moves_media)
{
	char sdp_b2[512];

	answered_call();
	cr_assert_not_null(rtp(CALLEE, 6000, CALLER, 4000, 1, 0x2222, 2100));
	snprintf(sdp_b2, sizeof(sdp_b2), sdp_fmt, CALLEE, CALLEE, 7000);
	/* the callee re-INVITEs with a new port */
	sip(CALLEE, CALLER, 3000,
	    "INVITE sip:100@" CALLER " SIP/2.0\r\nVia: SIP/2.0/UDP " CALLEE ";branch=z9hG4bKre\r\n"
	    "From: <sip:200@example.org>;tag=xyz\r\nTo: \"Alice\" <sip:100@example.org>;tag=abc\r\n"
	    "Call-ID: call-1@test\r\nCSeq: 7 INVITE\r\nContent-Type: application/sdp\r\n"
	    "Content-Length: %zu\r\n\r\n%s", strlen(sdp_b2), sdp_b2);
	cr_assert_not_null(rtp(CALLER, 4000, CALLEE, 7000, 1, 0x1111, 3100));
	cr_assert_not_null(rtp(CALLEE, 7000, CALLER, 4000, 2, 0x2222, 3105));
	vs_call_table__flush(tab);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(got[0].reinvites, 1);
	cr_assert_eq(got[0].a.packets, 1);
	cr_assert_eq(got[0].a.dst.port, 7000);
	cr_assert_eq(got[0].n_streams, 3);
}

Test(call, natalias_matches_the_public_address)
{
	/* Both SDPs carry private addresses; the packets carry the public ones
	 * (NAT on both sides). Only natalias lets them match. */
	cr_assert_eq(vs_conf__set(&conf, "natalias", "10.1.0.1 198.51.100.1", "t"), 0);
	cr_assert_eq(vs_conf__set(&conf, "natalias", "10.2.0.1 203.0.113.9", "t"), 0);
	answered_call();
	cr_assert_not_null(rtp("198.51.100.1", 4000, "203.0.113.9", 6000, 1, 0x1111, 2100));
	cr_assert_not_null(rtp("203.0.113.9", 6000, "198.51.100.1", 4000, 1, 0x2222, 2105));
	cr_assert_null(rtp("198.51.100.2", 4000, "203.0.113.10", 6000, 2, 0x3333, 2120),
		       "addresses no alias names do not match");
	vs_call_table__flush(tab);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(got[0].a.packets, 1);
	cr_assert_eq(got[0].b.packets, 1);
}

static int hook_adds, hook_dels;

static void hook(void *ctx, const struct vs_endpoint *ep, int add)
{
	(void)ctx;
	(void)ep;
	if (add)
		hook_adds++;
	else
		hook_dels++;
}

Test(call, media_hook_follows_calls)
{
	/* on_media is told once per endpoint when it becomes live and once
	 * when its last call ends: what the kernel flow table mirrors. */
	struct vs_call_opts o = { .conf = &conf, .on_end = on_end,
				  .stats = &cst, .sip_stats = &sst,
				  .on_media = hook };

	vs_call_table__free(tab);
	tab = vs_call_table__new(&o);
	hook_adds = hook_dels = 0;
	answered_call();
	/* RTP and RTCP (port + 1) of both sides */
	cr_assert_eq(hook_adds, 4);
	cr_assert_eq(hook_dels, 0);
	vs_call_table__flush(tab);
	cr_assert_eq(hook_dels, 4);
}

/* The endpoints on_media was told of, as "addr:port", adds and deletes. */
struct media_log {
	int n[2];
	char ep[2][8][64];
};

static void hook_log(void *ctx, const struct vs_endpoint *ep, int add)
{
	struct media_log *l = ctx;
	char a[48];

	cr_assert_lt(l->n[add], 8);
	snprintf(l->ep[add][l->n[add]++], 64, "%s:%u",
		 vs_addr_str(&ep->addr, a, sizeof(a)), ep->port);
}

static int logged(const struct media_log *l, int add, const char *ep)
{
	for (int i = 0; i < l->n[add]; i++)
		if (!strcmp(l->ep[add][i], ep))
			return 1;
	return 0;
}

Test(call, media_hook_adds_natalias_twins)
{
	/* The caller's SDP address has a natalias: the kernel must hear of
	 * the public twin of its RTP and RTCP endpoints too, and lose both
	 * when the call ends. The callee's has none: no twin. */
	static const char *eps[] = { CALLER ":4000", CALLER ":4001",
				     "198.51.100.1:4000", "198.51.100.1:4001",
				     CALLEE ":6000", CALLEE ":6001" };
	static struct media_log l;

	cr_assert_eq(vs_conf__set(&conf, "natalias", CALLER " 198.51.100.1",
				  "t"), 0);
	vs_call_table__set_media_fn(tab, hook_log, &l);
	answered_call();
	cr_assert_eq(l.n[1], 6);
	cr_assert_eq(l.n[0], 0);
	for (int i = 0; i < 6; i++)
		cr_expect(logged(&l, 1, eps[i]), "%s not added", eps[i]);
	vs_call_table__flush(tab);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(l.n[0], 6);
	for (int i = 0; i < 6; i++)
		cr_expect(logged(&l, 0, eps[i]), "%s not removed", eps[i]);
}

Test(call, rtp_joins_by_ssrc_on_unannounced_endpoints)
{
	answered_call();
	cr_assert_null(rtp("192.0.2.7", 9000, "192.0.2.8", 9002, 1, 0x1111, 2090),
		       "unknown endpoints and unknown SSRC: no call");
	cr_assert_not_null(rtp(CALLER, 4000, CALLEE, 6000, 1, 0x1111, 2100));
	cr_assert_not_null(rtp(CALLER, 4000, CALLEE, 6000, 2, 0x1111, 2120));
	/* the same stream relayed between two other hosts */
	cr_assert_not_null(rtp("192.0.2.7", 9000, "192.0.2.8", 9002, 1, 0x1111, 2101));
	cr_assert_eq(cst.rtp_by_ssrc, 1);
	vs_call_table__flush(tab);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(got[0].n_streams, 2);
	cr_assert_eq(got[0].a.packets, 2, "the SDP stream is the CDR's a leg");
	cr_assert_eq(got[0].a.dst.port, 6000);
	cr_assert_null(rtp("192.0.2.7", 9000, "192.0.2.8", 9002, 2, 0x1111, 2200),
		       "an ended call's SSRCs are forgotten");
}

/* A message of a second call, call-2@test, from the caller's host. */
static struct vs_call *sip2(uint64_t ms, const char *first_line,
			    const char *cseq, const char *body)
{
	return sip(CALLER, CALLEE, ms,
		   "%s\r\nVia: SIP/2.0/UDP " CALLER ";branch=z9hG4bK2%s\r\n"
		   "From: <sip:101@example.org>;tag=def\r\n"
		   "To: <sip:201@example.org>\r\nCall-ID: call-2@test\r\n"
		   "CSeq: %s\r\n%sContent-Length: %zu\r\n\r\n%s",
		   first_line, cseq, cseq,
		   body ? "Content-Type: application/sdp\r\n" : "",
		   body ? strlen(body) : 0, body ? body : "");
}

Test(call, newest_call_shadows_a_shared_endpoint)
{
	/* A later call announces an endpoint a live call still holds (the
	 * port came back to the pool early): the newest gets its packets, the
	 * older one gets them again once the newer has ended, and the kernel
	 * hook hears of the endpoint once live, once dead. */
	struct vs_call_opts o = { .conf = &conf, .on_end = on_end,
				  .stats = &cst, .sip_stats = &sst,
				  .on_media = hook };
	struct vs_call *c2;

	vs_call_table__free(tab);
	tab = vs_call_table__new(&o);
	hook_adds = hook_dels = 0;
	answered_call();
	cr_assert_eq(hook_adds, 4);
	c2 = sip2(2500, "INVITE sip:201@example.org SIP/2.0", "1 INVITE",
		  sdp_a);
	cr_assert_not_null(c2);
	cr_assert_eq(hook_adds, 4, "endpoints already live: no new adds");
	cr_assert_eq(rtp(CALLEE, 6000, CALLER, 4000, 1, 0x2222, 2600), c2);
	cr_assert_str_eq(vs_call__cdr(rtp(CALLER, 4000, CALLEE, 6000, 1, 0x1111,
					  2610))->call_id,
			 "call-1@test", "the callee's endpoint is call 1's");
	sip(CALLEE, CALLER, 2700,
	    "SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP " CALLER
	    ";branch=z9hG4bK21 INVITE\r\nFrom: <sip:101@example.org>;tag=def\r\n"
	    "To: <sip:201@example.org>;tag=q\r\nCall-ID: call-2@test\r\n"
	    "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
	vs_call_table__tick(tab, T0 + 9000 * 1000ULL);
	cr_assert_eq(ngot, 1);
	cr_assert_str_eq(got[0].call_id, "call-2@test");
	cr_assert_eq(hook_dels, 0, "call 1 still holds the endpoints");
	cr_assert_str_eq(vs_call__cdr(rtp(CALLEE, 6000, CALLER, 4000, 2, 0x2222,
					  9100))->call_id,
			 "call-1@test");
	vs_call_table__flush(tab);
	cr_assert_eq(ngot, 2);
	cr_assert_eq(got[1].b.packets, 1, "call 1 kept only its own packet");
	cr_assert_eq(got[1].a.packets, 1);
	cr_assert_eq(hook_dels, 4);
}
