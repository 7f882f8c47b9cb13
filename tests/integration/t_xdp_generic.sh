#!/bin/bash
# An interface whose driver has no native XDP (a bridge): copy mode falls
# back to generic XDP, says so with the reason on the interface's log
# line, and still delivers the calls that cross it.
. "$(dirname "$0")/xdp_lib.sh"
xdp_setup
BR=vxg$$br
ip link add "$BR" type bridge 2>/dev/null || skip "kernel has no bridge devices"
ip link set "$VXS_S" master "$BR" || fail "enslaving $VXS_S"
# The bridge hands every frame to its own stack (and so to XDP) only
# when promiscuous; copy mode leaves promiscuity alone.
ip link set "$BR" promisc on
ip link set "$BR" up
"$VSGEN" -o "$TMP/calls.pcap" -n 2 -d 2 --rate 4 >/dev/null || fail vsgen
echo "interface = $BR" | conf_base >"$TMP/vs.conf"
sensor_start "$TMP/vs.conf"
need_kernel_capture
line=$(grep "$BR: " "$TMP/sensor.log" | grep "XDP") ||
	fail "no XDP mode line for $BR: $(cat "$TMP/sensor.log")"
[[ $line == *"generic XDP (native refused: "* ]] ||
	fail "expected the generic fallback with its reason: $line"
ok "${line#*info: }"
send "$TMP/calls.pcap"
sleep 0.5
sensor_stop
expect_count kernel.in.delivery_failed = 0
expect_count call.calls_created = 2
n=$(wc -l <"$TMP/live.json")
[ "$n" = 2 ] || fail "$n CDRs, expected 2"
ok "2 CDRs through generic XDP on the bridge"
