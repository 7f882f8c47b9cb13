// SPDX-License-Identifier: GPL-2.0-or-later
/* channel: the handshake over real TLS 1.3 between two threads, on a
 * socketpair or a 127.0.0.1 TCP socket; certificate generation and reuse;
 * pinning; the password proofs and their binding to the TLS session (a
 * man in the middle relaying them is refused); clock skew; back-off. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "channel/chan_int.h"
#include "channel/channel.h"

struct side {
	struct vs_chan_ctx *ctx;
	struct vs_chan_conn *c;
	int fd;
	int rc;
	char err[300];
	struct vs_chan_peer peer;
	int frames;       /* server: frames to receive and echo back */
	pthread_t th;     /* server: its thread, when still running */
};

static char *tmpdir(void)
{
	char *d = strdup("/tmp/vs_chan_test_XXXXXX");

	cr_assert_not_null(mkdtemp(d));
	return d;
}

static void rmdir_all(char *d)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	cr_assert_eq(system(cmd), 0);
	free(d);
}

static struct vs_chan_opts server_opts(const char *dir, const char *pw)
{
	struct vs_chan_opts o = { .role = VS_CHAN_SERVER, .password = pw,
				  .tls_dir = dir, .name = "central",
				  .compress = VS_CHAN_COMP_GZIP,
				  .compress_set = true };
	return o;
}

static struct vs_chan_opts sensor_opts(const char *pw)
{
	struct vs_chan_opts o = { .role = VS_CHAN_SENSOR, .password = pw,
				  .id_sensor = 2, .name = "probe-a",
				  .version = "9.9.9",
				  .mode = VS_CHAN_MODE_MIRROR };
	return o;
}

/* Echoes `frames` frames back, then waits for the peer to close. */
static void *serve(void *arg)
{
	struct side *s = arg;
	struct vs_chan_frame f;

	s->c = vs_chan_conn__new(s->ctx, s->fd);
	s->rc = vs_chan_conn__handshake_wait(s->c, 5000);
	for (int i = 0; !s->rc && i < s->frames; i++) {
		s->rc = vs_chan_conn__recv_wait(s->c, &f, 5000);
		if (!s->rc)
			s->rc = vs_chan_conn__send_wait(s->c, f.type, f.data,
							f.len, 5000);
	}
	snprintf(s->err, sizeof(s->err), "%s", vs_chan_conn__error(s->c));
	s->peer = *vs_chan_conn__peer(s->c);
	return NULL;
}

/* Runs one handshake on a socketpair; the sensor side stays open in
 * sen->c for the caller (freed by finish()). */
static void run_pair(struct side *srv, struct side *sen)
{
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	srv->fd = sv[0];
	sen->fd = sv[1];
	cr_assert_eq(pthread_create(&srv->th, NULL, serve, srv), 0);
	sen->c = vs_chan_conn__new(sen->ctx, sen->fd);
	sen->rc = vs_chan_conn__handshake_wait(sen->c, 5000);
	snprintf(sen->err, sizeof(sen->err), "%s", vs_chan_conn__error(sen->c));
	sen->peer = *vs_chan_conn__peer(sen->c);
	if (sen->rc)
		shutdown(sen->fd, SHUT_RDWR); /* unblock a waiting server */
	if (!srv->frames || sen->rc)
		pthread_join(srv->th, NULL); /* else the test joins it */
}

static void finish(struct side *srv, struct side *sen)
{
	vs_chan_conn__free(sen->c);
	vs_chan_conn__free(srv->c);
	vs_chan_ctx__free(sen->ctx);
	vs_chan_ctx__free(srv->ctx);
}

Test(chan_hs, success_and_frames_both_ways)
{
	char *dir = tmpdir();
	struct vs_chan_opts so = server_opts(dir, "s3cret"),
			    co = sensor_opts("s3cret");
	struct side srv = { .frames = 3 }, sen = { 0 };
	struct vs_chan_frame f;
	uint8_t *big = malloc(1u << 20);

	srv.ctx = vs_chan_ctx__new(&so);
	sen.ctx = vs_chan_ctx__new(&co);
	cr_assert(srv.ctx && sen.ctx);
	run_pair(&srv, &sen);
	cr_assert_eq(sen.rc, 0, "%s", sen.err);
	cr_assert(vs_chan_conn__ready(sen.c));
	cr_assert_str_eq(sen.peer.name, "central");
	cr_assert_eq(sen.peer.compress, VS_CHAN_COMP_GZIP);
	cr_assert_str_eq(sen.peer.fingerprint, vs_chan_ctx__fingerprint(srv.ctx));
	cr_assert_lt(llabs(sen.peer.clock_diff_us), 1000000);
	for (size_t i = 0; i < (1u << 20); i++)
		big[i] = (uint8_t)(i * 7 / 13);
	cr_assert_eq(vs_chan_conn__send_wait(sen.c, VS_CHAN_CDR, "hello", 5, 5000), 0);
	cr_assert_eq(vs_chan_conn__recv_wait(sen.c, &f, 5000), 0);
	cr_assert_eq(f.type, VS_CHAN_CDR);
	cr_assert_eq(f.len, 5);
	cr_assert_eq(memcmp(f.data, "hello", 5), 0);
	cr_assert_eq(vs_chan_conn__send_wait(sen.c, VS_CHAN_PACKETS, big, 1u << 20, 5000), 0);
	cr_assert_eq(vs_chan_conn__recv_wait(sen.c, &f, 5000), 0);
	cr_assert_eq(f.len, 1u << 20);
	cr_assert_eq(memcmp(f.data, big, f.len), 0);
	cr_assert_eq(vs_chan_conn__send_wait(sen.c, VS_CHAN_PING, "", 0, 5000), 0);
	cr_assert_eq(vs_chan_conn__recv_wait(sen.c, &f, 5000), 0);
	cr_assert_eq(f.type, VS_CHAN_PING);
	pthread_join(srv.th, NULL);
	cr_assert_eq(srv.rc, 0, "%s", srv.err);
	cr_assert_eq(srv.peer.id_sensor, 2);
	cr_assert_str_eq(srv.peer.name, "probe-a");
	cr_assert_str_eq(srv.peer.version, "9.9.9");
	cr_assert_eq(srv.peer.mode, VS_CHAN_MODE_MIRROR);
	cr_assert_eq(srv.peer.compress, VS_CHAN_COMP_ZSTD);
	/* each direction compressed with its sender's codec */
	cr_assert_eq(vs_chan_conn__tx_stats(sen.c)->frames, 3);
	cr_assert_lt(vs_chan_conn__tx_stats(sen.c)->bytes_wire, 400000);
	/* AUTH_CHALLENGE, AUTH_OK and the three echoes */
	cr_assert_eq(vs_chan_conn__rx_stats(sen.c)->frames, 5);
	{
		struct vs_chan_ctx_stats st;

		vs_chan_ctx__stats(srv.ctx, &st);
		cr_assert_eq(st.hs_ok, 1);
		cr_assert_eq(st.hs_bad_password, 0);
	}
	finish(&srv, &sen);
	free(big);
	rmdir_all(dir);
}

Test(chan_hs, wrong_password_both_sides_then_backoff)
{
	char *dir = tmpdir();
	struct vs_chan_opts so = server_opts(dir, "right"),
			    co = sensor_opts("wrong");
	struct side srv = { 0 }, sen = { 0 };
	struct vs_chan_ctx_stats st;

	srv.ctx = vs_chan_ctx__new(&so);
	sen.ctx = vs_chan_ctx__new(&co);
	run_pair(&srv, &sen);
	cr_assert_eq(sen.rc, -EACCES, "%d %s", sen.rc, sen.err);
	cr_assert_eq(srv.rc, -EACCES, "%d %s", srv.rc, srv.err);
	cr_assert_not_null(strstr(sen.err, "bad password"), "%s", sen.err);
	cr_assert_not_null(strstr(srv.err, "bad password"), "%s", srv.err);
	cr_assert_not_null(strstr(srv.err, "sensor 2"), "%s", srv.err);
	vs_chan_conn__free(sen.c);
	vs_chan_conn__free(srv.c);
	vs_chan_ctx__free(sen.ctx);

	/* The same source again at once, now with the right password: it
	 * is told to back off, and both sides say so. */
	co.password = "right";
	sen.ctx = vs_chan_ctx__new(&co);
	run_pair(&srv, &sen);
	cr_assert_eq(sen.rc, -EBUSY, "%d %s", sen.rc, sen.err);
	cr_assert_eq(srv.rc, -EBUSY, "%d %s", srv.rc, srv.err);
	cr_assert_not_null(strstr(sen.err, "retry in 1 s"), "%s", sen.err);
	vs_chan_ctx__stats(srv.ctx, &st);
	cr_assert_eq(st.hs_bad_password, 1);
	cr_assert_eq(st.hs_backoff, 1);
	cr_assert_eq(st.hs_ok, 0);
	finish(&srv, &sen);
	rmdir_all(dir);
}

static uint64_t skewed_clock(void *arg)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + ts.tv_nsec / 1000 +
	       *(int64_t *)arg;
}

static int skew_said(const char *msg, double want)
{
	const char *p = strstr(msg, "clocks differ by ");
	double got;

	return p && sscanf(p, "clocks differ by %lf", &got) == 1 &&
	       got > want - 0.5 && got < want + 0.5;
}

Test(chan_hs, clock_skew_refused_with_amount)
{
	char *dir = tmpdir();
	struct vs_chan_opts so = server_opts(dir, "pw"), co = sensor_opts("pw");
	struct side srv = { 0 }, sen = { 0 };
	int64_t skew = 5000000;

	co.clock_us = skewed_clock;
	co.clock_arg = &skew;
	srv.ctx = vs_chan_ctx__new(&so);
	sen.ctx = vs_chan_ctx__new(&co);
	run_pair(&srv, &sen);
	cr_assert_eq(srv.rc, -ERANGE, "%s", srv.err);
	cr_assert_eq(sen.rc, -ERANGE, "%s", sen.err);
	/* the amount, within what a loaded machine adds to the round trip */
	cr_assert(skew_said(srv.err, 5.0), "%s", srv.err);
	cr_assert(skew_said(sen.err, 5.0), "%s", sen.err);
	cr_assert_not_null(strstr(sen.err, "limit 2 s"), "%s", sen.err);
	finish(&srv, &sen);

	/* 1 s is within the default 2 s */
	skew = -1000000;
	srv.ctx = vs_chan_ctx__new(&so);
	sen.ctx = vs_chan_ctx__new(&co);
	memset(&srv.peer, 0, sizeof(srv.peer));
	run_pair(&srv, &sen);
	cr_assert_eq(sen.rc, 0, "%s", sen.err);
	cr_assert_eq(srv.rc, 0, "%s", srv.err);
	cr_assert_lt(llabs(srv.peer.clock_diff_us + 1000000), 200000);
	cr_assert_lt(llabs(sen.peer.clock_diff_us - 1000000), 200000);
	finish(&srv, &sen);
	rmdir_all(dir);
}

Test(chan_hs, cert_generated_0600_and_reused_then_pinned)
{
	char *dir = tmpdir();
	char path[300], fp[96];
	struct vs_chan_opts so = server_opts(dir, "pw"), co = sensor_opts("pw");
	struct side srv = { 0 }, sen = { 0 };
	struct stat sb;

	srv.ctx = vs_chan_ctx__new(&so);
	cr_assert_not_null(srv.ctx);
	snprintf(fp, sizeof(fp), "%s", vs_chan_ctx__fingerprint(srv.ctx));
	cr_assert_eq(strlen(fp), 95);
	snprintf(path, sizeof(path), "%s/channel-key.pem", dir);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/channel-cert.pem", dir);
	cr_assert_eq(stat(path, &sb), 0);
	vs_chan_ctx__free(srv.ctx);

	/* a restart reuses it */
	srv.ctx = vs_chan_ctx__new(&so);
	cr_assert_str_eq(vs_chan_ctx__fingerprint(srv.ctx), fp);

	/* pinned, in lower case without colons as some tools print it */
	{
		char flat[80];
		int k = 0;

		for (int i = 0; fp[i]; i++)
			if (fp[i] != ':')
				flat[k++] = (char)(fp[i] | 0x20);
		flat[k] = '\0';
		co.tls_fingerprint = flat;
		sen.ctx = vs_chan_ctx__new(&co);
	}
	run_pair(&srv, &sen);
	cr_assert_eq(sen.rc, 0, "%s", sen.err);
	cr_assert_str_eq(sen.peer.fingerprint, fp);
	finish(&srv, &sen);

	/* the CA way: the self-signed certificate is its own CA */
	co.tls_fingerprint = NULL;
	co.tls_ca = path;
	srv.ctx = vs_chan_ctx__new(&so);
	sen.ctx = vs_chan_ctx__new(&co);
	run_pair(&srv, &sen);
	cr_assert_eq(sen.rc, 0, "%s", sen.err);
	finish(&srv, &sen);
	rmdir_all(dir);
}

Test(chan_hs, pin_or_ca_mismatch_refused)
{
	char *dir = tmpdir(), *dir2 = tmpdir();
	char ca2[300];
	struct vs_chan_opts so = server_opts(dir, "pw"), co = sensor_opts("pw");
	struct vs_chan_opts so2 = server_opts(dir2, "pw");
	struct side srv = { 0 }, sen = { 0 };
	struct vs_chan_ctx *other = vs_chan_ctx__new(&so2);

	co.tls_fingerprint = "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:"
			     "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff";
	srv.ctx = vs_chan_ctx__new(&so);
	sen.ctx = vs_chan_ctx__new(&co);
	run_pair(&srv, &sen);
	cr_assert_eq(sen.rc, -EPERM, "%d %s", sen.rc, sen.err);
	cr_assert_not_null(strstr(sen.err, "does not match server_tls_fingerprint"),
			   "%s", sen.err);
	cr_assert_neq(srv.rc, 0);
	finish(&srv, &sen);

	/* a CA that did not sign the server's certificate */
	snprintf(ca2, sizeof(ca2), "%s/channel-cert.pem", dir2);
	co.tls_fingerprint = NULL;
	co.tls_ca = ca2;
	srv.ctx = vs_chan_ctx__new(&so);
	sen.ctx = vs_chan_ctx__new(&co);
	run_pair(&srv, &sen);
	cr_assert_eq(sen.rc, -EPERM, "%d %s", sen.rc, sen.err);
	cr_assert_not_null(strstr(sen.err, "not trusted"), "%s", sen.err);
	finish(&srv, &sen);
	vs_chan_ctx__free(other);
	rmdir_all(dir);
	rmdir_all(dir2);
}

static int refuse_id2(void *arg, const struct vs_chan_peer *p, char *why,
		      size_t n)
{
	(void)arg;
	if (p->id_sensor != 2)
		return 0;
	snprintf(why, n, "id_sensor %u is already connected", p->id_sensor);
	return 1;
}

Test(chan_hs, accept_hook_refuses)
{
	char *dir = tmpdir();
	struct vs_chan_opts so = server_opts(dir, "pw"), co = sensor_opts("pw");
	struct side srv = { 0 }, sen = { 0 };

	so.accept_cb = refuse_id2;
	srv.ctx = vs_chan_ctx__new(&so);
	sen.ctx = vs_chan_ctx__new(&co);
	run_pair(&srv, &sen);
	cr_assert_eq(srv.rc, -ECONNREFUSED, "%s", srv.err);
	cr_assert_eq(sen.rc, -ECONNREFUSED, "%s", sen.err);
	cr_assert_not_null(strstr(sen.err, "id_sensor 2 is already connected"),
			   "%s", sen.err);
	finish(&srv, &sen);
	rmdir_all(dir);
}

Test(chan_hs, oversized_frame_closes_only_that_conn)
{
	char *dir = tmpdir();
	struct vs_chan_opts so = server_opts(dir, "pw"), co = sensor_opts("pw");
	struct side srv = { .frames = 1 }, sen = { 0 };
	static uint8_t junk[5000];
	struct vs_chan_ctx_stats st;

	so.max_frame = 4096;
	srv.ctx = vs_chan_ctx__new(&so);
	sen.ctx = vs_chan_ctx__new(&co);
	run_pair(&srv, &sen);
	cr_assert_eq(sen.rc, 0, "%s", sen.err);
	cr_assert_eq(vs_chan_conn__send_wait(sen.c, VS_CHAN_CDR, junk,
					     sizeof(junk), 5000),
		     0);
	pthread_join(srv.th, NULL);
	cr_assert_eq(srv.rc, -EMSGSIZE, "%s", srv.err);
	cr_assert_str_eq(srv.err, "closing: frame above the maximum size");
	vs_chan_ctx__stats(srv.ctx, &st);
	cr_assert_eq(st.conn_frame_err, 1);
	finish(&srv, &sen);
	rmdir_all(dir);
}

Test(chan_hs, silent_peer_times_out)
{
	char *dir = tmpdir();
	struct vs_chan_opts so = server_opts(dir, "pw");
	struct vs_chan_ctx *ctx;
	struct vs_chan_conn *c;
	int sv[2];

	so.hs_timeout_ms = 200;
	ctx = vs_chan_ctx__new(&so);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c = vs_chan_conn__new(ctx, sv[0]);
	cr_assert_eq(vs_chan_conn__handshake_wait(c, 5000), -ETIMEDOUT);
	cr_assert_str_eq(vs_chan_conn__error(c), "handshake timed out after 200 ms");
	vs_chan_conn__free(c);
	close(sv[1]);
	vs_chan_ctx__free(ctx);
	rmdir_all(dir);
}

/* Over real TCP on 127.0.0.1 with the blocking connect helper. */
struct tcp_srv {
	struct vs_chan_ctx *ctx;
	int lfd;
	int rc;
	struct vs_chan_peer peer;
};

static void *tcp_serve(void *arg)
{
	struct tcp_srv *t = arg;
	struct vs_chan_conn *c;
	struct vs_chan_frame f;
	int fd;

	for (int i = 0; i < 500 && (fd = accept(t->lfd, NULL, NULL)) < 0; i++)
		usleep(10000);
	c = vs_chan_conn__new(t->ctx, fd);
	t->rc = vs_chan_conn__handshake_wait(c, 5000);
	if (!t->rc)
		t->rc = vs_chan_conn__recv_wait(c, &f, 5000);
	t->peer = *vs_chan_conn__peer(c);
	vs_chan_conn__free(c);
	return NULL;
}

Test(chan_hs, loopback_tcp_connect)
{
	char *dir = tmpdir();
	struct vs_chan_opts so = server_opts(dir, "pw"), co = sensor_opts("pw");
	struct tcp_srv t = { 0 };
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct vs_chan_ctx *cctx;
	struct vs_chan_conn *c;
	pthread_t th;

	t.ctx = vs_chan_ctx__new(&so);
	t.lfd = vs_chan__listen("127.0.0.1", 0, 4);
	cr_assert_geq(t.lfd, 0);
	cr_assert_eq(getsockname(t.lfd, (struct sockaddr *)&sa, &sl), 0);
	pthread_create(&th, NULL, tcp_serve, &t);
	cctx = vs_chan_ctx__new(&co);
	c = vs_chan__connect(cctx, "127.0.0.1", ntohs(sa.sin_port), "127.0.0.1",
			     5000);
	cr_assert_not_null(c);
	cr_assert_eq(vs_chan_conn__send_wait(c, VS_CHAN_PING, "12345678abcdefgh",
					     16, 5000),
		     0);
	pthread_join(th, NULL);
	cr_assert_eq(t.rc, 0);
	cr_assert_eq(strncmp(t.peer.addr, "127.0.0.1:", 10), 0, "%s", t.peer.addr);
	cr_assert_eq(strncmp(vs_chan_conn__peer(c)->addr, "127.0.0.1:", 10), 0);
	vs_chan_conn__free(c);
	vs_chan_ctx__free(cctx);
	close(t.lfd);
	vs_chan_ctx__free(t.ctx);
	rmdir_all(dir);
}

/* The sans-IO core: a forged AUTH_OK (an impostor server that does not know
 * the password) is refused as a bad password. */
Test(chan_hs, impostor_server_refused)
{
	struct vs_chan_opts co = sensor_opts("pw");
	struct vs_chan_ctx *ctx = vs_chan_ctx__new(&co);
	struct vs_chan_hs hs;
	struct vs_buf out = { 0 };
	uint8_t exp[32] = { 1 }, mac[32] = { 0 };
	const char *chal = "{\"proto\":2,\"name\":\"evil\",\"version\":\"1\","
			   "\"compress\":\"none\",\"clock_us\":0,\"nonce\":"
			   "\"00000000000000000000000000000000"
			   "00000000000000000000000000000000\"}";
	struct vs_chan_frame f = { VS_CHAN_AUTH_CHALLENGE, 0, strlen(chal),
				   (const uint8_t *)chal };

	vs_chan_hs__init(&hs, ctx, exp);
	cr_assert_eq(vs_chan_hs__start(&hs, &out), -EAGAIN);
	cr_assert_eq(vs_chan_hs__input(&hs, &f, &out), -EAGAIN);
	f.type = VS_CHAN_AUTH_OK;
	f.data = mac;
	f.len = 32;
	cr_assert_eq(vs_chan_hs__input(&hs, &f, &out), -EACCES);
	cr_assert_not_null(strstr(hs.err, "bad password"));
	vs_buf__free(&out);
	vs_chan_ctx__free(ctx);
}

/* Protocol 2 sensors want a server of 2 (their spool holds binary CDR
 * bodies); a server takes sensors of 1 and 2, not 3. */
static int challenge_of(int proto, char *err, size_t errlen)
{
	struct vs_chan_opts co = sensor_opts("pw");
	struct vs_chan_ctx *ctx = vs_chan_ctx__new(&co);
	struct vs_chan_hs hs;
	struct vs_buf out = { 0 };
	uint8_t exp[32] = { 1 };
	char chal[256];
	struct vs_chan_frame f = { VS_CHAN_AUTH_CHALLENGE, 0, 0,
				   (const uint8_t *)chal };
	int r;

	snprintf(chal, sizeof(chal),
		 "{\"proto\":%d,\"name\":\"old\",\"version\":\"1\","
		 "\"compress\":\"none\",\"clock_us\":0,\"nonce\":\"%064d\"}",
		 proto, 0);
	f.len = (uint32_t)strlen(chal);
	vs_chan_hs__init(&hs, ctx, exp);
	cr_assert_eq(vs_chan_hs__start(&hs, &out), -EAGAIN);
	r = vs_chan_hs__input(&hs, &f, &out);
	snprintf(err, errlen, "%s", hs.err);
	vs_buf__free(&out);
	vs_chan_ctx__free(ctx);
	return r;
}

static int hello_of(int proto)
{
	char *dir = tmpdir();
	struct vs_chan_opts so = server_opts(dir, "pw");
	struct vs_chan_ctx *ctx = vs_chan_ctx__new(&so);
	struct vs_chan_hs hs;
	struct vs_buf out = { 0 };
	uint8_t exp[32] = { 1 };
	char hello[320];
	struct vs_chan_frame f = { VS_CHAN_HELLO, 0, 0,
				   (const uint8_t *)hello };
	int r;

	cr_assert_not_null(ctx);
	snprintf(hello, sizeof(hello),
		 "{\"proto\":%d,\"id_sensor\":3,\"mode\":\"local\","
		 "\"name\":\"s\",\"version\":\"1\",\"compress\":\"none\","
		 "\"clock_us\":%llu,\"nonce\":\"%064d\"}", proto,
		 (unsigned long long)chan_now_us(ctx), 0);
	f.len = (uint32_t)strlen(hello);
	vs_chan_hs__init(&hs, ctx, exp);
	r = vs_chan_hs__input(&hs, &f, &out);
	vs_buf__free(&out);
	vs_chan_ctx__free(ctx);
	rmdir_all(dir);
	return r;
}

Test(chan_hs, protocol_versions)
{
	char err[256];

	cr_expect_eq(challenge_of(1, err, sizeof(err)), -EPROTONOSUPPORT);
	cr_expect_not_null(strstr(err, "protocol version 1"), "%s", err);
	cr_expect_eq(challenge_of(2, err, sizeof(err)), -EAGAIN, "%s", err);
	cr_expect_eq(hello_of(1), -EAGAIN, "protocol-1 sensor taken");
	cr_expect_eq(hello_of(2), -EAGAIN);
	cr_expect_eq(hello_of(3), -EPROTONOSUPPORT);
}

/* --- the proofs are bound to their TLS session (the exporter) ------------
 *
 * The sans-IO core, both ends: the frames of one side decoded and fed to
 * the other, so the HELLO and AUTH_CHALLENGE hashes are the same on both
 * ends and the exporter is the only input that may differ. */
static int feed(struct vs_chan_hs *hs, struct vs_buf *in, struct vs_buf *out,
		uint8_t *type)
{
	const uint8_t *p = in->p;
	size_t n = in->len;
	struct vs_chan_frame f;
	struct vs_chan_dec d;
	int r;

	vs_chan_dec__init(&d, 0);
	cr_assert_eq(vs_chan_dec__next(&d, &p, &n, &f), 0);
	cr_assert_eq(n, 0, "one frame at a time");
	*type = f.type;
	r = vs_chan_hs__input(hs, &f, out);
	vs_chan_dec__fini(&d);
	in->len = 0;
	return r;
}

/* One handshake, the sensor's exporter es, the server's ev. Returns the
 * server's result; *sen_rc the sensor's. */
static int hs_with_exporters(const uint8_t es[32], const uint8_t ev[32],
			     int *sen_rc, char *srv_err, char *sen_err)
{
	char *dir = tmpdir();
	struct vs_chan_opts so = server_opts(dir, "same-pw"),
			    co = sensor_opts("same-pw");
	struct vs_chan_ctx *vctx = vs_chan_ctx__new(&so),
			   *sctx = vs_chan_ctx__new(&co);
	struct vs_buf a = { 0 }, b = { 0 };
	struct vs_chan_hs sen, srv;
	uint8_t t;
	int r;

	cr_assert(vctx && sctx);
	vs_chan_hs__init(&sen, sctx, es);
	vs_chan_hs__init(&srv, vctx, ev);
	cr_assert_eq(vs_chan_hs__start(&sen, &a), -EAGAIN);
	cr_assert_eq(feed(&srv, &a, &b, &t), -EAGAIN, "%s", srv.err);
	cr_assert_eq(t, VS_CHAN_HELLO);
	cr_assert_eq(feed(&sen, &b, &a, &t), -EAGAIN, "%s", sen.err);
	cr_assert_eq(t, VS_CHAN_AUTH_CHALLENGE);
	/* the same transcript on both ends */
	cr_assert_eq(memcmp(sen.h_hello, srv.h_hello, 32), 0);
	cr_assert_eq(memcmp(sen.h_chal, srv.h_chal, 32), 0);
	r = feed(&srv, &a, &b, &t);
	cr_assert_eq(t, VS_CHAN_AUTH_RESPONSE);
	*sen_rc = feed(&sen, &b, &a, &t);
	cr_assert_eq(t, r ? VS_CHAN_ERROR : VS_CHAN_AUTH_OK);
	strcpy(srv_err, srv.err);
	strcpy(sen_err, sen.err);
	vs_buf__free(&a);
	vs_buf__free(&b);
	vs_chan_ctx__free(sctx);
	vs_chan_ctx__free(vctx);
	rmdir_all(dir);
	return r;
}

Test(chan_hs, proof_bound_to_exporter)
{
	uint8_t e1[32], e2[32];
	char se[256], ce[256];
	int sen_rc;

	for (int i = 0; i < 32; i++)
		e1[i] = e2[i] = (uint8_t)(i * 37 + 5);
	/* same password, same exporter: accepted both ways */
	cr_assert_eq(hs_with_exporters(e1, e1, &sen_rc, se, ce), 0, "%s", se);
	cr_assert_eq(sen_rc, 0, "%s", ce);
	/* same password, the proof made for another session (one bit of
	 * the exporter): the server refuses it as a bad password and tells
	 * the sensor so */
	e2[31] ^= 1;
	cr_assert_eq(hs_with_exporters(e1, e2, &sen_rc, se, ce), -EACCES);
	cr_assert_not_null(strstr(se, "bad password (sensor 2"), "%s", se);
	cr_assert_eq(sen_rc, -EACCES, "%s", ce);
	cr_assert_not_null(strstr(ce, "server refused: bad password"), "%s",
			   ce);
}

/* The attack the binding stops, over real TLS: a man in the middle
 * terminates the sensor's TLS with a certificate of its own (accepted on
 * first use: no pin), opens its own TLS session to the server, and passes
 * the channel frames through unchanged. The password proof it relays was
 * made for the sensor's session, so the server refuses it, although every
 * frame, nonce and the password are right. */
struct mitm_end {
	struct side s;
	atomic_int done;
};

/* One end's handshake (its role from its ctx); a failed connection is
 * shut down, as the server and the sensor roles close it. */
static void *mitm_end_run(void *arg)
{
	struct mitm_end *e = arg;

	e->s.c = vs_chan_conn__new(e->s.ctx, e->s.fd);
	e->s.rc = vs_chan_conn__handshake_wait(e->s.c, 5000);
	snprintf(e->s.err, sizeof(e->s.err), "%s",
		 vs_chan_conn__error(e->s.c));
	e->s.peer = *vs_chan_conn__peer(e->s.c);
	if (e->s.rc)
		shutdown(e->s.fd, SHUT_RDWR);
	atomic_store(&e->done, 1);
	return NULL;
}

static SSL *mitm_ssl(struct vs_chan_ctx *ctx, int fd)
{
	SSL *s = SSL_new(ctx->ssl);
	BIO *b = BIO_new(ctx->bio); /* writes without SIGPIPE */

	cr_assert(s && b);
	BIO_set_fd(b, fd, BIO_NOCLOSE);
	SSL_set_bio(s, b, b);
	return s;
}

/* Copies what one side has for the other: decrypted and re-encrypted when
 * ssl is set (TLS terminated), raw TLS bytes otherwise. 0 at EOF. */
static ssize_t mitm_copy(SSL *from_ssl, int from, SSL *to_ssl, int to)
{
	char buf[16384];
	ssize_t n;

	n = from_ssl ? SSL_read(from_ssl, buf, sizeof(buf)) :
		       read(from, buf, sizeof(buf));
	if (n <= 0)
		return 0; /* the source closed */
	if (to_ssl ? SSL_write(to_ssl, buf, (int)n) != n :
		     send(to, buf, (size_t)n, MSG_NOSIGNAL) != n)
		return -1; /* the destination did */
	return n;
}

/* Returns whether the server side closed first (after the sensor's
 * bytes went through). */
static bool mitm_run(bool terminate, struct mitm_end *srv,
		     struct mitm_end *sen)
{
	char *mdir = tmpdir();
	struct vs_chan_opts mo = server_opts(mdir, "unknown"),
			    mc = sensor_opts("unknown");
	struct vs_chan_ctx *mctx_s = vs_chan_ctx__new(&mo),
			   *mctx_c = vs_chan_ctx__new(&mc);
	SSL *to_sen = NULL, *to_srv = NULL;
	bool srv_closed = false, sen_closed = false;
	pthread_t ts, tc;
	int a[2], b[2];

	cr_assert(mctx_s && mctx_c);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	sen->s.fd = a[0];
	srv->s.fd = b[0];
	cr_assert_eq(pthread_create(&ts, NULL, mitm_end_run, srv), 0);
	cr_assert_eq(pthread_create(&tc, NULL, mitm_end_run, sen), 0);
	if (terminate) {
		to_sen = mitm_ssl(mctx_s, a[1]);
		to_srv = mitm_ssl(mctx_c, b[1]);
		cr_assert_eq(SSL_accept(to_sen), 1, "TLS with the sensor");
		cr_assert_eq(SSL_connect(to_srv), 1, "TLS with the server");
	}
	/* Until the server closes: the sensor, told "bad password", may
	 * close its end first, and under load the relay may see that
	 * first; then only the server's side is watched. */
	for (int idle = 0; idle < 50;) {
		struct pollfd p[2] = { { sen_closed ? -1 : a[1], POLLIN, 0 },
				       { b[1], POLLIN, 0 } };
		ssize_t n;

		if (atomic_load(&srv->done) && atomic_load(&sen->done) &&
		    idle > 2)
			break;
		if (poll(p, 2, 100) <= 0) {
			idle++;
			continue;
		}
		if (p[1].revents) {
			n = mitm_copy(to_srv, b[1], to_sen, a[1]);
			if (n == 0) {
				srv_closed = true;
				break;
			}
			if (n < 0)
				sen_closed = true;
		}
		if (p[0].revents &&
		    mitm_copy(to_sen, a[1], to_srv, b[1]) <= 0)
			sen_closed = true;
	}
	shutdown(a[1], SHUT_RDWR);
	shutdown(b[1], SHUT_RDWR);
	pthread_join(ts, NULL);
	pthread_join(tc, NULL);
	SSL_free(to_sen);
	SSL_free(to_srv);
	close(a[1]);
	close(b[1]);
	vs_chan_ctx__free(mctx_s);
	vs_chan_ctx__free(mctx_c);
	rmdir_all(mdir);
	return srv_closed;
}

Test(chan_hs, relayed_proof_refused_on_another_tls_session)
{
	char *dir = tmpdir();
	struct vs_chan_opts so = server_opts(dir, "right"),
			    co = sensor_opts("right");
	struct mitm_end srv = { 0 }, sen = { 0 };
	struct vs_chan_ctx_stats st;
	struct vs_chan_frame f;

	/* control: the relay passing the TLS bytes through (one session
	 * end to end) changes nothing */
	srv.s.ctx = vs_chan_ctx__new(&so);
	sen.s.ctx = vs_chan_ctx__new(&co);
	mitm_run(false, &srv, &sen);
	cr_assert_eq(srv.s.rc, 0, "%s", srv.s.err);
	cr_assert_eq(sen.s.rc, 0, "%s", sen.s.err);
	cr_assert_str_eq(sen.s.peer.fingerprint,
			 vs_chan_ctx__fingerprint(srv.s.ctx));
	vs_chan_conn__free(srv.s.c);
	vs_chan_conn__free(sen.s.c);
	vs_chan_ctx__free(sen.s.ctx);

	/* the relay terminating TLS: two sessions, two exporters */
	memset(&sen, 0, sizeof(sen));
	srv.s.c = NULL;
	atomic_store(&srv.done, 0);
	sen.s.ctx = vs_chan_ctx__new(&co);
	cr_assert(mitm_run(true, &srv, &sen),
		  "the server did not close the relayed connection");
	cr_assert_eq(srv.s.rc, -EACCES, "%d %s", srv.s.rc, srv.s.err);
	cr_assert_not_null(strstr(srv.s.err, "bad password (sensor 2"), "%s",
			   srv.s.err);
	/* the sensor's frames did reach the server: its HELLO was read */
	cr_assert_str_eq(srv.s.peer.name, "probe-a");
	/* the sensor accepted the relay's certificate (first use) and was
	 * told by the server, through the relay, why */
	cr_assert_str_neq(sen.s.peer.fingerprint,
			  vs_chan_ctx__fingerprint(srv.s.ctx));
	cr_assert_eq(sen.s.rc, -EACCES, "%d %s", sen.s.rc, sen.s.err);
	cr_assert_not_null(strstr(sen.s.err, "bad password"), "%s",
			   sen.s.err);
	/* the connection is dead: not open, nothing more taken from it */
	cr_assert_not(vs_chan_conn__ready(srv.s.c));
	cr_assert_eq(vs_chan_conn__recv(srv.s.c, &f), -EACCES);
	vs_chan_ctx__stats(srv.s.ctx, &st);
	cr_assert_eq(st.hs_ok, 1, "only the control run");
	cr_assert_eq(st.hs_bad_password, 1);
	vs_chan_conn__free(srv.s.c);
	vs_chan_conn__free(sen.s.c);
	vs_chan_ctx__free(sen.s.ctx);
	vs_chan_ctx__free(srv.s.ctx);
	rmdir_all(dir);
}
