// SPDX-License-Identifier: GPL-2.0-or-later
/* Per-call pcap files: names safe against any Call-ID, dated folders, the
 * frames written, and nothing on disk for a call that saved nothing. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool/pcap_spool.h"

static char *name(const char *call_id)
{
	static char out[256];

	return vs_spool__safe_name(call_id, out, sizeof(out));
}

Test(spool, safe_names)
{
	cr_expect_str_eq(name("abc-123@host.example"), "abc-123@host.example");
	cr_expect_str_eq(name("../../etc/passwd"), "%2E.%2F..%2Fetc%2Fpasswd");
	cr_expect_str_eq(name("a b/c\\d"), "a%20b%2Fc%5Cd");
	cr_expect_str_eq(name("x\xff\x01"), "x%FF%01");
	/* empty: a hash, never "" or "." */
	cr_expect_eq(name("")[0], '~');
	cr_expect_eq(strlen(name("")), 17);
}

Test(spool, long_names_cut_and_hashed)
{
	char id[1000], a[256], b[256];

	memset(id, 'x', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	vs_spool__safe_name(id, a, sizeof(a));
	id[500] = 'y'; /* differs after the cut: the hash tells them apart */
	vs_spool__safe_name(id, b, sizeof(b));
	cr_expect_leq(strlen(a), 160);
	cr_expect_neq(strchr(a, '~'), NULL);
	cr_expect_str_neq(a, b);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(p);
}

Test(spool, files_in_dated_folders)
{
	char dir[] = "/tmp/vs_test_spool_XXXXXX", path[512];
	struct vs_spool_stats st = { 0 };
	uint8_t frame[60] = { 0 };
	struct vs_frame f = { .data = frame, .caplen = 60, .origlen = 60,
			      .ts_us = 1700000000123456ULL, .linktype = 1 };
	struct vs_spool *sp;
	struct vs_spool_file *a, *b, *quiet;
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p;
	int n = 0;

	cr_assert_not_null(mkdtemp(dir));
	sp = vs_spool__new(dir, &st);
	cr_assert_not_null(sp);
	a = vs_spool__file(sp, "same@id", f.ts_us);
	b = vs_spool__file(sp, "same@id", f.ts_us); /* a reused Call-ID */
	quiet = vs_spool__file(sp, "nothing@saved", f.ts_us);
	vs_spool_file__write(sp, a, &f, UINT32_MAX);
	vs_spool_file__write(sp, a, &f, UINT32_MAX); /* same frame again */
	f.ts_us += 20000;
	vs_spool_file__write(sp, a, &f, 42);
	vs_spool_file__write(sp, b, &f, UINT32_MAX);
	cr_expect_str_eq(vs_spool_file__path(a), "2023-11-14/22/13/same@id.pcap");
	cr_expect_str_eq(vs_spool_file__path(b), "2023-11-14/22/13/same@id-2.pcap");
	cr_expect_str_eq(vs_spool_file__path(quiet), "");
	snprintf(path, sizeof(path), "%s/%s", dir, vs_spool_file__path(a));
	vs_spool_file__close(sp, a);
	vs_spool_file__close(sp, b);
	vs_spool_file__close(sp, quiet);
	cr_expect_eq(st.files_opened, 2);
	cr_expect_eq(st.frames_written, 3);
	cr_expect_eq(st.frames_dup, 1);

	p = pcap_open_offline(path, err);
	cr_assert_not_null(p, "%s", err);
	while (pcap_next_ex(p, &h, &data) == 1) {
		n++;
		cr_expect_eq(h->len, 60);
		cr_expect_eq(h->caplen, n == 1 ? 60u : 42u, "snaplen cuts");
	}
	pcap_close(p);
	cr_expect_eq(n, 2);
	vs_spool__free(sp);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}
