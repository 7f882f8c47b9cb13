// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the SDP parser and the RTP static payload table
 * (user/sip/sdp.c). Bodies are parsed from exact-size heap copies. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sip/sdp.h"

static int sdp_n(const char *s, size_t n, struct vs_sdp *sdp,
		 struct vs_sip_stats *st)
{
	char *b = malloc(n ? n : 1);
	int rc;

	cr_assert_not_null(b);
	memcpy(b, s, n);
	rc = vs_sdp__parse(b, n, sdp, st);
	free(b);
	return rc;
}

static int sdp(const char *s, struct vs_sdp *out, struct vs_sip_stats *st)
{
	return sdp_n(s, strlen(s), out, st);
}

#define ADDR_EQ(a, want) addr_eq(&(a), want, #a)
static void addr_eq(const struct vs_addr *a, const char *want, const char *what)
{
	char buf[VS_ADDR_STRLEN];

	vs_addr_str(a, buf, sizeof(buf));
	cr_assert_str_eq(buf, want, "%s", what);
}

Test(sdp, basic_audio)
{
	static const char s[] =
		"v=0\r\n"
		"o=- 123 456 IN IP4 10.0.0.1\r\n"
		"s=call\r\n"
		"c=IN IP4 192.0.2.10\r\n"
		"t=0 0\r\n"
		"m=audio 30000 RTP/AVP 0 8 97 101\r\n"
		"a=rtpmap:97 iLBC/8000\r\n"
		"a=rtpmap:101 telephone-event/8000\r\n"
		"a=fmtp:101 0-16\r\n"
		"a=ptime:20\r\n";
	struct vs_sip_stats st = { 0 };
	struct vs_sdp d;
	const struct vs_sdp_media *m = &d.media[0];
	const char *name;
	uint32_t clock;

	cr_assert_eq(sdp(s, &d, &st), 0);
	cr_assert_eq(d.n_media, 1);
	cr_assert_eq(m->type, VS_SDP_AUDIO);
	cr_assert_eq(m->port, 30000);
	cr_assert_eq(m->rtcp_port, 30001);
	cr_assert_eq(m->has_addr, 1);
	ADDR_EQ(m->addr, "192.0.2.10");
	ADDR_EQ(m->rtcp_addr, "192.0.2.10");
	cr_assert_eq(m->dir, VS_SDP_SENDRECV);
	cr_assert_eq(m->ptime, 20);
	cr_assert_eq(m->n_fmt, 4);
	cr_assert_eq(m->fmt[0], 0);
	cr_assert_eq(m->fmt[1], 8);
	cr_assert_eq(m->fmt[2], 97);
	cr_assert_eq(m->fmt[3], 101);
	cr_assert_eq(m->n_rtpmap, 2);
	cr_assert_eq(m->rtpmap[0].pt, 97);
	cr_assert_str_eq(m->rtpmap[0].name, "iLBC");
	cr_assert_eq(m->rtpmap[0].clock, 8000);
	cr_assert_str_eq(m->rtpmap[1].name, "telephone-event");
	cr_assert_eq(vs_sdp_media__codec(m, 97, &name, &clock), 0);
	cr_assert_str_eq(name, "iLBC");
	cr_assert_eq(clock, 8000);
	cr_assert_eq(vs_sdp_media__codec(m, 8, &name, &clock), 0);
	cr_assert_str_eq(name, "PCMA");
	cr_assert_eq(clock, 8000);
	cr_assert_eq(vs_sdp_media__codec(m, 96, &name, &clock), -ENOENT);
	cr_assert_eq(st.sdp_parsed, 1);
	cr_assert_eq(st.sdp_bad, 0);
	cr_assert_eq(st.sdp_truncated, 0);
}

Test(sdp, rtpmap_overrides_static_and_channels)
{
	static const char s[] =
		"v=0\nc=IN IP4 1.2.3.4\n"
		"m=audio 4000 RTP/AVP 8 0 9\n"
		"a=rtpmap:8 PCMA/8000/1\n"
		"a=rtpmap:0 pcmu/8000\n"
		"a=rtpmap:9 averyveryverylongcodecname/48000/2\n";
	struct vs_sdp d;
	const char *name;
	uint32_t clock;

	cr_assert_eq(sdp(s, &d, NULL), 0);
	cr_assert_eq(d.media[0].n_rtpmap, 3);
	cr_assert_eq(vs_sdp_media__codec(&d.media[0], 0, &name, &clock), 0);
	cr_assert_str_eq(name, "pcmu"); /* as written */
	cr_assert_eq(vs_sdp_media__codec(&d.media[0], 8, &name, &clock), 0);
	cr_assert_str_eq(name, "PCMA");
	cr_assert_eq(clock, 8000);
	cr_assert_eq(vs_sdp_media__codec(&d.media[0], 9, &name, &clock), 0);
	cr_assert_str_eq(name, "averyveryverylo"); /* 15 chars kept */
	cr_assert_eq(clock, 48000);
}

Test(sdp, ipv6_connection)
{
	static const char s[] =
		"v=0\r\n"
		"o=- 1 1 IN IP6 2001:db8::1\r\n"
		"c=IN IP6 2001:db8::10\r\n"
		"m=audio 5004 RTP/AVP 0\r\n";
	struct vs_sdp d;

	cr_assert_eq(sdp(s, &d, NULL), 0);
	cr_assert_eq(d.media[0].has_addr, 1);
	ADDR_EQ(d.media[0].addr, "2001:db8::10");
	cr_assert(!vs_addr_is_v4(&d.media[0].addr));
}

Test(sdp, media_c_overrides_session_c)
{
	static const char s[] =
		"v=0\r\n"
		"c=IN IP4 224.2.17.12/127\r\n"
		"m=audio 49170 RTP/AVP 0\r\n"
		"c=IN IP4 198.51.100.7/127/3\r\n"
		"m=video 51372/2 RTP/AVPF 99\r\n"
		"a=rtpmap:99 H264/90000\r\n"
		"m=audio 6000 RTP/SAVP 0\r\n"
		"c=IN IP6 2001:db8::7/2\r\n";
	struct vs_sdp d;
	const char *name;
	uint32_t clock;

	cr_assert_eq(sdp(s, &d, NULL), 0);
	cr_assert_eq(d.n_media, 3);
	ADDR_EQ(d.media[0].addr, "198.51.100.7");
	cr_assert_eq(d.media[1].type, VS_SDP_VIDEO);
	cr_assert_eq(d.media[1].port, 51372);
	cr_assert_eq(d.media[1].rtcp_port, 51373);
	ADDR_EQ(d.media[1].addr, "224.2.17.12");
	cr_assert_eq(d.media[1].has_addr, 1);
	cr_assert_eq(vs_sdp_media__codec(&d.media[1], 99, &name, &clock), 0);
	cr_assert_str_eq(name, "H264");
	cr_assert_eq(clock, 90000);
	ADDR_EQ(d.media[2].addr, "2001:db8::7");
	ADDR_EQ(d.media[2].rtcp_addr, "2001:db8::7");
}

Test(sdp, no_connection_at_all)
{
	struct vs_sdp d;

	cr_assert_eq(sdp("v=0\r\nm=audio 1000 RTP/AVP 0\r\n", &d, NULL), 0);
	cr_assert_eq(d.n_media, 1);
	cr_assert_eq(d.media[0].has_addr, 0);
}

Test(sdp, rtcp_attribute)
{
	static const char s[] =
		"v=0\r\n"
		"c=IN IP4 10.1.1.1\r\n"
		"m=audio 20000 RTP/AVP 0\r\n"
		"a=rtcp:20011\r\n"
		"m=audio 20002 RTP/AVP 0\r\n"
		"a=rtcp:53020 IN IP4 126.16.64.4\r\n"
		"m=audio 20004 RTP/AVP 0\r\n"
		"a=rtcp-mux\r\n"
		"m=audio 0 RTP/AVP 0\r\n"
		"m=audio 20006 RTP/AVP 0\r\n"
		"a=rtcp:20007 IN IP6 2001:db8::5\r\n";
	struct vs_sip_stats st = { 0 };
	struct vs_sdp d;

	cr_assert_eq(sdp(s, &d, &st), 0);
	cr_assert_eq(d.n_media, 5);
	cr_assert_eq(d.media[0].rtcp_port, 20011);
	ADDR_EQ(d.media[0].rtcp_addr, "10.1.1.1");
	cr_assert_eq(d.media[1].rtcp_port, 53020);
	ADDR_EQ(d.media[1].rtcp_addr, "126.16.64.4");
	ADDR_EQ(d.media[1].addr, "10.1.1.1");
	cr_assert_eq(d.media[2].rtcp_port, 20005);
	cr_assert_eq(d.media[3].port, 0);
	cr_assert_eq(d.media[3].rtcp_port, 0);
	cr_assert_eq(d.media[4].rtcp_port, 20007);
	ADDR_EQ(d.media[4].rtcp_addr, "2001:db8::5");
	cr_assert_eq(st.sdp_bad, 0);
}

Test(sdp, direction_attributes)
{
	static const char s[] =
		"v=0\r\n"
		"c=IN IP4 10.1.1.1\r\n"
		"a=sendonly\r\n"
		"m=audio 1000 RTP/AVP 0\r\n"
		"m=audio 1002 RTP/AVP 0\r\n"
		"a=recvonly\r\n"
		"m=audio 1004 RTP/AVP 0\r\n"
		"a=inactive\r\n"
		"m=audio 1006 RTP/AVP 0\r\n"
		"a=sendrecv\r\n";
	struct vs_sdp d;

	cr_assert_eq(sdp(s, &d, NULL), 0);
	cr_assert_eq(d.n_media, 4);
	cr_assert_eq(d.media[0].dir, VS_SDP_SENDONLY);
	cr_assert_eq(d.media[1].dir, VS_SDP_RECVONLY);
	cr_assert_eq(d.media[2].dir, VS_SDP_INACTIVE);
	cr_assert_eq(d.media[3].dir, VS_SDP_SENDRECV);
}

Test(sdp, protos_and_non_rtp_media)
{
	static const char s[] =
		"v=0\r\n"
		"c=IN IP4 10.1.1.1\r\n"
		"m=audio 1000 UDP/TLS/RTP/SAVPF 111 0\r\n"
		"m=image 1002 udptl t38\r\n"
		"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
	struct vs_sdp d;

	cr_assert_eq(sdp(s, &d, NULL), 0);
	cr_assert_eq(d.n_media, 3);
	cr_assert_eq(d.media[0].n_fmt, 2);
	cr_assert_eq(d.media[0].fmt[0], 111);
	cr_assert_eq(d.media[1].type, VS_SDP_OTHER);
	cr_assert_eq(d.media[1].port, 1002);
	cr_assert_eq(d.media[1].n_fmt, 0);
	cr_assert_eq(d.media[2].type, VS_SDP_OTHER);
}

Test(sdp, many_formats_truncated)
{
	static const char s[] =
		"v=0\r\n"
		"m=audio 1000 RTP/AVP 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\r\n";
	struct vs_sip_stats st = { 0 };
	struct vs_sdp d;
	int i;

	cr_assert_eq(sdp(s, &d, &st), 0);
	cr_assert_eq(d.media[0].n_fmt, VS_SDP_MAX_FMT);
	for (i = 0; i < VS_SDP_MAX_FMT; i++)
		cr_assert_eq(d.media[0].fmt[i], i);
	cr_assert_eq(st.sdp_truncated, 1);
	cr_assert_eq(st.sdp_bad, 0);
}

Test(sdp, many_media_truncated)
{
	char s[1024] = "v=0\r\nc=IN IP4 10.0.0.1\r\n";
	struct vs_sip_stats st = { 0 };
	struct vs_sdp d;
	int i;

	for (i = 0; i < 10; i++)
		snprintf(s + strlen(s), sizeof(s) - strlen(s),
			 "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
			 "c=IN IP4 10.0.0.%d\r\n", 2000 + 2 * i, i + 2);
	cr_assert_eq(sdp(s, &d, &st), 0);
	cr_assert_eq(d.n_media, VS_SDP_MAX_MEDIA);
	cr_assert_eq(d.media[7].port, 2014);
	ADDR_EQ(d.media[7].addr, "10.0.0.9");
	cr_assert_eq(d.media[7].n_rtpmap, 1);
	cr_assert_eq(st.sdp_truncated, 1);
}

Test(sdp, many_rtpmaps_truncated)
{
	char s[2048] = "v=0\r\nm=audio 2000 RTP/AVP 96\r\n";
	struct vs_sip_stats st = { 0 };
	struct vs_sdp d;
	int i;

	for (i = 0; i < 20; i++)
		snprintf(s + strlen(s), sizeof(s) - strlen(s),
			 "a=rtpmap:%d X%d/8000\r\n", 96 + i, i);
	cr_assert_eq(sdp(s, &d, &st), 0);
	cr_assert_eq(d.media[0].n_rtpmap, VS_SDP_MAX_FMT);
	cr_assert_str_eq(d.media[0].rtpmap[15].name, "X15");
	cr_assert_eq(st.sdp_truncated, 1);
}

Test(sdp, not_sdp_and_bad_lines)
{
	struct vs_sip_stats st = { 0 };
	struct vs_sdp d;

	cr_assert_eq(sdp("o=- 1 1 IN IP4 1.1.1.1\r\nv=0\r\n", &d, &st), -EINVAL);
	cr_assert_eq(sdp("<xml/>", &d, &st), -EINVAL);
	cr_assert_eq(sdp("", &d, &st), -EINVAL);
	cr_assert_eq(st.sdp_bad, 3);
	cr_assert_eq(st.sdp_parsed, 0);
	cr_assert_eq(sdp("v=0\r\n"
			 "garbage\r\n"
			 "c=IN IP4 999.1.1.1\r\n"
			 "c=XX IP4 1.1.1.1\r\n"
			 "m=audio 70000 RTP/AVP 0\r\n"
			 "m=audio 1000 RTP/AVP 0\r\n"
			 "a=rtpmap:200 X/8000\r\n"
			 "a=rtpmap:0 PCMU\r\n"
			 "a=rtpmap:0 PC\x01MU/8000\r\n"
			 "a=rtpmap:0 PCMU/0\r\n"
			 "a=rtcp:abc\r\n"
			 "a=ptime:x\r\n"
			 "A=upper\r\n", &d, &st), 0);
	cr_assert_eq(st.sdp_bad, 4); /* once per body */
	cr_assert_eq(st.sdp_parsed, 1);
	cr_assert_eq(d.n_media, 1);
	cr_assert_eq(d.media[0].port, 1000);
	cr_assert_eq(d.media[0].has_addr, 0);
	cr_assert_eq(d.media[0].n_rtpmap, 0);
	cr_assert_eq(d.media[0].ptime, 0);
}

Test(sdp, leading_blank_lines_and_lf_only)
{
	struct vs_sdp d;

	cr_assert_eq(sdp("\r\nv=0\nc=IN IP4 5.6.7.8\nm=audio 9 RTP/AVP 18\n"
			 "a=ptime:30.0", &d, NULL), 0);
	ADDR_EQ(d.media[0].addr, "5.6.7.8");
	cr_assert_eq(d.media[0].fmt[0], 18);
	cr_assert_eq(d.media[0].ptime, 30);
}

Test(sdp, truncated_at_every_length)
{
	static const char s[] =
		"v=0\r\n"
		"o=- 1 1 IN IP4 10.0.0.1\r\n"
		"c=IN IP4 10.0.0.2\r\n"
		"a=recvonly\r\n"
		"m=audio 40392 RTP/AVP 8 0 101\r\n"
		"c=IN IP6 2001:db8::1\r\n"
		"a=rtpmap:8 PCMA/8000/1\r\n"
		"a=rtcp:40393 IN IP4 10.0.0.3\r\n"
		"a=ptime:20\r\n";
	struct vs_sip_stats st = { 0 };
	size_t n, len = sizeof(s) - 1;
	struct vs_sdp d;

	for (n = 0; n <= len; n++) {
		int rc = sdp_n(s, n, &d, &st);

		cr_assert_eq(rc, n < 2 ? -EINVAL : 0, "len %zu", n);
		cr_assert(d.n_media <= 1);
	}
	cr_assert_eq(d.media[0].port, 40392);
	cr_assert_eq(d.media[0].dir, VS_SDP_RECVONLY);
	cr_assert_eq(d.media[0].ptime, 20);
	ADDR_EQ(d.media[0].rtcp_addr, "10.0.0.3");
	ADDR_EQ(d.media[0].addr, "2001:db8::1");
	cr_assert_eq(st.sdp_parsed, len - 1);
}

Test(sdp, static_payload_table)
{
	static const struct {
		uint8_t pt;
		const char *name;
		uint32_t clock;
	} want[] = {
		{ 0, "PCMU", 8000 },   { 3, "GSM", 8000 },    { 4, "G723", 8000 },
		{ 5, "DVI4", 8000 },   { 6, "DVI4", 16000 },  { 7, "LPC", 8000 },
		{ 8, "PCMA", 8000 },   { 9, "G722", 8000 },   { 10, "L16", 44100 },
		{ 11, "L16", 44100 },  { 12, "QCELP", 8000 }, { 13, "CN", 8000 },
		{ 14, "MPA", 90000 },  { 15, "G728", 8000 },  { 16, "DVI4", 11025 },
		{ 17, "DVI4", 22050 }, { 18, "G729", 8000 },  { 25, "CelB", 90000 },
		{ 26, "JPEG", 90000 }, { 28, "nv", 90000 },   { 31, "H261", 90000 },
		{ 32, "MPV", 90000 },  { 33, "MP2T", 90000 }, { 34, "H263", 90000 },
	};
	static const uint8_t none[] = { 1, 2, 19, 20, 24, 27, 29, 30, 35, 72,
					96, 127, 255 };
	uint32_t clock;
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *n = vs_rtp_static_pt(want[i].pt, &clock);

		cr_assert_not_null(n, "pt %u", want[i].pt);
		cr_assert_str_eq(n, want[i].name);
		cr_assert_eq(clock, want[i].clock, "pt %u", want[i].pt);
	}
	for (i = 0; i < sizeof(none); i++)
		cr_assert_null(vs_rtp_static_pt(none[i], &clock), "pt %u", none[i]);
	cr_assert_str_eq(vs_rtp_static_pt(8, NULL), "PCMA");
}

/* The SDP of frame 620 of aaa.pcap (oracle: audio 40392 RTP/AVP 8 0, PCMA,
 * PCMU, ptime 20 at 212.242.33.36). */
Test(sdp, aaa_answer)
{
	static const char s[] =
		"v=0\r\n"
		"o=root 2345 2345 IN IP4 212.242.33.36\r\n"
		"s=session\r\n"
		"c=IN IP4 212.242.33.36\r\n"
		"t=0 0\r\n"
		"m=audio 40392 RTP/AVP 8 0\r\n"
		"a=rtpmap:8 PCMA/8000/1\r\n"
		"a=rtpmap:0 PCMU/8000/1\r\n"
		"a=ptime:20\r\n";
	struct vs_sdp d;

	cr_assert_eq(sdp(s, &d, NULL), 0);
	ADDR_EQ(d.media[0].addr, "212.242.33.36");
	cr_assert_eq(d.media[0].port, 40392);
	cr_assert_eq(d.media[0].n_fmt, 2);
	cr_assert_eq(d.media[0].fmt[0], 8);
	cr_assert_eq(d.media[0].ptime, 20);
}
