#!/bin/sh
# `make demo`: the all-in-one sensor on the embedded default (SQLite store and
# spool under ./var) analysing a capture the repo generates itself: 20
# overlapping calls of every kind, so CDRs appear without live traffic.
set -eu
bin=${1:-build/rel}
top=$(cd "$(dirname "$0")/.." && pwd)
var="$top/var"
mkdir -p "$var"
"$bin/vsgen" -n 20 --duration 20 --rate 2 --scenario mix --rtcp --dtmf 123 \
	-o "$var/demo.pcap" --truth "$var/demo.truth.jsonl"
echo "== voxsense -r var/demo.pcap (CDRs as JSON lines below, also in var/spool/voxsense.db)"
"$bin/voxsense" -c "$top/deploy/voxsense.conf" --spooldir "$var/spool" \
	-r "$var/demo.pcap" --cdr-json -
echo "== CDRs in var/spool/voxsense.db:"
sqlite3 -header -column "$var/spool/voxsense.db" \
	"SELECT rowid AS id, calldate, caller, called, round(duration, 1) AS dur,
	        lastSIPresponseNum AS code, whohanged, a_received AS a_pkts,
	        a_lost, round(a_mos, 2) AS a_mos, b_received AS b_pkts, b_lost,
	        round(b_mos, 2) AS b_mos
	   FROM cdr ORDER BY rowid DESC LIMIT 20;" 2>/dev/null ||
	echo "(sqlite3 query failed; see the JSON above)"
echo "== call pcaps under var/spool:"
find "$var/spool" -name '*.pcap' | head -5
