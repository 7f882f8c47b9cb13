/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cdr/cdr_json: a CDR from the JSON text vs_cdr__to_json (store.h) makes,
 * e.g. a CDR frame's body on the central server (docs/distributed.md). */
#ifndef VS_CDR_JSON_H
#define VS_CDR_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "cdr/cdr.h"

/* Parses text[0..len) into *c (zeroed first). The "streams" array goes into
 * streams_buf (at most max_streams elements) and c->streams points there.
 * Returns 0, -EBADMSG (not JSON, not an object, a field of the wrong type or
 * out of range, a bad address or name), -E2BIG (more streams than
 * max_streams) or -ENOMEM; *c is all zero on error. Missing keys leave
 * their fields 0. A null double (NaN or infinity in the sender) is NaN. */
int vs_cdr__from_json(const char *text, size_t len, struct vs_cdr *c,
		      struct vs_cdr_leg *streams_buf, uint32_t max_streams);

/* vs_cdr__to_json as compact text with every double in 17 significant
 * digits, so that vs_cdr__from_json gives back the same bits (cJSON's own
 * printer keeps 15 when they read back approximately). malloc'd; NULL +
 * errno. */
char *vs_cdr__to_json_text(const struct vs_cdr *c);

#endif
