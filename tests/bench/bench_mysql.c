// SPDX-License-Identifier: GPL-2.0-or-later
/* CDR ingest rate into MariaDB through vs_cdr_store__mysql: for each batch
 * size (CDRs per flush, i.e. per transaction) insert distinct CDRs for a
 * few seconds and print CDRs/s, the CPU per CDR of the client and of the
 * server (mariadbd, all its threads, from /proc when VS_MYSQL_PIDFILE is
 * set) and the share of the time the caller waits for the commit (in the
 * insert that fills the batch, and flush). Started by
 * tests/bench/bench_mysql.sh, which runs a private server and sets the
 * VS_MYSQL_* variables. Usage: bench_mysql SECONDS [rtp] [dedup] BATCH...
 * where `rtp` (2 streams per CDR, rows of cdr_rtp) and `dedup`
 * (check_exists_callid) apply to the batch sizes after them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cdr/store_mysql.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* CPU seconds used so far by the server, 0 when unknown. */
static double server_cpu_s(void)
{
	const char *pf = getenv("VS_MYSQL_PIDFILE");
	unsigned long ut, st;
	char path[64], buf[1024], *p;
	FILE *f;
	int pid = 0;
	size_t n;

	f = pf ? fopen(pf, "r") : NULL;
	if (!f || fscanf(f, "%d", &pid) != 1)
		pid = 0;
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = pid ? fopen(path, "r") : NULL;
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* fields 14, 15 after "pid (comm) " */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A realistic CDR: every string and leg filled, as a finished call. */
static void fill(struct vs_cdr *c)
{
	memset(c, 0, sizeof(*c));
	c->id_sensor = 3;
	strcpy(c->caller, "+420601234567");
	strcpy(c->caller_domain, "pbx.example.com");
	strcpy(c->caller_name, "Alice Example");
	strcpy(c->called, "+420777654321");
	strcpy(c->called_domain, "carrier.example.net");
	vs_addr_parse(&c->sip_caller.addr, "192.0.2.10", 10);
	c->sip_caller.port = 5060;
	vs_addr_parse(&c->sip_called.addr, "198.51.100.20", 13);
	c->sip_called.port = 5060;
	c->calldate_us = 1700000000000000ull;
	c->callend_us = c->calldate_us + 93000000;
	c->connect_us = c->calldate_us + 4000000;
	c->progress_us = c->calldate_us + 1000000;
	c->first_rtp_us = c->calldate_us + 1100000;
	c->duration_s = 93;
	c->connect_duration_s = 89;
	c->last_sip_code = 200;
	strcpy(c->last_sip_text, "OK");
	c->whohanged = VS_HANGUP_CALLER;
	strcpy(c->caller_ua, "Yealink SIP-T46S 66.86.0.15");
	strcpy(c->called_ua, "Asterisk PBX 20.5.0");
	c->sip_messages = 7;
	strcpy(c->pcap_path, "2023-11-14/22/13/0123456789abcdef.pcap");
	for (int k = 0; k < 2; k++) {
		struct vs_cdr_leg *l = k ? &c->b : &c->a;

		l->present = 1;
		l->ssrc = 0x12345678u + (uint32_t)k;
		strcpy(l->codec, "PCMA");
		l->clock_rate = 8000;
		l->ptime_ms = 20;
		l->packets = 4450;
		l->lost = 3;
		l->loss_pct = 0.0674;
		l->jitter_mean_ms = 1.234;
		l->jitter_max_ms = 9.87;
		l->mos = 4.31;
		l->r_factor = 91.2;
		l->loss_burst[0] = 3;
		l->delay[0] = 4400;
	}
}

/* Inserts CDRs for `secs`, flushing every `batch`; prints the rate. */
static int run(const struct vs_mysql_opts *base, unsigned batch, double secs,
	       int rtp)
{
	struct vs_mysql_opts o = *base;
	struct vs_cdr_leg legs[2];
	struct vs_cdr_store *s;
	struct vs_cdr c;
	unsigned long n = 0;
	double t0, c0, s0, tf = 0, t1 = 0, t;
	int err = 0;

	o.batch_rows = batch;
	s = vs_cdr_store__mysql(&o);
	if (!s)
		return -errno;
	fill(&c);
	if (rtp) {
		legs[0] = c.a;
		legs[1] = c.b;
		c.streams = legs;
		c.n_streams = 2;
	}
	t0 = now_s();
	c0 = cpu_s();
	s0 = server_cpu_s();
	do {
		for (unsigned i = 0; i < batch && !err; i++, n++) {
			snprintf(c.call_id, sizeof(c.call_id),
				 "%08lx-%u-%d-%d@bench.example.com", n, batch,
				 o.check_exists_callid, rtp);
			if (i == batch - 1) /* the batch is sent from here */
				t1 = now_s();
			err = vs_cdr_store__insert(s, &c);
		}
		if (!err)
			err = vs_cdr_store__flush(s);
		tf += now_s() - t1;
		t = now_s() - t0;
	} while (!err && t < secs);
	c0 = cpu_s() - c0;
	s0 = server_cpu_s() - s0;
	vs_cdr_store__close(s);
	if (err)
		return err > 0 ? -EEXIST : err; /* 1: a Call-ID was there */
	printf("%-6u %-5s %-4s %10lu %8.2f %12.0f %10.2f %10.2f %8.0f\n",
	       batch, o.check_exists_callid ? "yes" : "no", rtp ? "2" : "0", n,
	       t, (double)n / t, c0 * 1e6 / (double)n, s0 * 1e6 / (double)n,
	       100 * tf / t);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct vs_mysql_opts o = { 0 };
	double secs;
	int i, err, rtp = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s SECONDS [rtp] [dedup] BATCH...\n",
			argv[0]);
		return 2;
	}
	secs = atof(argv[1]);
	o.socket = getenv("VS_MYSQL_SOCKET");
	o.db = getenv("VS_MYSQL_DB");
	o.user = getenv("VS_MYSQL_USER");
	o.password = getenv("VS_MYSQL_PASSWORD");
	if (!o.socket || !o.db) {
		fprintf(stderr, "VS_MYSQL_SOCKET and VS_MYSQL_DB must be set\n");
		return 2;
	}
	printf("%-6s %-5s %-4s %10s %8s %12s %10s %10s %8s\n", "batch", "dedup",
	       "rtp", "CDRs", "seconds", "CDRs/s", "client_us", "server_us",
	       "commit_%");
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "dedup")) {
			o.check_exists_callid = 1;
			continue;
		}
		if (!strcmp(argv[i], "rtp")) {
			rtp = 1;
			continue;
		}
		err = run(&o, (unsigned)atoi(argv[i]), secs, rtp);
		if (err) {
			fprintf(stderr, "batch %s: %s\n", argv[i], strerror(-err));
			return 1;
		}
	}
	return 0;
}
