// SPDX-License-Identifier: GPL-2.0-or-later
/* Blocking helpers on top of the event-driven conn: a poll() loop around
 * the same calls an epoll server makes, for simple clients and tests. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "channel/chan_int.h"
#include "core/log.h"

static int wait_fd(int fd, unsigned events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = (short)events };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r ? 0 : -ETIMEDOUT;
}

/* Runs op until it stops saying -EAGAIN; one timeout for the whole loop. */
static int drive(struct vs_chan_conn *c, int (*op)(struct vs_chan_conn *),
		 int timeout_ms)
{
	uint64_t end = chan_mono_us() + (uint64_t)timeout_ms * 1000u, now;
	uint64_t dl, wake;
	int r;

	for (;;) {
		r = op(c);
		if (r != -EAGAIN)
			return r;
		now = chan_mono_us();
		if (now >= end)
			return -ETIMEDOUT;
		/* Wake for the handshake deadline too, so it can fire. */
		dl = vs_chan_conn__deadline_us(c);
		wake = dl && dl < end ? dl + 1000 : end;
		if (wake <= now)
			wake = now + 1000;
		r = wait_fd(vs_chan_conn__fd(c), vs_chan_conn__events(c),
			    (int)((wake - now + 999) / 1000));
		if (r && r != -ETIMEDOUT)
			return r;
	}
}

int vs_chan_conn__handshake_wait(struct vs_chan_conn *c, int timeout_ms)
{
	return drive(c, vs_chan_conn__handshake, timeout_ms);
}

int vs_chan_conn__flush_wait(struct vs_chan_conn *c, int timeout_ms)
{
	return drive(c, vs_chan_conn__flush, timeout_ms);
}

int vs_chan_conn__send_wait(struct vs_chan_conn *c, uint8_t type,
			    const void *p, size_t n, int timeout_ms)
{
	int r = vs_chan_conn__send(c, type, p, n);

	if (r == -ENOBUFS) {
		r = vs_chan_conn__flush_wait(c, timeout_ms);
		if (!r)
			r = vs_chan_conn__send(c, type, p, n);
	}
	return r ?: vs_chan_conn__flush_wait(c, timeout_ms);
}

int vs_chan_conn__recv_wait(struct vs_chan_conn *c, struct vs_chan_frame *f,
			    int timeout_ms)
{
	uint64_t end = chan_mono_us() + (uint64_t)timeout_ms * 1000u, now;
	int r;

	for (;;) {
		r = vs_chan_conn__flush(c);
		if (r && r != -EAGAIN)
			return r;
		r = vs_chan_conn__recv(c, f);
		if (r != -EAGAIN)
			return r;
		now = chan_mono_us();
		if (now >= end)
			return -ETIMEDOUT;
		r = wait_fd(vs_chan_conn__fd(c), vs_chan_conn__events(c),
			    (int)((end - now + 999) / 1000));
		if (r && r != -ETIMEDOUT)
			return r;
	}
}

static int bind_local(int fd, const char *bind_ip, int family)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;

	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		if (inet_pton(AF_INET, bind_ip, &s4->sin_addr) != 1)
			return -EINVAL;
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, bind_ip, &s6->sin6_addr) != 1)
			return -EINVAL;
		sl = sizeof(*s6);
	}
	return bind(fd, (struct sockaddr *)&ss, sl) < 0 ? -errno : 0;
}

static int connect_one(const struct addrinfo *ai, const char *bind_ip,
		       int timeout_ms)
{
	int fd, err = 0;
	socklen_t sl = sizeof(err);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
					   SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -errno;
	if (bind_ip && bind_ip[0])
		err = bind_local(fd, bind_ip, ai->ai_family);
	if (!err && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		err = errno == EINPROGRESS ? wait_fd(fd, POLLOUT, timeout_ms) :
					     -errno;
		if (!err && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) <
				    0)
			err = errno;
		if (err > 0)
			err = -err;
	}
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

struct vs_chan_conn *vs_chan__connect(struct vs_chan_ctx *ctx, const char *host,
				      uint16_t port, const char *bind_ip,
				      int timeout_ms)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	struct vs_chan_conn *c = NULL;
	char svc[8];
	int fd = -ENOENT, r;

	snprintf(svc, sizeof(svc), "%u", port);
	r = getaddrinfo(host, svc, &hints, &res);
	if (r) {
		vs_err("channel: cannot resolve %s: %s", host, gai_strerror(r));
		errno = EHOSTUNREACH;
		return NULL;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = connect_one(ai, bind_ip, timeout_ms);
		if (fd >= 0)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		vs_err("channel: cannot connect to %s port %u: %s", host, port,
		       strerror(-fd));
		errno = -fd;
		return NULL;
	}
	c = vs_chan_conn__new(ctx, fd);
	if (!c) {
		close(fd);
		return NULL;
	}
	r = vs_chan_conn__handshake_wait(c, timeout_ms);
	if (r) {
		if (r == -ETIMEDOUT && !vs_chan_conn__error(c)[0])
			vs_err("channel: %s port %u: handshake timed out", host,
			       port);
		vs_chan_conn__free(c);
		errno = -r;
		return NULL;
	}
	return c;
}

int vs_chan__listen(const char *bind_ip, uint16_t port, int backlog)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port) };
	struct sockaddr_in s4 = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	struct sockaddr *sa = (struct sockaddr *)&s6;
	socklen_t sl = sizeof(s6);
	int fd, one = 1, err;

	if (bind_ip && bind_ip[0] && strcmp(bind_ip, "::") &&
	    inet_pton(AF_INET6, bind_ip, &s6.sin6_addr) != 1) {
		if (inet_pton(AF_INET, bind_ip, &s4.sin_addr) != 1)
			return -EINVAL;
		sa = (struct sockaddr *)&s4;
		sl = sizeof(s4);
	}
	if (bind_ip && !strcmp(bind_ip, "0.0.0.0")) {
		sa = (struct sockaddr *)&s4;
		sl = sizeof(s4);
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, sa, sl) < 0 || listen(fd, backlog) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

size_t vs_chan__addr_ip_len(const char *addr)
{
	const char *colon = strrchr(addr, ':');

	if (addr[0] == '[')
		return strcspn(addr, "]") + 1;
	return colon ? (size_t)(colon - addr) : strlen(addr);
}
