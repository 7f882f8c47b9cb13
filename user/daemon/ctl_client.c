// SPDX-License-Identifier: GPL-2.0-or-later
/* daemon/ctl_client: the command-line side of the server's control socket
 * (ctl_client.h; protocol in role/server_ctl.c and docs/distributed.md). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/ctl_client.h"

#define CTL_WAIT_S 40 /* the server gives up on a silent sensor at 30 s */

/* A stream connected to the server's control socket with the command
 * sent, or NULL (the reason printed). */
static FILE *ctl_open(const struct vs_conf *c, const char *cmd)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = CTL_WAIT_S};
	size_t n = strlen(cmd);
	FILE *f;
	int fd;

	if (!c->chan.bind[0]) {
		fprintf(stderr,
			"voxsense: this configuration has no "
			"server_bind: --status and --fetch-pcap talk to a "
			"central server (give its configuration with -c)\n");
		return NULL;
	}
	if ((size_t)snprintf(a.sun_path, sizeof(a.sun_path), "%s/voxsense.sock",
			     c->spooldir) >= sizeof(a.sun_path)) {
		fprintf(stderr,
			"voxsense: spooldir %s is too long for the "
			"control socket path\n",
			c->spooldir);
		return NULL;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int e = errno;

		fprintf(stderr,
			"voxsense: cannot reach the central server at "
			"%s: %s%s\n",
			a.sun_path, strerror(e),
			e == EACCES ? " (run as the server's user)"
			: e == ENOENT || e == ECONNREFUSED
				? " (is it running with this configuration?)"
				: "");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (send(fd, cmd, n, MSG_NOSIGNAL) != (ssize_t)n ||
	    !(f = fdopen(fd, "r"))) {
		fprintf(stderr, "voxsense: control socket %s: %s\n", a.sun_path,
			strerror(errno));
		close(fd);
		return NULL;
	}
	return f;
}

static void lost(FILE *f)
{
	fprintf(stderr, "voxsense: %s\n",
		ferror(f) && (errno == EAGAIN || errno == EWOULDBLOCK)
			? "no answer from the server within 40 s"
			: "the server closed the control connection early");
}

int vs_ctl__status(const struct vs_conf *c)
{
	FILE *f = ctl_open(c, "status\n");
	char buf[4096];
	size_t n, total = 0;

	if (!f)
		return 1;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (!total && n > 4 && !memcmp(buf, "ERR ", 4)) {
			fprintf(stderr, "voxsense: %.*s", (int)(n - 4),
				buf + 4);
			fclose(f);
			return 1;
		}
		fwrite(buf, 1, n, stdout);
		total += n;
	}
	if (!total)
		lost(f);
	fclose(f);
	return total ? 0 : 1;
}

/* Copies "DATA n" blocks to out until "END" (0) or "ERR" / a broken
 * stream (1, told). */
static int fetch_loop(FILE *f, FILE *out, const char *id, uint64_t *total)
{
	char line[512], buf[65536];
	unsigned long long len;
	size_t k;

	for (;;) {
		if (!fgets(line, sizeof(line), f)) {
			lost(f);
			return 1;
		}
		if (!strncmp(line, "ERR ", 4)) {
			fprintf(stderr, "voxsense: pcap of CDR %s: %s", id,
				line + 4);
			return 1;
		}
		if (!strncmp(line, "END", 3))
			return 0;
		if (sscanf(line, "DATA %llu", &len) != 1 || len > (64u << 20)) {
			fprintf(stderr,
				"voxsense: unexpected answer from the "
				"server: %.60s\n",
				line);
			return 1;
		}
		for (; len; len -= k) {
			k = fread(buf, 1, len < sizeof(buf) ? len : sizeof(buf),
				  f);
			if (!k) {
				lost(f);
				return 1;
			}
			if (fwrite(buf, 1, k, out) != k) {
				fprintf(stderr,
					"voxsense: writing the pcap: "
					"%s\n",
					strerror(errno));
				return 1;
			}
			*total += k;
		}
	}
}

int vs_ctl__fetch_pcap(const struct vs_conf *c, const char *cdr_id,
		       const char *out)
{
	char cmd[64], part[4096];
	int to_stdout = !strcmp(out, "-"), rc;
	uint64_t total = 0;
	FILE *f, *o;

	if (!*cdr_id || strspn(cdr_id, "0123456789") != strlen(cdr_id) ||
	    strlen(cdr_id) > 20) {
		fprintf(stderr,
			"voxsense: --fetch-pcap wants a CDR ID (the "
			"cdr table's ID column), not '%s'\n",
			cdr_id);
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "pcap %s\n", cdr_id);
	snprintf(part, sizeof(part), "%s.part", out);
	o = to_stdout ? stdout : fopen(part, "wb");
	if (!o) {
		fprintf(stderr, "voxsense: %s: %s\n", part, strerror(errno));
		return 1;
	}
	f = ctl_open(c, cmd);
	rc = f ? fetch_loop(f, o, cdr_id, &total) : 1;
	if (f)
		fclose(f);
	if (to_stdout)
		return fflush(stdout) ? 1 : rc;
	if (fclose(o) && !rc) {
		fprintf(stderr, "voxsense: %s: %s\n", part, strerror(errno));
		rc = 1;
	}
	if (!rc && rename(part, out)) {
		fprintf(stderr, "voxsense: %s: %s\n", out, strerror(errno));
		rc = 1;
	}
	if (rc)
		unlink(part);
	else
		fprintf(stderr,
			"voxsense: pcap of CDR %s: %" PRIu64 " bytes "
			"written to %s\n",
			cdr_id, total, out);
	return rc;
}
