#!/bin/bash
# Exactly once when the sensor is killed while calls flow (issue 4): a
# real local-processing sensor captures live (capture_mode = pcap on a
# veth in $NS_SEN, fed by tcpreplay at the capture's speed: 100 short calls,
# 4 a second, mix of scenarios) and ships its CDRs to the central server
# (private MariaDB). It is killed with SIGKILL twice at random points and
# restarted at once on the same config and spooldir while tcpreplay goes
# on: (1) 0-4 s after its first CDR is in the spool; (2) after the second
# instance spooled CDRs of its own, with the server stopped (SIGSTOP) for
# the last ones, so that some are sent or spooled but not acknowledged;
# the server goes on (CONT) at the kill and reads what the dead connection
# left while the sensor restarts. Before that restart a torn record (the
# next sequence, a whole body's length and CRC, half the body: what a
# write cut short leaves) is appended to the spool segment.
# Checked, from the database, the spool files (read like the sensor's
# recovery does, between each kill and restart and at the end) and logs:
#  - no duplicate: rows = distinct (id_sensor, Call-ID);
#  - nothing spooled is lost: every durable spool record (sequence and
#    Call-ID) is in the database once, and it holds nothing else (no
#    garbage from the torn record); a sequence never holds two CDRs;
#  - each restart recovered the spool exactly (its "acknowledged up to A,
#    next sequence N" = the acked file and the last good record + 1); the
#    last instance sent every record above its acked mark once on one
#    connection ("N sent"): the unacknowledged ones were replayed, and the
#    server dropped no more duplicates than there were unacknowledged;
#  - the torn record is cut and logged with its size, no crash, not sent;
#  - calls sent = CDRs + calls cut, where every missing call overlaps a
#    kill window and every call surely in progress at a kill is missing
#    (see the bounds at the end; CDRs are made 5 s after a call's last
#    SIP message, so a kill cuts about 7 s of calls).
. "$(dirname "$0")/dist_lib.sh"
command -v tcpreplay >/dev/null || skip "tcpreplay not installed"
command -v python3 >/dev/null || skip "python3 not installed"
dist_setup
CAP=vxk$$c  # the sensor captures here (in $NS_SEN)
FEED=vxk$$p # tcpreplay sends here (in $NS_SEN)
ID=9
CALLS=100
SPOOL=$TMP/sen/cdr-uplink
ip -n "$NS_SEN" link add "$CAP" type veth peer name "$FEED" || skip "kernel has no veth"
ip -n "$NS_SEN" link set "$CAP" up
ip -n "$NS_SEN" link set "$FEED" up

# About 25 s of call starts, each call 0.3-3.2 s (mix: answered, cancel,
# busy, noanswer, nortp, reinvite; 2 s of media), times from now.
"$VSGEN" -n $CALLS -d 2 -s mix --rate 4 --seed 44 --start "$(date +%s)" \
	-o "$TMP/calls.pcap" -t "$TMP/truth.jsonl" >/dev/null || fail vsgen

# spool DIR OUT: the records of the spool DIR as the sensor's recovery
# reads them (length, sequence contiguous, CRC), "seq call_id" lines in
# OUT; prints "records last_seq torn_bytes" (torn: bytes after the last
# good record of the last segment).
spool() {
	python3 - "$@" <<-'PY'
	import glob, os, struct, sys, zlib
	segs = sorted(glob.glob(os.path.join(sys.argv[1], "*.seg")))
	out, n, last, torn = open(sys.argv[2], "w"), 0, 0, 0
	for path in segs:
	    b = open(path, "rb").read()
	    off, want = 0, int(os.path.basename(path)[:-4])
	    while off + 16 <= len(b):
	        ln, seq, crc = struct.unpack_from("<IQI", b, off)
	        body = b[off + 16:off + 16 + ln]
	        if seq != want or len(body) != ln or \
	           zlib.crc32(body, zlib.crc32(struct.pack("<Q", seq))) != crc:
	            break
	        # binary CDR: 0xb1, version, u32 part length, u16 id_sensor,
	        # u16 Call-ID length, the Call-ID
	        assert body[0] == 0xB1, "not a binary CDR body"
	        cl = struct.unpack_from("<H", body, 8)[0]
	        out.write("%d %s\n" % (seq, body[10:10 + cl].decode()))
	        off += 16 + ln
	        want += 1
	        n += 1
	        last = seq
	    if off < len(b):
	        torn += len(b) - off
	print(n, last, torn)
	PY
}

# tear DIR: appends to the last segment of the spool DIR a record cut in
# the middle of its body: the next sequence, the length and CRC of a whole
# body (a copy of the last record's), half of the body. Prints its size.
tear() {
	python3 - "$1" <<-'PY'
	import glob, struct, sys, zlib
	path = sorted(glob.glob(sys.argv[1] + "/*.seg"))[-1]
	b = open(path, "rb").read()
	off = last = 0
	while off + 16 <= len(b):
	    ln, seq, crc = struct.unpack_from("<IQI", b, off)
	    if off + 16 + ln > len(b):
	        break
	    last = (off, ln, seq)
	    off += 16 + ln
	o, ln, seq = last
	body = b[o + 16:o + 16 + ln]
	crc = zlib.crc32(body, zlib.crc32(struct.pack("<Q", seq + 1)))
	rec = struct.pack("<IQI", ln, seq + 1, crc) + body[:ln // 2]
	open(path, "ab").write(rec)
	print(len(rec))
	PY
}

# above SEQ FILE: records of FILE (spool output) above sequence SEQ.
above() { awk -v a="$1" '$1 > a' "$2" | wc -l; }
seg_bytes() { cat "$SPOOL"/*.seg 2>/dev/null | wc -c; }
acked_file() { cat "$SPOOL/acked" 2>/dev/null || echo 0; }

# sensor K: instance K of the sensor (log $TMP/senK.log), waits until it
# captures; UP_K = the time it did.
sensor() {
	ip netns exec "$NS_SEN" "$VS_BIN" -c "$TMP/sen.conf" </dev/null \
		>"$TMP/sen$1.log" 2>&1 &
	DIST_PID[sen]=$!
	wait_for "$TMP/sen$1.log" "live capture on $CAP" 15 ||
		{ cat "$TMP/sen$1.log" >&2; fail "sensor instance $1 did not start"; }
	printf -v "UP_$1" '%s' "$EPOCHREALTIME"
}

# kill_sensor K: SIGKILL of instance K; KILL_K its time; the spool as it
# is left in $TMP/kill$K.rec, SPOOLED_K, LAST_K, TORN_K, ACKED_K.
kill_sensor() {
	kill -KILL "${DIST_PID[sen]}"
	printf -v "KILL_$1" '%s' "$EPOCHREALTIME"
	wait "${DIST_PID[sen]}" 2>/dev/null
	unset "DIST_PID[sen]"
	read -r "SPOOLED_$1" "LAST_$1" "TORN_$1" < <(spool "$SPOOL" "$TMP/kill$1.rec")
	printf -v "ACKED_$1" '%s' "$(acked_file)"
}

# recovered K LAST ACKED TORN: instance K's spool line names what was on disk.
recovered() {
	local line
	line=$(grep -m1 "cdr spool $SPOOL: " "$TMP/sen$1.log") ||
		{ cat "$TMP/sen$1.log" >&2; fail "instance $1: no spool line"; }
	[[ $line == *"acknowledged up to $3, next sequence $(($2 + 1))" ]] ||
		fail "instance $1 recovered '$line'; on disk: acked $3, last good record $2"
	if [ "$4" -gt 0 ]; then
		grep -q "cdr spool: $SPOOL/[0-9]*\.seg: $4 bytes after sequence $2 are torn or corrupt: cut" \
			"$TMP/sen$1.log" ||
			{ grep "cdr spool" "$TMP/sen$1.log" >&2; fail "instance $1: torn tail of $4 bytes after $2 not logged"; }
	elif grep -q "torn or corrupt" "$TMP/sen$1.log"; then
		fail "instance $1: a torn tail logged, none on disk: $(grep "torn" "$TMP/sen$1.log")"
	fi
	ok "instance $1 recovered the spool: $(above "$3" "$TMP/kill$(($1 - 1)).rec") CDRs unacknowledged (acked $3, last $2)$([ "$4" -gt 0 ] && echo ", $4 torn bytes cut and logged")"
}

srv_conf srv
srv_start srv
sen_conf sen $ID "interface = $CAP
capture_mode = pcap"
sensor 1
wait_for "$TMP/sen1.log" "uplink: connected" 15 || { cat "$TMP/sen1.log" >&2; fail "sensor did not connect"; }

T0=$EPOCHREALTIME
ip netns exec "$NS_SEN" tcpreplay -q -i "$FEED" "$TMP/calls.pcap" >"$TMP/tcpreplay.log" 2>&1 &
REPLAY=$!

# --- kill 1: at a random point after the first CDR is in the spool ----------
for _ in $(seq 300); do [ "$(seg_bytes)" -gt 0 ] && break; sleep 0.05; done
[ "$(seg_bytes)" -gt 0 ] || fail "no CDR spooled 15 s into the calls"
FIRST=$EPOCHREALTIME
sleep "$((RANDOM % 4)).$((RANDOM % 10))"
kill_sensor 1
sensor 2
recovered 2 "$LAST_1" "$ACKED_1" "$TORN_1"
ok "kill 1 at $(echo "$KILL_1 - $T0" | bc) s into the calls (first CDR spooled at $(echo "$FIRST - $T0" | bc) s): $SPOOLED_1 CDRs spooled, $(above "$ACKED_1" "$TMP/kill1.rec") not acknowledged; restarted, capturing $(echo "($UP_2 - $KILL_1) * 1000 / 1" | bc) ms later"

# --- kill 2: the server lagging (SIGSTOP), a torn record -----------------------
# Instance 2 has spooled CDRs of its own; the server is stopped, so that
# the CDRs spooled from then on are not acknowledged (some sent, waiting in
# the server's socket); the sensor is killed, the server goes on at once
# (reading what the dead connection left) while the sensor restarts.
size=$(grep -m1 -o "segments, [0-9]* bytes" "$TMP/sen2.log" | awk '{print $2}')
for _ in $(seq 200); do [ "$(seg_bytes)" -gt "$size" ] && break; sleep 0.05; done
[ "$(seg_bytes)" -gt "$size" ] || fail "instance 2 spooled nothing in 10 s"
kill -STOP "${DIST_PID[srv]}"
size=$(seg_bytes)
for _ in $(seq 100); do [ "$(seg_bytes)" -gt $((size + 2500)) ] && break; sleep 0.05; done
sleep "0.$((RANDOM % 10))"
kill_sensor 2
kill -CONT "${DIST_PID[srv]}"
[ "$LAST_2" -gt "$LAST_1" ] || fail "instance 2 spooled nothing"
torn=$(tear "$SPOOL") || fail "cannot append a torn record"
sensor 3
recovered 3 "$LAST_2" "$ACKED_2" $((TORN_2 + torn))
ok "kill 2 at $(echo "$KILL_2 - $T0" | bc) s, the server stopped: $SPOOLED_2 CDRs spooled, $(above "$ACKED_2" "$TMP/kill2.rec") not acknowledged; a $torn-byte torn record appended; restarted"

wait $REPLAY || { cat "$TMP/tcpreplay.log" >&2; fail tcpreplay; }
kill -0 "${DIST_PID[sen]}" 2>/dev/null || { tail -20 "$TMP/sen3.log" >&2; fail "instance 3 died"; }
# SIGTERM ends the open calls and waits up to 2 s for the acks
kill -TERM "${DIST_PID[sen]}"
wait "${DIST_PID[sen]}"
rc=$?
unset "DIST_PID[sen]"
[ $rc = 0 ] || { tail -20 "$TMP/sen3.log" >&2; fail "instance 3 exited $rc"; }
read -r _ last torn_end < <(spool "$SPOOL" "$TMP/end.rec")
[ "$torn_end" = 0 ] || fail "$torn_end torn bytes in the spool after a clean exit"
srv_stop srv

# --- the spool against the database ------------------------------------------
db "SELECT call_id FROM cdr WHERE id_sensor = $ID" | sort >"$TMP/db.ids"
rows=$(wc -l <"$TMP/db.ids")
distinct=$(db "SELECT count(DISTINCT id_sensor, call_id) FROM cdr")
[ "$rows" = "$distinct" ] && [ "$(db "SELECT count(*) FROM cdr")" = "$rows" ] ||
	{ uniq -d "$TMP/db.ids" | head >&2; fail "duplicates: $rows rows, $distinct distinct (id_sensor, Call-ID)"; }
ok "no duplicate: $rows rows = $distinct distinct (id_sensor, Call-ID)"

# Every record ever durable, by sequence: those read at the kills and at
# the end must agree (a sequence is never reused once durable).
sort -u "$TMP/kill1.rec" "$TMP/kill2.rec" "$TMP/end.rec" >"$TMP/all.rec" # equal widths
[ "$(cut -d' ' -f1 "$TMP/all.rec" | uniq -d | wc -l)" = 0 ] ||
	fail "a sequence number holds two different CDRs: $(cut -d' ' -f1 "$TMP/all.rec" | uniq -d | head -3)"
cut -d' ' -f2 "$TMP/all.rec" | sort >"$TMP/spool.ids"
[ "$(uniq -d "$TMP/spool.ids" | wc -l)" = 0 ] ||
	fail "a Call-ID spooled twice: $(uniq -d "$TMP/spool.ids" | head -3)"
for k in 1 2; do
	lost=$(cut -d' ' -f2 "$TMP/kill$k.rec" | sort | comm -23 - "$TMP/db.ids" | wc -l)
	[ "$lost" = 0 ] || fail "$lost CDRs spooled before kill $k are not in the database"
done
cmp -s "$TMP/spool.ids" "$TMP/db.ids" ||
	{ diff "$TMP/spool.ids" "$TMP/db.ids" | head >&2; fail "the database and the spool records differ"; }
ok "nothing spooled lost: $(wc -l <"$TMP/all.rec") spool records (sequences $(head -1 "$TMP/all.rec" | cut -d' ' -f1)..$last) = the $rows rows; $SPOOLED_1 and $SPOOLED_2 on disk at the kills all stored"

# The last instance sent every record above the mark it recovered, once:
# those the killed one had not got acknowledged, then its own.
fin=$(grep "uplink: [0-9]* CDRs spooled" "$TMP/sen3.log") || { tail "$TMP/sen3.log" >&2; fail "instance 3: no final line"; }
want=$(above "$ACKED_2" "$TMP/all.rec")
[[ $fin == *"acknowledged up to $last of $last; $want sent, 1 connections"* ]] ||
	fail "instance 3: '$fin'; want every CDR acknowledged, $want sent once (above its acked $ACKED_2) on 1 connection"
dups=$(grep -o "[0-9]* duplicates dropped" "$TMP/srv.log" | awk '{ s += $1 } END { print s + 0 }')
unacked=$(($(above "$ACKED_1" "$TMP/kill1.rec") + $(above "$ACKED_2" "$TMP/kill2.rec")))
[ "$dups" -le "$unacked" ] || fail "server dropped $dups duplicates; only $unacked CDRs were unacknowledged at the kills"
# ... and said so when it connected.
if [ "$(above "$ACKED_2" "$TMP/kill2.rec")" -gt 0 ]; then
	grep -q "uplink: [0-9]* CDRs wait in the spool (sequences $((ACKED_2 + 1))\.\." "$TMP/sen3.log" ||
		{ grep "uplink" "$TMP/sen3.log" >&2; fail "instance 3 did not log the CDRs it sends first"; }
fi
ok "instance 3 replayed the $(above "$ACKED_2" "$TMP/kill2.rec") unacknowledged CDRs and sent its $((last - LAST_2)) own: ${fin#*uplink: }; server: $dups replays dropped as already committed"

# --- what is missing: only calls the kills cut -------------------------------
out=$(python3 - "$TMP/truth.jsonl" "$TMP/db.ids" "$T0" "$KILL_1" "$UP_2" "$KILL_2" "$UP_3" <<-'PY'

	import json, sys
	truth = [json.loads(l) for l in open(sys.argv[1])]
	have = set(open(sys.argv[2]).read().split())
	t0, k1, u1, k2, u2 = map(float, sys.argv[3:8])
	first = min(c["invite_time"] for c in truth)
	off = lambda t: t - first + t0
	# A call's CDR is made 5 s (end_grace) after its last SIP message (the
	# 200 to its BYE, the ACK of an error) and flushed within 1 s.
	# Possibly cut by kill k: begun before the restarted sensor captured
	# (u), and its CDR perhaps not durable at the kill (7 s: 5 s, 1 s of
	# flush, 1 s for tcpreplay's start and scheduling). Surely cut: begun
	# before the kill and its CDR not even made at it (0.5 s margins); but
	# not a re-INVITE call: its re-INVITE, seen by the restarted sensor,
	# starts a call of its own there (a CDR of the call's rest).
	maybe = lambda c, k, u: (off(c["invite_time"]) < u + 0.5 and
	    off(c["end_time"]) + 7 > k)
	sure = lambda c, k: (c["scenario"] != "reinvite" and
	    off(c["invite_time"]) < k - 0.5 and
	    off(c["end_time"]) + 5 > k + 0.5)
	missing = [c for c in truth if c["call_id"] not in have]
	window = [c for c in truth if maybe(c, k1, u1) or maybe(c, k2, u2)]
	surely = [c for c in truth if sure(c, k1) or sure(c, k2)]
	bad = [c for c in missing if c not in window]
	bad += [c for c in surely if c not in missing]
	rest = [c for c in truth if c["scenario"] == "reinvite" and
	    c["call_id"] in have and any(off(c["invite_time"]) < k < off(c["end_time"]) for k in (k1, k2))]
	extra = have - {c["call_id"] for c in truth}
	print("%d calls sent = %d CDRs + %d cut by the kills; %d <= cut <= %d "
	      "(surely cut <= cut <= overlapping a kill window)"
	      % (len(truth), len(have), len(missing), len(surely), len(window)))
	if rest:
	    print("   %d re-INVITE call(s) in progress at a kill stored from the "
	          "restarted sensor's re-INVITE" % len(rest))
	for c in bad:
	    print("%s: call %d %s, %.2f-%.2f s (kills at %.2f, %.2f s)"
	          % ("missing outside the kill windows" if c in missing else
	             "in progress at a kill, yet stored", c["index"],
	             c["scenario"], off(c["invite_time"]) - t0,
	             off(c["end_time"]) - t0, k1 - t0, k2 - t0))
	if extra:
	    print("in the database, not in the capture:", sorted(extra)[:3])
	sys.exit(1 if bad or extra or not missing or len(have) + len(missing) != len(truth) else 0)
	PY
) || { echo "$out" >&2; fail "missing CDRs not explained by the kills (or nothing cut)"; }
ok "$out"
grep -l "AddressSanitizer\|runtime error" "$TMP"/sen*.log "$TMP/srv.log" &&
	fail "sanitizer reports in the logs above"
ok "no sanitizer report in the sensors' and the server's logs"
