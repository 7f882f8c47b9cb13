/* Seeded random numbers and codec tables. */
#include "vsgen.h"

/* splitmix64: tiny, fast, and good enough for test traffic; each call and
 * direction has its own state so the output does not depend on how calls
 * interleave. */
uint64_t vg_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

double vg_randf(uint64_t *state)
{
	return (double)(vg_rand(state) >> 11) / (double)(1ull << 53);
}

bool vg_chance(uint64_t *state, double pct)
{
	if (pct <= 0)
		return false;
	return vg_randf(state) * 100.0 < pct;
}

uint32_t vg_rand_below(uint64_t *state, uint32_t n)
{
	return n ? (uint32_t)(vg_rand(state) % n) : 0;
}

const char *vg_scenario_name(int sc)
{
	static const char *const names[] = {
		"answered", "cancel", "busy", "noanswer", "nortp", "reinvite",
		"mix",
	};

	return sc >= 0 && sc <= SC_MIX ? names[sc] : "?";
}

struct codec_info {
	const char *name;
	int pt;
	size_t bytes;
};

static const struct codec_info codecs[] = {
	[CODEC_PCMU] = { "PCMU", 0, 160 },
	[CODEC_PCMA] = { "PCMA", 8, 160 },
	[CODEC_G729] = { "G729", 18, 20 },
	[CODEC_G722] = { "G722", 9, 160 },
};

const char *vg_codec_name(int codec)
{
	return codecs[codec].name;
}

int vg_codec_pt(int codec)
{
	return codecs[codec].pt;
}

size_t vg_codec_bytes(int codec)
{
	return codecs[codec].bytes;
}
