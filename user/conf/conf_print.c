// SPDX-License-Identifier: GPL-2.0-or-later
/* The effective configuration as a file vs_conf__load reads back to the
 * same state: printing, loading and printing again gives the same text. */
#include <stdio.h>

#include "conf/conf_int.h"

static const char *yesno(int b)
{
	return b ? "yes" : "no";
}

/* Runs of set bits as "a,b-c,...". */
static void print_ports(const struct vs_conf *c, FILE *out)
{
	const char *sep = "";
	uint32_t p = 1, lo;

	fputs("sipport = ", out);
	while (p <= 65535) {
		if (!vs_conf__is_sip_port(c, (uint16_t)p)) {
			p++;
			continue;
		}
		lo = p;
		while (p + 1 <= 65535 && vs_conf__is_sip_port(c, (uint16_t)(p + 1)))
			p++;
		if (lo == p)
			fprintf(out, "%s%u", sep, lo);
		else
			fprintf(out, "%s%u-%u", sep, lo, p);
		sep = ",";
		p++;
	}
	fputc('\n', out);
}

static void print_nets(const struct vs_conf *c, FILE *out)
{
	char buf[VS_ADDR_STRLEN];
	uint32_t i;

	for (i = 0; i < c->n_ipfilter; i++) {
		const struct vs_ipnet *n = &c->ipfilter[i];
		int v4 = vs_addr_is_v4(&n->addr) && n->prefix >= 96;
		unsigned len = v4 ? n->prefix - 96u : n->prefix;

		vs_addr_str(&n->addr, buf, sizeof(buf));
		if (len == (v4 ? 32u : 128u))
			fprintf(out, "interface_ip_filter = %s\n", buf);
		else
			fprintf(out, "interface_ip_filter = %s/%u\n", buf, len);
	}
}

static void print_aliases(const struct vs_conf *c, FILE *out)
{
	char from[VS_ADDR_STRLEN], to[VS_ADDR_STRLEN];
	uint32_t i;

	for (i = 0; i < c->n_natalias; i++)
		fprintf(out, "natalias = %s %s\n",
			vs_addr_str(&c->natalias[i].from, from, sizeof(from)),
			vs_addr_str(&c->natalias[i].to, to, sizeof(to)));
}

/* The password is never printed: --check-config output ends up in tickets. */
static void print_mysql(const struct vs_conf *c, FILE *out)
{
	const struct vs_conf_mysql *m = &c->mysql;

	if (!m->host[0] && !m->socket[0]) {
		fputs("# mysqlhost = (not set: CDRs go to sqlite_path)\n", out);
		return;
	}
	if (m->host[0])
		fprintf(out, "mysqlhost = %s\n", m->host);
	if (m->port)
		fprintf(out, "mysqlport = %u\n", m->port);
	if (m->socket[0])
		fprintf(out, "mysqlsocket = %s\n", m->socket);
	fprintf(out, "mysqldb = %s\nmysqlusername = %s\n", m->db, m->user);
	if (m->writers)
		fprintf(out, "mysqlstore_max_threads_cdr = %u\n", m->writers);
	if (m->password[0])
		fputs("# mysqlpassword = (set, not shown)\n", out);
}

static void print_later(const struct vs_conf *c, FILE *out)
{
	size_t i;

	for (i = 0; c->later_values && i < vs_conf_n_later_keys; i++)
		if (c->later_values[i])
			fprintf(out, "%s = %s # not used yet\n",
				vs_conf_later_keys[i], c->later_values[i]);
}

void vs_conf__print(const struct vs_conf *c, FILE *out)
{
	static const char *const savertp[] = { "no", "yes", "header" };
	static const char *const capture_mode[] = { "copy", "afxdp", "pcap" };

	fputs("# voxsense effective configuration\n[general]\n", out);
	fprintf(out, "id_sensor = %u\n", c->id_sensor);
	if (c->interface[0])
		fprintf(out, "interface = %s\n", c->interface);
	else
		fputs("# interface = (not set)\n", out);
	fprintf(out, "capture_mode = %s\n",
		capture_mode[c->capture_mode <= VS_CAPTURE_PCAP ?
				     c->capture_mode : 0]);
	print_ports(c, out);
	fprintf(out, "spooldir = %s\n", c->spooldir);
	fprintf(out, "sqlite_path = %s\n", c->sqlite_path);
	fprintf(out, "savesip = %s\n", yesno(c->savesip));
	if (c->deduplicate)
		fputs("deduplicate = yes\n", out);
	fprintf(out, "savertp = %s\n",
		savertp[c->savertp <= VS_SAVERTP_HEADER ? c->savertp : 1]);
	fprintf(out, "cdr_check_exists_callid = %s\n",
		yesno(c->cdr_check_exists_callid));
	fprintf(out, "rtptimeout = %u\n", c->rtptimeout_s);
	fprintf(out, "sipwithoutrtptimeout = %u\n", c->sipwithoutrtptimeout_s);
	fprintf(out, "absolute_timeout = %u\n", c->absolute_timeout_s);
	if (c->filter)
		fprintf(out, "filter = %s\n", c->filter);
	else
		fputs("# filter = (none)\n", out);
	print_aliases(c, out);
	print_nets(c, out);
	print_mysql(c, out);
	vs_conf_chan_print(c, out);
	vs_conf_pb_print(c, out);
	print_later(c, out);
}
