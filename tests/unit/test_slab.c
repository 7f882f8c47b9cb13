// SPDX-License-Identifier: GPL-2.0-or-later
/* core/slab: fixed-size objects in 2 MiB chunks. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/slab.h"

Test(slab, bad_sizes_refused)
{
	struct vs_slab s;

	cr_expect_eq(vs_slab__init(&s, 0, 64), -EINVAL);
	cr_expect_eq(vs_slab__init(&s, 100, 48), -EINVAL, "align not 2^n");
	cr_expect_eq(vs_slab__init(&s, 100, 8192), -EINVAL);
	cr_expect_eq(vs_slab__init(&s, VS_SLAB_CHUNK, 64), -EINVAL);
	cr_expect_eq(vs_slab__init(&s, 3584, 64), 0);
	cr_expect_eq(s.per_chunk, (VS_SLAB_CHUNK - 64) / 3584);
	cr_expect_eq(s.nchunks, 0, "nothing mapped before use");
}

/* Objects are aligned, zeroed, disjoint, span several chunks, and freed
 * ones come back before new memory is taken. */
Test(slab, alloc_free_reuse_across_chunks)
{
	enum { N = 1500 }; /* three chunks of 3584-byte objects */
	static uint8_t *p[N];
	struct vs_slab s;
	void *q;

	cr_assert_eq(vs_slab__init(&s, 3500, 64), 0);
	cr_expect_eq(s.size, 3520, "size rounded up to the alignment");
	for (int i = 0; i < N; i++) {
		p[i] = vs_slab__zalloc(&s);
		cr_assert_not_null(p[i]);
		cr_expect_eq((uintptr_t)p[i] % 64, 0);
		for (size_t k = 0; k < s.size; k++)
			if (p[i][k])
				cr_assert_fail("object %d byte %zu not zero", i, k);
		memset(p[i], 0xa5, s.size);
	}
	cr_expect_eq(s.nchunks, (N + s.per_chunk - 1) / s.per_chunk);
	for (int i = 1; i < N; i++) /* no two overlap: each kept its fill */
		cr_assert(p[i] >= p[i - 1] + s.size || p[i] + s.size <= p[i - 1]);
	vs_slab__free(&s, p[7]);
	vs_slab__free(&s, NULL);
	q = vs_slab__zalloc(&s);
	cr_expect_eq(q, p[7], "a freed object is reused first");
	cr_expect_eq(((uint8_t *)q)[100], 0, "and comes back zeroed");
	vs_slab__destroy(&s);
	cr_expect_eq(s.nchunks, 0);
	cr_expect_null(s.free);
	cr_expect_not_null(vs_slab__zalloc(&s), "usable again after destroy");
	vs_slab__destroy(&s);
}

#if defined(__SANITIZE_ADDRESS__)
/* A freed object is poisoned: AddressSanitizer still reports a use after
 * free though the memory stays mapped. In a child, since the report ends
 * the process (exit 1, or abort with abort_on_error, as CI runs it). */
Test(slab, use_after_free_reported)
{
	struct vs_slab s;
	volatile uint8_t *p;
	pid_t pid;
	int st;

	cr_assert_eq(vs_slab__init(&s, 512, 64), 0);
	p = vs_slab__zalloc(&s);
	vs_slab__free(&s, (void *)p);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid) {
		/* The report is expected: keep it out of the test log. */
		dup2(open("/dev/null", O_WRONLY), 2);
		p[100] = 1;
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(!(WIFEXITED(st) && WEXITSTATUS(st) == 0),
		  "a write to a freed object went unnoticed");
	vs_slab__destroy(&s);
}
#endif
