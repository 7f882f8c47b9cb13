#!/bin/bash
# A sensor killed with SIGKILL leaves its XDP program, TC filter and pins
# behind. The next start finds them, says so, and replaces them (one XDP
# program, one TC filter, fresh pins); its clean exit removes everything.
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
ok "clean exit removed XDP, TC and pins"
