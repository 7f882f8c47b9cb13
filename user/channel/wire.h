/* SPDX-License-Identifier: GPL-2.0-or-later */
/* channel/wire: the bytes between a sensor and its server, without TLS.
 *
 * A frame is a 12-byte header and a payload (docs/channel.md):
 *
 *   0  version   VS_CHAN_WIRE_VERSION
 *   1  type      enum vs_chan_type
 *   2  flags     bits 0-1 compression (enum vs_chan_compress), rest 0
 *   3  reserved  0
 *   4  wire_len  payload bytes that follow, big endian
 *   8  raw_len   payload bytes after decompression, big endian
 *
 * The encoder and decoder here are pure byte transformers, so that they can
 * be tested and fuzzed without sockets, and the handshake and the role code
 * can share them. Stream compressors (zstd, zlib) keep one context per
 * direction of a connection: a frame can only be decoded after every earlier
 * compressed frame of that connection, which TCP's order gives us. */
#ifndef VS_CHAN_WIRE_H
#define VS_CHAN_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/frame.h"

#define VS_CHAN_WIRE_VERSION 1
#define VS_CHAN_HDR_LEN 12
#define VS_CHAN_MAX_FRAME_DEFAULT (4u << 20)
#define VS_CHAN_MAX_FRAME_LIMIT (64u << 20)
/* Handshake frames are small; until the peer is authenticated the decoder
 * refuses anything larger, so a stranger cannot make us allocate much. */
#define VS_CHAN_HS_MAX_FRAME 4096

enum vs_chan_type {
	VS_CHAN_HELLO = 1,          /* sensor -> server, JSON */
	VS_CHAN_AUTH_CHALLENGE = 2, /* server -> sensor, JSON */
	VS_CHAN_AUTH_RESPONSE = 3,  /* sensor -> server, 32-byte HMAC */
	VS_CHAN_AUTH_OK = 4,        /* server -> sensor, 32-byte HMAC */
	VS_CHAN_ERROR = 5,          /* either way: u16 code, text */
	VS_CHAN_CDR = 6,            /* sensor -> server */
	VS_CHAN_CDR_ACK = 7,        /* server -> sensor */
	VS_CHAN_PACKETS = 8,        /* sensor -> server, a batch of frames */
	VS_CHAN_PING = 9,
	VS_CHAN_PONG = 10,
	VS_CHAN_PCAP_REQUEST = 11,  /* server -> sensor */
	VS_CHAN_PCAP_DATA = 12,     /* sensor -> server */
	VS_CHAN_PACKETS_ACK = 13,   /* server -> sensor, vs_chan_ack */
	VS_CHAN_SENSOR_INFO = 14,   /* relay -> server, vs_chan_sensor_info */
	VS_CHAN_TYPE_MAX = 14,
};

enum vs_chan_compress {
	VS_CHAN_COMP_NONE = 0,
	VS_CHAN_COMP_ZSTD = 1,
	VS_CHAN_COMP_GZIP = 2, /* zlib deflate stream, Z_SYNC_FLUSH per frame */
	VS_CHAN_COMP_LZO = 3,  /* lzo1x_1, each frame on its own */
};
#define VS_CHAN_F_COMP 0x03u

/* Growable byte buffer; the owner reuses it so that the steady state does not
 * allocate. */
struct vs_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
};

/* 0 or -ENOMEM / -ENOBUFS (would pass limit; limit 0 = none). */
int vs_buf__reserve(struct vs_buf *b, size_t extra, size_t limit);
int vs_buf__put(struct vs_buf *b, const void *p, size_t n, size_t limit);
void vs_buf__free(struct vs_buf *b);

/* A decoded frame; data is valid until the next call on its decoder. */
struct vs_chan_frame {
	uint8_t type;
	uint8_t flags;
	uint32_t len;
	const uint8_t *data;
};

const char *vs_chan_type__name(unsigned type);
const char *vs_chan_compress__name(enum vs_chan_compress c);
/* "zstd", "gzip" (also "zlib"), "lzo", "none": 0 or -EINVAL. */
int vs_chan_compress__parse(const char *s, enum vs_chan_compress *c);

#define VS_CHAN_ENC_STATS(X) \
	X(frames)            \
	X(bytes_raw)         \
	X(bytes_wire)

#define VS_CHAN_DEC_STATS(X)                                              \
	X(frames)                                                          \
	X(bytes_raw)                                                       \
	X(bytes_wire)                                                      \
	X(err_header)    /* bad version, flags or reserved byte */        \
	X(err_oversize)  /* payload above the decoder's maximum */        \
	X(err_type)      /* unknown frame type */                         \
	X(err_comp)      /* compression the peer did not announce */      \
	X(err_corrupt)   /* undecodable or wrong-sized compressed data */

struct vs_chan_enc_stats {
#define VS_X(n) uint64_t n;
	VS_CHAN_ENC_STATS(VS_X)
#undef VS_X
};

struct vs_chan_dec_stats {
#define VS_X(n) uint64_t n;
	VS_CHAN_DEC_STATS(VS_X)
#undef VS_X
};

/* --- encoder --------------------------------------------------------------*/

struct vs_chan_enc {
	enum vs_chan_compress comp;
	void *zc;       /* ZSTD_CCtx */
	void *zs;       /* z_stream */
	void *lzo_work; /* LZO1X_1_MEM_COMPRESS bytes */
	struct vs_chan_enc_stats st;
};

/* 0 or -ENOMEM. level: 0 for the codec's fast default. */
int vs_chan_enc__init(struct vs_chan_enc *e, enum vs_chan_compress comp);
void vs_chan_enc__fini(struct vs_chan_enc *e);

/* Appends one frame of payload p[0..n) to out, compressed with e's codec.
 * limit bounds out->len (0 = none): -ENOBUFS past it, -EMSGSIZE for a payload
 * above VS_CHAN_MAX_FRAME_LIMIT, -EIO when a compressor fails (the stream is
 * then unusable: close the connection). */
int vs_chan_enc__frame(struct vs_chan_enc *e, struct vs_buf *out, uint8_t type,
		       const void *p, size_t n, size_t limit);

/* Appends an uncompressed frame; needs no encoder (handshake frames). */
int vs_chan__frame_raw(struct vs_buf *out, uint8_t type, const void *p,
		       size_t n, size_t limit);

/* --- decoder --------------------------------------------------------------*/

struct vs_chan_dec {
	uint32_t max_frame;     /* largest raw or wire payload accepted */
	uint8_t allow;          /* bit (1 << comp) per accepted compression */
	int err;                /* sticky: once set, every call returns it */
	const char *why;        /* reason for err, for the log */
	uint8_t hdr[VS_CHAN_HDR_LEN];
	uint32_t hdr_have;
	uint8_t type, flags;
	uint32_t wire_len, raw_len;
	struct vs_buf in;       /* wire payload of a frame split across reads */
	struct vs_buf out;      /* decompressed payload */
	void *zd;               /* ZSTD_DCtx */
	void *zs;               /* z_stream */
	struct vs_chan_dec_stats st;
};

/* max_frame 0 = VS_CHAN_MAX_FRAME_DEFAULT; capped at the limit. Only
 * uncompressed frames are accepted until vs_chan_dec__allow. */
void vs_chan_dec__init(struct vs_chan_dec *d, uint32_t max_frame);
void vs_chan_dec__fini(struct vs_chan_dec *d);
void vs_chan_dec__allow(struct vs_chan_dec *d, enum vs_chan_compress c);

/* Consumes bytes from *p and *n (advancing them) until one frame is complete.
 * Returns 0 with *f set (more frames may remain in *p and *n: call again),
 * -EAGAIN when all bytes were consumed without completing a frame, or a
 * sticky error: -EPROTO (bad header), -EMSGSIZE (oversized), -ENOMSG
 * (unknown type), -EBADMSG (compression not announced, corrupt or
 * mis-sized compressed data), -ENOMEM. d->why says which in words. */
int vs_chan_dec__next(struct vs_chan_dec *d, const uint8_t **p, size_t *n,
		      struct vs_chan_frame *f);

/* --- payloads (msg.c): all integers big endian -----------------------------*/

/* ERROR: u16 code, then text (at most VS_CHAN_ERR_TEXT_MAX bytes). */
enum vs_chan_err_code {
	VS_CHAN_E_BAD_PASSWORD = 1,
	VS_CHAN_E_CLOCK_SKEW = 2,
	VS_CHAN_E_PROTO_VERSION = 3,
	VS_CHAN_E_BACKOFF = 4,
	VS_CHAN_E_REFUSED = 5,   /* the server's accept hook said no */
	VS_CHAN_E_MALFORMED = 6,
	VS_CHAN_E_INTERNAL = 7,
	VS_CHAN_E_SHUTDOWN = 8,
};
#define VS_CHAN_ERR_TEXT_MAX 400

int vs_chan_error__put(struct vs_buf *b, uint16_t code, const char *text);
/* text gets a NUL-terminated copy with non-printable bytes replaced by '?'
 * (it is logged); tsize >= 1. 0 or -EBADMSG. */
int vs_chan_error__parse(const uint8_t *p, size_t n, uint16_t *code,
			 char *text, size_t tsize);
/* The negative errno a peer's ERROR code stands for (docs/channel.md). */
int vs_chan_error__errno(uint16_t code);

/* CDR: u16 id_sensor, u64 seq, body (the CDR record, opaque here). */
struct vs_chan_cdr {
	uint16_t id_sensor;
	uint64_t seq;
	const uint8_t *body;
	uint32_t len;
};
int vs_chan_cdr__put(struct vs_buf *b, const struct vs_chan_cdr *c);
int vs_chan_cdr__parse(const uint8_t *p, size_t n, struct vs_chan_cdr *c);

/* SENSOR_INFO (protocol 2, relay -> server): a sensor behind the relay
 * finished its handshake (up) or disconnected. u16 id_sensor, u8 flags
 * (bit 0: up), u8 mode (enum vs_chan_mode), u64 since_us (relay's wall
 * clock), then name, version and address, each a u8 length and its bytes.
 * The parser copies the strings NUL-terminated, non-printables as '?'. */
struct vs_chan_sensor_info {
	uint16_t id_sensor;
	uint8_t up, mode;
	uint64_t since_us;
	char name[65], version[33], addr[64];
};
int vs_chan_sensor_info__put(struct vs_buf *b,
			     const struct vs_chan_sensor_info *si);
int vs_chan_sensor_info__parse(const uint8_t *p, size_t n,
			       struct vs_chan_sensor_info *si);

/* CDR_ACK: u16 id_sensor, u64 first_seq, u32 count: the server committed
 * sequences first_seq .. first_seq + count - 1 of that sensor. */
struct vs_chan_ack {
	uint16_t id_sensor;
	uint64_t first_seq;
	uint32_t count;
};
int vs_chan_ack__put(struct vs_buf *b, const struct vs_chan_ack *a);
int vs_chan_ack__parse(const uint8_t *p, size_t n, struct vs_chan_ack *a);

/* PACKETS: u16 id_sensor, u16 reserved, u32 count, u64 seq, u64 watermark_us,
 * then count records of
 *   u64 ts_us, u32 caplen, u32 origlen, u16 linktype, u16 ifindex, data.
 * ifindex numbers the sensor's capture interfaces (its config order). seq
 * numbers the sensor's batches consecutively, from its wall clock in µs at
 * start (PACKETS_ACK, a vs_chan_ack, confirms them); watermark_us is the sensor's capture clock when it closed the batch:
 * every frame captured before it is in this batch or an earlier one, so a
 * server merging several sensors by time knows how far each has got. An
 * empty batch only moves the watermark. */
#define VS_CHAN_PKT_HDR 24
#define VS_CHAN_PKT_REC 20
int vs_chan_packets__begin(struct vs_buf *b, uint16_t id_sensor, uint64_t seq);
/* Sets the watermark of the batch being built (0 = unknown). */
void vs_chan_packets__close(struct vs_buf *b, uint64_t watermark_us);
/* limit bounds b->len as in vs_buf__reserve. */
int vs_chan_packets__add(struct vs_buf *b, const struct vs_frame *f,
			 uint16_t ifindex, size_t limit);
uint32_t vs_chan_packets__count(const struct vs_buf *b);

struct vs_chan_pkt_iter {
	const uint8_t *p;
	size_t n;
	uint32_t left;
	uint16_t id_sensor;
	uint64_t seq;
	uint64_t watermark_us;
};
/* 0 or -EBADMSG (short header). */
int vs_chan_packets__iter(struct vs_chan_pkt_iter *it, const uint8_t *p,
			  size_t n);
/* 1 with *f (data points into the payload, id_sensor from the batch) and
 * *ifindex set, 0 at the end, -EBADMSG on a truncated record, a caplen
 * above origlen, or bytes left after the last record. */
int vs_chan_packets__next(struct vs_chan_pkt_iter *it, struct vs_frame *f,
			  uint16_t *ifindex);

/* PING / PONG: u64 token, u64 sender clock (us). */
struct vs_chan_ping {
	uint64_t token;
	uint64_t clock_us;
};
int vs_chan_ping__put(struct vs_buf *b, const struct vs_chan_ping *pg);
int vs_chan_ping__parse(const uint8_t *p, size_t n, struct vs_chan_ping *pg);

/* PCAP_REQUEST: u32 req_id, u16 id_sensor, u64 calldate_us, u16 len,
 * Call-ID. PCAP_DATA: u32 req_id, u8 flags, bytes (a slice of the pcap
 * file, or an error text with VS_CHAN_PCAP_F_ERROR). */
#define VS_CHAN_CALLID_MAX 1024
struct vs_chan_pcap_req {
	uint32_t req_id;
	uint16_t id_sensor;
	uint64_t calldate_us;
	const char *call_id; /* not NUL-terminated */
	uint16_t call_id_len;
};
int vs_chan_pcap_req__put(struct vs_buf *b, const struct vs_chan_pcap_req *r);
int vs_chan_pcap_req__parse(const uint8_t *p, size_t n,
			    struct vs_chan_pcap_req *r);

#define VS_CHAN_PCAP_F_LAST 0x01  /* last slice of this request */
#define VS_CHAN_PCAP_F_ERROR 0x02 /* data is an error text; also last */
struct vs_chan_pcap_data {
	uint32_t req_id;
	uint8_t flags;
	const uint8_t *data;
	uint32_t len;
};
int vs_chan_pcap_data__put(struct vs_buf *b, const struct vs_chan_pcap_data *d);
int vs_chan_pcap_data__parse(const uint8_t *p, size_t n,
			     struct vs_chan_pcap_data *d);

#endif
