// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target for channel/wire: the input is a byte stream from a
 * peer. Byte 0 picks the compression the decoder accepts and byte 1 the
 * chunk size it arrives in; every frame decoded is then handed to the
 * payload parser of its type. Frames must stay within the maximum, and
 * every view a parser returns must lie inside the frame. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "channel/wire.h"

#define FUZZ_MAX_FRAME (256u << 10)

static void inside(const void *v, size_t n, const struct vs_chan_frame *f)
{
	const uint8_t *p = v;

	if (n && (p < f->data || p + n > f->data + f->len))
		abort();
}

static void parse_payload(const struct vs_chan_frame *f)
{
	char text[VS_CHAN_ERR_TEXT_MAX + 1];
	struct vs_chan_pcap_data pd;
	struct vs_chan_pcap_req pr;
	struct vs_chan_pkt_iter it;
	struct vs_chan_ping pg;
	struct vs_chan_cdr cdr;
	struct vs_chan_ack ack;
	struct vs_chan_sensor_info si;
	struct vs_frame fr;
	uint16_t code, ifx;

	switch (f->type) {
	case VS_CHAN_ERROR:
		vs_chan_error__parse(f->data, f->len, &code, text, sizeof(text));
		break;
	case VS_CHAN_CDR:
		if (!vs_chan_cdr__parse(f->data, f->len, &cdr))
			inside(cdr.body, cdr.len, f);
		break;
	case VS_CHAN_CDR_ACK:
		vs_chan_ack__parse(f->data, f->len, &ack);
		break;
	case VS_CHAN_PACKETS:
		if (vs_chan_packets__iter(&it, f->data, f->len))
			break;
		while (vs_chan_packets__next(&it, &fr, &ifx) == 1) {
			inside(fr.data, fr.caplen, f);
			if (fr.caplen > fr.origlen)
				abort();
		}
		break;
	case VS_CHAN_PING:
	case VS_CHAN_PONG:
		vs_chan_ping__parse(f->data, f->len, &pg);
		break;
	case VS_CHAN_PCAP_REQUEST:
		if (!vs_chan_pcap_req__parse(f->data, f->len, &pr))
			inside(pr.call_id, pr.call_id_len, f);
		break;
	case VS_CHAN_PCAP_DATA:
		if (!vs_chan_pcap_data__parse(f->data, f->len, &pd))
			inside(pd.data, pd.len, f);
		break;
	case VS_CHAN_SENSOR_INFO:
		if (!vs_chan_sensor_info__parse(f->data, f->len, &si) &&
		    (strlen(si.name) >= sizeof(si.name) ||
		     strlen(si.addr) >= sizeof(si.addr)))
			abort();
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vs_chan_dec d;
	struct vs_chan_frame f;
	size_t chunk, off = 2;
	int r = -EAGAIN;

	if (size < 2)
		return 0;
	vs_chan_dec__init(&d, FUZZ_MAX_FRAME);
	vs_chan_dec__allow(&d, data[0] & VS_CHAN_F_COMP);
	chunk = data[1] ? data[1] : size;
	while (off < size && (r == -EAGAIN || r == 0)) {
		const uint8_t *p = data + off;
		size_t n = size - off < chunk ? size - off : chunk;

		off += n;
		while ((r = vs_chan_dec__next(&d, &p, &n, &f)) == 0) {
			if (f.len > FUZZ_MAX_FRAME || !f.type ||
			    f.type > VS_CHAN_TYPE_MAX)
				abort();
			parse_payload(&f);
		}
		if (r != -EAGAIN && !d.why)
			abort();
	}
	if (d.in.cap > 2 * FUZZ_MAX_FRAME || d.out.cap > 2 * FUZZ_MAX_FRAME + 2)
		abort();
	vs_chan_dec__fini(&d);
	return 0;
}
