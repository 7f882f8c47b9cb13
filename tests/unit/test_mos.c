// SPDX-License-Identifier: GPL-2.0-or-later
/* E-model (user/call/mos.c). Expected values were computed independently
 * from the G.107 formulas (default parameters) in a separate script. */
#include <criterion/criterion.h>
#include <math.h>

#include "call/rtp.h"

#define EPS 1e-4

static void expect_r(const char *codec, double loss, double br, double d,
		     double r, double mos)
{
	double got = vs_mos__r_factor(codec, loss, br, d);

	cr_expect(fabs(got - r) < EPS, "%s loss %g br %g delay %g: R %.6f != %.6f",
		  codec ? codec : "(null)", loss, br, d, got, r);
	cr_expect(fabs(vs_mos__from_r(got) - mos) < EPS, "MOS %.6f != %.6f",
		  vs_mos__from_r(got), mos);
}

Test(mos, g711_clean_is_93_2)
{
	expect_r("PCMU", 0, 1, 0, 93.2, 4.409286);
	expect_r("PCMA", 0, 1, 0, 93.2, 4.409286);
	expect_r("pcma", 0, 1, 0, 93.2, 4.409286);
}

Test(mos, codec_impairment)
{
	expect_r("G729", 0, 1, 0, 82.2, 4.104375);
	expect_r("G723", 1, 1, 0, 73.521637, 3.757518);
	expect_r("GSM", 0, 1, 0, 73.2, 3.743267);
	expect_r("GSM-EFR", 0, 1, 0, 88.2, 4.292446);
}

Test(mos, loss_and_burst_ratio)
{
	expect_r("PCMU", 5, 1, 0, 77.419269, 3.922839);
	expect_r("PCMU", 5, 2, 0, 75.989855, 3.863862);
	expect_r("G729A", 2, 1.5, 0, 73.937705, 3.775824);
}

Test(mos, delay_impairment)
{
	expect_r("PCMU", 0, 1, 150, 89.532770, 4.327385);
	expect_r("PCMU", 0, 1, 200, 85.798301, 4.222984);
	expect_r("PCMU", 0, 1, 400, 62.240235, 3.215263);
}

Test(mos, unknown_codec_is_g711)
{
	expect_r("X-UNKNOWN", 5, 1, 0, 77.419269, 3.922839);
	expect_r(NULL, 0, 1, 0, 93.2, 4.409286);
}

Test(mos, bad_inputs_are_clamped)
{
	cr_expect(fabs(vs_mos__r_factor("PCMU", -3, 1, -5) - 93.2) < EPS);
	cr_expect(fabs(vs_mos__r_factor("PCMU", NAN, NAN, NAN) - 93.2) < EPS);
	/* 100 % loss: Ie_eff = 95 * 100 / (100 + 25.1). */
	cr_expect(fabs(vs_mos__r_factor("PCMU", 250, 1, 0) -
		       (93.2 - 9500.0 / 125.1)) < EPS);
}

Test(mos, from_r_clamps)
{
	cr_expect_eq(vs_mos__from_r(-10), 1.0);
	cr_expect_eq(vs_mos__from_r(0), 1.0);
	cr_expect_eq(vs_mos__from_r(100), 4.5);
	cr_expect_eq(vs_mos__from_r(120), 4.5);
	cr_expect(fabs(vs_mos__from_r(50) - 2.575) < 1e-9);
	cr_expect(fabs(vs_mos__from_r(NAN) - 1.0) < 1e-9);
}
