/* SPDX-License-Identifier: GPL-2.0-or-later */
/* role/server internals: the epoll loop and connections (server.c), CDR
 * intake, marks and acknowledgement (server_cdr.c). One thread, and the
 * CDR writers' threads behind their queues (server_writer.h). */
#ifndef VS_SERVER_INT_H
#define VS_SERVER_INT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "cdr/store_mysql.h"
#include "channel/channel.h"
#include "conf/conf.h"
#include "role/hwm.h"
#include "role/server_writer.h"

#define VS_SRV_MAX_STREAMS 256     /* per CDR; more is refused */
#define VS_SRV_HEARTBEAT_MS 10000  /* sensors table refresh, pings */
#define VS_SRV_DEAD_MS 35000       /* silent this long: connection dead */
/* A writer commits at least every this many CDRs (and 20 ms after the
 * oldest once its queue ran dry). Each commit drains the store's pipeline
 * and waits for mariadbd; at 1000 that cost a quarter of the time under
 * load (docs/bench.md). */
#define VS_SRV_FLUSH_CDRS 4000
#define VS_SRV_MAX_WRITERS 16	/* mysqlstore_max_threads_cdr at most */
#define VS_SRV_MARKBUF 1024	/* marks collected from a writer at a time */
#define VS_SRV_MAX_CONNS 1024      /* sensors and handshakes at once */

/* Packet mirroring intake of one sensor (server_mirror.c). */
struct srv_mirror_sensor {
	uint64_t batches, frames, bytes;
	uint64_t dup_batches;	/* sequence already taken: re-sent */
	uint64_t gaps;		/* batch sequences never received */
	uint64_t dups;		/* its datagrams the dedup dropped */
	uint64_t too_far;	/* beyond recv_max_diff_s: dropped */
	uint64_t late;		/* behind what the merge had released */
	uint64_t nomem;		/* no memory for the merge: dropped */
	uint64_t seq, wm;	/* last batch taken and its watermark */
	uint64_t far_log_ms;	/* next "too far" log allowed */
};

/* What the server knows of one id_sensor, connected or not. */
struct srv_sensor {
	uint16_t id;
	int loaded;		/* hwm read from the database */
	int checking;		/* until its first commit here: look each
				 * CDR up before inserting (crash window) */
	uint64_t hwm;		/* committed and persisted */
	uint64_t committed;	/* committed (its writer says), mark not
				 * persisted yet when above hwm */
	uint64_t accepted;	/* highest handed to its writer */
	uint64_t cdrs, dups, bytes;
	uint64_t window_found;	/* found by the crash-window look-ups */
	uint64_t connected_since_us, last_seen_us;
	struct srv_conn *conn;	/* its live connection, if any */
	char name[65], version[33], addr[64];
	int mirror;		/* its connection sends PACKETS */
	struct srv_mirror_sensor m;
	char mode[8];		/* sensors row: "" (local) or "relay" */
	char compress[8];	/* what its connection sends with */
	/* Behind a relay (relay_srv.c): the relay's connection, the highest
	 * ack sent on it, its last frame (mono ms), refusals (id clash). */
	struct srv_conn *relay;
	uint64_t relay_acked, relay_rx_ms;
	uint64_t relay_refused, relay_refused_ms;
};

struct srv_conn {
	struct vs_chan_conn *c;
	struct srv_conn *next;
	struct srv_sensor *s;	/* once the handshake is done */
	int ready, dead;
	int relay;		/* peer is a relay: CDRs of many id_sensors */
	unsigned armed;		/* epoll events registered */
	uint64_t last_rx_ms, last_ping_ms;
	uint64_t acked;		/* highest ack sent on this conn */
	struct vs_buf held;	/* a CDR frame its writer refused (-EAGAIN):
				 * not read further until it is taken */
	uint64_t held_seq;
};

struct vs_server {
	const struct vs_conf *conf;
	struct vs_chan_ctx *ctx;
	struct vs_cdr_store *store;	/* schema, sensors table */
	struct vs_hwm *hwm;
	struct vs_srv_writer *writers[VS_SRV_MAX_WRITERS];
	unsigned nwriters;
	int wfd;		/* eventfd the writers wake us through */
	struct vs_srv_mark *markbuf;	/* collect's scratch */
	int marks_due;		/* marks collected, not persisted yet */
	int db_down;		/* a writer's store refuses (logged) */
	int lfd, ep;
	struct srv_conn *conns;
	unsigned nconns, full_logged;
	struct srv_sensor **sensors; /* 65536 slots, by id_sensor */
	int blocked;		/* a connection holds a CDR its writer's full
				 * queue refused (the database is away or
				 * slow): that connection is not read */
	int blocked_logged;
	int resume;		/* unblocked: drain every conn once */
	uint64_t retry_at_ms;
	uint64_t next_beat_ms;
	struct vs_cdr_leg *streams;
	uint16_t *mark_ids;	/* 65536: save_marks' scratch */
	uint64_t *mark_seqs;
	uint64_t cdrs, dups, commits;	/* commits: rounds of marks saved */
	unsigned crash_after_commit; /* test hook, 0 = off */
	uint64_t skipped;	/* cdr_check_exists_callid: Call-ID known */
	uint64_t bad;		/* unreadable CDR bodies */
	struct srv_mirror *mirror; /* packet mirroring (server_mirror.c) */
	struct vs_srv_ctl *ctl;	/* control socket (server_ctl.c), or NULL */
};

uint64_t vs_srv__mono_ms(void);
uint64_t vs_srv__wall_us(void);
/* A CDR frame from sc: 0, or -EAGAIN when its writer's queue is full
 * (held, server blocked), or a protocol error (close the conn). */
int vs_srv__cdr(struct vs_server *srv, struct srv_conn *sc,
		const uint8_t *p, uint32_t n);
/* Collects the writers' commits, persists the marks, acknowledges; notes
 * the database going away or coming back. 0 or -EAGAIN (marks not saved:
 * tried again later). */
int vs_srv__commit(struct vs_server *srv);
/* Offers held frames to the writers again; unblocks when all are taken. */
void vs_srv__retry(struct vs_server *srv);
/* The writers' counters summed (down: any of them). */
void vs_srv__writers_total(struct vs_server *srv,
			   struct vs_srv_writer_stats *sum);
/* The writer of sensor id's CDRs. */
static inline struct vs_srv_writer *vs_srv__writer(struct vs_server *srv,
						   uint16_t id)
{
	return srv->writers[id % srv->nwriters];
}
/* The sensor's state, loaded from the database on first use; NULL when
 * the database cannot say (refuse the connection for now). */
struct srv_sensor *vs_srv__sensor(struct vs_server *srv, uint16_t id);
void vs_srv__ack(struct vs_server *srv, struct srv_conn *sc);
/* CDR_ACK on sc of s's committed sequences above *acked, which moves to
 * s->hwm once the frame is queued. */
void vs_srv__ack_to(struct srv_conn *sc, const struct srv_sensor *s,
		    uint64_t *acked);
void vs_srv__upsert(struct vs_server *srv, struct srv_sensor *s);
/* server_mirror.c: packet mirroring. init: 0 or -errno (logged). */
int vs_srv__mirror_init(struct vs_server *srv);
void vs_srv__mirror_up(struct vs_server *srv, struct srv_sensor *s);
void vs_srv__mirror_down(struct vs_server *srv, struct srv_sensor *s);
/* A PACKETS frame from sc: 0 (taken and acknowledged) or a protocol
 * error (close the conn). */
int vs_srv__packets(struct vs_server *srv, struct srv_conn *sc,
		    const uint8_t *p, uint32_t n);
void vs_srv__mirror_tick(struct vs_server *srv);
void vs_srv__mirror_finish(struct vs_server *srv);
void vs_srv__mirror_free(struct vs_server *srv);
/* server.c */
int vs_srv__on_accept(void *arg, const struct vs_chan_peer *peer, char *why,
		      size_t why_size);
void vs_srv__loop(struct vs_server *srv, volatile sig_atomic_t *stop);
void vs_srv__close_all(struct vs_server *srv);
/* server_ctl.c: <spooldir>/voxsense.sock (status, pcap fetch). open: 0
 * (a socket that cannot be made is only warned about) or -errno; its
 * epoll set sits in srv->ep with data.ptr == srv->ctl: call event then. */
int vs_srv_ctl__open(struct vs_server *srv);
void vs_srv_ctl__close(struct vs_server *srv);
void vs_srv_ctl__event(struct vs_server *srv);
void vs_srv_ctl__tick(struct vs_server *srv);
/* A PCAP_DATA frame from sc: 0 or -EPROTO. */
int vs_srv_ctl__pcap_data(struct vs_server *srv, struct srv_conn *sc,
			  const uint8_t *p, uint32_t n);
/* sc is being freed: its fetches fail. */
void vs_srv_ctl__conn_gone(struct vs_server *srv, struct srv_conn *sc);
/* relay_srv.c: connections from relays. The sensor a frame on relay
 * connection sc names: 0 with *out, 1 when that id_sensor is live on
 * another path (logged; do not take the frame), -EAGAIN (database away),
 * -EPROTO (id_sensor 0). */
int vs_srv__relayed(struct vs_server *srv, struct srv_conn *sc, uint16_t id,
		    struct srv_sensor **out);
/* Nonzero (why filled) when s is live behind a relay: refuse others. */
int vs_srv__relay_claims(struct vs_server *srv, const struct srv_sensor *s,
			 char *why, size_t why_size);
void vs_srv__relay_ack(struct vs_server *srv, struct srv_sensor *s);
/* The sensors rows behind relay connection sc: refreshed, or (gone) their
 * last_seen written and the sensors released. */
void vs_srv__relay_rows(struct vs_server *srv, struct srv_conn *sc, int gone);
/* A SENSOR_INFO frame on relay connection sc: 0 (taken, or ignored when
 * that id_sensor is live elsewhere or the database cannot say now) or
 * -EPROTO (malformed, or not from a relay). */
int vs_srv__relay_info(struct vs_server *srv, struct srv_conn *sc,
		       const uint8_t *p, uint32_t n);

#endif
