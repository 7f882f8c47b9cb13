// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stdio.h>

#include "core/log.h"

/* Written once by main before work starts; see log.h. */
static enum vs_log_level log_level = VS_LOG_INFO;

void vs_log_set_level(enum vs_log_level lvl)
{
	log_level = lvl;
}

enum vs_log_level vs_log_get_level(void)
{
	return log_level;
}

void vs_log(enum vs_log_level lvl, const char *fmt, ...)
{
	static const char *const tag[] = { "error", "warning", "info", "debug" };
	va_list ap;

	if (lvl > log_level)
		return;
	/* One line, one locked stdio call: the server's CDR writer threads
	 * log too, and their lines must not interleave. */
	flockfile(stderr);
	fprintf(stderr, "voxsense: %s: ", tag[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}
