// SPDX-License-Identifier: GPL-2.0-or-later
/* cdr/cdr_from_json: every field of a CDR survives vs_cdr__to_json ->
 * text -> vs_cdr__from_json bit for bit; bad input is refused. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cdr/cdr_json.h"
#include "cdr/store.h"
#include <cjson/cJSON.h>

#include "cdr_codec_fixture.h"

static char *to_text(const struct vs_cdr *c)
{
	char *s = vs_cdr__to_json_text(c);

	cr_assert(s);
	return s;
}

Test(cdr_json, round_trip_every_field)
{
	static struct vs_cdr_leg st[3], back_st[8];
	struct vs_cdr c, back;
	char *s;

	fill(&c, st, 3);
	s = to_text(&c);
	cr_assert_eq(vs_cdr__from_json(s, strlen(s), &back, back_st, 8), 0);
	cr_expect_eq(back.streams, back_st);
	expect_same(&c, &back);
	cr_expect_eq(back.a.rtcp_lost, -3);
	cr_expect_eq(back.b.dir, 1);
	cr_expect_eq(back.first_rtp_us, 9007199254740992ull);
	free(s);
}

Test(cdr_json, zero_cdr_round_trip)
{
	struct vs_cdr c, back;
	struct vs_cdr_leg st[1];
	char *s;

	memset(&c, 0, sizeof(c));
	s = to_text(&c);
	cr_assert_eq(vs_cdr__from_json(s, strlen(s), &back, st, 1), 0);
	expect_same(&c, &back);
	cr_expect_null(back.streams);
	free(s);
}

Test(cdr_json, nan_and_infinity_read_as_nan)
{
	struct vs_cdr c, back;
	char *s;

	memset(&c, 0, sizeof(c));
	c.a.mos = NAN;
	c.b.jitter_max_ms = INFINITY;
	s = to_text(&c);
	cr_assert_eq(vs_cdr__from_json(s, strlen(s), &back, NULL, 0), 0);
	cr_expect(isnan(back.a.mos));
	cr_expect(isnan(back.b.jitter_max_ms));
	free(s);
}

Test(cdr_json, too_many_streams)
{
	static struct vs_cdr_leg st[3], back_st[2];
	struct vs_cdr c, back;
	char *s;

	fill(&c, st, 3);
	s = to_text(&c);
	cr_expect_eq(vs_cdr__from_json(s, strlen(s), &back, back_st, 2), -E2BIG);
	cr_expect_eq(back.id_sensor, 0, "zeroed on error");
	free(s);
}

Test(cdr_json, long_strings_truncated_to_fit)
{
	struct vs_cdr back;
	char text[1200] = "{\"caller\":\"";

	memset(text + strlen(text), 'x', 1000);
	strcat(text, "\"}");
	cr_assert_eq(vs_cdr__from_json(text, strlen(text), &back, NULL, 0), 0);
	cr_expect_eq(strlen(back.caller), sizeof(back.caller) - 1);
}

Test(cdr_json, bad_input_refused)
{
	static const char *const bad[] = {
		"", "{", "[]", "42", "{\"id_sensor\":65536}",
		"{\"id_sensor\":-1}", "{\"id_sensor\":1.5}",
		"{\"id_sensor\":\"1\"}", "{\"call_id\":5}",
		"{\"sip_caller_ip\":\"1.2.3\"}", "{\"sip_caller_port\":70000}",
		"{\"end\":\"later\"}", "{\"whohanged\":\"nobody\"}",
		"{\"a\":[]}", "{\"a\":{\"dir\":\"c\"}}",
		"{\"a\":{\"loss_burst\":[1,2]}}",
		"{\"a\":{\"delay\":[1,2,3,4,5,6,-7]}}",
		"{\"streams\":{}}", "{\"streams\":[1]}",
		"{\"calldate_us\":1e20}", "{\"a\":{\"rtcp_lost\":1e19}}",
		/* too big for a double: infinite, never what we write
		 * (found by fuzz_cdr_json) */
		"{\"duration_s\":1e999}", "{\"a\":{\"mos\":-1e999}}",
	};
	struct vs_cdr back;
	struct vs_cdr_leg st[1];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(vs_cdr__from_json(bad[i], strlen(bad[i]), &back,
					       st, 1), -EBADMSG, "%s", bad[i]);
}

Test(cdr_json, length_bounds_the_parse)
{
	const char *s = "{\"id_sensor\":7}garbage";
	struct vs_cdr back;

	cr_expect_eq(vs_cdr__from_json(s, 15, &back, NULL, 0), 0);
	cr_expect_eq(back.id_sensor, 7);
	cr_expect_eq(vs_cdr__from_json(s, 10, &back, NULL, 0), -EBADMSG);
}

/* Why vs_cdr__to_json_text exists: cJSON's printer rounds to 15 digits. */
Test(cdr_json, cjson_printer_alone_is_not_exact)
{
	struct vs_cdr c, back;
	cJSON *o;
	char *s;

	memset(&c, 0, sizeof(c));
	c.a.mos = 4.40999999999999925393;
	o = vs_cdr__to_json(&c);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	cr_assert_eq(vs_cdr__from_json(s, strlen(s), &back, NULL, 0), 0);
	cr_expect_neq(back.a.mos, c.a.mos);
	free(s);
	s = to_text(&c);
	cr_assert_eq(vs_cdr__from_json(s, strlen(s), &back, NULL, 0), 0);
	cr_expect_eq(back.a.mos, c.a.mos);
	free(s);
}
