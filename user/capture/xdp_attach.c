// SPDX-License-Identifier: GPL-2.0-or-later
/* capture/xdp: attach to and detach from interfaces. XDP native where the
 * driver has it, generic otherwise; in copy mode the egress program by a
 * tcx link where the kernel has one (6.6), else on a clsact qdisc. What a
 * crashed voxsense left attached is recognised by program name (XDP) or
 * filter handle (clsact) and replaced; a tcx link dies with its process.
 * Another tool's XDP program is never touched. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>

#include "capture/xdp_int.h"
#include "core/log.h"

static const char *ifname(int ifindex, char *buf)
{
	if (!if_indextoname((unsigned)ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "if%d", ifindex);
	return buf;
}

/* Name of program id, or "" when it is gone. */
static void prog_name(__u32 id, char *name, size_t len)
{
	struct bpf_prog_info info = { 0 };
	__u32 ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	name[0] = 0;
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(name, len, "%s", info.name);
	close(fd);
}

/* Detaches a stale voxsense program; -EBUSY when someone else's is on. */
static int clear_stale_xdp(int ifindex, const char *dev)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char name[BPF_OBJ_NAME_LEN];
	__u32 mode;

	if (bpf_xdp_query(ifindex, 0, &q) || !q.prog_id)
		return 0;
	prog_name(q.prog_id, name, sizeof(name));
	if (strncmp(name, "vs_xdp_", 7)) {
		vs_err("%s: XDP program '%s' (id %u) is attached; not "
		       "replacing another tool's program", dev, name,
		       q.prog_id);
		return -EBUSY;
	}
	mode = q.attach_mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE :
		q.attach_mode == XDP_ATTACHED_HW ? XDP_FLAGS_HW_MODE :
		XDP_FLAGS_DRV_MODE;
	vs_warn("%s: replacing stale voxsense XDP program id %u", dev,
		q.prog_id);
	return bpf_xdp_detach(ifindex, mode, NULL);
}

static int attach_xdp(struct vs_xdp_if *i, int prog_fd, const char *dev)
{
	__u32 flags = XDP_FLAGS_UPDATE_IF_NOEXIST | XDP_FLAGS_DRV_MODE;
	int err = clear_stale_xdp(i->ifindex, dev);

	if (err)
		return err;
	/* The mode is logged once per interface by capture/live, with the
	 * promiscuous state: see vs_xdp__if_mode(). */
	err = bpf_xdp_attach(i->ifindex, prog_fd, flags, NULL);
	if (err) {
		i->native_err = err;
		flags = XDP_FLAGS_UPDATE_IF_NOEXIST | XDP_FLAGS_SKB_MODE;
		err = bpf_xdp_attach(i->ifindex, prog_fd, flags, NULL);
	}
	if (err) {
		vs_err("%s: attaching XDP: %s", dev, strerror(-err));
		return err;
	}
	i->xdp_flags = flags & ~XDP_FLAGS_UPDATE_IF_NOEXIST;
	return 0;
}

/* Whether the clsact qdisc already on ifindex is one a crashed run of
 * ours made (then ours to remove). */
static int stale_made(const struct vs_xdp *x, int ifindex)
{
	for (int k = 0; k < x->n_stale_tc; k++)
		if (x->stale_tc[k] == ifindex)
			return 1;
	return 0;
}

/* enum bpf_attach_type's BPF_TCX_EGRESS (kernel 6.6): Debian 12's UAPI
 * headers (6.1) do not have it, libbpf 1.1 passes it through. */
#define VS_TCX_EGRESS 47

/* Our filter on a clsact qdisc, left by a crashed run that used clsact
 * (an older kernel, tc_egress = clsact, an older voxsense): removed, and
 * the qdisc with it if that run made it, or egress would be seen twice. */
static void clear_stale_clsact(struct vs_xdp *x, int ifindex,
			       const char *dev)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = VS_TC_HANDLE,
		    .priority = VS_TC_PRIO);

	if (!bpf_tc_detach(&hook, &opts))
		vs_warn("%s: removed a stale voxsense TC egress filter", dev);
	if (stale_made(x, ifindex)) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
}

/* A tcx link: no qdisc, so received frames do not pass a clsact ingress
 * hook (with no filter on it, still a per-frame cost on a busy host). */
static int attach_tcx(struct vs_xdp *x, struct vs_xdp_if *i, int prog_fd,
		      const char *dev)
{
	int fd = bpf_link_create(prog_fd, i->ifindex,
				 (enum bpf_attach_type)VS_TCX_EGRESS, NULL);

	if (fd < 0)
		return fd;
	i->tcx_fd = fd;
	clear_stale_clsact(x, i->ifindex, dev);
	return 0;
}

static int attach_clsact(struct vs_xdp *x, struct vs_xdp_if *i, int prog_fd,
			 const char *dev)
{
	__u32 key = (__u32)i->ifindex;
	__u8 one = 1;
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = i->ifindex,
		    .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = VS_TC_HANDLE,
		    .priority = VS_TC_PRIO, .prog_fd = prog_fd,
		    .flags = BPF_TC_F_REPLACE);
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST) {
		vs_err("%s: clsact qdisc: %s", dev, strerror(-err));
		return err;
	}
	i->tc_made_hook = !err || stale_made(x, i->ifindex);
	/* Told to the next start, should this run crash. */
	if (i->tc_made_hook)
		bpf_map_update_elem(bpf_map__fd(x->skel->maps.tc_made), &key,
				    &one, 0);
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		vs_err("%s: attaching TC egress: %s", dev, strerror(-err));
		return err;
	}
	i->tc_on = 1;
	return 0;
}

static int attach_tc(struct vs_xdp *x, struct vs_xdp_if *i, int prog_fd,
		     const char *dev)
{
	int err = 0;

	if (x->tc_egress != VS_TC_CLSACT) {
		err = attach_tcx(x, i, prog_fd, dev);
		if (!err)
			return 0;
		i->tcx_err = err;
		if (x->tc_egress == VS_TC_TCX) {
			vs_err("%s: attaching TC egress by tcx (tc_egress = "
			       "tcx): %s", dev, strerror(-err));
			return err;
		}
	}
	return attach_clsact(x, i, prog_fd, dev);
}

int vs_xdp__attach_all(struct vs_xdp *x, const int *ifindex, int n)
{
	struct voxsense *s = x->skel;
	int xdp_fd = bpf_program__fd(x->afxdp ? s->progs.vs_xdp_xsk :
						s->progs.vs_xdp_copy);
	int tc_fd = bpf_program__fd(s->progs.vs_tc_egress);
	char dev[IF_NAMESIZE];
	int err;

	if (n > VS_XDP_MAX_IF)
		return -E2BIG;
	for (int k = 0; k < n; k++) {
		struct vs_xdp_if *i = &x->ifs[x->n_if++];

		i->ifindex = ifindex[k];
		i->tcx_fd = -1;
		ifname(i->ifindex, dev);
		err = attach_xdp(i, xdp_fd, dev);
		if (!err && !x->afxdp)
			err = attach_tc(x, i, tc_fd, dev);
		if (err)
			return err;
	}
	return 0;
}

static void detach_tc(struct vs_xdp_if *i, const char *dev)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = i->ifindex,
		    .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = VS_TC_HANDLE,
		    .priority = VS_TC_PRIO);
	int err = bpf_tc_detach(&hook, &opts);

	if (err && err != -ENOENT && err != -ENODEV)
		vs_warn("%s: detaching TC egress: %s", dev, strerror(-err));
	/* The qdisc goes only if we made it: another tool may use it. */
	if (i->tc_made_hook) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	i->tc_on = 0;
}

void vs_xdp__detach_all(struct vs_xdp *x)
{
	char dev[IF_NAMESIZE];
	int err;

	for (int k = 0; k < x->n_if; k++) {
		struct vs_xdp_if *i = &x->ifs[k];

		ifname(i->ifindex, dev);
		if (i->tc_on)
			detach_tc(i, dev);
		if (i->tcx_fd >= 0) {
			bpf_link_detach(i->tcx_fd);
			close(i->tcx_fd);
			i->tcx_fd = -1;
		}
		if (i->xdp_flags) {
			err = bpf_xdp_detach(i->ifindex, i->xdp_flags, NULL);
			if (err && err != -ENODEV)
				vs_warn("%s: detaching XDP: %s", dev,
					strerror(-err));
			i->xdp_flags = 0;
		}
	}
	x->n_if = 0;
}

const char *vs_xdp__if_mode(const struct vs_xdp *x, int ifindex, char *buf,
			    size_t len)
{
	for (int k = 0; k < x->n_if; k++) {
		const struct vs_xdp_if *i = &x->ifs[k];

		if (i->ifindex != ifindex || !i->xdp_flags)
			continue;
		if (i->xdp_flags & XDP_FLAGS_DRV_MODE)
			snprintf(buf, len, "native XDP");
		else
			snprintf(buf, len, "generic XDP (native refused: %s)",
				 strerror(-i->native_err));
		if (i->tcx_fd >= 0)
			snprintf(buf + strlen(buf), len - strlen(buf),
				 ", TC egress by tcx");
		else if (i->tc_on && i->tcx_err)
			snprintf(buf + strlen(buf), len - strlen(buf),
				 ", TC egress on clsact (tcx refused: %s)",
				 strerror(-i->tcx_err));
		else if (i->tc_on)
			snprintf(buf + strlen(buf), len - strlen(buf),
				 ", TC egress on clsact");
		return buf;
	}
	snprintf(buf, len, "no XDP");
	return buf;
}
