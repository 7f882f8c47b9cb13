// SPDX-License-Identifier: GPL-2.0-or-later
/* role/server: the central server's loop. One thread, one epoll set
 * (level-triggered): the listening socket, every sensor connection and the
 * eventfd the CDR writers wake it through (server_writer.h). While a
 * writer's queue is full (the database away or slower than the sensors)
 * the connections whose CDR it refused are not read, so those sensors'
 * CDRs wait in their own disk spools and the server's memory stays
 * bounded (TCP flow control does the rest); sensors of the other writers
 * go on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "role/role.h"
#include "role/server_int.h"

static void arm(struct vs_server *srv, struct srv_conn *sc)
{
	unsigned ev;
	struct epoll_event e = { .data.ptr = sc };

	if (!sc->ready)
		ev = vs_chan_conn__events(sc->c);
	else
		ev = (sc->held.len ? 0 : EPOLLIN) |
		     (vs_chan_conn__queued(sc->c) ? EPOLLOUT : 0);
	if (ev == sc->armed)
		return;
	e.events = ev;
	epoll_ctl(srv->ep, EPOLL_CTL_MOD, vs_chan_conn__fd(sc->c), &e);
	sc->armed = ev;
}


/* Same sensor reconnecting: same id_sensor, name and source address (the
 * old connection is half-open after a crash or a cut) or an old one that
 * has been silent past the ping deadline. Anything else is a clash. */
int vs_srv__on_accept(void *arg, const struct vs_chan_peer *peer, char *why,
		     size_t why_size)
{
	struct vs_server *srv = arg;
	struct srv_sensor *s;
	struct srv_conn *old;
	size_t iplen;

	if (!peer->id_sensor) {
		snprintf(why, why_size, "id_sensor 0: set id_sensor (1-65535)");
		return 1;
	}
	s = srv->sensors[peer->id_sensor];
	/* Another server on the same database may have taken this sensor's
	 * CDRs meanwhile (failover, several receivers): read its mark again,
	 * unless some of ours still wait for their commit. */
	if (s && !s->conn && s->accepted == s->hwm)
		s->loaded = 0;
	s = vs_srv__sensor(srv, peer->id_sensor);
	if (!s) {
		snprintf(why, why_size, "database unavailable, retry later");
		return 1;
	}
	if (vs_srv__relay_claims(srv, s, why, why_size))
		goto refused;
	old = s->conn;
	if (!old || old->dead)
		return 0;
	iplen = vs_chan__addr_ip_len(peer->addr);
	if ((!strcmp(s->name, peer->name) &&
	     vs_chan__addr_ip_len(s->addr) == iplen &&
	     !strncmp(s->addr, peer->addr, iplen)) ||
	    vs_srv__mono_ms() - old->last_rx_ms > VS_SRV_DEAD_MS) {
		vs_info("server: sensor %u (%s) reconnects from %s: its "
			"previous connection from %s is closed",
			peer->id_sensor, peer->name, peer->addr, s->addr);
		old->dead = 1;
		return 0;
	}
	snprintf(why, why_size, "id_sensor %u is already connected from %s "
		 "(name '%s'): give each sensor its own id_sensor",
		 peer->id_sensor, s->addr, s->name);
refused:
	vs_err("server: sensor %s (name '%s'): refused: %s", peer->addr,
	       peer->name, why);
	return 1;
}

static void on_ready(struct vs_server *srv, struct srv_conn *sc)
{
	const struct vs_chan_peer *p = vs_chan_conn__peer(sc->c);
	struct srv_sensor *s = srv->sensors[p->id_sensor];

	sc->ready = 1;
	sc->s = s;
	s->conn = sc;
	sc->relay = p->mode == VS_CHAN_MODE_RELAY;
	snprintf(s->mode, sizeof(s->mode), "%s", sc->relay ? "relay" : "");
	snprintf(s->name, sizeof(s->name), "%s", p->name);
	snprintf(s->version, sizeof(s->version), "%s", p->version);
	snprintf(s->addr, sizeof(s->addr), "%s", p->addr);
	snprintf(s->compress, sizeof(s->compress), "%s",
		 vs_chan_compress__name(p->compress));
	s->connected_since_us = s->last_seen_us = vs_srv__wall_us();
	vs_info("server: sensor %u (%s, version %s) connected from %s; "
		"committed up to sequence %llu", s->id, s->name, s->version,
		s->addr, (unsigned long long)s->hwm);
	vs_srv__mirror_down(srv, s); /* replaced a connection */
	if (p->mode == VS_CHAN_MODE_MIRROR)
		vs_srv__mirror_up(srv, s);
	vs_srv__upsert(srv, s);
	vs_srv__ack(srv, sc);
}

static void read_conn(struct vs_server *srv, struct srv_conn *sc)
{
	struct vs_chan_frame f;
	struct vs_chan_ping pg;
	struct vs_buf *b;
	uint16_t code;
	char text[VS_CHAN_ERR_TEXT_MAX + 1];
	int r = -EAGAIN;

	while (!sc->held.len && !sc->dead &&
	       !(r = vs_chan_conn__recv(sc->c, &f))) {
		sc->last_rx_ms = vs_srv__mono_ms();
		switch (f.type) {
		case VS_CHAN_CDR:
			r = vs_srv__cdr(srv, sc, f.data, f.len);
			break;
		case VS_CHAN_PING:
			b = vs_chan_conn__scratch(sc->c);
			r = vs_chan_ping__parse(f.data, f.len, &pg) ?:
			    vs_chan_ping__put(b, &pg) ?:
			    vs_chan_conn__send(sc->c, VS_CHAN_PONG, b->p, b->len);
			break;
		case VS_CHAN_PACKETS:
			r = vs_srv__packets(srv, sc, f.data, f.len);
			break;
		case VS_CHAN_PCAP_DATA:
			r = vs_srv_ctl__pcap_data(srv, sc, f.data, f.len);
			break;
		case VS_CHAN_SENSOR_INFO:
			r = vs_srv__relay_info(srv, sc, f.data, f.len);
			break;
		case VS_CHAN_PONG:
			r = 0;
			break;
		case VS_CHAN_ERROR:
			if (!vs_chan_error__parse(f.data, f.len, &code, text,
						  sizeof(text)))
				vs_warn("server: sensor %u says: %s", sc->s->id,
					text);
			r = -ECONNABORTED;
			break;
		default:
			vs_warn("server: sensor %u: unexpected %s frame: "
				"closing", sc->s->id, vs_chan_type__name(f.type));
			r = -EPROTO;
		}
		if (r == -EAGAIN)
			return; /* held: its writer's queue is full */
		if (r) {
			if (r == -EPROTO)
				vs_warn("server: sensor %u: malformed frame: "
					"closing", sc->s->id);
			sc->dead = 1;
			return;
		}
	}
	if (!sc->held.len && !sc->dead && r != -EAGAIN) {
		if (r != -ECONNRESET)
			vs_warn("server: sensor %u: %s: closing", sc->s->id,
				vs_chan_conn__error(sc->c));
		sc->dead = 1;
	}
}

static void on_event(struct vs_server *srv, struct srv_conn *sc)
{
	int r;

	if (!sc->ready) {
		r = vs_chan_conn__handshake(sc->c);
		if (r == 0)
			on_ready(srv, sc);
		else if (r != -EAGAIN)
			sc->dead = 1; /* the channel logged why */
		if (r)
			return;
	}
	read_conn(srv, sc);
}

static void accept_all(struct vs_server *srv)
{
	struct epoll_event e;
	struct srv_conn *sc;
	int fd;

	while ((fd = accept4(srv->lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		if (srv->nconns >= VS_SRV_MAX_CONNS) {
			/* each costs TLS state: a flood must not exhaust us */
			if (!srv->full_logged++)
				vs_warn("server: %u connections: refusing more",
					VS_SRV_MAX_CONNS);
			close(fd);
			continue;
		}
		sc = calloc(1, sizeof(*sc));
		if (!sc || !(sc->c = vs_chan_conn__new(srv->ctx, fd))) {
			if (!sc || !sc->c)
				close(fd);
			free(sc);
			continue;
		}
		sc->last_rx_ms = vs_srv__mono_ms();
		sc->armed = vs_chan_conn__events(sc->c);
		e = (struct epoll_event){ .events = sc->armed, .data.ptr = sc };
		if (epoll_ctl(srv->ep, EPOLL_CTL_ADD, fd, &e)) {
			vs_chan_conn__free(sc->c);
			free(sc);
			continue;
		}
		sc->next = srv->conns;
		srv->conns = sc;
		srv->nconns++;
	}
}

static void conn_free(struct vs_server *srv, struct srv_conn *sc)
{
	if (sc->s && sc->s->conn == sc) {
		sc->s->conn = NULL;
		sc->s->last_seen_us = vs_srv__wall_us();
		vs_info("server: sensor %u (%s) disconnected", sc->s->id,
			sc->s->name);
		vs_srv__upsert(srv, sc->s);
		vs_srv__mirror_down(srv, sc->s);
	}
	if (sc->relay)
		vs_srv__relay_rows(srv, sc, 1);
	vs_srv_ctl__conn_gone(srv, sc);
	epoll_ctl(srv->ep, EPOLL_CTL_DEL, vs_chan_conn__fd(sc->c), NULL);
	vs_chan_conn__free(sc->c);
	vs_buf__free(&sc->held);
	free(sc);
	srv->nconns--;
	if (srv->nconns < VS_SRV_MAX_CONNS / 2)
		srv->full_logged = 0;
}

/* Timers, queued bytes, epoll interest, and the dead. */
static void housekeeping(struct vs_server *srv)
{
	uint64_t now = vs_srv__mono_ms();
	int beat = now >= srv->next_beat_ms;
	struct srv_conn **pp = &srv->conns, *sc;
	struct vs_buf *b;

	if (beat)
		srv->next_beat_ms = now + VS_SRV_HEARTBEAT_MS;
	while ((sc = *pp)) {
		if (!sc->ready && !sc->dead) /* also checks the deadline */
			on_event(srv, sc);
		/* on_event above may have read a frame after `now` was taken:
		 * last_rx_ms can be later than now */
		if (sc->ready && !sc->dead && now > sc->last_rx_ms &&
		    now - sc->last_rx_ms > VS_SRV_DEAD_MS) {
			vs_warn("server: sensor %u: silent for %u s: closing",
				sc->s->id, VS_SRV_DEAD_MS / 1000);
			sc->dead = 1;
		}
		if (sc->ready && !sc->dead && beat) {
			sc->s->last_seen_us = vs_srv__wall_us();
			vs_srv__upsert(srv, sc->s);
			if (sc->relay)
				vs_srv__relay_rows(srv, sc, 0);
			b = vs_chan_conn__scratch(sc->c);
			if (!vs_chan_ping__put(b, &(struct vs_chan_ping){
				    .token = now, .clock_us = vs_srv__wall_us() }))
				vs_chan_conn__send(sc->c, VS_CHAN_PING, b->p, b->len);
		}
		if (sc->ready && !sc->dead) {
			int r = vs_chan_conn__flush(sc->c);

			if (r && r != -EAGAIN)
				sc->dead = 1;
		}
		if (sc->dead) {
			*pp = sc->next;
			conn_free(srv, sc);
			continue;
		}
		arm(srv, sc);
		pp = &sc->next;
	}
}

/* A writer committed, has room again, or went down or came back. */
static void writers_woke(struct vs_server *srv)
{
	uint64_t v;

	if (read(srv->wfd, &v, sizeof(v)) < 0) {
		/* EAGAIN: already read; the state is looked at anyway */
	}
	srv->retry_at_ms = 0; /* room, maybe: offer the held frames now */
	vs_srv__commit(srv);
}

void vs_srv__loop(struct vs_server *srv, volatile sig_atomic_t *stop)
{
	struct epoll_event ev[64];
	int n, timeout;

	while (!*stop) {
		timeout = srv->blocked || srv->marks_due ? 100 : 200;
		n = epoll_wait(srv->ep, ev, 64, timeout);
		for (int i = 0; i < n; i++) {
			if (ev[i].data.ptr == NULL)
				accept_all(srv);
			else if (ev[i].data.ptr == &srv->wfd)
				writers_woke(srv);
			else if (ev[i].data.ptr == srv->ctl)
				vs_srv_ctl__event(srv);
			else
				on_event(srv, ev[i].data.ptr);
		}
		if (srv->resume) { /* frames may wait inside TLS buffers */
			srv->resume = 0;
			for (struct srv_conn *sc = srv->conns; sc; sc = sc->next)
				if (sc->ready && !sc->dead)
					read_conn(srv, sc);
		}
		if (srv->marks_due)
			vs_srv__commit(srv); /* marks not saved yet: again */
		if (srv->blocked)
			vs_srv__retry(srv);
		vs_srv__mirror_tick(srv);
		housekeeping(srv);
		vs_srv_ctl__tick(srv); /* after housekeeping freed the dead */
	}
}

/* Shutdown: acknowledgements out, then every connection closed. */
void vs_srv__close_all(struct vs_server *srv)
{
	struct srv_conn *sc;

	for (sc = srv->conns; sc; sc = sc->next)
		if (sc->ready && !sc->dead)
			vs_chan_conn__flush_wait(sc->c, 1000);
	while ((sc = srv->conns)) {
		srv->conns = sc->next;
		conn_free(srv, sc);
	}
}
