#!/bin/bash
# Legacy mirror mode (docs/distributed.md): a receiver (mirror_bind_port)
# and senders (mirror_destination_ip) in two network namespaces joined by a
# veth. Sender A (id_sensor 7) mirrors capture A, then sender B (no
# id_sensor) mirrors capture B (IPv6 calls, 100 s later); both read with -r.
# The receiver's CDRs (--cdr-json and its SQLite file) must equal those of
# `voxsense -r A -r B` field for field except id_sensor, which
# mirror_bind_sensor_id_by_sender = yes makes 7 for A and the low 16 bits
# of the sender's address for B. Both sides log the unencrypted warning. A
# garbage stream, an oversized record and a stream cut inside a record
# (open while A streams) are each closed with a log line naming the sender,
# and the receiver keeps running.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
command -v ip >/dev/null || skip "iproute2 (ip) not installed"
[ -x "$VS_BIN" ] || skip "$VS_BIN not built"
[ -x "$VSGEN" ] || skip "$VSGEN not built"

NS_R=vxl$$r
NS_S=vxl$$s
NET=$((RANDOM % 250))
R_IP=10.253.$NET.1
S_IP=10.253.$NET.2
PORT=5030
declare -A PID=()

cleanup() {
	local p
	for p in "${PID[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	ip netns del "$NS_R" 2>/dev/null
	ip netns del "$NS_S" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

ip netns add "$NS_R" || skip "cannot create a network namespace"
ip netns add "$NS_S" || skip "cannot create a network namespace"
ip link add vxl$$a netns "$NS_R" type veth peer name vxl$$b netns "$NS_S" ||
	skip "kernel has no veth"
ip -n "$NS_R" addr add "$R_IP/29" dev vxl$$a
ip -n "$NS_S" addr add "$S_IP/29" dev vxl$$b
for ns in "$NS_R" "$NS_S"; do ip -n "$ns" link set lo up; done
ip -n "$NS_R" link set vxl$$a up
ip -n "$NS_S" link set vxl$$b up

wait_for() { # FILE PATTERN SECONDS
	for _ in $(seq $(($3 * 10))); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# raw bytes (printf format) to the receiver from the sender namespace;
# HOLD seconds before closing
send_raw() {
	ip netns exec "$NS_S" bash -c \
		"exec 3<>/dev/tcp/$R_IP/$PORT && printf '$1' >&3 && sleep ${2:-0}"
}

# --- captures and the reference ------------------------------------------
"$VSGEN" -o "$TMP/a.pcap" -n 20 -d 3 -s mix --rtcp --seed 1 >/dev/null ||
	fail "vsgen a"
"$VSGEN" -o "$TMP/b.pcap" -n 10 -d 3 -s mix --ipv6 --seed 2 \
	--start 1700000100 >/dev/null || fail "vsgen b"
"$VS_BIN" -r "$TMP/a.pcap" -r "$TMP/b.pcap" --spooldir "$TMP/ref" \
	--cdr-json "$TMP/ref.json" 2>"$TMP/ref.log" || fail "reference run"

# --- receiver --------------------------------------------------------------
mkdir -p "$TMP/recv" "$TMP/sa" "$TMP/sb"
cat >"$TMP/recv.conf" <<-CONF
	id_sensor = 1
	mirror_bind_ip = $R_IP
	mirror_bind_port = $PORT
	mirror_bind_sensor_id_by_sender = yes
	spooldir = $TMP/recv
CONF
ip netns exec "$NS_R" "$VS_BIN" -c "$TMP/recv.conf" --stats \
	--cdr-json "$TMP/recv.json" </dev/null >"$TMP/recv.log" 2>&1 &
PID[recv]=$!
wait_for "$TMP/recv.log" "legacy mirror: listening" 10 ||
	{ cat "$TMP/recv.log" >&2; fail "receiver did not start"; }
grep -q "warning: legacy mirror: receiving .* UNENCRYPTED and UNAUTHENTICATED" \
	"$TMP/recv.log" || fail "receiver: no unencrypted warning"
ok "receiver listens, warns that the stream is unencrypted"

# --- bad streams -----------------------------------------------------------
send_raw 'GET / HTTP/1.0\r\n\r\n'
wait_for "$TMP/recv.log" "closing sender $S_IP:[0-9]*: not a voxsense legacy mirror stream" 5 ||
	{ cat "$TMP/recv.log" >&2; fail "garbage not rejected with a log line"; }
# hello, then a record header claiming 1 MiB
send_raw 'VXLM\001\000\000\007\000\000\000\000\000\000\000\000\000\000\000\000\000\020\000\000\000\020\000\000\000\001\000\000'
wait_for "$TMP/recv.log" "closing sender $S_IP:[0-9]*: record of 1048576 bytes" 5 ||
	{ cat "$TMP/recv.log" >&2; fail "oversized record not rejected"; }
kill -0 "${PID[recv]}" || fail "receiver died on bad input"
ok "garbage and an oversized record: connection closed, logged, receiver alive"

# an uncompressed stream cut inside a record, open while sender A streams
send_raw 'VXLM\001\000\000\000\000\000\000\000\000\000' 3 &
PID[cut]=$!

# --- senders -----------------------------------------------------------------
sender() { # NAME ID PCAP
	{
		[ "$2" = 0 ] || echo "id_sensor = $2"
		cat <<-CONF
		mirror_destination_ip = $R_IP
		mirror_destination_port = $PORT
		spooldir = $TMP/$1
		CONF
	} >"$TMP/$1.conf"
	ip netns exec "$NS_S" "$VS_BIN" -c "$TMP/$1.conf" -r "$3" --stats \
		</dev/null >"$TMP/$1.log" 2>&1 ||
		{ cat "$TMP/$1.log" >&2; fail "sender $1 failed"; }
	grep -q "warning: legacy mirror: frames go to .* UNENCRYPTED and UNAUTHENTICATED.*packetbuffer_sender = yes with server_destination" \
		"$TMP/$1.log" || fail "sender $1: no unencrypted warning"
	grep -q "legacy.frames_lost 0" "$TMP/$1.log" &&
		grep -q "legacy.frames_dropped 0" "$TMP/$1.log" ||
		fail "sender $1 lost frames"
}
frames() { grep -o "legacy.frames_sent [0-9]*" "$TMP/$1.log" | cut -d' ' -f2; }

sender sa 7 "$TMP/a.pcap"
wait_for "$TMP/recv.log" "closed: $(frames sa) frames" 10 ||
	{ cat "$TMP/recv.log" >&2; fail "receiver did not get sender A's $(frames sa) frames"; }
wait "${PID[cut]}"
unset "PID[cut]"
wait_for "$TMP/recv.log" "stream ended inside a record" 5 ||
	fail "a stream cut inside a record is not logged"
sender sb 0 "$TMP/b.pcap"
wait_for "$TMP/recv.log" "closed: $(frames sb) frames" 10 ||
	{ cat "$TMP/recv.log" >&2; fail "receiver did not get sender B's frames"; }
kill -TERM "${PID[recv]}"
wait "${PID[recv]}" || { tail -20 "$TMP/recv.log" >&2; fail "receiver exit status"; }
unset "PID[recv]"
ok "senders A ($(frames sa) frames) and B ($(frames sb)) mirrored, warnings logged"

grep -q "legacy.bad_streams 2" "$TMP/recv.log" || fail "bad_streams counter"
grep -q "legacy.cut_streams 1" "$TMP/recv.log" || fail "cut_streams counter"

# --- the CDRs ----------------------------------------------------------------
B_ID=$(( (NET << 8) + 2 )) # low 16 bits of 10.253.NET.2
python3 - "$TMP/ref.json" "$TMP/recv.json" "$TMP/recv/voxsense.db" "$B_ID" <<-'PY' ||
	import json, sqlite3, sys
	ref = {c["call_id"]: c for c in map(json.loads, open(sys.argv[1]))}
	got = {c["call_id"]: c for c in map(json.loads, open(sys.argv[2]))}
	b_id = int(sys.argv[4])
	assert len(ref) == 30, f"reference has {len(ref)} CDRs"
	assert set(ref) == set(got), f"Call-IDs differ: {set(ref) ^ set(got)}"
	for k, r in ref.items():
	    g = got[k]
	    want = b_id if ":" in r["sip_caller_ip"] else 7
	    assert g["id_sensor"] == want, f"{k}: id_sensor {g['id_sensor']} != {want}"
	    diff = [f for f in r if f != "id_sensor" and r[f] != g.get(f)]
	    assert not diff, f"{k}: fields differ: {diff}"
	db = sqlite3.connect(sys.argv[3])
	rows = dict(db.execute("select id_sensor, count(*) from cdr group by 1"))
	assert rows == {7: 20, b_id: 10}, f"SQLite id_sensor counts {rows}"
	PY
	fail "receiver CDRs differ from the reference"
ok "30 CDRs equal to voxsense -r (all fields but id_sensor); id_sensor 7 (announced) and $B_ID (sender address); SQLite agrees"

n_ref=$(find "$TMP/ref" -name '*.pcap' | wc -l)
n_got=$(find "$TMP/recv" -name '*.pcap' | wc -l)
[ "$n_ref" = "$n_got" ] && [ "$n_got" -gt 0 ] ||
	fail "call pcaps: $n_got on the receiver, $n_ref in the reference"
ok "$n_got call pcaps in the receiver's spooldir"

# --- receiver down at the start: the sender buffers and reconnects ---------
sed "s|$TMP/recv|$TMP/recv2|" "$TMP/recv.conf" >"$TMP/recv2.conf"
mkdir -p "$TMP/recv2" "$TMP/sc"
printf 'id_sensor = 9\nmirror_destination_ip = %s\nmirror_destination_port = %s\nspooldir = %s\n' \
	"$R_IP" "$PORT" "$TMP/sc" >"$TMP/sc.conf"
ip netns exec "$NS_S" "$VS_BIN" -c "$TMP/sc.conf" -r "$TMP/a.pcap" --stats \
	</dev/null >"$TMP/sc.log" 2>&1 &
PID[sc]=$!
wait_for "$TMP/sc.log" "cannot connect to $R_IP port $PORT" 5 ||
	fail "sender C: no log line while the receiver is down"
ip netns exec "$NS_R" "$VS_BIN" -c "$TMP/recv2.conf" \
	--cdr-json "$TMP/recv2.json" </dev/null >"$TMP/recv2.log" 2>&1 &
PID[recv2]=$!
wait "${PID[sc]}" || { cat "$TMP/sc.log" >&2; fail "sender C failed"; }
unset "PID[sc]"
grep -q "legacy.frames_sent $(frames sa)" "$TMP/sc.log" ||
	fail "sender C did not send every frame after reconnecting"
wait_for "$TMP/recv2.log" "closed: $(frames sa) frames" 10 ||
	fail "receiver 2 did not get sender C's frames"
kill -TERM "${PID[recv2]}"
wait "${PID[recv2]}"
unset "PID[recv2]"
[ "$(grep -c '"id_sensor":9' "$TMP/recv2.json")" = 20 ] ||
	fail "receiver 2: not 20 CDRs of id_sensor 9"
ok "receiver down at the start: sender buffered, reconnected, 20 CDRs"

# --- start-up refusals -----------------------------------------------------
printf 'mirror_bind_port = %s\nserver_destination = 10.0.0.1\nid_sensor = 3\n' \
	"$PORT" >"$TMP/mix.conf"
"$VS_BIN" -c "$TMP/mix.conf" -r "$TMP/a.pcap" 2>"$TMP/mix.log" &&
	fail "legacy mirror mixed with server_destination accepted"
grep -q "use one mode per instance" "$TMP/mix.log" || fail "mix: no clear message"
ok "mixing mirror_* with server_* refused"
exit 0
