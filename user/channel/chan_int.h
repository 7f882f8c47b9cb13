/* SPDX-License-Identifier: GPL-2.0-or-later */
/* channel/ internals shared by its files; not for other stages. */
#ifndef VS_CHAN_INT_H
#define VS_CHAN_INT_H

#include <openssl/ssl.h>
#include <pthread.h>

#include "channel/channel.h"
#include "core/addr.h"

#define CHAN_KEY_LEN 32
#define CHAN_NONCE_LEN 32
#define CHAN_MAC_LEN 32
/* 2: CDR bodies may be binary (cdr/cdr_bin.h). A server also takes
 * protocol-1 sensors (JSON bodies); a sensor wants a server of 2, since an
 * older one could not read what its spool holds. */
#define CHAN_PROTO 2
#define CHAN_PROTO_MIN 1
#define CHAN_BACKOFF_SLOTS 256
#define CHAN_EXPORTER_LABEL "EXPORTER-voxsense-channel-auth-v1"

/* A source address that recently failed authentication. */
struct chan_backoff {
	struct vs_addr addr;
	uint32_t fails;
	uint64_t until_us; /* monotonic: refuse before this */
	uint64_t last_us;  /* monotonic: last failure, for eviction */
};

struct vs_chan_ctx {
	enum vs_chan_role role;
	uint8_t key[CHAN_KEY_LEN]; /* PBKDF2(server_password) */
	enum vs_chan_compress compress;
	uint64_t max_diff_us;
	uint16_t id_sensor;
	enum vs_chan_mode mode;
	char name[65];
	char version[33];
	vs_chan_accept_fn accept_cb;
	void *accept_arg;
	unsigned backoff_max_s;
	bool pin_set;
	uint8_t pin[32];
	bool ca_set;
	/* Trust on first use: the certificate accepted without a pin, so a
	 * reconnect to the same one is quiet and a different one is loud. */
	bool tofu_set;
	uint8_t tofu[32];
	uint32_t max_frame;
	size_t max_queue;
	unsigned hs_timeout_ms;
	uint64_t (*clock_us)(void *arg);
	void *clock_arg;
	SSL_CTX *ssl;
	BIO_METHOD *bio; /* socket writes without SIGPIPE */
	char fingerprint[96];

	pthread_mutex_t lock; /* guards what follows */
	struct chan_backoff bo[CHAN_BACKOFF_SLOTS];
	struct vs_chan_ctx_stats st;
};

enum chan_hs_state {
	HS_WAIT_HELLO,     /* server */
	HS_WAIT_CHALLENGE, /* sensor */
	HS_WAIT_RESPONSE,  /* server */
	HS_WAIT_OK,        /* sensor */
	HS_DONE,
	HS_FAILED,
};

/* The channel handshake without I/O: frames in, frames out. The conn feeds
 * it after TLS; the fuzzer feeds it directly. */
struct vs_chan_hs {
	struct vs_chan_ctx *ctx;
	enum chan_hs_state state;
	uint8_t exporter[32];
	uint8_t nonce[CHAN_NONCE_LEN];
	uint8_t h_hello[32]; /* SHA-256 of the HELLO payload */
	uint8_t h_chal[32];  /* SHA-256 of the AUTH_CHALLENGE payload */
	struct vs_chan_peer peer;
	int rc;
	char err[256];
};

uint64_t chan_now_us(const struct vs_chan_ctx *ctx);
uint64_t chan_mono_us(void);

/* hs.c */
void vs_chan_hs__init(struct vs_chan_hs *hs, struct vs_chan_ctx *ctx,
		      const uint8_t exporter[32]);
/* Sensor: appends HELLO to out. -EAGAIN (waiting) or a failure. */
int vs_chan_hs__start(struct vs_chan_hs *hs, struct vs_buf *out);
/* 0 when done, -EAGAIN for more, or a failure (hs->err says why; an ERROR
 * for the peer may have been appended to out). */
int vs_chan_hs__input(struct vs_chan_hs *hs, const struct vs_chan_frame *f,
		      struct vs_buf *out);

/* auth.c */
int chan_auth_derive(const char *password, uint8_t key[CHAN_KEY_LEN]);
void chan_auth_mac(const uint8_t key[CHAN_KEY_LEN], const char *label,
		   const struct vs_chan_hs *hs, uint8_t out[CHAN_MAC_LEN]);
void chan_hex(const uint8_t *p, size_t n, char *out);
int chan_unhex(const char *s, uint8_t *out, size_t n);

/* hello.c: the JSON of HELLO and AUTH_CHALLENGE. */
struct chan_hello {
	uint32_t proto;
	uint16_t id_sensor;
	enum vs_chan_mode mode;
	enum vs_chan_compress compress;
	char name[65];
	char version[33];
	uint64_t clock_us;
	uint8_t nonce[CHAN_NONCE_LEN];
};
int chan_hello_put(struct vs_buf *b, const struct chan_hello *h, bool sensor);
int chan_hello_parse(const uint8_t *p, size_t n, struct chan_hello *h,
		     bool sensor);

/* tls.c */
int chan_tls_server_ctx(struct vs_chan_ctx *ctx, const struct vs_chan_opts *o);
int chan_tls_client_ctx(struct vs_chan_ctx *ctx, const struct vs_chan_opts *o);
BIO_METHOD *chan_tls_bio_method(void);
/* Sensor, after the TLS handshake: fingerprint, pin check, log. 0/-EPERM. */
int chan_tls_check_server(struct vs_chan_ctx *ctx, SSL *ssl,
			  struct vs_chan_peer *peer, char *err, size_t esz);

/* ctx.c: per-source back-off (server). */
uint64_t chan_backoff_left(struct vs_chan_ctx *ctx, const struct vs_addr *a);
void chan_backoff_fail(struct vs_chan_ctx *ctx, const struct vs_addr *a);
void chan_backoff_clear(struct vs_chan_ctx *ctx, const struct vs_addr *a);
void chan_stat_hs(struct vs_chan_ctx *ctx, int rc);

#endif
