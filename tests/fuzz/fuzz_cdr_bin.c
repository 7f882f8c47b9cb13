// SPDX-License-Identifier: GPL-2.0-or-later
/* cdr/cdr_bin on arbitrary bytes; what decodes must encode and decode
 * again to the same CDR, bit for bit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdr/cdr_bin.h"
#include "cdr_same.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vs_cdr_leg st[16], st2[16];
	struct vs_cdr c, c2;
	uint8_t *b;
	size_t len;

	if (vs_cdr__from_bin(data, size, &c, st, 16))
		return 0;
	if (vs_cdr__to_bin(&c, &b, &len))
		return 0;
	if (vs_cdr__from_bin(b, len, &c2, st2, 16))
		abort();
	if (!cdr_same(c, c2))
		abort();
	free(b);
	return 0;
}
