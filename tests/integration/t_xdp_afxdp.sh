#!/bin/bash
# capture_mode = afxdp: XDP redirects what passes to the RX queue's AF_XDP
# socket and drops the rest (a dedicated sniffing interface). The same
# calls must come out as in copy mode, unrelated traffic must not.
. "$(dirname "$0")/xdp_lib.sh"
xdp_setup
"$VSGEN" -o "$TMP/calls.pcap" -n 3 -d 3 --rate 2 --rtcp >/dev/null || fail vsgen
"$VSGEN" -o "$TMP/other.pcap" -n 5 -d 2 --sipport 5070 --seed 7 >/dev/null || fail vsgen
conf_base >"$TMP/vs.conf" <<-CONF
	capture_mode = afxdp
	CONF
sensor_start "$TMP/vs.conf"
need_kernel_capture
grep -q "AF_XDP socket" "$TMP/sensor.log" || fail "no AF_XDP socket"
send "$TMP/other.pcap" --topspeed
send "$TMP/calls.pcap"
sleep 0.5
sensor_stop
grep -q "^capture.mode afxdp" "$TMP/sensor.log" || fail "not in afxdp mode"
expect_count call.calls_created = 3
expect_count call.rtp_packets = 900
expect_count kernel.in.not_voip -gt 1000
expect_count kernel.in.delivery_failed = 0
[ "$(kcount afxdp.frames)" = "$(kcount kernel.in.delivered)" ] ||
	fail "afxdp.frames != kernel delivered"
ok "afxdp.frames = kernel.in.delivered = $(kcount afxdp.frames)"
expect_count afxdp.no_meta = 0
expect_count afxdp.rx_dropped = 0
[ "$(wc -l <"$TMP/live.json")" = 3 ] || fail "expected 3 CDRs"
ok "3 CDRs"
