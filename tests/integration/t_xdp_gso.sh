#!/bin/bash
# Copy mode on the host that sends SIP over TCP: TSO/GSO hands TC egress
# one super-packet for a large write, here a 6 KB INVITE (a big SDP whose
# c= and m= lines come last). The program must copy it whole (not cut at
# snaplen, 2048): the per-call pcap holds it as one frame longer than
# snaplen and the MTU (so the test really went through GSO), its payload
# equals what was sent, and the call is in the CDR with the RTP sent to
# the port that the end of that INVITE announced (the media map was fed
# from it). Two Python processes, one per namespace: the caller in the
# sensor's (its frames leave through TC egress), the callee in the peer's.
. "$(dirname "$0")/xdp_lib.sh"
xdp_setup
VXS_A=10.99.7.1 VXS_B=10.99.7.2 RTP_A=40000 RTP_B=42000 N_RTP=25
ip addr add "$VXS_A/24" dev "$VXS_S"
ip -n "$VXS_NS" addr add "$VXS_B/24" dev "$VXS_P"
# No ethtool here: the frame length in the call pcap shows the TSO.
gso=$(ip -d link show "$VXS_S" | grep -o 'gso_max_size [0-9]*')

cat >"$TMP/sip.py" <<-'PY'
	# sip.py uac|uas A B RTP_A RTP_B N_RTP OUT: one SIP call over TCP.
	import socket, struct, sys, time
	role, A, B, RA, RB, NR, OUT = sys.argv[1:8]
	RA, RB, NR = int(RA), int(RB), int(NR)
	CID = "gso-%d@vxs.invalid" % int(time.time())

	def msg(first, hdrs, body=b""):
	    h = first + "\r\n" + "".join("%s: %s\r\n" % kv for kv in hdrs)
	    h += "Content-Length: %d\r\n\r\n" % len(body)
	    return h.encode() + body

	def recv_msg(s, buf):
	    while b"\r\n\r\n" not in buf[0]:
	        d = s.recv(65536)
	        if not d:
	            raise SystemExit("peer closed")
	        buf[0] += d
	    head, rest = buf[0].split(b"\r\n\r\n", 1)
	    n = 0
	    for l in head.split(b"\r\n"):
	        if l.lower().startswith(b"content-length:"):
	            n = int(l.split(b":")[1])
	    while len(rest) < n:
	        rest += s.recv(65536)
	    buf[0] = rest[n:]
	    return head.decode(), rest[:n]

	def sdp(ip, port, pad):
	    lines = ["v=0", "o=vxs 1 1 IN IP4 " + ip, "s=-", "t=0 0"]
	    # Session attributes first: the media description ends the INVITE.
	    lines += ["a=x-vxs-pad%03d:%s" % (i, "p" * 70) for i in range(pad)]
	    lines += ["m=audio %d RTP/AVP 0 8 101" % port, "c=IN IP4 " + ip,
	              "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
	              "a=rtpmap:101 telephone-event/8000", "a=sendrecv"]
	    return ("\r\n".join(lines) + "\r\n").encode()

	def hdrs(cid, method, seq, frm, to, via):
	    return [("Via", "SIP/2.0/TCP %s:5060;branch=z9hG4bK%s%d" % (via, method, seq)),
	            ("From", "<sip:1001@%s>;tag=a1" % A), ("To", "<sip:2002@%s>%s" % (B, to)),
	            ("Call-ID", cid), ("CSeq", "%d %s" % (seq, method)),
	            ("Contact", "<sip:%s;transport=tcp>" % frm), ("Max-Forwards", "70")]

	if role == "uac":
	    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	    rtp.bind((A, RA))
	    s = socket.create_connection((B, 5060), timeout=10)
	    body = sdp(A, RA, 62)
	    inv = msg("INVITE sip:2002@%s SIP/2.0" % B,
	              hdrs(CID, "INVITE", 1, A, "", A) +
	              [("User-Agent", "vxs-uac"), ("Content-Type", "application/sdp")], body)
	    open(OUT, "wb").write(inv)
	    s.sendall(inv)  # one write: one TSO super-packet
	    buf = [b""]
	    while True:
	        head, _ = recv_msg(s, buf)
	        if head.startswith("SIP/2.0 200"):
	            break
	    s.sendall(msg("ACK sip:2002@%s SIP/2.0" % B, hdrs(CID, "ACK", 1, A, ";tag=b2", A)))
	    rtp.settimeout(5)
	    for _ in range(NR):
	        rtp.recv(2048)
	    s.sendall(msg("BYE sip:2002@%s SIP/2.0" % B, hdrs(CID, "BYE", 2, A, ";tag=b2", A)))
	    recv_msg(s, buf)
	    print(CID)
	else:
	    ls = socket.socket()
	    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	    ls.bind((B, 5060))
	    ls.listen(1)
	    open(OUT, "w").write("listening\n")
	    ls.settimeout(20)
	    s, _ = ls.accept()
	    s.settimeout(10)
	    buf = [b""]
	    head, body = recv_msg(s, buf)
	    open(OUT + ".invite", "wb").write(head.encode() + b"\r\n\r\n" + body)
	    def reply(head, code, body=b""):
	        keep = [l for l in head.split("\r\n")[1:]
	                if l.split(":")[0].lower() in ("via", "from", "call-id", "cseq")]
	        h = "SIP/2.0 %s\r\n" % code + "\r\n".join(keep) + "\r\n"
	        h += "To: <sip:2002@%s>;tag=b2\r\nContact: <sip:%s;transport=tcp>\r\n" % (B, B)
	        if body:
	            h += "Content-Type: application/sdp\r\n"
	        return (h + "Content-Length: %d\r\n\r\n" % len(body)).encode() + body
	    s.sendall(reply(head, "100 Trying"))
	    s.sendall(reply(head, "200 OK", sdp(B, RB, 0)))
	    recv_msg(s, buf)  # ACK
	    # Media a little after the ACK, as phones send it: the sensor
	    # must have read the INVITE's SDP first (docs/capture.md, "RTP
	    # right after its SDP"); here it all happens within a ms.
	    time.sleep(0.05)
	    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	    u.bind((B, RB))
	    for i in range(NR):
	        pkt = struct.pack("!BBHII", 0x80, 0, i, 160 * i, 0x5a5a0001) + b"\xff" * 160
	        u.sendto(pkt, (A, RA))
	        time.sleep(0.02)
	    head, _ = recv_msg(s, buf)  # BYE
	    s.sendall(reply(head, "200 OK"))
	    time.sleep(0.2)
	    s.close()
	PY

# frames PCAP...: one line per TCP frame: sport dport caplen origlen and
# the payload in hex.
frames() {
	python3 - "$@" <<-'PY'
	import struct, sys
	for f in sys.argv[1:]:
	    b = open(f, "rb").read()
	    o = 24
	    while o + 16 <= len(b):
	        cap, orig = struct.unpack_from("<II", b, o + 8)
	        d = b[o + 16:o + 16 + cap]
	        o += 16 + cap
	        if len(d) < 34 or d[12:14] != b"\x08\x00" or d[23] != 6:
	            continue
	        ihl = (d[14] & 15) * 4
	        tot = struct.unpack_from("!H", d, 16)[0]
	        t = 14 + ihl
	        sp, dp = struct.unpack_from("!HH", d, t)
	        pl = d[t + (d[t + 12] >> 4) * 4:14 + tot]
	        print(sp, dp, cap, orig, pl.hex())
	PY
}

conf_base >"$TMP/vs.conf" <<-CONF
	savesip = yes
	CONF
sensor_start "$TMP/vs.conf"
need_kernel_capture
echo "-- a SIP call over TCP with a 6 KB INVITE, sent from the sensor's host"
echo "   $VXS_S: ${gso:-gso_max_size unknown}, mtu $(cat /sys/class/net/"$VXS_S"/mtu)"
ip netns exec "$VXS_NS" python3 "$TMP/sip.py" uas $VXS_A $VXS_B $RTP_A $RTP_B $N_RTP \
	"$TMP/uas.out" 2>"$TMP/uas.err" &
VXS_PIDS=$!
for _ in $(seq 50); do [ -s "$TMP/uas.out" ] && break; sleep 0.1; done
[ -s "$TMP/uas.out" ] || { cat "$TMP/uas.err" >&2; fail "callee did not listen"; }
cid=$(timeout 20 python3 "$TMP/sip.py" uac $VXS_A $VXS_B $RTP_A $RTP_B $N_RTP \
	"$TMP/invite.sent" 2>"$TMP/uac.err") || { cat "$TMP/uac.err" "$TMP/uas.err" >&2; fail "caller"; }
wait "$VXS_PIDS" || { cat "$TMP/uas.err" >&2; fail "callee"; }
VXS_PIDS=
cmp -s "$TMP/invite.sent" "$TMP/uas.out.invite" || fail "the callee got another INVITE"
size=$(stat -c %s "$TMP/invite.sent")
ok "call $cid: INVITE of $size bytes sent, answered, RTP, BYE"
sleep 0.5
expect_kmap 1 sip -gt 0
expect_kmap 1 delivery_failed = 0
sensor_stop
expect_count kernel.out.sip -gt 0
expect_count capture.ring_malformed = 0
expect_count decode.ip_truncated = 0

echo "-- the INVITE's super-packet in the call pcap, whole"
find "$TMP/spool" -name '*.pcap' >"$TMP/pcaps"
[ "$(wc -l <"$TMP/pcaps")" = 1 ] || fail "expected one call pcap, got $(wc -l <"$TMP/pcaps")"
frames $(cat "$TMP/pcaps") >"$TMP/frames" || fail "reading the call pcap"
read -r sp dp cap orig hex < <(awk '$5 ~ /^494e5649544520/' "$TMP/frames") # "INVITE "
[ -n "${cap:-}" ] || fail "no INVITE frame in the call pcap"
[ "$cap" = "$orig" ] || fail "INVITE frame cut: $cap of $orig bytes"
[ "$cap" -gt 2048 ] || fail "INVITE frame of $cap bytes: not larger than snaplen, so GSO was not exercised (${gso:-})"
[ "$cap" -gt 1514 ] || fail "INVITE frame of $cap bytes fits the MTU: no super-packet"
[ "$hex" = "$(od -An -v -tx1 "$TMP/invite.sent" | tr -d ' \n')" ] ||
	fail "the INVITE frame's payload differs from what was sent"
ok "INVITE in one frame of $cap bytes (snaplen 2048, MTU 1500), payload = the $size bytes sent"

echo "-- the CDR"
python3 - "$TMP/live.json" "$cid" "$VXS_A" "$RTP_A" "$N_RTP" <<-'PY' || fail "CDR"
	import json, sys
	f, cid, a, port, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
	rows = [json.loads(l) for l in open(f)]
	c = [r for r in rows if r["call_id"] == cid]
	if len(c) != 1:
	    sys.exit("   %d CDRs with Call-ID %s (of %d)" % (len(c), cid, len(rows)))
	c = c[0]
	want = {"last_sip_code": 200, "end": "bye", "whohanged": "caller",
	        "caller_ua": "vxs-uac", "sip_caller_ip": a}
	bad = {k: c.get(k) for k, v in want.items() if c.get(k) != v}
	if bad or not c.get("connect_us"):
	    sys.exit("   CDR fields %s (connect_us %s)" % (bad, c.get("connect_us")))
	# The RTP went to the endpoint that the INVITE's last lines announced.
	st = [s for s in c.get("streams", []) if s["dst_ip"] == a and s["dst_port"] == port]
	if not st or st[0]["packets"] != n:
	    sys.exit("   no stream of %d packets to %s:%d: %s" % (n, a, port, c.get("streams")))
	print("   ok: CDR %s: answered, BYE by the caller, %d RTP to %s:%d (the INVITE's SDP)"
	      % (cid, n, a, port))
	PY
