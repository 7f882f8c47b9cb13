// SPDX-License-Identifier: GPL-2.0-or-later
/* PACKETS: a batch of captured frames for packet mirroring. Built in place
 * in a reused buffer and read back without copying: the per-packet path
 * allocates nothing once the buffers have grown. */
#include <errno.h>
#include <string.h>

#include "channel/be.h"
#include "channel/wire.h"

int vs_chan_packets__begin(struct vs_buf *b, uint16_t id_sensor, uint64_t seq)
{
	int err;

	b->len = 0;
	err = vs_buf__reserve(b, VS_CHAN_PKT_HDR, 0);
	if (err)
		return err;
	vs_be16_put(b->p, id_sensor);
	vs_be16_put(b->p + 2, 0);
	vs_be32_put(b->p + 4, 0);
	vs_be64_put(b->p + 8, seq);
	vs_be64_put(b->p + 16, 0);
	b->len = VS_CHAN_PKT_HDR;
	return 0;
}

void vs_chan_packets__close(struct vs_buf *b, uint64_t watermark_us)
{
	if (b->len >= VS_CHAN_PKT_HDR)
		vs_be64_put(b->p + 16, watermark_us);
}

int vs_chan_packets__add(struct vs_buf *b, const struct vs_frame *f,
			 uint16_t ifindex, size_t limit)
{
	uint8_t *r;
	int err;

	if (b->len < VS_CHAN_PKT_HDR || f->caplen > f->origlen)
		return -EINVAL;
	err = vs_buf__reserve(b, VS_CHAN_PKT_REC + (size_t)f->caplen, limit);
	if (err)
		return err;
	r = b->p + b->len;
	vs_be64_put(r, f->ts_us);
	vs_be32_put(r + 8, f->caplen);
	vs_be32_put(r + 12, f->origlen);
	vs_be16_put(r + 16, f->linktype);
	vs_be16_put(r + 18, ifindex);
	memcpy(r + VS_CHAN_PKT_REC, f->data, f->caplen);
	b->len += VS_CHAN_PKT_REC + (size_t)f->caplen;
	vs_be32_put(b->p + 4, vs_be32(b->p + 4) + 1);
	return 0;
}

uint32_t vs_chan_packets__count(const struct vs_buf *b)
{
	return b->len >= VS_CHAN_PKT_HDR ? vs_be32(b->p + 4) : 0;
}

int vs_chan_packets__iter(struct vs_chan_pkt_iter *it, const uint8_t *p,
			  size_t n)
{
	if (n < VS_CHAN_PKT_HDR)
		return -EBADMSG;
	it->id_sensor = vs_be16(p);
	it->left = vs_be32(p + 4);
	it->seq = vs_be64(p + 8);
	it->watermark_us = vs_be64(p + 16);
	it->p = p + VS_CHAN_PKT_HDR;
	it->n = n - VS_CHAN_PKT_HDR;
	return 0;
}

int vs_chan_packets__next(struct vs_chan_pkt_iter *it, struct vs_frame *f,
			  uint16_t *ifindex)
{
	uint32_t caplen;

	if (!it->left)
		return it->n ? -EBADMSG : 0;
	if (it->n < VS_CHAN_PKT_REC)
		return -EBADMSG;
	caplen = vs_be32(it->p + 8);
	if (caplen > it->n - VS_CHAN_PKT_REC)
		return -EBADMSG;
	f->ts_us = vs_be64(it->p);
	f->caplen = caplen;
	f->origlen = vs_be32(it->p + 12);
	f->linktype = vs_be16(it->p + 16);
	*ifindex = vs_be16(it->p + 18);
	f->id_sensor = it->id_sensor;
	f->data = it->p + VS_CHAN_PKT_REC;
	if (f->caplen > f->origlen)
		return -EBADMSG;
	it->p += VS_CHAN_PKT_REC + (size_t)caplen;
	it->n -= VS_CHAN_PKT_REC + (size_t)caplen;
	it->left--;
	return 1;
}
