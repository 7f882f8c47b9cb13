// SPDX-License-Identifier: GPL-2.0-or-later
/* role/server: CDR intake. A CDR frame is parsed, de-duplicated against the
 * sensor's marks, handed to the sensor's writer (server_writer.c), and
 * acknowledged only once the writer's commit covered it and its mark is
 * persisted (docs/distributed.md, "Exactly once"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cdr/cdr_bin.h"
#include "core/clock.h"
#include "core/log.h"
#include "role/server_int.h"

uint64_t vs_srv__mono_ms(void)
{
	return vs_mono_ms();
}

uint64_t vs_srv__wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

struct srv_sensor *vs_srv__sensor(struct vs_server *srv, uint16_t id)
{
	struct srv_sensor *s = srv->sensors[id];
	uint64_t seq;

	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return NULL;
		s->id = id;
		srv->sensors[id] = s;
	}
	if (!s->loaded) {
		if (vs_hwm__load(srv->hwm, id, &seq))
			return NULL;
		s->loaded = 1;
		s->hwm = s->accepted = seq;
		/* A previous server may have committed CDRs above its mark
		 * and died before writing it: look those up. */
		s->checking = 1;
	}
	return s;
}

void vs_srv__ack_to(struct srv_conn *sc, const struct srv_sensor *s,
		    uint64_t *acked)
{
	struct vs_buf *b;
	uint64_t count;

	if (s->hwm <= *acked)
		return;
	count = s->hwm - *acked;
	if (count > 0x7fffffffu)
		count = 0x7fffffffu;
	b = vs_chan_conn__scratch(sc->c);
	if (!vs_chan_ack__put(b, &(struct vs_chan_ack){
		    .id_sensor = s->id, .first_seq = s->hwm - count + 1,
		    .count = (uint32_t)count }) &&
	    !vs_chan_conn__send(sc->c, VS_CHAN_CDR_ACK, b->p, b->len))
		*acked = s->hwm;
}

void vs_srv__ack(struct vs_server *srv, struct srv_conn *sc)
{
	(void)srv;
	/* a mirroring sensor has no CDRs: not even the mark of a local-
	 * processing run under the same id_sensor */
	if (sc->ready && !sc->dead && sc->s && !sc->s->mirror)
		vs_srv__ack_to(sc, sc->s, &sc->acked);
}

static int hold(struct vs_server *srv, struct srv_conn *sc, const uint8_t *p,
		uint32_t n, uint64_t seq)
{
	if (p != sc->held.p) {
		sc->held.len = 0;
		if (vs_buf__put(&sc->held, p, n, 0))
			return -ENOMEM;
	}
	sc->held_seq = seq;
	srv->blocked = 1;
	srv->retry_at_ms = vs_srv__mono_ms() + 100;
	return -EAGAIN;
}

/* 1: known already (skip, but count it accepted), 0: new, -EAGAIN. */
static int seen_before(struct vs_server *srv, struct srv_sensor *s,
		       const struct vs_cdr *c)
{
	int r;

	if (!s->checking)
		return 0;
	r = vs_hwm__cdr_exists(srv->hwm, s->id, c->call_id, c->calldate_us);
	s->window_found += r == 1;
	/* One sensor's committed CDRs are a prefix of its sequence: past
	 * the first one missing, nothing later can be there. */
	if (r == 0) {
		s->checking = 0;
		if (s->window_found)
			vs_info("server: sensor %u: %llu CDRs above its mark were "
				"committed before a crash: not stored again",
				s->id, (unsigned long long)s->window_found);
	}
	return r;
}

int vs_srv__cdr(struct vs_server *srv, struct srv_conn *sc,
		const uint8_t *p, uint32_t n)
{
	struct srv_sensor *s = sc->s;
	struct vs_chan_cdr f;
	struct vs_cdr c;
	int r, bad = 0;

	if (vs_chan_cdr__parse(p, n, &f))
		return -EPROTO;
	if (sc->relay) { /* the frame names its sensor (relay_srv.c) */
		r = vs_srv__relayed(srv, sc, f.id_sensor, &s);
		if (r == -EAGAIN)
			return hold(srv, sc, p, n, f.seq);
		if (r)
			return r > 0 ? 0 : r;
	} else if (f.id_sensor != s->id) {
		return -EPROTO;
	}
	s->bytes += n;
	if (f.seq <= s->hwm) { /* committed before: acknowledge again */
		s->dups++;
		srv->dups++;
		if (sc->relay)
			vs_srv__relay_ack(srv, s);
		else
			vs_srv__ack(srv, sc);
		return 0;
	}
	if (f.seq <= s->accepted) { /* waits in the batch: ack comes */
		s->dups++;
		srv->dups++;
		return 0;
	}
	r = vs_cdr__from_body(f.body, f.len, &c, srv->streams,
			      VS_SRV_MAX_STREAMS);
	if (r) {
		vs_err("server: sensor %u: CDR %llu unreadable (%s): skipped",
		       s->id, (unsigned long long)f.seq, strerror(-r));
		bad = 1;
	} else {
		c.id_sensor = s->id;
		r = seen_before(srv, s, &c);
		if (r < 0)
			return hold(srv, sc, p, n, f.seq);
	}
	/* Also a CDR not stored goes through the writer, as a sequence
	 * only: its mark must not pass CDRs still waiting before it. */
	if (vs_srv_writer__push(vs_srv__writer(srv, s->id),
				bad || r == 1 ? NULL : &c, s->id, f.seq))
		return hold(srv, sc, p, n, f.seq);
	if (bad) {
		srv->bad++;
	} else if (r == 1) {
		s->dups++;
		srv->dups++;
	} else {
		s->cdrs++;
		srv->cdrs++;
	}
	s->accepted = f.seq;
	return 0;
}

/* After commits: persist every raised mark in one statement. */
static int save_marks(struct vs_server *srv)
{
	uint16_t *ids = srv->mark_ids;
	uint64_t *seqs = srv->mark_seqs;
	size_t n = 0;

	for (uint32_t i = 1; i < 65536; i++) {
		struct srv_sensor *s = srv->sensors[i];

		if (s && s->committed > s->hwm) {
			ids[n] = (uint16_t)i;
			seqs[n++] = s->committed;
		}
	}
	if (vs_hwm__save(srv->hwm, ids, seqs, n))
		return -EAGAIN;
	for (size_t i = 0; i < n; i++) {
		struct srv_sensor *s = srv->sensors[ids[i]];

		vs_dbg("server: sensor %u: committed %llu..%llu", s->id,
		       (unsigned long long)s->hwm + 1,
		       (unsigned long long)s->committed);
		s->hwm = s->committed;
		if (s->conn)
			vs_srv__ack(srv, s->conn);
		vs_srv__relay_ack(srv, s);
	}
	return 0;
}

static void raise_committed(struct vs_server *srv,
			    const struct vs_srv_mark *m)
{
	struct srv_sensor *s = srv->sensors[m->id_sensor];

	if (s && m->seq > s->committed)
		s->committed = m->seq;
}

/* The writers' commits since the last call, into the sensors. 1 when
 * there were any. */
static int collect(struct vs_server *srv)
{
	struct vs_srv_mark *m = srv->markbuf;
	int any = 0;
	size_t n;

	for (unsigned w = 0; w < srv->nwriters; w++) {
		do {
			n = vs_srv_writer__marks(srv->writers[w], m,
						 VS_SRV_MARKBUF);
			for (size_t i = 0; i < n; i++)
				raise_committed(srv, &m[i]);
			any |= n > 0;
		} while (n == VS_SRV_MARKBUF);
	}
	return any;
}

void vs_srv__writers_total(struct vs_server *srv,
			   struct vs_srv_writer_stats *sum)
{
	struct vs_srv_writer_stats st;

	memset(sum, 0, sizeof(*sum));
	for (unsigned w = 0; w < srv->nwriters; w++) {
		vs_srv_writer__stats(srv->writers[w], &st);
		sum->db.committed += st.db.committed;
		sum->db.batches += st.db.batches;
		sum->db.resent += st.db.resent;
		sum->db.reconnects += st.db.reconnects;
		sum->skipped += st.skipped;
		sum->queued += st.queued;
		sum->down |= st.down;
	}
}

/* "database unavailable" once when a writer's store starts refusing while
 * the server is held up by it, "back" when that is over. */
static void note_db(struct vs_server *srv)
{
	struct vs_srv_writer_stats st;
	int down;

	vs_srv__writers_total(srv, &st);
	down = st.down;
	srv->db_down = down;
	if (down && srv->blocked && !srv->blocked_logged) {
		vs_warn("server: database unavailable: not reading from "
			"sensors until it is back (CDRs wait in their spools)");
		srv->blocked_logged = 1;
	}
}

int vs_srv__commit(struct vs_server *srv)
{
	if (collect(srv)) {
		srv->marks_due = 1;
		if (srv->crash_after_commit && !--srv->crash_after_commit) {
			/* test hook: the crash window between commit and
			 * mark */
			vs_err("server: VOXSENSE_TEST_CRASH_AFTER_COMMIT: "
			       "exiting between a commit and its marks");
			_exit(137);
		}
	}
	note_db(srv);
	if (!srv->marks_due)
		return 0;
	if (save_marks(srv))
		return -EAGAIN; /* the loop calls again */
	srv->marks_due = 0;
	srv->commits++;
	return 0;
}

void vs_srv__retry(struct vs_server *srv)
{
	int still = 0;

	if (!srv->blocked || vs_srv__mono_ms() < srv->retry_at_ms)
		return;
	for (struct srv_conn *sc = srv->conns; sc; sc = sc->next) {
		if (!sc->held.len || sc->dead)
			continue;
		/* vs_srv__cdr holds it again (same buffer) when still full */
		if (vs_srv__cdr(srv, sc, sc->held.p, (uint32_t)sc->held.len) ==
		    -EAGAIN) {
			still = 1;
			continue;
		}
		sc->held.len = 0;
		srv->resume = 1; /* read what waits behind it */
	}
	if (still) {
		note_db(srv);
		return;
	}
	if (srv->blocked_logged)
		vs_info("server: database back: reading from sensors again");
	srv->blocked = srv->blocked_logged = 0;
}

void vs_srv__upsert(struct vs_server *srv, struct srv_sensor *s)
{
	struct vs_sensor_info si = {
		.id_sensor = s->id, .name = s->name, .address = s->addr,
		.version = s->version, .mode = s->mode[0] ? s->mode : "local",
		.connected_since_us = s->connected_since_us,
		.last_seen_us = s->last_seen_us, .cdrs = s->cdrs,
		.bytes = s->bytes, .packets = s->m.frames,
	};

	vs_mysql_sensors__upsert(srv->store, &si);
}
