// SPDX-License-Identifier: GPL-2.0-or-later
/* conf/: every syntax form, every key, every bad value's message, the
 * print -> load -> print round trip, and the interface_ip_filter check. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "core/log.h"

/* --- helpers: config files in /tmp and stderr captured to a file ------- */

static char conf_path[64];
static char err_path[64];
static int saved_stderr = -1;

static const char *write_conf(const char *text)
{
	int fd;

	strcpy(conf_path, "/tmp/vs_test_conf_XXXXXX");
	fd = mkstemp(conf_path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return conf_path;
}

static void capture_begin(void)
{
	int fd;

	strcpy(err_path, "/tmp/vs_test_err_XXXXXX");
	fd = mkstemp(err_path);
	cr_assert(fd >= 0);
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

/* Returns what was written to stderr since capture_begin (malloc'd). */
static char *capture_end(void)
{
	static char buf[65536];
	FILE *f;
	size_t n;

	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	f = fopen(err_path, "r");
	cr_assert(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(err_path);
	return buf;
}

struct loaded {
	struct vs_conf c;
	int rc;
	char err[8192];
};

/* Loads text over defaults; keeps return code and stderr. */
static struct loaded *load(const char *text)
{
	struct loaded *l = calloc(1, sizeof(*l));
	const char *path = write_conf(text);

	cr_assert(l);
	vs_conf__init(&l->c);
	capture_begin();
	l->rc = vs_conf__load(&l->c, path);
	snprintf(l->err, sizeof(l->err), "%s", capture_end());
	unlink(path);
	return l;
}

static void unload(struct loaded *l)
{
	vs_conf__free(&l->c);
	free(l);
}

static int nports(const struct vs_conf *c)
{
	int p, n = 0;

	for (p = 0; p < 65536; p++)
		n += vs_conf__is_sip_port(c, (uint16_t)p);
	return n;
}

/* Expects load(text) to fail with exactly one error line "PATH:line msg". */
static void expect_error(const char *text, const char *msg)
{
	struct loaded *l = load(text);
	char want[512];

	snprintf(want, sizeof(want), "voxsense: error: %s:%s\n", conf_path,
		 msg);
	cr_expect_eq(l->rc, -EINVAL, "rc %d for %s", l->rc, text);
	cr_expect_str_eq(l->err, want);
	unload(l);
}

static char *print_conf(const struct vs_conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert(f);
	vs_conf__print(c, f);
	fclose(f);
	return buf;
}

static struct vs_addr addr(const char *s)
{
	struct vs_addr a;

	cr_assert_eq(vs_addr_parse(&a, s, strlen(s)), 0, "%s", s);
	return a;
}

/* --- defaults and syntax ------------------------------------------------ */

Test(conf, defaults)
{
	struct vs_conf c;

	vs_conf__init(&c);
	cr_expect_eq(c.id_sensor, 0);
	cr_expect_eq(nports(&c), 1);
	cr_expect(vs_conf__is_sip_port(&c, 5060));
	cr_expect_str_eq(c.spooldir, "/var/spool/voxsense");
	cr_expect_str_eq(c.sqlite_path, "/var/spool/voxsense/voxsense.db");
	cr_expect_eq(c.savesip, 1);
	cr_expect_eq(c.savertp, VS_SAVERTP_YES);
	cr_expect_eq(c.cdr_check_exists_callid, 0);
	cr_expect_eq(c.rtptimeout_s, 300);
	cr_expect_eq(c.sipwithoutrtptimeout_s, 3600);
	cr_expect_eq(c.absolute_timeout_s, 14400);
	cr_expect_null(c.filter);
	cr_expect_eq(c.n_natalias, 0);
	cr_expect_eq(c.n_ipfilter, 0);
	cr_expect_str_eq(c.interface, "");
	vs_conf__free(&c);
}

Test(conf, print_defaults)
{
	struct vs_conf c;
	char *text;

	vs_conf__init(&c);
	text = print_conf(&c);
	cr_expect_str_eq(text,
			 "# voxsense effective configuration\n"
			 "[general]\n"
			 "id_sensor = 0\n"
			 "# interface = (not set)\n"
			 "capture_mode = copy\n"
			 "sipport = 5060\n"
			 "spooldir = /var/spool/voxsense\n"
			 "sqlite_path = /var/spool/voxsense/voxsense.db\n"
			 "savesip = yes\n"
			 "savertp = yes\n"
			 "cdr_check_exists_callid = no\n"
			 "rtptimeout = 300\n"
			 "sipwithoutrtptimeout = 3600\n"
			 "absolute_timeout = 14400\n"
			 "# filter = (none)\n"
			 "# mysqlhost = (not set: CDRs go to sqlite_path)\n");
	free(text);
	vs_conf__free(&c);
}

Test(conf, syntax_forms)
{
	struct loaded *l = load("# full comment\n"
				"; semicolon comment\n"
				"   # indented comment\n"
				"\t; indented semicolon\n"
				"\n"
				"   \t  \n"
				"id_sensor=7\n"
				"  rtptimeout   =   60  \n"
				"\tsipwithoutrtptimeout\t=\t61\t\n"
				"absolute_timeout = 62\r\n"
				"savesip = no # trailing comment\n"
				"interface = eth#0;1\n"
				"filter = udp and port 5060 #comment\n"
				"SAVERTP = Header\n"
				"spooldir = /data/spool# not a comment");
	cr_assert_eq(l->rc, 0, "%s", l->err);
	cr_expect_str_eq(l->err, "");
	cr_expect_eq(l->c.id_sensor, 7);
	cr_expect_eq(l->c.rtptimeout_s, 60);
	cr_expect_eq(l->c.sipwithoutrtptimeout_s, 61);
	cr_expect_eq(l->c.absolute_timeout_s, 62);
	cr_expect_eq(l->c.savesip, 0);
	cr_expect_str_eq(l->c.interface, "eth#0;1");
	cr_expect_str_eq(l->c.filter, "udp and port 5060");
	cr_expect_eq(l->c.savertp, VS_SAVERTP_HEADER);
	cr_expect_str_eq(l->c.spooldir, "/data/spool# not a comment");
	unload(l);
}

Test(conf, comment_right_after_equals_gives_empty_value)
{
	struct loaded *l = load("filter = udp\nfilter = # none\n");

	cr_assert_eq(l->rc, 0);
	cr_expect_null(l->c.filter);
	unload(l);
}

Test(conf, value_keeps_inner_equals)
{
	struct loaded *l = load("filter = ip[2]=1\n");

	cr_assert_eq(l->rc, 0);
	cr_expect_str_eq(l->c.filter, "ip[2]=1");
	unload(l);
}

Test(conf, general_section_and_other_sections)
{
	struct loaded *l = load("id_sensor = 1\n"
				"[general]\n"
				"rtptimeout = 10\n"
				"[other]\n"
				"rtptimeout = 20\n"
				"nonsense_key = 1\n"
				"[ General ] # back\n"
				"absolute_timeout = 30\n");
	char want[256];

	cr_assert_eq(l->rc, 0);
	cr_expect_eq(l->c.id_sensor, 1);
	cr_expect_eq(l->c.rtptimeout_s, 10);
	cr_expect_eq(l->c.absolute_timeout_s, 30);
	snprintf(want, sizeof(want),
		 "voxsense: warning: %s:4: section [other] ignored, with its "
		 "keys\n",
		 conf_path);
	cr_expect_str_eq(l->err, want);
	unload(l);
}

Test(conf, bad_section_line)
{
	expect_error("[general\n", "1: '[general': expected [general]");
}

Test(conf, line_without_equals)
{
	expect_error("id_sensor = 1\nsipport 5060\n",
		     "2: 'sipport 5060': expected key = value");
}

Test(conf, line_with_empty_key)
{
	expect_error("\n\n = 5\n", "3: '= 5': expected key = value");
}

Test(conf, nul_byte_in_line)
{
	struct vs_conf c;
	const char text[] = "id_sensor = 1\nrtptimeout = 3\0x\n";
	char want[256];
	char *err;
	int fd, rc;

	strcpy(conf_path, "/tmp/vs_test_conf_XXXXXX");
	fd = mkstemp(conf_path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	vs_conf__init(&c);
	capture_begin();
	rc = vs_conf__load(&c, conf_path);
	err = capture_end();
	snprintf(want, sizeof(want),
		 "voxsense: error: %s:2: NUL byte in line: expected text\n",
		 conf_path);
	cr_expect_eq(rc, -EINVAL);
	cr_expect_str_eq(err, want);
	unlink(conf_path);
	vs_conf__free(&c);
}

Test(conf, missing_file)
{
	struct vs_conf c;

	vs_conf__init(&c);
	cr_expect_eq(vs_conf__load(&c, "/nonexistent/voxsense.conf"), -ENOENT);
	vs_conf__free(&c);
}

Test(conf, unknown_key_warns_once)
{
	struct loaded *l = load("id_sensor = 2\nfoo_bar = 1\nid_sensor = 3\n");
	char want[256];

	cr_assert_eq(l->rc, 0);
	cr_expect_eq(l->c.id_sensor, 3);
	snprintf(want, sizeof(want),
		 "voxsense: warning: %s:2: unknown key 'foo_bar' ignored\n",
		 conf_path);
	cr_expect_str_eq(l->err, want);
	unload(l);
}

Test(conf, set_returns_1_for_unknown)
{
	struct vs_conf c;
	char *err;
	int rc;

	vs_conf__init(&c);
	capture_begin();
	rc = vs_conf__set(&c, "nope", "1", "x.conf:9");
	err = capture_end();
	cr_expect_eq(rc, 1);
	cr_expect_str_eq(err,
			 "voxsense: warning: x.conf:9: unknown key 'nope' "
			 "ignored\n");
	vs_conf__free(&c);
}

Test(conf, long_line)
{
	size_t n = 200000;
	char *text = malloc(n + 64);
	struct loaded *l;

	cr_assert(text);
	/* a valid filter (libpcap compiles it) with a very long middle */
	strcpy(text, "filter = udp");
	memset(text + 12, ' ', n);
	strcpy(text + 12 + n, "and port 5060\nid_sensor = 5\n");
	l = load(text);
	cr_assert_eq(l->rc, 0);
	cr_expect_eq(strlen(l->c.filter), n + 16);
	cr_expect_eq(l->c.id_sensor, 5);
	unload(l);
	free(text);
}

Test(conf, error_stops_at_first_bad_line)
{
	struct loaded *l = load("rtptimeout = x\nrtptimeout = y\n");
	char want[256];

	snprintf(want, sizeof(want),
		 "voxsense: error: %s:1: rtptimeout = x: expected a number of "
		 "seconds (1-4294967295)\n",
		 conf_path);
	cr_expect_eq(l->rc, -EINVAL);
	cr_expect_str_eq(l->err, want);
	unload(l);
}

Test(conf, filter_that_does_not_compile)
{
	struct loaded *l = load("sipport = 5060\nfilter = udp and and\n");
	char want[256];

	snprintf(want, sizeof(want),
		 "voxsense: error: %s:2: filter = udp and and: expected a "
		 "tcpdump filter expression libpcap compiles (pcap-filter(7))\n",
		 conf_path);
	cr_expect_eq(l->rc, -EINVAL);
	cr_expect_str_eq(l->err, want);
	cr_expect_null(l->c.filter);
	unload(l);
}

/* --- keys --------------------------------------------------------------- */

Test(conf, id_sensor)
{
	struct loaded *l = load("id_sensor = 65535\n");

	cr_assert_eq(l->rc, 0);
	cr_expect_eq(l->c.id_sensor, 65535);
	unload(l);
	l = load("id_sensor = 0\n");
	cr_expect_eq(l->c.id_sensor, 0);
	unload(l);
}

Test(conf, sipport_replaces_default_then_accumulates)
{
	struct loaded *l = load("sipport = 5061\nsipport = 5062\n");

	cr_assert_eq(l->rc, 0);
	cr_expect_eq(nports(&l->c), 2);
	cr_expect_not(vs_conf__is_sip_port(&l->c, 5060));
	cr_expect(vs_conf__is_sip_port(&l->c, 5061));
	cr_expect(vs_conf__is_sip_port(&l->c, 5062));
	unload(l);
}

Test(conf, sipport_ranges_and_lists)
{
	struct loaded *l = load("sipport = 1-60023,60025-65535\n");

	cr_assert_eq(l->rc, 0);
	cr_expect_eq(nports(&l->c), 65534);
	cr_expect_not(vs_conf__is_sip_port(&l->c, 0));
	cr_expect(vs_conf__is_sip_port(&l->c, 1));
	cr_expect(vs_conf__is_sip_port(&l->c, 60023));
	cr_expect_not(vs_conf__is_sip_port(&l->c, 60024));
	cr_expect(vs_conf__is_sip_port(&l->c, 65535));
	unload(l);

	l = load("sipport = 5060, 5070 - 5072 ,8080\nsipport=9000\n");
	cr_assert_eq(l->rc, 0);
	cr_expect_eq(nports(&l->c), 6);
	cr_expect(vs_conf__is_sip_port(&l->c, 5060));
	cr_expect(vs_conf__is_sip_port(&l->c, 5071));
	cr_expect(vs_conf__is_sip_port(&l->c, 8080));
	cr_expect(vs_conf__is_sip_port(&l->c, 9000));
	unload(l);
}

Test(conf, sipport_bad_values)
{
	const char *bad[] = { "5060-abc", "0", "65536", "", "5060,", ",5060",
			      "10-5", "-5", "5-", "1-2-3", "+5", "5 6",
			      "99999999999999999999" };
	size_t i;
	char text[128], msg[256];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "sipport = %s\n", bad[i]);
		snprintf(msg, sizeof(msg),
			 "1: sipport = %s: expected a port or range "
			 "(1-65535), or a comma list of them",
			 bad[i]);
		expect_error(text, msg);
	}
}

Test(conf, bad_sipport_changes_nothing)
{
	struct loaded *l = load("sipport = 5070,abc\n");

	cr_expect_eq(l->rc, -EINVAL);
	cr_expect_eq(nports(&l->c), 1);
	cr_expect(vs_conf__is_sip_port(&l->c, 5060));
	unload(l);
}

Test(conf, spooldir_and_sqlite_path_default)
{
	struct loaded *l = load("spooldir = /srv/spool/\n");

	cr_assert_eq(l->rc, 0);
	cr_expect_str_eq(l->c.spooldir, "/srv/spool/");
	cr_expect_str_eq(l->c.sqlite_path, "/srv/spool/voxsense.db");
	unload(l);

	l = load("sqlite_path = /db/cdr.db\nspooldir = /srv/spool\n");
	cr_assert_eq(l->rc, 0);
	cr_expect_str_eq(l->c.spooldir, "/srv/spool");
	cr_expect_str_eq(l->c.sqlite_path, "/db/cdr.db");
	unload(l);

	l = load("spooldir = /a\nspooldir = /b\n");
	cr_expect_str_eq(l->c.sqlite_path, "/b/voxsense.db");
	unload(l);
}

Test(conf, booleans)
{
	const char *yes[] = { "yes", "YES", "1", "true", "True", "on", "ON" };
	const char *no[] = { "no", "No", "0", "false", "FALSE", "off", "Off" };
	char text[128];
	size_t i;
	struct loaded *l;

	for (i = 0; i < 7; i++) {
		snprintf(text, sizeof(text),
			 "savesip = %s\ncdr_check_exists_callid = %s\n",
			 no[i], yes[i]);
		l = load(text);
		cr_assert_eq(l->rc, 0, "%s", text);
		cr_expect_eq(l->c.savesip, 0, "%s", no[i]);
		cr_expect_eq(l->c.cdr_check_exists_callid, 1, "%s", yes[i]);
		unload(l);
	}
}

Test(conf, savertp)
{
	struct loaded *l = load("savertp = no\n");

	cr_expect_eq(l->c.savertp, VS_SAVERTP_NO);
	unload(l);
	l = load("savertp = header\n");
	cr_expect_eq(l->c.savertp, VS_SAVERTP_HEADER);
	unload(l);
	l = load("savertp = header\nsavertp = yes\n");
	cr_expect_eq(l->c.savertp, VS_SAVERTP_YES);
	unload(l);
}

Test(conf, timeouts)
{
	struct loaded *l = load("rtptimeout = 4294967295\n"
				"sipwithoutrtptimeout = 1\n"
				"absolute_timeout = 7200\n");

	cr_assert_eq(l->rc, 0);
	cr_expect_eq(l->c.rtptimeout_s, 4294967295u);
	cr_expect_eq(l->c.sipwithoutrtptimeout_s, 1);
	cr_expect_eq(l->c.absolute_timeout_s, 7200);
	unload(l);
}

Test(conf, filter_and_interface)
{
	struct loaded *l = load("filter = udp or (vlan and udp)\n"
				"filter = not net 10.0.0.0/8\n"
				"interface = eth0,eth1\n");

	cr_assert_eq(l->rc, 0);
	cr_expect_str_eq(l->c.filter, "not net 10.0.0.0/8");
	cr_expect_str_eq(l->c.interface, "eth0,eth1");
	unload(l);
}

Test(conf, capture_mode)
{
	struct loaded *l = load("capture_mode = AFXDP\n");
	struct vs_conf c;

	vs_conf__init(&c);
	cr_expect_eq(c.capture_mode, VS_CAPTURE_COPY);
	vs_conf__free(&c);
	cr_assert_eq(l->rc, 0, "%s", l->err);
	cr_expect_str_eq(l->err, "");
	cr_expect_eq(l->c.capture_mode, VS_CAPTURE_AFXDP);
	unload(l);
	l = load("capture_mode = afxdp\ncapture_mode = pcap\n");
	cr_assert_eq(l->rc, 0, "%s", l->err);
	cr_expect_eq(l->c.capture_mode, VS_CAPTURE_PCAP);
	unload(l);
	expect_error("capture_mode = xdp\n",
		     "1: capture_mode = xdp: expected copy, afxdp or pcap");
}

Test(conf, natalias)
{
	struct loaded *l = load("natalias = 1.1.1.1 10.0.0.3\n"
				"natalias = 1.1.1.2\t10.0.0.4, 1.1.1.3 10.0.0.5\n"
				"natalias = 2001:db8::1 fd00::1\n");
	struct vs_addr a;

	cr_assert_eq(l->rc, 0, "%s", l->err);
	cr_assert_eq(l->c.n_natalias, 4);
	/* First address: the one written in SDP; second: on the wire. */
	a = addr("1.1.1.1");
	cr_expect(vs_addr_eq(&l->c.natalias[0].from, &a));
	a = addr("10.0.0.3");
	cr_expect(vs_addr_eq(&l->c.natalias[0].to, &a));
	a = addr("10.0.0.5");
	cr_expect(vs_addr_eq(&l->c.natalias[2].to, &a));
	a = addr("fd00::1");
	cr_expect(vs_addr_eq(&l->c.natalias[3].to, &a));
	unload(l);
}

Test(conf, natalias_limit)
{
	char *text = malloc(64 * 40 + 64);
	size_t n = 0;
	int i;
	struct loaded *l;

	cr_assert(text);
	for (i = 0; i < 64; i++)
		n += (size_t)sprintf(text + n, "natalias = 1.1.1.%d 10.0.0.%d\n",
				     i, i);
	l = load(text);
	cr_expect_eq(l->rc, 0);
	cr_expect_eq(l->c.n_natalias, 64);
	unload(l);
	strcpy(text + n, "natalias = 9.9.9.9 10.9.9.9\n");
	expect_error(text, "65: natalias = 9.9.9.9 10.9.9.9: expected two "
			   "addresses of one family, 'SDP-ADDRESS "
			   "PACKET-ADDRESS', at most 64 in all");
	free(text);
}

Test(conf, interface_ip_filter)
{
	struct loaded *l = load("interface_ip_filter = 192.168.1.77/24\n"
				"interface_ip_filter = 10.0.0.0/8, 2001:db8::1/32\n"
				"interface_ip_filter = 172.16.5.4\n"
				"interface_ip_filter = 10.1.2.3/8\n");
	struct vs_addr a;

	cr_assert_eq(l->rc, 0, "%s", l->err);
	cr_assert_eq(l->c.n_ipfilter, 4); /* 10/8 given twice: kept once */
	a = addr("192.168.1.0");
	cr_expect(vs_addr_eq(&l->c.ipfilter[0].addr, &a));
	cr_expect_eq(l->c.ipfilter[0].prefix, 120);
	cr_expect_eq(l->c.ipfilter[1].prefix, 104);
	a = addr("2001:db8::");
	cr_expect(vs_addr_eq(&l->c.ipfilter[2].addr, &a));
	cr_expect_eq(l->c.ipfilter[2].prefix, 32);
	cr_expect_eq(l->c.ipfilter[3].prefix, 128);
	unload(l);
}

Test(conf, interface_ip_filter_limit)
{
	size_t cap = 1025 * 48, n = 0;
	char *text = malloc(cap);
	struct loaded *l;
	int i;

	cr_assert(text);
	for (i = 0; i < 1024; i++)
		n += (size_t)sprintf(text + n, "interface_ip_filter = 10.%d.%d.0/24\n",
				     i / 256, i % 256);
	l = load(text);
	cr_expect_eq(l->rc, 0);
	cr_expect_eq(l->c.n_ipfilter, 1024);
	unload(l);
	strcpy(text + n, "interface_ip_filter = 11.0.0.0/8\n");
	expect_error(text, "1025: interface_ip_filter = 11.0.0.0/8: expected "
			   "IPv4/IPv6 addresses or networks (a.b.c.d/len), "
			   "at most 1024");
	free(text);
}

Test(conf, ip_allowed)
{
	struct loaded *l = load("interface_ip_filter = 10.16.0.0/12, "
				"2001:db8:8000::/33\n");
	struct vs_addr in1 = addr("10.31.255.255"), out1 = addr("10.32.0.0"),
		       in6 = addr("2001:db8:ffff::1"),
		       out6 = addr("2001:db8:7fff::1");

	cr_assert_eq(l->rc, 0);
	cr_expect(vs_conf__ip_allowed(&l->c, &in1, NULL));
	cr_expect(vs_conf__ip_allowed(&l->c, &out1, &in1));
	cr_expect_not(vs_conf__ip_allowed(&l->c, &out1, &out6));
	cr_expect(vs_conf__ip_allowed(&l->c, &in6, &out1));
	cr_expect_not(vs_conf__ip_allowed(&l->c, NULL, &out6));
	unload(l);

	l = load("");
	cr_expect(vs_conf__ip_allowed(&l->c, &out1, &out6));
	unload(l);
	l = load("interface_ip_filter = 0.0.0.0/0\n");
	cr_expect(vs_conf__ip_allowed(&l->c, &out1, NULL));
	cr_expect_not(vs_conf__ip_allowed(&l->c, &out6, NULL));
	unload(l);
}

Test(conf, bad_values_messages)
{
	static const struct {
		const char *line, *msg;
	} cases[] = {
		{ "id_sensor = 65536", "id_sensor = 65536: expected a number 0-65535 (0 = not set)" },
		{ "id_sensor = -1", "id_sensor = -1: expected a number 0-65535 (0 = not set)" },
		{ "spooldir =", "spooldir = : expected a directory path (1-4000 bytes)" },
		{ "sqlite_path =", "sqlite_path = : expected a file path (1-4095 bytes)" },
		{ "savesip = maybe", "savesip = maybe: expected yes or no" },
		{ "savertp = headers", "savertp = headers: expected yes, no or header" },
		{ "cdr_check_exists_callid = y", "cdr_check_exists_callid = y: expected yes or no" },
		{ "rtptimeout = 0", "rtptimeout = 0: expected a number of seconds (1-4294967295)" },
		{ "sipwithoutrtptimeout = 4294967296", "sipwithoutrtptimeout = 4294967296: expected a number of seconds (1-4294967295)" },
		{ "absolute_timeout = 1h", "absolute_timeout = 1h: expected a number of seconds (1-4294967295)" },
		{ "natalias = 1.1.1.1", "natalias = 1.1.1.1: expected two addresses of one family, 'SDP-ADDRESS PACKET-ADDRESS', at most 64 in all" },
		{ "natalias = 1.1.1.1 ::1", "natalias = 1.1.1.1 ::1: expected two addresses of one family, 'SDP-ADDRESS PACKET-ADDRESS', at most 64 in all" },
		{ "natalias = 1.1.1.1 2.2.2.2 3.3.3.3", "natalias = 1.1.1.1 2.2.2.2 3.3.3.3: expected two addresses of one family, 'SDP-ADDRESS PACKET-ADDRESS', at most 64 in all" },
		{ "interface_ip_filter = 10.0.0.0/33", "interface_ip_filter = 10.0.0.0/33: expected IPv4/IPv6 addresses or networks (a.b.c.d/len), at most 1024" },
		{ "interface_ip_filter = 2001:db8::/129", "interface_ip_filter = 2001:db8::/129: expected IPv4/IPv6 addresses or networks (a.b.c.d/len), at most 1024" },
		{ "interface_ip_filter = 10.0.0.256", "interface_ip_filter = 10.0.0.256: expected IPv4/IPv6 addresses or networks (a.b.c.d/len), at most 1024" },
		{ "interface_ip_filter = 10.0.0.0/", "interface_ip_filter = 10.0.0.0/: expected IPv4/IPv6 addresses or networks (a.b.c.d/len), at most 1024" },
		{ "interface_ip_filter = 10.0.0.0/8,,", "interface_ip_filter = 10.0.0.0/8,,: expected IPv4/IPv6 addresses or networks (a.b.c.d/len), at most 1024" },
	};
	char text[512], msg[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "# comment\n%s\n", cases[i].line);
		snprintf(msg, sizeof(msg), "2: %s", cases[i].msg);
		expect_error(text, msg);
	}
}

Test(conf, interface_too_long)
{
	char text[400], msg[512], name[300];

	memset(name, 'e', 256);
	name[256] = '\0';
	snprintf(text, sizeof(text), "interface = %s\n", name);
	snprintf(msg, sizeof(msg),
		 "1: interface = %s: expected an interface name or list (at "
		 "most 255 bytes)",
		 name);
	expect_error(text, msg);
}

Test(conf, later_keys_accepted_and_printed)
{
	struct loaded *l = load("managerip = 0.0.0.0\n"
				"managerport = 5029\n"
				"ManagerIP = 10.0.0.1\n"
				"mysqltable = cdr\n");
	char want[1024];
	char *text;

	cr_assert_eq(l->rc, 0);
	snprintf(want, sizeof(want),
		 "voxsense: info: %s:1: key 'managerip' accepted, not used "
		 "yet\n"
		 "voxsense: info: %s:2: key 'managerport' accepted, not "
		 "used yet\n"
		 "voxsense: info: %s:4: key 'mysqltable' accepted, not used "
		 "yet\n",
		 conf_path, conf_path, conf_path);
	cr_expect_str_eq(l->err, want);
	text = print_conf(&l->c);
	cr_expect(strstr(text, "\nmysqltable = cdr # not used yet\n"
			       "managerip = 10.0.0.1 # not used yet\n"
			       "managerport = 5029 # not used yet\n"));
	free(text);
	unload(l);
}

Test(conf, mysql_keys_and_password_never_printed)
{
	struct loaded *l = load("mysqlsocket = /run/mysqld/mysqld.sock\n"
				"mysqlpassword = s3cret\nmysqlport = 0\n");
	char *text;

	cr_expect_eq(l->rc, -EINVAL, "port 0 refused");
	unload(l);
	l = load("mysqlsocket = /run/mysqld/mysqld.sock\n"
		 "mysqlpassword = s3cret\n");
	cr_assert_eq(l->rc, 0, "%s", l->err);
	cr_expect_str_eq(l->c.mysql.password, "s3cret");
	cr_expect_str_eq(l->c.mysql.db, "voipmonitor");
	cr_expect_str_eq(l->c.mysql.user, "root");
	text = print_conf(&l->c);
	cr_expect_null(strstr(text, "s3cret"));
	cr_expect(strstr(text, "mysqlsocket = /run/mysqld/mysqld.sock\n"
			       "mysqldb = voipmonitor\nmysqlusername = root\n"
			       "# mysqlpassword = (set, not shown)\n"));
	free(text);
	unload(l);
}

Test(conf, mysql_writers)
{
	struct loaded *l = load("mysqlstore_max_threads_cdr = 0\n");
	char *text;

	cr_expect_eq(l->rc, -EINVAL, "0 writers refused");
	cr_expect(strstr(l->err, "mysqlstore_max_threads_cdr"), "%s", l->err);
	unload(l);
	l = load("mysqlstore_max_threads_cdr = 17\n");
	cr_expect_eq(l->rc, -EINVAL, "17 writers refused");
	unload(l);
	l = load("mysqlsocket = /run/mysqld/mysqld.sock\n"
		 "mysqlstore_max_threads_cdr = 4\n");
	cr_assert_eq(l->rc, 0, "%s", l->err);
	cr_expect_eq(l->c.mysql.writers, 4);
	text = print_conf(&l->c);
	cr_expect(strstr(text, "mysqlstore_max_threads_cdr = 4\n"), "%s", text);
	free(text);
	unload(l);
}

/* --- print round trip --------------------------------------------------- */

Test(conf, print_load_print_identical)
{
	struct loaded *l = load("id_sensor = 12\n"
				"interface = eth1\n"
				"capture_mode = pcap\n"
				"sipport = 5060,5070-5080\nsipport = 65535, 1\n"
				"spooldir = /srv/vs\n"
				"savesip = off\nsavertp = header\n"
				"cdr_check_exists_callid = on\n"
				"rtptimeout = 30\nsipwithoutrtptimeout = 40\n"
				"absolute_timeout = 50\n"
				"filter = udp and not port 22\n"
				"natalias = 1.1.1.1 10.0.0.3\n"
				"natalias = 2001:db8::1 fd00::1\n"
				"interface_ip_filter = 10.1.2.3/20, ::/0\n"
				"interface_ip_filter = 192.168.0.1\n"
				"interface_ip_filter = 2001:db8::5\n"
				"mysqlhost = db.example\nmysqlport = 3307\n"
				"mysqldb = cdrs\nmysqluser = vs\n"
				"packetbuffer_sender = no\n");
	struct loaded *again;
	char *first, *second;

	cr_assert_eq(l->rc, 0, "%s", l->err);
	first = print_conf(&l->c);
	cr_expect_str_eq(first,
			 "# voxsense effective configuration\n"
			 "[general]\n"
			 "id_sensor = 12\n"
			 "interface = eth1\n"
			 "capture_mode = pcap\n"
			 "sipport = 1,5060,5070-5080,65535\n"
			 "spooldir = /srv/vs\n"
			 "sqlite_path = /srv/vs/voxsense.db\n"
			 "savesip = no\n"
			 "savertp = header\n"
			 "cdr_check_exists_callid = yes\n"
			 "rtptimeout = 30\n"
			 "sipwithoutrtptimeout = 40\n"
			 "absolute_timeout = 50\n"
			 "filter = udp and not port 22\n"
			 "natalias = 1.1.1.1 10.0.0.3\n"
			 "natalias = 2001:db8::1 fd00::1\n"
			 "interface_ip_filter = 10.1.0.0/20\n"
			 "interface_ip_filter = ::/0\n"
			 "interface_ip_filter = 192.168.0.1\n"
			 "interface_ip_filter = 2001:db8::5\n"
			 "mysqlhost = db.example\n"
			 "mysqlport = 3307\n"
			 "mysqldb = cdrs\n"
			 "mysqlusername = vs\n"
			 "server_bind_port = 60024\n"
			 "server_destination_port = 60024\n"
			 "packetbuffer_sender = no\n"
			 "server_type_compress = zstd\n"
			 "client_server_connect_maximum_time_diff_s = 2\n"
			 "cdr_spool_maxsize = 1024\n");
	again = load(first);
	cr_assert_eq(again->rc, 0, "%s", again->err);
	second = print_conf(&again->c);
	cr_expect_str_eq(second, first);
	free(first);
	free(second);
	unload(again);
	unload(l);
}

/* --- channel keys ------------------------------------------------------- */

Test(conf, chan_defaults)
{
	struct vs_conf c;

	vs_conf__init(&c);
	cr_expect_eq(c.chan.bind_port, 60024);
	cr_expect_eq(c.chan.dest_port, 60024);
	cr_expect_eq(c.chan.compress, 1);
	cr_expect_eq(c.chan.max_time_diff_s, 2);
	cr_expect_eq(c.chan.n_dest, 0);
	cr_expect_eq(c.chan.packetbuffer_sender, 0);
	cr_expect_str_eq(c.chan.bind, "");
	cr_expect_eq(c.chan.given, 0);
	vs_conf__free(&c);
}

Test(conf, chan_keys_parsed_printed_password_hidden)
{
	struct loaded *l = load("server_destination = 10.0.0.1, srv.example:6000,"
				" [2001:db8::1]:7000, 2001:db8::2\n"
				"server_destination_port = 60025\n"
				"server_password = Top$ecret\n"
				"packetbuffer_sender = no\n"
				"manager_ip = 10.0.0.9\n"
				"server_type_compress = LZO\n"
				"client_server_connect_maximum_time_diff_s = 5\n"
				"server_tls_fingerprint = ab:CD" "00000000000000000000"
				"0000000000000000000000000000000000000000\n"
				"server_tls_ca = /etc/ca.pem\n");
	char *text;

	cr_assert_eq(l->rc, 0, "%s", l->err);
	cr_expect_eq(l->c.chan.n_dest, 4);
	cr_expect_str_eq(l->c.chan.dest[0], "10.0.0.1");
	cr_expect_str_eq(l->c.chan.dest[1], "srv.example:6000");
	cr_expect_str_eq(l->c.chan.dest[2], "[2001:db8::1]:7000");
	cr_expect_str_eq(l->c.chan.dest[3], "2001:db8::2");
	cr_expect_eq(l->c.chan.dest_port, 60025);
	cr_expect_str_eq(l->c.chan.password, "Top$ecret");
	cr_expect_str_eq(l->c.chan.manager_ip, "10.0.0.9");
	cr_expect_eq(l->c.chan.compress, 3);
	cr_expect_eq(l->c.chan.max_time_diff_s, 5);
	text = print_conf(&l->c);
	cr_expect_null(strstr(text, "Top$ecret"));
	cr_expect(strstr(text, "server_bind_port = 60024\n"
			       "server_destination = 10.0.0.1,srv.example:6000,"
			       "[2001:db8::1]:7000,2001:db8::2\n"
			       "server_destination_port = 60025\n"
			       "# server_password = (set, not shown)\n"
			       "packetbuffer_sender = no\n"
			       "manager_ip = 10.0.0.9\n"
			       "server_type_compress = lzo\n"
			       "client_server_connect_maximum_time_diff_s = 5\n"
			       "server_tls_ca = /etc/ca.pem\n"
			       "server_tls_fingerprint = ab:CD"), "%s", text);
	free(text);
	unload(l);
}

Test(conf, chan_server_keys_and_zlib_alias)
{
	struct loaded *l = load("server_bind = 0.0.0.0\nserver_bind_port = 6000\n"
				"server_type_compress = zlib\n"
				"packetbuffer_sender = yes\n");

	cr_assert_eq(l->rc, 0, "%s", l->err);
	cr_expect_str_eq(l->c.chan.bind, "0.0.0.0");
	cr_expect_eq(l->c.chan.bind_port, 6000);
	cr_expect_eq(l->c.chan.compress, 2);
	cr_expect_eq(l->c.chan.packetbuffer_sender, 1);
	cr_expect_str_eq(l->err, "", "no 'not used yet' line");
	unload(l);
}

Test(conf, chan_bad_values)
{
	static const struct {
		const char *line, *msg;
	} t[] = {
		{ "server_bind_port = 0", "server_bind_port = 0: expected a TCP port (1-65535)" },
		{ "server_destination_port = 70000", "server_destination_port = 70000: expected a TCP port (1-65535)" },
		{ "server_type_compress = lz4", "server_type_compress = lz4: expected zstd, gzip, lzo or none" },
		{ "packetbuffer_sender = maybe", "packetbuffer_sender = maybe: expected yes or no" },
		{ "client_server_connect_maximum_time_diff_s = 0", "client_server_connect_maximum_time_diff_s = 0: expected a number of seconds (1-86400)" },
		{ "server_destination = a,,b", "server_destination = a,,b: expected a comma list of at most 8 servers: host, host:port or [ipv6]:port (empty: not a sensor)" },
		{ "server_destination = h:0", "server_destination = h:0: expected a comma list of at most 8 servers: host, host:port or [ipv6]:port (empty: not a sensor)" },
		{ "server_destination = [::1]x", "server_destination = [::1]x: expected a comma list of at most 8 servers: host, host:port or [ipv6]:port (empty: not a sensor)" },
		{ "server_destination = a,b,c,d,e,f,g,h,i", "server_destination = a,b,c,d,e,f,g,h,i: expected a comma list of at most 8 servers: host, host:port or [ipv6]:port (empty: not a sensor)" },
		{ "server_bind = eth0", "server_bind = eth0: expected an IPv4 or IPv6 address to listen on (empty: not a server)" },
		{ "manager_ip = 10.0.0.300", "manager_ip = 10.0.0.300: expected an IPv4 or IPv6 address (empty: any)" },
		{ "server_tls_fingerprint = abcd", "server_tls_fingerprint = abcd: expected a SHA-256 fingerprint: 64 hex digits, colons allowed" },
	};
	char text[512], msg[512];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(text, sizeof(text), "%s\n", t[i].line);
		snprintf(msg, sizeof(msg), "1: %s", t[i].msg);
		expect_error(text, msg);
	}
}

Test(conf, chan_destination_replaced_by_later_line)
{
	struct loaded *l = load("server_destination = a,b\n"
				"server_destination = c\n");

	cr_assert_eq(l->rc, 0, "%s", l->err);
	cr_expect_eq(l->c.chan.n_dest, 1);
	cr_expect_str_eq(l->c.chan.dest[0], "c");
	unload(l);
}

Test(conf, pb_and_capture_keys_parsed_printed_reloaded)
{
	struct loaded *l = load("packetbuffer_total_maxheap = 64\n"
				"packetbuffer_file_totalmaxsize = 2000\n"
				"packetbuffer_file_path = /srv/pb\n"
				"receive_packetbuffer_maximum_time_diff_s = 5\n"
				"mirror_bind_port = 5030\nmirror_bind_dlt = 113\n"
				"mirror_bind_sensor_id_by_sender = yes\n"
				"mirror_destination_ip = 192.168.0.1\n"
				"mirror_destination_port = 5030\n"
				"snaplen = 1500\nringbuffer = 16\npromisc = no\n"
				"status_interval = 10\ntc_egress = CLSACT\n"
				"cdr_spool_maxsize = 10\n");
	struct loaded *again;
	char *first, *second;

	cr_assert_eq(l->rc, 0, "%s", l->err);
	cr_expect_str_eq(l->err, "", "no 'not used yet' line");
	cr_expect_eq(l->c.pb.maxheap_mb, 64);
	cr_expect_eq(l->c.pb.file_maxsize_mb, 2000);
	cr_expect_str_eq(l->c.pb.file_path, "/srv/pb");
	cr_expect_eq(l->c.pb.recv_max_diff_s, 5);
	cr_expect_eq(l->c.pb.mirror_bind_port, 5030);
	cr_expect_eq(l->c.pb.mirror_bind_dlt, 113);
	cr_expect_eq(l->c.pb.mirror_id_by_sender, 1);
	cr_expect_str_eq(l->c.pb.mirror_dest_ip, "192.168.0.1");
	cr_expect_eq(l->c.cap.snaplen, 1500);
	cr_expect_eq(l->c.cap.ringbuffer_mb, 16);
	cr_expect_eq(l->c.cap.promisc, 0);
	cr_expect_eq(l->c.cap.status_s, 10);
	cr_expect_eq(l->c.cap.tc_egress, VS_TC_CLSACT);
	cr_expect_eq(l->c.chan.cdr_spool_mb, 10);
	first = print_conf(&l->c);
	again = load(first);
	cr_assert_eq(again->rc, 0, "%s", again->err);
	second = print_conf(&again->c);
	cr_expect_str_eq(second, first);
	free(first);
	free(second);
	unload(again);
	unload(l);
}

Test(conf, pb_and_capture_bad_values)
{
	static const struct {
		const char *line, *msg;
	} t[] = {
		{ "packetbuffer_total_maxheap = 0", "packetbuffer_total_maxheap = 0: expected megabytes of memory buffer (1-1048576)" },
		{ "receive_packetbuffer_maximum_time_diff_s = x", "receive_packetbuffer_maximum_time_diff_s = x: expected a number of seconds (1-86400)" },
		{ "mirror_destination_ip = pbx", "mirror_destination_ip = pbx: expected an IPv4 or IPv6 address" },
		{ "mirror_bind_port = 0", "mirror_bind_port = 0: expected a TCP port (1-65535)" },
		{ "snaplen = 10", "snaplen = 10: expected bytes captured per frame (64-4095)" },
		{ "ringbuffer = 0", "ringbuffer = 0: expected megabytes per capture ring (1-1024)" },
		{ "promisc = sometimes", "promisc = sometimes: expected yes or no" },
		{ "status_interval = 1m", "status_interval = 1m: expected seconds between status lines (0-86400, 0 = none)" },
		{ "tc_egress = qdisc", "tc_egress = qdisc: expected auto, tcx or clsact" },
		{ "cdr_spool_maxsize = 0", "cdr_spool_maxsize = 0: expected megabytes of unacknowledged CDRs kept on disk (1-1048576)" },
	};
	char text[512], msg[512];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(text, sizeof(text), "%s\n", t[i].line);
		snprintf(msg, sizeof(msg), "1: %s", t[i].msg);
		expect_error(text, msg);
	}
}
