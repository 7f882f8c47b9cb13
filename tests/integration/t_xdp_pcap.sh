#!/bin/bash
# The libpcap fallback: chosen with capture_mode = pcap, and taken on its
# own, with one log line saying why, when BPF is refused (here: the sensor
# runs without CAP_BPF, CAP_SYS_ADMIN and CAP_PERFMON). Either way the
# calls are captured (the classic BPF filter is built from sipport).
. "$(dirname "$0")/xdp_lib.sh"
xdp_setup
"$VSGEN" -o "$TMP/calls.pcap" -n 3 -d 3 --rate 2 >/dev/null || fail vsgen

echo "-- capture_mode = pcap"
conf_base >"$TMP/vs.conf" <<-CONF
	capture_mode = pcap
	CONF
sensor_start "$TMP/vs.conf"
grep -q "in pcap mode" "$TMP/sensor.log" || fail "not in pcap mode"
[ -e /sys/fs/bpf/voxsense ] && fail "pcap mode pinned BPF maps"
send "$TMP/calls.pcap"
sleep 0.5
sensor_stop
expect_count call.calls_created = 3
expect_count call.rtp_packets = 900
[ "$(wc -l <"$TMP/live.json")" = 3 ] || fail "expected 3 CDRs"
ok "3 CDRs in pcap mode"
grep -q "^kernel\." "$TMP/sensor.log" && fail "kernel counters in pcap mode"

echo "-- BPF refused: fallback"
command -v capsh >/dev/null || skip "capsh (libcap2-bin) not installed"
conf_base </dev/null >"$TMP/vs.conf"
cat >"$TMP/nobpf" <<-'SH'
	#!/bin/sh
	exec capsh --drop=cap_bpf,cap_sys_admin,cap_perfmon -- -c 'exec "$0" "$@"' "$@"
	SH
chmod +x "$TMP/nobpf"
VXS_WRAP="$TMP/nobpf" sensor_start "$TMP/vs.conf"
grep "falling back to libpcap" "$TMP/sensor.log" || fail "no fallback log line"
[ "$(grep -c "falling back" "$TMP/sensor.log")" = 1 ] || fail "fallback said more than once"
grep -q "Operation not permitted" "$TMP/sensor.log" || fail "reason not given"
send "$TMP/calls.pcap"
sleep 0.5
sensor_stop
expect_count call.calls_created = 3
grep -q "^capture.mode pcap" "$TMP/sensor.log" || fail "capture.mode is not pcap"
ok "fallback captured the calls"
