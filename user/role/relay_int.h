/* SPDX-License-Identifier: GPL-2.0-or-later */
/* role/relay internals: the intermediate server (docs/distributed.md,
 * "Relay"). One thread, one level-triggered epoll set: the listening
 * socket, the sensors' connections (relay_down.c) and the one connection
 * to the central server (relay_up.c).
 *
 * The relay keeps nothing a crash could lose: a sensor's CDR is only
 * acknowledged by the central server, after its commit, and the
 * acknowledgement travels back through here to the sensor, which deletes
 * the CDR from its own disk spool only then. So the relay never reads from
 * sensors while the central server is away, and when its upstream
 * connection is lost it closes every sensor connection: a sensor re-sends
 * its unacknowledged CDRs only after a reconnect, so this is what makes the
 * frames lost in the dead connection come again. */
#ifndef VS_RELAY_INT_H
#define VS_RELAY_INT_H

#include <signal.h>
#include <stdint.h>

#include "channel/channel.h"
#include "conf/conf.h"

#define VS_RELAY_MAX_CONNS 1024     /* sensors and handshakes at once */
#define VS_RELAY_PING_MS 10000      /* idle upstream: ping this often */
#define VS_RELAY_DEAD_MS 35000      /* silent this long: connection dead */
#define VS_RELAY_CONNECT_MS 5000    /* per server_destination entry */
#define VS_RELAY_BACKOFF_MAX_MS 10000
/* Stop reading sensors while this much waits for the central server; a
 * frame is at most 4 MiB and the queue refuses at 32 MiB. */
#define VS_RELAY_UP_HIGH (8u << 20)

/* A sensor's connection to the relay. */
struct rl_conn {
	struct vs_chan_conn *c;
	struct rl_conn *next;
	uint16_t id;		/* its id_sensor, once the handshake is done */
	int ready, dead;
	int paused;		/* left unread for back-pressure: drain later */
	unsigned armed;		/* epoll events registered */
	uint64_t last_rx_ms;
	char name[65], addr[64];
	uint64_t cdrs, batches, acks;
};

struct vs_relay {
	const struct vs_conf *conf;
	struct vs_chan_ctx *down_ctx;	/* server side: the sensors */
	struct vs_chan_ctx *up_ctx;	/* sensor side, mode relay */
	int lfd, ep;
	struct rl_conn *conns;
	unsigned nconns, full_logged;
	struct rl_conn **by_id;		/* 65536: live sensor by id_sensor */
	/* 65536: the last CDR_ACK from the server per id_sensor, given again
	 * to the sensor when it (re)connects: an ack that came while it was
	 * away would otherwise be lost, and the server does not repeat one
	 * on a connection it has already sent it on. A cache of the server's
	 * facts, nothing a crash can lose. */
	struct vs_chan_ack *last_ack;

	struct vs_chan_conn *up;	/* NULL while the server is away */
	unsigned up_armed;
	uint64_t up_rx_ms, up_tx_ms;
	uint64_t next_connect_ms;
	unsigned backoff_ms;
	int down_logged;		/* "upstream unreachable" said once */
	char up_host[256];
	uint16_t up_port;

	uint64_t cdrs, batches, acks, pcap_reqs, drops, upstream_losses;
};

/* Ids used in epoll's data.ptr for the two sockets that are not sensors. */
#define VS_RELAY_EV_LISTEN ((void *)1)
#define VS_RELAY_EV_UP ((void *)2)

uint64_t vs_relay__mono_ms(void);

/* relay_down.c */
int vs_relay__on_accept(void *arg, const struct vs_chan_peer *peer,
			char *why, size_t why_size);
void vs_relay__accept_all(struct vs_relay *r);
void vs_relay__down_event(struct vs_relay *r, struct rl_conn *rc);
void vs_relay__down_read(struct vs_relay *r, struct rl_conn *rc);
void vs_relay__down_housekeeping(struct vs_relay *r);
void vs_relay__down_close_all(struct vs_relay *r, const char *why);

/* relay_up.c */
/* Connects when due (blocking, VS_RELAY_CONNECT_MS per entry): 0 when up. */
int vs_relay__up_connect(struct vs_relay *r, volatile sig_atomic_t *stop);
void vs_relay__up_event(struct vs_relay *r);
/* Forwards one frame from a sensor: 0 or a negative errno (upstream lost
 * or full: the caller closes the sensor's connection). */
int vs_relay__up_send(struct vs_relay *r, uint8_t type, const void *p,
		      size_t n);
/* Closes the upstream connection and, with it, every sensor's. */
void vs_relay__up_lost(struct vs_relay *r, const char *why);
void vs_relay__up_housekeeping(struct vs_relay *r);
int vs_relay__up_room(const struct vs_relay *r);

#endif
