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
#include "role/pcap_serve.h"
#include "role/sensor_link.h"
#include "role/uplink_int.h"

struct session {
	struct vs_uplink *u;
	struct vs_chan_conn *c;
	struct vs_cdr_spool_rd rd;
	struct vs_buf rec;
	uint64_t sent_hi;	/* highest sequence sent on this conn */
	uint64_t last_rx_ms, last_tx_ms;
	struct vs_pcap_serve ps; /* PCAP_REQUESTs of this connection */
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
		ss->last_tx_ms = vs_link__mono_ms();
	}
	return 0;
}

static int on_frame(struct session *ss, const struct vs_chan_frame *f)
{
	struct vs_chan_ack a;
	uint16_t code;
	char text[VS_CHAN_ERR_TEXT_MAX + 1];

	switch (f->type) {
	case VS_CHAN_CDR_ACK:
		if (vs_chan_ack__parse(f->data, f->len, &a) || !a.count)
			return -EPROTO;
		ss->u->acks++;
		return vs_cdr_spool__ack(ss->u->spool, a.first_seq + a.count - 1);
	case VS_CHAN_PING:
		return vs_link__pong(ss->c, f);
	case VS_CHAN_PONG:
		return 0;
	case VS_CHAN_PCAP_REQUEST:
		return vs_pcap_serve__request(&ss->ps, ss->c, f->data, f->len);
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
	ss->last_tx_ms = vs_link__mono_ms();
	return vs_link__ping(ss->c);
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
	/* pcap slices after the CDRs, bounded by VS_PCAP_SERVE_QUEUE */
	r = r ?: vs_pcap_serve__pump(&ss->ps, ss->c);
	if (!r && vs_link__mono_ms() - ss->last_tx_ms >= VS_UPLINK_PING_MS)
		r = ping(ss);
	r = r ?: vs_chan_conn__flush(ss->c);
	if (r && r != -EAGAIN)
		return r;
	p[0].events = (short)(vs_chan_conn__events(ss->c) | POLLIN);
	/* a transfer with an empty queue goes on at once */
	t = vs_pcap_serve__busy(&ss->ps) && !vs_chan_conn__queued(ss->c) ?
		    0 : 1000;
	if (poll(p, 2, (int)t) > 0 && (p[1].revents & POLLIN) &&
	    read(ss->u->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return -errno;
	while (!(r = vs_chan_conn__recv(ss->c, &f))) {
		ss->last_rx_ms = vs_link__mono_ms();
		r = on_frame(ss, &f);
		if (r)
			return r;
	}
	if (r != -EAGAIN)
		return r;
	t = vs_link__mono_ms();
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
	uint64_t acked, last;
	int r = 0;

	vs_cdr_spool__rewind(u->spool, &ss.rd);
	ss.sent_hi = acked = vs_cdr_spool__acked(u->spool);
	last = vs_cdr_spool__last(u->spool);
	/* What a restart or a lost connection left unacknowledged goes
	 * first; the server drops any it had committed already. */
	if (last > acked)
		vs_info("uplink: %llu CDRs wait in the spool (sequences "
			"%llu..%llu): sending them first",
			(unsigned long long)(last - acked),
			(unsigned long long)acked + 1, (unsigned long long)last);
	ss.last_rx_ms = ss.last_tx_ms = vs_link__mono_ms();
	vs_pcap_serve__init(&ss.ps, u->conf->spooldir, u->conf->id_sensor);
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
	vs_pcap_serve__fini(&ss.ps);
}

void *vs_uplink__thread(void *arg)
{
	struct vs_uplink *u = arg;
	struct vs_chan_conn *c;
	int backoff = VS_LINK_BACKOFF_MIN_MS;

	while (!atomic_load(&u->stop)) {
		c = vs_link__connect(u->ctx, &u->conf->chan, &u->stop,
				     "uplink");
		if (!c) {
			vs_link__nap(u->wake_fd, &u->stop, backoff);
			backoff = vs_link__backoff(backoff);
			continue;
		}
		u->connects++;
		backoff = VS_LINK_BACKOFF_MIN_MS;
		session(u, c);
		vs_chan_conn__free(c);
		if (!atomic_load(&u->stop))
			vs_link__nap(u->wake_fd, &u->stop, 200);
	}
	return NULL;
}
