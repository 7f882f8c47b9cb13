#!/bin/bash
# capture_mode = afxdp on two interfaces (interface = A,B): one AF_XDP
# socket per RX queue of each, all read by one reader; the calls sent on
# either come out. Promiscuous mode: on for both while capturing; after
# exit off again on A, and still on on B, where an admin had set it.
. "$(dirname "$0")/xdp_lib.sh"
xdp_setup
xdp_add_pair
"$VSGEN" -o "$TMP/a.pcap" -n 3 -d 2 --rate 4 >/dev/null || fail vsgen
"$VSGEN" -o "$TMP/b.pcap" -n 2 -d 2 --rate 4 --seed 5 --start 1700001000 >/dev/null ||
	fail vsgen
n_rtp=$(( $(tcpdump -r "$TMP/a.pcap" 'udp and not port 5060' 2>/dev/null | wc -l) +
	$(tcpdump -r "$TMP/b.pcap" 'udp and not port 5060' 2>/dev/null | wc -l) ))
ip link set "$VXS_S2" promisc on
conf_base >"$TMP/vs.conf" <<-CONF
	interface = $VXS_S,$VXS_S2
	capture_mode = afxdp
	CONF
sensor_start "$TMP/vs.conf"
need_kernel_capture
[ "$(grep -c "AF_XDP socket" "$TMP/sensor.log")" = 2 ] || fail "not one AF_XDP line per interface"
for d in "$VXS_S" "$VXS_S2"; do
	grep -q "$d: .*XDP, promiscuous on" "$TMP/sensor.log" || fail "$d: no mode/promiscuous line"
	[ "$(promisc_of "$d")" = 1 ] || fail "$d not promiscuous while capturing"
done
ok "two interfaces, both promiscuous: $(grep -c "promiscuous on" "$TMP/sensor.log") log lines"
send "$TMP/a.pcap" &
send2 "$TMP/b.pcap"
wait $! || fail "send a.pcap"
sleep 0.5
sensor_stop
expect_count afxdp.sockets -ge 2
expect_count call.calls_created = 5
expect_count kernel.in.delivery_failed = 0
expect_count afxdp.rx_dropped = 0
expect_count afxdp.no_meta = 0
[ "$(kcount afxdp.frames)" = "$(kcount kernel.in.delivered)" ] ||
	fail "afxdp.frames != kernel delivered"
ok "afxdp.frames = kernel.in.delivered = $(kcount afxdp.frames)"
expect_count call.rtp_packets = "$n_rtp"
[ "$(wc -l <"$TMP/live.json")" = 5 ] || fail "expected 5 CDRs"
python3 - "$TMP/live.json" <<-'PY' || fail "CDRs are not from both interfaces' captures"
	import json, sys
	ids = [json.loads(l)["call_id"] for l in open(sys.argv[1])]
	assert len(set(ids)) == 5, ids
	PY
ok "5 CDRs: 3 calls from $VXS_S, 2 from $VXS_S2"
[ "$(promisc_of "$VXS_S")" = 0 ] || fail "$VXS_S still promiscuous after exit"
[ "$(promisc_of "$VXS_S2")" = 1 ] || fail "$VXS_S2 lost the admin's promiscuous mode"
ok "promiscuous state restored ($VXS_S off, $VXS_S2 on as the admin set it)"
