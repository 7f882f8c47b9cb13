/* SPDX-License-Identifier: GPL-2.0-or-later */
/* role/pcap_serve: a sensor's answer to the server's PCAP_REQUEST, on the
 * uplink connection the sensor already keeps (it opens no port).
 *
 * The file is found from calldate and Call-ID with the spool's own naming
 * (vs_spool__call_path), opened beneath spooldir only (openat2
 * RESOLVE_BENEATH: a symlink out of it is refused), and sent as PCAP_DATA
 * slices of VS_PCAP_SERVE_SLICE bytes, the last one flagged LAST. Slices
 * are queued only while the connection's send queue holds less than
 * VS_PCAP_SERVE_QUEUE bytes, so the CDRs queued on the same loop turn are
 * never behind more than that and a big file never fills the queue. One
 * uplink thread owns it; no locking. */
#ifndef VS_PCAP_SERVE_H
#define VS_PCAP_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "channel/channel.h"

#define VS_PCAP_SERVE_SLICE (256u << 10)
#define VS_PCAP_SERVE_QUEUE (512u << 10)
#define VS_PCAP_SERVE_SLOTS 8 /* transfers at once; more are refused */
#define VS_PCAP_SERVE_TEXT 200

/* One request: a file being sent, or an error answer waiting for room. */
struct vs_pcap_xfer {
	uint32_t req_id;
	int fd; /* -1: error answer (text) */
	uint64_t off, size;
	char text[VS_PCAP_SERVE_TEXT];
	int used;
};

struct vs_pcap_serve {
	const char *spooldir;
	uint16_t id_sensor;
	struct vs_pcap_xfer x[VS_PCAP_SERVE_SLOTS];
	unsigned rr;  /* next slot to serve (round robin) */
	uint8_t *buf; /* one slice, allocated at the first */
	uint64_t requests, served, refused, bytes;
};

void vs_pcap_serve__init(struct vs_pcap_serve *ps, const char *spooldir,
			 uint16_t id_sensor);
/* Closes the files of unfinished transfers (the connection is gone). */
void vs_pcap_serve__fini(struct vs_pcap_serve *ps);

/* A PCAP_REQUEST payload: a transfer starts, or an error answer is queued
 * (no such file, out of spooldir, busy...). 0, -EPROTO for a malformed
 * payload, or a fatal send error (close the connection). */
int vs_pcap_serve__request(struct vs_pcap_serve *ps, struct vs_chan_conn *c,
			   const uint8_t *p, size_t n);
/* Queues the next slices, round robin over the transfers, while the send
 * queue is below VS_PCAP_SERVE_QUEUE. 0 or a fatal send error. */
int vs_pcap_serve__pump(struct vs_pcap_serve *ps, struct vs_chan_conn *c);
/* Something waits to be sent. */
bool vs_pcap_serve__busy(const struct vs_pcap_serve *ps);

#endif
