// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target for conf/: any bytes as a config file. Whatever loads
 * must print to text that loads back and prints the same (the round trip
 * --check-config promises). Files live in memory (memfd), not on disk. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf/conf.h"
#include "core/log.h"

/* Loads len bytes of text as a config file into c. */
static int load_bytes(struct vs_conf *c, const void *data, size_t len)
{
	char path[64];
	int fd = memfd_create("fuzz_conf", MFD_CLOEXEC), rc;

	if (fd < 0)
		abort();
	if (len && write(fd, data, len) != (ssize_t)len)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	rc = vs_conf__load(c, path);
	close(fd);
	return rc;
}

static char *print_text(const struct vs_conf *c, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		abort();
	vs_conf__print(c, f);
	fclose(f);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vs_conf *c = malloc(sizeof(*c)), *d = malloc(sizeof(*d));
	char *first, *second;
	size_t n1, n2;

	if (!c || !d)
		abort();
	vs_log_set_level(VS_LOG_ERR);
	vs_conf__init(c);
	if (load_bytes(c, data, size) == 0) {
		/* Passwords are never printed, so they cannot round-trip:
		 * compare everything else. */
		c->mysql.password[0] = '\0';
		c->chan.password[0] = '\0';
		first = print_text(c, &n1);
		vs_conf__init(d);
		if (load_bytes(d, first, n1) != 0)
			abort();
		second = print_text(d, &n2);
		if (n1 != n2 || memcmp(first, second, n1))
			abort();
		free(first);
		free(second);
		vs_conf__free(d);
	}
	vs_conf__free(c);
	free(c);
	free(d);
	return 0;
}
