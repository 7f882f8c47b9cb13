// SPDX-License-Identifier: GPL-2.0-or-later
/* capture/frame_filter: `filter`, compiled per link type, on frames. */
#include "capture/frame_filter.h"
#include "core/log.h"

void vs_frame_filter__init(struct vs_frame_filter *ff, const char *expr)
{
	ff->expr = expr;
	for (int i = 0; i < VS_FRAME_FILTER_TYPES; i++)
		ff->slot[i].linktype = -1;
}

/* The slot of f's link type, compiled on first use; NULL when all are
 * taken by other link types. */
static struct bpf_program *program(struct vs_frame_filter *ff, int linktype)
{
	pcap_t *dead;
	int i;

	for (i = 0; i < VS_FRAME_FILTER_TYPES; i++)
		if (ff->slot[i].linktype == linktype)
			return ff->slot[i].ok ? &ff->slot[i].prog : NULL;
	for (i = 0; i < VS_FRAME_FILTER_TYPES; i++)
		if (ff->slot[i].linktype < 0)
			break;
	if (i == VS_FRAME_FILTER_TYPES)
		return NULL;
	ff->slot[i].linktype = linktype;
	dead = pcap_open_dead(linktype, 262144);
	ff->slot[i].ok = dead && pcap_compile(dead, &ff->slot[i].prog, ff->expr,
					      1, PCAP_NETMASK_UNKNOWN) == 0;
	if (!ff->slot[i].ok)
		vs_warn("filter '%s' does not compile for link type %d: %s; "
			"not applied", ff->expr, linktype,
			dead ? pcap_geterr(dead) : "no memory");
	if (dead)
		pcap_close(dead);
	return ff->slot[i].ok ? &ff->slot[i].prog : NULL;
}

int vs_frame_filter__pass(struct vs_frame_filter *ff, const struct vs_frame *f)
{
	struct bpf_program *prog;
	struct pcap_pkthdr h;

	if (!ff->expr)
		return 1;
	prog = program(ff, f->linktype);
	if (!prog)
		return 1;
	h.caplen = f->caplen;
	h.len = f->origlen;
	h.ts.tv_sec = (time_t)(f->ts_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(f->ts_us % 1000000);
	return pcap_offline_filter(prog, &h, f->data) != 0;
}

void vs_frame_filter__free(struct vs_frame_filter *ff)
{
	for (int i = 0; i < VS_FRAME_FILTER_TYPES; i++) {
		if (ff->slot[i].linktype >= 0 && ff->slot[i].ok)
			pcap_freecode(&ff->slot[i].prog);
		ff->slot[i].linktype = -1;
	}
}
