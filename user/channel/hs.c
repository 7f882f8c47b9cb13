// SPDX-License-Identifier: GPL-2.0-or-later
/* The channel handshake, after TLS (docs/channel.md):
 *
 *   sensor                                 server
 *   HELLO {proto, id_sensor, .., clock, Nc}  ->
 *                  <-  AUTH_CHALLENGE {proto, .., clock, Ns}
 *   AUTH_RESPONSE HMAC(K, "client" | E | th) ->
 *                  <-  AUTH_OK HMAC(K, "server" | E | th)   (or ERROR)
 *
 * K is the stretched password, E the TLS exporter, th the hashes of the
 * HELLO and AUTH_CHALLENGE payloads. The server checks the password first,
 * then the clock, then its accept hook; the sensor checks the server's proof
 * and then its own clock limit. Every refusal is an ERROR frame with a code
 * and words, so both logs say the same thing. */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel/chan_int.h"

#define MAC_CLIENT "voxsense-channel-v1 sensor proof"
#define MAC_SERVER "voxsense-channel-v1 server proof"

void vs_chan_hs__init(struct vs_chan_hs *hs, struct vs_chan_ctx *ctx,
		      const uint8_t exporter[32])
{
	memset(hs, 0, sizeof(*hs));
	hs->ctx = ctx;
	memcpy(hs->exporter, exporter, 32);
	hs->state = ctx->role == VS_CHAN_SERVER ? HS_WAIT_HELLO :
						 HS_WAIT_CHALLENGE;
}

/* Records the failure; with code != 0 also tells the peer. */
static int hs_fail(struct vs_chan_hs *hs, struct vs_buf *out, int rc,
		   uint16_t code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int hs_fail(struct vs_chan_hs *hs, struct vs_buf *out, int rc,
		   uint16_t code, const char *fmt, ...)
{
	struct vs_buf pl = { 0 };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(hs->err, sizeof(hs->err), fmt, ap);
	va_end(ap);
	if (code && out && !vs_chan_error__put(&pl, code, hs->err))
		vs_chan__frame_raw(out, VS_CHAN_ERROR, pl.p, pl.len, 0);
	vs_buf__free(&pl);
	hs->state = HS_FAILED;
	hs->rc = rc;
	return rc;
}

/* The peer refused us: its words become ours. */
static int hs_peer_error(struct vs_chan_hs *hs, const struct vs_chan_frame *f)
{
	char text[VS_CHAN_ERR_TEXT_MAX + 1];
	uint16_t code;

	if (vs_chan_error__parse(f->data, f->len, &code, text, sizeof(text)))
		return hs_fail(hs, NULL, -EPROTO, 0, "malformed ERROR frame");
	return hs_fail(hs, NULL, vs_chan_error__errno(code), 0,
		       "%s refused: %s",
		       hs->ctx->role == VS_CHAN_SERVER ? "sensor" : "server",
		       text);
}

static void our_hello(const struct vs_chan_hs *hs, struct chan_hello *h)
{
	const struct vs_chan_ctx *ctx = hs->ctx;

	memset(h, 0, sizeof(*h));
	h->proto = CHAN_PROTO;
	h->id_sensor = ctx->id_sensor;
	h->mode = ctx->mode;
	h->compress = ctx->compress;
	snprintf(h->name, sizeof(h->name), "%s", ctx->name);
	snprintf(h->version, sizeof(h->version), "%s", ctx->version);
	h->clock_us = chan_now_us(ctx);
	memcpy(h->nonce, hs->nonce, CHAN_NONCE_LEN);
}

static void take_peer(struct vs_chan_hs *hs, const struct chan_hello *h,
		      uint64_t now)
{
	struct vs_chan_peer *p = &hs->peer;

	p->proto = h->proto;
	p->id_sensor = h->id_sensor;
	p->mode = h->mode;
	p->compress = h->compress;
	memcpy(p->name, h->name, sizeof(p->name));
	memcpy(p->version, h->version, sizeof(p->version));
	p->clock_diff_us = (int64_t)(h->clock_us - now);
}

/* Appends our HELLO or AUTH_CHALLENGE and hashes it into hash. */
static int send_hello(struct vs_chan_hs *hs, struct vs_buf *out, uint8_t type,
		      uint8_t hash[32])
{
	struct vs_buf pl = { 0 };
	struct chan_hello h;
	int err;

	if (RAND_bytes(hs->nonce, CHAN_NONCE_LEN) != 1)
		return hs_fail(hs, out, -EIO, VS_CHAN_E_INTERNAL,
			       "no random bytes for the nonce");
	our_hello(hs, &h);
	err = chan_hello_put(&pl, &h, type == VS_CHAN_HELLO);
	if (!err)
		err = vs_chan__frame_raw(out, type, pl.p, pl.len, 0);
	if (!err)
		SHA256(pl.p, pl.len, hash);
	vs_buf__free(&pl);
	if (err)
		return hs_fail(hs, out, err, 0, "cannot build %s",
			       vs_chan_type__name(type));
	return -EAGAIN;
}

int vs_chan_hs__start(struct vs_chan_hs *hs, struct vs_buf *out)
{
	if (hs->ctx->role == VS_CHAN_SERVER)
		return -EAGAIN;
	return send_hello(hs, out, VS_CHAN_HELLO, hs->h_hello);
}

static bool skewed(const struct vs_chan_hs *hs)
{
	int64_t d = hs->peer.clock_diff_us;

	return (uint64_t)(d < 0 ? -d : d) > hs->ctx->max_diff_us;
}

static double diff_s(const struct vs_chan_hs *hs)
{
	return (double)hs->peer.clock_diff_us / 1e6;
}

static int server_hello(struct vs_chan_hs *hs, const struct vs_chan_frame *f,
			struct vs_buf *out)
{
	uint64_t now = chan_now_us(hs->ctx);
	struct chan_hello h;

	if (chan_hello_parse(f->data, f->len, &h, true))
		return hs_fail(hs, out, -EPROTO, VS_CHAN_E_MALFORMED,
			       "malformed HELLO");
	take_peer(hs, &h, now);
	if (h.proto < CHAN_PROTO_MIN || h.proto > CHAN_PROTO)
		return hs_fail(hs, out, -EPROTONOSUPPORT,
			       VS_CHAN_E_PROTO_VERSION,
			       "protocol version %u not supported (server speaks %u..%u)",
			       h.proto, CHAN_PROTO_MIN, CHAN_PROTO);
	SHA256(f->data, f->len, hs->h_hello);
	hs->state = HS_WAIT_RESPONSE;
	return send_hello(hs, out, VS_CHAN_AUTH_CHALLENGE, hs->h_chal);
}

static int sensor_challenge(struct vs_chan_hs *hs,
			    const struct vs_chan_frame *f, struct vs_buf *out)
{
	uint64_t now = chan_now_us(hs->ctx);
	uint8_t mac[CHAN_MAC_LEN];
	struct chan_hello h;

	if (chan_hello_parse(f->data, f->len, &h, false))
		return hs_fail(hs, out, -EPROTO, VS_CHAN_E_MALFORMED,
			       "malformed AUTH_CHALLENGE");
	take_peer(hs, &h, now);
	if (h.proto != CHAN_PROTO)
		return hs_fail(hs, out, -EPROTONOSUPPORT,
			       VS_CHAN_E_PROTO_VERSION,
			       "protocol version %u not supported (sensor speaks %u)",
			       h.proto, CHAN_PROTO);
	SHA256(f->data, f->len, hs->h_chal);
	chan_auth_mac(hs->ctx->key, MAC_CLIENT, hs, mac);
	if (vs_chan__frame_raw(out, VS_CHAN_AUTH_RESPONSE, mac, sizeof(mac), 0))
		return hs_fail(hs, out, -ENOMEM, 0, "out of memory");
	hs->state = HS_WAIT_OK;
	return -EAGAIN;
}

static int server_response(struct vs_chan_hs *hs,
			   const struct vs_chan_frame *f, struct vs_buf *out)
{
	const struct vs_chan_ctx *ctx = hs->ctx;
	uint8_t mac[CHAN_MAC_LEN];
	char why[200] = "";

	if (f->len != CHAN_MAC_LEN)
		return hs_fail(hs, out, -EPROTO, VS_CHAN_E_MALFORMED,
			       "malformed AUTH_RESPONSE");
	chan_auth_mac(ctx->key, MAC_CLIENT, hs, mac);
	if (CRYPTO_memcmp(mac, f->data, CHAN_MAC_LEN))
		return hs_fail(hs, out, -EACCES, VS_CHAN_E_BAD_PASSWORD,
			       "bad password (sensor %u \"%s\")",
			       hs->peer.id_sensor, hs->peer.name);
	if (skewed(hs))
		return hs_fail(hs, out, -ERANGE, VS_CHAN_E_CLOCK_SKEW,
			       "clocks differ by %+.3f s (sensor %u minus server), limit %.0f s",
			       diff_s(hs), hs->peer.id_sensor,
			       (double)ctx->max_diff_us / 1e6);
	if (ctx->accept_cb &&
	    ctx->accept_cb(ctx->accept_arg, &hs->peer, why, sizeof(why)))
		return hs_fail(hs, out, -ECONNREFUSED, VS_CHAN_E_REFUSED,
			       "sensor %u refused: %s", hs->peer.id_sensor,
			       why[0] ? why : "by the server");
	chan_auth_mac(ctx->key, MAC_SERVER, hs, mac);
	if (vs_chan__frame_raw(out, VS_CHAN_AUTH_OK, mac, sizeof(mac), 0))
		return hs_fail(hs, out, -ENOMEM, 0, "out of memory");
	hs->state = HS_DONE;
	return 0;
}

static int sensor_ok(struct vs_chan_hs *hs, const struct vs_chan_frame *f,
		     struct vs_buf *out)
{
	uint8_t mac[CHAN_MAC_LEN];

	if (f->len != CHAN_MAC_LEN)
		return hs_fail(hs, out, -EPROTO, VS_CHAN_E_MALFORMED,
			       "malformed AUTH_OK");
	chan_auth_mac(hs->ctx->key, MAC_SERVER, hs, mac);
	if (CRYPTO_memcmp(mac, f->data, CHAN_MAC_LEN))
		return hs_fail(hs, out, -EACCES, VS_CHAN_E_BAD_PASSWORD,
			       "bad password: the server could not prove it knows server_password");
	if (skewed(hs))
		return hs_fail(hs, out, -ERANGE, VS_CHAN_E_CLOCK_SKEW,
			       "clocks differ by %+.3f s (server minus sensor), limit %.0f s",
			       diff_s(hs), (double)hs->ctx->max_diff_us / 1e6);
	hs->state = HS_DONE;
	return 0;
}

int vs_chan_hs__input(struct vs_chan_hs *hs, const struct vs_chan_frame *f,
		      struct vs_buf *out)
{
	static const uint8_t want[] = {
		[HS_WAIT_HELLO] = VS_CHAN_HELLO,
		[HS_WAIT_CHALLENGE] = VS_CHAN_AUTH_CHALLENGE,
		[HS_WAIT_RESPONSE] = VS_CHAN_AUTH_RESPONSE,
		[HS_WAIT_OK] = VS_CHAN_AUTH_OK,
	};

	if (hs->state == HS_FAILED)
		return hs->rc;
	if (hs->state == HS_DONE)
		return 0;
	if (f->type == VS_CHAN_ERROR)
		return hs_peer_error(hs, f);
	if (f->type != want[hs->state])
		return hs_fail(hs, out, -EPROTO, VS_CHAN_E_MALFORMED,
			       "expected %s, got %s",
			       vs_chan_type__name(want[hs->state]),
			       vs_chan_type__name(f->type));
	switch (hs->state) {
	case HS_WAIT_HELLO:
		return server_hello(hs, f, out);
	case HS_WAIT_CHALLENGE:
		return sensor_challenge(hs, f, out);
	case HS_WAIT_RESPONSE:
		return server_response(hs, f, out);
	default:
		return sensor_ok(hs, f, out);
	}
}
