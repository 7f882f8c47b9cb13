// SPDX-License-Identifier: GPL-2.0-or-later
/* cdr/cdr_from_json on arbitrary bytes; what parses must print and parse
 * again to the same CDR. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdr/cdr_json.h"
#include "cdr/store.h"
#include "cdr_same.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vs_cdr_leg st[16], st2[16];
	struct vs_cdr c, c2;
	char *s;

	if (vs_cdr__from_json((const char *)data, size, &c, st, 16))
		return 0;
	s = vs_cdr__to_json_text(&c);
	if (!s)
		return 0;
	if (vs_cdr__from_json(s, strlen(s), &c2, st2, 16))
		abort();
	if (!cdr_same(c, c2)) /* exact: the same bits */
		abort();
	free(s);
	return 0;
}
