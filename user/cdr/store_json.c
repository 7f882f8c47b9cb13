// SPDX-License-Identifier: GPL-2.0-or-later
/* JSON lines store: one compact object per CDR and line, for jq and for
 * log shippers. Stdio buffers the lines; flush hands them to the kernel. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdr/store.h"
#include "core/log.h"

struct json_store {
	struct vs_cdr_store base;	/* first: the ops get a pointer to it */
	FILE *f;
	int own;			/* 0 for stdout: never closed */
};

static int json_insert(struct vs_cdr_store *s, const struct vs_cdr *c)
{
	struct json_store *js = (struct json_store *)s;
	cJSON *o = vs_cdr__to_json(c);
	char *text;
	int err = 0;

	if (!o)
		return -ENOMEM;
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!text)
		return -ENOMEM;
	errno = 0;
	if (fputs(text, js->f) == EOF || putc('\n', js->f) == EOF)
		err = errno ? -errno : -EIO;
	cJSON_free(text);
	return err;
}

static int json_flush(struct vs_cdr_store *s)
{
	struct json_store *js = (struct json_store *)s;

	if (fflush(js->f))
		return -errno;
	return 0;
}

static void json_close(struct vs_cdr_store *s)
{
	struct json_store *js = (struct json_store *)s;
	int err;

	err = js->own ? fclose(js->f) : fflush(js->f);
	if (err)
		vs_err("cdr json: closing: %s", strerror(errno));
	free(js);
}

static const struct vs_cdr_store_ops json_ops = {
	.name = "json",
	.insert = json_insert,
	.flush = json_flush,
	.close = json_close,
};

struct vs_cdr_store *vs_cdr_store__json(const char *path)
{
	struct json_store *js = calloc(1, sizeof(*js));
	int err;

	if (!js)
		return NULL;
	js->base.ops = &json_ops;
	if (!strcmp(path, "-")) {
		js->f = stdout;
		return &js->base;
	}
	js->f = fopen(path, "ae");
	if (!js->f) {
		err = errno;
		free(js);
		errno = err;
		return NULL;
	}
	js->own = 1;
	return &js->base;
}
