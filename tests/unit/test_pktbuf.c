// SPDX-License-Identifier: GPL-2.0-or-later
/* role/pktbuf: FIFO order, spill to disk and back, drops and their
 * counters at the limits, acknowledgement and re-sending after a rewind,
 * disk files deleted after the acknowledgement and at open, and the
 * producer waiting for room. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "role/pktbuf.h"

static char dir[64];

static void setup(void)
{
	strcpy(dir, "/tmp/vs_test_pktbuf_XXXXXX");
	cr_assert(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(pktbuf, .init = setup, .fini = teardown);

#define BATCH 1000 /* bytes per test batch */

static struct vs_pktbuf *open_pb(size_t mem, uint64_t disk, uint32_t seg)
{
	struct vs_pktbuf_opts o = { .mem_max = mem, .disk_max = disk,
				    .dir = dir, .seg_bytes = seg,
				    .first_seq = 1 };
	struct vs_pktbuf *pb = vs_pktbuf__open(&o);

	cr_assert(pb);
	return pb;
}

/* Batch i: BATCH bytes, every byte (i + k) & 0xff. */
static int push(struct vs_pktbuf *pb, int i)
{
	uint8_t b[BATCH];

	for (int k = 0; k < BATCH; k++)
		b[k] = (uint8_t)(i + k);
	return vs_pktbuf__push(pb, b, sizeof(b), 3, 0);
}

/* Reads batches and checks they are want, want+1, ...: the count read. */
static int read_check(struct vs_pktbuf *pb, uint64_t want)
{
	struct vs_buf b = { 0 };
	uint64_t seq;
	int n = 0, r;

	while ((r = vs_pktbuf__next(pb, &b, &seq)) == 1) {
		cr_assert_eq(seq, want, "seq %llu, want %llu",
			     (unsigned long long)seq, (unsigned long long)want);
		cr_assert_eq(b.len, BATCH);
		/* batch i was pushed as seq i (first_seq 1) */
		for (int k = 0; k < BATCH; k++)
			cr_assert_eq(b.p[k], (uint8_t)(seq + (uint64_t)k));
		want++;
		n++;
	}
	cr_assert_eq(r, 0);
	vs_buf__free(&b);
	return n;
}

static int count_files(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	cr_assert(d);
	while ((e = readdir(d)))
		n += strstr(e->d_name, ".pkb") != NULL;
	closedir(d);
	return n;
}

static struct vs_pktbuf_stats stats(struct vs_pktbuf *pb)
{
	struct vs_pktbuf_stats st;

	vs_pktbuf__stats(pb, &st);
	return st;
}

Test(pktbuf, memory_fifo_and_ack)
{
	struct vs_pktbuf *pb = open_pb(1 << 20, 0, 0);

	for (int i = 1; i <= 50; i++)
		cr_assert_eq(push(pb, i), 0);
	cr_assert_eq(vs_pktbuf__next_seq(pb), 51);
	cr_assert_eq(read_check(pb, 1), 50);
	cr_assert_eq(vs_pktbuf__ack(pb, 20), 20);
	cr_assert_eq(vs_pktbuf__acked(pb), 20);
	cr_assert_eq(vs_pktbuf__ack(pb, 10), 0, "an older ack changes nothing");
	/* reconnect: everything unacknowledged again, in order */
	vs_pktbuf__rewind(pb);
	cr_assert_eq(read_check(pb, 21), 30);
	/* an ack beyond what exists is clamped */
	cr_assert_eq(vs_pktbuf__ack(pb, 1000), 30);
	cr_assert_eq(stats(pb).mem_bytes, 0);
	cr_assert_eq(stats(pb).acked, 50);
	vs_pktbuf__close(pb);
}

Test(pktbuf, spill_to_disk_and_back)
{
	/* memory for about 10 batches, files of 5 batches */
	struct vs_pktbuf *pb = open_pb(10 * (BATCH + 64), 1 << 20,
				       5 * (BATCH + 12));
	struct vs_pktbuf_stats st;

	for (int i = 1; i <= 40; i++)
		cr_assert_eq(push(pb, i), 0);
	st = stats(pb);
	cr_assert_eq(st.disk_batches, 40 - 10, "%llu on disk",
		     (unsigned long long)st.disk_batches);
	cr_assert_eq(st.disk_files, 6);
	cr_assert_eq(count_files(), 6);
	/* once on disk, later batches go there too, even with memory free */
	cr_assert_eq(vs_pktbuf__ack(pb, 5), 5);
	cr_assert_eq(push(pb, 41), 0);
	cr_assert_eq(stats(pb).disk_batches, 31);
	cr_assert_eq(read_check(pb, 6), 36);
	/* rewind into the middle of a file */
	cr_assert_eq(vs_pktbuf__ack(pb, 23), 18);
	cr_assert_eq(count_files(), 5, "files with only acked batches go");
	vs_pktbuf__rewind(pb);
	cr_assert_eq(read_check(pb, 24), 18);
	/* all acknowledged: the disk part is empty, memory is used again */
	vs_pktbuf__ack(pb, 41);
	cr_assert_eq(count_files(), 0);
	st = stats(pb);
	cr_assert_eq(st.disk_bytes, 0);
	cr_assert_eq(st.disk_files, 0);
	cr_assert_eq(push(pb, 42), 0);
	cr_assert_eq(stats(pb).disk_batches, 31);
	cr_assert_eq(read_check(pb, 42), 1);
	vs_pktbuf__close(pb);
}

Test(pktbuf, drop_and_counters_at_the_limits)
{
	/* 4 batches in memory, 3 on disk */
	struct vs_pktbuf *pb = open_pb(4 * (BATCH + 64), 3 * (BATCH + 12), 0);
	struct vs_pktbuf_stats st;
	int ok = 0;

	for (int i = 1; i <= 10; i++)
		ok += push(pb, i) == 0;
	cr_assert_eq(ok, 7);
	st = stats(pb);
	cr_assert_eq(st.batches, 7);
	cr_assert_eq(st.dropped_batches, 3);
	cr_assert_eq(st.dropped_frames, 9);
	cr_assert_eq(st.dropped_bytes, 3 * BATCH);
	cr_assert_eq(st.frames, 21);
	/* a dropped batch uses no sequence number */
	cr_assert_eq(vs_pktbuf__next_seq(pb), 8);
	cr_assert_eq(read_check(pb, 1), 7);
	vs_pktbuf__ack(pb, 7);
	cr_assert_eq(push(pb, 8), 0);
	vs_pktbuf__close(pb);
}

Test(pktbuf, no_disk_drops_when_memory_is_full)
{
	struct vs_pktbuf *pb = open_pb(2 * (BATCH + 64), 0, 0);

	cr_assert_eq(push(pb, 1), 0);
	cr_assert_eq(push(pb, 2), 0);
	cr_assert_eq(push(pb, 3), -ENOSPC);
	cr_assert_eq(count_files(), 0);
	cr_assert_eq(stats(pb).dropped_batches, 1);
	vs_pktbuf__close(pb);
}

Test(pktbuf, stale_files_removed_at_open_and_close)
{
	struct vs_pktbuf *pb = open_pb(BATCH, 1 << 20, 0);
	char path[128];
	FILE *f;

	for (int i = 1; i <= 5; i++)
		cr_assert_eq(push(pb, i), 0);
	cr_assert_eq(count_files(), 1);
	vs_pktbuf__close(pb);
	cr_assert_eq(count_files(), 0, "close deletes its files");
	/* a crash leaves files behind: the next open removes them */
	snprintf(path, sizeof(path), "%s/00000000000000000007.pkb", dir);
	f = fopen(path, "w");
	cr_assert(f);
	fputs("stale", f);
	fclose(f);
	pb = open_pb(BATCH, 1 << 20, 0);
	cr_assert_eq(count_files(), 0);
	vs_pktbuf__close(pb);
}

Test(pktbuf, first_seq_from_the_wall_clock)
{
	struct vs_pktbuf_opts o = { .mem_max = 1 << 20 };
	struct vs_pktbuf *pb = vs_pktbuf__open(&o);

	cr_assert(pb);
	cr_assert_gt(vs_pktbuf__next_seq(pb), 1600000000ULL * 1000000);
	cr_assert_eq(vs_pktbuf__acked(pb), vs_pktbuf__next_seq(pb) - 1);
	vs_pktbuf__close(pb);
}

static void *acker(void *arg)
{
	usleep(100000);
	vs_pktbuf__ack(arg, 1);
	return NULL;
}

Test(pktbuf, producer_waits_for_room)
{
	struct vs_pktbuf *pb = open_pb(BATCH + 64, 0, 0);
	uint8_t b[BATCH] = { 0 };
	pthread_t th;

	cr_assert_eq(push(pb, 1), 0);
	cr_assert_eq(vs_pktbuf__push(pb, b, sizeof(b), 1, 10), -ENOSPC);
	pthread_create(&th, NULL, acker, pb);
	cr_assert_eq(vs_pktbuf__push(pb, b, sizeof(b), 1, 5000), 0);
	pthread_join(th, NULL);
	cr_assert_eq(stats(pb).dropped_batches, 1);
	vs_pktbuf__close(pb);
}

Test(pktbuf, concurrent_producer_and_reader)
{
	struct vs_pktbuf *pb = open_pb(50 * (BATCH + 64), 1 << 20,
				       8 * (BATCH + 12));
	struct vs_buf b = { 0 };
	uint64_t seq, want = 1;
	int pushed = 0;

	/* one thread, interleaved: the reader follows the producer through
	 * memory and disk with acks lagging behind */
	while (want <= 2000) {
		if (pushed < 2000 && push(pb, pushed + 1) == 0)
			pushed++;
		while (vs_pktbuf__next(pb, &b, &seq) == 1) {
			cr_assert_eq(seq, want);
			cr_assert_eq(b.p[0], (uint8_t)seq);
			want++;
		}
		if (want > 30)
			vs_pktbuf__ack(pb, want - 30);
	}
	vs_pktbuf__ack(pb, 2000);
	cr_assert_eq(stats(pb).dropped_batches, 0);
	cr_assert_eq(count_files(), 0);
	vs_buf__free(&b);
	vs_pktbuf__close(pb);
}
