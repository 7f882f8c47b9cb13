// SPDX-License-Identifier: GPL-2.0-or-later
/* role/mirror: the mirroring sensor's role object: the packet buffer, the
 * batcher fed by the capture thread, the sender thread, the end of the run
 * and the counters. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "role/mirror_int.h"
#include "role/role.h"
#include "role/sensor_link.h"

static uint64_t coarse_ms(void)
{
	struct timespec ts;

	/* per frame: the coarse clock costs a few ns and ticks every few
	 * ms, plenty for a 50 ms batch */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000;
}

static void wake(void *arg)
{
	struct vs_mirror *m = arg;
	uint64_t one = 1;

	if (write(m->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		vs_dbg("mirror: wake: %s", strerror(errno));
}

int vs_mirror__frame(void *ctx, const struct vs_frame *f)
{
	struct vs_mirror *m = ctx;

	return vs_mirror_batch__frame(&m->batch, f, coarse_ms());
}

void vs_mirror__tick(struct vs_mirror *m, uint64_t now_us)
{
	vs_mirror_batch__tick(&m->batch, coarse_ms(), now_us);
}

static int open_pktbuf(struct vs_mirror *m)
{
	const struct vs_conf *c = m->conf;
	struct vs_pktbuf_opts po = {
		.mem_max = (size_t)c->pb.maxheap_mb << 20,
		.disk_max = (uint64_t)c->pb.file_maxsize_mb << 20,
	};
	char dir[PATH_MAX];

	if (c->pb.file_path[0])
		snprintf(dir, sizeof(dir), "%s", c->pb.file_path);
	else
		snprintf(dir, sizeof(dir), "%.4000s/packetbuffer", c->spooldir);
	po.dir = dir;
	m->pb = vs_pktbuf__open(&po);
	if (!m->pb)
		return -errno;
	vs_info("mirror: packet buffer %u MB in memory, %u MB on disk%s%s",
		c->pb.maxheap_mb, c->pb.file_maxsize_mb,
		po.disk_max ? " in " : " (packetbuffer_file_totalmaxsize)",
		po.disk_max ? dir : "");
	return 0;
}

struct vs_mirror *vs_mirror__open(const struct vs_mirror_opts *o)
{
	struct vs_mirror *m = calloc(1, sizeof(*m));
	struct vs_chan_opts co;
	int err;

	if (!m)
		return NULL;
	m->o = *o;
	m->conf = o->conf;
	m->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->wake_fd < 0 || (err = open_pktbuf(m)))
		goto fail;
	vs_mirror_batch__init(&m->batch, m->pb, m->conf->id_sensor);
	m->batch.live = o->live;
	m->batch.wait_full_ms = o->wait_full_ms;
	m->batch.on_push = wake;
	m->batch.arg = m;
	m->batch.last_close_ms = coarse_ms();
	vs_role__chan_opts(m->conf, VS_CHAN_SENSOR, &co);
	co.mode = VS_CHAN_MODE_MIRROR;
	m->ctx = vs_chan_ctx__new(&co);
	if (!m->ctx)
		goto fail;
	err = pthread_create(&m->th, NULL, vs_mirror__thread, m);
	if (err) {
		errno = err;
		goto fail;
	}
	m->th_started = 1;
	return m;
fail:
	err = errno;
	vs_err("mirror: cannot start: %s", strerror(err));
	vs_mirror__close(m);
	errno = err;
	return NULL;
}

/* The end of a run: what was captured reaches the server if it can. */
static void drain(struct vs_mirror *m)
{
	uint64_t last = vs_pktbuf__next_seq(m->pb) - 1, acked;
	uint64_t t0 = vs_link__mono_ms(), next_log = t0 + 5000;

	if (!m->o.drain_ms || vs_pktbuf__acked(m->pb) >= last)
		return;
	vs_info("mirror: waiting up to %u s for the server to acknowledge "
		"%llu batches", m->o.drain_ms / 1000,
		(unsigned long long)(last - vs_pktbuf__acked(m->pb)));
	while ((acked = vs_pktbuf__acked(m->pb)) < last &&
	       vs_link__mono_ms() - t0 < m->o.drain_ms) {
		usleep(20000);
		if (vs_link__mono_ms() >= next_log) {
			vs_info("mirror: %llu batches not acknowledged yet",
				(unsigned long long)(last - acked));
			next_log += 5000;
		}
	}
	if (acked >= last)
		vs_info("mirror: every batch acknowledged by the server");
	else
		vs_warn("mirror: %llu batches not acknowledged after %u s: "
			"their packets are lost",
			(unsigned long long)(last - acked), m->o.drain_ms / 1000);
}

static void log_totals(struct vs_mirror *m)
{
	struct vs_pktbuf_stats st;

	vs_pktbuf__stats(m->pb, &st);
	vs_info("mirror: %llu packets in %llu batches, %llu dropped (buffer "
		"full); %llu batches sent (%llu again after a reconnect), "
		"%llu acknowledged, %llu bytes on the wire, %llu connections",
		(unsigned long long)m->batch.st.frames,
		(unsigned long long)m->batch.st.batches,
		(unsigned long long)st.dropped_frames,
		(unsigned long long)atomic_load(&m->sent),
		(unsigned long long)atomic_load(&m->resent),
		(unsigned long long)st.acked,
		(unsigned long long)atomic_load(&m->bytes_wire),
		(unsigned long long)atomic_load(&m->connects));
}

void vs_mirror__finish(struct vs_mirror *m)
{
	if (!m || m->finished)
		return;
	m->finished = 1;
	if (m->pb)
		vs_mirror_batch__flush(&m->batch, coarse_ms());
	if (m->th_started) {
		drain(m);
		atomic_store(&m->stop, 1);
		wake(m);
		pthread_join(m->th, NULL);
		m->th_started = 0;
		log_totals(m);
	}
}

void vs_mirror__close(struct vs_mirror *m)
{
	if (!m)
		return;
	vs_mirror__finish(m);
	vs_mirror_batch__fini(&m->batch);
	vs_pktbuf__close(m->pb);
	vs_chan_ctx__free(m->ctx);
	if (m->wake_fd >= 0)
		close(m->wake_fd);
	free(m);
}

void vs_mirror__print_stats(struct vs_mirror *m, FILE *out)
{
	struct vs_pktbuf_stats st;

#define VS_X(n) fprintf(out, "mirror.%s %llu\n", #n, \
			(unsigned long long)m->batch.st.n);
	VS_MIRROR_BATCH_STATS(VS_X)
#undef VS_X
	fprintf(out, "mirror.sent %llu\nmirror.resent %llu\n"
		"mirror.bytes_wire %llu\nmirror.acks %llu\n"
		"mirror.connects %llu\n",
		(unsigned long long)atomic_load(&m->sent),
		(unsigned long long)atomic_load(&m->resent),
		(unsigned long long)atomic_load(&m->bytes_wire),
		(unsigned long long)atomic_load(&m->acks),
		(unsigned long long)atomic_load(&m->connects));
	vs_pktbuf__stats(m->pb, &st);
	vs_pktbuf_stats__print(&st, out);
}
