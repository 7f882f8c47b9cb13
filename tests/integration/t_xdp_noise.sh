#!/bin/bash
# Copy mode under a volume of unrelated traffic. vsblast (the capture
# bench's sender) puts 20 000+ unrelated frames on the wire: TCP ACKs and
# data to 80/443, DNS, random high-port UDP (a quarter of it RTP-shaped,
# version 2, to ports no SDP announced), ICMP echo and ARP; first alone,
# then between the frames of two real calls. The kernel must count every
# one of them as not_voip or not_ip and deliver exactly the calls' frames,
# no more reach userspace, and the CDRs must match the calls read offline.
# xdp_setup turns IPv6 off on the sender's end, so nothing but what is sent
# here reaches the sensor's end, and the counts are exact.
. "$(dirname "$0")/xdp_lib.sh"
xdp_setup
need_tools gcc
gcc -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror \
	"$top/tests/bench/vsblast.c" -lpcap -o "$TMP/vsblast" || fail "cannot build vsblast"
"$VSGEN" -o "$TMP/calls.pcap" -n 2 -d 10 --rtcp --rate 2 >/dev/null || fail vsgen
n_calls=$(tcpdump -r "$TMP/calls.pcap" 2>/dev/null | wc -l)
echo "status_interval = 1" | conf_base >"$TMP/vs.conf"
sensor_start "$TMP/vs.conf"
need_kernel_capture

# blast ARGS: vsblast from the sender's namespace at 20 000 frames/s, its
# report line appended to $TMP/blast.out.
blast() {
	ip netns exec "$VXS_NS" "$TMP/vsblast" -i "$VXS_P" -p 20000 "$@" \
		"$TMP/calls.pcap" >>"$TMP/blast.out" || fail "vsblast $*"
}
# sent KEY: the sum of KEY over the vsblast reports.
sent() {
	awk -v k="$1" '{ for (i = 1; i < NF; i += 2) if ($i == k) s += $(i + 1) }
		END { print s + 0 }' "$TMP/blast.out"
}

echo "-- unrelated traffic alone"
blast --part media --noise-only -x 5 --all-kinds --seed 11
sleep 0.3
expect_kmap 0 seen = "$(sent noise)"
expect_kmap 0 delivered = 0
expect_kmap 0 not_ip = "$(sent not_ip)"

echo "-- two calls with unrelated traffic between their frames"
blast --part setup
sleep 0.5 # the sensor puts the SDP's endpoints into the media map
blast --part media -x 6 --all-kinds --seed 12
blast --part bye
sleep 0.5
voip=$(sent voip) noise=$(sent noise) not_ip=$(sent not_ip)
[ "$voip" = "$n_calls" ] || fail "vsblast sent $voip of the $n_calls frames of the calls"
[ "$noise" -ge 20000 ] || fail "only $noise unrelated frames sent"
[ "$(sent errors)" = 0 ] || fail "vsblast: $(sent errors) send errors"
ok "sent $voip VoIP and $noise unrelated frames ($not_ip of them ARP)"
sensor_stop
expect_count kernel.in.seen = $((voip + noise))
expect_count kernel.in.not_voip = $((noise - not_ip))
expect_count kernel.in.not_ip = "$not_ip"
expect_count kernel.in.delivered = "$voip"
expect_count kernel.in.malformed = 0
expect_count kernel.in.delivery_failed = 0
expect_count kernel.out.delivered = 0
expect_count capture.frames = "$voip"
# status_interval = 1: a line a second while it ran, none with loss, and
# their frame and kernel counts add up to at most the totals (the kernel's
# count holds both directions: a few frames the sensor's host sent, ARP
# replies, are seen on egress).
grep "capture: last " "$TMP/sensor.log" >"$TMP/status.log" || true
[ "$(wc -l <"$TMP/status.log")" -ge 2 ] ||
	fail "expected a status line a second: $(cat "$TMP/status.log")"
grep -q "LOST" "$TMP/sensor.log" && fail "a status line reports loss"
grep -v "; lost 0\$" "$TMP/status.log" && fail "status line with loss"
awk -v v="$voip" -v n=$((voip + noise)) '
	{ for (i = 1; i < NF; i++) {
		if ($(i + 1) == "frames") f += $i
		if ($i == "saw") s += $(i + 1) } }
	END { exit !(f > 0 && f <= v && s > 0 && s <= n + 50) }' "$TMP/status.log" ||
	fail "status lines do not add up: $(cat "$TMP/status.log")"
ok "$(wc -l <"$TMP/status.log") status lines, lost 0, counts within the totals"

echo "-- the CDRs"
"$VS_BIN" -r "$TMP/calls.pcap" --spooldir "$TMP/orig" -c /dev/null \
	--cdr-json "$TMP/orig.json" 2>/dev/null || fail "voxsense -r of the calls"
[ "$(wc -l <"$TMP/live.json")" = 2 ] || fail "expected 2 CDRs"
diff <(stream_counts "$TMP/live.json") <(stream_counts "$TMP/orig.json") ||
	fail "live CDRs differ from the calls read offline"
ok "2 CDRs; ends, SIP and per-stream RTP/RTCP counts = voxsense -r of the calls"
