#!/bin/bash
# A sensor killed with SIGKILL leaves its XDP program and pins behind, and
# with tc_egress = clsact its TC filter and clsact qdisc too (a tcx link
# dies with the process). The next start finds them, says so, and replaces
# them (one XDP program, one egress hook, fresh pins); its clean exit
# removes everything, the qdisc the crashed run made included. A clsact
# qdisc the admin made before stays.
. "$(dirname "$0")/xdp_lib.sh"
xdp_setup
command -v tc >/dev/null || skip "tc not installed"
conf_base </dev/null >"$TMP/vs.conf"
{ conf_base; echo "tc_egress = clsact"; } </dev/null >"$TMP/clsact.conf"

crash() {
	kill -KILL "$SENSOR_PID"
	wait "$SENSOR_PID" 2>/dev/null
	SENSOR_PID=
}

# Links that hold the pinned egress program (tcx), 0 when it is not pinned.
egress_links() {
	local id
	id=$(bpftool prog show pinned /sys/fs/bpf/voxsense/prog_vs_tc_egress 2>/dev/null |
		sed -n 's/^\([0-9]*\): .*/\1/p')
	[ -n "$id" ] || { echo 0; return; }
	bpftool link show | grep -c "prog $id\b"
}

echo "-- clsact"
sensor_start "$TMP/clsact.conf"
need_kernel_capture
crash
ip link show "$VXS_S" | grep -q "prog/xdp" || fail "XDP not left behind by the crash"
[ -e /sys/fs/bpf/voxsense/media ] || fail "pins not left behind by the crash"
ok "crash left XDP and pins behind"
sensor_start "$TMP/clsact.conf"
grep -q "replacing stale voxsense XDP program" "$TMP/sensor.log" ||
	fail "stale XDP program not reported"
n=$(tc filter show dev "$VXS_S" egress | grep -c "vs_tc_egress")
[ "$n" = 1 ] || fail "$n TC egress filters, expected 1"
ok "stale attachment replaced, not duplicated"
sensor_stop
ip link show "$VXS_S" | grep -q "prog/xdp" && fail "XDP left after clean exit"
[ -e /sys/fs/bpf/voxsense ] && fail "pins left after clean exit"
tc filter show dev "$VXS_S" egress 2>/dev/null | grep -q vs_tc_egress &&
	fail "TC filter left after clean exit"
tc qdisc show dev "$VXS_S" | grep -q clsact &&
	fail "the crashed run's clsact qdisc left after clean exit"
ok "clean exit removed XDP, TC filter, the crashed run's clsact and pins"

echo "-- tcx (the default where the kernel has it)"
sensor_start "$TMP/vs.conf"
if grep -q "TC egress by tcx" "$TMP/sensor.log"; then
	[ "$(egress_links)" = 1 ] || fail "$(egress_links) tcx links, expected 1"
	crash
	# The link goes when the dead process's files are closed; allow the
	# kernel a moment should it free it from a work queue.
	for _ in $(seq 20); do [ "$(egress_links)" = 0 ] && break; sleep 0.1; done
	[ "$(egress_links)" = 0 ] || fail "the tcx link outlived the crash"
	ok "the crash took its tcx link along"
	sensor_start "$TMP/vs.conf"
	[ "$(egress_links)" = 1 ] || fail "$(egress_links) tcx links, expected 1"
	sensor_stop
	ok "one egress hook after the restart"

	echo "-- a crashed clsact run, then tcx"
	sensor_start "$TMP/clsact.conf"
	crash
	sensor_start "$TMP/vs.conf"
	grep -q "removed a stale voxsense TC egress filter" "$TMP/sensor.log" ||
		fail "the stale clsact filter was not reported"
	tc filter show dev "$VXS_S" egress 2>/dev/null | grep -q vs_tc_egress &&
		fail "the stale clsact filter stayed beside the tcx link"
	tc qdisc show dev "$VXS_S" | grep -q clsact &&
		fail "the crashed run's clsact qdisc stayed"
	sensor_stop
	ok "the stale clsact filter and its qdisc removed, egress by tcx"
else
	sensor_stop
	echo "   note: this kernel has no tcx (6.6): tcx parts not run"
fi

echo "-- a clsact qdisc of the admin's"
tc qdisc add dev "$VXS_S" clsact || fail "tc qdisc add clsact"
for conf in clsact vs; do
	sensor_start "$TMP/$conf.conf"
	crash
	sensor_start "$TMP/$conf.conf"
	sensor_stop
	tc filter show dev "$VXS_S" egress 2>/dev/null | grep -q vs_tc_egress &&
		fail "TC filter left after clean exit ($conf.conf)"
	tc qdisc show dev "$VXS_S" | grep -q clsact ||
		fail "the admin's clsact qdisc was removed ($conf.conf)"
done
ok "the admin's clsact kept through crashes and clean exits, our filter gone"
