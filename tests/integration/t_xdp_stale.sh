#!/bin/bash
# A sensor killed with SIGKILL leaves its XDP program, TC filter, clsact
# qdisc and pins behind. The next start finds them, says so, and replaces
# them (one XDP program, one TC filter, fresh pins); its clean exit removes
# everything, the qdisc the crashed run made included. A clsact qdisc the
# admin made before stays.
. "$(dirname "$0")/xdp_lib.sh"
xdp_setup
command -v tc >/dev/null || skip "tc not installed"
conf_base </dev/null >"$TMP/vs.conf"
sensor_start "$TMP/vs.conf"
need_kernel_capture
kill -KILL "$SENSOR_PID"
wait "$SENSOR_PID" 2>/dev/null
SENSOR_PID=
ip link show "$VXS_S" | grep -q "prog/xdp" || fail "XDP not left behind by the crash"
[ -e /sys/fs/bpf/voxsense/media ] || fail "pins not left behind by the crash"
ok "crash left XDP and pins behind"
sensor_start "$TMP/vs.conf"
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

echo "-- a clsact qdisc of the admin's"
tc qdisc add dev "$VXS_S" clsact || fail "tc qdisc add clsact"
sensor_start "$TMP/vs.conf"
kill -KILL "$SENSOR_PID"
wait "$SENSOR_PID" 2>/dev/null
SENSOR_PID=
sensor_start "$TMP/vs.conf"
sensor_stop
tc filter show dev "$VXS_S" egress 2>/dev/null | grep -q vs_tc_egress &&
	fail "TC filter left after clean exit"
tc qdisc show dev "$VXS_S" | grep -q clsact ||
	fail "the admin's clsact qdisc was removed"
ok "the admin's clsact kept through a crash and a clean exit, our filter gone"
