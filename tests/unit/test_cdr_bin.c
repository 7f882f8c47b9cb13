// SPDX-License-Identifier: GPL-2.0-or-later
/* cdr/cdr_bin: every field of a CDR survives vs_cdr__to_bin ->
 * vs_cdr__from_bin bit for bit; older and newer layouts are read; bad
 * input is refused; vs_cdr__from_body reads both binary and JSON. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cdr/cdr_bin.h"
#include "cdr/cdr_json.h"

#include "cdr_codec_fixture.h"

static uint8_t *enc(const struct vs_cdr *c, size_t *len)
{
	uint8_t *b = NULL;

	cr_assert_eq(vs_cdr__to_bin(c, &b, len), 0);
	return b;
}

static uint32_t rd32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

Test(cdr_bin, round_trip_every_field)
{
	static struct vs_cdr_leg st[3], back_st[8];
	struct vs_cdr c, back;
	size_t len;
	uint8_t *b;

	fill(&c, st, 3);
	b = enc(&c, &len);
	cr_expect_eq(b[0], VS_CDR_BIN_MAGIC);
	cr_assert_eq(vs_cdr__from_bin(b, len, &back, back_st, 8), 0);
	cr_expect_eq(back.streams, back_st);
	expect_same(&c, &back);
	cr_expect_eq(back.a.rtcp_lost, -3);
	cr_expect_eq(back.b.dir, 1);
	cr_expect_eq(back.first_rtp_us, 9007199254740992ull);
	cr_expect_eq(back.sip_messages, 4294967295u);
	free(b);
}

Test(cdr_bin, smaller_than_json)
{
	static struct vs_cdr_leg st[2];
	struct vs_cdr c;
	size_t len;
	uint8_t *b;
	char *s;

	fill(&c, st, 2);
	b = enc(&c, &len);
	s = vs_cdr__to_json_text(&c);
	cr_assert(s);
	cr_expect_lt(len, strlen(s) / 2, "binary %zu B, JSON %zu B", len,
		     strlen(s));
	free(s);
	free(b);
}

Test(cdr_bin, nan_and_infinity_survive)
{
	struct vs_cdr c, back;
	size_t len;
	uint8_t *b;

	memset(&c, 0, sizeof(c));
	c.a.mos = NAN;
	c.b.jitter_max_ms = -INFINITY;
	c.duration_s = INFINITY;
	b = enc(&c, &len);
	cr_assert_eq(vs_cdr__from_bin(b, len, &back, NULL, 0), 0);
	cr_expect(isnan(back.a.mos));
	cr_expect(isinf(back.b.jitter_max_ms) && back.b.jitter_max_ms < 0);
	cr_expect(isinf(back.duration_s));
	free(b);
}

Test(cdr_bin, too_many_streams)
{
	static struct vs_cdr_leg st[3], back_st[2];
	struct vs_cdr c, back;
	size_t len;
	uint8_t *b;

	fill(&c, st, 3);
	b = enc(&c, &len);
	cr_expect_eq(vs_cdr__from_bin(b, len, &back, back_st, 2), -E2BIG);
	cr_expect_eq(back.id_sensor, 0, "zeroed on error");
	free(b);
}

/* Every proper prefix is refused: no field is read past the end. */
Test(cdr_bin, every_truncation_refused)
{
	static struct vs_cdr_leg st[1], back_st[1];
	struct vs_cdr c, back;
	size_t len;
	uint8_t *b, *cut;

	fill(&c, st, 1);
	b = enc(&c, &len);
	for (size_t n = 0; n < len; n++) {
		cut = malloc(n ? n : 1); /* exact size: ASan sees overreads */
		memcpy(cut, b, n);
		cr_expect_eq(vs_cdr__from_bin(cut, n, &back, back_st, 1),
			     -EBADMSG, "prefix of %zu bytes", n);
		free(cut);
	}
	free(b);
}

/* An older sender's CDR part ends early: the fields it lacks are 0. A
 * newer one's has bytes after the fields we know: they are skipped. */
Test(cdr_bin, older_and_newer_layouts)
{
	struct vs_cdr c, back;
	uint8_t *b, *n;
	size_t len, part;

	memset(&c, 0, sizeof(c));
	c.id_sensor = 7;
	strcpy(c.call_id, "x");
	c.reinvites = 3;
	strcpy(c.pcap_path, "p");
	b = enc(&c, &len);
	part = rd32(b + 2);

	/* newer: 5 unknown bytes appended to the CDR part */
	n = malloc(len + 5);
	memcpy(n, b, 2 + 4 + part);
	memset(n + 6 + part, 0xee, 5);
	memcpy(n + 6 + part + 5, b + 6 + part, len - 6 - part);
	wr32(n + 2, (uint32_t)part + 5);
	cr_assert_eq(vs_cdr__from_bin(n, len + 5, &back, NULL, 0), 0);
	expect_same(&c, &back);

	/* older: the CDR part stops after id_sensor and call_id */
	memcpy(n, b, 6);
	wr32(n + 2, 2 + 2 + 1);
	memcpy(n + 6, b + 6, 5);
	memcpy(n + 11, b + 6 + part, len - 6 - part);
	cr_assert_eq(vs_cdr__from_bin(n, 11 + len - 6 - part, &back, NULL, 0),
		     0);
	cr_expect_eq(back.id_sensor, 7);
	cr_expect_str_eq(back.call_id, "x");
	cr_expect_eq(back.reinvites, 0);
	cr_expect_str_eq(back.pcap_path, "");
	free(n);
	free(b);
}

Test(cdr_bin, bad_input_refused)
{
	struct vs_cdr c, back;
	uint8_t *b;
	size_t len;

	memset(&c, 0, sizeof(c));
	strcpy(c.call_id, "abc");
	c.end = VS_END_EOF;
	b = enc(&c, &len);

	b[1] = 2; /* unknown layout version */
	cr_expect_eq(vs_cdr__from_bin(b, len, &back, NULL, 0), -EBADMSG);
	b[1] = VS_CDR_BIN_VERSION;
	b[0] = '{';
	cr_expect_eq(vs_cdr__from_bin(b, len, &back, NULL, 0), -EBADMSG);
	b[0] = VS_CDR_BIN_MAGIC;

	/* call_id's bytes start after magic, version, part length,
	 * id_sensor (2) and the string's length (2) */
	b[2 + 4 + 2 + 2 + 1] = 0;
	cr_expect_eq(vs_cdr__from_bin(b, len, &back, NULL, 0), -EBADMSG,
		     "NUL inside a string");
	free(b);

	c.end = (enum vs_cdr_end)(VS_END_EOF + 1);
	b = enc(&c, &len);
	cr_expect_eq(vs_cdr__from_bin(b, len, &back, NULL, 0), -EBADMSG,
		     "enum out of range");
	free(b);

	/* a part that claims more bytes than the body has */
	c.end = VS_END_BYE;
	b = enc(&c, &len);
	wr32(b + 2, 0xffffffffu);
	cr_expect_eq(vs_cdr__from_bin(b, len, &back, NULL, 0), -EBADMSG);
	free(b);
}

Test(cdr_bin, long_string_truncated_to_fit)
{
	struct vs_cdr c, back;
	uint8_t *b, *n;
	size_t len, part, off, k = 300;

	memset(&c, 0, sizeof(c));
	strcpy(c.call_id, "a");
	b = enc(&c, &len);
	part = rd32(b + 2);
	/* widen call_id from 1 byte to 300 'z's */
	n = malloc(len + k);
	off = 2 + 4 + 2; /* at call_id's length */
	memcpy(n, b, off);
	n[off] = (uint8_t)k;
	n[off + 1] = (uint8_t)(k >> 8);
	memset(n + off + 2, 'z', k);
	memcpy(n + off + 2 + k, b + off + 3, len - off - 3);
	wr32(n + 2, (uint32_t)(part + k - 1));
	cr_assert_eq(vs_cdr__from_bin(n, len + k - 1, &back, NULL, 0), 0);
	cr_expect_eq(strlen(back.call_id), sizeof(back.call_id) - 1);
	free(n);
	free(b);
}

Test(cdr_bin, body_of_either_kind)
{
	static struct vs_cdr_leg st[2], back_st[2];
	struct vs_cdr c, back;
	size_t len;
	uint8_t *b;
	char *s;

	fill(&c, st, 2);
	b = enc(&c, &len);
	s = vs_cdr__to_json_text(&c);
	cr_assert(s);
	cr_assert_eq(vs_cdr__from_body(b, len, &back, back_st, 2), 0);
	expect_same(&c, &back);
	cr_assert_eq(vs_cdr__from_body((uint8_t *)s, strlen(s), &back,
				       back_st, 2), 0);
	expect_same(&c, &back);
	cr_expect_eq(vs_cdr__from_body((const uint8_t *)"", 0, &back, NULL, 0),
		     -EBADMSG);
	free(s);
	free(b);
}
