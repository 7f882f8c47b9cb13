// SPDX-License-Identifier: GPL-2.0-or-later
/* role/uplink: the local-processing sensor's CDR store. insert appends the
 * CDR (binary, cdr/cdr_bin.h) to the disk spool with the next
 * sequence number; flush makes it durable and wakes the uplink thread,
 * which ships it (uplink_conn.c). The pipeline never waits for the
 * network. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cdr/cdr_bin.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/log.h"
#include "role/role.h"
#include "role/uplink_int.h"

void vs_uplink__wake(struct vs_uplink *u)
{
	uint64_t one = 1;

	if (write(u->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		vs_dbg("uplink: wake: %s", strerror(errno));
}

static int up_insert(struct vs_cdr_store *s, const struct vs_cdr *cdr)
{
	struct vs_uplink *u = (struct vs_uplink *)s;
	struct vs_cdr c = *cdr;
	uint64_t seq;
	uint8_t *body;
	size_t len;
	int err;

	c.id_sensor = u->conf->id_sensor; /* the server files it under ours */
	err = vs_cdr__to_bin(&c, &body, &len);
	if (err)
		return err;
	err = vs_cdr_spool__append(u->spool, body, (uint32_t)len, &seq);
	free(body);
	return err;
}

static int up_flush(struct vs_cdr_store *s)
{
	struct vs_uplink *u = (struct vs_uplink *)s;
	int err = vs_cdr_spool__sync(u->spool);

	if (!err)
		vs_uplink__wake(u);
	return err;
}

/* -r: the run is over only when the server has every CDR, so that what the
 * test (or the operator) queries next is complete. */
static void drain(struct vs_uplink *u)
{
	uint64_t last = vs_cdr_spool__last(u->spool), t0 = vs_mono_ms(), next_log;
	uint64_t acked = vs_cdr_spool__acked(u->spool);

	if (!u->drain_ms || acked >= last)
		return;
	vs_info("uplink: waiting up to %u s for the server to acknowledge "
		"%llu CDRs", u->drain_ms / 1000,
		(unsigned long long)(last - acked));
	next_log = t0 + 5000;
	while ((acked = vs_cdr_spool__acked(u->spool)) < last &&
	       vs_mono_ms() - t0 < u->drain_ms) {
		usleep(20000);
		if (vs_mono_ms() >= next_log) {
			vs_info("uplink: %llu CDRs not acknowledged yet",
				(unsigned long long)(last - acked));
			next_log += 5000;
		}
	}
	if (acked >= last)
		vs_info("uplink: every CDR acknowledged by the server");
	else
		vs_warn("uplink: %llu CDRs not acknowledged after %u s: they "
			"stay in the spool and are sent after the next start",
			(unsigned long long)(last - acked), u->drain_ms / 1000);
}

static void up_close(struct vs_cdr_store *s)
{
	struct vs_uplink *u = (struct vs_uplink *)s;
	struct vs_cdr_spool_stats st;

	if (u->spool && !vs_cdr_spool__sync(u->spool))
		vs_uplink__wake(u);
	if (u->th_started) {
		drain(u);
		atomic_store(&u->stop, 1);
		vs_uplink__wake(u);
		pthread_join(u->th, NULL);
	}
	if (u->spool) {
		vs_cdr_spool__stats(u->spool, &st);
		vs_info("uplink: %llu CDRs spooled, %llu dropped (spool full), "
			"acknowledged up to %llu of %llu; %llu sent, %llu "
			"connections", (unsigned long long)st.appended,
			(unsigned long long)st.dropped,
			(unsigned long long)st.acked,
			(unsigned long long)(st.next_seq - 1),
			(unsigned long long)u->sent,
			(unsigned long long)u->connects);
	}
	vs_cdr_spool__close(u->spool);
	vs_chan_ctx__free(u->ctx);
	if (u->wake_fd >= 0)
		close(u->wake_fd);
	free(u);
}

static const struct vs_cdr_store_ops uplink_ops = {
	.name = "uplink",
	.insert = up_insert,
	.flush = up_flush,
	.close = up_close,
};

struct vs_cdr_store *vs_uplink__open(const struct vs_conf *c,
				     unsigned drain_ms)
{
	struct vs_uplink *u = calloc(1, sizeof(*u));
	struct vs_cdr_spool_opts so = { 0 };
	struct vs_chan_opts co;
	char dir[PATH_MAX];
	int err;

	if (!u)
		return NULL;
	u->store.ops = &uplink_ops;
	u->conf = c;
	u->drain_ms = drain_ms;
	u->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	snprintf(dir, sizeof(dir), "%.4000s/cdr-uplink", c->spooldir);
	so.dir = dir;
	so.max_bytes = (uint64_t)c->chan.cdr_spool_mb << 20;
	if (u->wake_fd < 0 || vs_mkdir_p(c->spooldir, 0750) ||
	    !(u->spool = vs_cdr_spool__open(&so)))
		goto fail;
	vs_role__chan_opts(c, VS_CHAN_SENSOR, &co);
	u->ctx = vs_chan_ctx__new(&co);
	if (!u->ctx)
		goto fail;
	err = pthread_create(&u->th, NULL, vs_uplink__thread, u);
	if (err) {
		errno = err;
		goto fail;
	}
	u->th_started = 1;
	return &u->store;
fail:
	err = errno;
	vs_err("uplink: cannot start: %s", strerror(err));
	up_close(&u->store);
	errno = err;
	return NULL;
}
