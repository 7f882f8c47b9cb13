/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The packet-input contract: every source (pcap file today; XDP ring buffer,
 * AF_XDP and the client-server channel later) hands the pipeline one
 * struct vs_frame at a time, in capture order. */
#ifndef VS_FRAME_H
#define VS_FRAME_H

#include <stdint.h>

struct vs_frame {
	const uint8_t *data; /* first caplen bytes of the frame, link header on */
	uint32_t caplen;     /* bytes present at data */
	uint32_t origlen;    /* length on the wire */
	uint64_t ts_us;      /* capture time, microseconds since the epoch */
	uint16_t linktype;   /* DLT_* of data (DLT_EN10MB, DLT_LINUX_SLL, ...) */
	uint16_t id_sensor;  /* sensor that captured it; 0 = this process */
	uint32_t ifindex;    /* interface captured on (live); 0 = unknown */
};

/* A sink for frames: returns 0, or a negative errno to stop the source. */
typedef int (*vs_frame_fn)(void *ctx, const struct vs_frame *f);

#endif
