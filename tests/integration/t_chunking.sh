#!/bin/bash
# The same packets give the same CDRs whatever the input: one file, the file
# cut into many (-r repeated), or pcapng instead of pcap.
. "$(dirname "$0")/lib.sh"
command -v editcap >/dev/null || skip "editcap (wireshark-common) not installed"

cdrs() { # out inputs...
	local out=$1 args=()
	shift
	for f in "$@"; do args+=(-r "$f"); done
	rm -rf "$TMP/spool"
	"$VS_BIN" --spooldir "$TMP/spool" "${args[@]}" --cdr-json "$TMP/$out" \
		2>/dev/null || fail "voxsense on $*"
	sort "$TMP/$out" >"$TMP/$out.sorted"
}

for opts in "-n 12 -d 8 -s mix --rtcp --dtmf 5 --loss 3 --jitter 25" \
	    "-n 6 -d 6 -s mix --transport tcp --ipv6" "-n 6 -d 5 --frag --vlan 7"; do
	# shellcheck disable=SC2086
	"$VSGEN" $opts -o "$TMP/c.pcap" --truth "$TMP/c.truth" || fail vsgen
	cdrs whole.json "$TMP/c.pcap"
	mkdir -p "$TMP/parts"
	rm -f "$TMP"/parts/*
	editcap -c 97 "$TMP/c.pcap" "$TMP/parts/p.pcap" >/dev/null || fail editcap
	n=$(ls "$TMP/parts" | wc -l)
	cdrs parts.json $(ls "$TMP"/parts/* | sort)
	cmp -s "$TMP/whole.json.sorted" "$TMP/parts.json.sorted" ||
		{ diff "$TMP/whole.json.sorted" "$TMP/parts.json.sorted" | head -5; fail "$n chunks differ ($opts)"; }
	editcap -F pcapng "$TMP/c.pcap" "$TMP/c.pcapng" || fail editcap
	cdrs ng.json "$TMP/c.pcapng"
	cmp -s "$TMP/whole.json.sorted" "$TMP/ng.json.sorted" || fail "pcapng differs ($opts)"
	ok "$(wc -l <"$TMP/whole.json") CDRs identical from 1 file, $n chunks and pcapng ($opts)"
done
