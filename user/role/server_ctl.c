// SPDX-License-Identifier: GPL-2.0-or-later
/* role/server_ctl: the central server's local control socket,
 * <spooldir>/voxsense.sock (mode 0600), served in the server's own epoll
 * loop through a nested epoll set. One command line per connection
 * (docs/distributed.md, "Server status", "Fetching a call's pcap"):
 *
 *   status          -> one JSON document, then the server closes
 *   pcap <cdr ID>   -> "DATA <n>\n" + n bytes, repeated, then "END <total>\n";
 *                      or "ERR <text>\n" at any point (then it closes)
 *
 * A pcap fetch looks the CDR up in MariaDB (its own short-lived
 * connection: an admin action, blocking for a few milliseconds), sends
 * PCAP_REQUEST on the owning sensor's live connection, and passes the
 * sensor's PCAP_DATA slices on. At most VS_CTL_MAX_FETCH fetches at once;
 * one fails after VS_CTL_TIMEOUT_MS without a slice. */
#include <errno.h>
#include <inttypes.h>
#include <mariadb/mysql.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cdr/store_mysql.h"
#include "core/log.h"
#include "role/role.h"
#include "role/server_int.h"

#define VS_CTL_MAX_CLIENTS 16
#define VS_CTL_MAX_FETCH 4
#define VS_CTL_TIMEOUT_MS 30000 /* a fetch without a slice this long */
#define VS_CTL_LINE_MS 5000	/* the command line must come within */
#define VS_CTL_LINE_MAX 256
#define VS_CTL_OUT_MAX (8u << 20) /* bytes waiting for a slow client */

enum ctl_state { CTL_LINE, CTL_FETCH, CTL_DRAIN };

struct ctl_client {
	int fd;
	struct ctl_client *next;
	enum ctl_state state;
	int dead;
	int eof; /* it shut its sending side: read no more */
	unsigned armed;
	char line[VS_CTL_LINE_MAX];
	size_t line_len;
	struct vs_buf out; /* answer bytes not written yet */
	size_t out_off;
	uint64_t deadline_ms;
	/* a fetch */
	uint32_t req_id;
	uint16_t id_sensor;
	uint64_t cdr_id, bytes;
	struct srv_conn *conn; /* the request went out on this one */
};

struct vs_srv_ctl {
	int lfd, ep;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctl_client *clients;
	unsigned nclients, nfetch;
	uint32_t next_req;
	uint64_t started_us;
	uint64_t fetches, fetched, failed, timeouts, late;
};

/* --- the socket -----------------------------------------------------------*/

/* Binds path with mode 0600. A socket file nobody answers on is a stale
 * one of a crashed server: replaced. One that answers: -EADDRINUSE. */
static int ctl_listen(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	mode_t old;
	int fd, err;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (!connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -EADDRINUSE;
	}
	unlink(path);
	old = umask(0177); /* the server is one thread here */
	err = bind(fd, (struct sockaddr *)&a, sizeof(a)) ? -errno : 0;
	umask(old);
	if (!err && listen(fd, 16))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int vs_srv_ctl__open(struct vs_server *srv)
{
	struct vs_srv_ctl *ctl = calloc(1, sizeof(*ctl));
	struct epoll_event e = {.events = EPOLLIN};
	const char *dir = srv->conf->spooldir;
	int err;

	if (!ctl)
		return -ENOMEM;
	ctl->lfd = ctl->ep = -1;
	ctl->started_us = vs_srv__wall_us();
	if ((size_t)snprintf(ctl->path, sizeof(ctl->path), "%s/voxsense.sock",
			     dir) >= sizeof(ctl->path)) {
		vs_warn("server: spooldir %s is too long for a unix socket "
			"path: no control socket (--status, --fetch-pcap)",
			dir);
		free(ctl);
		return 0;
	}
	ctl->lfd = ctl_listen(ctl->path);
	if (ctl->lfd < 0) {
		err = ctl->lfd;
		vs_warn("server: control socket %s: %s: --status and "
			"--fetch-pcap will not work",
			ctl->path,
			err == -EADDRINUSE ? "another server answers on it"
					   : strerror(-err));
		free(ctl);
		return 0;
	}
	ctl->ep = epoll_create1(EPOLL_CLOEXEC);
	if (ctl->ep < 0 || epoll_ctl(ctl->ep, EPOLL_CTL_ADD, ctl->lfd, &e))
		goto fail;
	e.data.ptr = ctl; /* server.c's loop tells it from connections so */
	if (epoll_ctl(srv->ep, EPOLL_CTL_ADD, ctl->ep, &e))
		goto fail;
	srv->ctl = ctl;
	vs_info("server: control socket %s (status, pcap)", ctl->path);
	return 0;
fail:
	err = -errno;
	if (ctl->ep >= 0)
		close(ctl->ep);
	close(ctl->lfd);
	unlink(ctl->path);
	free(ctl);
	return err;
}

static void client_free(struct vs_srv_ctl *ctl, struct ctl_client *cl)
{
	if (cl->state == CTL_FETCH)
		ctl->nfetch--;
	epoll_ctl(ctl->ep, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	vs_buf__free(&cl->out);
	free(cl);
	ctl->nclients--;
}

void vs_srv_ctl__close(struct vs_server *srv)
{
	struct vs_srv_ctl *ctl = srv->ctl;
	struct ctl_client *cl;

	if (!ctl)
		return;
	while ((cl = ctl->clients)) {
		ctl->clients = cl->next;
		client_free(ctl, cl);
	}
	if (srv->ep >= 0)
		epoll_ctl(srv->ep, EPOLL_CTL_DEL, ctl->ep, NULL);
	close(ctl->ep);
	close(ctl->lfd);
	unlink(ctl->path);
	vs_info("server: pcap fetches: %" PRIu64 " asked, %" PRIu64 " served, "
		"%" PRIu64 " failed (%" PRIu64 " timed out)",
		ctl->fetches, ctl->fetched, ctl->failed, ctl->timeouts);
	free(ctl);
	srv->ctl = NULL;
}

/* --- answers --------------------------------------------------------------*/

static void put(struct ctl_client *cl, const void *p, size_t n)
{
	if (vs_buf__put(&cl->out, p, n, 0))
		cl->dead = 1; /* out of memory: drop the client */
}

static void putf(struct ctl_client *cl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void putf(struct ctl_client *cl, const char *fmt, ...)
{
	char line[VS_CHAN_ERR_TEXT_MAX + 64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	put(cl, line, n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* Ends the client's command: what is queued is written, then it closes. */
static void finish(struct vs_srv_ctl *ctl, struct ctl_client *cl)
{
	if (cl->state == CTL_FETCH)
		ctl->nfetch--;
	cl->state = CTL_DRAIN;
}

/* Answers ERR text and ends the fetch. -1. */
static int fetch_fail(struct vs_srv_ctl *ctl, struct ctl_client *cl,
		      const char *text)
{
	ctl->failed++;
	vs_info("server: pcap of CDR %" PRIu64 ": %s", cl->cdr_id, text);
	putf(cl, "ERR %s\n", text);
	finish(ctl, cl);
	return -1;
}

/* --- status ---------------------------------------------------------------*/

static void add_time(cJSON *o, const char *key, uint64_t us)
{
	char t[32];
	time_t s = (time_t)(us / 1000000);
	struct tm tm;

	if (!us || !gmtime_r(&s, &tm)) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(o, key, t);
}

static const char *sensor_mode(const struct srv_sensor *s)
{
	static const char *const names[] = {"local", "mirror", "relay"};
	const struct vs_chan_peer *p;

	if (!s->conn || !s->conn->ready) /* behind a relay: its SENSOR_INFO */
		return s->relay ? (s->mode[0] ? s->mode : "local") : NULL;
	p = vs_chan_conn__peer(s->conn->c);
	return p->mode <= VS_CHAN_MODE_RELAY ? names[p->mode] : "?";
}

static cJSON *sensor_json(const struct srv_sensor *s)
{
	cJSON *o = cJSON_CreateObject();
	const char *mode = sensor_mode(s);

	cJSON_AddNumberToObject(o, "id_sensor", s->id);
	cJSON_AddStringToObject(o, "name", s->name);
	cJSON_AddStringToObject(o, "address", s->addr);
	cJSON_AddStringToObject(o, "version", s->version);
	if (mode)
		cJSON_AddStringToObject(o, "mode", mode);
	else
		cJSON_AddNullToObject(o, "mode");
	cJSON_AddBoolToObject(o, "connected",
			      (s->conn && s->conn->ready && !s->conn->dead) ||
			      (s->relay && !s->relay->dead));
	if (s->relay)
		cJSON_AddNumberToObject(o, "via_relay", s->relay->s->id);
	else
		cJSON_AddNullToObject(o, "via_relay");
	add_time(o, "connected_since", s->connected_since_us);
	add_time(o, "last_seen", s->last_seen_us);
	cJSON_AddNumberToObject(o, "cdrs", (double)s->cdrs);
	cJSON_AddNumberToObject(o, "duplicates", (double)s->dups);
	cJSON_AddNumberToObject(o, "bytes", (double)s->bytes);
	if (s->compress[0])
		cJSON_AddStringToObject(o, "compress", s->compress);
	else
		cJSON_AddNullToObject(o, "compress");
	cJSON_AddNumberToObject(o, "packets", (double)s->m.frames);
	cJSON_AddNumberToObject(o, "committed_seq", (double)s->hwm);
	return o;
}

static cJSON *server_json(struct vs_server *srv)
{
	struct vs_srv_writer_stats ws;
	struct vs_srv_ctl *ctl = srv->ctl;
	cJSON *o = cJSON_CreateObject();
	unsigned live = 0;

	for (struct srv_conn *sc = srv->conns; sc; sc = sc->next)
		live += sc->ready && !sc->dead;
	cJSON_AddStringToObject(o, "version", VS_VERSION);
	cJSON_AddStringToObject(o, "bind", srv->conf->chan.bind);
	cJSON_AddNumberToObject(o, "port", srv->conf->chan.bind_port);
	cJSON_AddStringToObject(o, "fingerprint",
				vs_chan_ctx__fingerprint(srv->ctx));
	add_time(o, "started", ctl->started_us);
	cJSON_AddNumberToObject(
		o, "uptime_s",
		(double)((vs_srv__wall_us() - ctl->started_us) / 1000000));
	vs_srv__writers_total(srv, &ws);
	cJSON_AddNumberToObject(o, "connections", srv->nconns);
	cJSON_AddNumberToObject(o, "sensors_connected", live);
	cJSON_AddStringToObject(o, "database",
				srv->db_down ? "unavailable" : "ok");
	cJSON_AddNumberToObject(o, "cdrs", (double)srv->cdrs);
	cJSON_AddNumberToObject(o, "duplicates", (double)srv->dups);
	/* the writers count them: their stores look the Call-IDs up */
	cJSON_AddNumberToObject(o, "skipped_callid_known",
				(double)(srv->skipped + ws.skipped));
	cJSON_AddNumberToObject(o, "unreadable", (double)srv->bad);
	cJSON_AddNumberToObject(o, "commits", (double)srv->commits);
	cJSON_AddNumberToObject(o, "cdrs_committed",
				(double)ws.db.committed);
	cJSON_AddNumberToObject(o, "cdr_writers", srv->nwriters);
	cJSON_AddNumberToObject(o, "pcap_fetches", (double)ctl->fetches);
	cJSON_AddNumberToObject(o, "pcap_served", (double)ctl->fetched);
	cJSON_AddNumberToObject(o, "pcap_failed", (double)ctl->failed);
	cJSON_AddNumberToObject(o, "pcap_timeouts", (double)ctl->timeouts);
	return o;
}

static void cmd_status(struct vs_server *srv, struct ctl_client *cl)
{
	cJSON *o = cJSON_CreateObject(), *arr = cJSON_CreateArray();
	char *text;

	cJSON_AddItemToObject(o, "server", server_json(srv));
	for (uint32_t i = 1; i < 65536; i++)
		if (srv->sensors[i])
			cJSON_AddItemToArray(arr, sensor_json(srv->sensors[i]));
	cJSON_AddItemToObject(o, "sensors", arr);
	text = cJSON_Print(o);
	cJSON_Delete(o);
	if (!text) {
		putf(cl, "ERR out of memory\n");
	} else {
		put(cl, text, strlen(text));
		put(cl, "\n", 1);
		free(text);
	}
	finish(srv->ctl, cl);
}

/* --- pcap fetch -----------------------------------------------------------*/

struct cdr_key {
	uint16_t id_sensor;
	uint64_t calldate_us;
	char call_id[VS_CHAN_CALLID_MAX + 1];
};

/* The CDR's owner, time and Call-ID: 0, -ENOENT (no such CDR), or
 * -EIO with why filled. */
static int cdr_lookup(const struct vs_conf *c, uint64_t id, struct cdr_key *k,
		      char *why, size_t wsize)
{
	struct vs_mysql_opts mo;
	unsigned ct = 2, rt = 5;
	MYSQL *m = mysql_init(NULL);
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	char sql[128];
	int err = -EIO;

	if (!m) {
		snprintf(why, wsize, "out of memory");
		return -EIO;
	}
	vs_role__mysql_opts(c, &mo);
	mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
	mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &rt);
	mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	snprintf(sql, sizeof(sql),
		 "SELECT id_sensor, calldate_us, call_id "
		 "FROM cdr WHERE ID = %" PRIu64,
		 id);
	if (!mysql_real_connect(m, mo.host, mo.user, mo.password, mo.db,
				mo.port, mo.socket, 0) ||
	    mysql_query(m, sql) || !(res = mysql_store_result(m))) {
		snprintf(why, wsize, "database: %s", mysql_error(m));
		goto out;
	}
	row = mysql_fetch_row(res);
	err = -ENOENT;
	if (!row || !row[0] || !row[1] || !row[2])
		goto out;
	k->id_sensor = (uint16_t)strtoul(row[0], NULL, 10);
	k->calldate_us = strtoull(row[1], NULL, 10);
	snprintf(k->call_id, sizeof(k->call_id), "%s", row[2]);
	err = 0;
out:
	mysql_free_result(res);
	mysql_close(m);
	return err;
}

/* The connection that reaches sensor id: its own, or its relay's. */
static struct srv_conn *sensor_conn(struct vs_server *srv, uint16_t id)
{
	struct srv_sensor *s = srv->sensors[id];

	if (!s)
		return NULL;
	if (s->conn && s->conn->ready && !s->conn->dead)
		return s->conn;
	if (s->relay && s->relay->ready && !s->relay->dead)
		return s->relay;
	return NULL;
}

/* 0 with the request sent, or -1 with the client answered ERR. */
static int cmd_pcap(struct vs_server *srv, struct ctl_client *cl,
		    const char *arg)
{
	struct vs_srv_ctl *ctl = srv->ctl;
	struct cdr_key k;
	struct srv_conn *sc;
	struct vs_buf *b;
	char *end, why[256];
	int r;

	cl->state = CTL_FETCH; /* counted from here; fetch_fail uncounts */
	ctl->nfetch++;
	ctl->fetches++;
	errno = 0;
	cl->cdr_id = strtoull(arg, &end, 10);
	if (!*arg || *end || errno || !cl->cdr_id)
		return fetch_fail(ctl, cl, "usage: pcap <cdr ID> (a number)");
	if (ctl->nfetch > VS_CTL_MAX_FETCH) {
		snprintf(why, sizeof(why),
			 "%u pcap fetches are running: try "
			 "again in a moment",
			 VS_CTL_MAX_FETCH);
		return fetch_fail(ctl, cl, why);
	}
	r = cdr_lookup(srv->conf, cl->cdr_id, &k, why, sizeof(why));
	if (r == -ENOENT)
		snprintf(why, sizeof(why), "no such CDR (ID %" PRIu64 ")",
			 cl->cdr_id);
	if (r)
		return fetch_fail(ctl, cl, why);
	cl->id_sensor = k.id_sensor;
	sc = k.id_sensor ? sensor_conn(srv, k.id_sensor) : NULL;
	if (!sc) {
		snprintf(why, sizeof(why), "sensor %u is not connected",
			 k.id_sensor);
		return fetch_fail(ctl, cl, why);
	}
	cl->req_id = ++ctl->next_req ?: ++ctl->next_req;
	b = vs_chan_conn__scratch(sc->c);
	r = vs_chan_pcap_req__put(
		    b,
		    &(struct vs_chan_pcap_req){
			    .req_id = cl->req_id,
			    .id_sensor = k.id_sensor,
			    .calldate_us = k.calldate_us,
			    .call_id = k.call_id,
			    .call_id_len = (uint16_t)strlen(k.call_id)})
		    ?: vs_chan_conn__send(sc->c, VS_CHAN_PCAP_REQUEST, b->p,
					  b->len);
	if (r) {
		snprintf(why, sizeof(why), "cannot ask sensor %u: %s",
			 k.id_sensor,
			 r == -ENOBUFS ? "its send queue is full"
				       : strerror(-r));
		return fetch_fail(ctl, cl, why);
	}
	cl->conn = sc;
	cl->deadline_ms = vs_srv__mono_ms() + VS_CTL_TIMEOUT_MS;
	vs_info("server: pcap of CDR %" PRIu64 " asked from sensor %u "
		"(request %" PRIu32 ")",
		cl->cdr_id, k.id_sensor, cl->req_id);
	return 0;
}

int vs_srv_ctl__pcap_data(struct vs_server *srv, struct srv_conn *sc,
			  const uint8_t *p, uint32_t n)
{
	struct vs_srv_ctl *ctl = srv->ctl;
	struct vs_chan_pcap_data d;
	struct ctl_client *cl;
	char text[VS_CHAN_ERR_TEXT_MAX + 1];

	if (vs_chan_pcap_data__parse(p, n, &d))
		return -EPROTO;
	for (cl = ctl ? ctl->clients : NULL; cl; cl = cl->next)
		if (cl->state == CTL_FETCH && cl->req_id == d.req_id &&
		    cl->conn == sc)
			break;
	if (!cl) { /* its client left, or timed out */
		if (ctl)
			ctl->late++;
		return 0;
	}
	cl->deadline_ms = vs_srv__mono_ms() + VS_CTL_TIMEOUT_MS;
	if (d.flags & VS_CHAN_PCAP_F_ERROR) {
		size_t k = d.len < sizeof(text) - 1 ? d.len : sizeof(text) - 1;

		for (size_t i = 0; i < k; i++) /* printed: printable only */
			text[i] = d.data[i] >= 0x20 && d.data[i] < 0x7f
					  ? (char)d.data[i]
					  : '?';
		text[k] = '\0';
		fetch_fail(ctl, cl, text);
		return 0;
	}
	if (d.len) {
		putf(cl, "DATA %" PRIu32 "\n", d.len);
		put(cl, d.data, d.len);
		cl->bytes += d.len;
	}
	if (d.flags & VS_CHAN_PCAP_F_LAST) {
		putf(cl, "END %" PRIu64 "\n", cl->bytes);
		ctl->fetched++;
		vs_info("server: pcap of CDR %" PRIu64
			" from sensor %u: %" PRIu64 " bytes",
			cl->cdr_id, cl->id_sensor, cl->bytes);
		finish(ctl, cl);
	} else if (cl->out.len - cl->out_off > VS_CTL_OUT_MAX) {
		fetch_fail(ctl, cl, "the control client reads too slowly");
	}
	return 0;
}

void vs_srv_ctl__conn_gone(struct vs_server *srv, struct srv_conn *sc)
{
	char why[96];

	for (struct ctl_client *cl = srv->ctl ? srv->ctl->clients : NULL; cl;
	     cl = cl->next) {
		if (cl->state != CTL_FETCH || cl->conn != sc)
			continue;
		snprintf(why, sizeof(why),
			 "sensor %u disconnected during the "
			 "transfer",
			 cl->id_sensor);
		cl->conn = NULL;
		fetch_fail(srv->ctl, cl, why);
	}
}

/* --- clients --------------------------------------------------------------*/

static void run_line(struct vs_server *srv, struct ctl_client *cl)
{
	char *cmd = cl->line;

	cmd[strcspn(cmd, "\r")] = '\0';
	if (!strcmp(cmd, "status"))
		cmd_status(srv, cl);
	else if (!strncmp(cmd, "pcap ", 5))
		(void)cmd_pcap(srv, cl, cmd + 5); /* failures answered */
	else {
		putf(cl,
		     "ERR unknown command '%.40s': status | pcap <cdr "
		     "ID>\n",
		     cmd);
		finish(srv->ctl, cl);
	}
}

static void read_client(struct vs_server *srv, struct ctl_client *cl)
{
	char buf[VS_CTL_LINE_MAX];
	ssize_t n;
	char *nl;

	while ((n = read(cl->fd, buf, sizeof(buf))) > 0) {
		if (cl->state != CTL_LINE)
			continue; /* one command per connection */
		if (cl->line_len + (size_t)n >= sizeof(cl->line)) {
			putf(cl, "ERR command line too long\n");
			finish(srv->ctl, cl);
			continue;
		}
		memcpy(cl->line + cl->line_len, buf, (size_t)n);
		cl->line_len += (size_t)n;
		cl->line[cl->line_len] = '\0';
		nl = strchr(cl->line, '\n');
		if (nl) {
			*nl = '\0';
			run_line(srv, cl);
		}
	}
	/* "echo status | socat" shuts its side after the line: the answer
	 * still goes; a client that is gone fails at the next write */
	if (n == 0)
		cl->eof = 1;
	if ((n == 0 && cl->state == CTL_LINE) ||
	    (n < 0 && errno != EAGAIN && errno != EINTR))
		cl->dead = 1;
}

static void write_client(struct ctl_client *cl)
{
	ssize_t n;

	while (cl->out_off < cl->out.len) {
		n = send(cl->fd, cl->out.p + cl->out_off,
			 cl->out.len - cl->out_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				cl->dead = 1;
			return;
		}
		cl->out_off += (size_t)n;
	}
	cl->out.len = cl->out_off = 0;
	if (cl->state == CTL_DRAIN)
		cl->dead = 1; /* all said */
}

static void accept_clients(struct vs_srv_ctl *ctl)
{
	struct epoll_event e = {.events = EPOLLIN};
	struct ctl_client *cl;
	int fd;

	while ((fd = accept4(ctl->lfd, NULL, NULL,
			     SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		cl = ctl->nclients < VS_CTL_MAX_CLIENTS ? calloc(1, sizeof(*cl))
							: NULL;
		if (!cl) {
			(void)!write(fd, "ERR too many control clients\n", 29);
			close(fd);
			continue;
		}
		cl->fd = fd;
		cl->armed = EPOLLIN;
		cl->deadline_ms = vs_srv__mono_ms() + VS_CTL_LINE_MS;
		e.data.ptr = cl;
		if (epoll_ctl(ctl->ep, EPOLL_CTL_ADD, fd, &e)) {
			close(fd);
			free(cl);
			continue;
		}
		cl->next = ctl->clients;
		ctl->clients = cl;
		ctl->nclients++;
	}
}

/* Writes, closes the finished and the dead, re-arms, times out. */
void vs_srv_ctl__tick(struct vs_server *srv)
{
	struct vs_srv_ctl *ctl = srv->ctl;
	struct ctl_client **pp, *cl;
	uint64_t now = vs_srv__mono_ms();
	struct epoll_event e;

	if (!ctl)
		return;
	for (pp = &ctl->clients; (cl = *pp);) {
		if (!cl->dead && cl->state != CTL_DRAIN &&
		    now > cl->deadline_ms) {
			if (cl->state == CTL_FETCH) {
				ctl->timeouts++;
				fetch_fail(ctl, cl,
					   "timed out: no answer from "
					   "the sensor for 30 s");
			} else {
				cl->dead = 1;
			}
		}
		if (!cl->dead)
			write_client(cl);
		if (cl->dead) {
			*pp = cl->next;
			client_free(ctl, cl);
			continue;
		}
		e.events =
			(cl->eof ? 0 : EPOLLIN) | (cl->out.len ? EPOLLOUT : 0);
		e.data.ptr = cl;
		if (e.events != cl->armed &&
		    !epoll_ctl(ctl->ep, EPOLL_CTL_MOD, cl->fd, &e))
			cl->armed = e.events;
		pp = &cl->next;
	}
}

void vs_srv_ctl__event(struct vs_server *srv)
{
	struct vs_srv_ctl *ctl = srv->ctl;
	struct epoll_event ev[16];
	struct ctl_client *cl;
	int n = epoll_wait(ctl->ep, ev, 16, 0);

	for (int i = 0; i < n; i++) {
		cl = ev[i].data.ptr;
		if (!cl) {
			accept_clients(ctl);
			continue;
		}
		if (ev[i].events & EPOLLIN)
			read_client(srv, cl);
		if (ev[i].events & (EPOLLHUP | EPOLLERR))
			cl->dead = 1; /* gone both ways: a fetch is dropped */
		if (!cl->dead && (ev[i].events & EPOLLOUT))
			write_client(cl);
	}
	vs_srv_ctl__tick(srv);
}
