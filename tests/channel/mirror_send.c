// SPDX-License-Identifier: GPL-2.0-or-later
/* mirror_send: a mirroring sensor for tests. Connects through the real
 * channel (TLS, password, hello with mode mirror and id_sensor) and sends a
 * capture's frames as PACKETS batches, paced by their timestamps as a live
 * sensor would, each batch closed with a watermark; then waits until the
 * server acknowledged every batch (docs/distributed.md).
 *
 * Usage: mirror_send -s HOST -i ID -r FILE.pcap [options]
 *   -P PORT     server port [60024]
 *   -w PASS     server_password [""]
 *   -B IP       source address of the connection (manager_ip)
 *   -n NAME     sensor name in the hello [host name]
 *   -f FILTER   all | sip-only | rtp-only | a pcap filter expression [all]
 *               (sip-only: TCP, UDP on the SIP port, IP fragments)
 *   -S PORT     SIP port for the named filters [5060]
 *   -a WHEN     map the first frame to WHEN: epoch seconds (fractions
 *               allowed) or "now"; default: the file's own times
 *   -o MS       add MS milliseconds to every timestamp after pacing (a
 *               probe whose clock is off; far in the past) [0]
 *   -b N        frames per batch at most [64]
 *   -x          no pacing: send as fast as the server takes them
 * Exit: 0 when every batch was acknowledged, 1 otherwise, 2 usage. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "channel/channel.h"

#define EMPTY_EVERY_US 100000	/* watermark-only batch when idle */

struct opts {
	const char *host, *pass, *bind, *name, *file, *filter, *at;
	uint16_t port, sipport, id;
	int64_t offset_us;
	unsigned batch;
	int nopace;
};

struct frames {
	struct vs_frame *v;
	size_t n;
};

struct sender {
	struct vs_chan_conn *c;
	struct vs_buf b;
	uint16_t id;
	uint64_t next_seq, first_seq, last_sent, acked, sent, frames;
	int64_t offset_us;
};

static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

static int usage(void)
{
	fprintf(stderr, "usage: mirror_send -s HOST -i ID -r FILE.pcap [-P "
		"PORT] [-w PASS] [-B IP] [-n NAME] [-f all|sip-only|rtp-only|"
		"EXPR] [-S PORT] [-a EPOCH|now] [-o MS] [-b N] [-x]\n");
	return 2;
}

static const char *filter_expr(const struct opts *o, char *buf, size_t n)
{
	const char *sip = "tcp or udp port %u or (ip and ip[6:2] & 0x3fff "
			  "!= 0) or (ip6 and ip6[6] = 44)";
	char s[160];

	snprintf(s, sizeof(s), sip, o->sipport);
	if (!strcmp(o->filter, "all"))
		return NULL;
	if (!strcmp(o->filter, "sip-only"))
		snprintf(buf, n, "%s", s);
	else if (!strcmp(o->filter, "rtp-only"))
		snprintf(buf, n, "not (%s)", s);
	else
		snprintf(buf, n, "%s", o->filter);
	return buf;
}

/* The frames that pass the filter, copied, timestamps mapped. */
static int load(const struct opts *o, struct frames *fr)
{
	char eb[PCAP_ERRBUF_SIZE], expr[512];
	const char *e = filter_expr(o, expr, sizeof(expr));
	struct bpf_program prog;
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *pc = pcap_open_offline(o->file, eb);
	size_t cap = 0;
	int64_t shift = 0;

	if (!pc) {
		fprintf(stderr, "mirror_send: %s\n", eb);
		return -1;
	}
	if (e && pcap_compile(pc, &prog, e, 1, PCAP_NETMASK_UNKNOWN)) {
		fprintf(stderr, "mirror_send: filter '%s': %s\n", e,
			pcap_geterr(pc));
		return -1;
	}
	while (pcap_next_ex(pc, &h, &d) == 1) {
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u +
			      (uint64_t)h->ts.tv_usec;
		uint8_t *copy;

		if (!cap && !fr->n && o->at) /* first frame: the mapping */
			shift = (int64_t)(!strcmp(o->at, "now") ?
				wall_us() + 500000 : (uint64_t)(atof(o->at) * 1e6)) -
				(int64_t)ts;
		if (e && !pcap_offline_filter(&prog, h, d))
			continue;
		if (fr->n == cap) {
			cap = cap ? cap * 2 : 4096;
			fr->v = realloc(fr->v, cap * sizeof(*fr->v));
		}
		copy = malloc(h->caplen);
		if (!fr->v || !copy)
			return -1;
		memcpy(copy, d, h->caplen);
		fr->v[fr->n++] = (struct vs_frame){
			.data = copy, .caplen = h->caplen, .origlen = h->len,
			.ts_us = (uint64_t)((int64_t)ts + shift),
			.linktype = (uint16_t)pcap_datalink(pc) };
	}
	if (e)
		pcap_freecode(&prog);
	pcap_close(pc);
	return 0;
}

/* Acknowledgements and pings, without waiting. */
static int poll_rx(struct sender *s)
{
	struct vs_chan_frame f;
	struct vs_chan_ack a;
	struct vs_chan_ping pg;
	struct vs_buf *b;
	int r;

	while (!(r = vs_chan_conn__recv(s->c, &f))) {
		if (f.type == VS_CHAN_PACKETS_ACK &&
		    !vs_chan_ack__parse(f.data, f.len, &a) &&
		    a.first_seq + a.count - 1 > s->acked)
			s->acked = a.first_seq + a.count - 1;
		else if (f.type == VS_CHAN_PING &&
			 !vs_chan_ping__parse(f.data, f.len, &pg)) {
			b = vs_chan_conn__scratch(s->c);
			if (!vs_chan_ping__put(b, &pg))
				vs_chan_conn__send(s->c, VS_CHAN_PONG, b->p,
						   b->len);
		} else if (f.type == VS_CHAN_ERROR) {
			fprintf(stderr, "mirror_send: server sent an error\n");
			return -EPROTO;
		}
	}
	if (r != -EAGAIN)
		return r;
	r = vs_chan_conn__flush(s->c);
	return r == -EAGAIN ? 0 : r;
}

static int send_batch(struct sender *s, uint64_t wm)
{
	int r;

	vs_chan_packets__close(&s->b, (uint64_t)((int64_t)wm + s->offset_us));
	r = vs_chan_conn__send_wait(s->c, VS_CHAN_PACKETS, s->b.p, s->b.len,
				    10000);
	if (r)
		return r;
	s->sent++;
	s->last_sent = s->next_seq - 1;
	return vs_chan_packets__begin(&s->b, s->id, s->next_seq++);
}

static int add(struct sender *s, struct vs_frame *f)
{
	struct vs_frame g = *f;

	g.ts_us = (uint64_t)((int64_t)f->ts_us + s->offset_us);
	s->frames++;
	return vs_chan_packets__add(&s->b, &g, 0, 0);
}

/* Frames go out once their time has come; a batch closes when full, when
 * the next frame is not due yet, or as an empty one every 100 ms. */
static int run(const struct opts *o, struct sender *s, struct frames *fr)
{
	size_t i = 0;
	uint64_t now, last = 0, wait;
	int r = 0;

	while (!r && i < fr->n) {
		now = o->nopace ? UINT64_MAX : wall_us();
		while (i < fr->n && fr->v[i].ts_us <= now &&
		       vs_chan_packets__count(&s->b) < o->batch)
			r = add(s, &fr->v[i++]);
		if (r)
			break;
		if (vs_chan_packets__count(&s->b) >= o->batch ||
		    (vs_chan_packets__count(&s->b) &&
		     (i == fr->n || fr->v[i].ts_us > now)) ||
		    (now != UINT64_MAX && now - last >= EMPTY_EVERY_US)) {
			uint64_t wm = i == fr->n ? fr->v[i - 1].ts_us :
				      fr->v[i].ts_us - 1;

			if (wm > now)
				wm = now;
			r = send_batch(s, wm);
			last = now;
		}
		if (!r)
			r = poll_rx(s);
		if (!r && i < fr->n && !o->nopace &&
		    fr->v[i].ts_us > (now = wall_us())) {
			wait = fr->v[i].ts_us - now;
			usleep((useconds_t)(wait > 20000 ? 20000 : wait));
		}
	}
	/* the end: everything sent, the watermark at the last frame */
	if (!r && fr->n)
		r = send_batch(s, fr->v[fr->n - 1].ts_us);
	return r;
}

static int wait_acks(struct sender *s)
{
	uint64_t end = wall_us() + 15000000;
	struct vs_chan_frame f;

	while (s->acked < s->last_sent && wall_us() < end) {
		int r = poll_rx(s);

		if (r)
			return r;
		if (s->acked < s->last_sent) {
			r = vs_chan_conn__recv_wait(s->c, &f, 200);
			if (!r && f.type == VS_CHAN_PACKETS_ACK) {
				struct vs_chan_ack a;

				if (!vs_chan_ack__parse(f.data, f.len, &a) &&
				    a.first_seq + a.count - 1 > s->acked)
					s->acked = a.first_seq + a.count - 1;
			} else if (r && r != -ETIMEDOUT) {
				return r;
			}
		}
	}
	return s->acked >= s->last_sent ? 0 : -ETIMEDOUT;
}

static int parse(int argc, char **argv, struct opts *o)
{
	int ch;

	*o = (struct opts){ .port = 60024, .sipport = 5060, .batch = 64,
			    .pass = "", .filter = "all" };
	while ((ch = getopt(argc, argv, "s:P:i:w:B:n:r:f:S:a:o:b:x")) != -1) {
		switch (ch) {
		case 's': o->host = optarg; break;
		case 'P': o->port = (uint16_t)atoi(optarg); break;
		case 'i': o->id = (uint16_t)atoi(optarg); break;
		case 'w': o->pass = optarg; break;
		case 'B': o->bind = optarg; break;
		case 'n': o->name = optarg; break;
		case 'r': o->file = optarg; break;
		case 'f': o->filter = optarg; break;
		case 'S': o->sipport = (uint16_t)atoi(optarg); break;
		case 'a': o->at = optarg; break;
		case 'o': o->offset_us = strtoll(optarg, NULL, 10) * 1000; break;
		case 'b': o->batch = (unsigned)atoi(optarg); break;
		case 'x': o->nopace = 1; break;
		default: return -1;
		}
	}
	return o->host && o->id && o->file && o->batch ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct frames fr = { 0 };
	struct vs_chan_opts co = { .role = VS_CHAN_SENSOR };
	struct vs_chan_ctx *ctx;
	struct sender s = { 0 };
	int r;

	if (parse(argc, argv, &o))
		return usage();
	if (load(&o, &fr))
		return 1;
	co.password = o.pass;
	co.id_sensor = o.id;
	co.name = o.name;
	co.mode = VS_CHAN_MODE_MIRROR;
	ctx = vs_chan_ctx__new(&co);
	if (!ctx)
		return 1;
	s.c = vs_chan__connect(ctx, o.host, o.port, o.bind, 5000);
	if (!s.c) {
		fprintf(stderr, "mirror_send: connect: %s\n", strerror(errno));
		return 1;
	}
	s.offset_us = o.offset_us;
	s.id = o.id;
	/* numbered from the clock, as a real sensor: a rerun is not a re-send */
	s.first_seq = s.next_seq = wall_us();
	r = vs_chan_packets__begin(&s.b, s.id, s.next_seq++);
	if (!r)
		r = run(&o, &s, &fr);
	if (!r)
		r = wait_acks(&s);
	printf("mirror_send: sensor %u: %llu frames in %llu batches, %llu "
	       "acknowledged%s%s\n", o.id, (unsigned long long)s.frames,
	       (unsigned long long)s.sent,
	       (unsigned long long)(s.acked ? s.acked - s.first_seq + 1 : 0),
	       r ? ": " : "", r ? strerror(-r) : "");
	vs_chan_conn__free(s.c);
	vs_chan_ctx__free(ctx);
	vs_buf__free(&s.b);
	for (size_t i = 0; i < fr.n; i++)
		free((void *)fr.v[i].data);
	free(fr.v);
	return r ? 1 : 0;
}
