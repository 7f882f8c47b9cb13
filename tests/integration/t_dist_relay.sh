#!/bin/bash
# Relay (intermediate server): two local-processing sensors behind one relay,
# the relay in front of the central server, each in its own network
# namespace (sensors -- relay -- server), real TLS on both hops, a private
# MariaDB. Every CDR is stored exactly once under the right id_sensor, the
# sensors table has both sensors (through the relay) and the relay; then the
# relay is killed with SIGKILL mid-stream and restarted, then the central
# server: still every CDR exactly once. Last, an id_sensor clash across the
# two paths (directly and through the relay) is refused.
. "$(dirname "$0")/dist_lib.sh"
dist_setup
NS_REL=vxd$$r
REL_UP=10.253.$DIST_NET.2   # relay, towards the server
SRV_UP=10.253.$DIST_NET.1   # server, towards the relay
REL_DOWN=10.252.$DIST_NET.1 # relay, towards the sensors
SEN_DOWN=10.252.$DIST_NET.2 # sensors, towards the relay
trap 'ip netns del "$NS_REL" 2>/dev/null; dist_cleanup' EXIT
ip netns add "$NS_REL" || skip "cannot create a network namespace"
ip link add vxd$$u netns "$NS_SRV" type veth peer name vxd$$v netns "$NS_REL" ||
	skip "kernel has no veth"
ip link add vxd$$w netns "$NS_REL" type veth peer name vxd$$x netns "$NS_SEN"
ip -n "$NS_SRV" addr add "$SRV_UP/30" dev vxd$$u
ip -n "$NS_REL" addr add "$REL_UP/30" dev vxd$$v
ip -n "$NS_REL" addr add "$REL_DOWN/30" dev vxd$$w
ip -n "$NS_SEN" addr add "$SEN_DOWN/30" dev vxd$$x
ip -n "$NS_REL" link set lo up
ip -n "$NS_SRV" link set vxd$$u up
ip -n "$NS_REL" link set vxd$$v up
ip -n "$NS_REL" link set vxd$$w up
ip -n "$NS_SEN" link set vxd$$x up
sleep 0.3

rand_ms() { echo "0.$(printf '%03d' $((RANDOM % $1)))"; }
total=0
gen() { # NAME CALLS SEED
	"$VSGEN" -n "$2" -s nortp --rate 500 --seed "$3" \
		--start $((1700000000 + $3 * 10000)) -o "$TMP/$1.pcap" \
		>/dev/null || fail "vsgen $1"
	total=$((total + $2))
}
mid_stream() { # wait for more rows than $1, then a random 0-60 ms
	for _ in $(seq 200); do
		[ "$(db "SELECT count(*) FROM cdr")" -gt "$1" ] && break
		sleep 0.05
	done
	sleep "$(rand_ms 60)"
}
declare -A want=([11]=0 [12]=0)
check() { # WHAT
	local n d id got
	n=$(db "SELECT count(*) FROM cdr")
	d=$(db "SELECT count(DISTINCT call_id) FROM cdr")
	[ "$n" = "$total" ] && [ "$d" = "$total" ] ||
		fail "$1: want $total CDRs once each, have $n rows and $d Call-IDs"
	for id in 11 12; do
		got=$(db "SELECT count(*) FROM cdr WHERE id_sensor = $id")
		[ "$got" = "${want[$id]}" ] ||
			fail "$1: sensor $id: want ${want[$id]} CDRs, have $got"
	done
	ok "$1: $total CDRs, each exactly once, ${want[11]} under id_sensor 11 and ${want[12]} under 12"
}

# The server listens on every address (the relay reaches it on $SRV_UP,
# the clash test's direct sensor on $SRV_IP).
srv_conf srv 0.0.0.0
srv_start srv
mkdir -p "$TMP/rel"
cat >"$TMP/rel.conf" <<CONF
id_sensor = 100
server_bind = $REL_DOWN
server_bind_port = $DIST_PORT
server_destination = $SRV_UP
server_destination_port = $DIST_PORT
server_password = ${DIST_PASSWORD:-s3cret-pw}
spooldir = $TMP/rel
CONF
rel_start() { # waits until it is connected to the central server
	local n
	n=$(grep -c "relay: connected to the central server" "$TMP/rel.log" 2>/dev/null)
	ip netns exec "$NS_REL" "$VS_BIN" -c "$TMP/rel.conf" </dev/null \
		>>"$TMP/rel.log" 2>&1 &
	DIST_PID[rel]=$!
	for _ in $(seq 300); do
		[ "$(grep -c "relay: connected to the central server" "$TMP/rel.log")" -gt "${n:-0}" ] && return 0
		kill -0 "${DIST_PID[rel]}" 2>/dev/null || break
		sleep 0.1
	done
	cat "$TMP/rel.log" >&2
	fail "relay did not start"
}
grep -v "^id_sensor" "$TMP/rel.conf" >"$TMP/noid.conf"
"$VS_BIN" -c "$TMP/noid.conf" 2>"$TMP/noid.log" && fail "relay without id_sensor accepted"
grep -q "a relay needs its own id_sensor" "$TMP/noid.log" || fail "relay id_sensor message"
"$VS_BIN" -c "$TMP/rel.conf" -r /dev/null 2>"$TMP/relr.log" && fail "relay with -r accepted"
grep -q "a relay does not read capture files" "$TMP/relr.log" || fail "relay -r message"
ok "start-up refusals: relay without id_sensor, relay with -r"
rel_start
for id in 11 12; do
	sen_conf "s$id" "$id"
	sed -i -e "s/^server_destination = .*/server_destination = $REL_DOWN/" \
		-e "s/^manager_ip = .*/manager_ip = $SEN_DOWN/" "$TMP/s$id.conf"
done
run_both() { # PHASE: starts both sensors on their capture of PHASE
	local id
	for id in 11 12; do
		SEN_LOG="s$id.$1" sen_start "s$id" "$TMP/$1.$id.pcap"
	done
}
wait_both() { # PHASE
	local id
	for id in 11 12; do
		sen_wait "s$id" || { tail -20 "$TMP/s$id.$1.log" >&2; fail "$1: sensor $id failed"; }
		grep -q "every CDR acknowledged" "$TMP/s$id.$1.log" ||
			{ tail -20 "$TMP/s$id.$1.log" >&2; fail "$1: sensor $id: not every CDR acknowledged"; }
	done
}
phase_gen() { # PHASE CALLS SEED
	gen "$1.11" "$2" "$3"
	gen "$1.12" "$2" $(($3 + 1))
	want[11]=$((want[11] + $2))
	want[12]=$((want[12] + $2))
}

# --- two sensors through the relay -----------------------------------------
t0=$(date +%s.%N)
phase_gen a 1500 1
run_both a
wait_both a
t1=$(date +%s.%N)
check "two sensors through the relay"
ok "$(awk -v a="$t0" -v b="$t1" -v n=3000 'BEGIN { printf "%d CDRs analysed, relayed, stored and acknowledged in %.1f s", n, b - a }')"
# SENSOR_INFO: the relay tells the server who is behind it, and when they go
rows=$(db "SELECT id_sensor, mode, name = '$(hostname)', version <> '',
	address LIKE '$SEN_DOWN:% via relay 100', last_seen IS NOT NULL FROM sensors ORDER BY id_sensor")
[ "$rows" = "$(printf '11\tlocal\t1\t1\t1\t1\n12\tlocal\t1\t1\t1\t1\n100\trelay\t1\t1\t0\t1')" ] ||
	fail "sensors table: $rows"
ok "sensors table: $(echo "$rows" | tr '\t\n' ' ;') (name, version, address behind the relay)"
for id in 11 12; do
	wait_for "$TMP/srv.log" "sensor $id ([^)]*) disconnected from relay 100" 10 ||
		fail "the server did not learn that sensor $id left the relay"
done
ok "the server learnt from the relay that sensors 11 and 12 left"

# --- the relay killed mid-stream, restarted --------------------------------
phase_gen b 4000 11
base=$(db "SELECT count(*) FROM cdr")
run_both b
mid_stream "$base"
at=$(db "SELECT count(*) FROM cdr")
srv_kill9 rel
sleep "$(rand_ms 500)"
rel_start
wait_both b
check "relay SIGKILL at $at stored CDRs, restarted"

# --- the central server killed mid-stream, restarted ------------------------
phase_gen c 4000 21 # big enough that the kill lands mid-stream
base=$(db "SELECT count(*) FROM cdr")
run_both c
mid_stream "$base"
at=$(db "SELECT count(*) FROM cdr")
srv_kill9 srv
sleep "$(rand_ms 500)"
srv_start srv
wait_both c
check "central server SIGKILL at $at stored CDRs, restarted"
grep -q "connection to the central server lost" "$TMP/rel.log" ||
	fail "the relay did not notice the server going away"
grep -q "closing [0-9]* sensor connections" "$TMP/rel.log" ||
	fail "the relay did not close its sensors' connections"
ok "the relay closed its sensors' connections when the server went away"

# --- id_sensor clash across the paths ---------------------------------------
# Sensor 11 is live behind the relay (capturing on lo, connected, the server
# told by SENSOR_INFO): the same id_sensor connecting directly is refused.
sen_conf hold11 11 "interface = lo
capture_mode = pcap"
sed -i -e "s/^server_destination = .*/server_destination = $REL_DOWN/" \
	-e "s/^manager_ip = .*/manager_ip = $SEN_DOWN/" "$TMP/hold11.conf"
ip netns exec "$NS_SEN" "$VS_BIN" -c "$TMP/hold11.conf" >"$TMP/hold11.log" 2>&1 </dev/null &
DIST_PID[hold11]=$!
wait_for "$TMP/hold11.log" "uplink: connected" 15 || { cat "$TMP/hold11.log" >&2; fail "live sensor 11 did not connect to the relay"; }
sleep 0.5 # its SENSOR_INFO on the way to the server
ip netns exec "$NS_SRV" "$VS_BIN" -c "$TMP/srv.conf" --status >"$TMP/status.json" ||
	fail "--status failed"
python3 - "$TMP/status.json" "$(hostname)" "$SEN_DOWN" <<'PY' || fail "--status: $(cat "$TMP/status.json")"
import json, sys
st = json.load(open(sys.argv[1]))
s = [x for x in st["sensors"] if x["id_sensor"] == 11][0]
assert s["connected"] is True and s["via_relay"] == 100, s
assert s["mode"] == "local" and s["name"] == sys.argv[2], s
assert s["address"].startswith(sys.argv[3] + ":"), s
PY
ok "--status: sensor 11 connected via relay 100, with its name, mode and address"
sen_conf direct 11
gen d 1 40
SEN_LOG=direct sen_start direct "$TMP/d.pcap"
wait_for "$TMP/srv.log" "id_sensor 11 is already connected through relay 100" 15 ||
	{ tail -20 "$TMP/direct.log" >&2; fail "direct sensor 11 not refused"; }
kill -KILL "${DIST_PID[direct]}"
sen_wait direct 2>/dev/null
total=$((total - 1)) # its one CDR stays in its spool
grep -q "already connected through relay 100" "$TMP/direct.log" ||
	fail "the refused sensor does not say why"
kill -TERM "${DIST_PID[hold11]}"
wait "${DIST_PID[hold11]}" || { tail "$TMP/hold11.log" >&2; fail "live sensor 11 did not exit cleanly"; }
unset "DIST_PID[hold11]"
ok "id_sensor 11 directly while live through the relay: refused"
check "after the clash"

# --- packet mirroring through the relay ------------------------------------
# Calls from 15 s ago: a sensor reading a file closes its batches with its
# wall clock as the watermark, and frames later than that would wait for the
# server's floor (receive_packetbuffer_maximum_time_diff_s) to pass them.
"$VSGEN" -n 6 -d 2 --seed 31 --start "$(($(date +%s) - 15))" -o "$TMP/mir.pcap" \
	>/dev/null || fail "vsgen mir"
"$VS_BIN" -r "$TMP/mir.pcap" --cdr-json "$TMP/mir.json" -c /dev/null \
	--spooldir "$TMP/mir-ref" 2>/dev/null || fail "all-in-one run of mir.pcap"
want_rtp=$(python3 -c 'import json,sys; print(sum(s["packets"] for l in open(sys.argv[1]) for s in json.loads(l)["streams"]))' "$TMP/mir.json")
sen_conf s13 13 "packetbuffer_sender = yes"
sed -i -e "s/^server_destination = .*/server_destination = $REL_DOWN/" \
	-e "s/^manager_ip = .*/manager_ip = $SEN_DOWN/" "$TMP/s13.conf"
sen_run s13 "$TMP/mir.pcap"
for _ in $(seq 150); do
	[ "$(db "SELECT count(*) FROM cdr WHERE id_sensor = 13")" -ge 6 ] && break
	sleep 0.2
done
n=$(db "SELECT count(*) FROM cdr WHERE id_sensor = 13")
got_rtp=$(db "SELECT IFNULL(sum(r.received), 0) FROM cdr_rtp r JOIN cdr c ON c.ID = r.cdr_ID WHERE c.id_sensor = 13")
if [ "$n" != 6 ] || [ "$got_rtp" != "$want_rtp" ]; then
	grep -v certificate "$TMP/srv.log" | tail -40 >&2
	grep -v certificate "$TMP/s13.log" | tail -15 >&2
	fail "mirroring through the relay: want 6 CDRs and $want_rtp RTP packets under id_sensor 13, have $n and $got_rtp"
fi
ok "mirroring through the relay: 6 CDRs, $got_rtp RTP packets, under id_sensor 13"
row=$(db "SELECT mode, address LIKE '$SEN_DOWN:% via relay 100' FROM sensors WHERE id_sensor = 13")
[ "$row" = "$(printf 'mirror\t1')" ] || fail "sensors row of the mirroring sensor behind the relay: $row"
ok "sensors row of sensor 13: mode mirror, its own address via relay 100"

srv_stop srv
ok "$(grep -o "server: [0-9]* CDRs stored, [0-9]* duplicates dropped" "$TMP/srv.log" | tail -1) (the restarted server: replays of committed CDRs)"
kill -TERM "${DIST_PID[rel]}"
wait "${DIST_PID[rel]}" || fail "relay did not exit 0 on SIGTERM"
unset "DIST_PID[rel]"
ok "$(grep -o "relay: [0-9]* CDRs and .*" "$TMP/rel.log" | tail -1)"
if [ -n "${VS_KEEP_LOGS:-}" ]; then mkdir -p "$VS_KEEP_LOGS" && cp "$TMP"/*.log "$VS_KEEP_LOGS"/; fi
