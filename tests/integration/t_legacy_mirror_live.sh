#!/bin/bash
# Legacy mirror sender on live kernel capture: the sender (mirror_destination_*)
# captures a veth with XDP (copy mode) and streams what it captures to a
# receiver (mirror_bind_*) on this namespace's loopback. The sender's
# track-only pipeline must keep the kernel's RTP flow table right, or the
# calls' RTP would never leave the kernel. Afterwards: the receiver's CDRs
# equal `voxsense -r` of the per-call pcaps it wrote, and each stream's
# packet count equals that of the original capture (nothing lost on the way:
# kernel, sender, TCP stream, receiver).
. "$(dirname "$0")/xdp_lib.sh"
RECV_PID=
recv_teardown() {
	if [ -n "$RECV_PID" ]; then
		kill -KILL "$RECV_PID" 2>/dev/null
		wait "$RECV_PID" 2>/dev/null
	fi
	xdp_teardown
}
trap recv_teardown EXIT
xdp_setup
PORT=$((20000 + RANDOM % 20000))

"$VSGEN" -o "$TMP/a.pcap" -n 4 -d 5 --rtcp --rate 2 --scenario mix >/dev/null || fail vsgen
"$VSGEN" -o "$TMP/b.pcap" -n 2 -d 3 --vlan 20 --seed 3 --start 1700001000 >/dev/null || fail vsgen

mkdir -p "$TMP/recv"
cat >"$TMP/recv.conf" <<-CONF
	id_sensor = 1
	mirror_bind_ip = 127.0.0.1
	mirror_bind_port = $PORT
	spooldir = $TMP/recv
	savesip = yes
	savertp = yes
CONF
"$VS_BIN" -c "$TMP/recv.conf" --stats --cdr-json "$TMP/recv.json" \
	</dev/null >"$TMP/recv.log" 2>&1 &
RECV_PID=$!
for _ in $(seq 100); do
	grep -q "legacy mirror: listening" "$TMP/recv.log" && break
	kill -0 "$RECV_PID" 2>/dev/null || break
	sleep 0.1
done
grep -q "legacy mirror: listening" "$TMP/recv.log" ||
	{ cat "$TMP/recv.log" >&2; fail "receiver did not start"; }

conf_base >"$TMP/send.conf" <<-CONF
	id_sensor = 7
	mirror_destination_ip = 127.0.0.1
	mirror_destination_port = $PORT
CONF
sensor_start "$TMP/send.conf"
need_kernel_capture
grep -q "UNENCRYPTED" "$TMP/sensor.log" || fail "sender: no unencrypted warning"
send "$TMP/a.pcap"
send "$TMP/b.pcap"
sleep 0.5
sensor_stop
grep -q "legacy.frames_lost 0" "$TMP/sensor.log" &&
	grep -q "legacy.frames_dropped 0" "$TMP/sensor.log" ||
	{ grep "legacy\." "$TMP/sensor.log" >&2; fail "the sender lost frames"; }
sent=$(grep -o "legacy.frames_sent [0-9]*" "$TMP/sensor.log" | tail -1 | cut -d' ' -f2)
[ "${sent:-0}" -gt 0 ] || fail "the sender sent no frames"
for _ in $(seq 100); do
	grep -q "closed: $sent frames" "$TMP/recv.log" && break
	sleep 0.1
done
grep -q "closed: $sent frames" "$TMP/recv.log" ||
	{ tail -20 "$TMP/recv.log" >&2; fail "the receiver did not get the sender's $sent frames"; }
kill -TERM "$RECV_PID"
wait "$RECV_PID" || { tail -20 "$TMP/recv.log" >&2; fail "receiver exit status"; }
RECV_PID=
ok "live XDP capture mirrored: $sent frames sent, all received"

command -v mergecap >/dev/null || skip "mergecap (wireshark-common) not installed"
# the receiver files the CDRs under the sender's id_sensor; -r under none
n=$(VXS_NORM_DROP=id_sensor same_as_offline "$TMP/recv" "$TMP/recv.json") || exit 1
ok "$n receiver CDRs identical to voxsense -r of the frames it got"

"$VS_BIN" -r "$TMP/a.pcap" -r "$TMP/b.pcap" --spooldir "$TMP/orig" -c /dev/null \
	--cdr-json "$TMP/orig.json" 2>/dev/null || fail "voxsense -r originals"
diff <(stream_counts "$TMP/recv.json") <(stream_counts "$TMP/orig.json") ||
	fail "the mirrored CDRs lost packets compared with the original capture"
ok "per-stream packet counts equal those of the original capture (the sender kept the kernel's RTP flow table)"
