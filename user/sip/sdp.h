/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sip/sdp: the parts of an SDP body (RFC 4566) that locate and describe media:
 * connection addresses, media ports and formats, rtpmap, rtcp, direction. */
#ifndef VS_SDP_H
#define VS_SDP_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "sip/sip.h"

#define VS_SDP_MAX_MEDIA 8
#define VS_SDP_MAX_FMT 16

enum vs_sdp_dir {
	VS_SDP_SENDRECV = 0,
	VS_SDP_SENDONLY,
	VS_SDP_RECVONLY,
	VS_SDP_INACTIVE,
};

enum vs_sdp_media_type { VS_SDP_AUDIO = 0, VS_SDP_VIDEO, VS_SDP_OTHER };

struct vs_sdp_rtpmap {
	uint8_t pt;
	char name[16];	    /* encoding name as written, NUL-terminated */
	uint32_t clock;     /* clock rate, Hz */
};

struct vs_sdp_media {
	enum vs_sdp_media_type type;
	uint16_t port;           /* m= port; 0 = disabled stream */
	uint16_t rtcp_port;      /* a=rtcp: port, else port + 1 */
	struct vs_addr addr;     /* media c=, else session c= */
	int has_addr;            /* 0 when neither c= was present/valid */
	struct vs_addr rtcp_addr;/* a=rtcp: address when given, else addr */
	enum vs_sdp_dir dir;     /* media a=, else session a=, else sendrecv */
	uint16_t ptime;          /* a=ptime in ms, 0 if absent */
	uint8_t n_fmt;
	uint8_t fmt[VS_SDP_MAX_FMT];	/* payload types in m= order */
	uint8_t n_rtpmap;
	struct vs_sdp_rtpmap rtpmap[VS_SDP_MAX_FMT];
};

struct vs_sdp {
	uint8_t n_media;
	struct vs_sdp_media media[VS_SDP_MAX_MEDIA];
};

/* Parses body; 0 on success (possibly with zero media), -EINVAL when the body
 * is not SDP (no v= line first). Bad lines are skipped and counted. */
int vs_sdp__parse(const char *body, size_t len, struct vs_sdp *sdp,
		  struct vs_sip_stats *st);

/* Codec name and clock for a payload type in this media: rtpmap first, then
 * the RFC 3551 static table. Returns 0 and fills name/clock, or -ENOENT. */
int vs_sdp_media__codec(const struct vs_sdp_media *m, uint8_t pt,
			const char **name, uint32_t *clock);

/* RFC 3551 static payload types: name and clock, or NULL for dynamic/unknown. */
const char *vs_rtp_static_pt(uint8_t pt, uint32_t *clock);

#endif
