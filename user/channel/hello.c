// SPDX-License-Identifier: GPL-2.0-or-later
/* HELLO (sensor) and AUTH_CHALLENGE (server) payloads: small JSON objects,
 * so that later versions can add fields that older peers ignore. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "channel/chan_int.h"

static const char *const mode_names[] = { "local", "mirror", "relay" };

static int put_json(struct vs_buf *b, cJSON *o)
{
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;
	int err;

	cJSON_Delete(o);
	if (!s)
		return -ENOMEM;
	err = vs_buf__put(b, s, strlen(s), 0);
	cJSON_free(s);
	return err;
}

int chan_hello_put(struct vs_buf *b, const struct chan_hello *h, bool sensor)
{
	char nonce[2 * CHAN_NONCE_LEN + 1];
	cJSON *o = cJSON_CreateObject();

	chan_hex(h->nonce, CHAN_NONCE_LEN, nonce);
	cJSON_AddNumberToObject(o, "proto", h->proto);
	if (sensor) {
		cJSON_AddNumberToObject(o, "id_sensor", h->id_sensor);
		cJSON_AddStringToObject(o, "mode", mode_names[h->mode % 3]);
	}
	cJSON_AddStringToObject(o, "name", h->name);
	cJSON_AddStringToObject(o, "version", h->version);
	cJSON_AddStringToObject(o, "compress",
				vs_chan_compress__name(h->compress));
	cJSON_AddNumberToObject(o, "clock_us", (double)h->clock_us);
	cJSON_AddStringToObject(o, "nonce", nonce);
	return put_json(b, o);
}

/* A printable string of at most size - 1 bytes. */
static int get_str(const cJSON *o, const char *key, char *out, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	size_t n, i;

	if (!cJSON_IsString(v) || !v->valuestring)
		return -EBADMSG;
	n = strlen(v->valuestring);
	if (n >= size)
		return -EBADMSG;
	for (i = 0; i < n; i++)
		if ((unsigned char)v->valuestring[i] < 0x20 ||
		    (unsigned char)v->valuestring[i] == 0x7f)
			return -EBADMSG;
	memcpy(out, v->valuestring, n + 1);
	return 0;
}

/* An integer in [lo, hi] that a double holds exactly. */
static int get_uint(const cJSON *o, const char *key, double lo, double hi,
		    uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	double d;

	if (!cJSON_IsNumber(v))
		return -EBADMSG;
	d = v->valuedouble;
	if (!(d >= lo && d <= hi) || d != floor(d))
		return -EBADMSG;
	*out = (uint64_t)d;
	return 0;
}

static int get_mode(const cJSON *o, enum vs_chan_mode *m)
{
	char s[16];
	int i;

	if (get_str(o, "mode", s, sizeof(s)))
		return -EBADMSG;
	for (i = 0; i < 3; i++)
		if (!strcmp(s, mode_names[i])) {
			*m = (enum vs_chan_mode)i;
			return 0;
		}
	return -EBADMSG;
}

static int hello_fields(const cJSON *o, struct chan_hello *h, bool sensor)
{
	char comp[8], nonce[2 * CHAN_NONCE_LEN + 1];
	uint64_t v;

	if (get_uint(o, "proto", 0, 65535, &v))
		return -EBADMSG;
	h->proto = (uint32_t)v;
	if (sensor) {
		if (get_uint(o, "id_sensor", 1, 65535, &v) || get_mode(o, &h->mode))
			return -EBADMSG;
		h->id_sensor = (uint16_t)v;
	}
	if (get_str(o, "name", h->name, sizeof(h->name)) ||
	    get_str(o, "version", h->version, sizeof(h->version)) ||
	    get_str(o, "compress", comp, sizeof(comp)) ||
	    vs_chan_compress__parse(comp, &h->compress) ||
	    get_uint(o, "clock_us", 0, 9007199254740992.0, &h->clock_us) ||
	    get_str(o, "nonce", nonce, sizeof(nonce)) ||
	    chan_unhex(nonce, h->nonce, CHAN_NONCE_LEN))
		return -EBADMSG;
	return 0;
}

int chan_hello_parse(const uint8_t *p, size_t n, struct chan_hello *h,
		     bool sensor)
{
	cJSON *o;
	int err;

	memset(h, 0, sizeof(*h));
	if (n > VS_CHAN_HS_MAX_FRAME)
		return -EBADMSG;
	o = cJSON_ParseWithLength((const char *)p, n);
	if (!o)
		return -EBADMSG;
	err = cJSON_IsObject(o) ? hello_fields(o, h, sensor) : -EBADMSG;
	cJSON_Delete(o);
	return err;
}
