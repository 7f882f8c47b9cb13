// SPDX-License-Identifier: GPL-2.0-or-later
/* voipmonitor.conf reader: lines of "key = value", comments, sections.
 * Syntax decisions (docs/config.md):
 *  - '#' or ';' as the first non-blank character: comment line;
 *  - '#' at the start of a value or after a blank: trailing comment.
 *    ';' inside a value is kept, because VoIPmonitor values such as
 *    custom_headers and pcapcommand use it as a separator;
 *  - keys before any section or in [general] apply; other sections are
 *    warned about once and their keys skipped (VoIPmonitor reads only
 *    [general]);
 *  - a line without '=' is an error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf_int.h"
#include "core/log.h"

void vs_conf__init(struct vs_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->sip_ports[VS_CONF_DEFAULT_SIPPORT >> 3] |=
		1u << (VS_CONF_DEFAULT_SIPPORT & 7);
	strcpy(c->spooldir, VS_CONF_DEFAULT_SPOOLDIR);
	/* VoIPmonitor's defaults for its database keys */
	strcpy(c->mysql.db, "voipmonitor");
	strcpy(c->mysql.user, "root");
	snprintf(c->sqlite_path, sizeof(c->sqlite_path), "%s/%s",
		 VS_CONF_DEFAULT_SPOOLDIR, VS_CONF_DB_NAME);
	c->savesip = 1;
	c->savertp = VS_SAVERTP_YES;
	c->rtptimeout_s = 300;
	c->sipwithoutrtptimeout_s = 3600;
	c->absolute_timeout_s = 14400;
	vs_conf_chan_init(c);
	vs_conf_pb_init(c);
}

void vs_conf__free(struct vs_conf *c)
{
	size_t i;

	free(c->filter);
	c->filter = NULL;
	if (c->later_values) {
		for (i = 0; i < vs_conf_n_later_keys; i++)
			free(c->later_values[i]);
		free(c->later_values);
		c->later_values = NULL;
	}
}

static char *trim(char *s)
{
	char *end;

	while (vs_conf_is_blank(*s))
		s++;
	end = s + strlen(s);
	while (end > s && vs_conf_is_blank(end[-1]))
		*--end = '\0';
	return s;
}

/* Cuts a trailing "# comment": '#' first in the value or after a blank. */
static void cut_comment(char *v)
{
	char *p;

	for (p = v; *p; p++) {
		if (*p == '#' && (p == v || vs_conf_is_blank(p[-1]))) {
			*p = '\0';
			return;
		}
	}
}

struct reader {
	const char *path;
	unsigned lineno;
	int in_general;		/* keys apply: before any section or [general] */
	char where[PATH_MAX + 16];
};

static int section_line(struct reader *r, char *s)
{
	size_t n;
	char *name;

	cut_comment(s);
	s = trim(s);
	n = strlen(s);
	if (n < 2 || s[n - 1] != ']') {
		vs_err("%s: '%s': expected [general]", r->where, s);
		return -EINVAL;
	}
	s[n - 1] = '\0';
	name = trim(s + 1);
	r->in_general = !strcasecmp(name, "general");
	if (!r->in_general)
		vs_warn("%s: section [%s] ignored, with its keys", r->where,
			name);
	return 0;
}

/* One line, without its '\n'. 0 or -EINVAL (printed). */
static int parse_line(struct vs_conf *c, struct reader *r, char *line)
{
	char *s = trim(line), *eq, *key, *value;
	int err;

	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	if (*s == '[')
		return section_line(r, s);
	eq = strchr(s, '=');
	if (!eq || eq == s) {
		vs_err("%s: '%s': expected key = value", r->where, s);
		return -EINVAL;
	}
	*eq = '\0';
	key = trim(s);
	value = eq + 1;
	cut_comment(value);
	value = trim(value);
	if (!r->in_general)
		return 0;
	err = vs_conf__set(c, key, value, r->where);
	return err > 0 ? 0 : err;
}

static int read_lines(struct vs_conf *c, struct reader *r, FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int err = 0;

	errno = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		r->lineno++;
		snprintf(r->where, sizeof(r->where), "%s:%u", r->path,
			 r->lineno);
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (memchr(line, '\0', (size_t)n)) {
			vs_err("%s: NUL byte in line: expected text",
			       r->where);
			err = -EINVAL;
			break;
		}
		err = parse_line(c, r, line);
		if (err)
			break;
	}
	if (!err && ferror(f))
		err = errno ? -errno : -EIO;
	free(line);
	return err;
}

int vs_conf__load(struct vs_conf *c, const char *path)
{
	struct reader r = { .path = path, .in_general = 1 };
	FILE *f;
	int err;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	err = read_lines(c, &r, f);
	fclose(f);
	return err;
}

/* Byte masks for the last, partial byte of a prefix, computed once here
 * rather than per packet. */
static const uint8_t partial_mask[8] = { 0x00, 0x80, 0xc0, 0xe0,
					 0xf0, 0xf8, 0xfc, 0xfe };

static int net_has(const struct vs_ipnet *n, const struct vs_addr *a)
{
	unsigned full = n->prefix >> 3, rest = n->prefix & 7;

	if (memcmp(n->addr.b, a->b, full))
		return 0;
	return !rest || !((n->addr.b[full] ^ a->b[full]) & partial_mask[rest]);
}

int vs_conf__ip_allowed(const struct vs_conf *c, const struct vs_addr *a,
			const struct vs_addr *b)
{
	uint32_t i;

	if (c->n_ipfilter == 0)
		return 1;
	for (i = 0; i < c->n_ipfilter; i++) {
		if ((a && net_has(&c->ipfilter[i], a)) ||
		    (b && net_has(&c->ipfilter[i], b)))
			return 1;
	}
	return 0;
}
