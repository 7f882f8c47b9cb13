/* SPDX-License-Identifier: GPL-2.0-or-later */
/* role/: which part of the distributed system this process plays, chosen
 * by the configuration (docs/distributed.md), and the two roles built on
 * the channel so far: the central server and the local-processing sensor's
 * uplink. */
#ifndef VS_ROLE_H
#define VS_ROLE_H

#include <signal.h>

#include "cdr/store.h"
#include "channel/channel.h"
#include "conf/conf.h"

enum vs_role {
	VS_ROLE_ALL_IN_ONE = 0, /* no server_bind, no server_destination */
	VS_ROLE_SENSOR_LOCAL,   /* server_destination, packetbuffer_sender=no */
	VS_ROLE_SERVER,         /* server_bind */
	VS_ROLE_SENSOR_MIRROR,  /* server_destination, packetbuffer_sender=yes */
	VS_ROLE_RELAY,          /* server_bind and server_destination */
	VS_ROLE_LEGACY_SENDER,  /* mirror_destination_ip (unencrypted) */
	VS_ROLE_LEGACY_RECEIVER,/* mirror_bind_port (unencrypted) */
};

const char *vs_role__name(enum vs_role r);

/* Picks the role and checks the keys that go with it, logging each
 * problem: mixed modes, a sensor or relay without id_sensor, and -r on a
 * server or relay are refused; a server's sipport loses server_bind_port
 * (with a warning). The role (>= 0) or -EINVAL. */
int vs_role__select(struct vs_conf *c, int n_inputs);

/* The MariaDB store's options from the mysql* keys (all-in-one and server). */
struct vs_mysql_opts;
void vs_role__mysql_opts(const struct vs_conf *c, struct vs_mysql_opts *mo);

/* The channel settings of conf for role (strings point into conf). The
 * hidden test hook VOXSENSE_TEST_CLOCK_OFFSET_MS shifts this process's
 * channel clock (clock-skew tests). */
void vs_role__chan_opts(const struct vs_conf *c, enum vs_chan_role role,
			struct vs_chan_opts *o);

/* Sensor, local processing: a CDR store whose CDRs go to the spool under
 * spooldir/cdr-uplink and from there to the server (its own thread). Its
 * close waits up to drain_ms until the server acknowledged every CDR
 * (0: does not wait). NULL + errno (logged). */
struct vs_cdr_store *vs_uplink__open(const struct vs_conf *c,
				     unsigned drain_ms);

/* Central server: serves sensors until *stop. 0 or -errno (logged). */
int vs_server__run(const struct vs_conf *c, volatile sig_atomic_t *stop);

/* Intermediate server (relay): accepts sensors and forwards what they send
 * to the central server until *stop. 0 or -errno (logged). */
int vs_relay__run(const struct vs_conf *c, volatile sig_atomic_t *stop);

#endif
