/* The ground truth: one JSON object per call, printed when the call's last
 * event has run (so lines come in call-end order; "index" orders them). */
#include "vsgen.h"

static void print_time(FILE *f, const char *key, uint64_t t)
{
	if (t)
		fprintf(f, ",\"%s\":%llu.%06llu", key,
			(unsigned long long)(t / 1000000),
			(unsigned long long)(t % 1000000));
	else
		fprintf(f, ",\"%s\":null", key);
}

static void ep_str(const struct vg_gen *g, const struct vg_ep *ep, char *buf,
		   size_t cap)
{
	char ip[64];

	net_ip_str(&g->net, ep->ip, ip, sizeof(ip));
	snprintf(buf, cap, g->net.v6 ? "[%s]:%u" : "%s:%u", ip, ep->port);
}

static void print_bursts(FILE *f, const uint64_t *b)
{
	int i;

	fprintf(f, ",\"loss_bursts\":[");
	for (i = 0; i < VG_NBURST; i++)
		fprintf(f, "%s%llu", i ? "," : "", (unsigned long long)b[i]);
	fprintf(f, "]");
}

static void print_rx(FILE *f, const struct vg_rx *rx)
{
	fprintf(f, ",\"packets\":%llu,\"dup\":%llu,\"reordered\":%llu"
		   ",\"jitter_ms\":%.6f,\"max_jitter_ms\":%.6f",
		(unsigned long long)rx->packets, (unsigned long long)rx->dup,
		(unsigned long long)rx->reordered, rx->jitter_us / 1000.0,
		rx->max_jitter_us / 1000.0);
}

static void print_leg(FILE *f, const struct vg_gen *g,
		      const struct vg_stream *st, const struct vg_leg *l)
{
	char s[80], d[80];

	ep_str(g, &l->src, s, sizeof(s));
	ep_str(g, &l->dst, d, sizeof(d));
	fprintf(f, "{\"src\":\"%s\",\"dst\":\"%s\",\"first_seq\":%u"
		   ",\"last_seq\":%u,\"unique\":%llu,\"lost\":%llu",
		s, d, (uint16_t)(st->seq0 + l->first_slot),
		(uint16_t)(st->seq0 + l->last_slot),
		(unsigned long long)l->unique, (unsigned long long)l->lost);
	print_bursts(f, l->bursts);
	print_rx(f, &l->rx);
	fprintf(f, "}");
}

static void print_dir(FILE *f, const struct vg_gen *g, const struct vg_call *c,
		      int dir)
{
	const struct vg_stream *st = &c->dir[dir];
	uint64_t unique = 0, lost = 0, bursts[VG_NBURST] = { 0 };
	char s[80], d[80];
	unsigned i, j;

	fprintf(f, ",\"%c\":", dir ? 'b' : 'a');
	if (!c->has_media) {
		fprintf(f, "null");
		return;
	}
	for (i = 0; i < st->nlegs; i++) {
		unique += st->leg[i].unique;
		lost += st->leg[i].lost;
		for (j = 0; j < VG_NBURST; j++)
			bursts[j] += st->leg[i].bursts[j];
	}
	ep_str(g, &st->leg[0].src, s, sizeof(s));
	ep_str(g, &st->leg[0].dst, d, sizeof(d));
	fprintf(f, "{\"ssrc\":%u,\"pt\":%d,\"codec\":\"%s\",\"src\":\"%s\""
		   ",\"dst\":\"%s\",\"first_seq\":%u,\"unique\":%llu"
		   ",\"lost\":%llu",
		st->ssrc, st->pt, vg_codec_name(g->o.codec), s, d, st->seq0,
		(unsigned long long)unique, (unsigned long long)lost);
	print_bursts(f, bursts);
	print_rx(f, &st->rx);
	fprintf(f, ",\"dtmf\":\"%s\",\"rtcp_sr\":%u,\"legs\":[", st->dtmf,
		st->rtcp_sent);
	for (i = 0; i < st->nlegs; i++) {
		fprintf(f, "%s", i ? "," : "");
		print_leg(f, g, st, &st->leg[i]);
	}
	fprintf(f, "]}");
}

void truth_write(const struct vg_gen *g, const struct vg_call *c)
{
	FILE *f = g->truth;
	char a[80], b[80];

	if (!f)
		return;
	ep_str(g, &c->caller.sip, a, sizeof(a));
	ep_str(g, &c->callee.sip, b, sizeof(b));
	fprintf(f, "{\"index\":%u,\"call_id\":\"%s\",\"scenario\":\"%s\""
		   ",\"transport\":\"%s\",\"caller_number\":\"%s\""
		   ",\"caller_name\":\"%s\",\"caller_domain\":\"%s\""
		   ",\"called_number\":\"%s\",\"called_domain\":\"%s\""
		   ",\"caller_sip\":\"%s\",\"callee_sip\":\"%s\""
		   ",\"final_code\":%d",
		c->index, c->call_id, vg_scenario_name(c->scenario),
		g->o.tcp ? "tcp" : "udp", c->caller.number, c->caller.display,
		c->caller.domain, c->callee.number, c->callee.domain, a, b,
		c->final_code);
	print_time(f, "invite_time", c->t_invite);
	print_time(f, "ring_time", c->t_ring);
	print_time(f, "answer_time", c->t_answer);
	print_time(f, "final_time", c->t_final);
	print_time(f, "bye_time", c->t_bye);
	print_time(f, "end_time", c->t_end);
	if (c->t_bye)
		fprintf(f, ",\"hangup\":\"%s\"",
			c->callee_hangs_up ? "callee" : "caller");
	else
		fprintf(f, ",\"hangup\":null");
	print_dir(f, g, c, 0);
	print_dir(f, g, c, 1);
	fprintf(f, "}\n");
}
