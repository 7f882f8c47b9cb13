/* SPDX-License-Identifier: GPL-2.0-or-later */
/* conf/: voipmonitor.conf syntax (key = value, # and ; comments, optional
 * [general] section, repeated keys accumulate) into struct vs_conf. */
#ifndef VS_CONF_H
#define VS_CONF_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "core/addr.h"

#define VS_CONF_MAX_NATALIAS 64
#define VS_CONF_MAX_IPFILTER 1024
#define VS_CONF_MAX_DEST 8
#define VS_CONF_CHAN_PORT 60024

enum vs_savertp { VS_SAVERTP_NO = 0, VS_SAVERTP_YES, VS_SAVERTP_HEADER };

/* capture_mode: how live frames reach the daemon (docs/capture.md). */
enum vs_capture_mode {
	VS_CAPTURE_COPY = 0, /* XDP + TC egress copy to ring buffers */
	VS_CAPTURE_AFXDP,    /* XDP redirect to AF_XDP, the rest dropped */
	VS_CAPTURE_PCAP,     /* libpcap (TPACKET_V3), no BPF programs */
};

/* tc_egress: how copy mode's egress program is attached. tcx (a BPF link,
 * kernel 6.6) needs no qdisc, so received frames skip the clsact ingress
 * hook a qdisc would turn on; clsact works on any kernel. */
enum vs_tc_egress {
	VS_TC_AUTO = 0, /* tcx, else clsact */
	VS_TC_TCX,	/* tcx only: an error where the kernel lacks it */
	VS_TC_CLSACT,	/* a clsact qdisc and a filter, as tc(8) makes */
};

struct vs_natalias {
	struct vs_addr from; /* address written in SDP (private) */
	struct vs_addr to;   /* address the packets really carry (public) */
};

struct vs_ipnet {
	struct vs_addr addr; /* masked */
	uint8_t prefix;	     /* in the 128-bit space: IPv4 /24 is 120 */
};

struct vs_conf {
	uint16_t id_sensor;		/* 0 = not set */
	uint8_t sip_ports[65536 / 8];	/* sipport bitmap; default 5060 */
	char spooldir[PATH_MAX];	/* default /var/spool/voxsense */
	int savesip;			/* default yes */
	enum vs_savertp savertp;	/* default yes */
	char sqlite_path[PATH_MAX];	/* sqlite_path; default
					 * <spooldir>/voxsense.db */
	int cdr_check_exists_callid;	/* default no */
	int deduplicate;		/* drop a UDP datagram seen twice within
					 * 50 ms (two interfaces); default no */
	uint32_t rtptimeout_s;		/* default 300 */
	uint32_t sipwithoutrtptimeout_s;/* default 3600 */
	uint32_t absolute_timeout_s;	/* default 14400 */
	char *filter;			/* tcpdump syntax; NULL = none */
	uint32_t n_natalias;
	struct vs_natalias natalias[VS_CONF_MAX_NATALIAS];
	uint32_t n_ipfilter;
	struct vs_ipnet ipfilter[VS_CONF_MAX_IPFILTER]; /* interface_ip_filter */
	char interface[256];		/* eth0 | eth0,eth1 | any */
	enum vs_capture_mode capture_mode; /* default copy */
	/* Load bookkeeping, private to conf/ (set and freed there). */
	int sipport_given;		/* the first sipport replaces 5060 */
	int sqlite_path_given;		/* 0: sqlite_path follows spooldir */
	char **later_values;		/* known keys not used yet, by index */
	struct vs_conf_mysql {		/* MariaDB store; used when host or
					 * socket is set */
		char host[256];		/* mysqlhost */
		uint16_t port;		/* mysqlport; 0 = 3306 */
		char socket[256];	/* mysqlsocket */
		char db[65];		/* mysqldb; default voipmonitor */
		char user[129];		/* mysqlusername, alias mysqluser;
					 * default root */
		char password[256];	/* mysqlpassword */
		unsigned writers;	/* mysqlstore_max_threads_cdr: CDR
					 * writer connections of the central
					 * server; 0 = default (2) */
	} mysql;
	struct vs_conf_chan {		/* the sensor-server channel
					 * (docs/distributed.md) */
		char bind[64];		/* server_bind: "" = not a server */
		uint16_t bind_port;	/* server_bind_port [60024] */
		char password[256];	/* server_password */
		uint32_t n_dest;	/* server_destination, in order */
		char dest[VS_CONF_MAX_DEST][256]; /* "host" or "host:port" */
		uint16_t dest_port;	/* server_destination_port [60024] */
		int packetbuffer_sender;/* yes: mirroring [no] */
		char manager_ip[64];	/* bind address of outgoing conns */
		int compress;		/* enum vs_chan_compress [1 zstd] */
		uint32_t max_time_diff_s; /* client_server_connect_maximum_
					   * time_diff_s [2] */
		char tls_cert[256], tls_key[256]; /* server_tls_cert/_key */
		char tls_ca[256];	/* server_tls_ca */
		char tls_fingerprint[128]; /* server_tls_fingerprint */
		uint32_t cdr_spool_mb;	/* cdr_spool_maxsize: MB of CDRs a
					 * sensor keeps for its server [1024] */
		int given;		/* any of these keys was set */
	} chan;
	struct vs_conf_pb {		/* packet mirroring and legacy mirror
					 * (docs/distributed.md) */
		uint32_t maxheap_mb;	/* packetbuffer_total_maxheap [256] */
		uint32_t file_maxsize_mb; /* packetbuffer_file_totalmaxsize
					   * [0: no disk buffer] */
		char file_path[256];	/* packetbuffer_file_path
					 * ["": <spooldir>/packetbuffer] */
		uint32_t recv_max_diff_s; /* receive_packetbuffer_maximum_
					   * time_diff_s [30] */
		char mirror_dest_ip[64];  /* mirror_destination_ip */
		uint16_t mirror_dest_port;/* mirror_destination_port */
		char mirror_bind_ip[64];  /* mirror_bind_ip */
		uint16_t mirror_bind_port;/* mirror_bind_port */
		uint32_t mirror_bind_dlt; /* mirror_bind_dlt [1 = Ethernet] */
		int mirror_id_by_sender;  /* mirror_bind_sensor_id_by_sender
					   * [no] */
		int given;
	} pb;
	struct vs_conf_cap {		/* live capture tuning
					 * (docs/capture.md) */
		uint32_t snaplen;	/* snaplen [2048], 64-4095 */
		uint32_t ringbuffer_mb;	/* ringbuffer: MB per CPU ring (copy)
					 * or libpcap buffer (pcap) [4] */
		int promisc;		/* promisc: on named interfaces in
					 * afxdp and pcap mode [yes] */
		uint32_t status_s;	/* status_interval: seconds between
					 * live capture status lines [60],
					 * 0 = none */
		enum vs_tc_egress tc_egress; /* tc_egress: how copy mode
					 * hooks egress [auto] */
		int given;
	} cap;
};

/* Fills defaults. */
void vs_conf__init(struct vs_conf *c);
/* Frees what vs_conf owns (filter). */
void vs_conf__free(struct vs_conf *c);

/* Reads path into c (on top of what c holds). 0, or -EINVAL after printing
 * "voxsense: error: FILE:LINE: KEY = VALUE: expected ..." to stderr; -errno
 * when the file cannot be read. Unknown keys: one warning with file:line. */
int vs_conf__load(struct vs_conf *c, const char *path);

/* Applies one "key = value" (used by load and by tests). where is "file:line"
 * for messages. Returns 0, 1 for an unknown key (warned), or -EINVAL. */
int vs_conf__set(struct vs_conf *c, const char *key, const char *value,
		 const char *where);

/* Prints the effective configuration as a loadable config file. */
void vs_conf__print(const struct vs_conf *c, FILE *out);

static inline int vs_conf__is_sip_port(const struct vs_conf *c, uint16_t port)
{
	return (c->sip_ports[port >> 3] >> (port & 7)) & 1;
}

/* True when interface_ip_filter is empty or holds a or b. */
int vs_conf__ip_allowed(const struct vs_conf *c, const struct vs_addr *a,
			const struct vs_addr *b);

#endif
