// SPDX-License-Identifier: GPL-2.0-or-later
/* vsblast: the capture bench's traffic source. Replays the frames of a
 * pcap through an AF_PACKET socket (sendmmsg, batches of BATCH) at a fixed
 * packet rate, with NOISE synthetic unrelated frames (TCP and UDP, none of
 * them VoIP) after each one. tcpreplay sends one frame per syscall and
 * spins to pace; this sleeps when ahead, so the sender's CPU is the same
 * whether or not a sensor runs, and the bench can attribute the difference.
 *
 * --part picks the frames of one phase of the calls: setup (SIP but the
 * BYE transactions), media (everything but SIP) or bye, so that the bench
 * can set up every call before its RTP flows and end them after.
 *
 * --all-kinds adds ICMP echo requests and ARP requests (one in ten noise
 * frames each) for the tests that count verdicts per kind.
 *
 * Usage: vsblast -i IFACE [-p PPS] [-x NOISE] [-c MAX] [--part P]
 *                [--noise-only] [--all-kinds] [--sipport N] [--seed N]
 *                FILE.pcap
 * -c stops after MAX frames (VoIP and noise slots both count).
 * Prints one line: voip N noise N seconds S pps R errors N cpu_ns N
 * not_ip N; cpu_ns is this thread's CPU time while sending (from
 * schedstat, exact), which includes the receive softirq work the kernel
 * runs on its way out of each send; not_ip the noise frames that are
 * neither IPv4 nor IPv6 (ARP). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32
#define NOISE_POOL 4096
#define NOISE_MAX 1514

enum part { PART_ALL, PART_SETUP, PART_MEDIA, PART_BYE };

struct frames {
	uint8_t *buf;
	size_t used, cap;
	uint32_t *off, *len;
	size_t n, ncap;
};

struct opts {
	const char *ifname, *file;
	double pps;
	int noise, noise_only, all_kinds;
	uint64_t max;
	enum part part;
	uint16_t sipport;
	uint64_t seed;
};

static int frames_add(struct frames *f, const uint8_t *d, uint32_t len)
{
	if (f->used + len > f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 1 << 20;
		uint8_t *b;

		while (cap < f->used + len)
			cap *= 2;
		b = realloc(f->buf, cap);
		if (!b)
			return -ENOMEM;
		f->buf = b;
		f->cap = cap;
	}
	if (f->n == f->ncap) {
		size_t nc = f->ncap ? 2 * f->ncap : 4096;
		uint32_t *o = realloc(f->off, nc * sizeof(*o));
		uint32_t *l = o ? realloc(f->len, nc * sizeof(*l)) : NULL;

		if (o)
			f->off = o;
		if (!l)
			return -ENOMEM;
		f->len = l;
		f->ncap = nc;
	}
	memcpy(f->buf + f->used, d, len);
	f->off[f->n] = (uint32_t)f->used;
	f->len[f->n++] = len;
	f->used += len;
	return 0;
}

/* The L4 payload of an Ethernet/VLAN/IPv4/IPv6 UDP or TCP frame, its
 * ports in *sp and *dp; NULL for anything else. */
static const uint8_t *l4_payload(const uint8_t *d, uint32_t len, uint16_t *sp,
				 uint16_t *dp, uint32_t *plen)
{
	uint32_t o = 12, l4;
	uint16_t et;
	uint8_t proto;

	for (;;) {
		if (o + 2 > len)
			return NULL;
		et = (uint16_t)(d[o] << 8 | d[o + 1]);
		if (et != 0x8100 && et != 0x88a8)
			break;
		o += 4;
	}
	o += 2;
	if (et == 0x0800 && o + 20 <= len) {
		proto = d[o + 9];
		l4 = o + (uint32_t)(d[o] & 15) * 4;
		if ((d[o + 6] & 0x1f) || d[o + 7]) /* a later fragment */
			return NULL;
	} else if (et == 0x86dd && o + 40 <= len) {
		proto = d[o + 6];
		l4 = o + 40;
	} else {
		return NULL;
	}
	if ((proto != 6 && proto != 17) || l4 + 8 > len)
		return NULL;
	*sp = (uint16_t)(d[l4] << 8 | d[l4 + 1]);
	*dp = (uint16_t)(d[l4 + 2] << 8 | d[l4 + 3]);
	if (proto == 6) {
		if (l4 + 20 > len)
			return NULL;
		l4 += (uint32_t)(d[l4 + 12] >> 4) * 4;
	} else {
		l4 += 8;
	}
	if (l4 > len)
		return NULL;
	*plen = len - l4;
	return d + l4;
}

/* A SIP message whose CSeq method is BYE (the request or its answer). */
static int is_bye(const uint8_t *p, uint32_t n)
{
	const uint8_t *c = memmem(p, n, "\nCSeq:", 6);
	const uint8_t *end = p + n;

	if (!c)
		return 0;
	for (c += 6; c < end && (*c == ' ' || (*c >= '0' && *c <= '9')); c++)
		;
	return end - c >= 3 && !memcmp(c, "BYE", 3);
}

static enum part part_of(const uint8_t *d, uint32_t len, uint16_t sipport)
{
	uint16_t sp = 0, dp = 0;
	uint32_t plen = 0;
	const uint8_t *p = l4_payload(d, len, &sp, &dp, &plen);

	if (!p || (sp != sipport && dp != sipport))
		return PART_MEDIA;
	return is_bye(p, plen) ? PART_BYE : PART_SETUP;
}

static int load(const struct opts *o, struct frames *f)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *p = pcap_open_offline(o->file, err);
	int rc;

	if (!p) {
		fprintf(stderr, "vsblast: %s\n", err);
		return -EIO;
	}
	while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
		if (h->caplen != h->len || h->caplen < 14)
			continue;
		if (o->part != PART_ALL &&
		    part_of(d, h->caplen, o->sipport) != o->part)
			continue;
		if (frames_add(f, d, h->caplen)) {
			pcap_close(p);
			return -ENOMEM;
		}
	}
	pcap_close(p);
	return 0;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint16_t ip_csum(const uint8_t *h)
{
	uint32_t s = 0;

	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static const uint8_t noise_mac[12] = { 2, 0, 0xb, 0, 0, 2,
				       2, 0, 0xb, 0, 0, 1 };

/* An ARP request for a random 172.16/16 address. */
static uint32_t arp_frame(uint8_t *b, uint64_t *s)
{
	static const uint8_t head[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };

	memset(b, 0, 60);
	memset(b, 0xff, 6);
	memcpy(b + 6, noise_mac + 6, 6);
	put16(b + 12, 0x0806);
	memcpy(b + 14, head, 8);
	memcpy(b + 22, noise_mac + 6, 6);
	b[28] = 192, b[29] = 168, b[30] = (uint8_t)rnd(s), b[31] = (uint8_t)rnd(s);
	b[38] = 172, b[39] = 16, b[40] = (uint8_t)rnd(s), b[41] = (uint8_t)rnd(s);
	return 60;
}

/* The IPv4 header of a noise frame (random 192.168/16 to 172.16/16). */
static void ip_head(uint8_t *b, uint64_t *s, uint8_t proto, uint32_t l4len)
{
	memcpy(b, noise_mac, 12);
	put16(b + 12, 0x0800);
	b[14] = 0x45;
	put16(b + 16, 20 + l4len);
	put16(b + 18, (uint32_t)rnd(s));
	b[22] = 64;
	b[23] = proto;
	b[26] = 192, b[27] = 168, b[28] = (uint8_t)rnd(s), b[29] = (uint8_t)rnd(s);
	b[30] = 172, b[31] = 16, b[32] = (uint8_t)rnd(s), b[33] = (uint8_t)rnd(s);
	put16(b + 24, ip_csum(b + 14));
}

/* An ICMP echo request with the 56 bytes of ping's default payload. */
static uint32_t icmp_frame(uint8_t *b, uint64_t *s)
{
	uint32_t sum = 0;

	memset(b, 0, 14 + 20 + 64);
	ip_head(b, s, 1, 64);
	b[34] = 8;
	put16(b + 38, (uint32_t)rnd(s));
	put16(b + 40, (uint32_t)rnd(s));
	for (int i = 42; i < 98; i++)
		b[i] = (uint8_t)i;
	for (int i = 34; i < 98; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(b + 36, ~sum & 0xffff);
	return 98;
}

/* One unrelated frame: 40% TCP ACKs, 20% full TCP segments, 25% UDP of
 * 100-300 bytes with random payload (a quarter of which looks like RTP
 * version 2 to a port filter; never to or from sipport), 15% DNS-sized
 * UDP. With all_kinds one in ten is an ICMP echo, one in ten ARP instead.
 * Returns its length. */
static uint32_t noise_frame(uint8_t *b, uint64_t *s, const struct opts *o)
{
	uint32_t r = (uint32_t)(rnd(s) % 100), pay, l4len, len;
	int tcp = r < 60;
	uint16_t sp, dp;

	if (o->all_kinds && r % 10 < 2)
		return r % 10 ? arp_frame(b, s) : icmp_frame(b, s);
	if (r < 40)
		pay = 0;
	else if (r < 60)
		pay = 1380;
	else if (r < 85)
		pay = 100 + (uint32_t)(rnd(s) % 201);
	else
		pay = 40;
	sp = (uint16_t)(20000 + rnd(s) % 40000);
	dp = tcp ? (r & 1 ? 443 : 80) : (r < 85 ? (uint16_t)(1024 + rnd(s) % 60000) : 53);
	if (dp == o->sipport)
		dp++;
	l4len = (tcp ? 20 : 8) + pay;
	len = 14 + 20 + l4len;
	memset(b, 0, len);
	ip_head(b, s, tcp ? 6 : 17, l4len);
	put16(b + 34, sp);
	put16(b + 36, dp);
	if (tcp) {
		b[46] = 5 << 4;
		b[47] = pay ? 0x18 : 0x10; /* PSH+ACK or ACK */
		put16(b + 48, 502);
	} else {
		put16(b + 38, l4len);
	}
	for (uint32_t i = len - pay; i < len; i++)
		b[i] = (uint8_t)rnd(s);
	/* DNS-sized ones start like a DNS query id, never RTP-shaped. */
	if (!tcp && dp == 53)
		b[42] &= 0x3f;
	return len < 60 ? 60 : len;
}

static int noise_pool(struct frames *f, const struct opts *o)
{
	uint8_t b[NOISE_MAX];
	uint64_t s = o->seed ? o->seed : 1;

	for (int i = 0; i < NOISE_POOL; i++)
		if (frames_add(f, b, noise_frame(b, &s, o)))
			return -ENOMEM;
	return 0;
}

static int open_sock(const char *ifname)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int one = 1;
	/* Protocol 0: a send-only socket, no receive hook on the device. */
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		close(fd);
		return -ENODEV;
	}
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	return fd;
}

/* This thread's CPU time in ns (schedstat's first field), 0 if unknown. */
static uint64_t thread_cpu_ns(void)
{
	unsigned long long ns = 0;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Sleeps until slot `slot` is due when more than 20 us ahead. */
static void pace(uint64_t t0, double pps, uint64_t slot)
{
	uint64_t due, now;
	struct timespec ts;

	if (pps <= 0)
		return;
	due = t0 + (uint64_t)((double)slot * 1e9 / pps);
	now = now_ns();
	if (due <= now + 20000)
		return;
	ts.tv_sec = (time_t)(due / 1000000000u);
	ts.tv_nsec = (long)(due % 1000000000u);
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

struct sender {
	int fd;
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	int n;
	uint64_t sent, errors;
};

static void flush(struct sender *s)
{
	int done = 0, rc;

	while (done < s->n) {
		rc = sendmmsg(s->fd, s->m + done, (unsigned)(s->n - done), 0);
		if (rc > 0) {
			done += rc;
			continue;
		}
		s->errors++;
		if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
			done++; /* skip the frame the device refused */
			continue;
		}
		usleep(50);
	}
	s->sent += (uint64_t)s->n;
	s->n = 0;
}

static void queue(struct sender *s, const struct frames *f, size_t i)
{
	s->iov[s->n].iov_base = f->buf + f->off[i];
	s->iov[s->n].iov_len = f->len[i];
	s->m[s->n].msg_hdr = (struct msghdr){ .msg_iov = &s->iov[s->n],
					      .msg_iovlen = 1 };
	if (++s->n == BATCH)
		flush(s);
}

/* Frame i of f is IPv4 or IPv6 (noise frames carry no VLAN tag). */
static int is_ip(const struct frames *f, size_t i)
{
	const uint8_t *d = f->buf + f->off[i];
	uint16_t et = (uint16_t)(d[12] << 8 | d[13]);

	return et == 0x0800 || et == 0x86dd;
}

static int blast(const struct opts *o, const struct frames *voip,
		 const struct frames *noise)
{
	struct sender s = { .fd = open_sock(o->ifname) };
	uint64_t t0, slot = 0, nv = 0, nn = 0, not_ip = 0, dt, cpu;
	size_t k = 0;

	if (s.fd < 0) {
		fprintf(stderr, "vsblast: %s: %s\n", o->ifname, strerror(-s.fd));
		return 1;
	}
	cpu = thread_cpu_ns();
	t0 = now_ns();
	for (size_t i = 0; i < voip->n && slot < o->max; i++) {
		for (int j = -1; j < o->noise && slot < o->max; j++, slot++) {
			if (slot % BATCH == 0)
				pace(t0, o->pps, slot);
			if (j < 0 && o->noise_only)
				continue;
			if (j < 0) {
				queue(&s, voip, i);
				nv++;
				continue;
			}
			not_ip += !is_ip(noise, k % noise->n);
			queue(&s, noise, k++ % noise->n);
			nn++;
		}
	}
	flush(&s);
	dt = now_ns() - t0;
	cpu = thread_cpu_ns() - cpu;
	close(s.fd);
	printf("voip %llu noise %llu seconds %.3f pps %.0f errors %llu "
	       "cpu_ns %llu not_ip %llu\n", (unsigned long long)nv,
	       (unsigned long long)nn, (double)dt / 1e9,
	       (double)(nv + nn) * 1e9 / (double)(dt ? dt : 1),
	       (unsigned long long)s.errors, (unsigned long long)cpu,
	       (unsigned long long)not_ip);
	return 0;
}

static void usage(void)
{
	fputs("usage: vsblast -i IFACE [-p PPS] [-x NOISE] [-c MAX] [--part "
	      "all|setup|media|bye] [--noise-only] [--all-kinds] [--sipport N] "
	      "[--seed N] FILE.pcap\n", stderr);
	exit(2);
}

static enum part parse_part(const char *s)
{
	static const char *const names[] = { "all", "setup", "media", "bye" };

	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i]))
			return (enum part)i;
	usage();
	return PART_ALL;
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "part", required_argument, NULL, 'P' },
		{ "noise-only", no_argument, NULL, 'N' },
		{ "all-kinds", no_argument, NULL, 'K' },
		{ "sipport", required_argument, NULL, 'S' },
		{ "seed", required_argument, NULL, 's' },
		{ 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "i:p:x:c:", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o->ifname = optarg; break;
		case 'p': o->pps = atof(optarg); break;
		case 'x': o->noise = atoi(optarg); break;
		case 'c': o->max = strtoull(optarg, NULL, 0); break;
		case 'P': o->part = parse_part(optarg); break;
		case 'N': o->noise_only = 1; break;
		case 'K': o->all_kinds = 1; break;
		case 'S': o->sipport = (uint16_t)atoi(optarg); break;
		case 's': o->seed = strtoull(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (!o->ifname || optind != argc - 1 || o->noise < 0)
		usage();
	o->file = argv[optind];
}

int main(int argc, char **argv)
{
	struct opts o = { .sipport = 5060, .seed = 7, .max = UINT64_MAX };
	struct frames voip = { 0 }, noise = { 0 };
	int rc;

	parse(argc, argv, &o);
	if (load(&o, &voip) || (o.noise && noise_pool(&noise, &o))) {
		fputs("vsblast: cannot load frames\n", stderr);
		return 1;
	}
	rc = blast(&o, &voip, &noise);
	free(voip.buf), free(voip.off), free(voip.len);
	free(noise.buf), free(noise.off), free(noise.len);
	return rc;
}
