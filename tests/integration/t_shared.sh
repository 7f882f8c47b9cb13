#!/bin/bash
# Real captures (../shared/pcaps) against their tshark oracles: one CDR per
# INVITE Call-ID, and per RTP stream the same packets and loss as tshark and
# max jitter within 5 %. Skips when ../shared is absent.
. "$(dirname "$0")/lib.sh"
need_shared
P=$VS_SHARED/pcaps

check() { # capture sipport oracle.py-options...
	local cap=$1 ports=$2 name
	shift 2
	name=$(basename "$cap")
	printf 'sipport = %s\n' "$ports" >"$TMP/$name.conf"
	"$VS_BIN" -c "$TMP/$name.conf" --spooldir "$TMP/spool" -r "$P/$cap" \
		--cdr-json "$TMP/$name.cdr" 2>"$TMP/$name.log" ||
		{ cat "$TMP/$name.log"; fail "$cap: voxsense exit $?"; }
	echo "-- $cap"
	python3 "$top/tests/integration/oracle.py" "$P/oracle/$name.txt" \
		"$TMP/$name.cdr" --require-all "$@" || fail "$cap differs from tshark"
}

check live/baresip_call.pcap 5060
check live/baresip_call_tcp_pcma.pcap 5060
check heplify/sip_ipv4_tcp.pcap 5060
# 0x2e3d: its SDP came in MGCP (port 2427), which voxsense does not decode.
check heplify/rtp_rtcp_sip.pcap 5060 --allow-missing 0x2e3d
check sngrep/aaa.pcap 5060
check sngrep/ipv6frag.pcap 5060-5062,15060,25060
check heplify/sip_ipv4_tcp_fragmented.pcap 5060,6060
check suricata-verify/sip-tcp.pcap 5060
ok "shared captures agree with tshark"
