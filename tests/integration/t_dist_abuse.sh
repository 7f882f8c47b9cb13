#!/bin/bash
# Distributed: bad peers never crash or stall the central server. While a
# real local-processing sensor (live capture on a veth fed by tcpreplay)
# ships a steady stream of CDRs, other processes hit the same server port
# in parallel (tests/integration/abuse_client.py, from a third address):
#  - plain TCP: 4 KiB of random bytes (not TLS); one that sends nothing
#    (the server drops it when the 10 s handshake deadline passes, logged);
#  - TLS without pinning, then in separate connections: a frame of unknown
#    type, length fields above the handshake's 4 KiB and above the 64 MiB
#    hard limit, a truncated frame and close, a CDR frame instead of
#    HELLO, a HELLO that is not JSON; TLS and then silence;
#  - a sensor with the wrong server_password (its own address): "bad
#    password" in both logs, its attempts spaced by the documented
#    back-off (0.5 s doubling), the server's per-address back-off refusals;
#  - 200 TCP connections open at once, then 40 TLS handshakes closed.
# Checked: the server is alive throughout and at the end; each bad
# connection has its log line naming it (address and port); --status
# answers during the flood (counting the 200) and after (one connection
# left); VmRSS grows less than 50 MB; the real sensor connected once,
# sent every CDR once (no re-send), and MariaDB has each exactly once.
. "$(dirname "$0")/dist_lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"
command -v tcpreplay >/dev/null || skip "tcpreplay not installed"
python3 -c 'import ssl' 2>/dev/null || skip "python3 without ssl"
: "${VS_BIN_REL:=$VS_BIN}"
[ -x "$VS_BIN_REL" ] || skip "$VS_BIN_REL not built"
dist_setup
ABUSE=$(dirname "$0")/abuse_client.py
ABUSE_IP=10.254.$DIST_NET.5 # the abusers' address; SEN_IP2 is the bad sensor's
CAP=vxa$$c                  # the real sensor captures here (in $NS_SEN)
FEED=vxa$$p                 # tcpreplay sends here
ID=7
CALLS=80
ip -n "$NS_SEN" addr add "$ABUSE_IP/29" dev vxd$$b
ip -n "$NS_SEN" link add "$CAP" type veth peer name "$FEED" || skip "kernel has no veth"
ip -n "$NS_SEN" link set "$CAP" up
ip -n "$NS_SEN" link set "$FEED" up

# About 22 s of SIP calls (no RTP: the CDR stream is what matters).
"$VSGEN" -n $CALLS -d 2 -s nortp --rate 4 --seed 31 --start "$(date +%s)" \
	-o "$TMP/calls.pcap" >/dev/null || fail vsgen
"$VSGEN" -n 3 -d 2 --seed 32 -o "$TMP/bad.pcap" >/dev/null || fail vsgen

srv_conf srv
# ASan keeps freed memory aside (quarantine, 256 MB by default), which would
# read as growth; a small one lets VmRSS show what the server really keeps.
srv_start srv "ASAN_OPTIONS=${ASAN_OPTIONS:-}:quarantine_size_mb=8"
SPID=${DIST_PID[srv]}
[ "$(cat /proc/"$SPID"/comm)" = voxsense ] || fail "pid $SPID is not the server"
ctl() { ip netns exec "$NS_SRV" "$VS_BIN_REL" -c "$TMP/srv.conf" "$@"; }
alive() { kill -0 "$SPID" 2>/dev/null || { tail -30 "$TMP/srv.log" >&2; fail "server died ($1)"; }; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$SPID/status"; }
stored() { db "SELECT count(*) FROM cdr WHERE id_sensor = $ID"; }
# status PYTHON-EXPR: --status answers within 5 s and EXPR holds on it (st)
status() {
	local t0=$EPOCHREALTIME
	timeout 5 ip netns exec "$NS_SRV" "$VS_BIN_REL" -c "$TMP/srv.conf" --status \
		>"$TMP/status.json" 2>"$TMP/status.err" ||
		{ cat "$TMP/status.err" >&2; fail "--status did not answer within 5 s ($2)"; }
	python3 -c '
import json, sys
st = json.load(open(sys.argv[1])); s = st["server"]
assert '"$1"', s' "$TMP/status.json" ||
		fail "--status ($2): $(cat "$TMP/status.json")"
	STATUS_MS=$(echo "($EPOCHREALTIME - $t0) * 1000 / 1" | bc)
}

# --- the real sensor: live, steady stream ------------------------------------
sen_conf sen $ID "interface = $CAP
capture_mode = pcap"
ip netns exec "$NS_SEN" "$VS_BIN_REL" -c "$TMP/sen.conf" </dev/null >"$TMP/sen.log" 2>&1 &
DIST_PID[sen]=$!
wait_for "$TMP/sen.log" "live capture on $CAP" 10 || { cat "$TMP/sen.log" >&2; fail "sensor did not start"; }
wait_for "$TMP/sen.log" "uplink: connected" 15 || { cat "$TMP/sen.log" >&2; fail "sensor did not connect"; }
ip netns exec "$NS_SEN" tcpreplay -q -i "$FEED" "$TMP/calls.pcap" >"$TMP/tcpreplay.log" 2>&1 &
REPLAY=$!
for _ in $(seq 100); do [ "$(stored)" -gt 0 ] && break; sleep 0.1; done
[ "$(stored)" -gt 0 ] || fail "no CDR of the real sensor arrived"
rss0=$(rss_kb)
n0=$(stored)
ok "server pid $SPID, VmRSS $((rss0 / 1024)) MB; sensor $ID streaming ($n0 CDRs so far)"

# --- the abuse, in parallel ---------------------------------------------------
abuse() { # NAME KIND [args]: in the background, output in $TMP/a_NAME.out
	local name=$1
	shift
	ip netns exec "$NS_SEN" python3 "$ABUSE" "$1" "$ABUSE_IP" "$SRV_IP" "$DIST_PORT" "${@:2}" \
		>"$TMP/a_$name.out" 2>"$TMP/a_$name.err" &
	APID[$name]=$!
}
declare -A APID=()
t_abuse=$EPOCHREALTIME
abuse silent silent
abuse tlssilent tls-silent
# The wrong password, from SEN_IP2; each log line stamped as it arrives.
stamp() { while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done; }
DIST_PASSWORD=wrong sen_conf bad 8 "manager_ip = $SEN_IP2"
ip netns exec "$NS_SEN" "$VS_BIN_REL" -c "$TMP/bad.conf" -r "$TMP/bad.pcap" \
	</dev/null > >(stamp >"$TMP/bad.log") 2>&1 &
DIST_PID[bad]=$!
abuse garbage garbage
for k in tls-unknown "tls-oversize 4097" "tls-oversize 4294967295" tls-truncated \
	tls-wrongtype tls-badhello; do
	# shellcheck disable=SC2086
	abuse "${k// /_}" $k
done
abuse flood flood 200 3
for _ in $(seq 150); do grep -q '^open' "$TMP/a_flood.out" && break; sleep 0.1; done
grep -q '^open 200' "$TMP/a_flood.out" || { cat "$TMP/a_flood.err" >&2; fail "flood: 200 connections not opened"; }
alive "200 connections open"
status 's["connections"] >= 200 and s["sensors_connected"] == 1' "during the flood"
ok "--status during the flood answered in $STATUS_MS ms: $(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["server"]; print(s["connections"], "connections,", s["sensors_connected"], "sensor")' "$TMP/status.json")"

for name in "${!APID[@]}"; do
	wait "${APID[$name]}" || { cat "$TMP/a_$name.err" >&2; fail "abuse client $name failed"; }
	alive "after $name"
done
n1=$(stored)
[ "$n1" -gt "$n0" ] || fail "no CDR stored while the abuse ran ($n0 before, $n1 after): the server stalled"
ok "abuse clients done in $(echo "$EPOCHREALTIME - $t_abuse" | bc | cut -c1-4) s; server alive; CDRs stored meanwhile: $n0 -> $n1"

# --- each bad connection: its outcome and its log line ------------------------
# logged KIND PATTERN: the server logged PATTERN for every connection KIND
# reported (a line "channel: sensor ABUSE_IP:PORT: ...PATTERN")
logged() {
	local kind=$1 pat=$2 port n=0
	for port in $(awk -v k="$kind" '$1 == k {print $2}' "$TMP"/a_*.out); do
		grep -q "channel: sensor $ABUSE_IP:$port: $pat" "$TMP/srv.log" ||
			fail "$kind from $ABUSE_IP:$port: no server line '$pat'"
		n=$((n + 1))
	done
	[ $n -gt 0 ] || fail "no $kind connection reported"
	LOGGED=$(grep -m1 -o "channel: sensor $ABUSE_IP:$port: $pat.*" "$TMP/srv.log")
	LOGGED_N=$n
}
closed() { # KIND: the server closed it (the client saw the end)
	awk -v k="$1" '$1 == k && $3 != "closed" {bad = 1} END {exit bad}' "$TMP"/a_*.out ||
		fail "$1: the server did not close the connection: $(grep -h "^$1 " "$TMP"/a_*.out)"
}
closed garbage
logged garbage "TLS handshake failed: TLS: "
ok "random bytes (not TLS): closed, logged '$LOGGED'"

for k in silent tls-silent; do
	read -r _ _ _ secs _ < <(grep -h "^$k " "$TMP"/a_*.out)
	closed $k
	logged $k "handshake timed out after 10000 ms"
	awk -v s="$secs" 'BEGIN {exit !(s >= 9.9 && s < 13)}' ||
		fail "$k: closed after $secs s, want the 10 s handshake deadline"
	ok "$k: dropped after $secs s (deadline 10 s), logged '$LOGGED'"
done

for k in tls-unknown:"bad frame in the handshake: unknown frame type" \
	tls-oversize:"bad frame in the handshake: frame above the maximum size" \
	tls-wrongtype:"expected HELLO, got CDR" \
	tls-badhello:"malformed HELLO"; do
	closed "${k%%:*}"
	logged "${k%%:*}" "${k#*:}"
	ok "${k%%:*}: closed ($LOGGED_N), logged '$LOGGED'"
done
grep -hq "^tls-wrongtype .*error=expected HELLO, got CDR" "$TMP"/a_*.out ||
	fail "tls-wrongtype: no ERROR frame telling the peer"
logged tls-truncated "\(connection closed during the handshake\|handshake failed: TLS: unexpected eof\)"
ok "tls-truncated: logged '$LOGGED'"

logged flood-tcp "TLS handshake failed: "
ok "200 connections at once: each logged ('$LOGGED')"
logged flood-tls "\(connection closed during the handshake\|handshake failed: TLS: unexpected eof\)"
ok "$LOGGED_N TLS handshakes closed at once: each logged ('$LOGGED')"

# --- the wrong password: both logs, back-off -----------------------------------
# Observe the bad sensor's attempts for 16 s from its start.
while [ "$(echo "$EPOCHREALTIME - $t_abuse < 16" | bc)" = 1 ]; do sleep 0.5; done
alive "bad password attempts"
kill -KILL "${DIST_PID[bad]}" 2>/dev/null; wait "${DIST_PID[bad]}" 2>/dev/null; unset "DIST_PID[bad]"
grep -q "bad password" "$TMP/bad.log" || { cat "$TMP/bad.log" >&2; fail "sensor log lacks 'bad password'"; }
grep -q "channel: sensor $SEN_IP2:[0-9]*: bad password (sensor 8 " "$TMP/srv.log" ||
	fail "server log lacks 'bad password' from $SEN_IP2"
grep -q "channel: sensor $SEN_IP2:[0-9]*: refused: too many failed attempts from this address: retry in" "$TMP/srv.log" ||
	fail "server did not back off $SEN_IP2"
# One line per failed attempt: "uplink: server IP port P: <why>".
grep "uplink: server $SRV_IP port $DIST_PORT: " "$TMP/bad.log" | cut -d' ' -f1 >"$TMP/bad.times"
python3 - "$TMP/bad.times" <<'PY' >"$TMP/bad.gaps" || fail "bad sensor's attempts: $(cat "$TMP/bad.gaps")"
import sys
t = [float(x) for x in open(sys.argv[1])]
gaps = [b - a for a, b in zip(t, t[1:])]
print(len(t), "attempts, gaps", " ".join("%.2f" % g for g in gaps))
# documented: 0.5 s doubling to 30 s after each failed round
assert 4 <= len(t) <= 7, "want 4..7 attempts in 16 s"
for i, g in enumerate(gaps):
    want = 0.5 * 2 ** i
    assert want * 0.9 <= g <= want + 2.5, "gap %d is %.2f s, want about %.1f" % (i, g, want)
PY
[ "$(db "SELECT count(*) FROM cdr WHERE id_sensor = 8")" = 0 ] || fail "CDRs stored despite a wrong password"
ok "wrong password: 'bad password' in both logs, server backs $SEN_IP2 off; $(cat "$TMP/bad.gaps") s"

# --- the server after the abuse -------------------------------------------------
alive "after the abuse"
status 's["connections"] == 1 and s["sensors_connected"] == 1 and s["database"] == "ok"' "after the abuse"
rss1=$(rss_kb)
[ $((rss1 - rss0)) -lt $((50 * 1024)) ] || fail "VmRSS grew from $((rss0 / 1024)) to $((rss1 / 1024)) MB"
ok "after the abuse: --status in $STATUS_MS ms, 1 connection left; VmRSS $((rss0 / 1024)) -> $((rss1 / 1024)) MB"
# The same flood again: what a connection leaves behind would show twice.
abuse flood2 flood 200 0.5
wait "${APID[flood2]}" || { cat "$TMP/a_flood2.err" >&2; fail "second flood failed"; }
alive "second flood"
logged flood-tcp "TLS handshake failed: "
status 's["connections"] == 1' "after the second flood"
rss2=$(rss_kb)
[ $((rss2 - rss1)) -lt $((8 * 1024)) ] ||
	fail "VmRSS grew again by $(((rss2 - rss1) / 1024)) MB over a second flood of 240 connections (a leak per connection?)"
ok "a second flood of 240 connections: VmRSS $((rss1 / 1024)) -> $((rss2 / 1024)) MB (not growing)"

# --- the real sensor: every CDR once, one connection ---------------------------
wait $REPLAY || { cat "$TMP/tcpreplay.log" >&2; fail tcpreplay; }
for _ in $(seq 100); do [ "$(stored)" -ge $CALLS ] && break; sleep 0.2; done
kill -TERM "${DIST_PID[sen]}"
wait "${DIST_PID[sen]}" || { tail -20 "$TMP/sen.log" >&2; fail "sensor exit status"; }
unset "DIST_PID[sen]"
n=$(stored)
d=$(db "SELECT count(DISTINCT call_id) FROM cdr WHERE id_sensor = $ID")
[ "$n" = $CALLS ] && [ "$d" = $CALLS ] || fail "want $CALLS CDRs once each, have $n rows, $d Call-IDs"
[ "$(grep -c "uplink: connected" "$TMP/sen.log")" = 1 ] && ! grep -q "connection to the server lost" "$TMP/sen.log" ||
	{ grep uplink "$TMP/sen.log" >&2; fail "the real sensor's connection was dropped"; }
fin=$(grep -o "uplink: [0-9]* CDRs spooled.*connections" "$TMP/sen.log")
echo "$fin" | grep -q "uplink: $CALLS CDRs spooled, 0 dropped (spool full), .*; $CALLS sent, 1 connections" ||
	fail "sensor's final line: $fin"
[ "$(grep -c "server: sensor $ID (.*) connected from $SEN_IP" "$TMP/srv.log")" = 1 ] ||
	fail "server saw sensor $ID connect more than once"
ok "real sensor: $CALLS CDRs exactly once ($n0 before the abuse), one connection, nothing re-sent"

alive "at the end"
srv_stop srv
ok "server exits 0 on SIGTERM"
