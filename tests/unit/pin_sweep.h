/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests that load the BPF programs pin them under
 * /sys/fs/bpf/<prefix><pid> and unpin in their teardown. A test process
 * that crashed never ran it, and its pins keep its programs and maps in
 * the kernel: the next run sweeps the directories of dead pids. */
#ifndef VS_TEST_PIN_SWEEP_H
#define VS_TEST_PIN_SWEEP_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/xdp_int.h"

static inline void sweep_stale_pins(const char *prefix)
{
	size_t n = strlen(prefix);
	char path[300];
	struct dirent *e;
	DIR *d = opendir("/sys/fs/bpf");
	long pid;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, prefix, n))
			continue;
		pid = strtol(e->d_name + n, NULL, 10);
		if (pid <= 0 || !kill((pid_t)pid, 0) || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "/sys/fs/bpf/%s", e->d_name);
		vs_xdp__unpin(path);
	}
	closedir(d);
}

#endif
