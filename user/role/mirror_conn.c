// SPDX-License-Identifier: GPL-2.0-or-later
/* role/mirror: the sender thread. Connects like the uplink (sensor_link.c:
 * server_destination in order, back-off), announces mode "mirror", sends
 * the buffered batches in order with at most VS_MIRROR_WINDOW of them
 * unacknowledged, and frees them on PACKETS_ACK. After a reconnect it
 * starts again at the first unacknowledged batch; the server drops the
 * sequence numbers it already took. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "role/mirror_int.h"
#include "role/sensor_link.h"

struct session {
	struct vs_mirror *m;
	struct vs_chan_conn *c;
	struct vs_buf pending;	/* read from the buffer, not queued yet */
	uint64_t pending_seq;
	uint64_t sent_hi;	/* highest sequence queued on this conn */
	uint64_t last_rx_ms, last_tx_ms;
};

static int send_one(struct session *ss)
{
	struct vs_mirror *m = ss->m;
	int r = vs_chan_conn__send(ss->c, VS_CHAN_PACKETS, ss->pending.p,
				   ss->pending.len);

	if (r)
		return r; /* -ENOBUFS: the queue is full, keep it pending */
	atomic_fetch_add(&m->sent, 1);
	if (ss->pending_seq <= m->hi_sent)
		atomic_fetch_add(&m->resent, 1);
	else
		m->hi_sent = ss->pending_seq;
	ss->sent_hi = ss->pending_seq;
	ss->pending.len = 0;
	ss->last_tx_ms = vs_link__mono_ms();
	return 0;
}

/* Queues batches while the window and the send queue allow. */
static int send_more(struct session *ss)
{
	int r;

	for (;;) {
		if (!ss->pending.len) {
			if (ss->sent_hi >= vs_pktbuf__acked(ss->m->pb) +
						   VS_MIRROR_WINDOW)
				return 0;
			r = vs_pktbuf__next(ss->m->pb, &ss->pending,
					    &ss->pending_seq);
			if (r == 0)
				return 0;
			if (r < 0) /* a disk read failed: skipped, logged */
				continue;
		}
		r = send_one(ss);
		if (r == -ENOBUFS)
			return 0;
		if (r)
			return r;
	}
}

static int on_ack(struct session *ss, const struct vs_chan_frame *f)
{
	struct vs_chan_ack a;

	if (vs_chan_ack__parse(f->data, f->len, &a) || !a.count) {
		vs_warn("mirror: malformed PACKETS_ACK from the server");
		return -EPROTO;
	}
	if (a.id_sensor != ss->m->conf->id_sensor) {
		vs_warn("mirror: PACKETS_ACK for id_sensor %u, we are %u: "
			"ignored", a.id_sensor, ss->m->conf->id_sensor);
		return 0;
	}
	atomic_fetch_add(&ss->m->acks, 1);
	vs_pktbuf__ack(ss->m->pb, a.first_seq + a.count - 1);
	return 0;
}

static int on_frame(struct session *ss, const struct vs_chan_frame *f)
{
	static const char no_pcap[] = "a mirroring sensor keeps no pcaps: "
				      "the server has the packets";
	struct vs_chan_pcap_req pr;
	struct vs_buf *b;
	uint16_t code;
	char text[VS_CHAN_ERR_TEXT_MAX + 1];

	switch (f->type) {
	case VS_CHAN_PACKETS_ACK:
		return on_ack(ss, f);
	case VS_CHAN_PING:
		return vs_link__pong(ss->c, f);
	case VS_CHAN_PONG:
	case VS_CHAN_CDR_ACK: /* our id's CDR mark, from a local-processing
			       * run: nothing of ours to free */
		return 0;
	case VS_CHAN_PCAP_REQUEST:
		if (vs_chan_pcap_req__parse(f->data, f->len, &pr))
			return -EPROTO;
		b = vs_chan_conn__scratch(ss->c);
		return vs_chan_pcap_data__put(b, &(struct vs_chan_pcap_data){
			       .req_id = pr.req_id,
			       .flags = VS_CHAN_PCAP_F_ERROR | VS_CHAN_PCAP_F_LAST,
			       .data = (const uint8_t *)no_pcap,
			       .len = sizeof(no_pcap) - 1 }) ?:
		       vs_chan_conn__send(ss->c, VS_CHAN_PCAP_DATA, b->p, b->len);
	case VS_CHAN_ERROR:
		if (!vs_chan_error__parse(f->data, f->len, &code, text,
					  sizeof(text)))
			vs_err("mirror: server says: %s (code %u)", text, code);
		return -ECONNABORTED;
	default:
		vs_warn("mirror: unexpected %s frame from the server",
			vs_chan_type__name(f->type));
		return -EPROTO;
	}
}

static int recv_all(struct session *ss)
{
	struct vs_chan_frame f;
	int r;

	while (!(r = vs_chan_conn__recv(ss->c, &f))) {
		ss->last_rx_ms = vs_link__mono_ms();
		r = on_frame(ss, &f);
		if (r)
			return r;
	}
	return r == -EAGAIN ? 0 : r;
}

/* One pass of the session loop: 0 to go on, an error to reconnect. */
static int step(struct session *ss)
{
	struct pollfd p[2] = {
		{ .fd = vs_chan_conn__fd(ss->c) },
		{ .fd = ss->m->wake_fd, .events = POLLIN },
	};
	uint64_t v;
	int r;

	r = send_more(ss);
	if (!r && vs_link__mono_ms() - ss->last_tx_ms >= VS_LINK_PING_MS) {
		ss->last_tx_ms = vs_link__mono_ms();
		r = vs_link__ping(ss->c);
	}
	r = r ?: vs_chan_conn__flush(ss->c);
	if (r && r != -EAGAIN)
		return r;
	p[0].events = (short)(vs_chan_conn__events(ss->c) | POLLIN);
	if (poll(p, 2, 1000) > 0 && (p[1].revents & POLLIN) &&
	    read(ss->m->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return -errno;
	r = recv_all(ss);
	if (r)
		return r;
	if (vs_link__mono_ms() - ss->last_rx_ms >= VS_LINK_DEAD_MS) {
		vs_warn("mirror: no word from the server for %u s: "
			"reconnecting", VS_LINK_DEAD_MS / 1000);
		return -ETIMEDOUT;
	}
	return 0;
}

static void session(struct vs_mirror *m, struct vs_chan_conn *c)
{
	struct session ss = { .m = m, .c = c };
	int r = 0;

	vs_pktbuf__rewind(m->pb);
	ss.sent_hi = vs_pktbuf__acked(m->pb);
	ss.last_rx_ms = ss.last_tx_ms = vs_link__mono_ms();
	while (!atomic_load(&m->stop) && !(r = step(&ss)))
		;
	/* stopping: what is queued goes out if the socket takes it */
	if (!r)
		vs_chan_conn__flush_wait(c, 1000);
	if (r && r != -ECONNABORTED)
		vs_warn("mirror: connection to the server lost: %s; packets "
			"wait in the packet buffer", r == -ECONNRESET ?
			"closed by the server" : strerror(-r));
	atomic_fetch_add(&m->bytes_wire, vs_chan_conn__tx_stats(c)->bytes_wire);
	vs_buf__free(&ss.pending);
}

void *vs_mirror__thread(void *arg)
{
	struct vs_mirror *m = arg;
	struct vs_chan_conn *c;
	int backoff = VS_LINK_BACKOFF_MIN_MS;

	while (!atomic_load(&m->stop)) {
		c = vs_link__connect(m->ctx, &m->conf->chan, &m->stop,
				     "mirror");
		if (!c) {
			vs_link__nap(m->wake_fd, &m->stop, backoff);
			backoff = vs_link__backoff(backoff);
			continue;
		}
		atomic_fetch_add(&m->connects, 1);
		backoff = VS_LINK_BACKOFF_MIN_MS;
		session(m, c);
		vs_chan_conn__free(c);
		if (!atomic_load(&m->stop))
			vs_link__nap(m->wake_fd, &m->stop, 200);
	}
	return NULL;
}
