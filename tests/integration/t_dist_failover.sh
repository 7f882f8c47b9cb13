#!/bin/bash
# Failover in the middle of a stream: a local-processing sensor with
# server_destination = S1, S2 (two central servers on one private MariaDB)
#  - ships a stream of CDRs to S1; S1 is killed with SIGKILL mid-stream; the
#    sensor moves to S2 ("server 2 of 2") and replays what S1 had not
#    acknowledged; every CDR lands once;
#  - a second stream goes to S2 (S1 still down); with the sensor paused
#    mid-stream, S1 is started again and S2 killed with SIGKILL; the sensor
#    walks its list from the first entry again and goes back to S1
#    ("server 1 of 2", no attempt on S2 first); every CDR lands once.
# The servers run without cdr_check_exists_callid, so a duplicate shows.
# Exactly once across servers rests on the marks in the shared database
# (docs/distributed.md, "Exactly once across server crashes").
. "$(dirname "$0")/dist_lib.sh"
dist_setup
total=0
gen() { # NAME CALLS SEED: SIP-only calls, a long stream in a small capture
	"$VSGEN" -n "$2" -s nortp --rate 500 --seed "$3" \
		--start $((1700000000 + $3 * 10000)) -o "$TMP/$1.pcap" >/dev/null ||
		fail "vsgen $1"
	total=$((total + $2))
}
rows() { db "SELECT count(*) FROM cdr"; }
# Waits until more than $1 rows are stored, then a random 0-60 ms.
mid_stream() {
	for _ in $(seq 300); do
		[ "$(rows)" -gt "$1" ] && break
		sleep 0.05
	done
	sleep "0.0$((RANDOM % 6))$((RANDOM % 10))"
}
check() { # WHAT
	local n d s
	n=$(rows)
	d=$(db "SELECT count(DISTINCT id_sensor, call_id) FROM cdr")
	s=$(db "SELECT count(*) FROM cdr WHERE id_sensor = 7")
	[ "$n" = "$total" ] && [ "$d" = "$total" ] && [ "$s" = "$total" ] ||
		fail "$1: want $total CDRs of sensor 7 once each, have $n rows, $d distinct (id_sensor, Call-ID), $s of sensor 7"
	ok "$1: $total CDRs of sensor 7, each exactly once"
}
# The uplink's connect lines and losses after line $2 of log $1.
links_after() { tail -n +"$(($2 + 1))" "$1" | grep -E "uplink: (connected to|server |connection to the server lost)"; }
# resent LOG CDRS: CDRs sent more than once by the run (replayed after a loss)
resent() { echo $(($(grep -o "[0-9]* sent, " "$1" | tail -1 | cut -d' ' -f1) - $2)); }

srv_conf s1 "$SRV_IP"
srv_conf s2 "$SRV_IP2"
sen_conf sen 7 "server_destination = $SRV_IP, $SRV_IP2"
srv_start s1
srv_start s2

# --- S1 killed mid-stream: over to S2, the spool replayed -------------------
gen a 8000 1
SEN_LOG=a sen_start sen "$TMP/a.pcap"
wait_for "$TMP/a.log" "connected to $SRV_IP port $DIST_PORT (server 1 of 2)" 20 ||
	{ cat "$TMP/a.log" >&2; fail "sensor did not connect to the first server"; }
mid_stream 0
srv_kill9 s1
at=$(rows)
sen_wait sen || { tail -20 "$TMP/a.log" >&2; fail "sensor failed (S1 killed)"; }
[ "$at" -gt 0 ] && [ "$at" -lt "$total" ] ||
	fail "S1 was not killed mid-stream ($at of $total stored)"
links_after "$TMP/a.log" 0 | grep -q "connected to $SRV_IP2 port $DIST_PORT (server 2 of 2)" ||
	{ cat "$TMP/a.log" >&2; fail "sensor did not move to the second server"; }
grep -q "connection to the server lost" "$TMP/a.log" ||
	fail "sensor did not notice S1 going away"
grep -q "every CDR acknowledged by the server" "$TMP/a.log" ||
	{ tail -20 "$TMP/a.log" >&2; fail "not every CDR acknowledged through S2"; }
grep -q "server: sensor 7 (.*) connected from $SEN_IP" "$TMP/s2.log" ||
	fail "S2 has no connection from sensor 7"
ok "S1 SIGKILL at $at/$total stored CDRs; sensor moved to S2 (server 2 of 2) and re-sent $(resent "$TMP/a.log" 8000) CDRs"
ok "S2 found the mark S1 left in the database: $(grep -o "sensor 7 .*committed up to sequence [0-9]*" "$TMP/s2.log" | head -1 | sed 's/.*committed/committed/')"
check "S1 killed mid-stream"

# --- back to S1: S1 up again, the link to S2 broken mid-stream --------------
gen b 8000 2
base=$(rows)
SEN_LOG=b sen_start sen "$TMP/b.pcap"
wait_for "$TMP/b.log" "connected to $SRV_IP2 port $DIST_PORT (server 2 of 2)" 20 ||
	{ cat "$TMP/b.log" >&2; fail "sensor did not use S2 while S1 is down"; }
mid_stream "$base"
# Paused, the sensor cannot finish the stream while S1 starts and S2 dies:
# the break is certain to land mid-stream.
kill -STOP "${DIST_PID[sen]}"
at=$(rows)
grep -q "every CDR acknowledged" "$TMP/b.log" && {
	kill -CONT "${DIST_PID[sen]}"
	fail "the stream to S2 ended before the pause ($at stored)"
}
srv_start s1
mark=$(wc -l <"$TMP/b.log")
srv_kill9 s2
kill -CONT "${DIST_PID[sen]}"
sen_wait sen || { tail -20 "$TMP/b.log" >&2; fail "sensor failed (S2 killed)"; }
[ "$at" -lt "$total" ] || fail "S2 was not killed mid-stream ($at of $total stored)"
# After the loss the list is walked from the first entry again: the first
# attempt is S1, not the server it was on.
first=$(links_after "$TMP/b.log" "$mark" | grep -v "connection to the server lost" | head -1)
echo "$first" | grep -q "connected to $SRV_IP port $DIST_PORT (server 1 of 2)" ||
	{ tail -20 "$TMP/b.log" >&2; fail "after S2 went away the first attempt was not S1: $first"; }
grep -q "every CDR acknowledged by the server" "$TMP/b.log" ||
	{ tail -20 "$TMP/b.log" >&2; fail "not every CDR acknowledged through S1"; }
ok "S1 restarted, S2 SIGKILL at $at/$total stored CDRs; sensor back on S1 (server 1 of 2), re-sent $(resent "$TMP/b.log" 8000)"
check "back to the first server"

row=$(db "SELECT id_sensor, mode, cdrs > 0, last_seen IS NOT NULL FROM sensors WHERE id_sensor = 7")
[ "$row" = "$(printf '7\tlocal\t1\t1')" ] || fail "sensors table: $row"
ok "sensors table: $(echo "$row" | tr '\t' ' ')"
srv_stop s1
