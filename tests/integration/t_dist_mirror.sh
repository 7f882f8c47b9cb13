#!/bin/bash
# Packet mirroring, central server side: mirroring sensors (tests/channel/
# mirror_send, the real channel: TLS, password, mode mirror) send a
# generated capture's frames in PACKETS batches, paced by their time, to a
# server in another network namespace writing a private MariaDB.
#  (a) one sensor: the server's CDRs (every cdr column but pcap_path, and
#      cdr_rtp) and per-call pcaps equal an all-in-one `voxsense -r`;
#  (b) split: sensor 21 sends only SIP, sensor 22 only RTP/RTCP: the same
#      CDRs, one per call, under id_sensor 21 (it saw the INVITE);
#  (c) two probes send the whole capture, one 3 ms late: the same CDRs,
#      every copy counted as a duplicate, nothing counted twice;
#  (d) frames 100 s in the past: dropped, counted, logged, no CDR;
#  (e) sipport containing server_bind_port: excluded.
. "$(dirname "$0")/dist_lib.sh"
: "${MIRROR_SEND:=$top/build/rel/mirror_send}"
[ -x "$MIRROR_SEND" ] || skip "$MIRROR_SEND not built (make build/rel/mirror_send)"
dist_setup
N_CALLS=12

# mirror ID PCAP [mirror_send options]: a mirroring sensor in $NS_SEN, in
# the background; its output in $TMP/mirror-ID.log.
mirror() {
	local id=$1 pcap=$2
	shift 2
	ip netns exec "$NS_SEN" "$MIRROR_SEND" -s "$SRV_IP" -P "$DIST_PORT" \
		-w s3cret-pw -B "$SEN_IP" -i "$id" -r "$pcap" "$@" \
		>"$TMP/mirror-$id.log" 2>&1 &
	DIST_PID[m$id]=$!
}

mirror_wait() {
	local rc
	wait "${DIST_PID[m$1]}"
	rc=$?
	unset "DIST_PID[m$1]"
	[ $rc = 0 ] || { cat "$TMP/mirror-$1.log" >&2; fail "mirror_send $1 failed ($rc)"; }
}

# capture NAME SEED: calls starting 4 s from now (frames are paced by their
# time, and must be within receive_packetbuffer_maximum_time_diff_s).
capture() {
	"$VSGEN" -n $N_CALLS -d 3 -s mix --rtcp --dtmf 5 --loss 1 --seed "$2" \
		--start $(($(date +%s) + 4)) -o "$TMP/$1.pcap" >/dev/null || fail vsgen
}

# reference NAME PCAP ID: all-in-one voxsense into database voxsense_NAME,
# per-call pcaps under $TMP/NAME.
reference() {
	mariadb_sql "CREATE DATABASE ${VS_MYSQL_DB}_$1" || fail "create database"
	cat >"$TMP/$1.conf" <<-CONF
	id_sensor = $3
	mysqlsocket = $VS_MYSQL_SOCKET
	mysqldb = ${VS_MYSQL_DB}_$1
	mysqlusername = $VS_MYSQL_USER
	mysqlpassword = $VS_MYSQL_PASSWORD
	spooldir = $TMP/$1
	CONF
	"$VS_BIN" -c "$TMP/$1.conf" -r "$2" 2>"$TMP/$1.log" ||
		{ cat "$TMP/$1.log"; fail "all-in-one reference run"; }
}

cols() { # TABLE EXCLUDED...: its columns as an IFNULL list
	local ex=${*:2}
	db "SELECT GROUP_CONCAT(CONCAT('IFNULL(\`', column_name, '\`,''~'')') ORDER BY ordinal_position)
	    FROM information_schema.columns WHERE table_schema = '$VS_MYSQL_DB'
	    AND table_name = '$1' AND column_name NOT IN ('${ex// /\',\'}')"
}

# same_records A B: two pcaps hold the same records (time and bytes).
same_records() {
	python3 - "$1" "$2" <<-'PY'
	import struct, sys
	def recs(path):
	    b = open(path, "rb").read()
	    out, o = [], 24
	    while o + 16 <= len(b):
	        s, us, cap, _ = struct.unpack_from("<IIII", b, o)
	        out.append((s, us, b[o + 16:o + 16 + cap]))
	        o += 16 + cap
	    return b[:24], out
	ha, a = recs(sys.argv[1])
	hb, b = recs(sys.argv[2])
	sys.exit(0 if ha == hb and sorted(a) == sorted(b) and
	         [r[:2] for r in a] == [r[:2] for r in b] else 1)
	PY
}

# same_as REF SRVNAME WHAT [any]: the server's CDRs (database $VS_MYSQL_DB) and
# per-call pcaps equal the reference's; then empties the server's tables.
same_as() {
	local ref=${VS_MYSQL_DB}_$1 c r q n
	n=$(db "SELECT count(*) FROM cdr")
	[ "$n" = $N_CALLS ] && [ "$(db "SELECT count(DISTINCT call_id) FROM cdr")" = $N_CALLS ] ||
		{ tail -5 "$TMP/$2.log" >&2; fail "$3: want $N_CALLS CDRs, one per call; have $n"; }
	c=$(cols cdr ID pcap_path)
	db "SELECT CONCAT_WS('|', $c) FROM $VS_MYSQL_DB.cdr ORDER BY call_id" >"$TMP/$2.rows"
	db "SELECT CONCAT_WS('|', $c) FROM $ref.cdr ORDER BY call_id" >"$TMP/$1.rows"
	cmp -s "$TMP/$2.rows" "$TMP/$1.rows" || {
		diff "$TMP/$2.rows" "$TMP/$1.rows" | head -6 >&2
		fail "$3: CDR rows differ from the all-in-one rows"
	}
	r=$(cols cdr_rtp cdr_ID)
	q="SELECT CONCAT_WS('|', c.call_id, $(echo "$r" | sed 's/IFNULL(`/IFNULL(r.`/g')) FROM DB.cdr_rtp r JOIN DB.cdr c ON c.ID = r.cdr_ID ORDER BY c.call_id, r.stream_index"
	db "${q//DB/$VS_MYSQL_DB}" >"$TMP/$2.rtp"
	db "${q//DB/$ref}" >"$TMP/$1.rtp"
	[ -s "$TMP/$1.rtp" ] && cmp -s "$TMP/$2.rtp" "$TMP/$1.rtp" ||
		{ diff "$TMP/$2.rtp" "$TMP/$1.rtp" | head -4 >&2; fail "$3: cdr_rtp rows differ"; }
	(cd "$TMP/$1" && find . -name '*.pcap' | sort) >"$TMP/$1.pcaps"
	(cd "$TMP/$2" && find . -name '*.pcap' | sort) >"$TMP/$2.pcaps"
	[ "$(wc -l <"$TMP/$1.pcaps")" -ge $N_CALLS ] && cmp -s "$TMP/$1.pcaps" "$TMP/$2.pcaps" ||
		fail "$3: per-call pcaps differ in names"
	while read -r f; do
		cmp -s "$TMP/$1/$f" "$TMP/$2/$f" && continue
		# Across probes, frames with the very same microsecond may
		# come in either order: then the same records must be there.
		[ -n "${4:-}" ] && same_records "$TMP/$1/$f" "$TMP/$2/$f" ||
			fail "$3: per-call pcap $f differs"
	done <"$TMP/$1.pcaps"
	ok "$3: $N_CALLS CDRs, $(echo "$c" | tr ',' '\n' | wc -l) cdr columns, $(wc -l <"$TMP/$1.rtp") cdr_rtp rows and $(wc -l <"$TMP/$1.pcaps") per-call pcaps equal the all-in-one run"
	db "DELETE FROM cdr_rtp; DELETE FROM cdr"
}

# --- (a) one mirroring sensor; (e) sipport ------------------------------------
srv_conf ma "$SRV_IP" "sipport = 5060,$DIST_PORT"
srv_start ma
grep -q "sipport includes server_bind_port $DIST_PORT: excluded" "$TMP/ma.log" ||
	fail "no warning about sipport containing the channel port"
ok "(e) sipport containing server_bind_port: warned and excluded"
capture a 31
mirror 11 "$TMP/a.pcap"
mirror_wait 11
srv_stop ma
grep -q "sensor 11 mirrors packets" "$TMP/ma.log" || fail "(a) server did not take sensor 11 as mirroring"
reference ra "$TMP/a.pcap" 11
[ "$(db "SELECT count(*) FROM cdr WHERE id_sensor = 11")" = $N_CALLS ] || fail "(a) CDRs not under id_sensor 11"
frames=$(grep -o "[0-9]* frames in" "$TMP/mirror-11.log" | cut -d' ' -f1)
grep -q "mirroring sensor 11: [0-9]* batches (0 re-sent, dropped), $frames frames" "$TMP/ma.log" ||
	{ grep "mirroring sensor 11" "$TMP/ma.log" >&2; fail "(a) server's counters for sensor 11 do not say $frames frames"; }
[ "$(db "SELECT mode, bytes > 0 FROM sensors WHERE id_sensor = 11")" = "$(printf 'mirror\t1')" ] ||
	fail "(a) sensors row of 11: $(db "SELECT * FROM sensors WHERE id_sensor = 11")"
same_as ra ma "(a) one sensor, $frames frames"

# --- (b) split: SIP from one probe, RTP from another ---------------------------
srv_conf mb
srv_start mb
capture b 32
mirror 21 "$TMP/b.pcap" -f sip-only
mirror 22 "$TMP/b.pcap" -f rtp-only
mirror_wait 21
mirror_wait 22
srv_stop mb
reference rb "$TMP/b.pcap" 21
s=$(grep -o "[0-9]* frames in" "$TMP/mirror-21.log" | cut -d' ' -f1)
r=$(grep -o "[0-9]* frames in" "$TMP/mirror-22.log" | cut -d' ' -f1)
[ "$s" -gt 0 ] && [ "$r" -gt "$s" ] || fail "(b) split went wrong: $s SIP frames, $r RTP frames"
[ "$(db "SELECT count(*) FROM cdr WHERE id_sensor = 21")" = $N_CALLS ] ||
	fail "(b) CDRs not under the INVITE's sensor 21"
same_as rb mb "(b) split, $s SIP frames from sensor 21 and $r RTP/RTCP from 22" any

# --- (c) two probes see everything -------------------------------------------
srv_conf mc
srv_start mc
capture c 33
mirror 31 "$TMP/c.pcap"
mirror 32 "$TMP/c.pcap" -o 3
mirror_wait 31
mirror_wait 32
srv_stop mc
reference rc "$TMP/c.pcap" 31
f32=$(grep -o "[0-9]* frames in" "$TMP/mirror-32.log" | cut -d' ' -f1)
d32=$(grep -o "mirroring sensor 32: .* $f32 frames, [0-9]* bytes, [0-9]* duplicates" "$TMP/mc.log" | grep -o "[0-9]* duplicates" | cut -d' ' -f1)
[ -n "$d32" ] && [ "$d32" = "$f32" ] ||
	{ grep "mirroring sensor 3" "$TMP/mc.log" >&2; fail "(c) ${d32:-no} duplicates counted of probe 32's $f32 copies"; }
grep -q "mirroring sensor 31: .* 0 duplicates" "$TMP/mc.log" || fail "(c) probe 31's frames taken as duplicates"
same_as rc mc "(c) two probes, $f32 copies 3 ms late dropped as duplicates"

# --- (d) frames far in the past ----------------------------------------------
srv_conf md
srv_start md
capture d 34
mirror 41 "$TMP/d.pcap" -o -100000 -x
mirror_wait 41
srv_stop md
f41=$(grep -o "[0-9]* frames in" "$TMP/mirror-41.log" | cut -d' ' -f1)
grep -q "sensor 41: packets dropped, their time is -[0-9.]* s from this server's clock" "$TMP/md.log" ||
	fail "(d) no log of frames too far in time"
[ "$(grep -c "sensor 41: packets dropped" "$TMP/md.log")" -le 2 ] || fail "(d) the drop log is not rate-limited"
grep -q "mirroring sensor 41: .*, $f41 too far in time (dropped)" "$TMP/md.log" ||
	{ grep "mirroring sensor 41" "$TMP/md.log" >&2; fail "(d) not all $f41 frames counted as too far"; }
[ "$(db "SELECT count(*) FROM cdr")" = 0 ] || fail "(d) CDRs from frames out of time"
ok "(d) $f41 frames 100 s in the past dropped, counted and logged: $(grep -m1 -o "their time is [^(]*" "$TMP/md.log")"
