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
	case VS_ROLE_ALL_IN_ONE:
		break;
	}
	return "all-in-one";
}

static int check_server(struct vs_conf *c, int n_inputs)
{
	uint16_t p = c->chan.bind_port;

	if (c->chan.n_dest) {
		vs_err("server_bind and server_destination are both set: relay "
		       "mode not implemented yet");
		return -EINVAL;
	}
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
	if (c->chan.packetbuffer_sender) {
		vs_err("packetbuffer_sender = yes: packet mirroring not "
		       "implemented yet; use packetbuffer_sender = no (local "
		       "processing)");
		return -EINVAL;
	}
	if (!c->id_sensor) {
		vs_err("server_destination is set: a sensor needs id_sensor "
		       "(1-65535), unique among the server's sensors");
		return -EINVAL;
	}
	if (!c->chan.password[0])
		vs_warn("server_password is empty");
	return VS_ROLE_SENSOR_LOCAL;
}

int vs_role__select(struct vs_conf *c, int n_inputs)
{
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
