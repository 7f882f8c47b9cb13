#!/bin/bash
# kill -9 of mariadbd at random moments (4 times, restarted each time) while
# CDRs stream into the MariaDB store: the store reconnects with back-off and
# every CDR acknowledged by flush() == 0 is in table cdr exactly once
# (tests/unit/test_store_mysql.c, suite mysql_crash).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mariadb.sh"
mariadb_start
bin=$(mariadb_store_test) || fail "cannot build test_store_mysql"
VS_MYSQL_CRASH=1 "$bin" --short-filename --filter 'mysql_crash/*' --verbose 2>"$TMP/log" ||
	{ tail -30 "$TMP/log"; fail "kill -9 stream"; }
grep -E '^\[----\] [0-9]+ CDRs' "$TMP/log" | sed 's/^\[----\]/   /'
ok "4 x kill -9 of mariadbd mid-stream: every acknowledged CDR stored once"
mpid=$(mariadb_pid)
mariadb_stop
[ -n "$mpid" ] && kill -0 "$mpid" 2>/dev/null && fail "our mariadbd ($mpid) is still running"
ok "mariadbd stopped"
