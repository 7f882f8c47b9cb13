// SPDX-License-Identifier: GPL-2.0-or-later
/* role/uplink: the thread that keeps a sensor connected to its server and
 * ships the spool. Servers are tried in server_destination order; every
 * new attempt starts again at the first, so the sensor returns to it once
 * it answers. After each connect the spool is replayed from the first
 * unacknowledged CDR; the server drops what it already committed. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "role/uplink_int.h"

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000;
}

/* Sleeps ms unless woken to stop; drains the eventfd. */
static void nap(struct vs_uplink *u, int ms)
{
	struct pollfd p = { .fd = u->wake_fd, .events = POLLIN };
	uint64_t v, end = mono_ms() + (uint64_t)ms, t;

	while (!atomic_load(&u->stop) && (t = mono_ms()) < end) {
		if (poll(&p, 1, (int)(end - t)) > 0 &&
		    read(u->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			break;
	}
}

/* "host", "host:port", "[v6]:port" or a bare IPv6 address. */
static void split_dest(const char *d, uint16_t dflt, char *host, size_t hlen,
		       uint16_t *port)
{
	const char *colon = strrchr(d, ':');

	*port = dflt;
	if (d[0] == '[') {
		const char *end = strchr(d, ']');
		size_t n = end ? (size_t)(end - d - 1) : strlen(d + 1);

		snprintf(host, hlen, "%.*s", (int)n, d + 1);
		if (end && end[1] == ':')
			*port = (uint16_t)atoi(end + 2);
		return;
	}
	if (colon && strchr(d, ':') == colon) {
		snprintf(host, hlen, "%.*s", (int)(colon - d), d);
		*port = (uint16_t)atoi(colon + 1);
		return;
	}
	snprintf(host, hlen, "%s", d);
}

/* One pass over server_destination; NULL when none answered. A bad
 * password or a refusal is logged by the channel and moves on too. */
static struct vs_chan_conn *connect_any(struct vs_uplink *u)
{
	const struct vs_conf_chan *ch = &u->conf->chan;
	const char *bind = ch->manager_ip[0] ? ch->manager_ip : NULL;
	struct vs_chan_conn *c;
	char host[256];
	uint16_t port;

	for (uint32_t i = 0; i < ch->n_dest && !atomic_load(&u->stop); i++) {
		split_dest(ch->dest[i], ch->dest_port, host, sizeof(host), &port);
		c = vs_chan__connect(u->ctx, host, port, bind,
				     VS_UPLINK_CONNECT_MS);
		if (c) {
			vs_info("uplink: connected to %s port %u (server %u of "
				"%u)%s%s", host, port, i + 1, ch->n_dest,
				bind ? " from " : "", bind ? bind : "");
			return c;
		}
		vs_warn("uplink: server %s port %u: %s%s", host, port,
			strerror(errno),
			i + 1 < ch->n_dest ? "; trying the next" : "");
	}
	return NULL;
}

struct session {
	struct vs_uplink *u;
	struct vs_chan_conn *c;
	struct vs_cdr_spool_rd rd;
	struct vs_buf rec;
	uint64_t sent_hi;	/* highest sequence sent on this conn */
	uint64_t last_rx_ms, last_tx_ms;
};

/* Queues spooled CDRs while the window and the send queue allow. */
static int send_more(struct session *ss)
{
	struct vs_buf *b;
	uint64_t seq;
	int r;

	while (ss->sent_hi - vs_cdr_spool__acked(ss->u->spool) <
	       VS_UPLINK_WINDOW) {
		r = vs_cdr_spool__next(ss->u->spool, &ss->rd, &ss->rec, &seq);
		if (r <= 0)
			return r;
		b = vs_chan_conn__scratch(ss->c);
		r = vs_chan_cdr__put(b, &(struct vs_chan_cdr){
			.id_sensor = ss->u->conf->id_sensor, .seq = seq,
			.body = ss->rec.p, .len = (uint32_t)ss->rec.len });
		if (!r)
			r = vs_chan_conn__send(ss->c, VS_CHAN_CDR, b->p, b->len);
		if (r == -ENOBUFS) { /* queue full: resend this one later */
			ss->rd.want = seq;
			vs_cdr_spool__rd_close(&ss->rd);
			return 0;
		}
		if (r)
			return r;
		ss->sent_hi = seq;
		ss->u->sent++;
		ss->last_tx_ms = mono_ms();
	}
	return 0;
}

static int on_frame(struct session *ss, const struct vs_chan_frame *f)
{
	struct vs_chan_ack a;
	struct vs_chan_ping pg;
	struct vs_chan_pcap_req pr;
	struct vs_buf *b;
	uint16_t code;
	char text[VS_CHAN_ERR_TEXT_MAX + 1];

	switch (f->type) {
	case VS_CHAN_CDR_ACK:
		if (vs_chan_ack__parse(f->data, f->len, &a) || !a.count)
			return -EPROTO;
		ss->u->acks++;
		return vs_cdr_spool__ack(ss->u->spool, a.first_seq + a.count - 1);
	case VS_CHAN_PING:
		if (vs_chan_ping__parse(f->data, f->len, &pg))
			return -EPROTO;
		b = vs_chan_conn__scratch(ss->c);
		return vs_chan_ping__put(b, &pg) ?:
			vs_chan_conn__send(ss->c, VS_CHAN_PONG, b->p, b->len);
	case VS_CHAN_PONG:
		return 0;
	case VS_CHAN_PCAP_REQUEST:
		if (vs_chan_pcap_req__parse(f->data, f->len, &pr))
			return -EPROTO;
		b = vs_chan_conn__scratch(ss->c);
		return vs_chan_pcap_data__put(b, &(struct vs_chan_pcap_data){
			       .req_id = pr.req_id,
			       .flags = VS_CHAN_PCAP_F_ERROR | VS_CHAN_PCAP_F_LAST,
			       .data = (const uint8_t *)"pcap fetch not implemented yet",
			       .len = 30 }) ?:
		       vs_chan_conn__send(ss->c, VS_CHAN_PCAP_DATA, b->p, b->len);
	case VS_CHAN_ERROR:
		if (!vs_chan_error__parse(f->data, f->len, &code, text,
					  sizeof(text)))
			vs_err("uplink: server says: %s (code %u)", text, code);
		return -ECONNABORTED;
	default:
		vs_warn("uplink: unexpected %s frame from the server",
			vs_chan_type__name(f->type));
		return -EPROTO;
	}
}

static int ping(struct session *ss)
{
	struct vs_buf *b = vs_chan_conn__scratch(ss->c);
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ss->last_tx_ms = mono_ms();
	return vs_chan_ping__put(b, &(struct vs_chan_ping){
		       .token = ss->last_tx_ms,
		       .clock_us = (uint64_t)ts.tv_sec * 1000000u +
				   (uint64_t)ts.tv_nsec / 1000 }) ?:
	       vs_chan_conn__send(ss->c, VS_CHAN_PING, b->p, b->len);
}

/* One pass of the session loop: 0 to go on, an error to reconnect. */
static int step(struct session *ss)
{
	struct pollfd p[2] = {
		{ .fd = vs_chan_conn__fd(ss->c) },
		{ .fd = ss->u->wake_fd, .events = POLLIN },
	};
	struct vs_chan_frame f;
	uint64_t v, t;
	int r;

	r = send_more(ss);
	if (!r && mono_ms() - ss->last_tx_ms >= VS_UPLINK_PING_MS)
		r = ping(ss);
	r = r ?: vs_chan_conn__flush(ss->c);
	if (r && r != -EAGAIN)
		return r;
	p[0].events = (short)(vs_chan_conn__events(ss->c) | POLLIN);
	if (poll(p, 2, 1000) > 0 && (p[1].revents & POLLIN) &&
	    read(ss->u->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return -errno;
	while (!(r = vs_chan_conn__recv(ss->c, &f))) {
		ss->last_rx_ms = mono_ms();
		r = on_frame(ss, &f);
		if (r)
			return r;
	}
	if (r != -EAGAIN)
		return r;
	t = mono_ms();
	if (t - ss->last_rx_ms >= VS_UPLINK_DEAD_MS) {
		vs_warn("uplink: no word from the server for %u s: reconnecting",
			VS_UPLINK_DEAD_MS / 1000);
		return -ETIMEDOUT;
	}
	return 0;
}

static void session(struct vs_uplink *u, struct vs_chan_conn *c)
{
	struct session ss = { .u = u, .c = c, .rd = { .fd = -1 } };
	int r = 0;

	vs_cdr_spool__rewind(u->spool, &ss.rd);
	ss.sent_hi = vs_cdr_spool__acked(u->spool);
	ss.last_rx_ms = ss.last_tx_ms = mono_ms();
	atomic_store(&u->connected, 1);
	while (!atomic_load(&u->stop) && !(r = step(&ss)))
		;
	atomic_store(&u->connected, 0);
	if (r && r != -ECONNABORTED)
		vs_warn("uplink: connection to the server lost: %s; CDRs wait "
			"in the spool", r == -ECONNRESET ? "closed by the server" :
			strerror(-r));
	vs_cdr_spool__rd_close(&ss.rd);
	vs_buf__free(&ss.rec);
}

void *vs_uplink__thread(void *arg)
{
	struct vs_uplink *u = arg;
	struct vs_chan_conn *c;
	int backoff = 500;

	while (!atomic_load(&u->stop)) {
		c = connect_any(u);
		if (!c) {
			nap(u, backoff);
			backoff = backoff * 2 > VS_UPLINK_BACKOFF_MAX_MS ?
					  VS_UPLINK_BACKOFF_MAX_MS : backoff * 2;
			continue;
		}
		u->connects++;
		backoff = 500;
		session(u, c);
		vs_chan_conn__free(c);
		if (!atomic_load(&u->stop))
			nap(u, 200);
	}
	return NULL;
}
