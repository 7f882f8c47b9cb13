/* SPDX-License-Identifier: GPL-2.0-or-later */
/* core/slab: a pool of fixed-size objects carved from 2 MiB chunks that
 * the kernel is asked to back with transparent huge pages.
 *
 * Why: live, the ring reader finds a call's memory cold every time it
 * wakes, and with one object per 4 KiB page (a struct vs_call is 3.5 KiB)
 * every RTP packet also missed the TLB, a page walk that costs more than
 * the cache miss in a VM (nested paging). Packed into huge pages, the
 * calls and streams of a few thousand calls need a handful of TLB entries
 * (docs/capture.md, "Daemon: memory of the calls"). Where THP is off the
 * chunks are ordinary pages and nothing else changes.
 *
 * Chunks are kept until vs_slab__destroy: freed objects are reused, not
 * returned to the system. Under AddressSanitizer, free objects are
 * poisoned, so a use after vs_slab__free is still reported. */
#ifndef VS_CORE_SLAB_H
#define VS_CORE_SLAB_H

#include <stddef.h>

#define VS_SLAB_CHUNK (2u << 20)

struct vs_slab_chunk;

struct vs_slab {
	size_t size;			/* object size, a multiple of align */
	size_t per_chunk;		/* objects in one chunk */
	void *free;			/* freed objects, linked through them */
	struct vs_slab_chunk *chunks;	/* newest first */
	char *bump;			/* next never-used object */
	size_t fresh;			/* never-used objects from bump on */
	size_t nchunks;
};

/* Objects of size bytes, aligned to align (a power of two, at most 4096).
 * Maps nothing yet. 0 or -EINVAL. */
int vs_slab__init(struct vs_slab *s, size_t size, size_t align);

/* A zeroed object, or NULL with errno = ENOMEM. */
void *vs_slab__zalloc(struct vs_slab *s);

/* Returns p (from this slab; NULL is fine) to the pool. */
void vs_slab__free(struct vs_slab *s, void *p);

/* Unmaps every chunk: every object is gone. The slab is empty after. */
void vs_slab__destroy(struct vs_slab *s);

#endif
