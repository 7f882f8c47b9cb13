/* SPDX-License-Identifier: GPL-2.0-or-later */
/* capture/ring: reads the per-CPU BPF ring buffers and hands their records
 * over in timestamp order (a k-way merge of the rings' heads), so that an
 * INVITE seen on CPU 0 is never delivered after its 200 seen on CPU 1.
 * The rings are mapped directly (the layout is kernel ABI: a consumer
 * page, a producer page, the data mapped twice so a record that wraps is
 * contiguous), which is what lets us peek at every head before choosing. */
#ifndef VS_CAPTURE_RING_H
#define VS_CAPTURE_RING_H

#include <stdint.h>

#include "vs_kern_user.h"

#define VS_RING_SET_MAX 256

struct vs_ring_set;

/* One record: its header, then h->caplen bytes of frame. */
typedef int (*vs_ring_fn)(void *ctx, const struct vs_ring_hdr *h,
			  const uint8_t *frame);

/* Look-ahead: shown a record still waiting behind the one being
 * delivered, so that the consumer can start loading the memory it will
 * need for it. Stage 0 sees records about AHEAD_FAR bytes ahead, stage 1
 * (later, the same records again) about a third of that: a consumer with
 * a chain of dependent loads prefetches the first at stage 0 and reads it
 * at stage 1 to prefetch the second. Only a hint: the record may not be
 * delivered next (another ring's may be older). */
typedef void (*vs_ring_ahead_fn)(void *ctx, int stage,
				 const struct vs_ring_hdr *h);

/* Maps the n ring buffer fds (each size bytes). NULL with errno. */
struct vs_ring_set *vs_ring_set__new(const int *fds, int n, uint32_t size);
void vs_ring_set__free(struct vs_ring_set *s);

/* Sets the look-ahead callback (drain's ctx is passed); NULL: none. */
void vs_ring_set__set_ahead(struct vs_ring_set *s, vs_ring_ahead_fn fn);

/* Waits up to timeout_ms for a wakeup. 0, or -errno (-EINTR: a signal). */
int vs_ring_set__wait(struct vs_ring_set *s, int timeout_ms);

/* Delivers up to max records, oldest first. Returns the number delivered,
 * or the first non-zero value fn returned (negative: stop). */
int vs_ring_set__drain(struct vs_ring_set *s, int max, vs_ring_fn fn,
		       void *ctx);

/* Records skipped because their length made no sense (never expected). */
uint64_t vs_ring_set__malformed(const struct vs_ring_set *s);

#endif
