/* SPDX-License-Identifier: GPL-2.0-or-later */
/* role/sensor_link: what both sensor threads (the local-processing uplink
 * and the mirroring sender) do the same way on their connection to the
 * server: walk server_destination in order, back off, nap on an eventfd,
 * ping and answer pings. */
#ifndef VS_SENSOR_LINK_H
#define VS_SENSOR_LINK_H

#include <stdatomic.h>
#include <stdint.h>

#include "channel/channel.h"
#include "conf/conf.h"

#define VS_LINK_PING_MS 10000    /* idle: ping the server this often */
#define VS_LINK_DEAD_MS 35000    /* no frame for this long: reconnect */
#define VS_LINK_CONNECT_MS 5000  /* connect, then handshake, each */
#define VS_LINK_BACKOFF_MIN_MS 500
#define VS_LINK_BACKOFF_MAX_MS 30000

uint64_t vs_link__mono_ms(void);

/* Sleeps ms unless *stop is set; wakes on wake_fd (an eventfd), which it
 * drains, only to look at *stop again. */
void vs_link__nap(int wake_fd, atomic_int *stop, int ms);

/* The back-off after a whole pass failed: doubled, capped. */
int vs_link__backoff(int ms);

/* One server_destination entry ("host", "host:port", "[v6]:port" or a
 * bare IPv6 address) as host and port (dflt when it has none). */
void vs_link__split_dest(const char *d, uint16_t dflt, char *host, size_t hlen,
			 uint16_t *port);

/* One pass over server_destination ("host", "host:port", "[v6]:port"), in
 * order, from manager_ip when set; who names the thread in the log. The
 * first conn that completes the handshake, or NULL. */
struct vs_chan_conn *vs_link__connect(struct vs_chan_ctx *ctx,
				      const struct vs_conf_chan *ch,
				      atomic_int *stop, const char *who);

/* Queues a PING (token: monotonic ms; our wall clock). */
int vs_link__ping(struct vs_chan_conn *c);
/* Answers a PING frame with the same payload as PONG; -EPROTO if bad. */
int vs_link__pong(struct vs_chan_conn *c, const struct vs_chan_frame *f);

#endif
