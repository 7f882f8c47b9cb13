/* SPDX-License-Identifier: GPL-2.0-or-later */
/* role/uplink internals: the store half (uplink.c, pipeline thread) and the
 * connection half (uplink_conn.c, its own thread). */
#ifndef VS_UPLINK_INT_H
#define VS_UPLINK_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "cdr/store.h"
#include "channel/channel.h"
#include "conf/conf.h"
#include "role/cdr_spool.h"

/* CDRs sent and not yet acknowledged: well above the server's commit
 * size (VS_SRV_FLUSH_CDRS), so that one sensor alone keeps it busy while
 * a commit is under way. */
#define VS_UPLINK_WINDOW 16384
#define VS_UPLINK_PING_MS 10000    /* idle: ping the server this often */
#define VS_UPLINK_DEAD_MS 35000    /* no frame for this long: reconnect */
#define VS_UPLINK_CONNECT_MS 5000
#define VS_UPLINK_BACKOFF_MAX_MS 30000

struct vs_uplink {
	struct vs_cdr_store store; /* first: the pipeline sees this */
	struct vs_cdr_spool *spool;
	struct vs_chan_ctx *ctx;
	const struct vs_conf *conf;
	unsigned drain_ms;
	int wake_fd;		/* eventfd: new durable CDRs, or stop */
	atomic_int stop;
	atomic_int connected;
	pthread_t th;
	int th_started;
	uint64_t sent, acks, connects;
};

void *vs_uplink__thread(void *arg);
void vs_uplink__wake(struct vs_uplink *u);

#endif
