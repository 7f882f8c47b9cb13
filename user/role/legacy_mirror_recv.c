// SPDX-License-Identifier: GPL-2.0-or-later
/* role/legacy_mirror_recv: the legacy mirror receiver. One thread, one
 * epoll set: the listening socket on mirror_bind_ip:mirror_bind_port and
 * every sender's connection. Each readable connection gets one read of at
 * most 64 KiB per round (so no sender starves the others), decoded by its
 * own vs_lm_dec; frames go to the pipeline in arrival order, not merged by
 * timestamp. A malformed stream closes that connection only, with a log
 * line naming the sender and the reason. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "channel/channel.h"
#include "core/log.h"
#include "role/legacy_mirror.h"

#define MAX_PEERS 256
#define READ_LEN (64u << 10)
#define TICK_MS 100
#define QUIET_US 1000000ull /* the line is quiet: time moves on */

#define VS_LM_RECV_STATS(X)                                                    \
	X(accepted)     /* sender connections accepted */                      \
	X(refused)      /* closed at once: MAX_PEERS reached */                \
	X(bad_streams)  /* closed for a malformed stream */                    \
	X(cut_streams)  /* ended inside a record */                            \
	X(frames)       /* frames handed to the pipeline */                    \
	X(bytes)        /* bytes read */

struct lm_recv_stats {
#define VS_X(n) uint64_t n;
	VS_LM_RECV_STATS(VS_X)
#undef VS_X
};

struct lm_recv;

struct lm_peer {
	struct lm_recv *r;
	struct lm_peer *prev, *next;	/* every open connection */
	int fd;
	char name[INET6_ADDRSTRLEN + 8];
	uint16_t addr_low16;	/* last two bytes of its address */
	int id_set;
	uint16_t id_sensor;	/* of its frames */
	struct vs_lm_dec *dec;
	uint64_t frames, bytes;
};

struct lm_recv {
	const struct vs_lm_recv_opts *o;
	int lfd, ep, npeers;
	struct lm_peer *peers;
	uint64_t last_ts_us;	/* packet time of the last frame */
	uint64_t last_mono_us;	/* when it arrived; 0: none yet */
	struct lm_recv_stats st;
	uint8_t buf[READ_LEN];
};

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

/* mirror_bind_sensor_id_by_sender: the id_sensor the sender announces in
 * its hello; a sender without one gets the low 16 bits of its address
 * (10.0.3.7 -> 775); 0 there too: the receiver's own. */
static uint16_t peer_id(const struct lm_peer *p)
{
	const struct vs_conf *c = p->r->o->conf;
	const struct vs_lm_hello *h = vs_lm_dec__hello(p->dec);

	if (!c->pb.mirror_id_by_sender)
		return c->id_sensor;
	if (h && h->id_sensor)
		return h->id_sensor;
	return p->addr_low16 ? p->addr_low16 : c->id_sensor;
}

static int peer_frame(void *ctx, const struct vs_frame *f)
{
	struct lm_peer *p = ctx;
	struct lm_recv *r = p->r;
	struct vs_frame g = *f;

	if (!p->id_set) {
		p->id_sensor = peer_id(p);
		p->id_set = 1;
		if (r->o->conf->pb.mirror_id_by_sender)
			vs_info("legacy mirror: sender %s: id_sensor %u",
				p->name, p->id_sensor);
	}
	g.id_sensor = p->id_sensor;
	p->frames++;
	r->st.frames++;
	r->last_ts_us = g.ts_us;
	r->last_mono_us = mono_us();
	return r->o->fn(r->o->ctx, &g);
}

static void peer_close(struct lm_recv *r, struct lm_peer *p)
{
	epoll_ctl(r->ep, EPOLL_CTL_DEL, p->fd, NULL);
	close(p->fd);
	if (p->prev)
		p->prev->next = p->next;
	else
		r->peers = p->next;
	if (p->next)
		p->next->prev = p->prev;
	vs_lm_dec__free(p->dec);
	free(p);
	r->npeers--;
}

static void peer_name(struct lm_peer *p, const struct sockaddr_storage *ss)
{
	char a[INET6_ADDRSTRLEN] = "?";
	const uint8_t *raw;
	unsigned port;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		raw = (const uint8_t *)&s4->sin_addr + 2;
		port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		raw = s6->sin6_addr.s6_addr + 14;
		port = ntohs(s6->sin6_port);
	}
	/* a dual-stack socket shows IPv4 senders as ::ffff:a.b.c.d */
	snprintf(p->name, sizeof(p->name), "%s:%u",
		 strncmp(a, "::ffff:", 7) ? a : a + 7, port);
	p->addr_low16 = (uint16_t)(raw[0] << 8 | raw[1]);
}

static void on_accept(struct lm_recv *r)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct lm_peer *p;
	int fd;

	fd = accept4(r->lfd, (struct sockaddr *)&ss, &sl,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (r->npeers >= MAX_PEERS) {
		if (r->st.refused++ == 0)
			vs_warn("legacy mirror: %d senders connected: closing "
				"new connections (logged once)", MAX_PEERS);
		close(fd);
		return;
	}
	p = calloc(1, sizeof(*p));
	if (p)
		p->dec = vs_lm_dec__new(
			(uint16_t)r->o->conf->pb.mirror_bind_dlt);
	if (!p || !p->dec) {
		free(p);
		close(fd);
		return;
	}
	p->r = r;
	p->fd = fd;
	peer_name(p, &ss);
	ev.data.ptr = p;
	if (epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		vs_lm_dec__free(p->dec);
		free(p);
		close(fd);
		return;
	}
	p->next = r->peers;
	if (r->peers)
		r->peers->prev = p;
	r->peers = p;
	r->npeers++;
	r->st.accepted++;
	vs_info("legacy mirror: sender %s connected (unencrypted)", p->name);
}

static void on_readable(struct lm_recv *r, struct lm_peer *p)
{
	ssize_t n = read(p->fd, r->buf, sizeof(r->buf));
	int err;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (n == 0 && !vs_lm_dec__at_boundary(p->dec) && p->bytes) {
			r->st.cut_streams++;
			vs_warn("legacy mirror: sender %s: stream ended inside "
				"a record (after %llu frames)", p->name,
				(unsigned long long)p->frames);
		}
		vs_info("legacy mirror: sender %s closed%s%s: %llu frames, "
			"%llu bytes", p->name, n ? ": " : "",
			n ? strerror(errno) : "",
			(unsigned long long)p->frames,
			(unsigned long long)p->bytes);
		peer_close(r, p);
		return;
	}
	p->bytes += (uint64_t)n;
	r->st.bytes += (uint64_t)n;
	err = vs_lm_dec__feed(p->dec, r->buf, (size_t)n, peer_frame, p);
	if (err) {
		r->st.bad_streams++;
		vs_warn("legacy mirror: closing sender %s: %s (after %llu "
			"frames, %llu bytes)", p->name,
			err == -EPROTO ? vs_lm_dec__error(p->dec) :
					 strerror(-err),
			(unsigned long long)p->frames,
			(unsigned long long)p->bytes);
		peer_close(r, p);
	}
}

/* Live calls end when the senders go quiet: after QUIET_US without a frame,
 * packet time moves on from the last frame's stamp with the wall clock
 * (the senders' clocks need not match ours; they must match each other). */
static void quiet_tick(struct lm_recv *r)
{
	uint64_t now;

	if (!r->last_mono_us || !r->o->idle)
		return;
	now = mono_us();
	if (now - r->last_mono_us >= QUIET_US)
		r->o->idle(r->o->ctx, r->last_ts_us + (now - r->last_mono_us));
}

static void warn_plain(const struct vs_conf *c, const char *ip)
{
	vs_warn("legacy mirror: receiving on %s port %u UNENCRYPTED and "
		"UNAUTHENTICATED (anyone who reaches the port can inject "
		"frames); the encrypted replacement is server_bind with "
		"senders in packetbuffer_sender = yes (docs/distributed.md)",
		ip, c->pb.mirror_bind_port);
}

static void print_stats(const struct lm_recv_stats *st, FILE *out)
{
#define VS_X(n) fprintf(out, "legacy.%s %llu\n", #n, (unsigned long long)st->n);
	VS_LM_RECV_STATS(VS_X)
#undef VS_X
}

static void serve(struct lm_recv *r)
{
	struct epoll_event evs[64];
	int n;

	while (!*r->o->stop) {
		n = epoll_wait(r->ep, evs, 64, TICK_MS);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL)
				on_accept(r);
			else
				on_readable(r, evs[i].data.ptr);
		}
		quiet_tick(r);
	}
}

int vs_lm_recv__run(const struct vs_lm_recv_opts *o)
{
	const struct vs_conf *c = o->conf;
	const char *ip = c->pb.mirror_bind_ip[0] ? c->pb.mirror_bind_ip :
						   "any address";
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct lm_recv *r = calloc(1, sizeof(*r));
	int err = 0;

	if (!r)
		return -ENOMEM;
	r->o = o;
	r->ep = -1;
	r->lfd = -1;
	warn_plain(c, ip);
	r->lfd = vs_chan__listen(c->pb.mirror_bind_ip[0] ? ip : NULL,
				 c->pb.mirror_bind_port, 64);
	if (r->lfd < 0) {
		err = r->lfd;
		vs_err("legacy mirror: cannot listen on %s port %u: %s", ip,
		       c->pb.mirror_bind_port, strerror(-err));
		goto out;
	}
	r->ep = epoll_create1(EPOLL_CLOEXEC);
	if (r->ep < 0 || epoll_ctl(r->ep, EPOLL_CTL_ADD, r->lfd, &ev) < 0) {
		err = -errno;
		vs_err("legacy mirror: epoll: %s", strerror(-err));
		goto out;
	}
	vs_info("legacy mirror: listening on %s port %u (link type %u when "
		"a stream gives none, id_sensor %s)", ip,
		c->pb.mirror_bind_port, c->pb.mirror_bind_dlt,
		c->pb.mirror_id_by_sender ? "by sender" : "of this receiver");
	serve(r);
out:
	while (r->peers)
		peer_close(r, r->peers);
	if (r->lfd >= 0)
		close(r->lfd);
	if (r->ep >= 0)
		close(r->ep);
	if (o->stats)
		print_stats(&r->st, stderr);
	free(r);
	return err;
}
