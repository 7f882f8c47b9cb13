// SPDX-License-Identifier: GPL-2.0-or-later
/* Names of the CDR enums (as stored in the cdr table and in JSON) and the
 * time format the stores share. */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "cdr/cdr.h"
#include "cdr/schema.h"

const char *vs_cdr_end__name(enum vs_cdr_end e)
{
	switch (e) {
	case VS_END_BYE:
		return "bye";
	case VS_END_CANCEL:
		return "cancel";
	case VS_END_ERROR:
		return "error";
	case VS_END_TIMEOUT:
		return "timeout";
	case VS_END_EOF:
		return "eof";
	}
	return "unknown";
}

const char *vs_cdr_hangup__name(enum vs_cdr_hangup h)
{
	switch (h) {
	case VS_HANGUP_CALLER:
		return "caller";
	case VS_HANGUP_CALLEE:
		return "callee";
	case VS_HANGUP_UNKNOWN:
		break;
	}
	return "unknown";
}

int vs_cdr_time__format(uint64_t us, int iso, char *buf, size_t len)
{
	/* Year 9999 ends here; beyond it gmtime's year would not fit the
	 * four digits SQL DATETIME and ISO 8601 expect. */
	const uint64_t max_s = 253402300799ull;
	time_t s = (time_t)(us / 1000000);
	struct tm tm;
	int n;

	if (us / 1000000 > max_s || !gmtime_r(&s, &tm))
		return -EINVAL;
	n = snprintf(buf, len, "%04d-%02d-%02d%c%02d:%02d:%02d.%06u%s",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		     iso ? 'T' : ' ', tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (unsigned)(us % 1000000), iso ? "Z" : "");
	return n > 0 && (size_t)n < len ? n : -EINVAL;
}
