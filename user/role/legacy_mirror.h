/* SPDX-License-Identifier: GPL-2.0-or-later */
/* role/legacy_mirror: the legacy mirror mode of old VoIPmonitor setups
 * (mirror_destination_ip on the sender, mirror_bind_port on the receiver),
 * kept for migration. Plain TCP: no encryption, no authentication; both
 * ends say so in the log. The wire format (docs/distributed.md, "Legacy
 * mirror mode"):
 *
 *   hello, once per connection, not compressed (12 bytes):
 *     "VXLM"  u8 version (1)  u8 compression (0 none, 1 zstd)
 *     u16 id_sensor (0: not set)  u32 reserved (0)
 *   then, through the compression (a zstd stream, flushed per batch),
 *   records until the connection ends:
 *     u64 ts_us  u32 caplen  u32 origlen  u16 linktype  u16 reserved (0)
 *     caplen bytes of frame
 *   all big-endian; linktype 0xffff: not given (the receiver uses
 *   mirror_bind_dlt).
 */
#ifndef VS_LEGACY_MIRROR_H
#define VS_LEGACY_MIRROR_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/frame.h"
#include "conf/conf.h"

#define VS_LM_MAGIC "VXLM"
#define VS_LM_VERSION 1
#define VS_LM_HELLO_LEN 12
#define VS_LM_REC_LEN 20		/* record header */
#define VS_LM_MAX_CAPLEN (256u << 10)	/* larger records close the conn */
#define VS_LM_LINKTYPE_NONE 0xffff
#define VS_LM_WINDOW_LOG_MAX 23		/* zstd window the receiver allows */

enum vs_lm_compress { VS_LM_COMP_NONE = 0, VS_LM_COMP_ZSTD = 1 };

struct vs_lm_hello {
	uint8_t version;
	uint8_t compress;  /* enum vs_lm_compress */
	uint16_t id_sensor; /* the sender's id_sensor, 0 = not set */
};

/* --- encoding (the sender) ---------------------------------------------*/

void vs_lm__put_hello(uint8_t out[VS_LM_HELLO_LEN], uint16_t id_sensor,
		      enum vs_lm_compress comp);
/* The record header of f (caplen must be <= VS_LM_MAX_CAPLEN). */
void vs_lm__put_rec(uint8_t out[VS_LM_REC_LEN], const struct vs_frame *f);

/* --- decoding (the receiver): a pure function over the bytes of one
 * connection, in any chunking. Memory per decoder: the zstd window (at
 * most 2^VS_LM_WINDOW_LOG_MAX) plus one record (VS_LM_MAX_CAPLEN). ------*/

struct vs_lm_dec;

/* linktype replaces VS_LM_LINKTYPE_NONE in the frames handed on. NULL +
 * errno. */
struct vs_lm_dec *vs_lm_dec__new(uint16_t linktype);
void vs_lm_dec__free(struct vs_lm_dec *d);

/* Feeds the next len bytes; fn gets every complete frame (id_sensor 0,
 * data valid only during the call). 0, or -EPROTO for a malformed stream
 * (bad hello, unsupported version, oversized or inconsistent record,
 * corrupt compression) with the reason in vs_lm_dec__error; after an
 * error every feed fails. A negative return of fn stops and is returned. */
int vs_lm_dec__feed(struct vs_lm_dec *d, const uint8_t *buf, size_t len,
		    vs_frame_fn fn, void *ctx);
/* The hello once it arrived completely, else NULL. */
const struct vs_lm_hello *vs_lm_dec__hello(const struct vs_lm_dec *d);
/* Why the last feed failed ("" when it did not). */
const char *vs_lm_dec__error(const struct vs_lm_dec *d);
/* 1 when the stream ended between records (a clean end), else 0. */
int vs_lm_dec__at_boundary(const struct vs_lm_dec *d);

/* --- the roles -----------------------------------------------------------*/

/* Sender (mirror_destination_ip): captures live (or reads the n_inputs
 * pcap files) and sends every frame that passes the kernel filters and
 * `filter` to mirror_destination_ip:mirror_destination_port until *stop
 * (or the end of the files, then waits up to 30 s for the queue to
 * drain). No analysis, no storage. 0 or -errno (logged). */
int vs_lm_send__run(const struct vs_conf *c, const char *const *inputs,
		    int n_inputs, volatile sig_atomic_t *stop, int stats);

/* Receiver (mirror_bind_port): accepts senders on mirror_bind_ip and
 * feeds their frames, in arrival order, to fn (the pipeline) until *stop;
 * idle gets a packet-time clock when the line goes quiet (calls time
 * out). 0 or -errno (logged). */
struct vs_lm_recv_opts {
	const struct vs_conf *conf;
	vs_frame_fn fn;
	void (*idle)(void *ctx, uint64_t now_us);
	void *ctx;
	volatile sig_atomic_t *stop;
	int stats; /* print "legacy.* N" counters at the end */
};
int vs_lm_recv__run(const struct vs_lm_recv_opts *o);

#endif
