/* SPDX-License-Identifier: GPL-2.0-or-later */
/* capture/pcap_file: the offline source. Reads pcap or pcapng files with
 * libpcap and feeds their frames, in file order, to a vs_frame_fn. */
#ifndef VS_PCAP_FILE_H
#define VS_PCAP_FILE_H

#include <stdint.h>

#include "capture/frame.h"

struct vs_pcap_file_stats {
	uint64_t frames;
	uint64_t bytes;
};

/* 0 at end of file; -errno when the file cannot be opened or read (logged
 * with the file name and libpcap's reason) or when fn stopped the read. */
int vs_pcap_file__read(const char *path, uint16_t id_sensor, vs_frame_fn fn,
		       void *ctx, struct vs_pcap_file_stats *st);

#endif
