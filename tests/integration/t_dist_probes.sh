#!/bin/bash
# Distributed, local processing, end to end (real TLS, real MariaDB):
#  1. duplicate probes: two sensors with different id_sensor analyse the
#     same capture and ship to one central server with
#     cdr_check_exists_callid = yes: one CDR per Call-ID in MariaDB, as
#     many as the capture has calls, and the server reports as many
#     skipped (final log line; --status). Control: with
#     cdr_check_exists_callid = no (fresh database) both sensors' CDRs
#     are stored, 2 per Call-ID, each under its own id_sensor.
#  2. compression and pinning: sensors with server_type_compress = gzip,
#     lzo and none ship the same calls to one server: every CDR once per
#     sensor, the server's log names each sensor's compression; one sensor
#     pins the server certificate (server_tls_fingerprint, read with
#     openssl from the generated certificate) and logs it as pinned; one
#     pins a wrong fingerprint: refused with a clear line, no CDR stored.
# VS_BIN (asan) runs the servers and the sensors whose behaviour is
# asserted; VS_BIN_REL (default VS_BIN) the control case's sensors.
. "$(dirname "$0")/dist_lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"
command -v openssl >/dev/null || skip "openssl not installed"
: "${VS_BIN_REL:=$VS_BIN}"
NCALLS=20
dist_setup
"$VSGEN" -n $NCALLS -d 2 -s mix --rtcp --seed 21 -o "$TMP/a.pcap" >/dev/null || fail vsgen

# srv_db NAME DB EXTRA: server NAME storing into database DB (created).
srv_db() {
	db "CREATE DATABASE $2" || fail "create database $2"
	srv_conf "$1" "$SRV_IP" "$3"
	sed -i "s/^mysqldb = .*/mysqldb = $2/" "$TMP/$1.conf"
}

# status NAME: the server's --status JSON (control socket in its spooldir).
status() { ip netns exec "$NS_SRV" "$VS_BIN" -c "$TMP/$1.conf" --status 2>"$TMP/$1.status.err"; }

# json EXPR < status: a value of the --status JSON (python expression on j).
json() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

# acked NAME: the sensor's log says the server acknowledged every CDR.
acked() {
	grep -q "every CDR acknowledged by the server" "$TMP/$1.log" ||
		{ tail -20 "$TMP/$1.log" >&2; fail "sensor $1: not every CDR acknowledged"; }
}

# final_skipped NAME: "N skipped (Call-ID known)" of the server's last line.
final_skipped() {
	grep -o "[0-9]* skipped (Call-ID known)" "$TMP/$1.log" | tail -1 | cut -d' ' -f1
}

# sen_bg BIN NAME PCAP: like sen_start, with the binary BIN.
sen_bg() {
	ip netns exec "$NS_SEN" "$1" -c "$TMP/$2.conf" -r "$3" \
		</dev/null >>"$TMP/$2.log" 2>&1 &
	DIST_PID[$2]=$!
}

# --- 1. duplicate probes, cdr_check_exists_callid = yes ---------------------
DB1=${VS_MYSQL_DB}_dup
srv_db dup "$DB1" "cdr_check_exists_callid = yes"
# The server is stopped (SIGSTOP: the kernel still completes TCP
# connections into its backlog) while both probes analyse the capture and
# connect; continued, it handshakes both at once, so the two probes'
# copies arrive together and meet in the writer's open batch as well as
# in table cdr.
srv_start dup
kill -STOP "${DIST_PID[dup]}"
sen_conf p1 41
sen_conf p2 42
sen_bg "$VS_BIN" p1 "$TMP/a.pcap"
sen_bg "$VS_BIN" p2 "$TMP/a.pcap"
for s in p1 p2; do
	wait_for "$TMP/$s.log" "$NCALLS CDRs in" 4 ||
		{ kill -CONT "${DIST_PID[dup]}"; cat "$TMP/$s.log" >&2; fail "sensor $s: no CDRs"; }
done
sleep 0.5 # both connects are in the backlog; each sensor waits 5 s at most
kill -CONT "${DIST_PID[dup]}"
sen_wait p1 || { tail -20 "$TMP/p1.log" >&2; fail "sensor p1 failed"; }
sen_wait p2 || { tail -20 "$TMP/p2.log" >&2; fail "sensor p2 failed"; }
acked p1
acked p2
q() { db "USE $1; $2"; }
n=$(q "$DB1" "SELECT count(*) FROM cdr")
d=$(q "$DB1" "SELECT count(DISTINCT call_id) FROM cdr")
[ "$n" = $NCALLS ] && [ "$d" = $NCALLS ] ||
	fail "two probes, cdr_check_exists_callid = yes: want $NCALLS rows, $NCALLS Call-IDs; have $n rows, $d Call-IDs"
o=$(q "$DB1" "SELECT count(*) FROM cdr WHERE id_sensor NOT IN (41, 42)")
[ "$o" = 0 ] || fail "$o CDRs under an id_sensor other than 41 or 42"
split=$(q "$DB1" "SELECT GROUP_CONCAT(CONCAT(id_sensor, ':', n) ORDER BY id_sensor) FROM (SELECT id_sensor, count(*) n FROM cdr GROUP BY id_sensor) x")
ok "two probes (41, 42), same $NCALLS calls: $n CDRs, one per Call-ID (by sensor $split)"

# Did the two probes' connections overlap at the server? (Reported.)
overlap=$(awk '/server: sensor 4[12] .* connected from/ {c++; if (c > m) m = c}
	/server: sensor 4[12] .* disconnected/ {c--} END {print (m > 1) ? "overlapping" : "one after the other"}' "$TMP/dup.log")

# The running server's counters (--status), then its final line.
status dup >"$TMP/dup.status" || { cat "$TMP/dup.status.err" >&2; fail "--status failed"; }
st_commit=$(json 'j["server"]["cdrs_committed"]' <"$TMP/dup.status")
st_cdrs=$(json 'j["server"]["cdrs"]' <"$TMP/dup.status")
st_skip=$(json 'j["server"]["skipped_callid_known"]' <"$TMP/dup.status")
[ "$st_commit" = $NCALLS ] && [ "$st_cdrs" = $((2 * NCALLS)) ] ||
	fail "--status: want cdrs $((2 * NCALLS)) (received), cdrs_committed $NCALLS; have $st_cdrs, $st_commit"
ok "--status: cdrs $st_cdrs received, cdrs_committed $st_commit (connections $overlap)"
srv_stop dup
fin=$(grep "server: .* CDRs received" "$TMP/dup.log" | tail -1)
[ "$(final_skipped dup)" = $NCALLS ] ||
	fail "server's final line: want $NCALLS skipped (Call-ID known): $fin"
echo "$fin" | grep -q "database: $NCALLS rows committed" ||
	fail "server's final line: want $NCALLS rows committed: $fin"
ok "server's final line: $(echo "$fin" | grep -o '[0-9]* skipped (Call-ID known)'), $NCALLS rows committed"
# The writers count the skipped ones: a running server reports them too.
[ "$st_skip" = $NCALLS ] ||
	fail "--status while running: skipped_callid_known $st_skip, want $NCALLS"
ok "--status while running: skipped_callid_known $st_skip"
# "received" counts every CDR that came in, the skipped ones too.
echo "$fin" | grep -q "server: $((2 * NCALLS)) CDRs received" ||
	fail "server's final line: want $((2 * NCALLS)) CDRs received: $fin"

# --- 1b. control: cdr_check_exists_callid = no, fresh database --------------
DB2=${VS_MYSQL_DB}_nochk
srv_db nochk "$DB2" "cdr_check_exists_callid = no"
srv_start nochk
sen_conf r1 41
sen_conf r2 42
sen_bg "$VS_BIN_REL" r1 "$TMP/a.pcap"
sen_bg "$VS_BIN_REL" r2 "$TMP/a.pcap"
sen_wait r1 || { tail -20 "$TMP/r1.log" >&2; fail "sensor r1 failed"; }
sen_wait r2 || { tail -20 "$TMP/r2.log" >&2; fail "sensor r2 failed"; }
acked r1
acked r2
n=$(q "$DB2" "SELECT count(*) FROM cdr")
pairs=$(q "$DB2" "SELECT count(*) FROM (SELECT call_id FROM cdr GROUP BY call_id
	HAVING count(*) = 2 AND min(id_sensor) = 41 AND max(id_sensor) = 42) x")
[ "$n" = $((2 * NCALLS)) ] && [ "$pairs" = $NCALLS ] ||
	fail "cdr_check_exists_callid = no: want $((2 * NCALLS)) rows, $NCALLS Call-IDs stored by 41 and 42; have $n rows, $pairs such Call-IDs"
srv_stop nochk
[ "$(final_skipped nochk)" = 0 ] || fail "cdr_check_exists_callid = no skipped CDRs"
ok "control, cdr_check_exists_callid = no: $n CDRs, each of the $NCALLS Call-IDs once under 41 and once under 42"

# --- 2. compression per sensor, pinning ---------------------------------------
DB3=${VS_MYSQL_DB}_comp
srv_db comp "$DB3" "cdr_check_exists_callid = no"
srv_start comp
cert=$TMP/comp/channel-cert.pem
[ -s "$cert" ] || fail "server did not create $cert"
fp=$(openssl x509 -noout -fingerprint -sha256 -in "$cert" | sed 's/^.*=//')
[ ${#fp} = 95 ] || fail "openssl fingerprint unreadable: $fp"
grep -q "certificate SHA-256 $fp" "$TMP/comp.log" ||
	fail "server log does not print the certificate's fingerprint $fp"
# The wrong pin: the real one with its first byte changed (a near miss).
first=${fp:0:2}
[ "$first" = 00 ] && bad=01 || bad=00
badfp=$bad${fp:2}
sen_conf gz 51 "server_type_compress = gzip
server_tls_fingerprint = $fp"
sen_conf lz 52 "server_type_compress = lzo"
sen_conf nc 53 "server_type_compress = none"
sen_conf wp 54 "server_tls_fingerprint = $badfp"
for s in gz lz nc wp; do sen_bg "$VS_BIN" $s "$TMP/a.pcap"; done
wait_for "$TMP/wp.log" "does not match server_tls_fingerprint" 20 ||
	{ cat "$TMP/wp.log" >&2; fail "sensor with a wrong pin: no refusal line"; }
for s in gz lz nc; do
	sen_wait $s || { tail -20 "$TMP/$s.log" >&2; fail "sensor $s failed"; }
	acked $s
done
# The wrong pin has had the whole run of the others to get anything in.
kill -KILL "${DIST_PID[wp]}" 2>/dev/null
wait "${DIST_PID[wp]}" 2>/dev/null
unset "DIST_PID[wp]"
for id in 51 52 53; do
	n=$(q "$DB3" "SELECT count(*), count(DISTINCT call_id) FROM cdr WHERE id_sensor = $id")
	[ "$n" = "$(printf '%s\t%s' $NCALLS $NCALLS)" ] ||
		fail "sensor $id: want $NCALLS CDRs, one per Call-ID; have $n (rows, Call-IDs)"
done
ok "gzip, lzo, none: $NCALLS CDRs each, once per Call-ID and sensor"
for c in 51:gzip 52:lzo 53:none; do
	grep -Eq "channel: sensor ${c%:*} \"[^\"]*\" \([^,]*, local, ${c#*:}\) connected from $SEN_IP" "$TMP/comp.log" ||
		{ grep "channel: sensor" "$TMP/comp.log" >&2; fail "server log: sensor ${c%:*} not reported with ${c#*:}"; }
done
ok "server log names each sensor's compression: $(grep -o 'channel: sensor 5[123] "[^"]*" ([^)]*)' "$TMP/comp.log" | sed 's/"[^"]*" (//;s/)//;s/channel: sensor //' | awk '{print $1 "=" $NF}' | tr '\n' ' ')"
# --status names each sensor's compression too.
status comp >"$TMP/comp.status" || { cat "$TMP/comp.status.err" >&2; fail "--status failed"; }
for c in 51:gzip 52:lzo 53:none; do
	have=$(json "[s['compress'] for s in j['sensors'] if s['id_sensor'] == ${c%:*}][0]" <"$TMP/comp.status")
	[ "$have" = "${c#*:}" ] || fail "--status: sensor ${c%:*} compress '$have', want ${c#*:}"
done
ok "--status: compress gzip, lzo, none for sensors 51, 52, 53"

grep -q "accepted server certificate $fp (pinned)" "$TMP/gz.log" ||
	{ grep "certificate" "$TMP/gz.log" >&2; fail "pinned sensor did not log the accepted fingerprint"; }
ok "pinned sensor logged: $(grep -o "accepted server certificate [0-9A-F:]\{11\}.* (pinned)" "$TMP/gz.log" | head -1)"
grep -q "accepted server certificate" "$TMP/wp.log" && fail "wrong pin: a certificate was accepted"
grep -q "uplink: connected" "$TMP/wp.log" && fail "wrong pin: the uplink connected"
n=$(q "$DB3" "SELECT count(*) FROM cdr WHERE id_sensor = 54")
[ "$n" = 0 ] || fail "wrong pin: $n CDRs stored"
n=$(q "$DB3" "SELECT count(*) FROM sensors WHERE id_sensor = 54")
[ "$n" = 0 ] || fail "wrong pin: the sensor is in the sensors table"
grep -q "error: channel: server $SRV_IP:$DIST_PORT: server certificate $fp does not match server_tls_fingerprint" "$TMP/wp.log" ||
	{ cat "$TMP/wp.log" >&2; fail "wrong pin: the refusal does not name the server and the certificate it saw"; }
ok "wrong pin ${badfp:0:8}... refused ('server $SRV_IP:$DIST_PORT: server certificate ${fp:0:8}... does not match server_tls_fingerprint'), nothing stored"
srv_stop comp
