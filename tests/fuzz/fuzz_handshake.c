// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target for the channel handshake after TLS: the input is what
 * the peer sends once TLS is up. Byte 0 picks our role (even: server, odd:
 * sensor). The bytes go through the handshake decoder (4 KiB frame limit)
 * into the handshake state machine; whatever we answer must itself decode
 * as well-formed frames, and a failure must come with a reason. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel/chan_int.h"
#include "core/log.h"

static struct vs_chan_ctx *srv, *sen;

static uint64_t fixed_clock(void *arg)
{
	(void)arg;
	return 1700000000000000ull;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char dir[] = "/tmp/fuzz_handshake_XXXXXX";
	struct vs_chan_opts o = { .password = "pw", .name = "fuzz",
				  .version = "1", .clock_us = fixed_clock,
				  .id_sensor = 2 };

	(void)argc;
	(void)argv;
	vs_log_set_level(VS_LOG_ERR);
	if (!mkdtemp(dir))
		abort();
	o.role = VS_CHAN_SERVER;
	o.tls_dir = dir;
	srv = vs_chan_ctx__new(&o);
	o.role = VS_CHAN_SENSOR;
	o.tls_dir = NULL;
	sen = vs_chan_ctx__new(&o);
	if (!srv || !sen)
		abort();
	return 0;
}

/* Everything we send must be frames our own decoder accepts. */
static void check_output(const struct vs_buf *out)
{
	struct vs_chan_dec d;
	struct vs_chan_frame f;
	const uint8_t *p = out->p;
	size_t n = out->len;
	int r;

	vs_chan_dec__init(&d, VS_CHAN_HS_MAX_FRAME);
	while ((r = vs_chan_dec__next(&d, &p, &n, &f)) == 0)
		;
	if (r != -EAGAIN || d.hdr_have)
		abort();
	vs_chan_dec__fini(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t exporter[32] = { 7 };
	struct vs_chan_hs hs;
	struct vs_chan_dec d;
	struct vs_chan_frame f;
	struct vs_buf out = { 0 };
	const uint8_t *p;
	size_t n;
	int r = -EAGAIN;

	if (!size)
		return 0;
	vs_chan_hs__init(&hs, data[0] & 1 ? sen : srv, exporter);
	vs_chan_dec__init(&d, VS_CHAN_HS_MAX_FRAME);
	if (data[0] & 1)
		r = vs_chan_hs__start(&hs, &out);
	p = data + 1;
	n = size - 1;
	while (r == -EAGAIN && vs_chan_dec__next(&d, &p, &n, &f) == 0)
		r = vs_chan_hs__input(&hs, &f, &out);
	if (r != -EAGAIN && r != 0 && !hs.err[0])
		abort();
	if (r == 0 && hs.state != HS_DONE)
		abort();
	check_output(&out);
	vs_buf__free(&out);
	vs_chan_dec__fini(&d);
	return 0;
}
