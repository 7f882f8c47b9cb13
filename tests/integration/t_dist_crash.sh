#!/bin/bash
# Exactly once under crashes: a sensor streams CDRs to the central server
# while the server is killed with SIGKILL (and restarted) at random points,
# two sensors on the server's two CDR writers while it is killed, then
# mariadbd, then the sensor itself (restarted on the same spooldir).
# Afterwards every CDR is in MariaDB exactly once (the server runs without
# cdr_check_exists_callid, so a duplicate would show) and the sensors
# table is filled.
. "$(dirname "$0")/dist_lib.sh"
dist_setup
rand_ms() { echo "0.$(printf '%03d' $((RANDOM % $1)))"; }
total=0
gen() { # NAME CALLS SEED: SIP-only calls (long streams, small captures),
	# plus, with mergecap, CALLS/50 calls with RTP for per-stream rows.
	local start=$((1700000000 + $3 * 10000)) n_rtp=$(($2 / 50))
	"$VSGEN" -n "$2" -s nortp --rate 500 --seed "$3" --start "$start" \
		-o "$TMP/$1.pcap" >/dev/null || fail "vsgen $1"
	total=$((total + $2))
	if [ "$n_rtp" -gt 0 ] && command -v mergecap >/dev/null; then
		"$VSGEN" -n "$n_rtp" -d 1 --seed $(($3 + 100)) --start $((start + 5000)) \
			-o "$TMP/$1.rtp.pcap" >/dev/null || fail "vsgen $1 (RTP)"
		mv "$TMP/$1.pcap" "$TMP/$1.sip.pcap"
		mergecap -w "$TMP/$1.pcap" "$TMP/$1.sip.pcap" "$TMP/$1.rtp.pcap" ||
			fail "mergecap $1"
		total=$((total + n_rtp))
	fi
}
# Waits until the stream is under way (more rows than $1), then a random
# 0-60 ms, so that the kill lands in the middle of it (the streams are
# large enough for that at 10 000+ CDRs/s).
mid_stream() {
	for _ in $(seq 200); do
		[ "$(db "SELECT count(*) FROM cdr")" -gt "$1" ] && break
		sleep 0.05
	done
	sleep "$(rand_ms 60)"
}
check() { # WHAT
	local n d
	n=$(db "SELECT count(*) FROM cdr")
	d=$(db "SELECT count(DISTINCT call_id) FROM cdr")
	[ "$n" = "$total" ] && [ "$d" = "$total" ] ||
		fail "$1: want $total CDRs once each, have $n rows and $d Call-IDs"
	ok "$1: $total CDRs, each exactly once"
}

srv_conf srv1
sen_conf sen 7
srv_start srv1

# --- the server killed at random points of three streams ---------------------
for round in 1 2 3; do
	gen "s$round" 5000 "$round"
	base=$(db "SELECT count(*) FROM cdr")
	sen_start sen "$TMP/s$round.pcap"
	mid_stream "$base"
	at=$(db "SELECT count(*) FROM cdr")
	srv_kill9 srv1
	sleep "$(rand_ms 500)"
	srv_start srv1
	sen_wait sen || { tail -20 "$TMP/sen.log" >&2; fail "sensor failed (round $round)"; }
	grep -c "every CDR acknowledged" "$TMP/sen.log" | grep -qx "$round" ||
		{ tail -20 "$TMP/sen.log" >&2; fail "round $round: not every CDR acknowledged"; }
	ok "server SIGKILL at $at/$total stored CDRs, restarted"
done
check "server killed 3 times"

# --- the server dies between a commit and its marks (test hook) ------------
# The one window the marks cannot cover: the restarted server must find the
# committed CDRs above the mark by looking them up, not store them again.
gen w 10000 5 # three commits or more (one per 4000 CDRs)
srv_kill9 srv1
srv_start srv1 VOXSENSE_TEST_CRASH_AFTER_COMMIT=2
sen_start sen "$TMP/w.pcap"
wait_for "$TMP/srv1.log" "exiting between a commit and its marks" 30 || fail "test hook did not fire"
wait "${DIST_PID[srv1]}" 2>/dev/null
at=$(db "SELECT count(*) FROM cdr")
srv_start srv1
sen_wait sen || { tail -20 "$TMP/sen.log" >&2; fail "sensor failed (crash window)"; }
check "server died between commit and marks (at $at stored)"
grep -q "CDRs above its mark were committed before a crash: not stored again" "$TMP/srv1.log" ||
	fail "the restarted server did not look up the crash window"
ok "$(grep -o "[0-9]* CDRs above its mark were committed before a crash" "$TMP/srv1.log" | tail -1)"

# --- two sensors on the two CDR writers, the server killed mid-stream ------
# Sensors 7 and 8 go to different writers (id_sensor % 2), which commit on
# their own connections at their own times; a SIGKILL finds each at a
# different point of its batch.
sen_conf sen2 8
for round in 1 2; do
	gen "p$round" 6000 $((40 + round))
	gen "q$round" 6000 $((50 + round))
	base=$(db "SELECT count(*) FROM cdr")
	sen_start sen "$TMP/p$round.pcap"
	sen_start sen2 "$TMP/q$round.pcap"
	mid_stream "$((base + 2000))"
	at=$(db "SELECT count(*) FROM cdr")
	srv_kill9 srv1
	sleep "$(rand_ms 300)"
	srv_start srv1
	sen_wait sen || { tail -20 "$TMP/sen.log" >&2; fail "sensor 7 failed (two writers)"; }
	sen_wait sen2 || { tail -20 "$TMP/sen2.log" >&2; fail "sensor 8 failed (two writers)"; }
	ok "two sensors, two writers: server SIGKILL at $at/$total stored CDRs, restarted"
done
check "two writers, server killed twice"
[ "$(db "SELECT count(*) FROM cdr WHERE id_sensor = 8")" -gt 0 ] ||
	fail "no CDR of sensor 8"
grep -q "server: 2 CDR writers" "$TMP/srv1.log" || fail "the server did not run 2 writers"

# --- mariadbd killed twice during a stream -----------------------------------
if [ -z "${DIST_SKIP_DB:-}" ]; then
gen m 8000 7
base=$(db "SELECT count(*) FROM cdr")
sen_start sen "$TMP/m.pcap"
for k in 1 2; do
	# after 1000 and after 5000 of the 8000 rows: both mid-stream
	mid_stream "$((base + 1000 + (k - 1) * 4000))"
	at=$(db "SELECT count(*) FROM cdr")
	mariadb_kill9
	sleep 0.5
	mariadb_start
	ok "mariadbd SIGKILL at $at stored CDRs, restarted"
done
sen_wait sen || { tail -20 "$TMP/sen.log" >&2; fail "sensor failed (mariadb)"; }
grep -q "database unavailable: not reading from sensors" "$TMP/srv1.log" &&
	ok "the server stopped reading while the database was away"
check "mariadbd killed twice"
fi

# --- the sensor killed while it ships, restarted on the same spooldir --------
for round in 1 2; do
	gen "k$round" 16000 $((20 + round))
	base=$(db "SELECT count(*) FROM cdr")
	# the server paused while the sensor analyses: its whole spool is
	# still to ship when the server goes on, and the kill lands in that
	kill -STOP "${DIST_PID[srv1]}"
	SEN_LOG=k$round sen_start sen "$TMP/k$round.pcap"
	wait_for "$TMP/k$round.log" " calls, [0-9]* CDRs in" 60 ||
		{ kill -CONT "${DIST_PID[srv1]}"; cat "$TMP/k$round.log" >&2; fail "sensor did not finish analysing"; }
	kill -CONT "${DIST_PID[srv1]}"
	mid_stream "$base"
	at=$(db "SELECT count(*) FROM cdr")
	kill -KILL "${DIST_PID[sen]}"
	sen_wait sen
	ok "sensor SIGKILL at $at/$total stored CDRs"
done
gen last 1 30
SEN_LOG=last sen_run sen "$TMP/last.pcap"
grep -q "every CDR acknowledged" "$TMP/last.log" || { cat "$TMP/last.log" >&2; fail "restarted sensor did not drain its spool"; }
check "sensor killed twice and restarted on its spool"

row=$(db "SELECT id_sensor, mode, cdrs > 0, last_seen IS NOT NULL FROM sensors WHERE id_sensor = 7")
[ "$row" = "$(printf '7\tlocal\t1\t1')" ] || fail "sensors table: $row"
ok "sensors table: $(echo "$row" | tr '\t' ' ')"
win=$(grep -o "[0-9]* CDRs above its mark were committed before a crash" "$TMP/srv1.log" |
	awk '{ s += $1 } END { print s + 0 }')
ok "crash window: $win CDRs found committed above the persisted mark and not stored again"
srv_stop srv1
