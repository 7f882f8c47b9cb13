/* vsgen: command line and the event loop. See docs/vsgen.md. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vsgen.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: vsgen -o OUT.pcap [options]\n"
"Writes N overlapping SIP calls with RTP and a JSON-lines ground truth.\n"
"  -o, --output FILE      pcap to write (required; - for stdout)\n"
"  -t, --truth FILE       ground truth, one JSON object per call\n"
"  -n, --calls N          number of calls (10)\n"
"  -d, --duration S       media seconds per call (10)\n"
"      --rate R           call starts per second (10)\n"
"      --overlap N        about N calls active at once (sets --rate)\n"
"  -c, --codec C          pcmu|pcma|g729|g722 (pcmu), ptime 20 ms\n"
"      --loss PCT         drop PCT%% of RTP packets (seeded)\n"
"      --loss-burst N     drop them in bursts of N (1)\n"
"      --jitter MS        add uniform 0..MS ms to RTP arrival times\n"
"      --reorder PCT      delay PCT%% of RTP packets past the next one\n"
"      --dup PCT          write PCT%% of RTP packets twice\n"
"      --transport T      udp|tcp for SIP (udp)\n"
"      --ipv6             IPv6 (fd00::/8) instead of IPv4 (10.1/10.2)\n"
"      --vlan ID          802.1Q tag\n"
"      --qinq[=ID]        outer 802.1ad tag (100) around --vlan (10)\n"
"      --frag             pad the INVITE's SDP and send it as IP fragments\n"
"      --mtu N            MTU for --frag (576)\n"
"  -s, --scenario S       mix|answered|cancel|busy|noanswer|nortp|reinvite\n"
"                         (answered)\n"
"      --dtmf DIGITS      RFC 4733 digits sent by the caller mid-call\n"
"      --rtcp             RTCP SR every 5 s from each side on port+1\n"
"      --retrans          send the INVITE and the 200 OK twice\n"
"      --seed N           random seed (1)\n"
"      --sipport N        SIP port (5060)\n"
"      --start EPOCH      time of the first INVITE (1700000000)\n"
"  -h, --help             this text\n");
}

enum {
	OPT_RATE = 256, OPT_OVERLAP, OPT_LOSS, OPT_BURST, OPT_JITTER,
	OPT_REORDER, OPT_DUP, OPT_TRANSPORT, OPT_IPV6, OPT_VLAN, OPT_QINQ,
	OPT_FRAG, OPT_MTU, OPT_DTMF, OPT_RTCP, OPT_RETRANS, OPT_SEED,
	OPT_SIPPORT, OPT_START,
};

static const struct option longopts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "truth", required_argument, NULL, 't' },
	{ "calls", required_argument, NULL, 'n' },
	{ "duration", required_argument, NULL, 'd' },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "overlap", required_argument, NULL, OPT_OVERLAP },
	{ "codec", required_argument, NULL, 'c' },
	{ "loss", required_argument, NULL, OPT_LOSS },
	{ "loss-burst", required_argument, NULL, OPT_BURST },
	{ "jitter", required_argument, NULL, OPT_JITTER },
	{ "reorder", required_argument, NULL, OPT_REORDER },
	{ "dup", required_argument, NULL, OPT_DUP },
	{ "transport", required_argument, NULL, OPT_TRANSPORT },
	{ "ipv6", no_argument, NULL, OPT_IPV6 },
	{ "vlan", required_argument, NULL, OPT_VLAN },
	{ "qinq", optional_argument, NULL, OPT_QINQ },
	{ "frag", no_argument, NULL, OPT_FRAG },
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "scenario", required_argument, NULL, 's' },
	{ "dtmf", required_argument, NULL, OPT_DTMF },
	{ "rtcp", no_argument, NULL, OPT_RTCP },
	{ "retrans", no_argument, NULL, OPT_RETRANS },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "sipport", required_argument, NULL, OPT_SIPPORT },
	{ "start", required_argument, NULL, OPT_START },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return -EINVAL;
	*out = v;
	return 0;
}

static int pick(const char *s, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

static const char *const codec_names[] = { "pcmu", "pcma", "g729", "g722" };
static const char *const scen_names[] = {
	"answered", "cancel", "busy", "noanswer", "nortp", "reinvite", "mix",
};

static void opts_default(struct vg_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ncalls = 10;
	o->duration = 10;
	o->rate = 10;
	o->loss_burst = 1;
	o->vlan = -1;
	o->qinq = -1;
	o->mtu = 576;
	o->scenario = SC_ANSWERED;
	o->seed = 1;
	o->sipport = 5060;
	o->start_us = 1700000000ull * 1000000;
}

/* Applies one option; returns 0, or -EINVAL for a bad value. */
static int opt_apply(struct vg_opts *o, int ch, const char *arg,
		     double *overlap)
{
	double v = 0;
	int r = 0;

	switch (ch) {
	case 'o': o->out = arg; break;
	case 't': o->truth = arg; break;
	case 'n': r = num(arg, 1, 1e8, &v); o->ncalls = (unsigned)v; break;
	case 'd': r = num(arg, 0.08, 86400, &o->duration); break;
	case OPT_RATE: r = num(arg, 1e-3, 1e5, &o->rate); break;
	case OPT_OVERLAP: r = num(arg, 1, 1e6, overlap); break;
	case 'c': r = o->codec = pick(arg, codec_names, 4); break;
	case OPT_LOSS: r = num(arg, 0, 100, &o->loss); break;
	case OPT_BURST: r = num(arg, 1, 1000, &v); o->loss_burst = (unsigned)v; break;
	case OPT_JITTER: r = num(arg, 0, 10000, &o->jitter_ms); break;
	case OPT_REORDER: r = num(arg, 0, 100, &o->reorder); break;
	case OPT_DUP: r = num(arg, 0, 100, &o->dup); break;
	case OPT_TRANSPORT: r = pick(arg, (const char *const[]){ "udp", "tcp" }, 2);
		o->tcp = r == 1; break;
	case OPT_IPV6: o->ipv6 = true; break;
	case OPT_VLAN: r = num(arg, 0, 4095, &v); o->vlan = (int)v; break;
	case OPT_QINQ: v = 100; r = arg ? num(arg, 0, 4095, &v) : 0;
		o->qinq = (int)v; break;
	case OPT_FRAG: o->frag = true; break;
	case OPT_MTU: r = num(arg, 296, 1500, &v); o->mtu = (unsigned)v; break;
	case 's': r = o->scenario = pick(arg, scen_names, SC_MIX + 1); break;
	case OPT_DTMF: o->dtmf = arg; break;
	case OPT_RTCP: o->rtcp = true; break;
	case OPT_RETRANS: o->retrans = true; break;
	case OPT_SEED: r = num(arg, 0, 1e18, &v); o->seed = (uint64_t)v; break;
	case OPT_SIPPORT: r = num(arg, 1, 65535, &v); o->sipport = (uint16_t)v; break;
	case OPT_START: r = num(arg, 0, 4e9, &v);
		o->start_us = (uint64_t)llround(v * 1e6); break;
	default: return -EINVAL;
	}
	return r < 0 ? -EINVAL : 0;
}

static int opts_parse(struct vg_opts *o, int argc, char **argv)
{
	double overlap = 0;
	int ch;

	opts_default(o);
	while ((ch = getopt_long(argc, argv, "o:t:n:d:c:s:h", longopts,
				 NULL)) != -1) {
		if (ch == 'h') {
			usage(stdout);
			exit(0);
		}
		if (opt_apply(o, ch, optarg, &overlap) < 0) {
			if (ch != '?')
				fprintf(stderr, "vsgen: bad value '%s'\n",
					optarg ? optarg : "");
			usage(stderr);
			return -EINVAL;
		}
	}
	if (!o->out || optind < argc) {
		usage(stderr);
		return -EINVAL;
	}
	/* One call lasts its media plus about 1.1 s of setup. */
	if (overlap > 0)
		o->rate = overlap / (o->duration + 1.1);
	if (o->qinq >= 0 && o->vlan < 0)
		o->vlan = 10;
	return 0;
}

int gen_push(struct vg_gen *g, struct vg_call *c, int kind, uint64_t t,
	     int dir, uint32_t arg, uint8_t flags)
{
	struct vg_ev ev = {
		.t = t, .call = c, .arg = arg, .kind = (uint8_t)kind,
		.dir = (uint8_t)dir, .flags = flags,
	};
	int err = heap_push(&g->heap, &ev);

	if (err < 0) {
		g->err = err;
		return err;
	}
	if (c)
		c->refs++;
	return 0;
}

void gen_write(struct vg_gen *g, uint64_t t, const uint8_t *f, size_t len)
{
	struct pcap_pkthdr h;

	if (!len)
		return;
	if (t < g->last_t)
		g->order_errors++;
	g->last_t = t;
	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)(t / 1000000);
	h.ts.tv_usec = (suseconds_t)(t % 1000000);
	h.caplen = h.len = (bpf_u_int32)len;
	pcap_dump((u_char *)g->dump, &h, f);
	g->frames++;
}

static void call_start(struct vg_gen *g, uint32_t idx, uint64_t now)
{
	struct vg_call *c = call_new(g, idx, now);

	if (!c) {
		g->err = -ENOMEM;
		return;
	}
	if (gen_push(g, c, EV_STEP, c->step[0].t, 0, 0, 0) < 0) {
		call_free(c);
		return;
	}
	if (idx + 1 < g->o.ncalls)
		gen_push(g, NULL, EV_START,
			 g->o.start_us + (uint64_t)llround((idx + 1) * 1e6 /
							    g->o.rate),
			 0, idx + 1, 0);
}

static void dispatch(struct vg_gen *g, const struct vg_ev *ev)
{
	struct vg_call *c = ev->call;

	switch (ev->kind) {
	case EV_START: call_start(g, ev->arg, ev->t); break;
	case EV_STEP: call_step(g, c, ev->arg, ev->t); break;
	case EV_FRAME: call_frame(g, c, ev->t); break;
	case EV_TICK: media_tick(g, c, ev->dir, ev->arg, ev->t); break;
	case EV_RTP:
		media_write(g, c, ev->dir, ev->arg, ev->flags & EVF_DUP, ev->t);
		break;
	case EV_RTCP: media_rtcp(g, c, ev->dir, ev->arg, ev->t); break;
	}
	if (c && --c->refs == 0) {
		truth_write(g, c);
		call_free(c);
	}
}

static int gen_open(struct vg_gen *g)
{
	g->net.v6 = g->o.ipv6;
	g->net.vlan = g->o.vlan;
	g->net.qinq = g->o.qinq;
	media_pattern(g->o.codec, g->pattern, sizeof(g->pattern));
	g->pd = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535,
						     PCAP_TSTAMP_PRECISION_MICRO);
	if (!g->pd)
		return -ENOMEM;
	g->dump = pcap_dump_open(g->pd, g->o.out);
	if (!g->dump) {
		fprintf(stderr, "vsgen: %s: %s\n", g->o.out, pcap_geterr(g->pd));
		return -EIO;
	}
	if (g->o.truth) {
		g->truth = fopen(g->o.truth, "w");
		if (!g->truth) {
			int err = -errno;

			fprintf(stderr, "vsgen: %s: %s\n", g->o.truth,
				strerror(-err));
			return err;
		}
	}
	return 0;
}

static int gen_close(struct vg_gen *g)
{
	int err = 0;

	if (g->dump) {
		pcap_dump_flush(g->dump);
		if (ferror(pcap_dump_file(g->dump)))
			err = -EIO;
		pcap_dump_close(g->dump);
	}
	if (g->pd)
		pcap_close(g->pd);
	if (g->truth && fclose(g->truth))
		err = -errno;
	heap_free(&g->heap);
	return err;
}

int main(int argc, char **argv)
{
	struct vg_gen *g = calloc(1, sizeof(*g));
	struct vg_ev ev;
	int err;

	if (!g)
		return 1;
	err = opts_parse(&g->o, argc, argv);
	if (err < 0)
		goto out;
	err = gen_open(g);
	if (err < 0)
		goto out;
	gen_push(g, NULL, EV_START, g->o.start_us, 0, 0, 0);
	while (!g->err && heap_pop(&g->heap, &ev))
		dispatch(g, &ev);
	err = g->err;
	if (!err && g->order_errors) {
		fprintf(stderr, "vsgen: %llu frames out of time order\n",
			(unsigned long long)g->order_errors);
		err = -EPROTO;
	}
out:
	if (gen_close(g) < 0 && !err)
		err = -EIO;
	if (err < 0 && err != -EINVAL)
		fprintf(stderr, "vsgen: %s\n", strerror(-err));
	free(g);
	return err < 0 ? (err == -EINVAL ? 2 : 1) : 0;
}
