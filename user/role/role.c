// SPDX-License-Identifier: GPL-2.0-or-later
/* role/: choosing the role from the configuration and the channel options
 * common to both ends. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "core/log.h"
#include "cdr/store_mysql.h"
#include "role/role.h"

const char *vs_role__name(enum vs_role r)
{
	switch (r) {
	case VS_ROLE_SENSOR_LOCAL:
		return "sensor (local processing)";
	case VS_ROLE_SERVER:
		return "central server";
	case VS_ROLE_SENSOR_MIRROR:
		return "sensor (packet mirroring)";
	case VS_ROLE_RELAY:
		return "intermediate server (relay)";
	case VS_ROLE_LEGACY_SENDER:
		return "legacy mirror sender";
	case VS_ROLE_LEGACY_RECEIVER:
		return "legacy mirror receiver";
	case VS_ROLE_ALL_IN_ONE:
		break;
	}
	return "all-in-one";
}

/* server_bind and server_destination: an intermediate server. It captures
 * nothing and stores nothing; its own id_sensor names it to the central
 * server (the hello needs one). */
static int check_relay(struct vs_conf *c, int n_inputs)
{
	if (n_inputs) {
		vs_err("server_bind and server_destination are set: a relay "
		       "does not read capture files (-r)");
		return -EINVAL;
	}
	if (!c->id_sensor) {
		vs_err("server_bind and server_destination are set: a relay "
		       "needs its own id_sensor (1-65535), unique among the "
		       "central server's sensors");
		return -EINVAL;
	}
	if (!c->chan.password[0])
		vs_warn("server_password is empty: any sensor that knows the "
			"port may send through this relay");
	return VS_ROLE_RELAY;
}

/* interface on a server or relay: an all-in-one or VoIPmonitor central
 * sniffer also captures its own interfaces, this one does not. Not an
 * error: default configs often carry interface. */
static void warn_capture(const struct vs_conf *c, const char *role)
{
	if (c->interface[0])
		vs_warn("server_bind is set: %s captures nothing; interface = "
			"%s is ignored (to capture on this host, run a second "
			"instance as a sensor with its own config, id_sensor "
			"and spooldir)", role, c->interface);
}

static int check_server(struct vs_conf *c, int n_inputs)
{
	uint16_t p = c->chan.bind_port;

	if (c->chan.n_dest) {
		warn_capture(c, "a relay");
		return check_relay(c, n_inputs);
	}
	/* A sensor's mode without its destination: a sensor config that got
	 * server_bind, or a server that got a sensor's key. Either way the
	 * packets the admin means to mirror would go nowhere. */
	if (c->chan.packetbuffer_sender) {
		vs_err("server_bind and packetbuffer_sender = yes are both "
		       "set: packetbuffer_sender is a sensor's key (send the "
		       "packets to server_destination), a central server "
		       "receives them; remove packetbuffer_sender here, or "
		       "server_bind on a sensor (server_bind with "
		       "server_destination is a relay)");
		return -EINVAL;
	}
	warn_capture(c, "a central server");
	if (n_inputs) {
		vs_err("server_bind is set: a central server does not read "
		       "capture files (-r); remove server_bind to analyse them "
		       "here");
		return -EINVAL;
	}
	if (!c->mysql.host[0] && !c->mysql.socket[0]) {
		vs_err("server_bind is set: the central server stores CDRs in "
		       "MariaDB; set mysqlhost (or mysqlsocket)");
		return -EINVAL;
	}
	if (vs_conf__is_sip_port(c, p)) {
		/* the seeds' "continuously increasing memory": the server
		 * would parse its own channel traffic as SIP */
		vs_warn("sipport includes server_bind_port %u: excluded (the "
			"channel is not SIP)", p);
		c->sip_ports[p >> 3] &= (uint8_t)~(1u << (p & 7));
	}
	if (!c->chan.password[0])
		vs_warn("server_password is empty: any sensor that knows the "
			"port may send CDRs");
	return VS_ROLE_SERVER;
}

static int check_sensor(struct vs_conf *c)
{
	if (!c->id_sensor) {
		vs_err("server_destination is set: a sensor needs id_sensor "
		       "(1-65535), unique among the server's sensors");
		return -EINVAL;
	}
	if (!c->chan.password[0])
		vs_warn("server_password is empty");
	if (!c->chan.packetbuffer_sender)
		return VS_ROLE_SENSOR_LOCAL;
	/* the server analyses the packets: nothing is stored here */
	if (c->mysql.host[0] || c->mysql.socket[0])
		vs_warn("packetbuffer_sender = yes: the sensor stores no CDRs; "
			"mysqlhost and mysqlsocket are not used");
	return VS_ROLE_SENSOR_MIRROR;
}

/* The legacy mirror (mirror_*): 0 when not configured, else the role or
 * -EINVAL. Never mixed with the client-server keys (the seeds: "Don't mix
 * old and new modes"); two instances can run side by side instead. */
static int check_legacy(struct vs_conf *c, int n_inputs)
{
	const struct vs_conf_pb *pb = &c->pb;
	uint16_t p = pb->mirror_bind_port;

	if (!pb->mirror_dest_ip[0] && !p) {
		if (pb->mirror_bind_ip[0] || pb->mirror_dest_port)
			vs_warn("mirror_bind_ip / mirror_destination_port "
				"without mirror_bind_port / "
				"mirror_destination_ip: legacy mirror off");
		return 0;
	}
	if (c->chan.bind[0] || c->chan.n_dest) {
		vs_err("mirror_* (legacy mirror) and server_bind / "
		       "server_destination (client-server) are both set: use "
		       "one mode per instance (docs/distributed.md, legacy "
		       "mirror migration)");
		return -EINVAL;
	}
	if (pb->mirror_dest_ip[0] && p) {
		vs_err("mirror_destination_ip and mirror_bind_port are both "
		       "set: a legacy mirror instance either sends or "
		       "receives");
		return -EINVAL;
	}
	if (pb->mirror_dest_ip[0]) {
		if (!pb->mirror_dest_port) {
			vs_err("mirror_destination_ip is set: set "
			       "mirror_destination_port too (the receiver's "
			       "mirror_bind_port)");
			return -EINVAL;
		}
		return VS_ROLE_LEGACY_SENDER;
	}
	if (n_inputs) {
		vs_err("mirror_bind_port is set: a legacy mirror receiver does "
		       "not read capture files (-r)");
		return -EINVAL;
	}
	if (vs_conf__is_sip_port(c, p)) {
		vs_warn("sipport includes mirror_bind_port %u: excluded (the "
			"mirror stream is not SIP)", p);
		c->sip_ports[p >> 3] &= (uint8_t)~(1u << (p & 7));
	}
	return VS_ROLE_LEGACY_RECEIVER;
}

int vs_role__select(struct vs_conf *c, int n_inputs)
{
	int r = check_legacy(c, n_inputs);

	if (r)
		return r;
	if (c->chan.bind[0])
		return check_server(c, n_inputs);
	if (c->chan.n_dest)
		return check_sensor(c);
	return VS_ROLE_ALL_IN_ONE;
}

static uint64_t skewed_clock(void *arg)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)((int64_t)tv.tv_sec * 1000000 + tv.tv_usec +
			  *(const int64_t *)arg);
}

void vs_role__chan_opts(const struct vs_conf *c, enum vs_chan_role role,
			struct vs_chan_opts *o)
{
	/* read-only once set, before any thread starts */
	static int64_t offset_us;
	const char *skew = getenv("VOXSENSE_TEST_CLOCK_OFFSET_MS");

	memset(o, 0, sizeof(*o));
	o->role = role;
	o->password = c->chan.password;
	o->compress = (enum vs_chan_compress)c->chan.compress;
	o->compress_set = true;
	o->max_time_diff_s = c->chan.max_time_diff_s;
	o->id_sensor = c->id_sensor;
	o->mode = VS_CHAN_MODE_LOCAL;
	o->tls_cert = c->chan.tls_cert[0] ? c->chan.tls_cert : NULL;
	o->tls_key = c->chan.tls_key[0] ? c->chan.tls_key : NULL;
	o->tls_dir = c->spooldir;
	o->tls_fingerprint = c->chan.tls_fingerprint[0] ?
				     c->chan.tls_fingerprint : NULL;
	o->tls_ca = c->chan.tls_ca[0] ? c->chan.tls_ca : NULL;
	if (skew && *skew) {
		offset_us = strtoll(skew, NULL, 10) * 1000;
		vs_warn("VOXSENSE_TEST_CLOCK_OFFSET_MS: channel clock shifted "
			"by %lld ms (a test hook)", (long long)(offset_us / 1000));
		o->clock_us = skewed_clock;
		o->clock_arg = &offset_us;
	}
}

void vs_role__mysql_opts(const struct vs_conf *c, struct vs_mysql_opts *mo)
{
	const struct vs_conf_mysql *m = &c->mysql;

	*mo = (struct vs_mysql_opts){
		.host = m->host[0] ? m->host : NULL,
		.port = m->port,
		.socket = m->socket[0] ? m->socket : NULL,
		.db = m->db,
		.user = m->user,
		.password = m->password,
		.check_exists_callid = c->cdr_check_exists_callid,
	};
}
