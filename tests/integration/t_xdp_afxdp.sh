#!/bin/bash
# capture_mode = afxdp: XDP redirects what passes to the RX queue's AF_XDP
# socket and drops the rest (a dedicated sniffing interface). The same
# calls must come out as in copy mode, unrelated traffic must not: not to
# the sensor, and not to its host's stack either (pings to the interface's
# address answered and UDP datagrams received before the sensor starts and
# after it exits, neither while it runs; the kernel counts them not_voip).
. "$(dirname "$0")/xdp_lib.sh"
xdp_setup

# Addresses on both ends, each knowing the other's MAC (no ARP, which XDP
# would drop too: what is sent below is exactly what reaches the sensor).
VXS_A=10.99.0.1 VXS_B=10.99.0.2 UDP_PORT=4000
ip addr add "$VXS_A/24" dev "$VXS_S"
ip -n "$VXS_NS" addr add "$VXS_B/24" dev "$VXS_P"
ip neigh replace "$VXS_B" dev "$VXS_S" nud permanent lladdr \
	"$(ip netns exec "$VXS_NS" cat /sys/class/net/"$VXS_P"/address)"
ip -n "$VXS_NS" neigh replace "$VXS_A" dev "$VXS_P" nud permanent lladdr \
	"$(cat /sys/class/net/"$VXS_S"/address)"
# A UDP listener on the sensor's host: one line per datagram in udp.rx.
python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
f = open(sys.argv[3], "a", buffering=1)
while True:
    f.write(s.recv(2048).decode(errors="replace") + "\n")
' "$VXS_A" "$UDP_PORT" "$TMP/udp.rx" &
VXS_PIDS="$VXS_PIDS $!"
for _ in $(seq 50); do [ -e "$TMP/udp.rx" ] && break; sleep 0.1; done
[ -e "$TMP/udp.rx" ] || fail "UDP listener did not start"

# pings N: how many of N ICMP echo requests to $VXS_A were answered (a
# raw socket: iputils-ping is not always installed).
pings() {
	ip netns exec "$VXS_NS" python3 -c '
import os, select, socket, struct, sys, time
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s & 0xffff) + (s >> 16)
    return ~(s + (s >> 16)) & 0xffff
dst, n, ident = sys.argv[1], int(sys.argv[2]), os.getpid() & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
for seq in range(n):
    m = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + bytes(56)
    s.sendto(m[:2] + struct.pack("!H", csum(m)) + m[4:], (dst, 0))
    time.sleep(0.2)
got, end = set(), time.time() + 1
while time.time() < end and select.select([s], [], [], end - time.time())[0]:
    d = s.recv(2048)
    t, _, _, i, q = struct.unpack_from("!BBHHH", d, (d[0] & 15) * 4)
    if t == 0 and i == ident:
        got.add(q)
print(len(got))' "$VXS_A" "$1"
}
# udp_send N: N datagrams to the listener; then how many udp.rx holds.
udp_send() {
	ip netns exec "$VXS_NS" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[3])):
    s.sendto(b"d%d" % i, (sys.argv[1], int(sys.argv[2])))' "$VXS_A" "$UDP_PORT" "$1"
	sleep 0.5
	wc -l <"$TMP/udp.rx"
}

echo "-- the host stack without the sensor"
[ "$(pings 2)" = 2 ] || fail "no answer to ping before the sensor started"
[ "$(udp_send 5)" = 5 ] || fail "UDP not received before the sensor started"
ok "pings answered, 5 UDP datagrams received"

"$VSGEN" -o "$TMP/calls.pcap" -n 3 -d 3 --rate 2 --rtcp >/dev/null || fail vsgen
"$VSGEN" -o "$TMP/other.pcap" -n 5 -d 2 --sipport 5070 --seed 7 >/dev/null || fail vsgen
conf_base >"$TMP/vs.conf" <<-CONF
	capture_mode = afxdp
	CONF
sensor_start "$TMP/vs.conf"
need_kernel_capture
grep -q "AF_XDP socket" "$TMP/sensor.log" || fail "no AF_XDP socket"

echo "-- the host stack while the sensor runs: nothing reaches it"
nv0=$(kmap 0 not_voip)
[ "$(pings 3)" = 0 ] || fail "pings answered while afxdp captured"
[ "$(udp_send 20)" = 5 ] || fail "UDP datagrams reached the host stack while afxdp captured"
ok "3 pings unanswered, 20 UDP datagrams not received"
expect_kmap 0 not_voip = $((nv0 + 23))
expect_kmap 0 delivered = 0

echo "-- calls"
send "$TMP/other.pcap" --topspeed
send "$TMP/calls.pcap"
sleep 0.5
sensor_stop
grep -q "^capture.mode afxdp" "$TMP/sensor.log" || fail "not in afxdp mode"
expect_count call.calls_created = 3
expect_count call.rtp_packets = 900
expect_count kernel.in.not_voip -gt 1000
expect_count kernel.in.delivery_failed = 0
[ "$(kcount afxdp.frames)" = "$(kcount kernel.in.delivered)" ] ||
	fail "afxdp.frames != kernel delivered"
ok "afxdp.frames = kernel.in.delivered = $(kcount afxdp.frames)"
expect_count afxdp.no_meta = 0
# SIP rang the reader's doorbell; RTP waited for its timeout
expect_count afxdp.bells -gt 0
expect_count afxdp.rx_dropped = 0
[ "$(wc -l <"$TMP/live.json")" = 3 ] || fail "expected 3 CDRs"
ok "3 CDRs"

echo "-- the reader is woken by the RX ring's fill level"
# ringbuffer = 1: 4096 UMEM frames, the program rings at 1024 waiting.
# vsblast (the capture bench's sender) sets the calls up, then sends
# their 6000 RTP frames at 100 000/s: 1024 wait within about 10 ms, long
# before the reader's 100 ms wait ends, so it must be rung, and lose
# nothing.
need_tools gcc
gcc -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror \
	"$top/tests/bench/vsblast.c" -lpcap -o "$TMP/vsblast" || fail "cannot build vsblast"
"$VSGEN" -o "$TMP/burst.pcap" -n 20 -d 3 --rate 100 --seed 9 \
	--start 1700003000 >/dev/null || fail vsgen
rm -rf "$TMP/spool" "$TMP/live.json"
conf_base >"$TMP/vs.conf" <<-CONF
	capture_mode = afxdp
	ringbuffer = 1
	CONF
sensor_start "$TMP/vs.conf"
need_kernel_capture
for part in setup:20000 media:100000 bye:20000; do
	ip netns exec "$VXS_NS" "$TMP/vsblast" -i "$VXS_P" --part "${part%:*}" \
		-p "${part#*:}" -x 0 "$TMP/burst.pcap" >>"$TMP/blast.out" ||
		fail "vsblast --part ${part%:*}"
	sleep 0.3
done
sensor_stop
expect_count afxdp.fill_bells -gt 0
expect_count afxdp.rx_dropped = 0
expect_count afxdp.rx_ring_full = 0
expect_count call.rtp_packets = 6000
expect_count kernel.in.delivery_failed = 0

echo "-- the host stack after the sensor exited"
[ "$(pings 2)" = 2 ] || fail "no answer to ping after the sensor exited"
[ "$(udp_send 5)" = 10 ] || fail "UDP not received after the sensor exited"
ok "pings answered, 5 more UDP datagrams received"

echo "-- savertp = header: RTP cut after its header before the redirect"
# As in copy mode (t_xdp_cdr), nothing reads RTP past its header but an
# RFC 4733 event: the program cuts the frame before the socket copies it,
# and the metadata carries its length on the wire, which the call pcaps
# keep. Packet counts, codecs and DTMF must equal the original's offline.
header_only_run '5*' 3 'capture_mode = afxdp'
expect_count afxdp.no_meta = 0
# The call pcaps (savertp = header saves RTP cut anyway): as many frames
# as the original, each with its length on the wire, which for the frames
# the kernel cut only the metadata knew.
wire_lens() {
	python3 -c '
import struct, sys
lens = []
for f in sys.argv[1:]:
    b = open(f, "rb").read()
    o = 24
    while o + 16 <= len(b):
        cap, orig = struct.unpack_from("<II", b, o + 8)
        lens.append(orig)
        o += 16 + cap
print(" ".join(map(str, sorted(lens))))' "$@"
}
[ "$(wire_lens $(find "$TMP/spool" -name '*.pcap'))" = "$(wire_lens "$TMP/c.pcap")" ] ||
	fail "the call pcaps' frame lengths differ from the original's"
ok "$N_CUT RTP frames cut by the kernel; lengths on the wire, packets, codecs and DTMF as offline"
