// SPDX-License-Identifier: GPL-2.0-or-later
/* role/pcap_serve: the sensor streams a call's pcap to the server over the
 * uplink (pcap_serve.h, docs/distributed.md "Fetching a call's pcap"). */
#include <byteswap.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "role/pcap_serve.h"
#include "spool/pcap_spool.h"

void vs_pcap_serve__init(struct vs_pcap_serve *ps, const char *spooldir,
			 uint16_t id_sensor)
{
	memset(ps, 0, sizeof(*ps));
	ps->spooldir = spooldir;
	ps->id_sensor = id_sensor;
	for (int i = 0; i < VS_PCAP_SERVE_SLOTS; i++)
		ps->x[i].fd = -1;
}

static void xfer_end(struct vs_pcap_xfer *x)
{
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	x->used = 0;
}

void vs_pcap_serve__fini(struct vs_pcap_serve *ps)
{
	for (int i = 0; i < VS_PCAP_SERVE_SLOTS; i++)
		xfer_end(&ps->x[i]);
	free(ps->buf);
	ps->buf = NULL;
}

bool vs_pcap_serve__busy(const struct vs_pcap_serve *ps)
{
	for (int i = 0; i < VS_PCAP_SERVE_SLOTS; i++)
		if (ps->x[i].used)
			return true;
	return false;
}

/* Turns x into an error answer (closing its file); pump sends it. -1. */
static int xfer_fail(struct vs_pcap_serve *ps, struct vs_pcap_xfer *x,
		     const char *fmt, ...)
{
	va_list ap;

	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	va_start(ap, fmt);
	vsnprintf(x->text, sizeof(x->text), fmt, ap);
	va_end(ap);
	ps->refused++;
	vs_info("uplink: pcap request %" PRIu32 ": %s", x->req_id, x->text);
	return -1;
}

/* rel beneath dfd only: the kernel refuses (-EXDEV) a path that would
 * leave it, by ".." or by a symlink; a FIFO does not block the open. */
static int open_beneath(int dfd, const char *rel)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	long fd = syscall(SYS_openat2, dfd, rel, &how, sizeof(how));

	if (fd < 0)
		return -errno;
	if (fstat((int)fd, &st) || !S_ISREG(st.st_mode)) {
		close((int)fd);
		return -EINVAL;
	}
	return (int)fd;
}

/* The time of a pcap file's first record in microseconds (either byte
 * order, micro- or nanosecond magic); 0 when there is none. */
static uint64_t first_ts_us(int fd)
{
	uint8_t h[40];
	uint32_t magic, sec, frac;
	int swap;

	if (pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return 0;
	memcpy(&magic, h, 4);
	memcpy(&sec, h + 24, 4);
	memcpy(&frac, h + 28, 4);
	swap = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u;
	if (swap) {
		magic = bswap_32(magic);
		sec = bswap_32(sec);
		frac = bswap_32(frac);
	}
	if (magic == 0xa1b23c4du)
		frac /= 1000;
	else if (magic != 0xa1b2c3d4u)
		return 0;
	return (uint64_t)sec * 1000000u + frac;
}

/* The call's file among <name>.pcap, <name>-2.pcap ...: the spool adds the
 * suffix when a Call-ID comes back within the same minute, so the call's
 * own is the one whose first packet is the nearest at or after calldate.
 * fd, or -ENOENT (none), or the first other error. */
static int find_file(int dfd, uint64_t calldate_us, const char *call_id,
		     char *rel, size_t size)
{
	char cand[512];
	uint64_t ts, key, best_key = UINT64_MAX;
	int fd, best = -ENOENT;

	for (int n = 1; n < 100; n++) {
		if (vs_spool__call_path(cand, sizeof(cand), calldate_us,
					call_id, n) < 0)
			return best >= 0 ? best : -ENAMETOOLONG;
		fd = open_beneath(dfd, cand);
		if (fd == -ENOENT)
			break;
		if (fd < 0) {
			if (best == -ENOENT)
				best = fd;
			continue;
		}
		ts = first_ts_us(fd);
		key = ts >= calldate_us ? ts - calldate_us : UINT64_MAX - 1;
		if (best < 0 || key < best_key) {
			if (best >= 0)
				close(best);
			best = fd;
			best_key = key;
			snprintf(rel, size, "%s", cand);
		} else {
			close(fd);
		}
	}
	return best;
}

/* 0 with x's file open, or -1 with x an error answer. */
static int xfer_open(struct vs_pcap_serve *ps, struct vs_pcap_xfer *x,
		     const struct vs_chan_pcap_req *r)
{
	char call_id[VS_CHAN_CALLID_MAX + 1];
	struct stat st;
	int dfd, fd;

	memcpy(call_id, r->call_id, r->call_id_len);
	call_id[r->call_id_len] = '\0';
	if (r->id_sensor != ps->id_sensor)
		return xfer_fail(ps, x,
				 "a request for sensor %u reached sensor %u",
				 r->id_sensor, ps->id_sensor);
	if (strlen(call_id) != r->call_id_len) /* a NUL: never spooled */
		return xfer_fail(ps, x,
				 "no pcap for this call on sensor %u "
				 "(savesip/savertp off, or deleted)",
				 ps->id_sensor);
	dfd = open(ps->spooldir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	fd = dfd < 0 ? -errno
		     : find_file(dfd, r->calldate_us, call_id, x->text,
				 sizeof(x->text));
	if (dfd >= 0)
		close(dfd);
	if (fd == -ENOENT)
		return xfer_fail(ps, x,
				 "no pcap for this call on sensor %u "
				 "(savesip/savertp off, or deleted)",
				 ps->id_sensor);
	if (fd == -EXDEV || fd == -ELOOP)
		return xfer_fail(ps, x,
				 "the pcap path of this call leads out "
				 "of the spooldir on sensor %u: refused",
				 ps->id_sensor);
	if (fd == -EINVAL)
		return xfer_fail(ps, x,
				 "the pcap of this call on sensor %u "
				 "is not a regular file: refused",
				 ps->id_sensor);
	if (fd == -ENOSYS)
		return xfer_fail(ps, x,
				 "sensor %u cannot serve pcaps safely: "
				 "its kernel lacks openat2 (Linux 5.6+)",
				 ps->id_sensor);
	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return xfer_fail(ps, x,
				 "cannot open the pcap on sensor %u: %s",
				 ps->id_sensor, strerror(fd < 0 ? -fd : errno));
	}
	x->fd = fd;
	x->size = (uint64_t)st.st_size; /* a closed call's file: final */
	return 0;
}

/* Queues one slice (or the error answer) of x: 0, -ENOBUFS (no room:
 * nothing queued, try again on the next turn) or a fatal send error. */
static int xfer_step(struct vs_pcap_serve *ps, struct vs_chan_conn *c,
		     struct vs_pcap_xfer *x, size_t *raw)
{
	struct vs_chan_pcap_data d = {.req_id = x->req_id};
	struct vs_buf *b = vs_chan_conn__scratch(c);
	uint64_t want = 0;
	ssize_t got = 0;
	int r;

	if (x->fd >= 0 && !ps->buf && !(ps->buf = malloc(VS_PCAP_SERVE_SLICE)))
		(void)xfer_fail(ps, x, "sensor %u: out of memory",
				ps->id_sensor);
	if (x->fd >= 0) {
		want = x->size - x->off;
		if (want > VS_PCAP_SERVE_SLICE)
			want = VS_PCAP_SERVE_SLICE;
		got = want ? pread(x->fd, ps->buf, want, (off_t)x->off) : 0;
		if (got < 0) {
			return xfer_fail(ps, x,
					 "cannot read the pcap on "
					 "sensor %u: %s",
					 ps->id_sensor, strerror(errno)) +
			       1;
		}
		d.data = ps->buf;
		d.len = (uint32_t)got;
		/* a file cut short since the open ends where it ends */
		if (x->off + (uint64_t)got >= x->size || (uint64_t)got < want)
			d.flags = VS_CHAN_PCAP_F_LAST;
	} else {
		d.flags = VS_CHAN_PCAP_F_ERROR | VS_CHAN_PCAP_F_LAST;
		d.data = (const uint8_t *)x->text;
		d.len = (uint32_t)strlen(x->text);
	}
	r = vs_chan_pcap_data__put(b, &d)
		    ?: vs_chan_conn__send(c, VS_CHAN_PCAP_DATA, b->p, b->len);
	if (r)
		return r;
	*raw += d.len;
	if (x->fd >= 0) {
		x->off += (uint64_t)got;
		ps->bytes += (uint64_t)got;
	}
	if (d.flags == VS_CHAN_PCAP_F_LAST) {
		ps->served++;
		vs_info("uplink: pcap request %" PRIu32 ": %s, %" PRIu64
			" bytes sent",
			x->req_id, x->text, x->off);
	}
	if (d.flags & VS_CHAN_PCAP_F_LAST)
		xfer_end(x);
	return 0;
}

int vs_pcap_serve__pump(struct vs_pcap_serve *ps, struct vs_chan_conn *c)
{
	struct vs_pcap_xfer *x;
	unsigned idle = 0;
	size_t raw = 0;
	int r;

	while (idle < VS_PCAP_SERVE_SLOTS) {
		x = &ps->x[ps->rr];
		if (!x->used) {
			ps->rr = (ps->rr + 1) % VS_PCAP_SERVE_SLOTS;
			idle++;
			continue;
		}
		/* room for the CDRs: never more than this queued or read
		 * per turn (error answers are small and always go) */
		if (x->fd >= 0 &&
		    (vs_chan_conn__queued(c) >= VS_PCAP_SERVE_QUEUE ||
		     raw >= VS_PCAP_SERVE_QUEUE))
			return 0;
		r = xfer_step(ps, c, x, &raw);
		if (r == -ENOBUFS)
			return 0;
		if (r)
			return r;
		ps->rr = (ps->rr + 1) % VS_PCAP_SERVE_SLOTS;
		idle = 0;
	}
	return 0;
}

int vs_pcap_serve__request(struct vs_pcap_serve *ps, struct vs_chan_conn *c,
			   const uint8_t *p, size_t n)
{
	struct vs_pcap_xfer *x = NULL;
	struct vs_chan_pcap_req r;
	struct vs_buf *b;
	char text[96];
	int len;

	if (vs_chan_pcap_req__parse(p, n, &r)) {
		vs_warn("uplink: malformed PCAP_REQUEST from the server (%zu "
			"bytes): closing",
			n);
		return -EPROTO;
	}
	ps->requests++;
	for (int i = 0; i < VS_PCAP_SERVE_SLOTS && !x; i++)
		if (!ps->x[i].used)
			x = &ps->x[i];
	if (!x) { /* the server bounds its requests; this is a safety net */
		ps->refused++;
		len = snprintf(text, sizeof(text),
			       "sensor %u is busy with %d "
			       "pcap transfers: try again",
			       ps->id_sensor, VS_PCAP_SERVE_SLOTS);
		b = vs_chan_conn__scratch(c);
		len = vs_chan_pcap_data__put(
			      b,
			      &(struct vs_chan_pcap_data){
				      .req_id = r.req_id,
				      .data = (uint8_t *)text,
				      .len = (uint32_t)len,
				      .flags = VS_CHAN_PCAP_F_ERROR |
					       VS_CHAN_PCAP_F_LAST})
			      ?: vs_chan_conn__send(c, VS_CHAN_PCAP_DATA, b->p,
						    b->len);
		return len == -ENOBUFS ? 0 : len;
	}
	*x = (struct vs_pcap_xfer){.used = 1, .req_id = r.req_id, .fd = -1};
	(void)xfer_open(ps, x, &r); /* a failure is answered by pump */
	return vs_pcap_serve__pump(ps, c);
}
