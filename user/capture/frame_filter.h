/* SPDX-License-Identifier: GPL-2.0-or-later */
/* capture/frame_filter: the `filter` key (tcpdump syntax) applied to frames
 * in userspace. libpcap programs are link-type specific, so the expression
 * is compiled once per link type met, for a few link types. Used by the
 * pipeline and by the legacy mirror sender, which forwards without one. */
#ifndef VS_FRAME_FILTER_H
#define VS_FRAME_FILTER_H

#include <pcap/pcap.h>

#include "capture/frame.h"

#define VS_FRAME_FILTER_TYPES 4

struct vs_frame_filter {
	const char *expr; /* NULL: every frame passes */
	struct {
		int linktype; /* -1 = slot free */
		int ok;	      /* compiled */
		struct bpf_program prog;
	} slot[VS_FRAME_FILTER_TYPES];
};

/* expr is borrowed (the configuration's) and may be NULL. */
void vs_frame_filter__init(struct vs_frame_filter *ff, const char *expr);
/* 1 when f passes. An expression that does not compile for f's link type
 * is logged once and lets that link type pass, as does a fifth link type. */
int vs_frame_filter__pass(struct vs_frame_filter *ff, const struct vs_frame *f);
void vs_frame_filter__free(struct vs_frame_filter *ff);

#endif
