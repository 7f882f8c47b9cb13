// SPDX-License-Identifier: GPL-2.0-or-later
/* role/legacy_mirror_send: the legacy mirror sender's capture side. Frames
 * come from live capture (or -r files) and pass `filter` before they are
 * queued for legacy_mirror_conn.c; nothing is analysed or stored.
 *
 * With kernel capture (capture_mode copy or afxdp) the XDP program passes
 * RTP only for the endpoints SDP announced, so someone must read SDP: the
 * frames also run through a track-only pipeline (vs_pipeline__set_track_
 * only: SIP parsed, calls tracked, RTP only keeps calls alive, no store,
 * no pcap), the same as the packet-mirroring sensor's. With -r and
 * capture_mode = pcap the kernel filter needs no SDP and only `filter`
 * runs here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "capture/frame_filter.h"
#include "capture/live.h"
#include "capture/pcap_file.h"
#include "core/log.h"
#include "daemon/pipeline.h"
#include "role/legacy_mirror.h"
#include "role/legacy_mirror_int.h"

struct lm_src {
	const struct vs_conf *conf;
	struct vs_lm_send *tx;
	struct vs_pipeline *track;	/* kernel capture only */
	struct vs_frame_filter filter;	/* without track */
	uint64_t filtered;
};

static int src_frame(void *ctx, const struct vs_frame *f)
{
	struct lm_src *s = ctx;

	/* the track-only pipeline applies filter and interface_ip_filter */
	if (s->track) {
		vs_pipeline__frame(s->track, f);
		if (s->track->frame_refused)
			return 0;
	} else if (!vs_frame_filter__pass(&s->filter, f)) {
		s->filtered++;
		return 0;
	}
	return vs_lm_send__frame(s->tx, f);
}

/* Live: about every 100 ms. Queues what the batch holds, so that a quiet
 * line still reaches the receiver within 0.1 s. */
static void src_idle(void *ctx, uint64_t now_us)
{
	struct lm_src *s = ctx;

	if (s->track)
		vs_pipeline__idle(s->track, now_us);
	vs_lm_send__push(s->tx);
}

static int track_open(struct lm_src *s)
{
	int err;

	s->track = malloc(sizeof(*s->track));
	if (!s->track)
		return -ENOMEM;
	err = vs_pipeline__init(s->track, s->conf);
	if (err) {
		free(s->track);
		s->track = NULL;
		return err;
	}
	vs_pipeline__set_track_only(s->track);
	return 0;
}

static void src_free(struct lm_src *s)
{
	if (s->track)
		vs_pipeline__free(s->track);
	free(s->track);
	vs_frame_filter__free(&s->filter);
}

static int run_live(struct lm_src *s, volatile sig_atomic_t *stop, int stats)
{
	struct vs_live_opts lo = { .conf = s->conf, .fn = src_frame, .ctx = s,
				   .idle = src_idle, .stop = stop };
	struct vs_live *l;
	int err;

	if (s->conf->capture_mode != VS_CAPTURE_PCAP) {
		err = track_open(s);
		if (err)
			return err;
		vs_info("legacy mirror: kernel capture follows SDP: SIP is "
			"also parsed here (calls tracked; no CDRs, no pcaps)");
	}
	l = vs_live__open(&lo);
	if (!l)
		return -errno;
	if (s->track)
		vs_call_table__set_media_fn(s->track->calls, vs_live__media, l);
	err = vs_live__run(l);
	if (s->track)
		vs_call_table__set_media_fn(s->track->calls, NULL, NULL);
	if (stats)
		vs_live__print_stats(l, stderr);
	vs_live__close(l);
	return err;
}

static int run_files(struct lm_src *s, const char *const *inputs, int n)
{
	struct vs_pcap_file_stats fst = { 0 };
	int err = 0;

	for (int i = 0; i < n && !err; i++)
		err = vs_pcap_file__read(inputs[i], s->conf->id_sensor,
					 src_frame, s, &fst);
	vs_info("legacy mirror: %llu frames read, %llu refused by filter",
		(unsigned long long)fst.frames,
		(unsigned long long)s->filtered);
	return err;
}

static void warn_plain(const struct vs_conf *c)
{
	vs_warn("legacy mirror: frames go to %s port %u UNENCRYPTED and "
		"UNAUTHENTICATED (anyone on the path can read and replay the "
		"calls); the encrypted replacement is packetbuffer_sender = "
		"yes with server_destination (docs/distributed.md)",
		c->pb.mirror_dest_ip, c->pb.mirror_dest_port);
}

int vs_lm_send__run(const struct vs_conf *c, const char *const *inputs,
		    int n_inputs, volatile sig_atomic_t *stop, int stats)
{
	struct lm_src s = { .conf = c };
	int err, cerr;

	vs_frame_filter__init(&s.filter, c->filter);
	warn_plain(c);
	s.tx = vs_lm_send__open(c);
	if (!s.tx)
		return -errno;
	err = n_inputs ? run_files(&s, inputs, n_inputs) :
			 run_live(&s, stop, stats);
	/* -r: the receiver may still be starting; wait for it a while */
	cerr = vs_lm_send__close(s.tx, n_inputs ? 30000 : 2000,
				 stats ? stderr : NULL);
	src_free(&s);
	return err ? err : cerr;
}
