// SPDX-License-Identifier: GPL-2.0-or-later
/* The channel keys (server_*, packetbuffer_sender, manager_ip, TLS): which
 * role the daemon plays and how it reaches its peer (docs/distributed.md).
 * Kept apart from conf_keys.c so that each file stays small. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf/conf_int.h"

int vs_conf_parse_port(uint16_t *dst, const char *v, const char **e)
{
	uint32_t port;

	*e = "a TCP port (1-65535)";
	if (vs_conf_parse_u32(v, 1, 65535, &port))
		return -EINVAL;
	*dst = (uint16_t)port;
	return 0;
}

/* "host", "host:port" or "[v6]:port"; a bare IPv6 address has two or more
 * colons and no port. Only checks the shape: names resolve at connect. */
static int dest_ok(const char *s, size_t len)
{
	const char *colon = memchr(s, ':', len), *end;
	uint32_t port;
	char buf[8];
	size_t plen;

	if (!len || len >= 256 || memchr(s, ' ', len) || memchr(s, '\t', len))
		return 0;
	if (s[0] == '[') {
		end = memchr(s, ']', len);
		if (!end || end == s + 1)
			return 0;
		if (end == s + len - 1)
			return 1; /* "[v6]" without a port */
		colon = end + 1;
		if (*colon != ':')
			return 0;
	} else if (!colon ||
		   memchr(colon + 1, ':', (size_t)(s + len - colon - 1))) {
		return 1; /* a name, an IPv4 address or a bare IPv6 address */
	}
	plen = (size_t)(s + len - colon - 1);
	if (plen == 0 || plen >= sizeof(buf))
		return 0;
	memcpy(buf, colon + 1, plen);
	buf[plen] = '\0';
	return vs_conf_parse_u32(buf, 1, 65535, &port) == 0;
}

static int check_dest(const char *s, size_t len, void *arg)
{
	(*(uint32_t *)arg)++;
	return dest_ok(s, len) ? 0 : -EINVAL;
}

static int add_dest(const char *s, size_t len, void *arg)
{
	struct vs_conf_chan *ch = arg;

	memcpy(ch->dest[ch->n_dest], s, len);
	ch->dest[ch->n_dest][len] = '\0';
	ch->n_dest++;
	return 0;
}

/* The list replaces an earlier one: failover order is the line's order. */
static int set_dest(struct vs_conf_chan *ch, const char *v, const char **e)
{
	uint32_t n = 0;

	*e = "a comma list of at most 8 servers: host, host:port or "
	     "[ipv6]:port (empty: not a sensor)";
	if (!*v) {
		ch->n_dest = 0;
		return 0;
	}
	if (vs_conf_each_item(v, check_dest, &n) || n > VS_CONF_MAX_DEST)
		return -EINVAL;
	ch->n_dest = 0;
	return vs_conf_each_item(v, add_dest, ch);
}

static int set_compress(struct vs_conf_chan *ch, const char *v, const char **e)
{
	/* enum vs_chan_compress order; zlib is gzip's other name */
	static const char *const names[] = {"none", "zstd", "gzip", "lzo",
					    "zlib"};

	*e = "zstd, gzip, lzo or none";
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcasecmp(v, names[i])) {
			ch->compress = i == 4 ? 2 : (int)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int set_fingerprint(struct vs_conf_chan *ch, const char *v,
			   const char **e)
{
	size_t digits = 0, n = strlen(v);

	*e = "a SHA-256 fingerprint: 64 hex digits, colons allowed";
	for (size_t i = 0; i < n; i++) {
		if ((v[i] >= '0' && v[i] <= '9') ||
		    (v[i] >= 'a' && v[i] <= 'f') ||
		    (v[i] >= 'A' && v[i] <= 'F'))
			digits++;
		else if (v[i] != ':')
			return -EINVAL;
	}
	if (n && digits != 64)
		return -EINVAL;
	return vs_conf_parse_str(ch->tls_fingerprint,
				 sizeof(ch->tls_fingerprint), v, e, *e);
}

/* An IPv4 or IPv6 address, or empty (not set). */
int vs_conf_parse_ip(char *dst, size_t size, const char *v, const char **e,
		     const char *what)
{
	struct vs_addr a;

	*e = what;
	if (*v && (strlen(v) >= size || vs_addr_parse(&a, v, strlen(v))))
		return -EINVAL;
	return vs_conf_parse_str(dst, size, v, e, what);
}

#define PATH_EXPECT "a file path (at most 255 bytes)"

int vs_conf_chan_set(struct vs_conf *c, const char *k, const char *v,
		     const char **e)
{
	struct vs_conf_chan *ch = &c->chan;
	int err;

	if (!strcasecmp(k, "server_bind"))
		err = vs_conf_parse_ip(ch->bind, sizeof(ch->bind), v, e,
			     "an IPv4 or IPv6 address to listen on (empty: not "
			     "a server)");
	else if (!strcasecmp(k, "server_bind_port"))
		err = vs_conf_parse_port(&ch->bind_port, v, e);
	else if (!strcasecmp(k, "server_password"))
		err = vs_conf_parse_str(ch->password, sizeof(ch->password), v,
					e, "a password (at most 255 bytes)");
	else if (!strcasecmp(k, "server_destination"))
		err = set_dest(ch, v, e);
	else if (!strcasecmp(k, "server_destination_port"))
		err = vs_conf_parse_port(&ch->dest_port, v, e);
	else if (!strcasecmp(k, "packetbuffer_sender")) {
		*e = "yes or no";
		err = vs_conf_parse_bool(v, &ch->packetbuffer_sender);
	} else if (!strcasecmp(k, "manager_ip"))
		err = vs_conf_parse_ip(ch->manager_ip, sizeof(ch->manager_ip), v, e,
			     "an IPv4 or IPv6 address (empty: any)");
	else if (!strcasecmp(k, "server_type_compress"))
		err = set_compress(ch, v, e);
	else if (!strcasecmp(k, "client_server_connect_maximum_time_diff_s")) {
		*e = "a number of seconds (1-86400)";
		err = vs_conf_parse_u32(v, 1, 86400, &ch->max_time_diff_s);
	} else if (!strcasecmp(k, "server_tls_cert"))
		err = vs_conf_parse_str(ch->tls_cert, sizeof(ch->tls_cert), v,
					e, PATH_EXPECT);
	else if (!strcasecmp(k, "server_tls_key"))
		err = vs_conf_parse_str(ch->tls_key, sizeof(ch->tls_key), v, e,
					PATH_EXPECT);
	else if (!strcasecmp(k, "server_tls_ca"))
		err = vs_conf_parse_str(ch->tls_ca, sizeof(ch->tls_ca), v, e,
					PATH_EXPECT);
	else if (!strcasecmp(k, "server_tls_fingerprint"))
		err = set_fingerprint(ch, v, e);
	else if (!strcasecmp(k, "cdr_spool_maxsize")) {
		*e = "megabytes of unacknowledged CDRs kept on disk (1-1048576)";
		err = vs_conf_parse_u32(v, 1, 1u << 20, &ch->cdr_spool_mb);
	}
	else
		return -ENOENT;
	if (!err)
		ch->given = 1;
	return err;
}

void vs_conf_chan_init(struct vs_conf *c)
{
	c->chan.bind_port = VS_CONF_CHAN_PORT;
	c->chan.dest_port = VS_CONF_CHAN_PORT;
	c->chan.compress = 1; /* zstd */
	c->chan.max_time_diff_s = 2;
	c->chan.cdr_spool_mb = 1024;
}

static void print_str(FILE *out, const char *key, const char *v)
{
	if (v[0])
		fprintf(out, "%s = %s\n", key, v);
}

/* Only when a channel key was given, so an all-in-one config stays short.
 * The password is never printed: --check-config output ends up in
 * tickets. */
void vs_conf_chan_print(const struct vs_conf *c, FILE *out)
{
	static const char *const comp[] = {"none", "zstd", "gzip", "lzo"};
	const struct vs_conf_chan *ch = &c->chan;

	if (!ch->given)
		return;
	print_str(out, "server_bind", ch->bind);
	fprintf(out, "server_bind_port = %u\n", ch->bind_port);
	if (ch->n_dest) {
		fputs("server_destination = ", out);
		for (uint32_t i = 0; i < ch->n_dest; i++)
			fprintf(out, "%s%s", i ? "," : "", ch->dest[i]);
		fputc('\n', out);
	}
	fprintf(out, "server_destination_port = %u\n", ch->dest_port);
	if (ch->password[0])
		fputs("# server_password = (set, not shown)\n", out);
	fprintf(out, "packetbuffer_sender = %s\n",
		ch->packetbuffer_sender ? "yes" : "no");
	print_str(out, "manager_ip", ch->manager_ip);
	fprintf(out, "server_type_compress = %s\n",
		comp[ch->compress >= 0 && ch->compress <= 3 ? ch->compress
							    : 1]);
	fprintf(out, "client_server_connect_maximum_time_diff_s = %u\n",
		ch->max_time_diff_s);
	print_str(out, "server_tls_cert", ch->tls_cert);
	print_str(out, "server_tls_key", ch->tls_key);
	print_str(out, "server_tls_ca", ch->tls_ca);
	print_str(out, "server_tls_fingerprint", ch->tls_fingerprint);
	fprintf(out, "cdr_spool_maxsize = %u\n", ch->cdr_spool_mb);
}
