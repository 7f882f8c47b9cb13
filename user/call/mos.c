// SPDX-License-Identifier: GPL-2.0-or-later
/* call/mos: ITU-T G.107 E-model, reduced to what a passive probe can know:
 * the codec, the loss rate and its burstiness, and the one-way delay. All
 * other G.107 parameters keep their default values. Sources and the codec
 * table are in docs/quality.md. */
#include <math.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "call/rtp.h"

#define R_DEFAULT 93.2	/* G.107 with all defaults and no delay */
#define RO 94.77	/* G.107 Ro (basic signal-to-noise) with defaults */
#define NO_DB (-61.18)	/* G.107 No (noise floor) with defaults */
#define RLR 2.0		/* receive loudness rating, default */
#define TELR 65.0	/* talker echo loudness rating, default */
#define WEPL 110.0	/* weighted echo path loss, default */

struct codec_ie {
	const char *name;	/* prefix, compared case-insensitively */
	double ie, bpl;
};

/* Longest prefixes first: "GSM-EFR" before "GSM", "G7221" before "G722". */
static const struct codec_ie codecs[] = {
	{ "PCMU", 0, 25.1 },	 /* G.113 I.3, G.711 with App. I PLC */
	{ "PCMA", 0, 25.1 },
	{ "G711", 0, 25.1 },
	{ "G729", 11, 19.0 },	 /* G.113 I.3, G.729A + VAD */
	{ "G723", 15, 16.1 },	 /* G.113 I.3, G.723.1 + VAD 6.3 kbit/s */
	{ "G7221", 0, 25.1 },	 /* assumed as G.722 */
	{ "G722", 0, 25.1 },	 /* assumed: wideband, best on the NB scale */
	{ "GSM-EFR", 5, 10.0 },	 /* G.113 I.3, GSM 06.60 */
	{ "GSM", 20, 10.0 },	 /* Ie G.113 I.1 (06.10); Bpl assumed = EFR */
	{ "AMR-WB", 0, 25.1 },	 /* assumed as G.722 */
	{ "AMR", 5, 10.0 },	 /* assumed = EFR (AMR 12.2 is EFR) */
	{ "iLBC", 11, 32.0 },	 /* assumed, see docs/quality.md */
	{ "opus", 0, 25.1 },	 /* assumed, see docs/quality.md */
	{ "speex", 11, 19.0 },	 /* assumed = G.729A */
};

static const struct codec_ie *codec_find(const char *codec)
{
	size_t i;

	for (i = 0; codec && i < sizeof(codecs) / sizeof(codecs[0]); i++) {
		if (!strncasecmp(codec, codecs[i].name, strlen(codecs[i].name)))
			return &codecs[i];
	}
	return &codecs[0];	/* unknown: G.711 */
}

/* Talker echo, G.107 (7-x): T = one-way delay to the echo point. */
static double id_te(double t)
{
	double terv, roe, re, x;

	if (t < 1)
		return 0;	/* below 1 ms talker echo is sidetone */
	terv = TELR - 40 * log10((1 + t / 10) / (1 + t / 150)) +
	       6 * exp(-0.3 * t * t);
	roe = -1.5 * (NO_DB - RLR);
	re = 80 + 2.5 * (terv - 14);
	x = roe - re;
	return (x / 2 + sqrt(x * x / 4 + 100) - 1) * (1 - exp(-t));
}

/* Listener echo, G.107: Tr = round trip. */
static double id_le(double tr)
{
	double rle = 10.5 * (WEPL + 7) * pow(tr + 1, -0.25);
	double x = RO - rle;

	return x / 2 + sqrt(x * x / 4 + 169);
}

/* Too-long absolute delay, G.107: Ta = one-way mouth-to-ear delay. */
static double id_d(double ta)
{
	double x;

	if (ta <= 100)
		return 0;
	x = log10(ta / 100) / log10(2);
	return 25 * (pow(1 + pow(x, 6), 1.0 / 6) -
		     3 * pow(1 + pow(x / 3, 6), 1.0 / 6) + 2);
}

double vs_mos__r_factor(const char *codec, double loss_pct, double burst_ratio,
			double delay_ms)
{
	const struct codec_ie *c = codec_find(codec);
	double id, ie_eff, ppl = loss_pct, d = delay_ms;

	if (!(ppl > 0))
		ppl = 0;	/* also maps NaN to 0 */
	if (ppl > 100)
		ppl = 100;
	if (!(burst_ratio > 0))
		burst_ratio = 1;
	if (!(d > 0))
		d = 0;
	if (d > 60000)
		d = 60000;
	/* Id relative to zero delay, so R(0 %, 0 ms, G.711) = 93.2 exactly:
	 * the default 93.2 already contains Idle(0) = 0.15. */
	id = id_te(d) + id_le(2 * d) - id_le(0) + id_d(d);
	ie_eff = c->ie + (95 - c->ie) * ppl / (ppl / burst_ratio + c->bpl);
	return R_DEFAULT - id - ie_eff;
}

double vs_mos__from_r(double r)
{
	double mos;

	if (!(r > 0))
		return 1.0;
	if (r >= 100)
		return 4.5;
	mos = 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
	if (mos < 1)
		return 1.0;
	return mos > 4.5 ? 4.5 : mos;
}
