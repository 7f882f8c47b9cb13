// SPDX-License-Identifier: GPL-2.0-or-later
/* Channel codec throughput: reads a capture, ships it as PACKETS batches
 * through the encoder and decoder of each compression (no TLS), and prints
 * packets/s, frames/s and bytes on the wire per packet.
 * Usage: chan_bench FILE.pcap [batch_packets] */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "channel/wire.h"

struct pkt {
	struct vs_frame f;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct pkt *load(const char *path, size_t *n, size_t *raw)
{
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, eb);
	struct pcap_pkthdr *h;
	const u_char *d;
	struct pkt *v = NULL;
	size_t cap = 0;

	if (!pc) {
		fprintf(stderr, "%s\n", eb);
		exit(1);
	}
	*n = *raw = 0;
	while (pcap_next_ex(pc, &h, &d) == 1) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 4096;
			v = realloc(v, cap * sizeof(*v));
		}
		uint8_t *copy = malloc(h->caplen);

		memcpy(copy, d, h->caplen);
		v[*n].f = (struct vs_frame){ copy, h->caplen, h->len,
					     h->ts.tv_sec * 1000000ull + h->ts.tv_usec,
					     (uint16_t)pcap_datalink(pc), 0 };
		*raw += h->caplen;
		(*n)++;
	}
	pcap_close(pc);
	return v;
}

int main(int argc, char **argv)
{
	size_t n, raw, batch = argc > 2 ? strtoul(argv[2], NULL, 0) : 64;
	struct pkt *v;

	if (argc < 2) {
		fprintf(stderr, "usage: chan_bench FILE.pcap [batch]\n");
		return 2;
	}
	v = load(argv[1], &n, &raw);
	printf("%zu packets, %zu bytes captured (%.1f B/packet), batches of %zu\n",
	       n, raw, (double)raw / n, batch);
	printf("%-5s %12s %10s %12s %12s %10s\n", "codec", "wire B/pkt",
	       "ratio", "enc ns/pkt", "dec ns/pkt", "frames/s");
	for (int c = 0; c < 4; c++) {
		struct vs_chan_enc e;
		struct vs_chan_dec d;
		struct vs_buf pl = { 0 }, w = { 0 };
		struct vs_chan_frame f;
		double t0, t_enc = 0, t_dec = 0;
		size_t frames = 0, got = 0;

		vs_chan_enc__init(&e, c);
		vs_chan_dec__init(&d, 0);
		vs_chan_dec__allow(&d, c);
		for (size_t i = 0; i < n; i += batch) {
			const uint8_t *p;
			size_t left;

			t0 = now_s();
			vs_chan_packets__begin(&pl, 2, 1);
			for (size_t k = i; k < i + batch && k < n; k++)
				vs_chan_packets__add(&pl, &v[k].f, 0, 0);
			w.len = 0;
			vs_chan_enc__frame(&e, &w, VS_CHAN_PACKETS, pl.p, pl.len, 0);
			t_enc += now_s() - t0;
			frames++;
			t0 = now_s();
			p = w.p;
			left = w.len;
			while (vs_chan_dec__next(&d, &p, &left, &f) == 0) {
				struct vs_chan_pkt_iter it;
				struct vs_frame fr;
				uint16_t ifx;

				vs_chan_packets__iter(&it, f.data, f.len);
				while (vs_chan_packets__next(&it, &fr, &ifx) == 1)
					got++;
			}
			t_dec += now_s() - t0;
		}
		if (got != n)
			fprintf(stderr, "lost packets: %zu of %zu\n", got, n);
		printf("%-5s %12.1f %9.2fx %12.0f %12.0f %10.0f\n",
		       vs_chan_compress__name(c),
		       (double)e.st.bytes_wire / n, (double)raw / e.st.bytes_wire,
		       t_enc * 1e9 / n, t_dec * 1e9 / n, frames / (t_enc + t_dec));
		vs_chan_enc__fini(&e);
		vs_chan_dec__fini(&d);
		vs_buf__free(&pl);
		vs_buf__free(&w);
	}
	return 0;
}
