/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Three-level logging to stderr (error, info, debug), in the manner of
 * xdp-tools: the level lives in the caller's context, not in a global. */
#ifndef VS_LOG_H
#define VS_LOG_H

enum vs_log_level { VS_LOG_ERR = 0, VS_LOG_WARN, VS_LOG_INFO, VS_LOG_DEBUG };

/* The one process-wide setting we accept: how chatty stderr is. It is set once
 * from the command line before any thread starts and only read afterwards. */
void vs_log_set_level(enum vs_log_level lvl);
enum vs_log_level vs_log_get_level(void);

void vs_log(enum vs_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define vs_err(...) vs_log(VS_LOG_ERR, __VA_ARGS__)
#define vs_warn(...) vs_log(VS_LOG_WARN, __VA_ARGS__)
#define vs_info(...) vs_log(VS_LOG_INFO, __VA_ARGS__)
#define vs_dbg(...) vs_log(VS_LOG_DEBUG, __VA_ARGS__)

#endif
