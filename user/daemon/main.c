// SPDX-License-Identifier: GPL-2.0-or-later
/* voxsense: command line, role wiring, and the run. */
#include <errno.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "capture/live.h"
#include "capture/pcap_file.h"
#include "cdr/store_mysql.h"
#include "core/log.h"
#include "daemon/ctl_client.h"
#include "daemon/pipeline.h"
#include "role/legacy_mirror.h"
#include "role/mirror.h"
#include "role/role.h"

#define MAX_INPUTS 256

struct vs_args {
	const char *conf_path;
	const char *inputs[MAX_INPUTS];
	int n_inputs;
	const char *cdr_json;
	const char *spooldir;
	int check_config;
	int stats;
	int verbose;
	int status;		/* --status: ask the central server */
	const char *fetch_pcap;	/* --fetch-pcap CDR_ID */
	const char *output;	/* -o FILE for --fetch-pcap */
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: voxsense [options]\n"
		"VoIP monitoring sensor: SIP and RTP to CDRs and per-call pcaps.\n\n"
		"  -c, --config FILE    configuration (voipmonitor.conf syntax)\n"
		"  -r, --read PCAP      analyse a pcap/pcapng file (repeatable,\n"
		"                       read in the order given)\n"
		"      --cdr-json FILE  also write CDRs as JSON lines ('-' = stdout)\n"
		"      --spooldir DIR   override the spooldir key\n"
		"      --check-config   validate the configuration, print the\n"
		"                       effective settings, and exit\n"
		"      --stats          print all counters to stderr at exit\n"
		"      --status         ask the running central server of -c for\n"
		"                       its state and its sensors (JSON)\n"
		"      --fetch-pcap ID  fetch the pcap of CDR ID (the cdr table's\n"
		"                       ID) from the sensor that recorded it, through\n"
		"                       the central server of -c; with -o FILE\n"
		"  -o, --output FILE    where --fetch-pcap writes ('-' = stdout)\n"
		"  -v, --verbose        more log output (twice: debug)\n"
		"  -h, --help           this text\n"
		"  -V, --version        print the version\n\n"
		"Without -r, voxsense captures live on the interface key until\n"
		"SIGINT/SIGTERM (capture_mode = copy | afxdp | pcap; see\n"
		"docs/capture.md).\n"
		"CDRs go to the SQLite file sqlite_path (default\n"
		"<spooldir>/voxsense.db); call pcaps to spooldir/YYYY-MM-DD/HH/MM/.\n");
}

enum { OPT_CDR_JSON = 256, OPT_CHECK, OPT_SPOOLDIR, OPT_STATS, OPT_STATUS,
       OPT_FETCH };

static int parse_args(int argc, char **argv, struct vs_args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "read", required_argument, NULL, 'r' },
		{ "cdr-json", required_argument, NULL, OPT_CDR_JSON },
		{ "spooldir", required_argument, NULL, OPT_SPOOLDIR },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "status", no_argument, NULL, OPT_STATUS },
		{ "fetch-pcap", required_argument, NULL, OPT_FETCH },
		{ "output", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "c:r:o:vhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': a->conf_path = optarg; break;
		case 'r':
			if (a->n_inputs == MAX_INPUTS) {
				vs_err("at most %d -r files", MAX_INPUTS);
				return -EINVAL;
			}
			a->inputs[a->n_inputs++] = optarg;
			break;
		case OPT_CDR_JSON: a->cdr_json = optarg; break;
		case OPT_SPOOLDIR: a->spooldir = optarg; break;
		case OPT_CHECK: a->check_config = 1; break;
		case OPT_STATS: a->stats = 1; break;
		case OPT_STATUS: a->status = 1; break;
		case OPT_FETCH: a->fetch_pcap = optarg; break;
		case 'o': a->output = optarg; break;
		case 'v': a->verbose++; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("voxsense %s\n", VS_VERSION); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind < argc) {
		vs_err("unexpected argument '%s' (see --help)", argv[optind]);
		return -EINVAL;
	}
	if (!a->fetch_pcap != !a->output) {
		vs_err("--fetch-pcap CDR_ID and -o FILE go together");
		return -EINVAL;
	}
	return 0;
}

static int load_conf(const struct vs_args *a, struct vs_conf *c)
{
	int err;

	vs_conf__init(c);
	if (a->conf_path) {
		err = vs_conf__load(c, a->conf_path);
		if (err)
			return err;
	}
	/* The database follows the spooldir unless sqlite_path was set. */
	if (a->spooldir &&
	    vs_conf__set(c, "spooldir", a->spooldir, "--spooldir") != 0)
		return -EINVAL;
	return 0;
}

/* The CDR database: MariaDB when mysqlhost or mysqlsocket is set, else the
 * SQLite file sqlite_path (when not empty). */
static struct vs_cdr_store *open_db(const struct vs_conf *c)
{
	struct vs_mysql_opts mo;
	struct vs_cdr_store *s;

	if (c->mysql.host[0] || c->mysql.socket[0]) {
		vs_role__mysql_opts(c, &mo);
		return vs_cdr_store__mysql(&mo); /* logs its cause */
	}
	s = vs_cdr_store__sqlite(c->sqlite_path, c->cdr_check_exists_callid);
	if (!s)
		vs_err("sqlite store %s: %s", c->sqlite_path, strerror(errno));
	return s;
}

static int open_stores(struct vs_pipeline *p, const struct vs_conf *c,
		       const struct vs_args *a, int role)
{
	struct vs_cdr_store *s;

	if (role == VS_ROLE_SENSOR_LOCAL) {
		/* -r: wait for the server's acknowledgements before exiting */
		s = vs_uplink__open(c, a->n_inputs ? 30000 : 2000);
		if (!s)
			return -errno;
		vs_pipeline__add_store(p, s);
	} else if (c->sqlite_path[0] || c->mysql.host[0] || c->mysql.socket[0]) {
		s = open_db(c);
		if (!s)
			return -errno;
		vs_pipeline__add_store(p, s);
	}
	if (a->cdr_json) {
		s = vs_cdr_store__json(a->cdr_json);
		if (!s) {
			vs_err("--cdr-json %s: %s", a->cdr_json, strerror(errno));
			return -errno;
		}
		vs_pipeline__add_store(p, s);
	}
	return 0;
}

/* Each open call may hold a pcap file: allow as many as the hard limit. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int run_offline(struct vs_pipeline *p, const struct vs_conf *c,
		       const struct vs_args *a)
{
	struct vs_pcap_file_stats fst = { 0 };
	struct timespec t0, t1;
	int err = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < a->n_inputs && !err; i++)
		err = vs_pcap_file__read(a->inputs[i], c->id_sensor,
					 vs_pipeline__frame, p, &fst);
	vs_pipeline__finish(p);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	vs_info("%llu frames, %llu calls, %llu CDRs in %.3f s",
		(unsigned long long)fst.frames,
		(unsigned long long)p->cst.calls_created,
		(unsigned long long)p->st.cdrs,
		(double)(t1.tv_sec - t0.tv_sec) +
			(double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return err;
}

/* Set by SIGINT/SIGTERM: the one thing a signal handler may touch. */
static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* SIGINT and SIGTERM end the run cleanly (detach, flush, drain). */
static void catch_stop(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Live calls end on the wall clock when the line goes quiet. */
static void live_idle(void *ctx, uint64_t now_us)
{
	vs_pipeline__idle(ctx, now_us);
}

static int run_live(struct vs_pipeline *p, const struct vs_conf *c,
		    const struct vs_args *a)
{
	/* Without savertp = yes nothing reads RTP past its header (RFC 4733
	 * events aside: VS_RTP_KEEP), so the kernel copies no more. */
	struct vs_live_opts lo = { .conf = c, .fn = vs_pipeline__frame,
				   .ctx = p, .idle = live_idle,
				   .ahead = vs_pipeline__ahead,
				   .rtp_head = c->savertp != VS_SAVERTP_YES,
				   .stop = &stop_flag };
	struct vs_live *l;
	int err;

	catch_stop();
	l = vs_live__open(&lo);
	if (!l)
		return -errno;
	vs_call_table__set_media_fn(p->calls, vs_live__media, l);
	err = vs_live__run(l);
	vs_pipeline__finish(p);
	vs_call_table__set_media_fn(p->calls, NULL, NULL);
	if (a->stats || a->verbose)
		vs_live__print_stats(l, stderr);
	vs_live__close(l);
	return err;
}

static int run_server(const struct vs_conf *c, int role)
{

	catch_stop();
	if (role == VS_ROLE_RELAY)
		return vs_relay__run(c, &stop_flag);
	return vs_server__run(c, &stop_flag);
}

/* Legacy mirror sender: capture (or -r) and send; no pipeline here. */
static int run_legacy_send(const struct vs_conf *c, const struct vs_args *a)
{

	catch_stop();
	return vs_lm_send__run(c, a->inputs, a->n_inputs, &stop_flag,
			       a->stats || a->verbose);
}

/* Legacy mirror receiver: the senders' frames feed the pipeline. */
static int run_legacy_recv(struct vs_pipeline *p, const struct vs_conf *c,
			   const struct vs_args *a)
{
	struct vs_lm_recv_opts o = { .conf = c, .fn = vs_pipeline__frame,
				     .idle = live_idle, .ctx = p,
				     .stop = &stop_flag,
				     .stats = a->stats || a->verbose };
	int err;

	catch_stop();
	err = vs_lm_recv__run(&o);
	vs_pipeline__finish(p);
	return err;
}

/* Packet mirroring: every frame goes to the server (role/mirror.h) and
 * through the track-only pipeline, which keeps the kernel's RTP flow table
 * on the calls' SDP endpoints; nothing is analysed or stored here. */
struct mirror_tap {
	struct vs_mirror *m;
	struct vs_pipeline *p;
};

static int mirror_frame(void *ctx, const struct vs_frame *f)
{
	struct mirror_tap *t = ctx;

	/* filter and interface_ip_filter run on the sensor: what the
	 * track-only pipeline refuses is not sent */
	vs_pipeline__frame(t->p, f);
	if (!t->p->frame_refused)
		vs_mirror__frame(t->m, f);
	return 0;
}

static void mirror_idle(void *ctx, uint64_t now_us)
{
	struct mirror_tap *t = ctx;

	vs_mirror__tick(t->m, now_us);
	vs_pipeline__idle(t->p, now_us);
}

static int run_mirror(struct vs_pipeline *p, const struct vs_conf *c,
		      const struct vs_args *a)
{
	/* -r: the file waits for room and the run for the acks; live: a
	 * full buffer drops, the exit waits 3 s */
	struct vs_mirror_opts mo = { .conf = c, .live = !a->n_inputs,
				     .drain_ms = a->n_inputs ? 30000 : 3000,
				     .wait_full_ms = a->n_inputs ? 30000 : 0 };
	struct mirror_tap t = { .p = p };
	struct vs_live_opts lo = { .conf = c, .fn = mirror_frame, .ctx = &t,
				   .idle = mirror_idle, .stop = &stop_flag };
	struct vs_pcap_file_stats fst = { 0 };
	struct vs_live *l = NULL;
	int err = 0;

	vs_pipeline__set_track_only(p);
	t.m = vs_mirror__open(&mo);
	if (!t.m)
		return -errno;
	for (int i = 0; i < a->n_inputs && !err; i++)
		err = vs_pcap_file__read(a->inputs[i], c->id_sensor,
					 mirror_frame, &t, &fst);
	if (!a->n_inputs) {
		catch_stop();
		l = vs_live__open(&lo);
		err = l ? 0 : -errno;
		if (l) {
			vs_call_table__set_media_fn(p->calls, vs_live__media, l);
			err = vs_live__run(l);
		}
	}
	vs_pipeline__finish(p);
	vs_mirror__finish(t.m);
	if (l) {
		vs_call_table__set_media_fn(p->calls, NULL, NULL);
		if (a->stats || a->verbose)
			vs_live__print_stats(l, stderr);
		vs_live__close(l);
	}
	if (a->stats || a->verbose)
		vs_mirror__print_stats(t.m, stderr);
	vs_mirror__close(t.m);
	return err;
}

int main(int argc, char **argv)
{
	struct vs_args a = { 0 };
	struct vs_pipeline p;
	struct vs_conf *c;
	int err, role;

	if (parse_args(argc, argv, &a))
		return 1;
	vs_log_set_level(a.verbose >= 2 ? VS_LOG_DEBUG : VS_LOG_INFO);
	c = malloc(sizeof(*c)); /* large (ip filter table): not on the stack */
	if (!c)
		return 2;
	err = load_conf(&a, c);
	if (!err && (a.status || a.fetch_pcap)) { /* a client, then done */
		err = a.status ? vs_ctl__status(c) :
				 vs_ctl__fetch_pcap(c, a.fetch_pcap, a.output);
		vs_conf__free(c);
		free(c);
		return err;
	}
	if (err || a.check_config) {
		if (!err)
			vs_conf__print(c, stdout);
		vs_conf__free(c);
		free(c);
		return err ? 1 : 0;
	}
	role = vs_role__select(c, a.n_inputs);
	if (role < 0 || role == VS_ROLE_SERVER || role == VS_ROLE_RELAY) {
		err = role < 0 ? role : run_server(c, role);
		vs_conf__free(c);
		free(c);
		return role < 0 ? 1 : err ? 2 : 0;
	}
	if (role != VS_ROLE_ALL_IN_ONE)
		vs_info("role: %s", vs_role__name(role));
	if (role == VS_ROLE_LEGACY_SENDER) {
		err = run_legacy_send(c, &a);
		vs_conf__free(c);
		free(c);
		return err ? 2 : 0;
	}
	raise_nofile();
	err = vs_pipeline__init(&p, c);
	if (!err && role != VS_ROLE_SENSOR_MIRROR)
		err = open_stores(&p, c, &a, role);
	if (!err)
		err = role == VS_ROLE_SENSOR_MIRROR ? run_mirror(&p, c, &a) :
		      role == VS_ROLE_LEGACY_RECEIVER ?
			      run_legacy_recv(&p, c, &a) :
		      a.n_inputs ? run_offline(&p, c, &a) :
				   run_live(&p, c, &a);
	if (a.stats || a.verbose)
		vs_pipeline__print_stats(&p, stderr);
	vs_pipeline__free(&p);
	vs_conf__free(c);
	free(c);
	return err ? 2 : 0;
}
