#!/bin/bash
# Packet mirroring through a network cut, end to end with the real
# processes: a central server in $NS_SRV (private MariaDB) and a real
# mirroring sensor (voxsense, packetbuffer_sender = yes, capture_mode =
# pcap) capturing live in $NS_SEN on a veth pair fed by tcpreplay at the
# capture's own speed. The sensor-server link (the dist_lib veth) is taken
# down with `ip link set down` in the sensor's namespace.
#  (a) cut of 3 s in the middle of the calls, within the buffer: the
#      server's CDRs equal an all-in-one `voxsense -r` of the same capture
#      (calls, SIP fields, per-stream packets, lost, DTMF, RTCP), the
#      sensor buffered through the cut and dropped nothing;
#  (b) beyond the limits: packetbuffer_total_maxheap = 1, no disk, link
#      down for the whole replay (> 1 MB): "packetbuffer: MEMORY IS FULL"
#      logged, the frames dropped counted exactly (captured = taken by the
#      server + dropped), fewer RTP packets in the server's CDRs, no crash;
#  (c) the same with packetbuffer_file_totalmaxsize = 20: the batches spill
#      to disk under packetbuffer_file_path, nothing is lost (as in (a)) and
#      the files are gone once acknowledged;
#  (d) an id_sensor that sent CDRs in local processing before, now
#      mirroring (a sensor switched over): every frame acknowledged.
# Compared live vs -r, the times (call dates, jitter, MOS) differ: the
# sensor stamps packets when it captures them; counts must not.
. "$(dirname "$0")/dist_lib.sh"
command -v tcpreplay >/dev/null || skip "tcpreplay not installed"
command -v python3 >/dev/null || skip "python3 not installed"
dist_setup
CAP=vxm$$c  # the sensor captures here (in $NS_SEN)
FEED=vxm$$p # tcpreplay sends here (in $NS_SEN)
LINK=vxd$$b # the sensor's end of the link to the server (dist_lib)
ID=51

ip -n "$NS_SEN" link add "$CAP" type veth peer name "$FEED" || skip "kernel has no veth"
ip -n "$NS_SEN" link set "$CAP" up
ip -n "$NS_SEN" link set "$FEED" up
# TCP's retransmission back-off would leave the link idle for up to the
# length of the cut after it is back (RTO doubling): capped at 1 s where
# the kernel has the knob (6.15+), so the test waits for the buffer, not
# for TCP.
ip netns exec "$NS_SEN" sysctl -qw net.ipv4.tcp_rto_max_ms=1000 2>/dev/null

# One capture for all: about 2.2 MB (more than (b)'s 1 MB of memory),
# 10 s of calls, times from now.
"$VSGEN" -n 40 -d 7 --rate 20 -s mix --rtcp --dtmf 5 --loss 1 --seed 51 \
	--start "$(date +%s)" -o "$TMP/calls.pcap" >/dev/null || fail vsgen
FRAMES=$(capinfos -c -M "$TMP/calls.pcap" | awk '/Number of packets/ {print $NF}')
[ "$(stat -c %s "$TMP/calls.pcap")" -gt $((3 << 19)) ] || fail "capture under 1.5 MB"

# Reference: all-in-one -r into database ${VS_MYSQL_DB}_ref.
mariadb_sql "CREATE DATABASE ${VS_MYSQL_DB}_ref" || fail "create database"
cat >"$TMP/ref.conf" <<-CONF
	id_sensor = $ID
	mysqlsocket = $VS_MYSQL_SOCKET
	mysqldb = ${VS_MYSQL_DB}_ref
	mysqlusername = $VS_MYSQL_USER
	mysqlpassword = $VS_MYSQL_PASSWORD
	spooldir = $TMP/ref
	savesip = no
	savertp = no
	CONF
"$VS_BIN" -c "$TMP/ref.conf" -r "$TMP/calls.pcap" 2>"$TMP/ref.log" ||
	{ cat "$TMP/ref.log"; fail "all-in-one reference run"; }
REF_CALLS=$(db "SELECT count(*) FROM ${VS_MYSQL_DB}_ref.cdr")
REF_RTP=$(db "SELECT sum(received) FROM ${VS_MYSQL_DB}_ref.cdr_rtp")
[ "$REF_CALLS" = 40 ] && [ "$REF_RTP" -gt 5000 ] ||
	fail "reference: $REF_CALLS CDRs, $REF_RTP RTP packets"
echo "   capture: $FRAMES frames, $(stat -c %s "$TMP/calls.pcap") bytes; reference: $REF_CALLS CDRs, $REF_RTP RTP packets"

# What live capture keeps of a CDR: no times.
CDR_Q="SELECT CONCAT_WS('|', call_id, id_sensor, caller, called, sipcallerip,
	sipcalledip, lastSIPresponseNum, whohanged, bye, sip_messages, reinvites)
	FROM DB.cdr ORDER BY call_id"
RTP_Q="SELECT CONCAT_WS('|', c.call_id, r.stream_index, r.ssrc, r.saddr,
	r.sport, r.daddr, r.dport, r.payload, r.received, r.lost, r.duplicates,
	r.reordered, r.dtmf_events, r.rtcp_packets)
	FROM DB.cdr_rtp r JOIN DB.cdr c ON c.ID = r.cdr_ID
	ORDER BY c.call_id, r.stream_index"
db "${CDR_Q//DB/${VS_MYSQL_DB}_ref}" >"$TMP/ref.cdr"
db "${RTP_Q//DB/${VS_MYSQL_DB}_ref}" >"$TMP/ref.rtp"

# counter NAME LOG: a --stats counter of the sensor.
counter() {
	awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "missing" }' "$2"
}

# srv_packets NAME: frames the server NAME took from sensor $ID so far.
srv_packets() {
	"$VS_BIN" -c "$TMP/$1.conf" --status 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    print(-1); sys.exit()
print(next((int(s["packets"]) for s in d["sensors"] if s["id_sensor"] == int(sys.argv[1])), -1))' "$ID"
}

# wait_packets NAME WANT SECONDS [MIN]: until the server took WANT frames
# (or, WANT empty, at least MIN and then none for 2 s); prints the count.
wait_packets() {
	local n last=-2 still=0
	for _ in $(seq $(($3 * 5))); do
		n=$(srv_packets "$1")
		if [ -n "$2" ]; then
			[ "$n" -ge "$2" ] && break
		elif [ "$n" = "$last" ] && [ "$n" -ge "${4:-1}" ]; then
			still=$((still + 1))
			[ $still -ge 10 ] && break
		else
			still=0
		fi
		last=$n
		sleep 0.2
	done
	echo "$n"
}

# sensor NAME EXTRA: the live mirroring sensor in $NS_SEN, --stats, log in
# $TMP/NAME.log; waits until it captures and the server took it.
sensor() {
	sen_conf "$1" $ID "packetbuffer_sender = yes
interface = $CAP
capture_mode = pcap
$2"
	ip netns exec "$NS_SEN" "$VS_BIN" -c "$TMP/$1.conf" --stats \
		</dev/null >"$TMP/$1.log" 2>&1 &
	DIST_PID[$1]=$!
	wait_for "$TMP/$1.log" "live capture on $CAP" 10 ||
		{ cat "$TMP/$1.log" >&2; fail "sensor $1 did not start"; }
	wait_for "$TMP/$SRV.log" "sensor $ID mirrors packets" 10 ||
		{ cat "$TMP/$1.log" >&2; fail "sensor $1 did not connect"; }
}

sensor_stop() {
	local rc
	kill -TERM "${DIST_PID[$1]}"
	wait "${DIST_PID[$1]}"
	rc=$?
	unset "DIST_PID[$1]"
	[ $rc = 0 ] || { tail -30 "$TMP/$1.log" >&2; fail "sensor $1 exited $rc"; }
}

link() { ip -n "$NS_SEN" link set "$LINK" "$1" || fail "link $1"; }

# replay [CUT_AT CUT_FOR]: the capture at its own speed into $CAP; with a
# cut, the link to the server is down from CUT_AT s for CUT_FOR s.
replay() {
	ip netns exec "$NS_SEN" tcpreplay -q -i "$FEED" "$TMP/calls.pcap" \
		>"$TMP/tcpreplay.log" 2>&1 &
	local rp=$!
	if [ $# = 2 ]; then
		sleep "$1"
		link down
		sleep "$2"
		link up
	fi
	wait $rp || { cat "$TMP/tcpreplay.log" >&2; fail tcpreplay; }
}

# server NAME: a fresh central server (empty tables).
server() {
	SRV=$1
	db "DELETE FROM cdr_rtp; DELETE FROM cdr" 2>/dev/null
	srv_conf "$1"
	srv_start "$1"
}

# same_as_ref WHAT: the server's CDRs equal the reference's, counts exact.
same_as_ref() {
	db "${CDR_Q//DB/$VS_MYSQL_DB}" >"$TMP/$SRV.cdr"
	db "${RTP_Q//DB/$VS_MYSQL_DB}" >"$TMP/$SRV.rtp"
	cmp -s "$TMP/ref.cdr" "$TMP/$SRV.cdr" ||
		{ diff "$TMP/ref.cdr" "$TMP/$SRV.cdr" | head -6 >&2; fail "$1: CDRs differ from the all-in-one run"; }
	cmp -s "$TMP/ref.rtp" "$TMP/$SRV.rtp" ||
		{ diff "$TMP/ref.rtp" "$TMP/$SRV.rtp" | head -6 >&2; fail "$1: cdr_rtp rows differ from the all-in-one run"; }
	ok "$1: $REF_CALLS CDRs and $(wc -l <"$TMP/ref.rtp") streams ($REF_RTP RTP packets, lost, DTMF, RTCP) equal the all-in-one run"
}

# no_loss NAME [FRAMES]: the sensor captured every frame, the server took
# them all.
no_loss() {
	local f d want=${2:-$FRAMES}
	f=$(counter mirror.frames "$TMP/$1.log")
	d=$(counter packetbuffer.dropped_frames "$TMP/$1.log")
	[ "$f" = "$want" ] || fail "$1: sensor mirrored $f frames of $want"
	[ "$d" = 0 ] || fail "$1: $d frames dropped"
	[ "$(counter packetbuffer.acked "$TMP/$1.log")" = "$(counter packetbuffer.batches "$TMP/$1.log")" ] ||
		fail "$1: $(counter packetbuffer.acked "$TMP/$1.log") of $(counter packetbuffer.batches "$TMP/$1.log") batches acknowledged"
	grep -q "mirroring sensor $ID: .* $f frames" "$TMP/$SRV.log" ||
		{ grep "mirroring sensor $ID" "$TMP/$SRV.log" >&2; fail "$1: server did not take $f frames"; }
}

# --- (a) a 3 s cut within the buffer -----------------------------------------
echo "-- (a) link down for 3 s while the calls are replayed"
server sa
sensor ma ""
replay 3 3
n=$(wait_packets sa "$FRAMES" 20)
[ "$n" -ge "$FRAMES" ] || fail "(a) server took $n of $FRAMES frames"
sensor_stop ma
srv_stop sa
no_loss ma
peak=$(counter packetbuffer.mem_peak "$TMP/ma.log")
# 3 s of these calls are ~600 kB: the batches waited in the buffer.
[ "$peak" -gt 300000 ] || fail "(a) buffer peak $peak bytes: the cut did not make it buffer"
ok "(a) $FRAMES frames, 0 dropped; buffer peak $peak bytes during the cut, $(counter mirror.resent "$TMP/ma.log") batches re-sent, $(counter mirror.connects "$TMP/ma.log") connection(s)"
same_as_ref "(a) cut within the buffer"

# --- (b) beyond the limits ---------------------------------------------------
echo "-- (b) 1 MB of memory, no disk, link down for the whole replay"
server sb
sensor mb "packetbuffer_total_maxheap = 1
packetbuffer_file_totalmaxsize = 0"
t0=$SECONDS
link down
replay
sleep 1
link up
n=$(wait_packets sb "" 30 1000) # 1 MB is more than 1000 frames
sensor_stop mb
srv_stop sb
grep -q "packetbuffer: MEMORY IS FULL: [0-9]* packets" "$TMP/mb.log" ||
	{ tail "$TMP/mb.log" >&2; fail "(b) no 'packetbuffer: MEMORY IS FULL'"; }
# Full until the link is back: the capture, then the empty watermark
# batches of an idle sensor (every 200 ms); one line per 10 s at most.
[ "$(grep -c "MEMORY IS FULL" "$TMP/mb.log")" -le $(((SECONDS - t0) / 10 + 1)) ] ||
	fail "(b) the full log is not rate-limited: $(grep -c "MEMORY IS FULL" "$TMP/mb.log") lines in $((SECONDS - t0)) s"
f=$(counter mirror.frames "$TMP/mb.log")
taken=$(counter packetbuffer.frames "$TMP/mb.log")
d=$(counter packetbuffer.dropped_frames "$TMP/mb.log")
[ "$f" = "$FRAMES" ] || fail "(b) sensor mirrored $f frames of $FRAMES"
[ "$d" -gt 0 ] && [ $((taken + d)) = "$f" ] ||
	fail "(b) $f frames: $taken buffered + $d dropped"
grep -q "mirroring sensor $ID: .* $taken frames" "$TMP/sb.log" ||
	{ grep "mirroring sensor $ID" "$TMP/sb.log" >&2; fail "(b) server did not take the $taken frames buffered"; }
# A dropped batch uses no sequence number: no gap for the server.
grep -q "mirroring sensor $ID: .* 0 batches missing" "$TMP/sb.log" ||
	fail "(b) the server saw missing batches: dropped ones used sequence numbers"
rtp=$(db "SELECT IFNULL(sum(received), 0) FROM cdr_rtp")
[ "$rtp" -lt "$REF_RTP" ] || fail "(b) server counts $rtp RTP packets, the reference $REF_RTP"
ok "(b) $d of $f frames dropped and counted ($(counter packetbuffer.dropped_batches "$TMP/mb.log") batches), $taken delivered; server CDRs: $(db "SELECT count(*) FROM cdr") calls, $rtp of $REF_RTP RTP packets"
ok "(b) logged: $(grep -m1 -o "MEMORY IS FULL: [^(]*([^)]*) dropped" "$TMP/mb.log")"

# --- (c) spill to disk -------------------------------------------------------
echo "-- (c) 1 MB of memory and 20 MB of disk, link down for the whole replay"
server sc
sensor mc "packetbuffer_total_maxheap = 1
packetbuffer_file_totalmaxsize = 20
packetbuffer_file_path = $TMP/pbdisk"
link down
replay
sleep 1
ls "$TMP/pbdisk"/* >/dev/null 2>&1 || fail "(c) no file under packetbuffer_file_path while the link is down"
files=$(find "$TMP/pbdisk" -type f | wc -l)
link up
n=$(wait_packets sc "$FRAMES" 30)
[ "$n" -ge "$FRAMES" ] || fail "(c) server took $n of $FRAMES frames"
for _ in $(seq 20); do
	[ -z "$(find "$TMP/pbdisk" -type f)" ] && break
	sleep 0.1
done
left=$(find "$TMP/pbdisk" -type f | wc -l)
sensor_stop mc
srv_stop sc
[ "$left" = 0 ] || fail "(c) $left disk files left after every batch was acknowledged (sensor still running)"
no_loss mc
nd=$(counter packetbuffer.disk_batches "$TMP/mc.log")
[ "$nd" -gt 0 ] || fail "(c) no batch went to disk"
[ -z "$(find "$TMP/pbdisk" -type f)" ] || fail "(c) disk files left after exit"
ok "(c) $nd batches spilled to disk ($files file(s), peak $(counter packetbuffer.disk_peak "$TMP/mc.log") bytes), 0 dropped, files deleted after the acks"
same_as_ref "(c) spill to disk"

# --- (d) local processing before, mirroring now, same id_sensor ---------------
echo "-- (d) the id_sensor sent CDRs in local processing before, now mirrors"
server sd
"$VSGEN" -n 4 -d 1 --seed 52 --start "$(date +%s)" -o "$TMP/small.pcap" >/dev/null || fail vsgen
small=$(capinfos -c -M "$TMP/small.pcap" | awk '/Number of packets/ {print $NF}')
sen_conf ld $ID
sen_run ld "$TMP/small.pcap"
[ "$(db "SELECT count(*) FROM cdr WHERE id_sensor = $ID")" = 4 ] || fail "(d) local processing: no 4 CDRs"
sensor md ""
ip netns exec "$NS_SEN" tcpreplay -q -i "$FEED" "$TMP/small.pcap" >/dev/null 2>&1 || fail tcpreplay
n=$(wait_packets sd "$small" 6)
sensor_stop md
srv_stop sd
grep -q "unexpected CDR_ACK frame from the server" "$TMP/md.log" &&
	fail "(d) the mirroring sensor got its CDR mark as a CDR_ACK"
[ "$n" -ge "$small" ] || fail "(d) server took $n of $small frames"
no_loss md "$small"
ok "(d) after 4 CDRs in local processing, $small frames mirrored under the same id_sensor, all acknowledged in $(counter mirror.connects "$TMP/md.log") connection"
