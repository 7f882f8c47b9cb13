// SPDX-License-Identifier: GPL-2.0-or-later
/* A channel connection: TLS over a non-blocking socket, the handshake, then
 * frames. Nothing here waits: every call does what the socket allows and
 * says what it waits for (vs_chan_conn__events), so one slow or hostile
 * peer never holds up an event loop serving the others. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "channel/chan_int.h"
#include "core/log.h"

#define CONN_RBUF (64u << 10)

enum conn_state { C_TLS, C_HS, C_OPEN, C_FAILED };

struct vs_chan_conn {
	struct vs_chan_ctx *ctx;
	int fd;
	SSL *ssl;
	enum conn_state state;
	int rc;
	unsigned rd_want, wr_want; /* what SSL_read / SSL_write wait for */
	uint64_t deadline_us;
	struct vs_addr addr;
	struct vs_chan_hs hs;
	struct vs_chan_enc enc;
	struct vs_chan_dec dec;
	struct vs_buf out;
	size_t out_off;            /* bytes of out already written */
	uint8_t *rbuf;
	size_t rlen, roff;
	struct vs_buf scratch;
	char err[300];
};

static void peer_name(struct vs_chan_conn *c)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char ip[VS_ADDR_STRLEN];
	uint16_t port = 0;

	snprintf(c->hs.peer.addr, sizeof(c->hs.peer.addr), "local");
	if (getpeername(c->fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		vs_addr_from_v4(&c->addr, &s4->sin_addr);
		port = ntohs(s4->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		vs_addr_from_v6(&c->addr, &s6->sin6_addr);
		port = ntohs(s6->sin6_port);
	} else {
		return;
	}
	vs_addr_str(&c->addr, ip, sizeof(ip));
	snprintf(c->hs.peer.addr, sizeof(c->hs.peer.addr),
		 vs_addr_is_v4(&c->addr) ? "%s:%u" : "[%s]:%u", ip, port);
}

struct vs_chan_conn *vs_chan_conn__new(struct vs_chan_ctx *ctx, int fd)
{
	struct vs_chan_conn *c = calloc(1, sizeof(*c));
	int fl = fcntl(fd, F_GETFL);
	BIO *bio;

	if (!c)
		return NULL;
	c->ctx = ctx;
	c->fd = fd;
	c->rbuf = malloc(CONN_RBUF);
	c->ssl = SSL_new(ctx->ssl);
	bio = BIO_new(ctx->bio);
	if (bio && c->ssl) {
		BIO_set_fd(bio, fd, BIO_NOCLOSE);
		SSL_set_bio(c->ssl, bio, bio);
		bio = NULL;
	}
	BIO_free(bio);
	if (!c->rbuf || !c->ssl || !SSL_get_rbio(c->ssl) || fl < 0 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		c->fd = -1; /* the caller keeps its fd on failure */
		vs_chan_conn__free(c);
		errno = ENOMEM;
		return NULL;
	}
	if (ctx->role == VS_CHAN_SERVER)
		SSL_set_accept_state(c->ssl);
	else
		SSL_set_connect_state(c->ssl);
	c->rd_want = POLLIN;
	c->wr_want = POLLOUT;
	c->deadline_us = chan_mono_us() + ctx->hs_timeout_ms * 1000ull;
	vs_chan_dec__init(&c->dec, VS_CHAN_HS_MAX_FRAME);
	peer_name(c);
	return c;
}

void vs_chan_conn__free(struct vs_chan_conn *c)
{
	if (!c)
		return;
	if (c->ssl && c->state == C_OPEN)
		SSL_shutdown(c->ssl); /* one try; never waits */
	SSL_free(c->ssl);
	ERR_clear_error();
	if (c->fd >= 0)
		close(c->fd);
	vs_chan_enc__fini(&c->enc);
	vs_chan_dec__fini(&c->dec);
	vs_buf__free(&c->out);
	vs_buf__free(&c->scratch);
	free(c->rbuf);
	free(c);
}

int vs_chan_conn__fd(const struct vs_chan_conn *c)
{
	return c->fd;
}

bool vs_chan_conn__ready(const struct vs_chan_conn *c)
{
	return c->state == C_OPEN;
}

const struct vs_chan_peer *vs_chan_conn__peer(const struct vs_chan_conn *c)
{
	return &c->hs.peer;
}

const char *vs_chan_conn__error(const struct vs_chan_conn *c)
{
	return c->err;
}

uint64_t vs_chan_conn__deadline_us(const struct vs_chan_conn *c)
{
	return c->state == C_OPEN ? 0 : c->deadline_us;
}

size_t vs_chan_conn__queued(const struct vs_chan_conn *c)
{
	return c->out.len - c->out_off;
}

struct vs_buf *vs_chan_conn__scratch(struct vs_chan_conn *c)
{
	c->scratch.len = 0;
	return &c->scratch;
}

const struct vs_chan_dec_stats *vs_chan_conn__rx_stats(const struct vs_chan_conn *c)
{
	return &c->dec.st;
}

const struct vs_chan_enc_stats *vs_chan_conn__tx_stats(const struct vs_chan_conn *c)
{
	return &c->enc.st;
}

unsigned vs_chan_conn__events(const struct vs_chan_conn *c)
{
	if (c->state == C_FAILED)
		return 0;
	if (c->state == C_TLS)
		return c->rd_want;
	return c->rd_want | (vs_chan_conn__queued(c) ? c->wr_want : 0);
}

static const char *role_of_peer(const struct vs_chan_conn *c)
{
	return c->ctx->role == VS_CHAN_SERVER ? "sensor" : "server";
}

static int conn_write(struct vs_chan_conn *c);

/* The one place a conn dies: records why, logs it once, counts it, and
 * gives queued bytes (an ERROR for the peer) one chance to leave. */
static int conn_fail(struct vs_chan_conn *c, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int conn_fail(struct vs_chan_conn *c, int rc, const char *fmt, ...)
{
	bool in_hs = c->state != C_OPEN;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	if (rc == -ECONNRESET && !in_hs)
		vs_info("channel: %s %s: %s", role_of_peer(c),
			c->hs.peer.addr, c->err);
	else
		vs_err("channel: %s %s: %s", role_of_peer(c),
		       c->hs.peer.addr, c->err);
	if (in_hs)
		chan_stat_hs(c->ctx, rc);
	c->state = C_FAILED;
	c->rc = rc;
	if (vs_chan_conn__queued(c) && c->ssl && SSL_is_init_finished(c->ssl))
		conn_write(c);
	return rc;
}

/* Maps an SSL result to -EAGAIN (setting what it waits for) or an error. */
static int ssl_result(struct vs_chan_conn *c, int ret, unsigned *want)
{
	int e = SSL_get_error(c->ssl, ret);
	unsigned long why;

	switch (e) {
	case SSL_ERROR_WANT_READ:
		*want = POLLIN;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		*want = POLLOUT;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return -ECONNRESET;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		return errno && errno != EAGAIN ? -errno : -ECONNRESET;
	default:
		why = ERR_peek_last_error();
		snprintf(c->err, sizeof(c->err), "TLS: %s",
			 why ? ERR_reason_error_string(why) ?: "error" :
			       "error");
		ERR_clear_error();
		return -EIO;
	}
}

int vs_chan_conn__flush(struct vs_chan_conn *c)
{
	if (c->state == C_FAILED)
		return c->rc;
	if (c->state == C_TLS)
		return -ENOTCONN;
	return conn_write(c);
}

/* Writes the queue; also used once by conn_fail on a failed conn. */
static int conn_write(struct vs_chan_conn *c)
{
	size_t n;
	int r;

	while (c->out_off < c->out.len) {
		n = c->out.len - c->out_off;
		ERR_clear_error();
		r = SSL_write(c->ssl, c->out.p + c->out_off,
			      (int)(n > (1u << 30) ? 1u << 30 : n));
		if (r > 0) {
			c->out_off += r;
			continue;
		}
		r = ssl_result(c, r, &c->wr_want);
		if (r == -EAGAIN || c->state == C_FAILED)
			return r;
		return conn_fail(c, r, "write failed: %s",
				 r == -EIO ? c->err : strerror(-r));
	}
	c->out.len = c->out_off = 0;
	c->wr_want = POLLOUT;
	return 0;
}

/* Next frame from what was read, reading more when needed. */
static int conn_next(struct vs_chan_conn *c, struct vs_chan_frame *f)
{
	const uint8_t *p;
	size_t n;
	int r;

	for (;;) {
		p = c->rbuf + c->roff;
		n = c->rlen - c->roff;
		r = vs_chan_dec__next(&c->dec, &p, &n, f);
		c->roff = p - c->rbuf;
		if (r != -EAGAIN)
			return r;
		c->roff = c->rlen = 0;
		ERR_clear_error();
		r = SSL_read(c->ssl, c->rbuf, CONN_RBUF);
		if (r <= 0)
			return ssl_result(c, r, &c->rd_want);
		c->rlen = r;
		c->rd_want = POLLIN;
	}
}

int vs_chan_conn__recv(struct vs_chan_conn *c, struct vs_chan_frame *f)
{
	char text[VS_CHAN_ERR_TEXT_MAX + 1];
	uint16_t code;
	int r;

	if (c->state != C_OPEN)
		return c->state == C_FAILED ? c->rc : -ENOTCONN;
	r = conn_next(c, f);
	if (r == -EAGAIN)
		return r;
	if (r == -ECONNRESET)
		return conn_fail(c, r, "connection closed by the peer");
	if (r == -EIO && c->err[0])
		return conn_fail(c, r, "%s", c->err);
	if (r < 0 && c->dec.err) {
		pthread_mutex_lock(&c->ctx->lock);
		c->ctx->st.conn_frame_err++;
		pthread_mutex_unlock(&c->ctx->lock);
		return conn_fail(c, r, "closing: %s", c->dec.why);
	}
	if (r < 0)
		return conn_fail(c, r, "read failed: %s", strerror(-r));
	if (f->type == VS_CHAN_ERROR &&
	    !vs_chan_error__parse(f->data, f->len, &code, text, sizeof(text)))
		vs_warn("channel: %s %s says: %s", role_of_peer(c),
			c->hs.peer.addr, text);
	return 0;
}

int vs_chan_conn__send(struct vs_chan_conn *c, uint8_t type, const void *p,
		       size_t n)
{
	int r;

	if (c->state != C_OPEN)
		return c->state == C_FAILED ? c->rc : -ENOTCONN;
	if (c->out_off && c->out_off >= c->out.len / 2) {
		memmove(c->out.p, c->out.p + c->out_off,
			c->out.len - c->out_off);
		c->out.len -= c->out_off;
		c->out_off = 0;
	}
	r = vs_chan_enc__frame(&c->enc, &c->out, type, p, n,
			       c->out_off + c->ctx->max_queue);
	if (r && r != -ENOBUFS)
		return conn_fail(c, r, "cannot encode %s: %s",
				 vs_chan_type__name(type), strerror(-r));
	return r;
}

int vs_chan_conn__send_error(struct vs_chan_conn *c, uint16_t code,
			     const char *text)
{
	struct vs_buf *b = vs_chan_conn__scratch(c);
	int r = vs_chan_error__put(b, code, text);

	vs_warn("channel: %s %s: sending error: %s", role_of_peer(c),
		c->hs.peer.addr, text);
	return r ?: vs_chan_conn__send(c, VS_CHAN_ERROR, b->p, b->len);
}

/* --- handshake --------------------------------------------------------*/

static int hs_refuse_backoff(struct vs_chan_conn *c, uint64_t left_us)
{
	char text[160];
	struct vs_buf pl = { 0 };

	snprintf(text, sizeof(text),
		 "too many failed attempts from this address: retry in %.0f s",
		 (double)left_us / 1e6 + 0.5);
	if (!vs_chan_error__put(&pl, VS_CHAN_E_BACKOFF, text))
		vs_chan__frame_raw(&c->out, VS_CHAN_ERROR, pl.p, pl.len, 0);
	vs_buf__free(&pl);
	return conn_fail(c, -EBUSY, "refused: %s", text);
}

/* TLS is up: bind the handshake to it and take the first step. */
static int tls_done(struct vs_chan_conn *c)
{
	struct vs_chan_ctx *ctx = c->ctx;
	char addr[sizeof(c->hs.peer.addr)], why[300];
	uint8_t exp[32];
	uint64_t left;
	int r;

	if (SSL_export_keying_material(c->ssl, exp, sizeof(exp),
				       CHAN_EXPORTER_LABEL,
				       strlen(CHAN_EXPORTER_LABEL), NULL, 0,
				       0) != 1)
		return conn_fail(c, -EIO, "TLS keying material exporter failed");
	memcpy(addr, c->hs.peer.addr, sizeof(addr));
	vs_chan_hs__init(&c->hs, ctx, exp);
	memcpy(c->hs.peer.addr, addr, sizeof(addr));
	c->state = C_HS;
	if (ctx->role == VS_CHAN_SENSOR) {
		r = chan_tls_check_server(ctx, c->ssl, &c->hs.peer, why,
					  sizeof(why));
		if (r)
			return conn_fail(c, r, "%s", why);
	} else {
		left = chan_backoff_left(ctx, &c->addr);
		if (left)
			return hs_refuse_backoff(c, left);
	}
	r = vs_chan_hs__start(&c->hs, &c->out);
	if (r != -EAGAIN)
		return conn_fail(c, r, "%s", c->hs.err);
	return 0;
}

static int tls_fail(struct vs_chan_conn *c, int r)
{
	char why[300];
	long v;

	if (c->ctx->role == VS_CHAN_SENSOR) {
		v = SSL_get_verify_result(c->ssl);
		if (v != X509_V_OK)
			return conn_fail(c, -EPERM,
					 "server certificate not trusted: %s",
					 X509_verify_cert_error_string(v));
	}
	if (r == -EIO) {
		snprintf(why, sizeof(why), "%s", c->err);
		return conn_fail(c, r, "TLS handshake failed: %s", why);
	}
	return conn_fail(c, r, "TLS handshake failed: %s",
			 r == -ECONNRESET ? "connection closed by the peer" :
					    strerror(-r));
}

static int hs_open(struct vs_chan_conn *c)
{
	struct vs_chan_ctx *ctx = c->ctx;
	const struct vs_chan_peer *p = &c->hs.peer;
	int r;

	r = vs_chan_enc__init(&c->enc, ctx->compress);
	if (r)
		return conn_fail(c, r, "cannot set up %s compression",
				 vs_chan_compress__name(ctx->compress));
	vs_chan_dec__allow(&c->dec, p->compress);
	c->dec.max_frame = ctx->max_frame;
	c->state = C_OPEN;
	chan_stat_hs(ctx, 0);
	if (ctx->role == VS_CHAN_SERVER) {
		chan_backoff_clear(ctx, &c->addr);
		vs_info("channel: sensor %u \"%s\" (%s, %s, %s) connected from %s, clock %+.3f s",
			p->id_sensor, p->name, p->version,
			p->mode == VS_CHAN_MODE_MIRROR ? "mirror" :
			p->mode == VS_CHAN_MODE_RELAY ? "relay" : "local",
			vs_chan_compress__name(p->compress), p->addr,
			(double)p->clock_diff_us / 1e6);
	} else {
		vs_info("channel: connected to server %s \"%s\" (%s), clock %+.3f s",
			p->addr, p->name, p->version,
			(double)p->clock_diff_us / 1e6);
	}
	r = vs_chan_conn__flush(c);
	return r == -EAGAIN ? 0 : r;
}

static int hs_step(struct vs_chan_conn *c)
{
	struct vs_chan_frame f;
	char why[300];
	int r;

	for (;;) {
		r = vs_chan_conn__flush(c);
		if (r && r != -EAGAIN)
			return r;
		r = conn_next(c, &f);
		if (r == -EAGAIN)
			return r;
		if (r == -ECONNRESET)
			return conn_fail(c, r, "connection closed during the handshake");
		if (r < 0 && c->dec.err)
			return conn_fail(c, r, "bad frame in the handshake: %s",
					 c->dec.why);
		if (r == -EIO) {
			snprintf(why, sizeof(why), "%s", c->err);
			return conn_fail(c, r, "handshake failed: %s", why);
		}
		if (r < 0)
			return conn_fail(c, r, "handshake read failed: %s",
					 strerror(-r));
		r = vs_chan_hs__input(&c->hs, &f, &c->out);
		if (r == -EAGAIN)
			continue;
		if (!r)
			return hs_open(c);
		if (r == -EACCES && c->ctx->role == VS_CHAN_SERVER)
			chan_backoff_fail(c->ctx, &c->addr);
		return conn_fail(c, r, "%s", c->hs.err);
	}
}

int vs_chan_conn__handshake(struct vs_chan_conn *c)
{
	int r;

	if (c->state == C_OPEN)
		return 0;
	if (c->state == C_FAILED)
		return c->rc;
	if (chan_mono_us() > c->deadline_us)
		return conn_fail(c, -ETIMEDOUT, "handshake timed out after %u ms",
				 c->ctx->hs_timeout_ms);
	if (c->state == C_TLS) {
		ERR_clear_error();
		r = SSL_do_handshake(c->ssl);
		if (r != 1) {
			r = ssl_result(c, r, &c->rd_want);
			return r == -EAGAIN ? r : tls_fail(c, r);
		}
		c->rd_want = POLLIN;
		r = tls_done(c);
		if (r)
			return r;
	}
	return hs_step(c);
}
