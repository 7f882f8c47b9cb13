#!/bin/bash
# CDR ingest rate into MariaDB (issue 4 goal: 20 000 CDRs/s sustained on the
# 2-core VM) through the MariaDB store, on a private mariadbd (started and
# removed by tests/integration/mariadb.sh). One transaction per flush; batch
# = CDRs per flush; rtp = 2 cdr_rtp rows per CDR. Nothing is asserted.
# Usage: tests/bench/bench_mysql.sh [SECONDS per batch size, default 10]
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/integration/lib.sh"
. "$top/tests/integration/mariadb.sh"
secs=${1:-${BENCH_SECONDS:-10}}
cd "$top" || exit 1
gcc -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser -O2 -Wall -Wextra \
	tests/bench/bench_mysql.c user/cdr/store_mysql.c user/cdr/store_mysql_ins.c user/cdr/schema.c \
	user/cdr/cdr.c user/core/*.c -lmariadb -lm -o "$TMP/bench_mysql" ||
	fail "cannot build bench_mysql"
mariadb_start
echo "MariaDB $(mariadb_sql 'SELECT VERSION()'), innodb_flush_log_at_trx_commit=$(mariadb_sql 'SELECT @@innodb_flush_log_at_trx_commit') (durable), unix socket, $secs s per row"
"$TMP/bench_mysql" "$secs" ${BENCH_MYSQL_ARGS:-1 100 1000 2000 rtp 1000 2000 dedup 1000} ||
	fail "bench_mysql"
