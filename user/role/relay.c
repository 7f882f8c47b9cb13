// SPDX-License-Identifier: GPL-2.0-or-later
/* role/relay: the intermediate server (server_bind and server_destination
 * together): start-up, the loop, shutdown. No capture, no analysis, no
 * database, no spool: see relay_int.h for why it needs none. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/log.h"
#include "role/relay_int.h"
#include "role/role.h"

static int setup(struct vs_relay *r, const struct vs_conf *c)
{
	struct epoll_event e = { .events = EPOLLIN,
				 .data.ptr = VS_RELAY_EV_LISTEN };
	struct vs_chan_opts co;

	r->conf = c;
	r->lfd = r->ep = -1;
	r->by_id = calloc(65536, sizeof(*r->by_id));
	r->last_ack = calloc(65536, sizeof(*r->last_ack));
	if (!r->by_id || !r->last_ack)
		return -ENOMEM;
	/* One server_password for both sides: the sensors prove it to us,
	 * we prove it to the central server. */
	vs_role__chan_opts(c, VS_CHAN_SERVER, &co);
	co.accept_cb = vs_relay__on_accept;
	co.accept_arg = r;
	r->down_ctx = vs_chan_ctx__new(&co);
	if (!r->down_ctx)
		return -errno;
	vs_role__chan_opts(c, VS_CHAN_SENSOR, &co);
	co.mode = VS_CHAN_MODE_RELAY;
	r->up_ctx = vs_chan_ctx__new(&co);
	if (!r->up_ctx)
		return -errno;
	r->lfd = vs_chan__listen(c->chan.bind, c->chan.bind_port, 128);
	if (r->lfd < 0) {
		vs_err("relay: cannot listen on %s port %u: %s", c->chan.bind,
		       c->chan.bind_port, strerror(-r->lfd));
		return r->lfd;
	}
	r->ep = epoll_create1(EPOLL_CLOEXEC);
	if (r->ep < 0 || epoll_ctl(r->ep, EPOLL_CTL_ADD, r->lfd, &e))
		return -errno;
	vs_info("relay: id_sensor %u listening on %s port %u (certificate "
		"SHA-256 %s), forwarding to %s", c->id_sensor, c->chan.bind,
		c->chan.bind_port, vs_chan_ctx__fingerprint(r->down_ctx),
		c->chan.dest[0]);
	return 0;
}

static void loop(struct vs_relay *r, volatile sig_atomic_t *stop)
{
	struct epoll_event ev[64];
	int n;

	while (!*stop) {
		vs_relay__up_connect(r, stop);
		n = epoll_wait(r->ep, ev, 64, 200);
		for (int i = 0; i < n; i++) {
			void *p = ev[i].data.ptr;

			if (p == VS_RELAY_EV_LISTEN)
				vs_relay__accept_all(r);
			else if (p == VS_RELAY_EV_UP)
				vs_relay__up_event(r);
			else
				vs_relay__down_event(r, p);
		}
		vs_relay__up_housekeeping(r);
		vs_relay__down_housekeeping(r);
	}
}

static void teardown(struct vs_relay *r)
{
	vs_info("relay: %llu CDRs and %llu packet batches forwarded, %llu "
		"acknowledgements routed back, %llu pcap requests, %llu "
		"upstream losses", (unsigned long long)r->cdrs,
		(unsigned long long)r->batches, (unsigned long long)r->acks,
		(unsigned long long)r->pcap_reqs,
		(unsigned long long)r->upstream_losses);
	if (r->up) /* acknowledgements under way are resent after reconnect */
		vs_chan_conn__free(r->up);
	r->up = NULL;
	if (r->ep >= 0) {
		vs_relay__down_close_all(r, "shutting down");
		vs_relay__down_housekeeping(r);
		close(r->ep);
	}
	if (r->lfd >= 0)
		close(r->lfd);
	vs_chan_ctx__free(r->down_ctx);
	vs_chan_ctx__free(r->up_ctx);
	free(r->by_id);
	free(r->last_ack);
}

int vs_relay__run(const struct vs_conf *c, volatile sig_atomic_t *stop)
{
	struct vs_relay *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	err = setup(r, c);
	if (!err)
		loop(r, stop);
	teardown(r);
	free(r);
	return err;
}
