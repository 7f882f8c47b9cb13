// SPDX-License-Identifier: GPL-2.0-or-later
/* One channel context per role and process: settings, the stretched
 * password, the TLS context, and the server's per-source back-off. */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "channel/chan_int.h"
#include "core/log.h"

#ifndef VS_VERSION
#define VS_VERSION "0.0.0"
#endif

#define CTX_MAX_QUEUE (32u << 20)
#define CTX_HS_TIMEOUT_MS 10000
#define CTX_BACKOFF_MAX_S 60

uint64_t chan_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t chan_now_us(const struct vs_chan_ctx *ctx)
{
	struct timespec ts;

	if (ctx->clock_us)
		return ctx->clock_us(ctx->clock_arg);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Copies at most size - 1 bytes, always terminated. */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void ctx_settings(struct vs_chan_ctx *ctx, const struct vs_chan_opts *o)
{
	char host[256] = "";

	ctx->role = o->role;
	ctx->compress = o->compress_set ? o->compress : VS_CHAN_COMP_ZSTD;
	ctx->max_diff_us = (uint64_t)(o->max_time_diff_s ?: 2) * 1000000u;
	ctx->id_sensor = o->id_sensor;
	ctx->mode = o->mode;
	if (!o->name)
		gethostname(host, sizeof(host) - 1);
	copy_str(ctx->name, sizeof(ctx->name), o->name ?: host);
	copy_str(ctx->version, sizeof(ctx->version), o->version ?: VS_VERSION);
	ctx->accept_cb = o->accept_cb;
	ctx->accept_arg = o->accept_arg;
	ctx->backoff_max_s = o->backoff_max_s ?: CTX_BACKOFF_MAX_S;
	ctx->max_frame = o->max_frame ?: VS_CHAN_MAX_FRAME_DEFAULT;
	if (ctx->max_frame > VS_CHAN_MAX_FRAME_LIMIT)
		ctx->max_frame = VS_CHAN_MAX_FRAME_LIMIT;
	ctx->max_queue = o->max_queue ?: CTX_MAX_QUEUE;
	ctx->hs_timeout_ms = o->hs_timeout_ms ?: CTX_HS_TIMEOUT_MS;
	ctx->clock_us = o->clock_us;
	ctx->clock_arg = o->clock_arg;
}

struct vs_chan_ctx *vs_chan_ctx__new(const struct vs_chan_opts *o)
{
	struct vs_chan_ctx *ctx = calloc(1, sizeof(*ctx));
	int err;

	if (!ctx)
		return NULL;
	pthread_mutex_init(&ctx->lock, NULL);
	ctx_settings(ctx, o);
	if (o->role == VS_CHAN_SENSOR && !ctx->id_sensor) {
		vs_err("channel: id_sensor must be 1..65535 on a sensor");
		err = -EINVAL;
		goto fail;
	}
	if (!o->password || !o->password[0])
		vs_warn("channel: server_password is empty: anyone who reaches the port can connect");
	err = chan_auth_derive(o->password ?: "", ctx->key);
	if (err)
		goto fail;
	err = o->role == VS_CHAN_SERVER ? chan_tls_server_ctx(ctx, o) :
					  chan_tls_client_ctx(ctx, o);
	if (err)
		goto fail;
	ctx->bio = chan_tls_bio_method();
	if (!ctx->bio) {
		err = -ENOMEM;
		goto fail;
	}
	return ctx;
fail:
	vs_chan_ctx__free(ctx);
	errno = -err;
	return NULL;
}

void vs_chan_ctx__free(struct vs_chan_ctx *ctx)
{
	if (!ctx)
		return;
	SSL_CTX_free(ctx->ssl);
	BIO_meth_free(ctx->bio);
	OPENSSL_cleanse(ctx->key, sizeof(ctx->key));
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

const char *vs_chan_ctx__fingerprint(const struct vs_chan_ctx *ctx)
{
	return ctx->fingerprint;
}

void vs_chan_ctx__stats(struct vs_chan_ctx *ctx, struct vs_chan_ctx_stats *st)
{
	pthread_mutex_lock(&ctx->lock);
	*st = ctx->st;
	pthread_mutex_unlock(&ctx->lock);
}

void chan_stat_hs(struct vs_chan_ctx *ctx, int rc)
{
	uint64_t *c;

	switch (rc) {
	case 0: c = &ctx->st.hs_ok; break;
	case -EACCES: c = &ctx->st.hs_bad_password; break;
	case -ERANGE: c = &ctx->st.hs_clock_skew; break;
	case -EBUSY: c = &ctx->st.hs_backoff; break;
	case -ECONNREFUSED: c = &ctx->st.hs_refused; break;
	case -EPERM: c = &ctx->st.hs_cert; break;
	case -ETIMEDOUT: c = &ctx->st.hs_timeout; break;
	default: c = &ctx->st.hs_proto; break;
	}
	pthread_mutex_lock(&ctx->lock);
	(*c)++;
	pthread_mutex_unlock(&ctx->lock);
}

/* --- per-source back-off: 1, 2, 4 .. backoff_max_s seconds after each
 * consecutive failure; a success forgets the source. A fixed table: the
 * oldest entry makes room, so a flood of sources cannot grow memory. */

static struct chan_backoff *bo_find(struct vs_chan_ctx *ctx,
				    const struct vs_addr *a, bool make)
{
	struct chan_backoff *b, *victim = &ctx->bo[0];

	for (b = ctx->bo; b < ctx->bo + CHAN_BACKOFF_SLOTS; b++) {
		if (b->fails && vs_addr_eq(&b->addr, a))
			return b;
		if (!b->fails || (victim->fails && b->last_us < victim->last_us))
			victim = b;
	}
	if (!make)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->addr = *a;
	return victim;
}

uint64_t chan_backoff_left(struct vs_chan_ctx *ctx, const struct vs_addr *a)
{
	uint64_t now = chan_mono_us(), left = 0;
	struct chan_backoff *b;

	pthread_mutex_lock(&ctx->lock);
	b = bo_find(ctx, a, false);
	if (b && b->until_us > now)
		left = b->until_us - now;
	pthread_mutex_unlock(&ctx->lock);
	return left;
}

void chan_backoff_fail(struct vs_chan_ctx *ctx, const struct vs_addr *a)
{
	uint64_t now = chan_mono_us(), s;
	struct chan_backoff *b;

	pthread_mutex_lock(&ctx->lock);
	b = bo_find(ctx, a, true);
	if (b->fails < 31)
		b->fails++;
	s = 1ull << (b->fails - 1);
	if (s > ctx->backoff_max_s)
		s = ctx->backoff_max_s;
	b->until_us = now + s * 1000000u;
	b->last_us = now;
	pthread_mutex_unlock(&ctx->lock);
}

void chan_backoff_clear(struct vs_chan_ctx *ctx, const struct vs_addr *a)
{
	struct chan_backoff *b;

	pthread_mutex_lock(&ctx->lock);
	b = bo_find(ctx, a, false);
	if (b)
		memset(b, 0, sizeof(*b));
	pthread_mutex_unlock(&ctx->lock);
}
