#!/bin/bash
# snaplen and promisc in each capture mode. The calls' frames are padded
# with an Ethernet trailer to 1000 bytes (they parse the same), snaplen is
# 700 (every SIP message fits): the per-call pcaps must hold the calls
# with every frame cut at 700 bytes, the original length kept. Promiscuous
# mode is on while afxdp or pcap mode captures a named interface (a
# dedicated one), never in copy mode (a PBX host), and off again after.
. "$(dirname "$0")/xdp_lib.sh"
xdp_setup
"$VSGEN" -o "$TMP/calls.pcap" -n 2 -d 2 --rate 4 >/dev/null || fail vsgen
pad_frames "$TMP/calls.pcap" "$TMP/padded.pcap" 1000 || fail "pad_frames"
n_frames=$(tcpdump -r "$TMP/padded.pcap" 2>/dev/null | wc -l)

for mode in copy pcap afxdp; do
	echo "-- capture_mode = $mode"
	rm -rf "$TMP/spool"
	conf_base >"$TMP/vs.conf" <<-CONF
		capture_mode = $mode
		snaplen = 700
		savesip = yes
		savertp = yes
		CONF
	[ "$(promisc_of "$VXS_S")" = 0 ] || fail "promiscuous before the start"
	sensor_start "$TMP/vs.conf"
	[ $mode = pcap ] || need_kernel_capture
	want=$([ $mode = copy ] && echo 0 || echo 1)
	[ "$(promisc_of "$VXS_S")" = "$want" ] ||
		fail "IFF_PROMISC = $(promisc_of "$VXS_S") during capture, expected $want"
	grep -q "$VXS_S: .*promiscuous $([ "$want" = 1 ] && echo on || echo off)" \
		"$TMP/sensor.log" || fail "no log line with the promiscuous state"
	ok "IFF_PROMISC $want while capturing: $(grep -m1 "$VXS_S: .*promiscuous" "$TMP/sensor.log")"
	send "$TMP/padded.pcap"
	sleep 0.5
	sensor_stop
	[ "$(promisc_of "$VXS_S")" = 0 ] || fail "still promiscuous after exit"
	expect_count call.calls_created = 2
	read -r n mx tr <<<"$(caplens "$TMP/spool")"
	[ "$n" = "$n_frames" ] || fail "$n frames in the call pcaps, expected $n_frames"
	[ "$mx" = 700 ] || fail "largest caplen $mx, expected 700"
	[ "$tr" = "$n" ] || fail "$tr of $n frames cut at snaplen"
	ok "$n frames in the call pcaps, all cut at 700 of 1000 bytes"
done
