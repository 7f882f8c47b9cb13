/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small non-cryptographic hashes for in-memory tables (FNV-1a with a final
 * avalanche so that low bits are usable as bucket indexes). */
#ifndef VS_HASH_H
#define VS_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vs_kern_user.h" /* vs_hash_words: shared with the kernel */

static inline uint64_t vs_hash_bytes(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

/* Any length, eight bytes at a time: for hashing whole payloads on the
 * per-packet path (duplicate detection). */
static inline uint64_t vs_hash_mem(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data;
	uint64_t h = seed ^ len, w;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = vs_hash_words(h, w, 0);
	}
	w = 0;
	memcpy(&w, p, len);
	return vs_hash_words(h, w, 1);
}

#endif
