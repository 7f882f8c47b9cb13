#!/bin/bash
# voxsense's CDRs equal vsgen's ground truth, exactly for SIP fields, packets,
# loss, duplicates, reordering, loss bursts and DTMF, and within 5 % for max
# jitter, over every transport and encapsulation the generator writes.
. "$(dirname "$0")/lib.sh"

check() { # name vsgen-options...
	local name=$1
	shift
	"$VSGEN" -o "$TMP/$name.pcap" --truth "$TMP/$name.truth" "$@" ||
		fail "$name: vsgen failed"
	"$VS_BIN" --spooldir "$TMP/spool-$name" -r "$TMP/$name.pcap" \
		--cdr-json "$TMP/$name.cdr" 2>"$TMP/$name.log" ||
		{ cat "$TMP/$name.log"; fail "$name: voxsense exit $?"; }
	echo "-- $name: $*"
	python3 "$top/tests/integration/truth.py" "$TMP/$name.truth" \
		"$TMP/$name.cdr" || fail "$name: CDRs differ from the truth"
}

check mix -n 14 -d 12 -s mix --rtcp --retrans --dtmf 19 --loss 2 --seed 3
check bursts -n 6 -d 20 --loss 5 --loss-burst 4 --seed 4
check dup-jitter -n 6 -d 15 --dup 3 --jitter 30 --seed 5
check reorder -n 4 -d 10 --reorder 5 --loss 1 --seed 6
check tcp -n 8 -d 8 -s mix --transport tcp --seed 7
check ipv6-vlan -n 6 -d 8 -s mix --ipv6 --vlan 42 --seed 8
check qinq-frag -n 6 -d 6 --qinq --vlan 10 --frag --seed 9
check ipv6-frag -n 4 -d 6 --ipv6 --frag --dtmf '123#*' --seed 10
check tcp-ipv6-reinvite -n 4 -d 10 -s reinvite --transport tcp --ipv6 --seed 11
check g729 -n 3 -d 6 --codec g729 --seed 12
check pcma -n 3 -d 6 --codec pcma --seed 13
check g722 -n 3 -d 6 --codec g722 --seed 14
check overlap -n 60 -d 30 --rate 10 --loss 1 --seed 15
ok "all scenarios match the truth"
