// SPDX-License-Identifier: GPL-2.0-or-later
/* Binary payloads of the channel's frames (layouts in wire.h and
 * docs/channel.md). Parsers check every length against the payload; the
 * views they return point into it. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "channel/be.h"
#include "channel/wire.h"

const char *vs_chan_type__name(unsigned type)
{
	static const char *const names[] = {
		[VS_CHAN_HELLO] = "HELLO",
		[VS_CHAN_AUTH_CHALLENGE] = "AUTH_CHALLENGE",
		[VS_CHAN_AUTH_RESPONSE] = "AUTH_RESPONSE",
		[VS_CHAN_AUTH_OK] = "AUTH_OK",
		[VS_CHAN_ERROR] = "ERROR",
		[VS_CHAN_CDR] = "CDR",
		[VS_CHAN_CDR_ACK] = "CDR_ACK",
		[VS_CHAN_PACKETS] = "PACKETS",
		[VS_CHAN_PING] = "PING",
		[VS_CHAN_PONG] = "PONG",
		[VS_CHAN_PCAP_REQUEST] = "PCAP_REQUEST",
		[VS_CHAN_PCAP_DATA] = "PCAP_DATA",
		[VS_CHAN_PACKETS_ACK] = "PACKETS_ACK",
		[VS_CHAN_SENSOR_INFO] = "SENSOR_INFO",
	};

	if (type && type <= VS_CHAN_TYPE_MAX)
		return names[type];
	return "unknown";
}

const char *vs_chan_compress__name(enum vs_chan_compress c)
{
	switch (c) {
	case VS_CHAN_COMP_ZSTD:
		return "zstd";
	case VS_CHAN_COMP_GZIP:
		return "gzip";
	case VS_CHAN_COMP_LZO:
		return "lzo";
	default:
		return "none";
	}
}

int vs_chan_compress__parse(const char *s, enum vs_chan_compress *c)
{
	if (!strcasecmp(s, "zstd"))
		*c = VS_CHAN_COMP_ZSTD;
	else if (!strcasecmp(s, "gzip") || !strcasecmp(s, "zlib"))
		*c = VS_CHAN_COMP_GZIP;
	else if (!strcasecmp(s, "lzo"))
		*c = VS_CHAN_COMP_LZO;
	else if (!strcasecmp(s, "none") || !strcasecmp(s, "no"))
		*c = VS_CHAN_COMP_NONE;
	else
		return -EINVAL;
	return 0;
}

/* --- ERROR ---------------------------------------------------------------*/

int vs_chan_error__put(struct vs_buf *b, uint16_t code, const char *text)
{
	size_t n = strnlen(text, VS_CHAN_ERR_TEXT_MAX);
	int err = vs_buf__reserve(b, 2 + n, 0);

	if (err)
		return err;
	vs_be16_put(b->p + b->len, code);
	memcpy(b->p + b->len + 2, text, n);
	b->len += 2 + n;
	return 0;
}

int vs_chan_error__parse(const uint8_t *p, size_t n, uint16_t *code,
			 char *text, size_t tsize)
{
	size_t i, len;

	if (n < 2 || n > 2 + VS_CHAN_ERR_TEXT_MAX || !tsize)
		return -EBADMSG;
	*code = vs_be16(p);
	len = n - 2 < tsize - 1 ? n - 2 : tsize - 1;
	for (i = 0; i < len; i++) {
		uint8_t c = p[2 + i];

		text[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	text[len] = '\0';
	return 0;
}

int vs_chan_error__errno(uint16_t code)
{
	switch (code) {
	case VS_CHAN_E_BAD_PASSWORD:
		return -EACCES;
	case VS_CHAN_E_CLOCK_SKEW:
		return -ERANGE;
	case VS_CHAN_E_PROTO_VERSION:
		return -EPROTONOSUPPORT;
	case VS_CHAN_E_BACKOFF:
		return -EBUSY;
	case VS_CHAN_E_REFUSED:
		return -ECONNREFUSED;
	case VS_CHAN_E_MALFORMED:
		return -EPROTO;
	default:
		return -ECONNABORTED;
	}
}

/* --- CDR, CDR_ACK ----------------------------------------------------------*/

int vs_chan_cdr__put(struct vs_buf *b, const struct vs_chan_cdr *c)
{
	int err = vs_buf__reserve(b, 10 + (size_t)c->len, 0);

	if (err)
		return err;
	vs_be16_put(b->p + b->len, c->id_sensor);
	vs_be64_put(b->p + b->len + 2, c->seq);
	if (c->len)
		memcpy(b->p + b->len + 10, c->body, c->len);
	b->len += 10 + (size_t)c->len;
	return 0;
}

int vs_chan_cdr__parse(const uint8_t *p, size_t n, struct vs_chan_cdr *c)
{
	if (n < 10)
		return -EBADMSG;
	c->id_sensor = vs_be16(p);
	c->seq = vs_be64(p + 2);
	c->body = p + 10;
	c->len = n - 10;
	return 0;
}

int vs_chan_ack__put(struct vs_buf *b, const struct vs_chan_ack *a)
{
	int err = vs_buf__reserve(b, 14, 0);

	if (err)
		return err;
	vs_be16_put(b->p + b->len, a->id_sensor);
	vs_be64_put(b->p + b->len + 2, a->first_seq);
	vs_be32_put(b->p + b->len + 10, a->count);
	b->len += 14;
	return 0;
}

int vs_chan_ack__parse(const uint8_t *p, size_t n, struct vs_chan_ack *a)
{
	if (n != 14)
		return -EBADMSG;
	a->id_sensor = vs_be16(p);
	a->first_seq = vs_be64(p + 2);
	a->count = vs_be32(p + 10);
	return 0;
}

/* --- SENSOR_INFO -----------------------------------------------------------*/

static void put_str8(struct vs_buf *b, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	b->p[b->len++] = (uint8_t)n;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

int vs_chan_sensor_info__put(struct vs_buf *b,
			     const struct vs_chan_sensor_info *si)
{
	int err = vs_buf__reserve(b, 12 + 3 + sizeof(si->name) +
				  sizeof(si->version) + sizeof(si->addr), 0);

	if (err)
		return err;
	vs_be16_put(b->p + b->len, si->id_sensor);
	b->p[b->len + 2] = si->up ? 1 : 0;
	b->p[b->len + 3] = si->mode;
	vs_be64_put(b->p + b->len + 4, si->since_us);
	b->len += 12;
	put_str8(b, si->name, sizeof(si->name) - 1);
	put_str8(b, si->version, sizeof(si->version) - 1);
	put_str8(b, si->addr, sizeof(si->addr) - 1);
	return 0;
}

/* A u8-length string at p[*off]: copied into dst (size > 0), truncated to
 * fit, non-printables as '?'. */
static int get_str8(const uint8_t *p, size_t n, size_t *off, char *dst,
		    size_t size)
{
	size_t len, i;

	if (*off >= n || n - *off - 1 < p[*off])
		return -EBADMSG;
	len = p[(*off)++];
	for (i = 0; i < len && i < size - 1; i++) {
		uint8_t c = p[*off + i];

		dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[i] = '\0';
	*off += len;
	return 0;
}

int vs_chan_sensor_info__parse(const uint8_t *p, size_t n,
			       struct vs_chan_sensor_info *si)
{
	size_t off = 12;

	if (n < 12 || p[2] > 1)
		return -EBADMSG;
	si->id_sensor = vs_be16(p);
	si->up = p[2];
	si->mode = p[3];
	si->since_us = vs_be64(p + 4);
	if (get_str8(p, n, &off, si->name, sizeof(si->name)) ||
	    get_str8(p, n, &off, si->version, sizeof(si->version)) ||
	    get_str8(p, n, &off, si->addr, sizeof(si->addr)) || off != n ||
	    !si->id_sensor)
		return -EBADMSG;
	return 0;
}

/* --- PING, PONG ----------------------------------------------------------*/

int vs_chan_ping__put(struct vs_buf *b, const struct vs_chan_ping *pg)
{
	int err = vs_buf__reserve(b, 16, 0);

	if (err)
		return err;
	vs_be64_put(b->p + b->len, pg->token);
	vs_be64_put(b->p + b->len + 8, pg->clock_us);
	b->len += 16;
	return 0;
}

int vs_chan_ping__parse(const uint8_t *p, size_t n, struct vs_chan_ping *pg)
{
	if (n != 16)
		return -EBADMSG;
	pg->token = vs_be64(p);
	pg->clock_us = vs_be64(p + 8);
	return 0;
}

/* --- PCAP_REQUEST, PCAP_DATA ------------------------------------------------*/

int vs_chan_pcap_req__put(struct vs_buf *b, const struct vs_chan_pcap_req *r)
{
	int err;

	if (r->call_id_len > VS_CHAN_CALLID_MAX)
		return -EINVAL;
	err = vs_buf__reserve(b, 16 + (size_t)r->call_id_len, 0);
	if (err)
		return err;
	vs_be32_put(b->p + b->len, r->req_id);
	vs_be16_put(b->p + b->len + 4, r->id_sensor);
	vs_be64_put(b->p + b->len + 6, r->calldate_us);
	vs_be16_put(b->p + b->len + 14, r->call_id_len);
	memcpy(b->p + b->len + 16, r->call_id, r->call_id_len);
	b->len += 16 + (size_t)r->call_id_len;
	return 0;
}

int vs_chan_pcap_req__parse(const uint8_t *p, size_t n,
			    struct vs_chan_pcap_req *r)
{
	if (n < 16)
		return -EBADMSG;
	r->req_id = vs_be32(p);
	r->id_sensor = vs_be16(p + 4);
	r->calldate_us = vs_be64(p + 6);
	r->call_id_len = vs_be16(p + 14);
	r->call_id = (const char *)p + 16;
	if (!r->call_id_len || r->call_id_len > VS_CHAN_CALLID_MAX ||
	    n != 16 + (size_t)r->call_id_len)
		return -EBADMSG;
	return 0;
}

int vs_chan_pcap_data__put(struct vs_buf *b, const struct vs_chan_pcap_data *d)
{
	int err = vs_buf__reserve(b, 5 + (size_t)d->len, 0);

	if (err)
		return err;
	vs_be32_put(b->p + b->len, d->req_id);
	b->p[b->len + 4] = d->flags;
	if (d->len)
		memcpy(b->p + b->len + 5, d->data, d->len);
	b->len += 5 + (size_t)d->len;
	return 0;
}

int vs_chan_pcap_data__parse(const uint8_t *p, size_t n,
			     struct vs_chan_pcap_data *d)
{
	if (n < 5)
		return -EBADMSG;
	d->req_id = vs_be32(p);
	d->flags = p[4];
	d->data = p + 5;
	d->len = n - 5;
	if (d->flags & ~(VS_CHAN_PCAP_F_LAST | VS_CHAN_PCAP_F_ERROR))
		return -EBADMSG;
	return 0;
}
