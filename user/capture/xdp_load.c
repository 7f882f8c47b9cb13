// SPDX-License-Identifier: GPL-2.0-or-later
/* capture/xdp: load the programs, create one ring buffer per CPU, pin,
 * attach; and the reverse. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/xdp_int.h"
#include "core/log.h"

/* libbpf's messages, demoted: its warnings are details of a failure that
 * we report ourselves in one line, so they show with -vv only. */
static int libbpf_log(enum libbpf_print_level lvl, const char *fmt,
		      va_list ap)
{
	char buf[512];
	size_t n;

	if (lvl == LIBBPF_DEBUG || vs_log_get_level() < VS_LOG_DEBUG)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	vs_dbg("libbpf: %s", buf);
	return 0;
}

/* One BPF_MAP_TYPE_RINGBUF per possible CPU, inserted into `rings`. */
static int make_rings(struct vs_xdp *x)
{
	int outer = bpf_map__fd(x->skel->maps.rings);
	char name[16];
	int err;

	for (int i = 0; i < x->nrings; i++) {
		snprintf(name, sizeof(name), "vs_ring%u", (unsigned)i & 0xff);
		x->ring_fds[i] = bpf_map_create(BPF_MAP_TYPE_RINGBUF, name, 0,
						0, x->ring_bytes, NULL);
		if (x->ring_fds[i] < 0) {
			err = -errno;
			vs_err("ring buffer %d: %s", i, strerror(-err));
			return err;
		}
		if (bpf_map_update_elem(outer, &i, &x->ring_fds[i], 0)) {
			err = -errno;
			vs_err("rings[%d]: %s", i, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* Chooses the programs of the mode and sizes the per-CPU maps. */
static int load(struct vs_xdp *x)
{
	struct voxsense *s = x->skel;
	int err, ncpu = libbpf_num_possible_cpus();

	if (ncpu < 1 || ncpu > VS_XDP_MAX_RINGS)
		return ncpu < 0 ? ncpu : -E2BIG;
	x->nrings = x->afxdp ? 0 : ncpu;
	bpf_program__set_autoload(s->progs.vs_xdp_copy, !x->afxdp);
	bpf_program__set_autoload(s->progs.vs_tc_egress, !x->afxdp);
	bpf_program__set_autoload(s->progs.vs_xdp_xsk, x->afxdp);
	bpf_map__set_max_entries(s->maps.rings, ncpu);
	/* The rings may differ from the template in size: the kernel
	 * compares an inner ring buffer's type and flags, not its size. */
	err = voxsense__load(s);
	if (err)
		return err;
	return x->afxdp ? 0 : make_rings(x);
}

/* The interfaces whose clsact qdisc a crashed run had made: its pinned
 * tc_made map, if any. */
static void stale_tc_made(struct vs_xdp *x)
{
	char path[PATH_MAX + 16];
	__u32 key, next, *prev = NULL;
	int fd;

	snprintf(path, sizeof(path), "%s/tc_made", x->pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return;
	while (x->n_stale_tc < VS_XDP_MAX_IF &&
	       !bpf_map_get_next_key(fd, prev, &next)) {
		x->stale_tc[x->n_stale_tc++] = (int)next;
		key = next;
		prev = &key;
	}
	close(fd);
}

struct vs_xdp *vs_xdp__open(const struct vs_xdp_opts *o)
{
	struct vs_xdp *x = calloc(1, sizeof(*x));
	int err;

	if (!x)
		return NULL;
	for (int i = 0; i < VS_XDP_MAX_RINGS; i++)
		x->ring_fds[i] = -1;
	x->afxdp = o->afxdp;
	x->tc_egress = o->conf ? o->conf->cap.tc_egress : VS_TC_AUTO;
	x->ring_bytes = o->ring_bytes ? o->ring_bytes : VS_RING_BYTES;
	snprintf(x->pin_dir, sizeof(x->pin_dir), "%s",
		 o->pin_dir ? o->pin_dir : VS_PIN_DIR);
	libbpf_set_print(libbpf_log);
	x->skel = voxsense__open();
	if (!x->skel) {
		err = -errno;
		goto fail;
	}
	err = load(x);
	if (!err)
		err = vs_xdp__fill_maps(x, o);
	if (err)
		goto fail;
	/* Pins of a crashed run go first: they would hold its maps. What
	 * it says of the clsact qdiscs it made is read before. */
	stale_tc_made(x);
	vs_xdp__unpin(x->pin_dir);
	vs_xdp__pin(x);
	err = vs_xdp__attach_all(x, o->ifindex, o->n_if);
	if (err)
		goto fail;
	return x;
fail:
	vs_xdp__close(x);
	errno = err < 0 ? -err : EINVAL;
	return NULL;
}

void vs_xdp__close(struct vs_xdp *x)
{
	if (!x)
		return;
	vs_xdp__detach_all(x);
	vs_xdp__unmap_media(x);
	if (x->skel)
		vs_xdp__unpin(x->pin_dir);
	for (int i = 0; i < VS_XDP_MAX_RINGS; i++)
		if (x->ring_fds[i] >= 0)
			close(x->ring_fds[i]);
	voxsense__destroy(x->skel);
	free(x);
}

/* Maps by their names, programs as prog_<name>: what an admin reads. */
int vs_xdp__pin(struct vs_xdp *x)
{
	struct bpf_program *p;
	char path[PATH_MAX + 32];
	int err;

	err = bpf_object__pin_maps(x->skel->obj, x->pin_dir);
	if (err) {
		vs_warn("pinning maps in %s: %s (bpffs not mounted?); "
			"capture goes on unpinned", x->pin_dir, strerror(-err));
		return err;
	}
	bpf_object__for_each_program(p, x->skel->obj) {
		if (!bpf_program__autoload(p))
			continue;
		snprintf(path, sizeof(path), "%s/prog_%s", x->pin_dir,
			 bpf_program__name(p));
		err = bpf_program__pin(p, path);
		if (err)
			vs_warn("pinning %s: %s", path, strerror(-err));
	}
	return 0;
}

/* Removes everything in dir (ours alone) and dir itself. */
void vs_xdp__unpin(const char *dir)
{
	char path[PATH_MAX + 256];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path))
			vs_warn("removing pin %s: %s", path, strerror(errno));
	}
	closedir(d);
	rmdir(dir);
}

int vs_xdp__nrings(const struct vs_xdp *x)
{
	return x->nrings;
}

int vs_xdp__ring_fd(const struct vs_xdp *x, int i)
{
	return i >= 0 && i < x->nrings ? x->ring_fds[i] : -1;
}

int vs_xdp__xsks_fd(const struct vs_xdp *x)
{
	return bpf_map__fd(x->skel->maps.xsks);
}

int vs_xdp__xsk_slots_fd(const struct vs_xdp *x)
{
	return bpf_map__fd(x->skel->maps.xsk_slots);
}

int vs_xdp__xsk_ifs_fd(const struct vs_xdp *x)
{
	return bpf_map__fd(x->skel->maps.xsk_ifs);
}

int vs_xdp__xsk_fill_fd(const struct vs_xdp *x)
{
	return bpf_map__fd(x->skel->maps.xsk_fill);
}

int vs_xdp__xsk_bell_fd(const struct vs_xdp *x)
{
	return bpf_map__fd(x->skel->maps.xsk_bell);
}

uint32_t vs_xdp__ring_bytes(const struct vs_xdp *x)
{
	return x->ring_bytes;
}
