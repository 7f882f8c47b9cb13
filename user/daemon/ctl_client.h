/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/ctl_client: `voxsense -c server.conf --status` and
 * `--fetch-pcap CDR_ID -o FILE`, spoken to a running central server over
 * its control socket <spooldir>/voxsense.sock (role/server_ctl.c). Each
 * returns the process exit status: 0, or 1 with the reason on stderr. */
#ifndef VS_CTL_CLIENT_H
#define VS_CTL_CLIENT_H

#include "conf/conf.h"

int vs_ctl__status(const struct vs_conf *c);
/* out: a file (written as FILE.part, renamed when complete) or "-". */
int vs_ctl__fetch_pcap(const struct vs_conf *c, const char *cdr_id,
		       const char *out);

#endif
