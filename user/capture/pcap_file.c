// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <pcap/pcap.h>

#include "capture/pcap_file.h"
#include "core/log.h"

int vs_pcap_file__read(const char *path, uint16_t id_sensor, vs_frame_fn fn,
		       void *ctx, struct vs_pcap_file_stats *st)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	struct vs_frame f = { .id_sensor = id_sensor };
	pcap_t *p;
	int rc, err = 0;

	/* Microsecond precision whatever the file holds: CDR times are µs. */
	p = pcap_open_offline_with_tstamp_precision(path,
						    PCAP_TSTAMP_PRECISION_MICRO,
						    errbuf);
	if (!p) {
		vs_err("%s: %s", path, errbuf);
		return -ENOENT;
	}
	f.linktype = (uint16_t)pcap_datalink(p);
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		f.data = data;
		f.caplen = h->caplen;
		f.origlen = h->len;
		f.ts_us = (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec;
		st->frames++;
		st->bytes += h->caplen;
		err = fn(ctx, &f);
		if (err)
			goto out;
	}
	if (rc == PCAP_ERROR) {
		/* A truncated last record is common in captures cut by a
		 * full disk: keep what was read, say so. */
		vs_warn("%s: %s (after %llu frames)", path, pcap_geterr(p),
			(unsigned long long)st->frames);
	}
out:
	pcap_close(p);
	return err;
}
