// SPDX-License-Identifier: GPL-2.0-or-later
/* role/cdr_spool: sequence numbers, durability boundary, replay from the
 * acknowledged point, torn tails, segment deletion and the size limit. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "role/cdr_spool.h"

static char dir[64];

static void setup(void)
{
	strcpy(dir, "/tmp/vs_test_spool_XXXXXX");
	cr_assert(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

static struct vs_cdr_spool *open_spool(uint64_t max_bytes, uint32_t seg)
{
	struct vs_cdr_spool_opts o = { .dir = dir, .max_bytes = max_bytes,
				       .seg_bytes = seg };
	struct vs_cdr_spool *s = vs_cdr_spool__open(&o);

	cr_assert(s);
	return s;
}

static uint64_t put(struct vs_cdr_spool *s, const char *text)
{
	uint64_t seq = 0;

	cr_assert_eq(vs_cdr_spool__append(s, text, (uint32_t)strlen(text), &seq), 0);
	return seq;
}

/* Reads every durable record into "a,b,c" and returns the count. */
static int read_all(struct vs_cdr_spool *s, struct vs_cdr_spool_rd *rd,
		    char *out, uint64_t *first)
{
	struct vs_buf b = { 0 };
	uint64_t seq, prev = 0;
	int n = 0, r;

	out[0] = '\0';
	while ((r = vs_cdr_spool__next(s, rd, &b, &seq)) == 1) {
		if (n == 0)
			*first = seq;
		else
			cr_expect_eq(seq, prev + 1, "contiguous");
		prev = seq;
		if (n++)
			strcat(out, ",");
		strncat(out, (const char *)b.p, b.len);
	}
	cr_expect_eq(r, 0);
	vs_buf__free(&b);
	return n;
}

TestSuite(cdr_spool, .init = setup, .fini = teardown);

Test(cdr_spool, only_synced_records_are_read)
{
	struct vs_cdr_spool *s = open_spool(0, 0);
	struct vs_cdr_spool_rd rd = { .fd = -1 };
	uint64_t s1, s2, first = 0;
	char out[256];

	s1 = put(s, "one");
	s2 = put(s, "two");
	cr_expect_eq(s2, s1 + 1);
	cr_expect_eq(vs_cdr_spool__last(s), s2);
	cr_expect_eq(vs_cdr_spool__acked(s), s1 - 1, "fresh: nothing owed");
	vs_cdr_spool__rewind(s, &rd);
	cr_expect_eq(read_all(s, &rd, out, &first), 0);
	cr_assert_eq(vs_cdr_spool__sync(s), 0);
	cr_expect_eq(read_all(s, &rd, out, &first), 2);
	cr_expect_str_eq(out, "one,two");
	cr_expect_eq(first, s1);
	put(s, "three");
	cr_assert_eq(vs_cdr_spool__sync(s), 0);
	cr_expect_eq(read_all(s, &rd, out, &first), 1);
	cr_expect_str_eq(out, "three");
	vs_cdr_spool__rd_close(&rd);
	vs_cdr_spool__close(s);
}

Test(cdr_spool, restart_replays_from_ack_and_continues_numbering)
{
	struct vs_cdr_spool *s = open_spool(0, 0);
	struct vs_cdr_spool_rd rd = { .fd = -1 };
	uint64_t s1, first = 0;
	char out[256];

	s1 = put(s, "a");
	put(s, "b");
	put(s, "c");
	cr_assert_eq(vs_cdr_spool__sync(s), 0);
	cr_assert_eq(vs_cdr_spool__ack(s, s1), 0);
	vs_cdr_spool__close(s);

	s = open_spool(0, 0);
	cr_expect_eq(vs_cdr_spool__acked(s), s1);
	cr_expect_eq(vs_cdr_spool__last(s), s1 + 2);
	vs_cdr_spool__rewind(s, &rd);
	cr_expect_eq(read_all(s, &rd, out, &first), 2);
	cr_expect_str_eq(out, "b,c");
	cr_expect_eq(first, s1 + 1);
	cr_expect_eq(put(s, "d"), s1 + 3);
	cr_assert_eq(vs_cdr_spool__sync(s), 0);
	/* an ack beyond what is durable is clamped; a lower one ignored */
	cr_expect_eq(vs_cdr_spool__ack(s, s1 + 100), 0);
	cr_expect_eq(vs_cdr_spool__acked(s), s1 + 3);
	cr_expect_eq(vs_cdr_spool__ack(s, s1), 0);
	cr_expect_eq(vs_cdr_spool__acked(s), s1 + 3);
	vs_cdr_spool__rd_close(&rd);
	vs_cdr_spool__close(s);
	/* everything acknowledged: numbering still goes on after a restart */
	s = open_spool(0, 0);
	cr_expect_eq(put(s, "e"), s1 + 4);
	vs_cdr_spool__close(s);
}

Test(cdr_spool, torn_tail_is_cut)
{
	struct vs_cdr_spool *s = open_spool(0, 0);
	struct vs_cdr_spool_rd rd = { .fd = -1 };
	struct vs_cdr_spool_stats st;
	uint64_t s1, first = 0;
	char out[256], path[128];
	int fd;

	s1 = put(s, "good");
	cr_assert_eq(vs_cdr_spool__sync(s), 0);
	vs_cdr_spool__close(s);
	snprintf(path, sizeof(path), "%s/%020llu.seg", dir,
		 (unsigned long long)s1);
	fd = open(path, O_WRONLY | O_APPEND);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "\x20\0\0\0garbage", 11), 11);
	close(fd);
	s = open_spool(0, 0);
	vs_cdr_spool__stats(s, &st);
	cr_expect_eq(st.torn, 11);
	cr_expect_eq(vs_cdr_spool__last(s), s1);
	vs_cdr_spool__rewind(s, &rd);
	cr_expect_eq(read_all(s, &rd, out, &first), 1);
	cr_expect_str_eq(out, "good");
	cr_expect_eq(put(s, "next"), s1 + 1);
	vs_cdr_spool__rd_close(&rd);
	vs_cdr_spool__close(s);
}

Test(cdr_spool, acked_segments_deleted_and_limit_counted)
{
	struct vs_cdr_spool *s = open_spool(200, 40);
	struct vs_cdr_spool_stats st;
	uint64_t seq = 0, last = 0;
	char rec[25];
	int ok = 0, full = 0;

	memset(rec, 'x', 24);
	rec[24] = '\0';
	for (int i = 0; i < 10; i++) {
		int r = vs_cdr_spool__append(s, rec, 24, &seq);

		if (r == 0) {
			ok++;
			last = seq;
			cr_assert_eq(vs_cdr_spool__sync(s), 0); /* rolls */
		} else {
			cr_expect_eq(r, -ENOSPC);
			full++;
		}
	}
	/* 40-byte records, 200 bytes allowed */
	cr_expect_eq(ok, 5);
	cr_expect_eq(full, 5);
	vs_cdr_spool__stats(s, &st);
	cr_expect_eq(st.dropped, 5);
	cr_expect_eq(st.segments, 5);
	cr_expect_eq(st.bytes, 200);
	cr_assert_eq(vs_cdr_spool__ack(s, last), 0);
	vs_cdr_spool__stats(s, &st);
	cr_expect_eq(st.segments, 1, "the writer's segment stays");
	cr_expect_eq(st.bytes, 40);
	cr_expect_eq(vs_cdr_spool__append(s, rec, 24, &seq), 0);
	cr_expect_eq(seq, last + 1, "a dropped CDR uses no number");
	vs_cdr_spool__close(s);
}
