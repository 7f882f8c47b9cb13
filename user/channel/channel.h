/* SPDX-License-Identifier: GPL-2.0-or-later */
/* channel/: the sensor-to-server connection (docs/channel.md).
 *
 * TCP from the sensor to the server, TLS 1.3, then a mutual challenge-
 * response on server_password bound to the TLS session, then typed frames
 * (wire.h) compressed per server_type_compress.
 *
 * One vs_chan_ctx per role and process (it holds the TLS context, the
 * password-derived key and, on a server, the per-source back-off table), one
 * vs_chan_conn per TCP connection. A conn is driven by its fd's readiness
 * events, so that an epoll loop can serve many of them; blocking helpers
 * (vs_chan__connect, vs_chan_conn__*_wait) are there for simple clients and
 * tests. A conn belongs to one thread at a time; a ctx may be shared. */
#ifndef VS_CHANNEL_H
#define VS_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "channel/wire.h"

enum vs_chan_role {
	VS_CHAN_SERVER = 0, /* accepts; server_bind */
	VS_CHAN_SENSOR = 1, /* connects; server_destination */
};

enum vs_chan_mode {
	VS_CHAN_MODE_LOCAL = 0,  /* packetbuffer_sender = no: sends CDRs */
	VS_CHAN_MODE_MIRROR = 1, /* packetbuffer_sender = yes: sends packets */
	VS_CHAN_MODE_RELAY = 2,  /* intermediate server forwarding sensors */
};

struct vs_chan_peer;

/* The server's last word before it sends AUTH_OK, e.g. to refuse a second
 * live connection with the same id_sensor: return 0 to accept, or write a
 * reason into why and return nonzero to refuse (the sensor gets
 * VS_CHAN_E_REFUSED and the reason). */
typedef int (*vs_chan_accept_fn)(void *arg, const struct vs_chan_peer *peer,
				 char *why, size_t why_size);

/* Everything the channel needs from the configuration. Strings are copied
 * by vs_chan_ctx__new; NULL or 0 means the default in brackets. */
struct vs_chan_opts {
	enum vs_chan_role role;
	const char *password;           /* server_password [""] */
	enum vs_chan_compress compress; /* server_type_compress [zstd when
					 * compress_set is false] */
	bool compress_set;
	unsigned max_time_diff_s;       /* client_server_connect_maximum_
					 * time_diff_s [2]; 0 = default */
	uint16_t id_sensor;             /* id_sensor (sensor, relay) */
	const char *name;               /* sensor name [hostname] */
	const char *version;            /* software version [VS_VERSION] */
	enum vs_chan_mode mode;         /* packetbuffer_sender; relay */

	/* Server side. */
	const char *tls_cert;  /* server_tls_cert: PEM certificate chain */
	const char *tls_key;   /* server_tls_key: PEM private key */
	const char *tls_dir;   /* without the two above: spooldir, where
				* channel-cert.pem and channel-key.pem are
				* generated on first start and reused */
	vs_chan_accept_fn accept_cb;
	void *accept_arg;
	unsigned backoff_max_s; /* cap of the per-source back-off [60] */

	/* Sensor side: with neither, the first certificate seen is trusted
	 * (and its fingerprint logged with a warning). */
	const char *tls_fingerprint; /* server_tls_fingerprint: SHA-256 of the
				      * server certificate, hex, colons
				      * optional */
	const char *tls_ca;          /* server_tls_ca: PEM CA file */

	uint32_t max_frame;      /* largest frame payload [4 MiB] */
	size_t max_queue;        /* bytes queued for sending before
				  * vs_chan_conn__send says -ENOBUFS [32 MiB] */
	unsigned hs_timeout_ms;  /* handshake deadline [10000] */

	/* Wall clock in microseconds since the epoch [CLOCK_REALTIME]; tests
	 * inject skew here. */
	uint64_t (*clock_us)(void *arg);
	void *clock_arg;
};

/* What the other side said about itself in the handshake. */
struct vs_chan_peer {
	uint32_t proto;
	uint16_t id_sensor;          /* the sensor's (server side) */
	enum vs_chan_mode mode;
	enum vs_chan_compress compress; /* what the peer sends with */
	char name[65];
	char version[33];
	int64_t clock_diff_us;       /* peer's clock minus ours */
	char addr[64];               /* "ip:port" of the TCP peer */
	char fingerprint[96];        /* server certificate, SHA-256,
				      * AB:CD:.. (sensor side) */
};

#define VS_CHAN_CTX_STATS(X)                                               \
	X(hs_ok)                                                            \
	X(hs_bad_password)                                                  \
	X(hs_clock_skew)                                                    \
	X(hs_backoff)      /* refused while the source was backing off */  \
	X(hs_refused)      /* by the accept hook */                        \
	X(hs_cert)         /* certificate or pin mismatch */               \
	X(hs_proto)        /* malformed handshake, version, TLS error */   \
	X(hs_timeout)                                                       \
	X(conn_frame_err)  /* connections closed for a bad frame */

struct vs_chan_ctx_stats {
#define VS_X(n) uint64_t n;
	VS_CHAN_CTX_STATS(VS_X)
#undef VS_X
};

struct vs_chan_ctx;
struct vs_chan_conn;

/* NULL + errno (the cause is logged). A server without tls_cert/tls_key
 * loads or creates its certificate in tls_dir; a sensor loads tls_ca. The
 * password is stretched here once (PBKDF2), which takes ~50 ms. */
struct vs_chan_ctx *vs_chan_ctx__new(const struct vs_chan_opts *o);
void vs_chan_ctx__free(struct vs_chan_ctx *ctx);
/* The server certificate's SHA-256 fingerprint, AB:CD:.. ("" on a sensor). */
const char *vs_chan_ctx__fingerprint(const struct vs_chan_ctx *ctx);
/* A consistent copy of the handshake counters. */
void vs_chan_ctx__stats(struct vs_chan_ctx *ctx, struct vs_chan_ctx_stats *st);

/* Takes ownership of a connected TCP (or AF_UNIX, for tests) socket and
 * makes it non-blocking; the conn's role is its ctx's. NULL + errno. */
struct vs_chan_conn *vs_chan_conn__new(struct vs_chan_ctx *ctx, int fd);
/* Sends a TLS close_notify if it can without blocking, closes the fd. */
void vs_chan_conn__free(struct vs_chan_conn *c);
int vs_chan_conn__fd(const struct vs_chan_conn *c);

/* Advances TLS and the channel handshake as far as the socket allows; call
 * it on every readiness event until it returns 0 (done: frames may flow) or
 * an error other than -EAGAIN, then wait for vs_chan_conn__events().
 * Errors (logged once by the conn, text in vs_chan_conn__error):
 *   -EACCES bad password (either side), -ERANGE clock skew, -EBUSY source
 *   backing off, -ECONNREFUSED refused by the accept hook, -EPERM server
 *   certificate not trusted (pin or CA), -EPROTONOSUPPORT protocol version,
 *   -EPROTO malformed handshake, -ETIMEDOUT past hs_timeout_ms,
 *   -ECONNRESET peer closed, -EIO TLS failure. */
int vs_chan_conn__handshake(struct vs_chan_conn *c);
/* POLLIN / POLLOUT bits (equal to EPOLLIN / EPOLLOUT) the conn waits for. */
unsigned vs_chan_conn__events(const struct vs_chan_conn *c);
/* Monotonic microseconds after which the handshake has failed; 0 once done.
 * vs_chan_conn__handshake checks it too, but only when called. */
uint64_t vs_chan_conn__deadline_us(const struct vs_chan_conn *c);
bool vs_chan_conn__ready(const struct vs_chan_conn *c);
const struct vs_chan_peer *vs_chan_conn__peer(const struct vs_chan_conn *c);
/* Why the conn failed, in words ("" while healthy). */
const char *vs_chan_conn__error(const struct vs_chan_conn *c);

/* Queues one frame, compressed as negotiated; 0, -ENOBUFS (queue above
 * max_queue: nothing was queued, the stream is intact), -ENOTCONN before
 * the handshake is done, or a fatal error (close the conn). */
int vs_chan_conn__send(struct vs_chan_conn *c, uint8_t type, const void *p,
		       size_t n);
/* Queues ERROR(code, text) and logs it. */
int vs_chan_conn__send_error(struct vs_chan_conn *c, uint16_t code,
			     const char *text);
/* Writes queued bytes: 0 when the queue is empty, -EAGAIN when the socket
 * is full (wait for vs_chan_conn__events), or a fatal error. */
int vs_chan_conn__flush(struct vs_chan_conn *c);
size_t vs_chan_conn__queued(const struct vs_chan_conn *c);

/* Next received frame: 0 with *f set (valid until the next recv on this
 * conn; call again, more may be buffered), -EAGAIN when the socket has no
 * more, -ECONNRESET when the peer closed, or a fatal error: a malformed,
 * oversized, unknown or undecodable frame gives -EPROTO, -EMSGSIZE, -ENOMSG
 * or -EBADMSG and a log line naming the peer. */
int vs_chan_conn__recv(struct vs_chan_conn *c, struct vs_chan_frame *f);

/* A per-conn scratch buffer, emptied, to build a payload in without
 * allocating (wire.h builders), then pass to vs_chan_conn__send. */
struct vs_buf *vs_chan_conn__scratch(struct vs_chan_conn *c);

const struct vs_chan_dec_stats *vs_chan_conn__rx_stats(const struct vs_chan_conn *c);
const struct vs_chan_enc_stats *vs_chan_conn__tx_stats(const struct vs_chan_conn *c);

/* --- blocking helpers (block.c) -----------------------------------------*/

/* Resolves host (name or address), connects from bind_ip when set
 * (manager_ip), and runs the handshake; timeout_ms bounds each step. NULL +
 * errno (the handshake's errors above). */
struct vs_chan_conn *vs_chan__connect(struct vs_chan_ctx *ctx, const char *host,
				      uint16_t port, const char *bind_ip,
				      int timeout_ms);
/* A listening TCP socket on bind_ip:port (NULL = any), non-blocking: fd or
 * a negative errno. */
int vs_chan__listen(const char *bind_ip, uint16_t port, int backlog);
/* The loops of the calls above with poll(); -ETIMEDOUT after timeout_ms. */
int vs_chan_conn__handshake_wait(struct vs_chan_conn *c, int timeout_ms);
int vs_chan_conn__flush_wait(struct vs_chan_conn *c, int timeout_ms);
int vs_chan_conn__send_wait(struct vs_chan_conn *c, uint8_t type,
			    const void *p, size_t n, int timeout_ms);
int vs_chan_conn__recv_wait(struct vs_chan_conn *c, struct vs_chan_frame *f,
			    int timeout_ms);

/* Length of the address part of a peer's "ip:port" or "[v6]:port" (the
 * brackets included): the same host reconnecting from another port. */
size_t vs_chan__addr_ip_len(const char *addr);

/* "AB:CD:..." from 32 digest bytes; out >= 96. */
void vs_chan__fp_format(const uint8_t md[32], char *out);
/* Hex with or without ':' separators, either case: 0 or -EINVAL. */
int vs_chan__fp_parse(const char *s, uint8_t md[32]);

#endif
