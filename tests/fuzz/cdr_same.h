/* SPDX-License-Identifier: GPL-2.0-or-later */
/* For the CDR codec fuzzers: two decoded CDRs are the same bits, their
 * streams compared one by one (the pointers to them differ). */
#ifndef VS_FUZZ_CDR_SAME_H
#define VS_FUZZ_CDR_SAME_H

#include <stdbool.h>
#include <string.h>

#include "cdr/cdr.h"

static bool cdr_same(struct vs_cdr a, struct vs_cdr b)
{
	if (a.n_streams != b.n_streams ||
	    (a.n_streams && memcmp(a.streams, b.streams,
				   a.n_streams * sizeof(a.streams[0]))))
		return false;
	a.streams = b.streams = NULL;
	return !memcmp(&a, &b, sizeof(a));
}

#endif
