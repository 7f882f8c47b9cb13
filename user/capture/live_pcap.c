// SPDX-License-Identifier: GPL-2.0-or-later
/* capture/live: the libpcap fallback (TPACKET_V3 memory-mapped capture,
 * which libpcap uses on Linux), with a kernel (classic BPF) filter built
 * from sipport. Without the XDP flow table RTP cannot be told from other
 * UDP exactly, so the filter keeps anything shaped like RTP version 2 and
 * leaves the rest to userspace. */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "capture/live_int.h"
#include "core/log.h"

#define PCAP_TIMEOUT_MS 10

/* "port 5060 or portrange 5070-5080" from the sipport bitmap. */
static size_t port_terms(const struct vs_conf *c, char *buf, size_t len)
{
	size_t n = 0;
	unsigned p = 0, q;

	buf[0] = 0;
	while (p < 65536 && n < len) {
		if (!vs_conf__is_sip_port(c, (uint16_t)p)) {
			p++;
			continue;
		}
		for (q = p; q + 1 < 65536 && vs_conf__is_sip_port(c, (uint16_t)(q + 1)); q++)
			;
		if (p == q)
			n += (size_t)snprintf(buf + n, len - n, "%sport %u",
					      n ? " or " : "", p);
		else
			n += (size_t)snprintf(buf + n, len - n,
					      "%sportrange %u-%u",
					      n ? " or " : "", p, q);
		p = q + 1;
	}
	return n;
}

char *vs_live__pcap_filter(const struct vs_conf *c)
{
	static const char voip[] =
		"((tcp or udp) and (%s)) or (udp and udp[8] & 0xc0 = 0x80) or "
		"(ip[6:2] & 0x3fff != 0) or (ip6 and ip6[6] = 44)";
	size_t plen = 65536, elen;
	char *ports = malloc(plen), *e = NULL, *f = NULL;

	if (!ports)
		return NULL;
	if (!port_terms(c, ports, plen))
		snprintf(ports, plen, "port 5060");
	elen = strlen(ports) + sizeof(voip);
	e = malloc(elen);
	f = e ? malloc(2 * elen + 32) : NULL;
	if (f) {
		snprintf(e, elen, voip, ports);
		/* The same once more behind a VLAN tag. */
		snprintf(f, 2 * elen + 32, "(%s) or (vlan and (%s))", e, e);
	}
	free(ports);
	free(e);
	return f;
}

/* snaplen, ringbuffer (MB: the TPACKET_V3 ring of each interface) and
 * promisc from the configuration. */
static pcap_t *open_one(const struct vs_live *l, int ifindex,
			const char *filter)
{
	const struct vs_conf_cap *cap = &l->o.conf->cap;
	char errbuf[PCAP_ERRBUF_SIZE], name[IF_NAMESIZE];
	struct bpf_program prog;
	pcap_t *p;

	if (!if_indextoname((unsigned)ifindex, name))
		return NULL;
	p = pcap_create(name, errbuf);
	if (!p) {
		vs_err("%s: %s", name, errbuf);
		return NULL;
	}
	pcap_set_snaplen(p, cap->snaplen ? (int)cap->snaplen : VS_SNAP_DEFAULT);
	pcap_set_promisc(p, l->promisc);
	pcap_set_timeout(p, PCAP_TIMEOUT_MS);
	pcap_set_buffer_size(p, (int)((cap->ringbuffer_mb ?
				       cap->ringbuffer_mb : 4) << 20));
	pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_MICRO);
	if (pcap_activate(p) < 0 ||
	    pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0)
		goto fail;
	if (pcap_setfilter(p, &prog) < 0) {
		pcap_freecode(&prog);
		goto fail;
	}
	pcap_freecode(&prog);
	if (pcap_setnonblock(p, 1, errbuf) < 0)
		goto fail;
	return p;
fail:
	vs_err("%s: libpcap: %s", name, pcap_geterr(p));
	pcap_close(p);
	return NULL;
}

int vs_live__open_pcap(struct vs_live *l)
{
	char *filter = vs_live__pcap_filter(l->o.conf);
	int err = 0;

	if (!filter)
		return -ENOMEM;
	vs_dbg("pcap filter: %s", filter);
	for (int i = 0; i < l->n_if && !err; i++) {
		l->pcap[i] = open_one(l, l->ifindex[i], filter);
		if (!l->pcap[i])
			err = -EIO;
	}
	free(filter);
	return err;
}

static void on_pcap(u_char *ctx, const struct pcap_pkthdr *h,
		    const u_char *data)
{
	struct vs_live *l = (void *)ctx;
	pcap_t *p = l->pcap_cur;
	struct vs_frame f = {
		.data = data,
		.caplen = h->caplen,
		.origlen = h->len,
		.ts_us = (uint64_t)h->ts.tv_sec * 1000000 +
			 (uint64_t)h->ts.tv_usec,
		.linktype = (uint16_t)pcap_datalink(p),
		.id_sensor = l->o.conf->id_sensor,
		.ifindex = (uint32_t)l->pcap_cur_if,
	};

	l->st.frames++;
	l->st.frames_in++;
	l->st.bytes += h->caplen;
	l->o.fn(l->o.ctx, &f);
}

/* Reads every handle until it has nothing; -errno on a capture error. */
static int dispatch_all(struct vs_live *l)
{
	for (int i = 0; i < l->n_if; i++) {
		l->pcap_cur = l->pcap[i];
		l->pcap_cur_if = l->ifindex[i];
		if (pcap_dispatch(l->pcap[i], -1, on_pcap, (u_char *)l) ==
		    PCAP_ERROR) {
			vs_err("libpcap: %s", pcap_geterr(l->pcap[i]));
			return -EIO;
		}
	}
	return 0;
}

int vs_live__run_pcap(struct vs_live *l)
{
	struct pollfd pfd[VS_XDP_MAX_IF];
	int err;

	for (int i = 0; i < l->n_if; i++)
		pfd[i] = (struct pollfd){ .fd = pcap_get_selectable_fd(l->pcap[i]),
					  .events = POLLIN };
	while (!*l->o.stop) {
		if (poll(pfd, (nfds_t)l->n_if, PCAP_TIMEOUT_MS) < 0 &&
		    errno != EINTR)
			return -errno;
		err = dispatch_all(l);
		if (err)
			return err;
		vs_live__maybe_idle(l);
	}
	err = dispatch_all(l);
	vs_live__pcap_stats(l);
	return err;
}

void vs_live__pcap_stats(struct vs_live *l)
{
	struct pcap_stat ps;

	l->st.pcap_drops = l->st.pcap_ifdrops = 0;
	for (int i = 0; i < l->n_if; i++) {
		if (l->pcap[i] && !pcap_stats(l->pcap[i], &ps)) {
			l->st.pcap_drops += ps.ps_drop;
			l->st.pcap_ifdrops += ps.ps_ifdrop;
		}
	}
}

void vs_live__close_pcap(struct vs_live *l)
{
	for (int i = 0; i < l->n_if; i++) {
		if (l->pcap[i])
			pcap_close(l->pcap[i]);
		l->pcap[i] = NULL;
	}
}
