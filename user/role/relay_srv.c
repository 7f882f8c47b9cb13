// SPDX-License-Identifier: GPL-2.0-or-later
/* role/server: connections from relays (hello mode relay). One such
 * connection carries many sensors: each CDR frame names its id_sensor, and
 * the server keeps its marks, de-duplication, acknowledgements and sensors
 * row per that id_sensor exactly as for a sensor connected directly. The
 * relay's own id_sensor names the connection (its sensors row has mode
 * "relay").
 *
 * An id_sensor is live on one path at a time: directly, or behind one
 * relay (claimed by its SENSOR_INFO or a frame there, until its "down"
 * SENSOR_INFO, that relay disconnects or VS_SRV_DEAD_MS without a
 * frame). The later path is refused: a direct connection
 * in the accept hook, a relay's frames by not taking them in (logged; they
 * stay in that sensor's spool). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "role/server_int.h"

static int relay_live(const struct srv_sensor *s)
{
	return s->relay && !s->relay->dead &&
	       vs_srv__mono_ms() - s->relay_rx_ms <= VS_SRV_DEAD_MS;
}

int vs_srv__relay_claims(struct vs_server *srv, const struct srv_sensor *s,
			 char *why, size_t why_size)
{
	(void)srv;
	if (!relay_live(s))
		return 0;
	snprintf(why, why_size, "id_sensor %u is already connected through "
		 "relay %u (%s): give each sensor its own id_sensor", s->id,
		 s->relay->s->id, s->addr);
	return 1;
}

static void refuse(struct srv_conn *sc, struct srv_sensor *s, const char *why)
{
	uint64_t now = vs_srv__mono_ms();

	s->relay_refused++;
	if (now - s->relay_refused_ms < 10000 && s->relay_refused > 1)
		return;
	s->relay_refused_ms = now;
	vs_err("server: relay %u (%s): frames of sensor %u not taken (%llu "
	       "so far): %s; give each sensor its own id_sensor", sc->s->id,
	       sc->s->addr, s->id, (unsigned long long)s->relay_refused, why);
}

/* The sensor behind relay connection sc that a frame names. */
int vs_srv__relayed(struct vs_server *srv, struct srv_conn *sc, uint16_t id,
		    struct srv_sensor **out)
{
	struct srv_sensor *s;

	if (!id)
		return -EPROTO;
	s = vs_srv__sensor(srv, id);
	if (!s)
		return -EAGAIN; /* its mark cannot be read now */
	if (id == sc->s->id) {
		refuse(sc, s, "it is the relay's own id_sensor");
		return 1;
	}
	if (s->conn && !s->conn->dead) {
		refuse(sc, s, s->conn->relay ? "it is another relay's id_sensor"
			      : "it is connected directly");
		return 1;
	}
	if (s->relay != sc && relay_live(s)) {
		refuse(sc, s, "it is connected through another relay");
		return 1;
	}
	s->relay_rx_ms = vs_srv__mono_ms();
	s->last_seen_us = vs_srv__wall_us();
	*out = s;
	if (s->relay == sc)
		return 0;
	s->relay = sc;
	s->relay_acked = 0;
	snprintf(s->addr, sizeof(s->addr), "via relay %s", sc->s->addr);
	if (strcmp(s->mode, "mirror")) /* as its SENSOR_INFO said, if any */
		snprintf(s->mode, sizeof(s->mode), "local");
	s->connected_since_us = s->last_seen_us;
	vs_info("server: sensor %u connected through relay %u (%s) from %s; "
		"committed up to sequence %llu", id, sc->s->id, sc->s->name,
		sc->s->addr, (unsigned long long)s->hwm);
	vs_srv__upsert(srv, s);
	vs_srv__relay_ack(srv, s);
	return 0;
}

void vs_srv__relay_ack(struct vs_server *srv, struct srv_sensor *s)
{
	struct srv_conn *sc = s->relay;

	(void)srv;
	if (sc && sc->ready && !sc->dead)
		vs_srv__ack_to(sc, s, &s->relay_acked);
}

static const char *mode_name(uint8_t mode)
{
	return mode == VS_CHAN_MODE_MIRROR ? "mirror" : "local";
}

/* Before this, a sensor behind a relay was known only by the id_sensor in
 * its frames: no name, version or address, and gone only when the relay
 * was. */
int vs_srv__relay_info(struct vs_server *srv, struct srv_conn *sc,
		       const uint8_t *p, uint32_t n)
{
	struct vs_chan_sensor_info si;
	struct srv_sensor *s = NULL;
	int r;

	if (!sc->relay || vs_chan_sensor_info__parse(p, n, &si) ||
	    si.mode > VS_CHAN_MODE_MIRROR)
		return -EPROTO;
	if (!si.up) {
		s = srv->sensors[si.id_sensor];
		if (!s || s->relay != sc)
			return 0;
		s->relay = NULL;
		s->last_seen_us = vs_srv__wall_us();
		vs_info("server: sensor %u (%s) disconnected from relay %u",
			s->id, s->name, sc->s->id);
		vs_srv__mirror_down(srv, s);
		vs_srv__upsert(srv, s);
		return 0;
	}
	r = vs_srv__relayed(srv, sc, si.id_sensor, &s);
	if (r)
		return r == -EPROTO ? r : 0;
	snprintf(s->name, sizeof(s->name), "%s", si.name);
	snprintf(s->version, sizeof(s->version), "%s", si.version);
	snprintf(s->mode, sizeof(s->mode), "%s", mode_name(si.mode));
	snprintf(s->addr, sizeof(s->addr), "%.40s via relay %u", si.addr,
		 sc->s->id);
	s->connected_since_us = si.since_us;
	vs_dbg("server: sensor %u behind relay %u: %s, version %s, %s, "
	       "from %s", s->id, sc->s->id, s->name, s->version, s->mode,
	       si.addr);
	vs_srv__upsert(srv, s);
	return 0;
}

/* Heartbeat (beat) or disconnect (gone) of relay connection sc: the rows
 * of the sensors behind it. */
void vs_srv__relay_rows(struct vs_server *srv, struct srv_conn *sc, int gone)
{
	for (uint32_t i = 1; i < 65536; i++) {
		struct srv_sensor *s = srv->sensors[i];

		if (!s || s->relay != sc)
			continue;
		if (gone) {
			s->relay = NULL;
			s->last_seen_us = vs_srv__wall_us();
			vs_info("server: sensor %u (through relay %u) "
				"disconnected", s->id, sc->s->id);
			vs_srv__mirror_down(srv, s);
		}
		vs_srv__upsert(srv, s);
	}
}
