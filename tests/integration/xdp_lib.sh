# Sourced by tests/integration/t_xdp_*.sh: a private network for kernel
# capture tests, in the manner of xdp-tools' lib/testing/test_runner.sh.
#
# The test re-runs itself under `unshare -n -m`: its own network namespace
# (the sensor side) and mount namespace, where a fresh bpffs is mounted on
# /sys/fs/bpf and a fresh sysfs on /sys, so pins and interfaces are private
# and vanish with the process. A veth pair joins it to a named namespace
# vxs-<pid> (the sender side). Everything is torn down in a trap: sensor
# process, named namespace, links, XDP/TC attachments, pins.
#
# Gives: xdp_setup, xdp_add_pair (a second veth pair), sensor_start CONF,
# sensor_stop, send PCAP [tcpreplay args], send2 (on the second pair),
# kcount DIR NAME (from the last --stats), conf_base, need_kernel_capture,
# promisc_of DEV, pad_frames IN OUT LEN.
if [ -z "${VXS_INNER:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "   skip: needs root (network namespaces, BPF)"; exit 77; }
	command -v unshare >/dev/null || { echo "   skip: unshare absent"; exit 77; }
	VXS_INNER=1 exec unshare -n -m "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
: "${VS_BIN_REL:=$top/build/rel/voxsense}"
VXS_NS=vxs-$$
VXS_S=vxs$$s # sensor end (this namespace)
VXS_P=vxs$$p # sender end (in $VXS_NS)
VXS_S2=vxs$$t # second pair (xdp_add_pair)
VXS_P2=vxs$$q
SENSOR_PID=

xdp_teardown() {
	if [ -n "$SENSOR_PID" ] && kill -0 "$SENSOR_PID" 2>/dev/null; then
		kill -TERM "$SENSOR_PID" 2>/dev/null
		wait "$SENSOR_PID" 2>/dev/null
	fi
	ip link del "$VXS_S" 2>/dev/null
	ip link del "$VXS_S2" 2>/dev/null
	ip netns del "$VXS_NS" 2>/dev/null
	rm -rf /sys/fs/bpf/voxsense 2>/dev/null
	rm -rf "$TMP"
}
trap xdp_teardown EXIT

need_tools() {
	for t in "$@"; do
		command -v "$t" >/dev/null || skip "$t not installed"
	done
}

xdp_setup() {
	need_tools ip tcpreplay bpftool
	[ -x "$VS_BIN" ] || skip "$VS_BIN not built"
	mount --make-rprivate / 2>/dev/null
	mount -t bpf bpf /sys/fs/bpf 2>/dev/null || skip "cannot mount bpffs"
	mount -t sysfs sysfs /sys 2>/dev/null && mount -t bpf bpf /sys/fs/bpf
	ip link set lo up
	ip netns add "$VXS_NS" || skip "cannot create a network namespace"
	ip link add "$VXS_S" type veth peer name "$VXS_P" ||
		skip "kernel has no veth"
	ip link set "$VXS_P" netns "$VXS_NS"
	ip link set "$VXS_S" up
	ip -n "$VXS_NS" link set "$VXS_P" up
	ip -n "$VXS_NS" link set lo up
}

# A second veth pair into the same sender namespace: $VXS_S2 / $VXS_P2.
xdp_add_pair() {
	ip link add "$VXS_S2" type veth peer name "$VXS_P2" || skip "no second veth"
	ip link set "$VXS_P2" netns "$VXS_NS"
	ip link set "$VXS_S2" up
	ip -n "$VXS_NS" link set "$VXS_P2" up
}

# promisc_of DEV: 1 while IFF_PROMISC (0x100) is set on DEV, else 0.
promisc_of() {
	echo $(( $(cat /sys/class/net/"$1"/flags) >> 8 & 1 ))
}

# pad_frames IN OUT LEN: every frame of pcap IN padded to LEN bytes with
# an Ethernet trailer (IP and UDP lengths unchanged, so it parses the same).
pad_frames() {
	python3 - "$@" <<-'PY'
	import struct, sys
	src, dst, n = open(sys.argv[1], "rb"), open(sys.argv[2], "wb"), int(sys.argv[3])
	dst.write(src.read(24))
	while (h := src.read(16)):
	    s, us, cap, orig = struct.unpack("<IIII", h)
	    d = src.read(cap)
	    d += bytes(max(0, n - len(d)))
	    dst.write(struct.pack("<IIII", s, us, len(d), len(d)) + d)
	PY
}

# caplens DIR: "records max_caplen truncated" over the per-call pcaps in
# DIR (truncated: caplen < original length).
caplens() {
	find "$1" -name '*.pcap' -print0 | xargs -0 -r python3 -c '
import struct, sys
n = mx = tr = 0
for f in sys.argv[1:]:
    b = open(f, "rb").read()
    o = 24
    while o + 16 <= len(b):
        cap, orig = struct.unpack_from("<II", b, o + 8)
        n += 1; mx = max(mx, cap); tr += cap < orig
        o += 16 + cap
print(n, mx, tr)'
}

conf_base() { # extra lines on stdin are appended
	cat <<-CONF
	interface = $VXS_S
	spooldir = $TMP/spool
	savesip = no
	savertp = no
	CONF
	cat
}

# sensor_start CONF [voxsense args]: runs the sensor in the background with
# --stats and --cdr-json $TMP/live.json (behind $VXS_WRAP, a command
# prefix, when set); waits until it captures.
sensor_start() {
	local conf=$1
	shift
	: >"$TMP/sensor.log"
	${VXS_WRAP:-} "$VS_BIN" -c "$conf" --stats --cdr-json "$TMP/live.json" "$@" \
		2>"$TMP/sensor.log" &
	SENSOR_PID=$!
	for _ in $(seq 100); do
		grep -q "live capture on" "$TMP/sensor.log" && return 0
		kill -0 "$SENSOR_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$TMP/sensor.log" >&2
	fail "sensor did not start"
}

# The sensor's own word that BPF is unusable here is a skip, not a failure.
need_kernel_capture() {
	local why
	why=$(grep -m1 "falling back to libpcap" "$TMP/sensor.log") || return 0
	sensor_stop
	skip "kernel capture unavailable: $why"
}

sensor_stop() {
	[ -n "$SENSOR_PID" ] || return 0
	kill -TERM "$SENSOR_PID"
	wait "$SENSOR_PID"
	local rc=$?
	SENSOR_PID=
	[ $rc -eq 0 ] || { cat "$TMP/sensor.log" >&2; fail "sensor exited $rc"; }
}

# send PCAP [args]: replays from the sender namespace (the sensor receives).
send() {
	local f=$1
	shift
	ip netns exec "$VXS_NS" tcpreplay -q -i "$VXS_P" "$@" "$f" >/dev/null 2>&1 ||
		fail "tcpreplay $f"
}

# send2 PCAP [args]: the same on the second pair.
send2() {
	local f=$1
	shift
	ip netns exec "$VXS_NS" tcpreplay -q -i "$VXS_P2" "$@" "$f" >/dev/null 2>&1 ||
		fail "tcpreplay $f on $VXS_P2"
}

# send_egress PCAP [args]: the sensor's host sends (TC egress sees it).
send_egress() {
	local f=$1
	shift
	tcpreplay -q -i "$VXS_S" "$@" "$f" >/dev/null 2>&1 || fail "tcpreplay $f"
}

# kcount NAME: a counter from the sensor's --stats output.
kcount() {
	awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "missing" }' \
		"$TMP/sensor.log"
}

expect_count() { # NAME OP VALUE
	local v
	v=$(kcount "$1")
	[ "$v" != missing ] || fail "counter $1 missing"
	[ "$v" "$2" "$3" ] || fail "$1 = $v, expected $2 $3"
	ok "$1 = $v"
}

# The CDRs of a JSON-lines file without pcap_path (and the keys in
# VXS_NORM_DROP, space-separated), one per line, sorted.
cdrs_norm() {
	python3 -c '
import json, sys
rows = []
for line in open(sys.argv[1]):
    d = json.loads(line)
    for k in ["pcap_path"] + sys.argv[2].split():
        d.pop(k, None)
    rows.append(json.dumps(d, sort_keys=True))
print("\n".join(sorted(rows)))' "$1" "${VXS_NORM_DROP:-}"
}

# same_as_offline SPOOLDIR CDR_JSON: the CDRs of CDR_JSON (a live run's)
# must equal those of `voxsense -r` of the call pcaps under SPOOLDIR, merged
# (compared as cdrs_norm, so VXS_NORM_DROP applies; at least 6 CDRs).
# Prints how many. Needs mergecap.
same_as_offline() {
	find "$1" -name '*.pcap' >"$TMP/pcaps"
	[ -s "$TMP/pcaps" ] || fail "no call pcaps written under $1"
	mergecap -F pcap -w "$TMP/merged.pcap" $(cat "$TMP/pcaps") || fail mergecap
	"$VS_BIN" -r "$TMP/merged.pcap" --spooldir "$TMP/off" -c /dev/null \
		--cdr-json "$TMP/off.json" 2>/dev/null || fail "voxsense -r of the call pcaps"
	cdrs_norm "$2" >"$TMP/live.norm"
	cdrs_norm "$TMP/off.json" >"$TMP/off.norm"
	[ "$(wc -l <"$TMP/live.norm")" -ge 6 ] || fail "too few CDRs in $2"
	diff "$TMP/live.norm" "$TMP/off.norm" >"$TMP/diff" ||
		{ head -c 3000 "$TMP/diff" >&2; fail "CDRs of $2 differ from -r of the call pcaps"; }
	wc -l <"$TMP/live.norm"
}

# stream_counts CDR_JSON: per call (by Call-ID) its end, SIP messages and
# each stream's RTP and RTCP packet counts, to compare with a reference.
stream_counts() {
	python3 -c '
import json, sys
for l in sorted(open(sys.argv[1]), key=lambda l: json.loads(l)["call_id"]):
    d = json.loads(l)
    print(d["call_id"], d["end"], d["sip_messages"],
          [(s["packets"], s["rtcp_packets"]) for s in d["streams"]])' "$1"
}

# Kernel counter names, in the order of VS_KCNT in include/vs_kern_user.h.
VXS_KCNT="seen sip rtp rtcp fragment frag_unknown tunnel ip_filtered not_voip not_ip malformed delivered delivery_failed"

# kmap DIR NAME: a kernel counter read live from the pinned map with
# bpftool (DIR 0 = XDP receive, 1 = TC egress), summed over CPUs.
kmap() {
	bpftool -j map dump pinned /sys/fs/bpf/voxsense/counters |
		python3 -c '
import json, sys
d, name, names = int(sys.argv[1]), sys.argv[2], sys.argv[3].split()
i = names.index(name)
tot = 0
for e in json.load(sys.stdin):
    if int(e["key"][0], 16) != d:
        continue
    for v in e["values"]:
        b = bytes(int(x, 16) for x in v["value"])
        tot += int.from_bytes(b[8 * i:8 * i + 8], "little")
print(tot)' "$1" "$2" "$VXS_KCNT"
}

expect_kmap() { # DIR NAME OP VALUE
	local v
	v=$(kmap "$1" "$2") || fail "bpftool counters"
	[ "$v" "$3" "$4" ] || fail "kernel[$1].$2 = $v, expected $3 $4"
	ok "kernel[$1].$2 = $v ($3 $4)"
}

# media_count: entries in the live RTP flow table.
media_count() {
	bpftool -j map dump pinned /sys/fs/bpf/voxsense/media |
		python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'
}
