/* SPDX-License-Identifier: GPL-2.0-or-later */
/* role/hwm: the central server's per-sensor high-water marks in MariaDB
 * (table vs_dist_hwm: id_sensor, seq, updated), on its own connection,
 * beside the CDR store: seq is the highest CDR sequence of that sensor
 * whose CDR is committed. Written after each CDR commit and before the
 * acknowledgement, read when a sensor connects (docs/distributed.md).
 * Being in the database, the marks are shared by every server writing
 * there, so a sensor that fails over to another server is not
 * duplicated. */
#ifndef VS_HWM_H
#define VS_HWM_H

#include <stddef.h>
#include <stdint.h>

#include "cdr/store_mysql.h"

struct vs_hwm;

/* Connects and creates the table. NULL + errno (logged). */
struct vs_hwm *vs_hwm__open(const struct vs_mysql_opts *o);
void vs_hwm__close(struct vs_hwm *h);

/* 0 with *seq (0 when unknown), or -EAGAIN (database unreachable: try
 * again later; reconnects with back-off inside). */
int vs_hwm__load(struct vs_hwm *h, uint16_t id_sensor, uint64_t *seq);
/* Raises the marks of n sensors in one statement (never lowers them).
 * 0 or -EAGAIN. */
int vs_hwm__save(struct vs_hwm *h, const uint16_t *ids, const uint64_t *seqs,
		 size_t n);
/* Whether table cdr holds the CDR (id_sensor, call_id, calldate_us):
 * 1 yes, 0 no, -EAGAIN. */
int vs_hwm__cdr_exists(struct vs_hwm *h, uint16_t id_sensor,
		       const char *call_id, uint64_t calldate_us);

#endif
