// SPDX-License-Identifier: GPL-2.0-or-later
/* role/sensor_link: the connection chores both sensor threads share. Every
 * new pass starts again at the first server_destination entry, so a sensor
 * returns to its first server once it answers. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "role/sensor_link.h"

uint64_t vs_link__mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000;
}

void vs_link__nap(int wake_fd, atomic_int *stop, int ms)
{
	struct pollfd p = { .fd = wake_fd, .events = POLLIN };
	uint64_t v, end = vs_link__mono_ms() + (uint64_t)ms, t;

	while (!atomic_load(stop) && (t = vs_link__mono_ms()) < end) {
		if (poll(&p, 1, (int)(end - t)) > 0 &&
		    read(wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			break;
	}
}

int vs_link__backoff(int ms)
{
	return ms * 2 > VS_LINK_BACKOFF_MAX_MS ? VS_LINK_BACKOFF_MAX_MS :
						 ms * 2;
}

void vs_link__split_dest(const char *d, uint16_t dflt, char *host, size_t hlen,
			uint16_t *port)
{
	const char *colon = strrchr(d, ':');

	*port = dflt;
	if (d[0] == '[') {
		const char *end = strchr(d, ']');
		size_t n = end ? (size_t)(end - d - 1) : strlen(d + 1);

		snprintf(host, hlen, "%.*s", (int)n, d + 1);
		if (end && end[1] == ':')
			*port = (uint16_t)atoi(end + 2);
		return;
	}
	if (colon && strchr(d, ':') == colon) {
		snprintf(host, hlen, "%.*s", (int)(colon - d), d);
		*port = (uint16_t)atoi(colon + 1);
		return;
	}
	snprintf(host, hlen, "%s", d);
}

struct vs_chan_conn *vs_link__connect(struct vs_chan_ctx *ctx,
				      const struct vs_conf_chan *ch,
				      atomic_int *stop, const char *who)
{
	const char *bind = ch->manager_ip[0] ? ch->manager_ip : NULL;
	struct vs_chan_conn *c;
	char host[256];
	uint16_t port;

	for (uint32_t i = 0; i < ch->n_dest && !atomic_load(stop); i++) {
		vs_link__split_dest(ch->dest[i], ch->dest_port, host, sizeof(host), &port);
		c = vs_chan__connect(ctx, host, port, bind, VS_LINK_CONNECT_MS);
		if (c) {
			vs_info("%s: connected to %s port %u (server %u of "
				"%u)%s%s", who, host, port, i + 1, ch->n_dest,
				bind ? " from " : "", bind ? bind : "");
			return c;
		}
		vs_warn("%s: server %s port %u: %s%s", who, host, port,
			strerror(errno),
			i + 1 < ch->n_dest ? "; trying the next" : "");
	}
	return NULL;
}

int vs_link__ping(struct vs_chan_conn *c)
{
	struct vs_buf *b = vs_chan_conn__scratch(c);
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return vs_chan_ping__put(b, &(struct vs_chan_ping){
		       .token = vs_link__mono_ms(),
		       .clock_us = (uint64_t)ts.tv_sec * 1000000u +
				   (uint64_t)ts.tv_nsec / 1000 }) ?:
	       vs_chan_conn__send(c, VS_CHAN_PING, b->p, b->len);
}

int vs_link__pong(struct vs_chan_conn *c, const struct vs_chan_frame *f)
{
	struct vs_chan_ping pg;
	struct vs_buf *b;

	if (vs_chan_ping__parse(f->data, f->len, &pg))
		return -EPROTO;
	b = vs_chan_conn__scratch(c);
	return vs_chan_ping__put(b, &pg) ?:
	       vs_chan_conn__send(c, VS_CHAN_PONG, b->p, b->len);
}
