// SPDX-License-Identifier: GPL-2.0-or-later
/* capture/live: promiscuous mode for dedicated interfaces (afxdp mode;
 * pcap mode asks libpcap, which does the same). A packet socket joins the
 * interface's PACKET_MR_PROMISC membership: the kernel counts such
 * requests and drops ours when the socket closes, on exit or crash, so
 * the interface returns to whatever state it had (another tool's
 * promiscuous mode is left alone). Protocol 0: the socket receives
 * nothing, it only holds the membership. */
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture/live_int.h"
#include "core/log.h"

int vs_live__promisc_on(int ifindex)
{
	struct packet_mreq mr = { .mr_ifindex = ifindex,
				  .mr_type = PACKET_MR_PROMISC };
	char dev[IF_NAMESIZE] = "?";
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0), err;

	if (fd >= 0 && !setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
				   sizeof(mr)))
		return fd;
	err = -errno;
	if (fd >= 0)
		close(fd);
	if_indextoname((unsigned)ifindex, dev);
	vs_warn("%s: promiscuous mode: %s (needs CAP_NET_RAW); capturing "
		"without it", dev, strerror(-err));
	return err;
}
