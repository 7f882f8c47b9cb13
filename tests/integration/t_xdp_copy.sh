#!/bin/bash
# Kernel capture, copy mode: XDP on receive, TC on egress, per-CPU ring
# buffers. Asserts the per-verdict counters, that unrelated traffic never
# reaches userspace, that RTP passes only while its call's SDP is live,
# SIP over UDP and TCP, RTCP, VLAN/QinQ, fragments, IPv6, egress (by a
# tcx link, no qdisc, where the kernel has tcx; and on clsact when told),
# and the named pins bpftool shows.
. "$(dirname "$0")/xdp_lib.sh"
xdp_setup
gen() { "$VSGEN" -o "$TMP/$1.pcap" "${@:2}" >/dev/null || fail "vsgen $1"; }
gen calls -n 3 -d 6 --rtcp --rate 2
gen other -n 10 -d 2 --rate 20 --sipport 5070 --seed 7 # SIP on a port not in sipport
tcpdump -r "$TMP/calls.pcap" -w "$TMP/rtp_only.pcap" 'udp and not port 5060' 2>/dev/null ||
	fail "tcpdump split"
gen tcp -n 2 -d 2 --transport tcp --seed 2 --start 1700001000
gen vlan -n 2 -d 2 --vlan 10 --qinq --seed 3 --start 1700002000
gen frag -n 2 -d 2 --frag --seed 4 --start 1700003000
gen v6 -n 2 -d 2 --ipv6 --seed 5 --start 1700004000
gen egress -n 2 -d 2 --seed 6 --start 1700005000
conf_base </dev/null >"$TMP/vs.conf"
sensor_start "$TMP/vs.conf"
need_kernel_capture

echo "-- pins"
for m in sip_ports media frags ipfilter counters rings cfg prog_vs_xdp_copy prog_vs_tc_egress; do
	[ -e "/sys/fs/bpf/voxsense/$m" ] || fail "pin $m missing"
done
bpftool map show pinned /sys/fs/bpf/voxsense/media | grep -q "name media" ||
	fail "bpftool does not show map media"
bpftool prog show pinned /sys/fs/bpf/voxsense/prog_vs_xdp_copy | grep -q "xdp  *name vs_xdp_copy" ||
	fail "bpftool does not show prog vs_xdp_copy"
ok "named pins shown by bpftool"

echo "-- egress hook"
tcid=none
if grep -q "TC egress by tcx" "$TMP/sensor.log"; then
	tc qdisc show dev "$VXS_S" | grep -q clsact &&
		fail "a clsact qdisc on $VXS_S with tcx"
	tcid=$(bpftool prog show pinned /sys/fs/bpf/voxsense/prog_vs_tc_egress |
		sed -n 's/^\([0-9]*\): .*/\1/p')
	bpftool link show | grep -q "prog $tcid\b" ||
		fail "no BPF link holds vs_tc_egress (id $tcid)"
	ok "egress by a tcx link (prog $tcid), no qdisc"
else
	grep -q "TC egress on clsact (tcx refused" "$TMP/sensor.log" ||
		fail "the log names neither tcx nor clsact"
	echo "   note: this kernel has no tcx (6.6): egress on clsact"
fi

echo "-- unrelated traffic and RTP without SDP stay in the kernel"
n_other=$(tcpdump -r "$TMP/other.pcap" 2>/dev/null | wc -l)
n_rtp=$(tcpdump -r "$TMP/rtp_only.pcap" 2>/dev/null | wc -l)
send "$TMP/other.pcap" --topspeed --loop 5
send "$TMP/rtp_only.pcap" --topspeed
sleep 0.5
expect_kmap 0 delivered = 0
# Exactly: the sender's end has IPv6 off (xdp_setup), nothing else arrives.
expect_kmap 0 not_voip = $((5 * n_other + n_rtp))

echo "-- a call: SIP, then its RTP and RTCP"
n_sip=$(tcpdump -r "$TMP/calls.pcap" 'port 5060' 2>/dev/null | wc -l)
send "$TMP/calls.pcap"
sleep 0.5
expect_kmap 0 sip = "$n_sip"
expect_kmap 0 rtp -gt 1500
expect_kmap 0 rtcp -gt 0
rtp_before=$(kmap 0 rtp)
[ "$(kmap 0 delivered)" = $((n_sip + rtp_before + $(kmap 0 rtcp))) ] ||
	fail "delivered != sip + rtp + rtcp"
ok "delivered = sip + rtp + rtcp"

echo "-- after the calls end their RTP no longer passes"
for _ in $(seq 80); do [ "$(media_count)" = 0 ] && break; sleep 0.1; done
[ "$(media_count)" = 0 ] || fail "media map still has $(media_count) entries"
ok "media map empty after the calls ended"
send "$TMP/rtp_only.pcap" --topspeed
sleep 0.3
expect_kmap 0 rtp = "$rtp_before"

echo "-- SIP over TCP, QinQ, fragments, IPv6"
for f in tcp vlan frag v6; do
	send "$TMP/$f.pcap" --topspeed
done
sleep 0.5
expect_kmap 0 fragment -gt 0
expect_kmap 0 malformed = 0

echo "-- egress"
send_egress "$TMP/egress.pcap" --topspeed
sleep 0.5
expect_kmap 1 sip -gt 0
expect_kmap 1 delivered -gt 0

sensor_stop
expect_count capture.frames_out -gt 0
expect_count kernel.in.delivery_failed = 0
expect_count capture.ring_malformed = 0
expect_count kernel.media_errors = 0
# Userspace received exactly what the kernel delivered.
[ "$(kcount capture.frames)" = $(($(kcount kernel.in.delivered) + $(kcount kernel.out.delivered))) ] ||
	fail "capture.frames != kernel delivered"
ok "capture.frames = kernel delivered"
# 3 + 2 tcp + 2 qinq + 2 frag + 2 v6 + 2 egress calls, none of the 5070 ones.
n=$(wc -l <"$TMP/live.json")
[ "$n" = 13 ] || fail "$n CDRs, expected 13"
ok "13 CDRs"
[ -e /sys/fs/bpf/voxsense ] && fail "pins left after exit"
ip link show "$VXS_S" 2>/dev/null | grep -q xdp && fail "XDP still attached after exit"
tc filter show dev "$VXS_S" egress 2>/dev/null | grep -q vs_tc && fail "TC still attached"
bpftool link show | grep -q "prog $tcid\b" && fail "the tcx link outlived the sensor"
ok "clean detach"

echo "-- tc_egress = clsact"
{ conf_base; echo "tc_egress = clsact"; } </dev/null >"$TMP/clsact.conf"
sensor_start "$TMP/clsact.conf"
grep -q "TC egress on clsact" "$TMP/sensor.log" || fail "tc_egress = clsact not logged"
tc filter show dev "$VXS_S" egress | grep -q vs_tc_egress || fail "no clsact egress filter"
send_egress "$TMP/egress.pcap" --topspeed
sleep 0.5
expect_kmap 1 sip -gt 0
sensor_stop
tc qdisc show dev "$VXS_S" | grep -q clsact && fail "our clsact qdisc left after exit"
ok "egress on a clsact qdisc, removed at exit"
