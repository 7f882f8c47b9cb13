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
# original capture read offline. The DTMF packets are whole: no more
# than the header and an event.
header_only_run '19#*' 4
ok "$N_CUT RTP datagrams cut by the kernel; packets, codecs and DTMF as offline"
