// SPDX-License-Identifier: GPL-2.0-or-later
/* role/server: start-up and shutdown of the central server. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "role/role.h"
#include "role/server_int.h"

/* How many CDR writers: mysqlstore_max_threads_cdr (2 by default). One
 * when cdr_check_exists_callid is set: two writers could each find a
 * Call-ID absent that the other is about to commit. */
static unsigned writers_wanted(const struct vs_conf *c)
{
	unsigned n = c->mysql.writers ? c->mysql.writers : 2;

	if (n > 1 && c->cdr_check_exists_callid) {
		vs_info("server: cdr_check_exists_callid: one CDR writer "
			"(mysqlstore_max_threads_cdr = %u ignored), so that "
			"no two can store the same Call-ID", n);
		n = 1;
	}
	return n > VS_SRV_MAX_WRITERS ? VS_SRV_MAX_WRITERS : n;
}

static int open_db(struct vs_server *srv, const struct vs_conf *c)
{
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = &srv->wfd };
	struct vs_mysql_opts mo;
	unsigned n = writers_wanted(c);

	vs_role__mysql_opts(c, &mo);
	mo.batch_rows = VS_SRV_FLUSH_CDRS; /* rows per commit */
	srv->store = vs_cdr_store__mysql(&mo); /* logs its cause */
	if (!srv->store)
		return -errno;
	srv->hwm = vs_hwm__open(&mo);
	if (!srv->hwm)
		return -errno;
	srv->wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (srv->wfd < 0 || epoll_ctl(srv->ep, EPOLL_CTL_ADD, srv->wfd, &e))
		return -errno;
	for (srv->nwriters = 0; srv->nwriters < n; srv->nwriters++) {
		srv->writers[srv->nwriters] =
			vs_srv_writer__new(&mo, srv->nwriters, srv->wfd);
		if (!srv->writers[srv->nwriters])
			return -errno;
	}
	vs_info("server: %u CDR writer%s (database connections)", n,
		n == 1 ? "" : "s");
	return 0;
}

static int setup(struct vs_server *srv, const struct vs_conf *c)
{
	struct vs_chan_opts co;
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = NULL };
	int err;

	const char *hook = getenv("VOXSENSE_TEST_CRASH_AFTER_COMMIT");

	srv->conf = c;
	srv->lfd = srv->ep = srv->wfd = -1;
	if (hook && *hook) {
		srv->crash_after_commit = (unsigned)strtoul(hook, NULL, 10);
		vs_warn("server: VOXSENSE_TEST_CRASH_AFTER_COMMIT=%u: will exit "
			"after that many commits (a test hook)",
			srv->crash_after_commit);
	}
	srv->sensors = calloc(65536, sizeof(*srv->sensors));
	srv->streams = calloc(VS_SRV_MAX_STREAMS, sizeof(*srv->streams));
	srv->mark_ids = calloc(65536, sizeof(*srv->mark_ids));
	srv->mark_seqs = calloc(65536, sizeof(*srv->mark_seqs));
	srv->markbuf = calloc(VS_SRV_MARKBUF, sizeof(*srv->markbuf));
	if (!srv->sensors || !srv->streams || !srv->mark_ids ||
	    !srv->mark_seqs || !srv->markbuf)
		return -ENOMEM;
	srv->ep = epoll_create1(EPOLL_CLOEXEC);
	if (srv->ep < 0)
		return -errno;
	err = open_db(srv, c) ?: vs_srv__mirror_init(srv);
	if (err)
		return err;
	vs_role__chan_opts(c, VS_CHAN_SERVER, &co);
	co.accept_cb = vs_srv__on_accept;
	co.accept_arg = srv;
	srv->ctx = vs_chan_ctx__new(&co);
	if (!srv->ctx)
		return -errno;
	srv->lfd = vs_chan__listen(c->chan.bind, c->chan.bind_port, 128);
	if (srv->lfd < 0) {
		vs_err("server: cannot listen on %s port %u: %s", c->chan.bind,
		       c->chan.bind_port, strerror(-srv->lfd));
		return srv->lfd;
	}
	if (epoll_ctl(srv->ep, EPOLL_CTL_ADD, srv->lfd, &e))
		return -errno;
	err = vs_srv_ctl__open(srv); /* --status, --fetch-pcap */
	if (err)
		return err;
	vs_info("server: listening on %s port %u; certificate SHA-256 %s",
		c->chan.bind, c->chan.bind_port,
		vs_chan_ctx__fingerprint(srv->ctx));
	return 0;
}

/* The last CDRs: the writers commit what they hold (3 s at most while the
 * database is away), then the marks are saved and acknowledged within a
 * few tries. */
static void finish(struct vs_server *srv)
{
	struct vs_srv_writer_stats ws;
	struct vs_mysql_stats ms;

	for (unsigned w = 0; w < srv->nwriters; w++)
		vs_srv_writer__stop(srv->writers[w], 3000);
	for (int i = 0; i < 10 && vs_srv__commit(srv); i++)
		usleep(200000);
	vs_srv__close_all(srv);
	vs_srv__mirror_finish(srv);
	vs_srv__writers_total(srv, &ws);
	ms = ws.db;
	vs_info("server: %llu CDRs received, %llu duplicates dropped, %llu "
		"skipped (Call-ID known), %llu unreadable, %llu "
		"commits; database: %llu rows committed in %llu batches (%llu "
		"re-sent), %llu reconnects", (unsigned long long)srv->cdrs,
		(unsigned long long)srv->dups,
		(unsigned long long)(srv->skipped + ws.skipped),
		(unsigned long long)srv->bad,
		(unsigned long long)srv->commits,
		(unsigned long long)ms.committed,
		(unsigned long long)ms.batches, (unsigned long long)ms.resent,
		(unsigned long long)ms.reconnects);
}

static void teardown(struct vs_server *srv)
{
	vs_srv_ctl__close(srv);
	if (srv->lfd >= 0)
		close(srv->lfd);
	if (srv->ep >= 0)
		close(srv->ep);
	vs_chan_ctx__free(srv->ctx);
	for (unsigned w = 0; w < srv->nwriters; w++)
		vs_srv_writer__free(srv->writers[w]);
	if (srv->wfd >= 0)
		close(srv->wfd);
	vs_cdr_store__close(srv->store);
	vs_hwm__close(srv->hwm);
	vs_srv__mirror_free(srv);
	for (uint32_t i = 0; srv->sensors && i < 65536; i++)
		free(srv->sensors[i]);
	free(srv->sensors);
	free(srv->streams);
	free(srv->mark_ids);
	free(srv->mark_seqs);
	free(srv->markbuf);
}

int vs_server__run(const struct vs_conf *c, volatile sig_atomic_t *stop)
{
	struct vs_server *srv = calloc(1, sizeof(*srv));
	int err;

	if (!srv)
		return -ENOMEM;
	err = setup(srv, c);
	if (!err) {
		vs_srv__loop(srv, stop);
		finish(srv);
	}
	teardown(srv);
	free(srv);
	return err;
}
