// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/log.h"
#include "daemon/pipeline.h"

/* savertp = header keeps Ethernet/IP/UDP and the fixed RTP header. */
#define RTP_HEADER_BYTES 12

static void pipe_end(void *ctx, const struct vs_cdr *cdr, void *user);
static void pipe_datagram(void *ctx, const struct vs_datagram *d);

int vs_pipeline__init(struct vs_pipeline *p, const struct vs_conf *conf)
{
	struct vs_decoder_opts dopt = {
		.sip_tcp_ports = conf->sip_ports,
		.framer = vs_sip__message_len,
		.out = pipe_datagram,
		.out_ctx = p,
	};
	struct vs_call_opts copt = {
		.conf = conf,
		.on_end = pipe_end,
		.ctx = p,
	};

	memset(p, 0, sizeof(*p));
	p->conf = conf;
	vs_frame_filter__init(&p->filter, conf->filter);
	vs_decode_limits__default(&dopt.limits);
	dopt.stats = &p->dst;
	copt.stats = &p->cst;
	copt.sip_stats = &p->sst;
	p->dec = vs_decoder__new(&dopt);
	p->calls = p->dec ? vs_call_table__new(&copt) : NULL;
	if (!p->calls)
		goto fail;
	if (conf->deduplicate) {
		p->seen = calloc(VS_PIPE_DEDUP_SLOTS, sizeof(*p->seen));
		if (!p->seen)
			goto fail;
	}
	/* The spooldir is made even when no pcap is saved: the default
	 * database lives there. */
	p->spool = vs_spool__new(conf->spooldir, &p->spst);
	if (!p->spool)
		goto fail;
	return 0;
fail:
	vs_pipeline__free(p);
	return errno ? -errno : -ENOMEM;
}

void vs_pipeline__set_track_only(struct vs_pipeline *p)
{
	p->track_only = 1;
	vs_call_table__set_track_only(p->calls, 1);
}

int vs_pipeline__add_store(struct vs_pipeline *p, struct vs_cdr_store *s)
{
	if (p->nstores >= VS_PIPE_MAX_STORES)
		return -ENOSPC;
	p->stores[p->nstores++] = s;
	return 0;
}

void vs_pipeline__commit(struct vs_pipeline *p)
{
	if (!p->dirty)
		return;
	for (int i = 0; i < p->nstores; i++)
		vs_cdr_store__flush(p->stores[i]);
	p->dirty = 0;
}

void vs_pipeline__ahead(void *ctx, int stage, uint32_t hint)
{
	struct vs_pipeline *p = ctx;

	vs_call_table__ahead(p->calls, stage, hint);
}

void vs_pipeline__idle(struct vs_pipeline *p, uint64_t now_us)
{
	vs_call_table__tick(p->calls, now_us);
	/* Commit finished CDRs about once a second, so that they become
	 * visible while a long capture runs. */
	if (p->dirty && now_us >= p->next_flush_us) {
		vs_pipeline__commit(p);
		p->next_flush_us = now_us + 1000000;
	}
}

int vs_pipeline__frame(void *ctx, const struct vs_frame *f)
{
	struct vs_pipeline *p = ctx;
	size_t mem;

	p->st.frames++;
	p->frame_refused = 0;
	if (!vs_frame_filter__pass(&p->filter, f)) {
		p->st.filtered++;
		p->frame_refused = 1;
		return 0;
	}
	p->cur_sensor = f->id_sensor;
	vs_decoder__frame(p->dec, f);
	vs_pipeline__idle(p, f->ts_us);
	mem = vs_call_table__mem(p->calls);
	if (mem > p->mem_peak) {
		p->mem_peak = mem;
		p->calls_at_peak = p->cst.calls_active;
	}
	return 0;
}

static void pipe_save(struct vs_pipeline *p, struct vs_call *c,
		      const struct vs_datagram *d, uint32_t snaplen)
{
	struct vs_spool_file *pf = vs_call__user(c);

	if (p->track_only)
		return;
	if (!pf) {
		const struct vs_cdr *r = vs_call__cdr(c);

		pf = vs_spool__file(p->spool, r->call_id, r->calldate_us);
		if (!pf)
			return;
		vs_call__set_user(c, pf);
	}
	for (uint32_t i = 0; i < d->nframes; i++)
		vs_spool_file__write(p->spool, pf, d->frames[i], snaplen);
}

static int is_sip_port(const struct vs_conf *cf, const struct vs_datagram *d)
{
	return vs_conf__is_sip_port(cf, d->dst.port) ||
	       vs_conf__is_sip_port(cf, d->src.port);
}

static void pipe_sip(struct vs_pipeline *p, const struct vs_datagram *d)
{
	struct vs_sip_msg m;
	struct vs_call *c;

	/* Cut by snaplen: a message without its end (or its SDP) would make
	 * a wrong call, not a shorter one. */
	if (d->cut) {
		p->st.sip_partial++;
		return;
	}
	if (vs_sip__parse(d->payload, d->len, &m, &p->sst) < 0)
		return;
	p->st.sip_datagrams++;
	c = vs_call_table__sip(p->calls, &m, d, p->cur_sensor);
	if (c && p->conf->savesip)
		pipe_save(p, c, d, UINT32_MAX);
}

static void pipe_media(struct vs_pipeline *p, const struct vs_datagram *d)
{
	struct vs_call *c;
	uint32_t snap = UINT32_MAX;
	int is_rtp = 0;

	c = vs_call_table__udp(p->calls, d, &is_rtp);
	if (!c)
		return;
	if (p->conf->savertp == VS_SAVERTP_NO) /* RTCP goes with RTP */
		return;
	if (is_rtp && p->conf->savertp == VS_SAVERTP_HEADER && d->nframes == 1)
		snap = (uint32_t)(d->payload - d->frames[0]->data) +
		       RTP_HEADER_BYTES;
	pipe_save(p, c, d, snap);
}

/* deduplicate: the same datagram captured twice (interface = any sees a
 * packet leave one interface and enter another; two mirror ports) arrives
 * within microseconds with identical endpoints and bytes. A slot per hash
 * remembers the last one; a match within VS_PIPE_DEDUP_US is a copy. SIP
 * retransmissions are 500 ms apart and stay. TCP needs none of this: its
 * reassembly already drops segments it has seen. */
static uint64_t ts_diff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/* A set-associative table: 4 slots per bucket, the oldest replaced, so a
 * copy is still found when other datagrams hashed to its bucket in between
 * (two probes a few ms apart on a busy link). */
static int pipe_is_dup(struct vs_pipeline *p, const struct vs_datagram *d)
{
	uint64_t h = vs_hash_mem(d->payload, d->len, 0);
	struct vs_pipe_seen *b, *old;

	h = vs_hash_mem(&d->src, sizeof(d->src), h);
	h = vs_hash_mem(&d->dst, sizeof(d->dst), h);
	b = &p->seen[h & (VS_PIPE_DEDUP_SLOTS - 4)];
	old = b;
	for (int i = 0; i < 4; i++) {
		/* either copy may carry the earlier stamp (per-CPU rings) */
		if (b[i].hash == h &&
		    ts_diff(d->ts_us, b[i].ts_us) <= VS_PIPE_DEDUP_US)
			return 1;
		if (b[i].ts_us < old->ts_us)
			old = &b[i];
	}
	old->hash = h;
	old->ts_us = d->ts_us;
	return 0;
}

static void pipe_datagram(void *ctx, const struct vs_datagram *d)
{
	struct vs_pipeline *p = ctx;
	const struct vs_conf *cf = p->conf;

	if (cf->n_ipfilter &&
	    !vs_conf__ip_allowed(cf, &d->src.addr, &d->dst.addr)) {
		p->st.ip_filtered++;
		p->frame_refused = 1;
		return;
	}
	if (p->seen && d->proto == IPPROTO_UDP && pipe_is_dup(p, d)) {
		p->st.duplicates++;
		return;
	}
	if (d->proto == IPPROTO_TCP) {
		if (!vs_sip__is_keepalive(d->payload, d->len))
			pipe_sip(p, d);
		return;
	}
	/* SIP starts with a token or "SIP/2.0"; RTP and RTCP with version 2 in
	 * the top bits, so a wide sipport range does not send media through
	 * the SIP parser. */
	if (is_sip_port(cf, d) && d->len && d->payload[0] < 0x80)
		pipe_sip(p, d);
	else
		pipe_media(p, d);
}

static void pipe_end(void *ctx, const struct vs_cdr *cdr, void *user)
{
	struct vs_pipeline *p = ctx;
	struct vs_spool_file *pf = user;
	struct vs_cdr out = *cdr;
	int rc;

	if (pf) {
		snprintf(out.pcap_path, sizeof(out.pcap_path), "%s",
			 vs_spool_file__path(pf));
		vs_spool_file__close(p->spool, pf);
	}
	p->st.cdrs++;
	p->dirty = 1;
	for (int i = 0; i < p->nstores; i++) {
		rc = vs_cdr_store__insert(p->stores[i], &out);
		if (rc == 1)
			p->st.cdr_skipped++;
		else if (rc < 0 && p->st.cdr_errors++ == 0)
			vs_err("CDR store %s: %s", p->stores[i]->ops->name,
			       strerror(-rc));
	}
}

void vs_pipeline__finish(struct vs_pipeline *p)
{
	vs_decoder__expire(p->dec, UINT64_MAX);
	vs_call_table__flush(p->calls);
	for (int i = 0; i < p->nstores; i++)
		vs_cdr_store__flush(p->stores[i]);
}

void vs_pipeline__free(struct vs_pipeline *p)
{
	if (p->calls)
		vs_call_table__free(p->calls);
	vs_decoder__free(p->dec);
	vs_spool__free(p->spool);
	for (int i = 0; i < p->nstores; i++)
		vs_cdr_store__close(p->stores[i]);
	vs_frame_filter__free(&p->filter);
	free(p->seen);
	p->seen = NULL;
	p->calls = NULL;
	p->dec = NULL;
	p->spool = NULL;
	p->nstores = 0;
}

void vs_pipeline__print_stats(const struct vs_pipeline *p, FILE *out)
{
#define VS_X(n) fprintf(out, "pipeline.%s %llu\n", #n, (unsigned long long)p->st.n);
	VS_PIPE_STATS(VS_X)
#undef VS_X
	vs_decode_stats__print(&p->dst, out);
	vs_sip_stats__print(&p->sst, out);
	vs_call_stats__print(&p->cst, out);
	vs_spool_stats__print(&p->spst, out);
	size_t call_sz, stream_sz;

	vs_call_table__sizes(&call_sz, &stream_sz);
	fprintf(out, "mem.sizeof_call %zu\nmem.sizeof_stream %zu\n", call_sz,
		stream_sz);
	fprintf(out, "mem.calls_peak_bytes %zu\nmem.calls_at_peak %llu\n",
		p->mem_peak, (unsigned long long)p->calls_at_peak);
}
