#!/bin/bash
# Per-call pcaps: dated folders, readable by tshark, holding exactly the
# call's SIP and RTP per savesip/savertp, original timestamps; unsafe
# Call-ID characters never reach the file system.
. "$(dirname "$0")/lib.sh"
command -v tshark >/dev/null || skip "tshark not installed"
"$VSGEN" -n 3 -d 4 -s answered --rtcp -o "$TMP/c.pcap" --truth "$TMP/c.truth" || fail vsgen

run() { # name savesip savertp
	printf 'savesip = %s\nsavertp = %s\n' "$2" "$3" >"$TMP/$1.conf"
	"$VS_BIN" -c "$TMP/$1.conf" --spooldir "$TMP/$1" -r "$TMP/c.pcap" \
		--cdr-json "$TMP/$1.json" 2>/dev/null || fail "$1: voxsense"
}
count() { tshark -n -r "$1" 2>/dev/null | wc -l; }

run all yes yes
files=$(cd "$TMP/all" && find . -name '*.pcap' | sort)
[ "$(echo "$files" | wc -l)" = 3 ] || fail "want 3 call pcaps: $files"
echo "$files" | grep -Eq '^\./2023-11-14/22/13/[^/]+\.pcap$' || fail "not in YYYY-MM-DD/HH/MM: $files"
# Every frame of the capture belongs to one of the calls: together they are it.
total=0
for f in $files; do total=$((total + $(count "$TMP/all/$f"))); done
[ "$total" = "$(count "$TMP/c.pcap")" ] || fail "call pcaps hold $total frames, capture $(count "$TMP/c.pcap")"
# Same frames, same timestamps: merging the call pcaps gives the capture back.
mergecap -w "$TMP/merged.pcap" "$TMP"/all/2023*/*/*/*.pcap || fail mergecap
# (sorted: mergecap orders frames of equal timestamps by file)
fields() { tshark -n -r "$1" -T fields -e frame.time_epoch -e frame.len -e ip.src -e udp.srcport 2>/dev/null | sort; }
cmp <(fields "$TMP/merged.pcap") <(fields "$TMP/c.pcap") ||
	fail "merged call pcaps differ from the capture"
python3 - "$TMP/all.json" "$TMP/all" <<'PY' || fail "pcap_path in the CDRs"
import json, os, sys
for l in open(sys.argv[1]):
    c = json.loads(l)
    assert os.path.isfile(os.path.join(sys.argv[2], c["pcap_path"])), c["pcap_path"]
PY
ok "3 call pcaps, all frames and timestamps, named in the CDRs"

run sip yes no
sip=0
for f in $(cd "$TMP/sip" && find . -name '*.pcap'); do
	sip=$((sip + $(count "$TMP/sip/$f")))
	[ "$(tshark -n -r "$TMP/sip/$f" -Y rtp 2>/dev/null | wc -l)" = 0 ] || fail "RTP saved with savertp=no"
done
want=$(tshark -n -r "$TMP/c.pcap" -Y sip 2>/dev/null | wc -l)
[ "$sip" = "$want" ] || fail "savertp=no: $sip frames, want the $want SIP ones"
ok "savertp=no keeps the $want SIP frames only"

run hdr yes header
f=$(cd "$TMP/hdr" && find . -name '*.pcap' | head -1)
maxcap=$(tshark -n -r "$TMP/hdr/$f" -Y "rtp" -T fields -e frame.cap_len 2>/dev/null | sort -n | tail -1)
[ "$maxcap" = 54 ] || fail "savertp=header: RTP frames of $maxcap bytes, want 14+20+8+12=54"
ok "savertp=header cuts RTP to 54 bytes"

run none no no
[ -z "$(find "$TMP/none" -name '*.pcap')" ] || fail "pcaps written with savesip=savertp=no"
ok "no pcaps when both are off"
