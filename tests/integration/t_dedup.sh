#!/bin/bash
# deduplicate = yes: a capture in which every UDP datagram was captured twice
# (as interface = any sees a packet leave one interface and enter another)
# gives the CDRs of the single capture; without it the copies show as RTP
# duplicates and SIP retransmissions.
. "$(dirname "$0")/lib.sh"
command -v mergecap >/dev/null || skip "mergecap (wireshark-common) not installed"
"$VSGEN" -n 6 -d 5 -s mix --rtcp --dtmf 3 --loss 2 -o "$TMP/one.pcap" --truth "$TMP/t.json" || fail vsgen
mergecap -w "$TMP/two.pcap" "$TMP/one.pcap" "$TMP/one.pcap" || fail mergecap

run() { # out pcap conf-text
	printf '%b' "$3" >"$TMP/$1.conf"
	"$VS_BIN" -c "$TMP/$1.conf" --spooldir "$TMP/s-$1" -r "$2" \
		--cdr-json "$TMP/$1.json" --stats 2>"$TMP/$1.log" || fail "voxsense $1"
	# pcap_path differs by spooldir only; the rest must be equal
	python3 -c 'import json,sys
for l in open(sys.argv[1]):
    c = json.loads(l); c.pop("pcap_path"); print(json.dumps(c, sort_keys=True))' "$TMP/$1.json" | sort >"$TMP/$1.norm"
}
run single "$TMP/one.pcap" 'deduplicate = no\n'
run dedup "$TMP/two.pcap" 'deduplicate = yes\n'
run plain "$TMP/two.pcap" 'deduplicate = no\n'
cmp -s "$TMP/single.norm" "$TMP/dedup.norm" || { diff "$TMP/single.norm" "$TMP/dedup.norm" | head -5; fail "deduplicated CDRs differ from the single capture"; }
n=$(awk '$1 == "pipeline.duplicates" {print $2}' "$TMP/dedup.log")
want=$(capinfos -c -M "$TMP/one.pcap" | awk '/Number of packets/ {print $NF}')
[ "$n" = "$want" ] || fail "pipeline.duplicates $n, want $want (every frame once)"
ok "deduplicate = yes: CDRs equal the single capture's, $n copies dropped"
cmp -s "$TMP/single.norm" "$TMP/plain.norm" && fail "without deduplicate the copies should show"
grep -q '"duplicates": [1-9]' "$TMP/plain.norm" || fail "copies not counted as RTP duplicates"
ok "deduplicate = no: the copies show as RTP duplicates"
