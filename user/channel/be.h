/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Big-endian loads and stores for the channel's wire format. */
#ifndef VS_CHAN_BE_H
#define VS_CHAN_BE_H

#include <stdint.h>

static inline void vs_be16_put(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline void vs_be32_put(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static inline void vs_be64_put(uint8_t *p, uint64_t v)
{
	vs_be32_put(p, v >> 32);
	vs_be32_put(p + 4, (uint32_t)v);
}

static inline uint16_t vs_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t vs_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t vs_be64(const uint8_t *p)
{
	return (uint64_t)vs_be32(p) << 32 | vs_be32(p + 4);
}

#endif
