/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Monotonic milliseconds, for timeouts and back-offs (never the wall clock,
 * which an admin or NTP may step). */
#ifndef VS_CLOCK_H
#define VS_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t vs_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
