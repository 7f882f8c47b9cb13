// SPDX-License-Identifier: GPL-2.0-or-later
/* role/server: packet mirroring intake. PACKETS batches from mirroring
 * sensors are checked (batch sequence, time against this server's clock),
 * merged across sensors by time (role/reorder) and analysed by one
 * pipeline of our own, as if captured here, with deduplicate on: two probes
 * seeing the same packet count it once, and the SIP of one and the RTP of
 * another make one call. Its CDRs go to MariaDB through a second store, so
 * that the local-processing sensors' store keeps its exactly-once commits
 * to itself (docs/distributed.md, "Packet mirroring: central server"). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdr/store_mysql.h"
#include "core/log.h"
#include "daemon/pipeline.h"
#include "role/reorder.h"
#include "role/role.h"
#include "role/server_int.h"

#define MIRROR_HOLD_US 2000000		/* a stalled sensor holds the rest */
#define MIRROR_MAX_BYTES (64u << 20)	/* frames held for the merge */
#define MIRROR_MAX_FRAMES (1u << 20)
#define MIRROR_LOG_MS 60000		/* periodic counters */
#define MIRROR_FAR_LOG_MS 10000		/* "too far" at most this often */

struct srv_mirror {
	struct vs_server *srv;
	struct vs_conf conf;	/* the server's, with deduplicate = yes */
	struct vs_pipeline pipe;
	int pipe_ok;
	struct vs_reorder *ro;
	uint64_t clock_us;	/* the pipeline's time: output complete */
	uint64_t pushed;	/* frames ever taken in */
	uint64_t batches;	/* batches ever received */
	uint64_t logged_frames;
	uint64_t next_log_ms;
	uint64_t next_commit_ms;
	unsigned live;		/* mirroring connections now */
};

/* The reorder buffer's sink: into the pipeline, duplicates counted
 * against the sensor whose copy was dropped. */
static int mirror_out(void *ctx, const struct vs_frame *f)
{
	struct srv_mirror *m = ctx;
	struct srv_sensor *s = m->srv->sensors[f->id_sensor];
	uint64_t dups = m->pipe.st.duplicates;

	vs_pipeline__frame(&m->pipe, f);
	if (s)
		s->m.dups += m->pipe.st.duplicates - dups;
	return 0;
}

int vs_srv__mirror_init(struct vs_server *srv)
{
	struct vs_reorder_opts ro = {
		.max_bytes = MIRROR_MAX_BYTES, .max_frames = MIRROR_MAX_FRAMES,
		.hold_us = MIRROR_HOLD_US, .out = mirror_out,
	};
	struct vs_mysql_opts mo;
	struct vs_cdr_store *st;
	struct srv_mirror *m;
	int err;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	srv->mirror = m;
	m->srv = srv;
	m->conf = *srv->conf;
	m->conf.deduplicate = 1;
	err = vs_pipeline__init(&m->pipe, &m->conf);
	if (err)
		return err;
	m->pipe_ok = 1;
	vs_role__mysql_opts(&m->conf, &mo);
	st = vs_cdr_store__mysql(&mo); /* logs its cause */
	if (!st)
		return -errno;
	vs_pipeline__add_store(&m->pipe, st);
	ro.ctx = m;
	m->ro = vs_reorder__new(&ro);
	if (!m->ro)
		return -errno;
	m->next_log_ms = vs_srv__mono_ms() + MIRROR_LOG_MS;
	return 0;
}

void vs_srv__mirror_up(struct vs_server *srv, struct srv_sensor *s)
{
	struct srv_mirror *m = srv->mirror;

	s->mirror = 1;
	snprintf(s->mode, sizeof(s->mode), "mirror"); /* sensors row */
	if (vs_reorder__sensor_up(m->ro, s->id))
		vs_warn("server: sensor %u: no memory to track its watermark; "
			"its packets are merged by the hold only", s->id);
	m->live++;
	vs_info("server: sensor %u mirrors packets; merged by time with %u "
		"other mirroring sensor(s)", s->id, m->live - 1);
}

/* Everything due goes to the pipeline, then its clock moves. The floor:
 * a frame older than receive_packetbuffer_maximum_time_diff_s would be
 * refused now, so nothing can still come from before it. */
static void mirror_release(struct srv_mirror *m)
{
	uint64_t diff = (uint64_t)m->conf.pb.recv_max_diff_s * 1000000;
	uint64_t now = vs_srv__wall_us(), h;

	if (!m->pushed)
		return;
	h = vs_reorder__release(m->ro, now > diff ? now - diff : 0);
	/* with nothing held, time passes up to the floor: calls of a sensor
	 * that went away still time out */
	if (!vs_reorder__held(m->ro, NULL) && now > diff && h < now - diff)
		h = now - diff;
	if (h > m->clock_us) {
		m->clock_us = h;
		vs_pipeline__idle(&m->pipe, h);
	}
}

void vs_srv__mirror_down(struct vs_server *srv, struct srv_sensor *s)
{
	struct srv_mirror *m = srv->mirror;

	if (!m || !s->mirror)
		return;
	s->mirror = 0;
	vs_reorder__sensor_down(m->ro, s->id);
	m->live--;
	mirror_release(m);
}

/* At most every 10 s per sensor, with the amount: a sensor whose clock is
 * off (no NTP) or a replay of old traffic. */
static void too_far(struct srv_mirror *m, struct srv_sensor *s,
		    int64_t off_us)
{
	uint64_t now = vs_srv__mono_ms();

	s->m.too_far++;
	if (now < s->m.far_log_ms)
		return;
	s->m.far_log_ms = now + MIRROR_FAR_LOG_MS;
	vs_warn("server: sensor %u: packets dropped, their time is %+.1f s "
		"from this server's clock (receive_packetbuffer_maximum_time_"
		"diff_s = %u); %" PRIu64 " so far: check the sensor's clock "
		"(NTP)", s->id, (double)off_us / 1e6, m->conf.pb.recv_max_diff_s,
		s->m.too_far);
}

/* A batch seen before: the sensor re-sends what was not acknowledged
 * after a reconnect. A sensor restarted numbers from its clock, above. */
static int batch_seen(struct srv_sensor *s, const struct vs_chan_pkt_iter *it)
{
	if (it->seq > s->m.seq)
		return 0;
	if (it->watermark_us <= s->m.wm)
		return 1;
	/* lower sequence, newer watermark: a sensor numbering anew */
	vs_info("server: sensor %u: batch sequence went back from %" PRIu64
		" to %" PRIu64 " with newer packets: taken as a restart",
		s->id, s->m.seq, it->seq);
	return 0;
}

static int ack(struct srv_conn *sc, uint16_t id, uint64_t seq)
{
	struct vs_buf *b = vs_chan_conn__scratch(sc->c);
	int r;

	r = vs_chan_ack__put(b, &(struct vs_chan_ack){
		.id_sensor = id, .first_seq = seq, .count = 1 });
	if (!r)
		r = vs_chan_conn__send(sc->c, VS_CHAN_PACKETS_ACK, b->p, b->len);
	/* queue full: the sensor re-sends it later and we drop the copy */
	return r == -ENOBUFS ? 0 : r;
}

/* The frames of one batch into the merge. -EPROTO on a bad record. */
static int take_frames(struct srv_mirror *m, struct srv_sensor *s,
		       struct vs_chan_pkt_iter *it)
{
	uint64_t diff = (uint64_t)m->conf.pb.recv_max_diff_s * 1000000;
	uint64_t now = vs_srv__wall_us();
	struct vs_frame f;
	uint16_t ifindex;
	int r;

	while ((r = vs_chan_packets__next(it, &f, &ifindex)) == 1) {
		int64_t off = (int64_t)(f.ts_us - now);

		f.id_sensor = s->id; /* the connection's, whatever it says */
		/* The sensor's interface number (its own numbering, 0 =
		 * unknown): kept with the frame, as live capture does. */
		f.ifindex = ifindex;
		if ((uint64_t)(off < 0 ? -off : off) > diff) {
			too_far(m, s, off);
			continue;
		}
		r = vs_reorder__push(m->ro, &f);
		if (r < 0) {
			s->m.nomem++;
			continue;
		}
		s->m.frames++;
		s->m.late += (uint64_t)r;
		m->pushed++;
	}
	if (r < 0)
		vs_warn("server: sensor %u: batch %" PRIu64 ": malformed "
			"packet record after %" PRIu64 " frames: closing",
			s->id, it->seq, s->m.frames);
	return r < 0 ? -EPROTO : 0;
}

int vs_srv__packets(struct vs_server *srv, struct srv_conn *sc,
		    const uint8_t *p, uint32_t n)
{
	struct srv_mirror *m = srv->mirror;
	struct srv_sensor *s = sc->s;
	struct vs_chan_pkt_iter it;
	uint64_t diff = (uint64_t)m->conf.pb.recv_max_diff_s * 1000000;
	uint64_t wm;
	int r;

	if (vs_chan_packets__iter(&it, p, n))
		return -EPROTO;
	if (sc->relay) {
		/* a relay's batches name their sensor; one live on another
		 * path, or the database away, loses this batch only: a later
		 * acknowledgement covers it (the sensor's acks are
		 * cumulative), and the merge counts the gap */
		r = vs_srv__relayed(srv, sc, it.id_sensor, &s);
		if (r == 1 || r == -EAGAIN)
			return 0;
		if (r)
			return r;
		if (!s->mirror)
			vs_srv__mirror_up(srv, s);
	} else if (!s->mirror) {
		vs_warn("server: sensor %u: PACKETS from a sensor in local "
			"processing mode: closing", s->id);
		return -EPROTO;
	}
	s->bytes += n;
	s->m.bytes += n;
	m->batches++;
	if (batch_seen(s, &it)) {
		s->m.dup_batches++;
		return ack(sc, s->id, it.seq);
	}
	if (s->m.seq && it.seq > s->m.seq + 1)
		s->m.gaps += it.seq - s->m.seq - 1;
	s->m.seq = it.seq;
	s->m.batches++;
	r = take_frames(m, s, &it);
	if (r)
		return r;
	/* a watermark far ahead (a broken clock) would release everything */
	wm = it.watermark_us;
	if (wm > vs_srv__wall_us() + diff)
		wm = vs_srv__wall_us() + diff;
	if (wm) {
		s->m.wm = it.watermark_us;
		vs_reorder__watermark(m->ro, s->id, wm);
	}
	mirror_release(m);
	return ack(sc, s->id, it.seq);
}

static void log_sensor(const struct srv_sensor *s)
{
	vs_info("server: mirroring sensor %u: %" PRIu64 " batches (%" PRIu64
		" re-sent, dropped), %" PRIu64 " frames, %" PRIu64 " bytes, %"
		PRIu64 " duplicates, %" PRIu64 " too far in time (dropped), %"
		PRIu64 " late for the merge, %" PRIu64 " batches missing",
		s->id, s->m.batches, s->m.dup_batches, s->m.frames, s->m.bytes,
		s->m.dups, s->m.too_far, s->m.late, s->m.gaps);
}

static void log_totals(struct srv_mirror *m, const char *when)
{
	struct vs_reorder_stats st;
	size_t bytes, held = vs_reorder__held(m->ro, &bytes);

	vs_reorder__stats(m->ro, &st);
	vs_info("server: mirroring%s: %u sensors connected, %" PRIu64
		" frames merged (%zu held, %zu bytes; peak %" PRIu64
		" bytes), %" PRIu64 " released early (buffer full), %" PRIu64
		" by the %u s hold, %" PRIu64 " late; %" PRIu64 " duplicates "
		"dropped; %" PRIu64 " CDRs (%" PRIu64 " store errors)",
		when, m->live, st.frames_in, held, bytes, st.peak_bytes,
		st.overflow, st.held_by_hold, MIRROR_HOLD_US / 1000000,
		st.late, m->pipe.st.duplicates, m->pipe.st.cdrs,
		m->pipe.st.cdr_errors);
}

/* Time passes without batches: the floor moves, calls time out; and the
 * periodic counters. */
void vs_srv__mirror_tick(struct vs_server *srv)
{
	struct srv_mirror *m = srv->mirror;
	uint64_t now = vs_srv__mono_ms();

	if (!m)
		return;
	mirror_release(m);
	/* CDRs become visible within a second of wall time, even when
	 * packet time stands still (no sensor sending) */
	if (now >= m->next_commit_ms) {
		vs_pipeline__commit(&m->pipe);
		m->next_commit_ms = now + 1000;
	}
	if (now < m->next_log_ms)
		return;
	m->next_log_ms = now + MIRROR_LOG_MS;
	if (m->pushed == m->logged_frames)
		return;
	m->logged_frames = m->pushed;
	log_totals(m, "");
}

/* Shutdown: what is held goes through, open calls end, CDRs committed. */
void vs_srv__mirror_finish(struct vs_server *srv)
{
	struct srv_mirror *m = srv->mirror;

	if (!m || !m->ro)
		return;
	vs_reorder__drain(m->ro);
	vs_pipeline__finish(&m->pipe);
	if (!m->batches)
		return;
	for (uint32_t i = 1; i < 65536; i++)
		if (srv->sensors[i] && (srv->sensors[i]->m.batches ||
					srv->sensors[i]->m.dup_batches))
			log_sensor(srv->sensors[i]);
	log_totals(m, " at exit");
}

void vs_srv__mirror_free(struct vs_server *srv)
{
	struct srv_mirror *m = srv->mirror;

	if (!m)
		return;
	if (m->pipe_ok)
		vs_pipeline__free(&m->pipe); /* closes the store */
	vs_reorder__free(m->ro);
	free(m);
	srv->mirror = NULL;
}
