// SPDX-License-Identifier: GPL-2.0-or-later
/* role/relay: the sensors' side. The relay accepts sensors like a central
 * server (TLS with its own certificate, server_password, clock check, one
 * live connection per id_sensor) and forwards what they send, frame by
 * frame and unchanged, to its one upstream connection. It reads from them
 * only while that connection is up and has room. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "role/relay_int.h"

static void arm(struct vs_relay *r, struct rl_conn *rc)
{
	struct epoll_event e = { .data.ptr = rc };
	unsigned ev;

	if (!rc->ready)
		ev = vs_chan_conn__events(rc->c);
	else
		ev = (vs_relay__up_room(r) ? EPOLLIN : 0) |
		     (vs_chan_conn__queued(rc->c) ? EPOLLOUT : 0);
	if (ev == rc->armed)
		return;
	e.events = ev;
	epoll_ctl(r->ep, EPOLL_CTL_MOD, vs_chan_conn__fd(rc->c), &e);
	rc->armed = ev;
}


/* Sensors only while the central server is there (what they send could
 * not go anywhere), one live connection per id_sensor: the same rule as
 * the central server's (same name and address, or the old one silent past
 * the ping deadline, is the same sensor reconnecting). */
int vs_relay__on_accept(void *arg, const struct vs_chan_peer *peer,
			char *why, size_t why_size)
{
	struct vs_relay *r = arg;
	struct rl_conn *old = r->by_id[peer->id_sensor];
	size_t iplen = vs_chan__addr_ip_len(peer->addr);

	if (!r->up) {
		snprintf(why, why_size, "relay %u: the central server is not "
			 "reachable now, retry later", r->conf->id_sensor);
		return 1;
	}
	if (peer->mode == VS_CHAN_MODE_RELAY) {
		snprintf(why, why_size, "relay %u: relays cannot be chained; "
			 "point this relay at the central server",
			 r->conf->id_sensor);
		return 1;
	}
	if (peer->id_sensor == r->conf->id_sensor) {
		snprintf(why, why_size, "id_sensor %u is this relay's own: "
			 "give each sensor its own id_sensor", peer->id_sensor);
		goto refused;
	}
	if (!old || old->dead)
		return 0;
	if ((!strcmp(old->name, peer->name) &&
	     vs_chan__addr_ip_len(old->addr) == iplen &&
	     !strncmp(old->addr, peer->addr, iplen)) ||
	    vs_relay__mono_ms() - old->last_rx_ms > VS_RELAY_DEAD_MS) {
		vs_info("relay: sensor %u (%s) reconnects from %s: its previous "
			"connection from %s is closed", peer->id_sensor,
			peer->name, peer->addr, old->addr);
		old->dead = 1;
		r->by_id[peer->id_sensor] = NULL;
		return 0;
	}
	snprintf(why, why_size, "id_sensor %u is already connected to relay "
		 "%u from %s (name '%s'): give each sensor its own id_sensor",
		 peer->id_sensor, r->conf->id_sensor, old->addr, old->name);
refused:
	vs_err("relay: sensor %s (name '%s'): refused: %s", peer->addr,
	       peer->name, why);
	return 1;
}

/* SENSOR_INFO to the central server, so that its sensors table names the
 * sensors behind this relay and knows when they come and go (it could
 * only see their id_sensor in their frames). Best effort: lost with the
 * upstream connection, which closes every sensor anyway. */
static void tell_server(struct vs_relay *r, struct rl_conn *rc, int up)
{
	const struct vs_chan_peer *p = vs_chan_conn__peer(rc->c);
	struct vs_chan_sensor_info si = {
		.id_sensor = rc->id, .up = (uint8_t)up,
		.mode = (uint8_t)p->mode,
	};
	struct vs_buf b = { 0 };
	struct timespec ts;

	if (!r->up)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	si.since_us = (uint64_t)ts.tv_sec * 1000000u +
		      (uint64_t)ts.tv_nsec / 1000u;
	snprintf(si.name, sizeof(si.name), "%s", p->name);
	snprintf(si.version, sizeof(si.version), "%s", p->version);
	snprintf(si.addr, sizeof(si.addr), "%s", p->addr);
	if (vs_chan_sensor_info__put(&b, &si) ||
	    vs_relay__up_send(r, VS_CHAN_SENSOR_INFO, b.p, b.len))
		vs_dbg("relay: sensor %u: SENSOR_INFO not sent", rc->id);
	vs_buf__free(&b);
}

static void on_ready(struct vs_relay *r, struct rl_conn *rc)
{
	const struct vs_chan_peer *p = vs_chan_conn__peer(rc->c);
	struct vs_buf *b;

	rc->ready = 1;
	rc->id = p->id_sensor;
	snprintf(rc->name, sizeof(rc->name), "%s", p->name);
	snprintf(rc->addr, sizeof(rc->addr), "%s", p->addr);
	r->by_id[rc->id] = rc;
	vs_info("relay: sensor %u (%s, version %s, %s) connected from %s",
		rc->id, rc->name, p->version, p->mode == VS_CHAN_MODE_MIRROR ?
		"packet mirroring" : "local processing", rc->addr);
	tell_server(r, rc, 1);
	if (r->last_ack[rc->id].count) { /* its mark, in case it missed it */
		b = vs_chan_conn__scratch(rc->c);
		if (vs_chan_ack__put(b, &r->last_ack[rc->id]) ||
		    vs_chan_conn__send(rc->c, VS_CHAN_CDR_ACK, b->p, b->len))
			rc->dead = 1;
	}
}

/* The id_sensor a frame speaks for must be its sender's: the central
 * server trusts the relay to have checked it. */
static int check_id(const struct rl_conn *rc, const struct vs_chan_frame *f)
{
	struct vs_chan_cdr cdr;
	struct vs_chan_pkt_iter it;

	if (f->type == VS_CHAN_CDR)
		return vs_chan_cdr__parse(f->data, f->len, &cdr) ||
		       cdr.id_sensor != rc->id ? -EPROTO : 0;
	return vs_chan_packets__iter(&it, f->data, f->len) ||
	       it.id_sensor != rc->id ? -EPROTO : 0;
}

static int down_frame(struct vs_relay *r, struct rl_conn *rc,
		      const struct vs_chan_frame *f)
{
	struct vs_chan_ping pg;
	struct vs_buf *b;
	uint16_t code;
	char text[VS_CHAN_ERR_TEXT_MAX + 1];

	switch (f->type) {
	case VS_CHAN_CDR:
	case VS_CHAN_PACKETS:
		if (check_id(rc, f)) {
			vs_warn("relay: sensor %u: %s frame malformed or for "
				"another id_sensor: closing", rc->id,
				vs_chan_type__name(f->type));
			return -EPROTO;
		}
		if (f->type == VS_CHAN_CDR)
			rc->cdrs++, r->cdrs++;
		else
			rc->batches++, r->batches++;
		/* fall through */
	case VS_CHAN_PCAP_DATA:
		return vs_relay__up_send(r, f->type, f->data, f->len);
	case VS_CHAN_PING:
		b = vs_chan_conn__scratch(rc->c);
		return vs_chan_ping__parse(f->data, f->len, &pg) ?:
		       vs_chan_ping__put(b, &pg) ?:
		       vs_chan_conn__send(rc->c, VS_CHAN_PONG, b->p, b->len);
	case VS_CHAN_PONG:
		return 0;
	case VS_CHAN_ERROR:
		if (!vs_chan_error__parse(f->data, f->len, &code, text,
					  sizeof(text)))
			vs_warn("relay: sensor %u says: %s", rc->id, text);
		return -ECONNABORTED;
	default:
		vs_warn("relay: sensor %u: unexpected %s frame: closing", rc->id,
			vs_chan_type__name(f->type));
		return -EPROTO;
	}
}

void vs_relay__down_read(struct vs_relay *r, struct rl_conn *rc)
{
	struct vs_chan_frame f;
	int err = -EAGAIN;

	rc->paused = 0;
	while (!rc->dead && vs_relay__up_room(r) &&
	       !(err = vs_chan_conn__recv(rc->c, &f))) {
		rc->last_rx_ms = vs_relay__mono_ms();
		err = down_frame(r, rc, &f);
		if (err) {
			if (err == -ENOBUFS)
				vs_warn("relay: sensor %u: upstream queue full: "
					"closing (it re-sends)", rc->id);
			rc->dead = 1;
			return;
		}
	}
	if (rc->dead)
		return;
	if (!err && !vs_relay__up_room(r)) {
		rc->paused = 1; /* frames may wait inside TLS: come back */
		return;
	}
	if (err == -EAGAIN) {
		if (!vs_relay__up_room(r))
			rc->paused = 1;
		return;
	}
	if (err != -ECONNRESET)
		vs_warn("relay: sensor %u: %s: closing", rc->id,
			vs_chan_conn__error(rc->c));
	rc->dead = 1;
}

void vs_relay__down_event(struct vs_relay *r, struct rl_conn *rc)
{
	int err;

	if (rc->dead)
		return;
	if (!rc->ready) {
		err = vs_chan_conn__handshake(rc->c);
		if (err == 0)
			on_ready(r, rc);
		else if (err != -EAGAIN)
			rc->dead = 1; /* the channel logged why */
		if (err)
			return;
	}
	err = vs_chan_conn__flush(rc->c);
	if (err && err != -EAGAIN) {
		rc->dead = 1;
		return;
	}
	vs_relay__down_read(r, rc);
}

void vs_relay__accept_all(struct vs_relay *r)
{
	struct epoll_event e;
	struct rl_conn *rc;
	int fd;

	while ((fd = accept4(r->lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		if (r->nconns >= VS_RELAY_MAX_CONNS) {
			if (!r->full_logged++)
				vs_warn("relay: %u connections: refusing more",
					VS_RELAY_MAX_CONNS);
			close(fd);
			continue;
		}
		rc = calloc(1, sizeof(*rc));
		if (!rc || !(rc->c = vs_chan_conn__new(r->down_ctx, fd))) {
			close(fd);
			free(rc);
			continue;
		}
		rc->last_rx_ms = vs_relay__mono_ms();
		rc->armed = vs_chan_conn__events(rc->c);
		e = (struct epoll_event){ .events = rc->armed, .data.ptr = rc };
		if (epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &e)) {
			vs_chan_conn__free(rc->c);
			free(rc);
			continue;
		}
		rc->next = r->conns;
		r->conns = rc;
		r->nconns++;
	}
}

/* Marks them; housekeeping frees them (a caller may be inside one). */
void vs_relay__down_close_all(struct vs_relay *r, const char *why)
{
	unsigned n = 0;

	for (struct rl_conn *rc = r->conns; rc; rc = rc->next) {
		n += rc->ready && !rc->dead;
		rc->dead = 1;
	}
	if (n)
		vs_info("relay: closing %u sensor connections: %s", n, why);
}

static void conn_free(struct vs_relay *r, struct rl_conn *rc)
{
	if (rc->ready) {
		if (r->by_id[rc->id] == rc) {
			r->by_id[rc->id] = NULL;
			tell_server(r, rc, 0);
		}
		vs_info("relay: sensor %u (%s) disconnected: %llu CDRs, %llu "
			"packet batches forwarded, %llu acknowledgements back",
			rc->id, rc->name, (unsigned long long)rc->cdrs,
			(unsigned long long)rc->batches,
			(unsigned long long)rc->acks);
	}
	epoll_ctl(r->ep, EPOLL_CTL_DEL, vs_chan_conn__fd(rc->c), NULL);
	vs_chan_conn__free(rc->c);
	free(rc);
	r->nconns--;
	if (r->nconns < VS_RELAY_MAX_CONNS / 2)
		r->full_logged = 0;
}

/* Handshake deadlines, silence, queued bytes, paused readers, the dead. */
void vs_relay__down_housekeeping(struct vs_relay *r)
{
	uint64_t now = vs_relay__mono_ms();
	struct rl_conn **pp = &r->conns, *rc;
	int err;

	while ((rc = *pp)) {
		if (!rc->ready && !rc->dead)
			vs_relay__down_event(r, rc); /* checks the deadline */
		if (rc->ready && !rc->dead && rc->paused && vs_relay__up_room(r))
			vs_relay__down_read(r, rc);
		/* the reads above may postdate `now` */
		if (rc->ready && !rc->dead && now > rc->last_rx_ms &&
		    now - rc->last_rx_ms > VS_RELAY_DEAD_MS) {
			vs_warn("relay: sensor %u: silent for %u s: closing",
				rc->id, VS_RELAY_DEAD_MS / 1000);
			rc->dead = 1;
		}
		if (rc->ready && !rc->dead) {
			err = vs_chan_conn__flush(rc->c);
			if (err && err != -EAGAIN)
				rc->dead = 1;
		}
		if (rc->dead) {
			*pp = rc->next;
			conn_free(r, rc);
			continue;
		}
		arm(r, rc);
		pp = &rc->next;
	}
}
