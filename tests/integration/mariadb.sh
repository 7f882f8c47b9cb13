# Sourced by tests that need a real MariaDB: a private mariadbd with its own
# datadir (mariadb-install-db), unix socket and 127.0.0.1 port, all under
# $TMP, stopped and removed by an EXIT trap even when the test fails.
#
#   . tests/integration/lib.sh        # optional: gives $TMP, skip, fail
#   . tests/integration/mariadb.sh
#   mariadb_start                     # exit 77 (skip) when mariadbd is absent
#   mariadb_sql "SELECT 1"            # as root, in $VS_MYSQL_DB
#   mariadb_kill9; mariadb_start      # crash and restart on the same datadir
#
# The user may create and drop any database whose name starts with
# $VS_MYSQL_DB (tests use one each). Exported for programs (tests/unit/test_store_mysql.c, bench_mysql):
#   VS_MYSQL_SOCKET VS_MYSQL_HOST VS_MYSQL_PORT VS_MYSQL_DB VS_MYSQL_USER
#   VS_MYSQL_NOALTER_USER (same password, no ALTER privilege)
#   VS_MYSQL_PASSWORD VS_MYSQL_PIDFILE VS_MYSQL_START (script: start, wait)
# Set before mariadb_start: VS_MYSQL_BUFFER_POOL (innodb_buffer_pool_size,
# default 128M: the tests' tables are small).
# shellcheck shell=bash

if [ -z "${TMP:-}" ] || [ ! -d "$TMP" ]; then
	TMP=$(mktemp -d "/tmp/vxs-mariadb-$$.XXXX")
	trap 'rm -rf "$TMP"' EXIT
fi
command -v skip >/dev/null 2>&1 || skip() { echo "   skip: $*"; exit 77; }
command -v fail >/dev/null 2>&1 || fail() { echo "   FAIL: $*" >&2; exit 1; }

MDB_DIR="$TMP/mariadb"
MDB_BIN=""

# A 127.0.0.1 TCP port nobody listens on (bash's /dev/tcp: refused = free).
mariadb_free_port() {
	local p i
	for i in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
	done
	return 1
}

mariadb_pid() {
	[ -s "$VS_MYSQL_PIDFILE" ] && cat "$VS_MYSQL_PIDFILE"
}

# Stops the server (clean shutdown, then SIGKILL after 20 s) and removes
# its directory. Safe to call twice; runs from the EXIT trap.
mariadb_stop() {
	local pid
	[ -n "${VS_MYSQL_PIDFILE:-}" ] || return 0
	pid=$(mariadb_pid) || pid=""
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 1 200); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
	fi
	rm -rf "$MDB_DIR"
}

# Crash: SIGKILL, no shutdown, the datadir stays for crash recovery.
mariadb_kill9() {
	local pid
	pid=$(mariadb_pid) || return 0
	kill -KILL "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	rm -f "$VS_MYSQL_PIDFILE"
}

mariadb_sql() { # SQL...: as root through the socket, in the test database
	mariadb --no-defaults --socket="$VS_MYSQL_SOCKET" -uroot -N -B \
		"$VS_MYSQL_DB" -e "$*"
}

# First call: install the datadir, start, create database and user.
# Later calls (after mariadb_kill9): start again on the same datadir.
mariadb_start() {
	local user_opt=""
	if [ -z "$MDB_BIN" ]; then
		MDB_BIN=$(command -v mariadbd || PATH=$PATH:/usr/sbin:/usr/libexec \
			command -v mariadbd) || skip "mariadbd not installed (apt-get install mariadb-server)"
		command -v mariadb-install-db >/dev/null ||
			skip "mariadb-install-db not installed"
		command -v mariadb >/dev/null || skip "mariadb client not installed"
	fi
	[ "$(id -u)" = 0 ] && user_opt="--user=root"
	if [ ! -d "$MDB_DIR/data" ]; then
		mkdir -p "$MDB_DIR/data" "$MDB_DIR/tmp"
		mariadb-install-db --no-defaults $user_opt --datadir="$MDB_DIR/data" \
			--skip-test-db --auth-root-authentication-method=socket \
			>"$MDB_DIR/install.log" 2>&1 ||
			{ tail -20 "$MDB_DIR/install.log"; fail "mariadb-install-db"; }
		VS_MYSQL_SOCKET="$MDB_DIR/mysqld.sock"
		VS_MYSQL_PIDFILE="$MDB_DIR/mysqld.pid"
		VS_MYSQL_HOST=127.0.0.1
		VS_MYSQL_PORT=$(mariadb_free_port) || fail "no free port"
		VS_MYSQL_DB=voxsense
		VS_MYSQL_USER=vs
		# A user who may not ALTER tables (test_store_mysql).
		VS_MYSQL_NOALTER_USER=vs_noalter
		VS_MYSQL_PASSWORD="pw-$$-$RANDOM"
		VS_MYSQL_START="$MDB_DIR/start.sh"
		export VS_MYSQL_SOCKET VS_MYSQL_PIDFILE VS_MYSQL_HOST VS_MYSQL_PORT
		export VS_MYSQL_DB VS_MYSQL_USER VS_MYSQL_PASSWORD VS_MYSQL_START
		export VS_MYSQL_NOALTER_USER
		# The command line lives in a script so that a C test can
		# restart the server after killing it.
		cat >"$VS_MYSQL_START" <<EOF
#!/bin/bash
# Starts the private mariadbd and waits until it answers (30 s at most).
rm -f "$VS_MYSQL_PIDFILE"
setsid "$MDB_BIN" --no-defaults $user_opt --datadir="$MDB_DIR/data" \\
	--socket="$VS_MYSQL_SOCKET" --port=$VS_MYSQL_PORT \\
	--bind-address=127.0.0.1 --pid-file="$VS_MYSQL_PIDFILE" \\
	--tmpdir="$MDB_DIR/tmp" --log-error="$MDB_DIR/error.log" \\
	--skip-name-resolve --innodb-buffer-pool-size=${VS_MYSQL_BUFFER_POOL:-128M} \\
	${VS_MYSQL_EXTRA:-} \\
	--max-connections=50 </dev/null >/dev/null 2>&1 &
for i in \$(seq 1 300); do
	if [ -S "$VS_MYSQL_SOCKET" ] && [ -s "$VS_MYSQL_PIDFILE" ] &&
	   mariadb-admin --no-defaults --socket="$VS_MYSQL_SOCKET" -uroot \\
		ping >/dev/null 2>&1; then
		exit 0
	fi
	sleep 0.1
done
echo "mariadbd did not start; see $MDB_DIR/error.log" >&2
tail -20 "$MDB_DIR/error.log" >&2
exit 1
EOF
		chmod +x "$VS_MYSQL_START"
		# Stop the server before lib.sh's trap removes $TMP.
		trap 'mariadb_stop; rm -rf "$TMP"' EXIT
		trap 'exit 1' INT TERM
		"$VS_MYSQL_START" || fail "mariadbd did not start"
		mariadb --no-defaults --socket="$VS_MYSQL_SOCKET" -uroot -e "
			CREATE DATABASE $VS_MYSQL_DB;
			CREATE USER '$VS_MYSQL_USER'@'localhost' IDENTIFIED BY '$VS_MYSQL_PASSWORD';
			CREATE USER '$VS_MYSQL_USER'@'127.0.0.1' IDENTIFIED BY '$VS_MYSQL_PASSWORD';
			GRANT ALL ON \`$VS_MYSQL_DB%\`.* TO '$VS_MYSQL_USER'@'localhost';
			GRANT ALL ON \`$VS_MYSQL_DB%\`.* TO '$VS_MYSQL_USER'@'127.0.0.1';
			CREATE USER '$VS_MYSQL_NOALTER_USER'@'localhost' IDENTIFIED BY '$VS_MYSQL_PASSWORD';
			GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX ON \`$VS_MYSQL_DB%\`.* TO '$VS_MYSQL_NOALTER_USER'@'localhost';" ||
			fail "cannot create the test database and user"
	else
		"$VS_MYSQL_START" || fail "mariadbd did not restart"
	fi
}

# Path of tests/unit/test_store_mysql: the one make built (needs LDLIBS
# += -lmariadb), else compiled here from the files it needs, into $TMP.
mariadb_store_test() {
	local top bin
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	bin="$top/build/asan/unit/test_store_mysql"
	if [ -x "$bin" ] && [ "$bin" -nt "$top/user/cdr/store_mysql.c" ] &&
		[ "$bin" -nt "$top/user/cdr/store_mysql_ins.c" ] &&
		[ "$bin" -nt "$top/tests/unit/test_store_mysql.c" ]; then
		echo "$bin"
		return 0
	fi
	bin="$TMP/test_store_mysql"
	(cd "$top" && gcc -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser -Itests \
		-O1 -g -fsanitize=address,undefined -Wall -Wextra -Werror \
		-Wshadow -Wno-missing-field-initializers \
		tests/unit/test_store_mysql.c user/cdr/store_mysql.c \
		user/cdr/store_mysql_ins.c \
		user/cdr/store_sqlite.c user/cdr/store_json.c \
		user/cdr/cdr_json.c user/cdr/schema.c user/cdr/cdr.c \
		user/core/*.c -lcriterion -lsqlite3 -lcjson -lmariadb -lm \
		-o "$bin") >&2 || return 1
	echo "$bin"
}
