#!/bin/bash
# Distributed, local processing: the central server fetches a call's pcap
# from the sensor that recorded it, over the sensor's own connection (the
# sensor listens on nothing), and reports its state. Real processes in two
# network namespaces, real TLS, a private MariaDB.
#  - pcaps fetched by cdr ID equal the sensor's spool files byte for byte:
#    short calls, a 2.7 MB call of 120 s (11 slices of 256 KiB; its file
#    sits in the minute it started), to a file and to stdout, three at
#    once, and two calls with one Call-ID in the same minute;
#  - a deleted spool file gives the sensor's error; a symlink out of the
#    spooldir is refused; an unknown CDR ID; a disconnected sensor;
#  - --status: the server and its sensor (connected, then not); the
#    control socket is mode 0600 and answers a plain "status" line.
. "$(dirname "$0")/dist_lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"
dist_setup
"$VSGEN" -n 6 -d 3 --rtcp --seed 21 -o "$TMP/a.pcap" >/dev/null || fail vsgen
"$VSGEN" -n 1 -d 120 --seed 22 --start 1700005000 -o "$TMP/big.pcap" >/dev/null || fail vsgen
# One Call-ID twice within a minute (the spool names the second file
# <id>-2.pcap); the later call is analysed first, so <id>.pcap is not the
# earlier call's.
"$VSGEN" -n 1 -d 3 --seed 23 --start 1700006000 -o "$TMP/r1.pcap" >/dev/null || fail vsgen
"$VSGEN" -n 1 -d 3 --seed 23 --start 1700006025 -o "$TMP/r2.pcap" >/dev/null || fail vsgen

srv_conf srv1
srv_start srv1
SOCK=$TMP/srv1/voxsense.sock
[ -S "$SOCK" ] || fail "no control socket $SOCK"
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "control socket mode $(stat -c %a "$SOCK"), want 600"
ok "control socket $SOCK, mode 600"

# The sensor records pcaps; two -r runs fill its spool and the database.
sen_conf sen5 5 "savesip = yes
savertp = yes"
sen_run sen5 "$TMP/a.pcap"
sen_run sen5 "$TMP/big.pcap"
sen_run sen5 "$TMP/r2.pcap"
sen_run sen5 "$TMP/r1.pcap"
[ "$(db "SELECT count(*) FROM cdr WHERE id_sensor = 5 AND pcap_path <> ''")" = 9 ] ||
	fail "want 9 CDRs with a pcap_path from sensor 5"

# Then the same sensor (same spooldir) stays up, capturing nothing on lo.
sen_conf sen5live 5 "savesip = yes
savertp = yes
spooldir = $TMP/sen5
interface = lo
capture_mode = pcap"
ip netns exec "$NS_SEN" "$VS_BIN" -c "$TMP/sen5live.conf" >"$TMP/sen5live.log" 2>&1 </dev/null &
DIST_PID[sen5live]=$!
wait_for "$TMP/sen5live.log" "uplink: connected" 15 || { cat "$TMP/sen5live.log" >&2; fail "live sensor did not connect"; }

ctl() { ip netns exec "$NS_SRV" "$VS_BIN" -c "$TMP/srv1.conf" "$@"; }

# --- status -----------------------------------------------------------------
ctl --status >"$TMP/status.json" 2>"$TMP/status.err" || { cat "$TMP/status.err" >&2; fail "--status failed"; }
python3 - "$TMP/status.json" "$SEN_IP" <<'PY' || fail "--status: $(cat "$TMP/status.json")"
import json, sys
st = json.load(open(sys.argv[1]))
s = {x["id_sensor"]: x for x in st["sensors"]}[5]
assert s["connected"] is True and s["mode"] == "local", s
assert s["address"].startswith(sys.argv[2] + ":"), s
assert s["cdrs"] == 9 and s["connected_since"] and s["last_seen"], s
assert st["server"]["cdrs"] == 9 and st["server"]["database"] == "ok", st
assert st["server"]["sensors_connected"] == 1, st
assert st["server"]["cdrs_committed"] == 9, st
assert st["server"]["cdr_writers"] == 2, st
PY
ok "--status: sensor 5 connected from $SEN_IP, mode local, 9 CDRs"
printf 'status\n' | socat -t 5 - "UNIX-CONNECT:$SOCK" | python3 -c 'import json,sys; json.load(sys.stdin)' ||
	fail "a plain 'status' line on the socket does not give JSON"
printf 'bogus\n' | socat -t 5 - "UNIX-CONNECT:$SOCK" | grep -q "^ERR unknown command" ||
	fail "unknown command not answered with ERR"
ok "control socket speaks plain lines (socat): status, ERR for unknown commands"

# --- fetch: byte for byte equal to the sensor's spool files ------------------
mapfile -t rows < <(db "SELECT ID, pcap_path FROM cdr WHERE id_sensor = 5 AND call_id NOT LIKE '%-0-23@%' ORDER BY duration DESC")
big_id=${rows[0]%%$'\t'*}
big_path=${rows[0]#*$'\t'}
t0=$(date +%s.%N)
ctl --fetch-pcap "$big_id" -o "$TMP/f_big.pcap" 2>"$TMP/fetch.err" || { cat "$TMP/fetch.err" >&2; fail "fetch of CDR $big_id"; }
t1=$(date +%s.%N)
cmp "$TMP/f_big.pcap" "$TMP/sen5/$big_path" || fail "CDR $big_id: fetched pcap differs from $big_path"
[ ! -e "$TMP/f_big.pcap.part" ] || fail "temporary .part file left"
ok "CDR $big_id: $(stat -c %s "$TMP/f_big.pcap") bytes equal to the sensor's $big_path ($(python3 -c "print(round($t1 - $t0, 2))") s)"
n=0
for r in "${rows[@]:1:3}"; do
	id=${r%%$'\t'*} path=${r#*$'\t'}
	ctl --fetch-pcap "$id" -o - >"$TMP/f$id.pcap" 2>>"$TMP/fetch.err" || fail "fetch of CDR $id to stdout"
	cmp -s "$TMP/f$id.pcap" "$TMP/sen5/$path" || fail "CDR $id: fetched pcap differs from $path"
	n=$((n + 1))
done
ok "$n more CDRs fetched to stdout, equal to the sensor's spool files"
for k in 1 2 3; do
	ctl --fetch-pcap "$big_id" -o "$TMP/par$k.pcap" 2>>"$TMP/fetch.err" &
	DIST_PID[par$k]=$!
done
for k in 1 2 3; do
	wait "${DIST_PID[par$k]}" || fail "parallel fetch $k"
	unset "DIST_PID[par$k]"
	cmp -s "$TMP/par$k.pcap" "$TMP/sen5/$big_path" || fail "parallel fetch $k differs"
done
ok "three fetches of the big call at once, all equal"
mapfile -t rows2 < <(db "SELECT ID, pcap_path FROM cdr WHERE call_id LIKE '%-0-23@%' ORDER BY calldate")
[ "${#rows2[@]}" = 2 ] && [[ ${rows2[0]#*$'\t'} == *-2.pcap ]] || fail "reused Call-ID: ${rows2[*]}"
for r in "${rows2[@]}"; do
	id=${r%%$'\t'*} path=${r#*$'\t'}
	ctl --fetch-pcap "$id" -o "$TMP/f$id.pcap" 2>>"$TMP/fetch.err" || fail "fetch of CDR $id"
	cmp -s "$TMP/f$id.pcap" "$TMP/sen5/$path" || fail "CDR $id: fetched pcap differs from $path"
done
ok "Call-ID reused within a minute: each CDR gets its own file (${rows2[0]##*/}, ${rows2[1]##*/})"

# --- errors -------------------------------------------------------------------
gone=${rows[4]%%$'\t'*}
rm "$TMP/sen5/${rows[4]#*$'\t'}"
ctl --fetch-pcap "$gone" -o "$TMP/gone.pcap" 2>"$TMP/gone.err" && fail "fetch of a deleted pcap succeeded"
grep -q "no pcap for this call on sensor 5 (savesip/savertp off, or deleted)" "$TMP/gone.err" ||
	fail "deleted pcap: $(cat "$TMP/gone.err")"
[ ! -e "$TMP/gone.pcap" ] && [ ! -e "$TMP/gone.pcap.part" ] || fail "output file left after an error"
ok "deleted spool file: $(cat "$TMP/gone.err")"

esc=${rows[5]%%$'\t'*}
echo secret >"$TMP/outside.txt"
ln -sf "$TMP/outside.txt" "$TMP/sen5/${rows[5]#*$'\t'}"
ctl --fetch-pcap "$esc" -o "$TMP/esc.pcap" 2>"$TMP/esc.err" && fail "a symlink out of the spooldir was followed"
grep -q "leads out of the spooldir on sensor 5: refused" "$TMP/esc.err" || fail "symlink: $(cat "$TMP/esc.err")"
ok "symlink out of the spooldir refused"

ctl --fetch-pcap 99999999 -o "$TMP/none.pcap" 2>"$TMP/none.err" && fail "unknown CDR fetched"
grep -q "no such CDR (ID 99999999)" "$TMP/none.err" || fail "unknown CDR: $(cat "$TMP/none.err")"
ctl --fetch-pcap abc -o "$TMP/none.pcap" 2>/dev/null && fail "non-numeric CDR ID accepted"
ok "unknown CDR ID: $(cat "$TMP/none.err")"

kill -TERM "${DIST_PID[sen5live]}"
wait "${DIST_PID[sen5live]}" || fail "live sensor exit status"
unset "DIST_PID[sen5live]"
wait_for "$TMP/srv1.log" "sensor 5 .* disconnected" 10 || fail "server did not see the sensor go"
ctl --fetch-pcap "$big_id" -o "$TMP/off.pcap" 2>"$TMP/off.err" && fail "fetch from a disconnected sensor succeeded"
grep -q "sensor 5 is not connected" "$TMP/off.err" || fail "disconnected: $(cat "$TMP/off.err")"
ok "disconnected sensor: $(cat "$TMP/off.err")"
ctl --status | python3 -c '
import json, sys
st = json.load(sys.stdin)
s = [x for x in st["sensors"] if x["id_sensor"] == 5][0]
assert s["connected"] is False and st["server"]["pcap_served"] == 9, st' ||
	fail "--status after the disconnect"
ok "--status: sensor 5 not connected; 9 pcaps served"

srv_stop srv1
[ ! -e "$SOCK" ] || fail "control socket left after the server stopped"
ctl --status 2>"$TMP/down.err" && fail "--status without a server succeeded"
grep -q "cannot reach the central server" "$TMP/down.err" || fail "no server: $(cat "$TMP/down.err")"
ok "server stopped: socket removed; --status says: $(cat "$TMP/down.err")"
