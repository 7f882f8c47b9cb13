/* SPDX-License-Identifier: GPL-2.0-or-later */
/* conf/ internals shared by conf.c, conf_keys.c, conf_value.c and
 * conf_print.c. Not a contract: only conf/ includes it. */
#ifndef VS_CONF_INT_H
#define VS_CONF_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf/conf.h"

#define VS_CONF_DEFAULT_SPOOLDIR "/var/spool/voxsense"
#define VS_CONF_DB_NAME "voxsense.db"
#define VS_CONF_DEFAULT_SIPPORT 5060

/* Keys that later issues will use: accepted, kept verbatim for
 * --check-config, otherwise ignored. */
extern const char *const vs_conf_later_keys[];
extern const size_t vs_conf_n_later_keys;

/* Value parsers (conf_value.c). Each returns 0 or -EINVAL and never
 * changes its output on failure. */
int vs_conf_parse_bool(const char *v, int *out);
int vs_conf_parse_u32(const char *v, uint32_t min, uint32_t max,
		      uint32_t *out);
/* "5060", "1-100", lists of those. Pass NULL ports to only validate. */
int vs_conf_parse_ports(const char *v, uint8_t *ports);
/* "10.0.0.0/8", "2001:db8::/32", "1.2.3.4": masked. */
int vs_conf_parse_net(const char *s, size_t len, struct vs_ipnet *n);
/* "SDP-ADDRESS PACKET-ADDRESS". */
int vs_conf_parse_alias(const char *s, size_t len, struct vs_natalias *a);

/* The channel keys (conf_chan.c): vs_conf_chan_set returns -ENOENT for a
 * key that is not one of them, else as a setter of conf_keys.c. */
int vs_conf_chan_set(struct vs_conf *c, const char *key, const char *v,
		     const char **expect);
void vs_conf_chan_init(struct vs_conf *c);
void vs_conf_chan_print(const struct vs_conf *c, FILE *out);

/* The packet-buffer, legacy mirror and capture tuning keys
 * (conf_mirror.c), the same way. */
int vs_conf_pb_set(struct vs_conf *c, const char *key, const char *v,
		   const char **expect);
void vs_conf_pb_init(struct vs_conf *c);
void vs_conf_pb_print(const struct vs_conf *c, FILE *out);

/* A string key with a length limit: copies v into dst[size], sets *e to
 * what, and fails with -EINVAL when v does not fit. */
int vs_conf_parse_str(char *dst, size_t size, const char *v, const char **e,
		      const char *what);

/* A TCP/UDP port 1-65535 into *dst (conf_chan.c). */
int vs_conf_parse_port(uint16_t *dst, const char *v, const char **e);
/* An IPv4 or IPv6 address, or empty (not set), copied into dst[size]. */
int vs_conf_parse_ip(char *dst, size_t size, const char *v, const char **e,
		     const char *what);

/* Calls fn on each comma-separated item, trimmed. Fails on an empty item. */
int vs_conf_each_item(const char *v,
		      int (*fn)(const char *s, size_t len, void *arg),
		      void *arg);

/* True for the characters the parser treats as blanks. */
static inline int vs_conf_is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' ||
	       ch == '\f';
}

#endif
