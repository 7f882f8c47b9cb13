// SPDX-License-Identifier: GPL-2.0-or-later
/* The keys voxsense understands, one small setter each, and the keys later
 * issues will need (accepted now so that a voipmonitor.conf loads). */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf_int.h"
#include "core/log.h"

/* A setter returns 0, or -EINVAL with *expect saying what would do. */
typedef int (*setter_fn)(struct vs_conf *c, const char *v, const char **expect);

static int set_id_sensor(struct vs_conf *c, const char *v, const char **e)
{
	uint32_t n;

	*e = "a number 0-65535 (0 = not set)";
	if (vs_conf_parse_u32(v, 0, 65535, &n))
		return -EINVAL;
	c->id_sensor = (uint16_t)n;
	return 0;
}

/* The first sipport replaces the default 5060, later ones add to it, as in
 * VoIPmonitor, where each port used to take its own line. */
static int set_sipport(struct vs_conf *c, const char *v, const char **e)
{
	*e = "a port or range (1-65535), or a comma list of them";
	if (vs_conf_parse_ports(v, NULL))
		return -EINVAL;
	if (!c->sipport_given)
		memset(c->sip_ports, 0, sizeof(c->sip_ports));
	c->sipport_given = 1;
	return vs_conf_parse_ports(v, c->sip_ports);
}

/* Keeps sqlite_path at <spooldir>/voxsense.db until sqlite_path is given,
 * so the order of the two keys in the file does not matter. */
static void follow_spooldir(struct vs_conf *c)
{
	size_t n = strlen(c->spooldir);
	const char *sep = n && c->spooldir[n - 1] == '/' ? "" : "/";

	if (!c->sqlite_path_given)
		snprintf(c->sqlite_path, sizeof(c->sqlite_path), "%.4000s%s%s",
			 c->spooldir, sep, VS_CONF_DB_NAME);
}

static int set_spooldir(struct vs_conf *c, const char *v, const char **e)
{
	size_t n = strlen(v);

	*e = "a directory path (1-4000 bytes)";
	/* Room is left for "/voxsense.db" and the names spool/ builds. */
	if (n == 0 || n > 4000)
		return -EINVAL;
	memcpy(c->spooldir, v, n + 1);
	follow_spooldir(c);
	return 0;
}

static int set_sqlite_path(struct vs_conf *c, const char *v, const char **e)
{
	size_t n = strlen(v);

	*e = "a file path (1-4095 bytes)";
	if (n == 0 || n >= sizeof(c->sqlite_path))
		return -EINVAL;
	memcpy(c->sqlite_path, v, n + 1);
	c->sqlite_path_given = 1;
	return 0;
}

static int set_savesip(struct vs_conf *c, const char *v, const char **e)
{
	*e = "yes or no";
	return vs_conf_parse_bool(v, &c->savesip);
}

static int set_deduplicate(struct vs_conf *c, const char *v, const char **e)
{
	*e = "yes or no";
	return vs_conf_parse_bool(v, &c->deduplicate);
}

static int set_savertp(struct vs_conf *c, const char *v, const char **e)
{
	int b;

	*e = "yes, no or header";
	if (!strcasecmp(v, "header")) {
		c->savertp = VS_SAVERTP_HEADER;
		return 0;
	}
	if (vs_conf_parse_bool(v, &b))
		return -EINVAL;
	c->savertp = b ? VS_SAVERTP_YES : VS_SAVERTP_NO;
	return 0;
}

static int set_check_callid(struct vs_conf *c, const char *v, const char **e)
{
	*e = "yes or no";
	return vs_conf_parse_bool(v, &c->cdr_check_exists_callid);
}

#define SECONDS_EXPECT "a number of seconds (1-4294967295)"

static int set_rtptimeout(struct vs_conf *c, const char *v, const char **e)
{
	*e = SECONDS_EXPECT;
	return vs_conf_parse_u32(v, 1, UINT32_MAX, &c->rtptimeout_s);
}

static int set_sipwithoutrtp(struct vs_conf *c, const char *v, const char **e)
{
	*e = SECONDS_EXPECT;
	return vs_conf_parse_u32(v, 1, UINT32_MAX, &c->sipwithoutrtptimeout_s);
}

static int set_absolute(struct vs_conf *c, const char *v, const char **e)
{
	*e = SECONDS_EXPECT;
	return vs_conf_parse_u32(v, 1, UINT32_MAX, &c->absolute_timeout_s);
}

/* A filter libpcap cannot compile is a configuration error, found here
 * where the file and line are known (compiled for Ethernet; other link types
 * compile at first use). */
static int filter_compiles(const char *v)
{
	struct bpf_program prog;
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 262144);
	int ok;

	if (!dead)
		return 1; /* out of memory: let the pipeline say it later */
	ok = pcap_compile(dead, &prog, v, 1, PCAP_NETMASK_UNKNOWN) == 0;
	if (ok)
		pcap_freecode(&prog);
	pcap_close(dead);
	return ok;
}

/* Kept verbatim for libpcap; an empty value removes the filter. */
static int set_filter(struct vs_conf *c, const char *v, const char **e)
{
	char *dup = NULL;

	*e = "a tcpdump filter expression libpcap compiles (pcap-filter(7))";
	if (*v && !filter_compiles(v))
		return -EINVAL;
	if (*v) {
		dup = strdup(v);
		if (!dup)
			return -ENOMEM;
	}
	free(c->filter);
	c->filter = dup;
	return 0;
}

static int set_interface(struct vs_conf *c, const char *v, const char **e)
{
	size_t n = strlen(v);

	*e = "an interface name or list (at most 255 bytes)";
	if (n >= sizeof(c->interface))
		return -EINVAL;
	memcpy(c->interface, v, n + 1);
	return 0;
}

/* The mysql* keys: plain strings with a length limit. */
static int set_mysqlhost(struct vs_conf *c, const char *v, const char **e)
{
	return vs_conf_parse_str(c->mysql.host, sizeof(c->mysql.host), v, e,
				 "a host name or address (at most 255 bytes)");
}

static int set_mysqlsocket(struct vs_conf *c, const char *v, const char **e)
{
	return vs_conf_parse_str(c->mysql.socket, sizeof(c->mysql.socket), v, e,
				 "a socket path (at most 255 bytes)");
}

static int set_mysqldb(struct vs_conf *c, const char *v, const char **e)
{
	if (!*v) {
		*e = "a database name (1-64 bytes)";
		return -EINVAL;
	}
	return vs_conf_parse_str(c->mysql.db, sizeof(c->mysql.db), v, e,
				 "a database name (1-64 bytes)");
}

static int set_mysqluser(struct vs_conf *c, const char *v, const char **e)
{
	return vs_conf_parse_str(c->mysql.user, sizeof(c->mysql.user), v, e,
				 "a user name (at most 128 bytes)");
}

static int set_mysqlpassword(struct vs_conf *c, const char *v, const char **e)
{
	return vs_conf_parse_str(c->mysql.password, sizeof(c->mysql.password),
				 v, e, "a password (at most 255 bytes)");
}

static int set_mysqlport(struct vs_conf *c, const char *v, const char **e)
{
	uint32_t port;
	int err;

	*e = "a TCP port (1-65535)";
	err = vs_conf_parse_u32(v, 1, 65535, &port);
	if (!err)
		c->mysql.port = (uint16_t)port;
	return err;
}

static int set_mysql_writers(struct vs_conf *c, const char *v, const char **e)
{
	uint32_t n;
	int err;

	*e = "a number of writer connections (1-16)";
	err = vs_conf_parse_u32(v, 1, 16, &n);
	if (!err)
		c->mysql.writers = n;
	return err;
}

static int set_capture_mode(struct vs_conf *c, const char *v, const char **e)
{
	static const char *const names[] = {"copy", "afxdp", "pcap"};

	*e = "copy, afxdp or pcap";
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcasecmp(v, names[i])) {
			c->capture_mode = (enum vs_capture_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int count_item(const char *s, size_t len, void *arg)
{
	(void)s;
	(void)len;
	(*(uint32_t *)arg)++;
	return 0;
}

static int check_alias(const char *s, size_t len, void *arg)
{
	struct vs_natalias a;

	(void)arg;
	return vs_conf_parse_alias(s, len, &a);
}

static int add_alias(const char *s, size_t len, void *arg)
{
	struct vs_conf *c = arg;

	return vs_conf_parse_alias(s, len, &c->natalias[c->n_natalias++]);
}

/* Whole value checked first so that a bad line changes nothing. */
static int set_natalias(struct vs_conf *c, const char *v, const char **e)
{
	uint32_t n = 0;

	*e = "two addresses of one family, 'SDP-ADDRESS PACKET-ADDRESS', "
	     "at most 64 in all";
	if (vs_conf_each_item(v, check_alias, NULL) ||
	    vs_conf_each_item(v, count_item, &n) ||
	    n > VS_CONF_MAX_NATALIAS - c->n_natalias)
		return -EINVAL;
	return vs_conf_each_item(v, add_alias, c);
}

static int check_net(const char *s, size_t len, void *arg)
{
	struct vs_ipnet n;

	(void)arg;
	return vs_conf_parse_net(s, len, &n);
}

static int add_net(const char *s, size_t len, void *arg)
{
	struct vs_conf *c = arg;
	struct vs_ipnet n;
	uint32_t i;

	vs_conf_parse_net(s, len, &n);
	for (i = 0; i < c->n_ipfilter; i++)
		if (c->ipfilter[i].prefix == n.prefix &&
		    vs_addr_eq(&c->ipfilter[i].addr, &n.addr))
			return 0; /* already there */
	c->ipfilter[c->n_ipfilter++] = n;
	return 0;
}

static int set_ipfilter(struct vs_conf *c, const char *v, const char **e)
{
	uint32_t n = 0;

	*e = "IPv4/IPv6 addresses or networks (a.b.c.d/len), at most 1024";
	if (vs_conf_each_item(v, check_net, NULL) ||
	    vs_conf_each_item(v, count_item, &n) ||
	    n > VS_CONF_MAX_IPFILTER - c->n_ipfilter)
		return -EINVAL;
	return vs_conf_each_item(v, add_net, c);
}

static const struct {
	const char *name;
	setter_fn set;
} keys[] = {
	{"id_sensor", set_id_sensor},
	{"interface", set_interface},
	{"capture_mode", set_capture_mode},
	{"sipport", set_sipport},
	{"spooldir", set_spooldir},
	{"sqlite_path", set_sqlite_path},
	{"savesip", set_savesip},
	{"deduplicate", set_deduplicate},
	{"savertp", set_savertp},
	{"cdr_check_exists_callid", set_check_callid},
	{"rtptimeout", set_rtptimeout},
	{"sipwithoutrtptimeout", set_sipwithoutrtp},
	{"absolute_timeout", set_absolute},
	{"filter", set_filter},
	{"natalias", set_natalias},
	{"interface_ip_filter", set_ipfilter},
	{"mysqlhost", set_mysqlhost},
	{"mysqlport", set_mysqlport},
	{"mysqlstore_max_threads_cdr", set_mysql_writers},
	{"mysqlsocket", set_mysqlsocket},
	{"mysqldb", set_mysqldb},
	{"mysqlusername", set_mysqluser},
	{"mysqluser", set_mysqluser},
	{"mysqlpassword", set_mysqlpassword},
};

const char *const vs_conf_later_keys[] = {
	"server_cp_store_simple_connect_response",
	"mysqltable",
	"mysqlcompress",
	"packetbuffer_enable",
	"packetbuffer_compress",
	"packetbuffer_compress_ratio",
	"managerip",
	"managerport",
	"managerclient",
	"managerclientport",
	"max_buffer_mem",
	"udp_port_tzsp",
	"udp_port_l2tp",
	"udp_port_vxlan",
	"udp_port_audiocodes",
	"tcp_port_audiocodes",
	"audiocodes",
	"hep",
	"hep_bind_ip",
	"hep_bind_port",
	"hep_bind_udp",
	"ipfix",
	"ipfix_bind_ip",
	"ipfix_bind_port",
};

const size_t vs_conf_n_later_keys =
	sizeof(vs_conf_later_keys) / sizeof(vs_conf_later_keys[0]);

/* Remembers a later key's value for vs_conf__print; the last one wins. */
static int keep_later(struct vs_conf *c, size_t i, const char *value,
		      const char *where)
{
	char *dup;

	if (!c->later_values) {
		c->later_values = calloc(vs_conf_n_later_keys, sizeof(char *));
		if (!c->later_values)
			return -ENOMEM;
	}
	dup = strdup(value);
	if (!dup)
		return -ENOMEM;
	if (!c->later_values[i])
		vs_info("%s: key '%s' accepted, not used yet", where,
			vs_conf_later_keys[i]);
	free(c->later_values[i]);
	c->later_values[i] = dup;
	return 0;
}

int vs_conf__set(struct vs_conf *c, const char *key, const char *value,
		 const char *where)
{
	const char *expect = "";
	size_t i;
	int err;

	if (!where)
		where = "(set)";
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcasecmp(key, keys[i].name))
			continue;
		err = keys[i].set(c, value, &expect);
		if (err == -EINVAL)
			vs_err("%s: %s = %s: expected %s", where, key, value,
			       expect);
		return err;
	}
	err = vs_conf_chan_set(c, key, value, &expect);
	if (err == -ENOENT)
		err = vs_conf_pb_set(c, key, value, &expect);
	if (err == -EINVAL)
		vs_err("%s: %s = %s: expected %s", where, key, value, expect);
	if (err != -ENOENT)
		return err;
	for (i = 0; i < vs_conf_n_later_keys; i++)
		if (!strcasecmp(key, vs_conf_later_keys[i]))
			return keep_later(c, i, value, where);
	vs_warn("%s: unknown key '%s' ignored", where, key);
	return 1;
}
