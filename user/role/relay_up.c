// SPDX-License-Identifier: GPL-2.0-or-later
/* role/relay: the one connection to the central server. Frames from the
 * sensors go up unchanged; acknowledgements and pcap requests come down
 * and are routed by their id_sensor to that sensor's connection. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "core/log.h"
#include "role/relay_int.h"
#include "role/sensor_link.h"

uint64_t vs_relay__mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000;
}

static void up_arm(struct vs_relay *r)
{
	struct epoll_event e = { .data.ptr = VS_RELAY_EV_UP };
	unsigned ev = EPOLLIN | (vs_chan_conn__queued(r->up) ? EPOLLOUT : 0);

	if (ev == r->up_armed)
		return;
	e.events = ev;
	epoll_ctl(r->ep, r->up_armed ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
		  vs_chan_conn__fd(r->up), &e);
	r->up_armed = ev;
}

/* One pass over server_destination in order, like a sensor: the first
 * that answers wins, so the relay returns to its first server. */
static struct vs_chan_conn *connect_any(struct vs_relay *r,
					volatile sig_atomic_t *stop)
{
	const struct vs_conf_chan *ch = &r->conf->chan;
	const char *bind = ch->manager_ip[0] ? ch->manager_ip : NULL;
	struct vs_chan_conn *c;

	for (uint32_t i = 0; i < ch->n_dest && !*stop; i++) {
		vs_link__split_dest(ch->dest[i], ch->dest_port, r->up_host,
			   sizeof(r->up_host), &r->up_port);
		c = vs_chan__connect(r->up_ctx, r->up_host, r->up_port, bind,
				     VS_RELAY_CONNECT_MS);
		if (c)
			return c;
		if (!r->down_logged)
			vs_warn("relay: central server %s port %u: %s%s",
				r->up_host, r->up_port, strerror(errno),
				i + 1 < ch->n_dest ? "; trying the next" : "");
	}
	return NULL;
}

int vs_relay__up_connect(struct vs_relay *r, volatile sig_atomic_t *stop)
{
	uint64_t now = vs_relay__mono_ms();

	if (r->up)
		return 0;
	if (now < r->next_connect_ms)
		return -EAGAIN;
	r->up = connect_any(r, stop);
	if (!r->up) {
		if (!r->down_logged++)
			vs_warn("relay: no central server answers: sensors are "
				"refused until one does (their CDRs wait in "
				"their spools)");
		r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : 500;
		if (r->backoff_ms > VS_RELAY_BACKOFF_MAX_MS)
			r->backoff_ms = VS_RELAY_BACKOFF_MAX_MS;
		r->next_connect_ms = vs_relay__mono_ms() + r->backoff_ms;
		return -EAGAIN;
	}
	vs_info("relay: connected to the central server %s port %u "
		"(certificate %s); accepting sensors", r->up_host, r->up_port,
		vs_chan_conn__peer(r->up)->fingerprint);
	r->backoff_ms = 0;
	r->down_logged = 0;
	r->up_armed = 0;
	r->up_rx_ms = r->up_tx_ms = vs_relay__mono_ms();
	up_arm(r);
	return 0;
}

void vs_relay__up_lost(struct vs_relay *r, const char *why)
{
	if (!r->up)
		return;
	vs_warn("relay: connection to the central server lost: %s; closing "
		"the sensors' connections so that they re-send what it has "
		"not acknowledged", why);
	epoll_ctl(r->ep, EPOLL_CTL_DEL, vs_chan_conn__fd(r->up), NULL);
	vs_chan_conn__free(r->up);
	r->up = NULL;
	r->up_armed = 0;
	r->upstream_losses++;
	r->next_connect_ms = vs_relay__mono_ms() + 200;
	vs_relay__down_close_all(r, "the central server is away");
}

int vs_relay__up_room(const struct vs_relay *r)
{
	return r->up && vs_chan_conn__queued(r->up) < VS_RELAY_UP_HIGH;
}

int vs_relay__up_send(struct vs_relay *r, uint8_t type, const void *p,
		      size_t n)
{
	int err;

	if (!r->up)
		return -ENOTCONN;
	err = vs_chan_conn__send(r->up, type, p, n);
	if (err == -ENOBUFS)
		return err; /* the sensor's connection goes; it re-sends */
	if (err) {
		vs_relay__up_lost(r, strerror(-err));
		return err;
	}
	r->up_tx_ms = vs_relay__mono_ms();
	return 0;
}

/* An acknowledgement (CDR_ACK, PACKETS_ACK) to the sensor it names; when
 * that sensor is gone, nothing: it learns its mark again after its
 * reconnect. */
static int route_ack(struct vs_relay *r, const struct vs_chan_frame *f)
{
	struct vs_chan_ack a, *last;
	struct rl_conn *rc;

	if (vs_chan_ack__parse(f->data, f->len, &a) || !a.count)
		return -EPROTO;
	last = &r->last_ack[a.id_sensor];
	if (f->type == VS_CHAN_CDR_ACK &&
	    a.first_seq + a.count > last->first_seq + last->count)
		*last = a;
	rc = r->by_id[a.id_sensor];
	r->acks++;
	if (!rc || rc->dead || !rc->ready)
		return 0;
	rc->acks++;
	if (vs_chan_conn__send(rc->c, f->type, f->data, f->len))
		rc->dead = 1; /* not reading its acks: it re-sends later */
	return 0;
}

static int pcap_error(struct vs_relay *r, uint32_t req_id, const char *text)
{
	struct vs_buf *b = vs_chan_conn__scratch(r->up);

	return vs_chan_pcap_data__put(b, &(struct vs_chan_pcap_data){
		       .req_id = req_id,
		       .flags = VS_CHAN_PCAP_F_ERROR | VS_CHAN_PCAP_F_LAST,
		       .data = (const uint8_t *)text,
		       .len = (uint32_t)strlen(text) }) ?:
	       vs_chan_conn__send(r->up, VS_CHAN_PCAP_DATA, b->p, b->len);
}

static int route_pcap_req(struct vs_relay *r, const struct vs_chan_frame *f)
{
	struct vs_chan_pcap_req pr;
	struct rl_conn *rc;
	char text[96];

	if (vs_chan_pcap_req__parse(f->data, f->len, &pr))
		return -EPROTO;
	r->pcap_reqs++;
	rc = r->by_id[pr.id_sensor];
	if (rc && rc->ready && !rc->dead &&
	    !vs_chan_conn__send(rc->c, f->type, f->data, f->len))
		return 0;
	snprintf(text, sizeof(text), "sensor %u is not connected to relay %u",
		 pr.id_sensor, r->conf->id_sensor);
	return pcap_error(r, pr.req_id, text);
}

static int up_frame(struct vs_relay *r, const struct vs_chan_frame *f)
{
	struct vs_chan_ping pg;
	struct vs_buf *b;
	uint16_t code;
	char text[VS_CHAN_ERR_TEXT_MAX + 1];

	switch (f->type) {
	case VS_CHAN_CDR_ACK:
	case VS_CHAN_PACKETS_ACK:
		return route_ack(r, f);
	case VS_CHAN_PCAP_REQUEST:
		return route_pcap_req(r, f);
	case VS_CHAN_PING:
		b = vs_chan_conn__scratch(r->up);
		return vs_chan_ping__parse(f->data, f->len, &pg) ?:
		       vs_chan_ping__put(b, &pg) ?:
		       vs_chan_conn__send(r->up, VS_CHAN_PONG, b->p, b->len);
	case VS_CHAN_PONG:
		return 0;
	case VS_CHAN_ERROR:
		if (!vs_chan_error__parse(f->data, f->len, &code, text,
					  sizeof(text)))
			vs_err("relay: the central server says: %s (code %u)",
			       text, code);
		return -ECONNABORTED;
	default:
		vs_warn("relay: unexpected %s frame from the central server",
			vs_chan_type__name(f->type));
		return -EPROTO;
	}
}

void vs_relay__up_event(struct vs_relay *r)
{
	struct vs_chan_frame f;
	int err;

	if (!r->up)
		return;
	err = vs_chan_conn__flush(r->up);
	if (err && err != -EAGAIN)
		goto lost;
	while (!(err = vs_chan_conn__recv(r->up, &f))) {
		r->up_rx_ms = vs_relay__mono_ms();
		err = up_frame(r, &f);
		if (err)
			goto lost;
	}
	if (err == -EAGAIN)
		return;
lost:
	vs_relay__up_lost(r, err == -ECONNRESET ? "closed by the server" :
			  err == -ECONNABORTED ? "refused" :
			  vs_chan_conn__error(r->up)[0] ?
			  vs_chan_conn__error(r->up) : strerror(-err));
}

/* Pings when idle, notices silence, writes what is queued. */
void vs_relay__up_housekeeping(struct vs_relay *r)
{
	uint64_t now = vs_relay__mono_ms();
	struct vs_buf *b;
	int err;

	if (!r->up)
		return;
	if (now - r->up_rx_ms > VS_RELAY_DEAD_MS) {
		vs_relay__up_lost(r, "silent for 35 s");
		return;
	}
	if (now - r->up_tx_ms >= VS_RELAY_PING_MS) {
		b = vs_chan_conn__scratch(r->up);
		r->up_tx_ms = now;
		if (!vs_chan_ping__put(b, &(struct vs_chan_ping){ .token = now }))
			vs_chan_conn__send(r->up, VS_CHAN_PING, b->p, b->len);
	}
	err = vs_chan_conn__flush(r->up);
	if (err && err != -EAGAIN) {
		vs_relay__up_lost(r, strerror(-err));
		return;
	}
	up_arm(r);
}
