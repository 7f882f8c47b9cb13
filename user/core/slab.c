// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "core/slab.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* At the start of each chunk; the objects follow at offset `align`. */
struct vs_slab_chunk {
	struct vs_slab_chunk *next;
};

int vs_slab__init(struct vs_slab *s, size_t size, size_t align)
{
	if (!size || !align || (align & (align - 1)) || align > 4096 ||
	    align < sizeof(struct vs_slab_chunk))
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->size = (size + align - 1) & ~(align - 1);
	if (s->size < sizeof(void *) || s->size > VS_SLAB_CHUNK / 2)
		return -EINVAL;
	s->per_chunk = (VS_SLAB_CHUNK - align) / s->size;
	return 0;
}

/* A chunk aligned to its size, so that THP can back it with one huge
 * page: map twice the size, keep the aligned half. */
static void *chunk_map(void)
{
	size_t len = 2 * (size_t)VS_SLAB_CHUNK;
	uint8_t *p, *a;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	a = (uint8_t *)(((uintptr_t)p + VS_SLAB_CHUNK - 1) &
			~(uintptr_t)(VS_SLAB_CHUNK - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (a + VS_SLAB_CHUNK < p + len)
		munmap(a + VS_SLAB_CHUNK, (size_t)(p + len - a - VS_SLAB_CHUNK));
	/* Advice only: EINVAL where THP is compiled out changes nothing. */
	(void)madvise(a, VS_SLAB_CHUNK, MADV_HUGEPAGE);
	return a;
}

static int grow(struct vs_slab *s)
{
	struct vs_slab_chunk *c = chunk_map();
	size_t off = VS_SLAB_CHUNK - s->per_chunk * s->size;

	if (!c)
		return -ENOMEM;
	c->next = s->chunks;
	s->chunks = c;
	s->nchunks++;
	s->bump = (char *)c + off;
	s->fresh = s->per_chunk;
	POISON(s->bump, s->per_chunk * s->size);
	return 0;
}

void *vs_slab__zalloc(struct vs_slab *s)
{
	void *p;

	if (s->free) {
		p = s->free;
		UNPOISON(p, s->size);
		s->free = *(void **)p;
	} else {
		if (!s->fresh && grow(s) < 0) {
			errno = ENOMEM;
			return NULL;
		}
		p = s->bump;
		s->bump += s->size;
		s->fresh--;
		UNPOISON(p, s->size);
	}
	memset(p, 0, s->size);
	return p;
}

void vs_slab__free(struct vs_slab *s, void *p)
{
	if (!p)
		return;
	*(void **)p = s->free;
	s->free = p;
	POISON(p, s->size);
}

void vs_slab__destroy(struct vs_slab *s)
{
	struct vs_slab_chunk *c, *next;

	for (c = s->chunks; c; c = next) {
		next = c->next;
		UNPOISON(c, VS_SLAB_CHUNK);
		munmap(c, VS_SLAB_CHUNK);
	}
	s->chunks = NULL;
	s->free = NULL;
	s->bump = NULL;
	s->fresh = 0;
	s->nchunks = 0;
}
