#!/bin/bash
# The MariaDB CDR store against a private mariadbd: every column equal to
# SQLite's, batching and commit visibility, Call-ID dedup, reopen, schema
# version and migration, connect errors, sensors upsert, and a COMMIT whose
# answer is lost (both outcomes). The checks are the Criterion tests of
# tests/unit/test_store_mysql.c, run here with the server's variables set.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mariadb.sh"
mariadb_start
bin=$(mariadb_store_test) || fail "cannot build test_store_mysql"
"$bin" --jobs 2 --short-filename --filter 'store_mysql/*' || fail "test_store_mysql"
ok "MariaDB store: unit tests against mariadbd $(mariadb_sql 'SELECT VERSION()')"
mpid=$(mariadb_pid)
mariadb_stop
[ -n "$mpid" ] && kill -0 "$mpid" 2>/dev/null && fail "our mariadbd ($mpid) is still running"
ok "mariadbd stopped, $MDB_DIR removed"
