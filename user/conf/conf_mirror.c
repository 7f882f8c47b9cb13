// SPDX-License-Identifier: GPL-2.0-or-later
/* The packet-buffer keys of packet mirroring (packetbuffer_*,
 * receive_packetbuffer_maximum_time_diff_s), the legacy mirror keys
 * (mirror_*) and the live capture tuning keys (snaplen, ringbuffer,
 * promisc). Kept apart from conf_keys.c so that each file stays small. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf/conf_int.h"

static int set_u32(uint32_t *dst, const char *v, uint32_t min, uint32_t max,
		   const char **e, const char *what)
{
	*e = what;
	return vs_conf_parse_u32(v, min, max, dst);
}

static int set_bool(int *dst, const char *v, const char **e)
{
	*e = "yes or no";
	return vs_conf_parse_bool(v, dst);
}

static int pb_set(struct vs_conf_pb *pb, const char *k, const char *v,
		  const char **e)
{
	if (!strcasecmp(k, "packetbuffer_total_maxheap"))
		return set_u32(&pb->maxheap_mb, v, 1, 1u << 20, e,
			       "megabytes of memory buffer (1-1048576)");
	if (!strcasecmp(k, "packetbuffer_file_totalmaxsize"))
		return set_u32(&pb->file_maxsize_mb, v, 0, 1u << 24, e,
			       "megabytes of disk buffer (0: none)");
	if (!strcasecmp(k, "packetbuffer_file_path"))
		return vs_conf_parse_str(pb->file_path, sizeof(pb->file_path),
					 v, e, "a directory (at most 255 bytes)");
	if (!strcasecmp(k, "receive_packetbuffer_maximum_time_diff_s"))
		return set_u32(&pb->recv_max_diff_s, v, 1, 86400, e,
			       "a number of seconds (1-86400)");
	if (!strcasecmp(k, "mirror_destination_ip"))
		return vs_conf_parse_ip(pb->mirror_dest_ip,
					sizeof(pb->mirror_dest_ip), v, e,
					"an IPv4 or IPv6 address");
	if (!strcasecmp(k, "mirror_destination_port"))
		return vs_conf_parse_port(&pb->mirror_dest_port, v, e);
	if (!strcasecmp(k, "mirror_bind_ip"))
		return vs_conf_parse_ip(pb->mirror_bind_ip,
					sizeof(pb->mirror_bind_ip), v, e,
					"an IPv4 or IPv6 address");
	if (!strcasecmp(k, "mirror_bind_port"))
		return vs_conf_parse_port(&pb->mirror_bind_port, v, e);
	if (!strcasecmp(k, "mirror_bind_dlt"))
		return set_u32(&pb->mirror_bind_dlt, v, 0, 65535, e,
			       "a pcap link type number (1 = Ethernet)");
	if (!strcasecmp(k, "mirror_bind_sensor_id_by_sender"))
		return set_bool(&pb->mirror_id_by_sender, v, e);
	return -ENOENT;
}

static const char *const tc_egress_names[] = { "auto", "tcx", "clsact" };

#define N_TC_EGRESS (sizeof(tc_egress_names) / sizeof(tc_egress_names[0]))

static int set_tc_egress(enum vs_tc_egress *out, const char *v,
			 const char **e)
{
	*e = "auto, tcx or clsact";
	for (size_t i = 0; i < N_TC_EGRESS; i++) {
		if (!strcasecmp(v, tc_egress_names[i])) {
			*out = (enum vs_tc_egress)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int cap_set(struct vs_conf_cap *cap, const char *k, const char *v,
		   const char **e)
{
	if (!strcasecmp(k, "snaplen"))
		return set_u32(&cap->snaplen, v, 64, 4095, e,
			       "bytes captured per frame (64-4095)");
	if (!strcasecmp(k, "ringbuffer"))
		return set_u32(&cap->ringbuffer_mb, v, 1, 1024, e,
			       "megabytes per capture ring (1-1024)");
	if (!strcasecmp(k, "promisc"))
		return set_bool(&cap->promisc, v, e);
	if (!strcasecmp(k, "tc_egress"))
		return set_tc_egress(&cap->tc_egress, v, e);
	if (!strcasecmp(k, "status_interval"))
		return set_u32(&cap->status_s, v, 0, 86400, e,
			       "seconds between status lines (0-86400, "
			       "0 = none)");
	return -ENOENT;
}

int vs_conf_pb_set(struct vs_conf *c, const char *k, const char *v,
		   const char **e)
{
	int err = pb_set(&c->pb, k, v, e);

	if (!err)
		c->pb.given = 1;
	if (err != -ENOENT)
		return err;
	err = cap_set(&c->cap, k, v, e);
	if (!err)
		c->cap.given = 1;
	return err;
}

void vs_conf_pb_init(struct vs_conf *c)
{
	c->pb.maxheap_mb = 256;
	c->pb.recv_max_diff_s = 30;
	c->pb.mirror_bind_dlt = 1;
	c->cap.snaplen = 2048;
	c->cap.ringbuffer_mb = 4;
	c->cap.promisc = 1;
	c->cap.status_s = 60;
}

/* Only the groups a key of was given, so a short config stays short. */
void vs_conf_pb_print(const struct vs_conf *c, FILE *out)
{
	const struct vs_conf_pb *pb = &c->pb;

	if (pb->given || c->chan.packetbuffer_sender) {
		fprintf(out, "packetbuffer_total_maxheap = %u\n",
			pb->maxheap_mb);
		fprintf(out, "packetbuffer_file_totalmaxsize = %u\n",
			pb->file_maxsize_mb);
		if (pb->file_path[0])
			fprintf(out, "packetbuffer_file_path = %s\n",
				pb->file_path);
		fprintf(out, "receive_packetbuffer_maximum_time_diff_s = %u\n",
			pb->recv_max_diff_s);
	}
	if (pb->mirror_dest_ip[0])
		fprintf(out, "mirror_destination_ip = %s\n"
			     "mirror_destination_port = %u\n",
			pb->mirror_dest_ip, pb->mirror_dest_port);
	if (pb->mirror_bind_ip[0] || pb->mirror_bind_port)
		fprintf(out, "mirror_bind_ip = %s\nmirror_bind_port = %u\n"
			     "mirror_bind_dlt = %u\n"
			     "mirror_bind_sensor_id_by_sender = %s\n",
			pb->mirror_bind_ip[0] ? pb->mirror_bind_ip : "0.0.0.0",
			pb->mirror_bind_port,
			pb->mirror_bind_dlt,
			pb->mirror_id_by_sender ? "yes" : "no");
	if (c->cap.given)
		fprintf(out, "snaplen = %u\nringbuffer = %u\npromisc = %s\n"
			     "status_interval = %u\ntc_egress = %s\n",
			c->cap.snaplen, c->cap.ringbuffer_mb,
			c->cap.promisc ? "yes" : "no", c->cap.status_s,
			tc_egress_names[c->cap.tc_egress < N_TC_EGRESS ?
						 c->cap.tc_egress : 0]);
}
