/* SPDX-License-Identifier: GPL-2.0-or-later */
/* core/fs: small file-system helpers shared by the stages that keep files
 * under spooldir (call pcaps, CDR spool, packet buffer). */
#ifndef VS_FS_H
#define VS_FS_H

#include <sys/types.h>

/* mkdir -p with mode for each missing component: 0 or -errno
 * (-ENAMETOOLONG for a path of PATH_MAX or more, or an empty one). */
int vs_mkdir_p(const char *path, mode_t mode);

#endif
