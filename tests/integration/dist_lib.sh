# Sourced by tests/integration/t_dist_*.sh: a private MariaDB (mariadb.sh,
# reached over its unix socket from any namespace) and two network
# namespaces joined by a veth: $NS_SRV holds the servers ($SRV_IP, and
# $SRV_IP2 where nothing listens unless a test starts something there),
# $NS_SEN the sensors ($SEN_IP, and $SEN_IP2 for manager_ip). Addresses are 10.254.N.0/29 with a random
# N, inside the namespaces only. Everything (processes, namespaces,
# mariadbd, $TMP) goes away in the EXIT trap, even when a test fails.
#
# Gives: dist_setup, srv_conf NAME [IP] [EXTRA], sen_conf NAME ID [EXTRA],
# srv_start NAME [IP], srv_kill9 NAME, srv_stop NAME, sen_run NAME CONF
# PCAP [args], sen_start/sen_wait, db, wait_for FILE PATTERN SECONDS.
# shellcheck shell=bash
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/mariadb.sh"

declare -A DIST_PID=()
NS_SRV=vxd$$s
NS_SEN=vxd$$c
DIST_NET=$((RANDOM % 250))
SRV_IP=10.254.$DIST_NET.1
SRV_IP2=10.254.$DIST_NET.3
SEN_IP=10.254.$DIST_NET.2
SEN_IP2=10.254.$DIST_NET.4 # a second sensor address (manager_ip)
DIST_PORT=60024

dist_cleanup() {
	local p
	for p in "${DIST_PID[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	ip netns del "$NS_SRV" 2>/dev/null
	ip netns del "$NS_SEN" 2>/dev/null
	mariadb_stop
	rm -rf "$TMP"
}

# VS_KEEP=DIR: a failing run leaves its files there, for a look.
if [ -n "${VS_KEEP:-}" ]; then
	fail() {
		echo "   FAIL: $*" >&2
		rm -rf "$VS_KEEP"
		cp -r "$TMP" "$VS_KEEP"
		exit 1
	}
fi

dist_setup() {
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
	command -v ip >/dev/null || skip "iproute2 (ip) not installed"
	[ -x "$VS_BIN" ] || skip "$VS_BIN not built"
	[ -x "$VSGEN" ] || skip "$VSGEN not built"
	mariadb_start
	# mariadb.sh's trap stops the server; ours does that and the rest.
	trap dist_cleanup EXIT
	ip netns add "$NS_SRV" || skip "cannot create a network namespace"
	ip netns add "$NS_SEN" || skip "cannot create a network namespace"
	ip link add vxd$$a netns "$NS_SRV" type veth peer name vxd$$b \
		netns "$NS_SEN" || skip "kernel has no veth"
	ip -n "$NS_SRV" addr add "$SRV_IP/29" dev vxd$$a
	ip -n "$NS_SRV" addr add "$SRV_IP2/29" dev vxd$$a
	ip -n "$NS_SEN" addr add "$SEN_IP/29" dev vxd$$b
	ip -n "$NS_SEN" addr add "$SEN_IP2/29" dev vxd$$b
	for ns in "$NS_SRV" "$NS_SEN"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_SRV" link set vxd$$a up
	ip -n "$NS_SEN" link set vxd$$b up
	for _ in $(seq 50); do
		ip -n "$NS_SEN" -br link show vxd$$b | grep -qw UP &&
			ip -n "$NS_SRV" -br link show vxd$$a | grep -qw UP && return 0
		sleep 0.1
	done
	fail "veth between the namespaces does not come up"
}

db() { mariadb_sql "$@"; }

# srv_conf NAME [IP] [EXTRA config lines]
srv_conf() {
	local name=$1 ip=${2:-$SRV_IP} extra=${3:-}
	mkdir -p "$TMP/$name"
	{
		cat <<-CONF
		server_bind = $ip
		server_bind_port = $DIST_PORT
		server_password = ${DIST_PASSWORD:-s3cret-pw}
		mysqlsocket = $VS_MYSQL_SOCKET
		mysqldb = $VS_MYSQL_DB
		mysqlusername = $VS_MYSQL_USER
		mysqlpassword = $VS_MYSQL_PASSWORD
		spooldir = $TMP/$name
		CONF
		printf '%s\n' "$extra"
	} >"$TMP/$name.conf"
}

# sen_conf NAME ID [EXTRA config lines]
sen_conf() {
	local name=$1 id=$2 extra=${3:-}
	mkdir -p "$TMP/$name"
	{
		cat <<-CONF
		id_sensor = $id
		server_destination = $SRV_IP
		server_destination_port = $DIST_PORT
		server_password = ${DIST_PASSWORD:-s3cret-pw}
		manager_ip = $SEN_IP
		spooldir = $TMP/$name
		savesip = no
		savertp = no
		CONF
		printf '%s\n' "$extra"
	} >"$TMP/$name.conf"
}

# wait_for FILE PATTERN SECONDS: 0 once grep finds it, 1 after the timeout.
wait_for() {
	local i
	for i in $(seq $(($3 * 10))); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# srv_start NAME [env...]: the server NAME (config $TMP/NAME.conf) in
# $NS_SRV, log appended to $TMP/NAME.log; waits until it listens.
srv_start() {
	local name=$1 n
	shift
	n=$(grep -c "server: listening" "$TMP/$name.log" 2>/dev/null)
	ip netns exec "$NS_SRV" env "$@" "$VS_BIN" -c "$TMP/$name.conf" \
		</dev/null >>"$TMP/$name.log" 2>&1 &
	DIST_PID[$name]=$!
	for _ in $(seq 300); do
		[ "$(grep -c "server: listening" "$TMP/$name.log")" -gt "${n:-0}" ] && return 0
		kill -0 "${DIST_PID[$name]}" 2>/dev/null || break
		sleep 0.1
	done
	cat "$TMP/$name.log" >&2
	fail "server $name did not start"
}

srv_kill9() {
	kill -KILL "${DIST_PID[$1]}" 2>/dev/null
	wait "${DIST_PID[$1]}" 2>/dev/null
	unset "DIST_PID[$1]"
}

# srv_stop NAME: SIGTERM; fails unless it exits 0.
srv_stop() {
	local rc
	kill -TERM "${DIST_PID[$1]}"
	wait "${DIST_PID[$1]}"
	rc=$?
	unset "DIST_PID[$1]"
	[ $rc -eq 0 ] || { tail -20 "$TMP/$1.log" >&2; fail "server $1 exited $rc"; }
}

# sen_start NAME PCAP [args]: the sensor in $NS_SEN, in the background;
# its log goes to $TMP/$SEN_LOG.log when SEN_LOG is set, else NAME.log.
sen_start() {
	local name=$1 pcap=$2
	shift 2
	ip netns exec "$NS_SEN" "$VS_BIN" -c "$TMP/$name.conf" -r "$pcap" "$@" \
		</dev/null >>"$TMP/${SEN_LOG:-$name}.log" 2>&1 &
	DIST_PID[$name]=$!
}

# sen_wait NAME: its exit status.
sen_wait() {
	local rc
	wait "${DIST_PID[$1]}"
	rc=$?
	unset "DIST_PID[$1]"
	return $rc
}

# sen_run NAME PCAP [args]: runs the sensor to its end; fails unless 0.
sen_run() {
	sen_start "$@"
	sen_wait "$1" || { tail -30 "$TMP/$1.log" >&2; fail "sensor $1 failed"; }
}
