#!/bin/bash
# Kernel capture with interface_ip_filter: the LPM trie (IPv4 mapped into
# the IPv6 space) lets through only VoIP whose source or destination is
# listed; the rest is counted as ip_filtered and never reaches userspace.
. "$(dirname "$0")/xdp_lib.sh"
xdp_setup
"$VSGEN" -o "$TMP/v4.pcap" -n 3 -d 2 --rate 2 >/dev/null || fail vsgen
"$VSGEN" -o "$TMP/v6.pcap" -n 2 -d 2 --ipv6 --seed 9 --start 1700001000 >/dev/null || fail vsgen
conf_base >"$TMP/vs.conf" <<-CONF
	interface_ip_filter = 10.2.1.2/32
	interface_ip_filter = fd00::1:1:0/112
	CONF
sensor_start "$TMP/vs.conf"
need_kernel_capture
# Two of three IPv4 calls are outside the list; both IPv6 calls are inside.
send "$TMP/v4.pcap"
send "$TMP/v6.pcap"
sleep 0.5
# 7 SIP messages per call: 2 IPv4 calls refused, 1 + 2 allowed.
expect_kmap 0 ip_filtered = 14
expect_kmap 0 sip = 21
expect_kmap 0 rtp -gt 0
sensor_stop
expect_count call.calls_created = 3
python3 - "$TMP/live.json" <<-'PY' || fail "CDRs not those allowed"
	import json, sys
	ips = sorted(json.loads(l)["sip_called_ip"] for l in open(sys.argv[1]))
	assert ips == ["10.2.1.2", "fd00::2:1:1", "fd00::2:1:2"], ips
	PY
ok "only the allowed calls (10.2.1.2, fd00::1:1:0/112) were captured"
