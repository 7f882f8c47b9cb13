/* SPDX-License-Identifier: GPL-2.0-or-later */
/* spool/: per-call pcap files under spooldir/YYYY-MM-DD/HH/MM/ (UTC of the
 * call's first INVITE), original frames and timestamps, written through
 * libpcap's dumper. A file is opened at the first frame written, so calls
 * whose packets are all excluded by savesip/savertp leave no file. */
#ifndef VS_PCAP_SPOOL_H
#define VS_PCAP_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "capture/frame.h"

#define VS_SPOOL_STATS(X)                                                      \
	X(files_opened)                                                         \
	X(files_failed)     /* could not create directory or file */           \
	X(frames_written)                                                       \
	X(frames_dup)       /* same frame offered twice (TCP segment shared) */\
	X(frames_linktype)  /* frame of another link type than the file's */   \
	X(write_errors)

struct vs_spool_stats {
#define VS_X(n) uint64_t n;
	VS_SPOOL_STATS(VS_X)
#undef VS_X
};

struct vs_spool;
struct vs_spool_file;

/* NULL + errno. spooldir is created when missing. */
struct vs_spool *vs_spool__new(const char *spooldir,
			       struct vs_spool_stats *stats);
void vs_spool__free(struct vs_spool *sp);

/* A handle for one call; nothing touches the disk until the first write. */
struct vs_spool_file *vs_spool__file(struct vs_spool *sp, const char *call_id,
				     uint64_t calldate_us);

/* Writes f, cut to snaplen bytes when snaplen < f->caplen. */
void vs_spool_file__write(struct vs_spool *sp, struct vs_spool_file *pf,
			  const struct vs_frame *f, uint32_t snaplen);

/* Path relative to spooldir ("" when nothing was written). */
const char *vs_spool_file__path(const struct vs_spool_file *pf);

/* Flushes and closes; frees pf. */
void vs_spool_file__close(struct vs_spool *sp, struct vs_spool_file *pf);

/* File name for a Call-ID: [A-Za-z0-9._@+-] kept, the rest %XX-encoded, a
 * leading dot encoded, long names cut and suffixed with a hash. Writes at
 * most size bytes incl. NUL; returns out. */
char *vs_spool__safe_name(const char *call_id, char *out, size_t size);

/* A call's pcap path relative to spooldir, exactly as the spool names it:
 * "YYYY-MM-DD/HH/MM/<safe Call-ID>.pcap", the minute of calldate_us (the
 * call's first INVITE, UTC; a call that runs past the minute stays there),
 * or ".../<safe Call-ID>-N.pcap" for the N-th file (N = 2..99) of a
 * Call-ID reused within one minute. Used by the writer and by the sensor
 * serving PCAP_REQUEST. Length, or -ENAMETOOLONG. */
int vs_spool__call_path(char *out, size_t size, uint64_t calldate_us,
			const char *call_id, int n);

void vs_spool_stats__print(const struct vs_spool_stats *s, FILE *out);

#endif
