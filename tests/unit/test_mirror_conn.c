// SPDX-License-Identifier: GPL-2.0-or-later
/* role/mirror: the whole sensor side against a dummy server over real TLS
 * on loopback (in a private network namespace when root): handshake in
 * mode mirror, every frame arrives once and in order, a connection cut
 * before any acknowledgement makes the sensor send the batches again, the
 * acknowledgements empty the buffer and the end of the run waits for
 * them. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "channel/channel.h"
#include "role/mirror_int.h"

#define N_FRAMES 300
#define CUT_AFTER 2 /* batches the first connection takes before closing */

struct srv {
	struct vs_chan_ctx *ctx;
	int lfd;
	uint64_t hi_seq;       /* highest batch taken */
	int frames;            /* taken, in order */
	int dup_batches;       /* sent again and dropped (seq <= hi_seq) */
	int batches_conn1;
	int bad;               /* frames out of order or malformed */
	int mode_ok;
};

static char dir[64];

static void *serve_one(struct srv *s, int conn_no)
{
	struct vs_chan_conn *c;
	struct vs_chan_frame f;
	struct vs_chan_pkt_iter it;
	struct vs_frame fr;
	uint16_t ifx;
	int fd, r;

	for (int i = 0; i < 500 && (fd = accept(s->lfd, NULL, NULL)) < 0; i++)
		usleep(20000);
	if (fd < 0)
		return NULL;
	c = vs_chan_conn__new(s->ctx, fd);
	if (!c || vs_chan_conn__handshake_wait(c, 5000))
		goto out;
	s->mode_ok += vs_chan_conn__peer(c)->mode == VS_CHAN_MODE_MIRROR &&
		      vs_chan_conn__peer(c)->id_sensor == 7;
	while (!vs_chan_conn__recv_wait(c, &f, 10000)) {
		struct vs_buf *b;

		if (f.type != VS_CHAN_PACKETS)
			continue;
		if (conn_no == 1 && ++s->batches_conn1 > CUT_AFTER)
			break; /* a cut: nothing acknowledged */
		if (vs_chan_packets__iter(&it, f.data, f.len)) {
			s->bad++;
			continue;
		}
		if (it.seq <= s->hi_seq) {
			s->dup_batches++;
		} else {
			while ((r = vs_chan_packets__next(&it, &fr, &ifx)) == 1)
				s->bad += fr.ts_us != 1000000u + (uint64_t)s->frames++;
			s->bad += r != 0;
			s->hi_seq = it.seq;
		}
		if (conn_no == 1)
			continue;
		b = vs_chan_conn__scratch(c);
		vs_chan_ack__put(b, &(struct vs_chan_ack){
			.id_sensor = 7, .first_seq = it.seq, .count = 1 });
		vs_chan_conn__send_wait(c, VS_CHAN_PACKETS_ACK, b->p, b->len,
					5000);
	}
out:
	vs_chan_conn__free(c);
	return NULL;
}

static void *serve(void *arg)
{
	serve_one(arg, 1);
	serve_one(arg, 2);
	return NULL;
}

/* A private network namespace with lo up, when we may; else the host's
 * loopback, as the channel tests do. */
static void private_lo(void)
{
	struct ifreq ifr = { 0 };
	int fd;

	if (unshare(CLONE_NEWNET))
		return;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	strcpy(ifr.ifr_name, "lo");
	ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
}

static void set(struct vs_conf *c, const char *k, const char *v)
{
	cr_assert_eq(vs_conf__set(c, k, v, "test"), 0, "%s = %s", k, v);
}

Test(mirror_conn, resend_after_cut_and_drain)
{
	struct vs_chan_opts so = { .role = VS_CHAN_SERVER, .password = "pw",
				   .tls_dir = dir, .compress = VS_CHAN_COMP_ZSTD,
				   .compress_set = true };
	struct vs_conf *c = calloc(1, sizeof(*c));
	struct srv s = { 0 };
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct vs_mirror_opts mo = { .conf = c, .drain_ms = 20000,
				     .wait_full_ms = 5000 };
	struct vs_mirror *m;
	struct vs_pktbuf_stats st;
	uint8_t data[1000];
	char dest[64];
	pthread_t th;

	strcpy(dir, "/tmp/vs_test_mirror_XXXXXX");
	cr_assert(mkdtemp(dir));
	private_lo();
	s.ctx = vs_chan_ctx__new(&so);
	cr_assert(s.ctx);
	s.lfd = vs_chan__listen("127.0.0.1", 0, 4);
	cr_assert_geq(s.lfd, 0);
	getsockname(s.lfd, (struct sockaddr *)&sa, &sl);
	snprintf(dest, sizeof(dest), "127.0.0.1:%u", ntohs(sa.sin_port));
	vs_conf__init(c);
	set(c, "id_sensor", "7");
	set(c, "server_destination", dest);
	set(c, "server_password", "pw");
	set(c, "packetbuffer_sender", "yes");
	set(c, "spooldir", dir);
	pthread_create(&th, NULL, serve, &s);

	m = vs_mirror__open(&mo);
	cr_assert(m);
	memset(data, 0xa5, sizeof(data));
	for (int i = 0; i < N_FRAMES; i++) {
		struct vs_frame f = { .data = data, .caplen = sizeof(data),
				      .origlen = sizeof(data),
				      .ts_us = 1000000u + (uint64_t)i,
				      .linktype = 1 };

		vs_mirror__frame(m, &f);
	}
	vs_mirror__finish(m);
	vs_pktbuf__stats(m->pb, &st);
	cr_expect_eq(st.acked, m->batch.st.batches, "every batch acked");
	cr_expect_eq(st.mem_bytes, 0);
	cr_expect_geq(atomic_load(&m->resent), CUT_AFTER);
	cr_expect_eq(atomic_load(&m->connects), 2);
	vs_mirror__print_stats(m, stderr);
	vs_mirror__close(m);
	pthread_join(th, NULL);

	cr_expect_eq(s.mode_ok, 2, "hello says mirror, id_sensor 7");
	cr_expect_eq(s.frames, N_FRAMES, "%d frames arrived", s.frames);
	cr_expect_eq(s.bad, 0);
	cr_expect_eq(s.batches_conn1, CUT_AFTER + 1);
	close(s.lfd);
	vs_chan_ctx__free(s.ctx);
	vs_conf__free(c);
	free(c);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		cr_expect_eq(system(cmd), 0);
	}
}
