// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target for user/sip: the input is parsed as one SIP datagram
 * (and its body as SDP), and as a TCP stream cut into messages by
 * vs_sip__message_len. Every view the parser returns must lie inside the
 * input; every frame length must fit in what remains. */
#include <stdint.h>
#include <stdlib.h>

#include "sip/sdp.h"
#include "sip/sip.h"

static void check_view(struct vs_str s, const uint8_t *buf, size_t len)
{
	const char *b = (const char *)buf;

	if (s.p && (s.p < b || s.p + s.len > b + len))
		abort();
}

static void check_msg(const struct vs_sip_msg *m, const uint8_t *buf,
		      size_t len)
{
	const struct vs_str v[] = {
		m->method_str, m->ruri, m->status_text, m->call_id,
		m->from.display, m->from.uri, m->from.user, m->from.host,
		m->from.tag, m->to.display, m->to.uri, m->to.user,
		m->to.host, m->to.tag, m->via_branch, m->via_host,
		m->contact, m->user_agent, m->reason, m->content_type,
		m->body,
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		check_view(v[i], buf, len);
	if (!m->call_id.len)
		abort();
}

static void check_sdp(const struct vs_sdp *d)
{
	const char *name;
	uint32_t clock;
	uint8_t i, j;

	if (d->n_media > VS_SDP_MAX_MEDIA)
		abort();
	for (i = 0; i < d->n_media; i++) {
		const struct vs_sdp_media *m = &d->media[i];

		if (m->n_fmt > VS_SDP_MAX_FMT || m->n_rtpmap > VS_SDP_MAX_FMT)
			abort();
		for (j = 0; j < m->n_fmt; j++)
			if (vs_sdp_media__codec(m, m->fmt[j], &name, &clock) == 0 &&
			    !name[0] && !clock)
				abort(); /* touches the returned name */
	}
}

static void datagram(const uint8_t *data, size_t size)
{
	struct vs_sip_stats st = { 0 };
	struct vs_sip_msg m;
	struct vs_sdp d;

	if (vs_sip__parse(data, size, &m, &st) != 0)
		return;
	check_msg(&m, data, size);
	if (m.body.len && vs_sdp__parse(m.body.p, m.body.len, &d, &st) == 0)
		check_sdp(&d);
}

static void stream(const uint8_t *data, size_t size)
{
	struct vs_sip_stats st = { 0 };
	struct vs_sip_msg m;
	ssize_t n;

	while (size) {
		n = vs_sip__message_len(data, size);
		if (n <= 0)
			break;
		if ((size_t)n > size)
			abort();
		if (!vs_sip__is_keepalive(data, (size_t)n) &&
		    vs_sip__parse(data, (size_t)n, &m, &st) == 0)
			check_msg(&m, data, (size_t)n);
		data += n;
		size -= (size_t)n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vs_sdp d;

	datagram(data, size);
	stream(data, size);
	if (vs_sdp__parse((const char *)data, size, &d, NULL) == 0)
		check_sdp(&d);
	return 0;
}
