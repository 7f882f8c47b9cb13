#!/bin/bash
# Distributed, local processing: a central server and a sensor as separate
# processes in two network namespaces, real TLS, a private MariaDB.
#  - the sensor's CDRs land exactly once, under its id_sensor, equal column
#    by column to what an all-in-one voxsense stores for the same capture,
#    and equal in Call-IDs to the sensor's own --cdr-json; sensors table;
#  - a second run of the same capture is not stored twice
#    (cdr_check_exists_callid on the server);
#  - wrong password: "bad password" in both logs, nothing stored;
#  - clock skew beyond client_server_connect_maximum_time_diff_s refused;
#  - a second live sensor with the same id_sensor refused;
#  - failover: the first server_destination down, the second used;
#  - start-up refusals: relay without id_sensor, no id_sensor, -r on a
#    server; sipport trap; server_bind with packetbuffer_sender = yes
#    refused, interface on a server or relay warned.
. "$(dirname "$0")/dist_lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"
dist_setup
"$VSGEN" -n 25 -d 3 -s mix --rtcp --dtmf 5 --loss 1 --seed 11 -o "$TMP/a.pcap" >/dev/null || fail vsgen
"$VSGEN" -n 10 -d 2 --seed 12 --start 1700001000 -o "$TMP/b.pcap" >/dev/null || fail vsgen

srv_conf srv1 "$SRV_IP" "cdr_check_exists_callid = yes
sipport = 5060,60024"
srv_start srv1
grep -q "sipport includes server_bind_port 60024: excluded" "$TMP/srv1.log" ||
	fail "no warning about sipport containing the channel port"
ok "sipport containing server_bind_port: warned and excluded"

# --- CDRs exactly once, equal to the all-in-one path -------------------------
sen_conf sen7 7
sen_run sen7 "$TMP/a.pcap" --cdr-json "$TMP/sen7.json"
grep -q "every CDR acknowledged by the server" "$TMP/sen7.log" ||
	{ cat "$TMP/sen7.log"; fail "sensor did not see every CDR acknowledged"; }
n=$(db "SELECT count(*) FROM cdr WHERE id_sensor = 7")
d=$(db "SELECT count(DISTINCT call_id) FROM cdr")
[ "$n" = 25 ] && [ "$d" = 25 ] || fail "want 25 CDRs once each, have $n rows, $d Call-IDs"
ok "25 CDRs stored exactly once with id_sensor 7"

python3 - "$TMP/sen7.json" <<'PY' >"$TMP/json_ids" || fail "sensor --cdr-json unreadable"
import json, sys
for l in open(sys.argv[1]):
    print(json.loads(l)["call_id"])
PY
db "SELECT call_id FROM cdr ORDER BY call_id" >"$TMP/db_ids"
sort "$TMP/json_ids" | cmp -s - "$TMP/db_ids" || fail "Call-IDs in MariaDB differ from the sensor's --cdr-json"
ok "Call-IDs equal the sensor's --cdr-json"

# The reference: all-in-one voxsense into another database, same capture.
mariadb_sql "CREATE DATABASE ${VS_MYSQL_DB}_ref" || fail "create reference database"
cat >"$TMP/ref.conf" <<CONF
id_sensor = 7
mysqlsocket = $VS_MYSQL_SOCKET
mysqldb = ${VS_MYSQL_DB}_ref
mysqlusername = $VS_MYSQL_USER
mysqlpassword = $VS_MYSQL_PASSWORD
spooldir = $TMP/ref
savesip = no
savertp = no
CONF
"$VS_BIN" -c "$TMP/ref.conf" -r "$TMP/a.pcap" 2>"$TMP/ref.log" || { cat "$TMP/ref.log"; fail "all-in-one reference run"; }
cols() { # TABLE EXCLUDED: its columns but one, as a CONCAT_WS list
	db "SELECT GROUP_CONCAT(CONCAT('IFNULL(\`', column_name, '\`,''~'')') ORDER BY ordinal_position)
	    FROM information_schema.columns WHERE table_schema = '$VS_MYSQL_DB'
	    AND table_name = '$1' AND column_name <> '$2'"
}
c=$(cols cdr ID)
[ -n "$c" ] || fail "no columns found"
db "SELECT CONCAT_WS('|', $c) FROM $VS_MYSQL_DB.cdr ORDER BY call_id" >"$TMP/dist.rows"
db "SELECT CONCAT_WS('|', $c) FROM ${VS_MYSQL_DB}_ref.cdr ORDER BY call_id" >"$TMP/ref.rows"
[ "$(wc -l <"$TMP/ref.rows")" = 25 ] || fail "reference has $(wc -l <"$TMP/ref.rows") rows"
cmp -s "$TMP/dist.rows" "$TMP/ref.rows" || {
	diff "$TMP/dist.rows" "$TMP/ref.rows" | head -6 >&2
	fail "CDR rows through the channel differ from the all-in-one rows"
}
ok "all $(echo "$c" | tr ',' '\n' | wc -l) cdr columns equal the all-in-one path"
if db "SELECT 1 FROM information_schema.tables WHERE table_schema = '$VS_MYSQL_DB' AND table_name = 'cdr_rtp'" | grep -q 1; then
	r=$(cols cdr_rtp cdr_ID)
	q="SELECT CONCAT_WS('|', c.call_id, $(echo "$r" | sed 's/IFNULL(`/IFNULL(r.`/g')) FROM DB.cdr_rtp r JOIN DB.cdr c ON c.ID = r.cdr_ID ORDER BY c.call_id, r.stream_index"
	db "${q//DB/$VS_MYSQL_DB}" >"$TMP/dist.rtp"
	db "${q//DB/${VS_MYSQL_DB}_ref}" >"$TMP/ref.rtp"
	[ -s "$TMP/ref.rtp" ] && cmp -s "$TMP/dist.rtp" "$TMP/ref.rtp" ||
		fail "cdr_rtp rows through the channel differ from the all-in-one rows"
	ok "cdr_rtp: $(wc -l <"$TMP/ref.rtp") stream rows equal the all-in-one path"
fi

row=$(db "SELECT id_sensor, name, address LIKE '$SEN_IP:%', mode, cdrs, connected_since IS NOT NULL, last_seen IS NOT NULL FROM sensors")
[ "$(echo "$row" | cut -f1,3-)" = "$(printf '7\t1\tlocal\t25\t1\t1')" ] ||
	fail "sensors table: $row"
ok "sensors table: $(echo "$row" | tr '\t' ' ')"

# --- the same capture again: replay of the same calls is not stored twice -----
sen_conf sen7b 7
sen_run sen7b "$TMP/a.pcap"
[ "$(db "SELECT count(*) FROM cdr")" = 25 ] || fail "second run stored duplicates"
ok "cdr_check_exists_callid: same calls from a new spool not stored again"

# --- wrong password ----------------------------------------------------------
# From its own address (manager_ip): the server backs that source off.
DIST_PASSWORD=wrong sen_conf bad 8 "manager_ip = $SEN_IP2"
ip netns exec "$NS_SEN" "$VS_BIN" -c "$TMP/bad.conf" -r "$TMP/b.pcap" >"$TMP/bad.log" 2>&1 &
DIST_PID[bad]=$!
wait_for "$TMP/bad.log" "bad password" 15 || { cat "$TMP/bad.log"; fail "sensor log lacks 'bad password'"; }
wait_for "$TMP/srv1.log" "$SEN_IP2:.*bad password" 5 || fail "server log lacks 'bad password' from $SEN_IP2"
kill -KILL "${DIST_PID[bad]}" 2>/dev/null; wait "${DIST_PID[bad]}" 2>/dev/null; unset "DIST_PID[bad]"
[ "$(db "SELECT count(*) FROM cdr WHERE id_sensor = 8")" = 0 ] || fail "CDRs stored despite a wrong password"
ok "wrong password: 'bad password' in both logs (from manager_ip $SEN_IP2), nothing stored"

# --- clock skew --------------------------------------------------------------
sen_conf skew 9
ip netns exec "$NS_SEN" env VOXSENSE_TEST_CLOCK_OFFSET_MS=5000 "$VS_BIN" \
	-c "$TMP/skew.conf" -r "$TMP/b.pcap" >"$TMP/skew.log" 2>&1 &
DIST_PID[skew]=$!
wait_for "$TMP/skew.log" "clocks differ by" 15 || { cat "$TMP/skew.log"; fail "sensor log lacks the clock difference"; }
kill -KILL "${DIST_PID[skew]}" 2>/dev/null; wait "${DIST_PID[skew]}" 2>/dev/null; unset "DIST_PID[skew]"
grep -q "clocks differ by" "$TMP/srv1.log" || fail "server log lacks the clock difference"
[ "$(db "SELECT count(*) FROM cdr WHERE id_sensor = 9")" = 0 ] || fail "CDRs stored despite clock skew"
ok "clock skew 5 s: refused, $(grep -m1 -o 'clocks differ by [^(]*' "$TMP/srv1.log")"

# --- id_sensor clash ---------------------------------------------------------
# A live sensor 20 (capturing on lo) stays connected; another machine (other
# host name, by a UTS namespace) with id_sensor 20 is refused.
sen_conf holder 20 "interface = lo
capture_mode = pcap"
sen_conf clash 20
ip netns exec "$NS_SEN" "$VS_BIN" -c "$TMP/holder.conf" >"$TMP/holder.log" 2>&1 </dev/null &
DIST_PID[holder]=$!
wait_for "$TMP/holder.log" "uplink: connected" 15 || { cat "$TMP/holder.log" >&2; fail "a live sensor did not connect"; }
command -v unshare >/dev/null || skip "unshare absent (needed for a second host name)"
ip netns exec "$NS_SEN" unshare -u sh -c "hostname other-host && exec '$VS_BIN' \
	-c '$TMP/clash.conf' -r '$TMP/b.pcap'" >"$TMP/clash.log" 2>&1 </dev/null &
DIST_PID[clash]=$!
wait_for "$TMP/clash.log" "already connected" 15 || { cat "$TMP/clash.log" >&2; fail "clashing sensor not told"; }
grep -q "id_sensor 20 is already connected from $SEN_IP" "$TMP/srv1.log" || fail "server log lacks the clash"
kill -KILL "${DIST_PID[clash]}" 2>/dev/null; wait "${DIST_PID[clash]}" 2>/dev/null; unset "DIST_PID[clash]"
[ "$(db "SELECT count(*) FROM cdr WHERE id_sensor = 20")" = 0 ] || fail "the clashing sensor's CDRs were stored"
ok "id_sensor clash refused: $(grep -m1 -o 'id_sensor 20 is already connected[^:]*' "$TMP/srv1.log")"
# The same sensor reconnecting (same name, same address) replaces the old
# connection: the holder's twin takes over.
sen_conf twin 20
sen_run twin "$TMP/b.pcap"
grep -q "sensor 20 .* reconnects from" "$TMP/srv1.log" || fail "no reconnect-replace for the same sensor"
[ "$(db "SELECT count(*) FROM cdr WHERE id_sensor = 20")" = 10 ] || fail "the reconnecting sensor's CDRs missing"
ok "same sensor reconnecting (same name and address) replaces its old connection"
kill -TERM "${DIST_PID[holder]}"
wait "${DIST_PID[holder]}" || { tail "$TMP/holder.log" >&2; fail "live sensor did not exit cleanly on SIGTERM"; }
unset "DIST_PID[holder]"
ok "live sensor (capturing on lo) exits 0 on SIGTERM"

# --- failover ----------------------------------------------------------------
"$VSGEN" -n 8 -d 2 --seed 13 --start 1700002000 -o "$TMP/c.pcap" >/dev/null || fail vsgen
sen_conf fo 30 "server_destination = $SRV_IP2, $SRV_IP"
sen_run fo "$TMP/c.pcap"
grep -q "connected to $SRV_IP port $DIST_PORT (server 2 of 2)" "$TMP/fo.log" ||
	{ cat "$TMP/fo.log" >&2; fail "sensor did not fail over to the second server"; }
[ "$(db "SELECT count(*) FROM cdr WHERE id_sensor = 30")" = 8 ] || fail "failover CDRs missing"
ok "failover: first server down, 8 CDRs through the second"
srv_conf srv2 "$SRV_IP2"
srv_start srv2
"$VSGEN" -n 5 -d 2 --seed 14 --start 1700003000 -o "$TMP/d.pcap" >/dev/null || fail vsgen
sen_run fo "$TMP/d.pcap"
grep -q "connected to $SRV_IP2 port $DIST_PORT (server 1 of 2)" "$TMP/fo.log" ||
	fail "sensor did not return to the first server once it was up"
[ "$(db "SELECT count(*) FROM cdr WHERE id_sensor = 30")" = 13 ] || fail "CDRs through the first server missing"
[ "$(db "SELECT count(*) - count(DISTINCT call_id) FROM cdr")" = 0 ] || fail "duplicates after failover"
ok "back to the first server once it answers; 13 CDRs of sensor 30, no duplicate"
srv_stop srv2
srv_stop srv1

# --- start-up refusals -------------------------------------------------------
printf 'server_bind = 127.0.0.1\nserver_destination = 10.0.0.1\nmysqlsocket = /x\n' >"$TMP/relay.conf"
"$VS_BIN" -c "$TMP/relay.conf" 2>"$TMP/relay.log" && fail "relay config accepted"
grep -q "a relay needs its own id_sensor" "$TMP/relay.log" || fail "relay refusal message"
printf 'server_destination = 10.0.0.1\n' >"$TMP/noid.conf"
"$VS_BIN" -c "$TMP/noid.conf" -r "$TMP/b.pcap" 2>"$TMP/noid.log" && fail "sensor without id_sensor accepted"
grep -q "a sensor needs id_sensor" "$TMP/noid.log" || fail "id_sensor message"
"$VS_BIN" -c "$TMP/srv1.conf" -r "$TMP/b.pcap" 2>"$TMP/srvr.log" && fail "server with -r accepted"
grep -q "a central server does not read capture files" "$TMP/srvr.log" || fail "-r on a server message"
"$VS_BIN" --check-config -c "$TMP/srv1.conf" | grep -q "s3cret-pw" && fail "--check-config printed server_password"
ok "relay without id_sensor, missing id_sensor, -r on a server refused; password never printed"

# --- role mixing: sensor keys on a server -----------------------------------
# packetbuffer_sender = yes names a mirroring sensor: with server_bind alone
# the packets would go nowhere. Refused with exit status 1, naming the keys.
srv_conf pbs "$SRV_IP" "packetbuffer_sender = yes"
rc=0
timeout 10 "$VS_BIN" -c "$TMP/pbs.conf" 2>"$TMP/pbs.log" || rc=$?
[ "$rc" = 1 ] || { cat "$TMP/pbs.log" >&2; fail "server_bind with packetbuffer_sender = yes: exit $rc, want 1"; }
grep -q "error: server_bind and packetbuffer_sender = yes are both set" "$TMP/pbs.log" ||
	{ cat "$TMP/pbs.log" >&2; fail "no error naming server_bind and packetbuffer_sender"; }
# A relay (server_bind and server_destination) may carry it (the seeds'
# intermediate server): refused here only for its missing id_sensor.
printf 'server_bind = 127.0.0.1
server_destination = 10.0.0.1
packetbuffer_sender = yes
interface = eth0
' >"$TMP/relaypb.conf"
rc=0
timeout 10 "$VS_BIN" -c "$TMP/relaypb.conf" 2>"$TMP/relaypb.log" || rc=$?
[ "$rc" = 1 ] && grep -q "a relay needs its own id_sensor" "$TMP/relaypb.log" &&
	! grep -q "packetbuffer_sender" "$TMP/relaypb.log" &&
	grep -q "warning: server_bind is set: a relay captures nothing; interface = eth0 is ignored" "$TMP/relaypb.log" ||
	{ cat "$TMP/relaypb.log" >&2; fail "relay with packetbuffer_sender: want only the id_sensor refusal and the interface warning"; }
# interface on a central server: it captures nothing; warned, and it runs.
srv_conf ifs "$SRV_IP" "interface = eth0"
srv_start ifs
grep -q "warning: server_bind is set: a central server captures nothing; interface = eth0 is ignored" "$TMP/ifs.log" ||
	{ cat "$TMP/ifs.log" >&2; fail "no warning about interface on a central server"; }
srv_stop ifs
ok "server_bind with packetbuffer_sender = yes refused (exit 1); relay keeps it; interface on a server or relay warned"
