/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cdr/cdr_bin: a CDR as compact binary, the body of a CDR frame from a
 * sensor of channel protocol 2 (docs/channel.md, "CDR body"). The central
 * server decodes thousands of CDRs a second; JSON cost it half its CPU.
 *
 * The layout is a fixed list of fields per part (CDR, leg), each part
 * length-prefixed: a reader fills the fields it knows while the part has
 * bytes, leaves absent trailing ones 0 (an older sender) and skips unknown
 * trailing bytes (a newer one), the same leniency as the JSON reader.
 * Doubles travel as their IEEE bits, so NaN and infinity survive. */
#ifndef VS_CDR_BIN_H
#define VS_CDR_BIN_H

#include <stddef.h>
#include <stdint.h>

#include "cdr/cdr.h"

#define VS_CDR_BIN_MAGIC 0xb1 /* never the first byte of JSON text */
#define VS_CDR_BIN_VERSION 1

/* Encodes *c (and its streams) into a malloc'd buffer: 0 and *out, *len,
 * or -ENOMEM. */
int vs_cdr__to_bin(const struct vs_cdr *c, uint8_t **out, size_t *len);

/* Decodes p[0..n) into *c (zeroed first), streams into streams_buf (at
 * most max_streams). 0, -EBADMSG (truncated field, a string with a NUL,
 * an enum out of range, wrong magic or version) or -E2BIG (more streams
 * than max_streams); *c is all zero on error. Strings longer than their
 * field are truncated to fit, as from JSON. */
int vs_cdr__from_bin(const uint8_t *p, size_t n, struct vs_cdr *c,
		     struct vs_cdr_leg *streams_buf, uint32_t max_streams);

/* A CDR frame's body in either form: binary by its magic byte, else JSON
 * (the body protocol-1 sensors, and spools written by them, carry). */
int vs_cdr__from_body(const uint8_t *p, size_t n, struct vs_cdr *c,
		      struct vs_cdr_leg *streams_buf, uint32_t max_streams);

#endif
