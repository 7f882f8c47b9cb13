#!/bin/bash
# Live capture and `voxsense -r` of the same frames give identical CDRs:
# the sensor's per-call pcaps (the frames it captured, with its capture
# timestamps) are merged and read back offline; the CDRs must be equal
# but for pcap_path. And nothing was lost on the way: each stream's packet
# count equals that of the original capture read offline.
. "$(dirname "$0")/xdp_lib.sh"
xdp_setup
command -v mergecap >/dev/null || skip "mergecap (wireshark-common) not installed"
"$VSGEN" -o "$TMP/a.pcap" -n 4 -d 6 --rtcp --rate 2 --scenario mix >/dev/null || fail vsgen
"$VSGEN" -o "$TMP/b.pcap" -n 2 -d 3 --vlan 20 --seed 3 --start 1700001000 >/dev/null || fail vsgen
conf_base >"$TMP/vs.conf" <<-CONF
	savesip = yes
	savertp = yes
	CONF
sensor_start "$TMP/vs.conf"
need_kernel_capture
send "$TMP/a.pcap"
send "$TMP/b.pcap"
sleep 0.5
sensor_stop
n=$(same_as_offline "$TMP/spool" "$TMP/live.json") || exit 1
ok "$n live CDRs identical to voxsense -r of the captured frames"
"$VS_BIN" -r "$TMP/a.pcap" -r "$TMP/b.pcap" --spooldir "$TMP/orig" -c /dev/null \
	--cdr-json "$TMP/orig.json" 2>/dev/null || fail "voxsense -r originals"
diff <(stream_counts "$TMP/live.json") <(stream_counts "$TMP/orig.json") ||
	fail "live CDRs lost packets compared with the original capture"
ok "per-stream packet counts equal those of the original capture"

echo "-- savertp = header: the kernel copies RTP through its header only"
# Without savertp = yes nothing reads RTP past its header but an RFC 4733
# event, so copy mode's XDP program cuts RTP there (VS_RTP_KEEP bytes of
# payload kept): every RTP datagram arrives cut, RTCP and SIP whole, and
# the CDRs' packet counts, codecs and DTMF digits equal those of the
# original capture read offline.
"$VSGEN" -o "$TMP/c.pcap" -n 3 -d 4 --rtcp --dtmf 19#* --seed 5 \
	--start 1700002000 >/dev/null || fail vsgen
# The DTMF packets are whole: no more than the header and an event.
n_rtp=$(rtp_over_head "$TMP/c.pcap")
rm -rf "$TMP/spool" "$TMP/live.json"
conf_base >"$TMP/vs.conf" <<-CONF
	savesip = yes
	savertp = header
	CONF
sensor_start "$TMP/vs.conf"
need_kernel_capture
send "$TMP/c.pcap"
sleep 0.5
sensor_stop
expect_count decode.udp_partial = "$n_rtp"
expect_count call.rtp_bad = 0
expect_count call.rtcp_partial = 0
expect_count pipeline.sip_partial = 0
"$VS_BIN" -r "$TMP/c.pcap" --spooldir "$TMP/orig_c" -c /dev/null \
	--cdr-json "$TMP/orig_c.json" 2>/dev/null || fail "voxsense -r c.pcap"
media_facts "$TMP/live.json" >"$TMP/live_c.facts"
media_facts "$TMP/orig_c.json" >"$TMP/orig_c.facts"
grep -q "'19#\*'" "$TMP/orig_c.facts" || fail "no DTMF in the reference CDRs"
diff "$TMP/live_c.facts" "$TMP/orig_c.facts" ||
	fail "cut RTP gave other packet counts, codecs or DTMF than the original"
ok "$n_rtp RTP datagrams cut by the kernel; packets, codecs and DTMF as offline"
