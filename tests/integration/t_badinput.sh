#!/bin/bash
# Malformed input never crashes: a generated capture with random bytes
# flipped in every frame (headers included) runs to the end under ASan and
# UBSan, and what broke is counted.
. "$(dirname "$0")/lib.sh"
"$VSGEN" -n 10 -d 5 -s mix --transport tcp --rtcp --dtmf 1 -o "$TMP/t.pcap" --truth /dev/null || fail vsgen
"$VSGEN" -n 10 -d 5 -s mix --frag --ipv6 --vlan 3 -o "$TMP/u.pcap" --truth /dev/null || fail vsgen
for seed in 1 2 3; do
	for cap in t u; do
		python3 - "$TMP/$cap.pcap" "$TMP/bad.pcap" "$seed" <<'PY'
import random, struct, sys
src, dst, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
rnd = random.Random(seed)
data = open(src, "rb").read()
out = bytearray(data[:24])
off = 24
while off + 16 <= len(data):
    ts, us, cap, orig = struct.unpack("<IIII", data[off:off + 16])
    frame = bytearray(data[off + 16:off + 16 + cap])
    for _ in range(rnd.randint(1, 4)):
        if frame:
            frame[rnd.randrange(len(frame))] = rnd.randrange(256)
    if rnd.random() < 0.1:  # truncate some frames
        frame = frame[:rnd.randrange(len(frame) + 1)]
    out += struct.pack("<IIII", ts, us, len(frame), orig) + frame
    off += 16 + cap
open(dst, "wb").write(out)
PY
		"$VS_BIN" --spooldir "$TMP/s" -r "$TMP/bad.pcap" --stats 2>"$TMP/log" ||
			{ tail -20 "$TMP/log"; fail "voxsense failed on mangled $cap seed $seed"; }
		bad=$(awk '$1 ~ /(bad|truncated|not_sip|unsupported)/ {s += $2} END {print s + 0}' "$TMP/log")
		[ "$bad" -gt 0 ] || fail "nothing counted as malformed ($cap seed $seed)"
		ok "mangled $cap seed $seed: $bad malformed items counted, no crash"
	done
done
