#!/bin/bash
# CDRs land in the SQLite store under spooldir; cdr_check_exists_callid keeps
# one CDR per Call-ID across runs; JSON lines carry the same calls.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 not installed"
"$VSGEN" -n 8 -d 5 -s mix -o "$TMP/c.pcap" --truth "$TMP/c.truth" || fail vsgen
db="$TMP/s/voxsense.db"

"$VS_BIN" --spooldir "$TMP/s" -r "$TMP/c.pcap" --cdr-json "$TMP/c.json" 2>/dev/null || fail "run 1"
n=$(sqlite3 "$db" "SELECT count(*) FROM cdr")
[ "$n" = 8 ] || fail "want 8 CDRs in SQLite, have $n"
[ "$(wc -l <"$TMP/c.json")" = 8 ] || fail "want 8 JSON lines"
got=$(sqlite3 "$db" "SELECT count(*) FROM cdr WHERE lastSIPresponseNum = 486")
[ "$got" -ge 1 ] || fail "busy call not stored with 486"
ok "8 CDRs in $db and JSON"

"$VS_BIN" --spooldir "$TMP/s" -r "$TMP/c.pcap" 2>/dev/null || fail "run 2"
n=$(sqlite3 "$db" "SELECT count(*) FROM cdr")
[ "$n" = 16 ] || fail "without cdr_check_exists_callid want 16, have $n"
printf 'cdr_check_exists_callid = yes\n' >"$TMP/x.conf"
"$VS_BIN" -c "$TMP/x.conf" --spooldir "$TMP/s" -r "$TMP/c.pcap" --stats 2>"$TMP/log" || fail "run 3"
n=$(sqlite3 "$db" "SELECT count(*) FROM cdr")
[ "$n" = 16 ] || fail "cdr_check_exists_callid: want 16 still, have $n"
grep -q "^pipeline.cdr_skipped 8" "$TMP/log" || fail "skips not counted"
ok "cdr_check_exists_callid skips known Call-IDs (8 skipped)"
v=$(sqlite3 "$db" "SELECT max(version) FROM vs_schema")
[ "$v" = 2 ] || fail "schema version $v, want 2"
# Every stream of every call, once per stored CDR (3 runs stored 16 CDRs:
# twice the 8 calls).
want=$(python3 -c 'import json,sys; print(2 * sum(len(json.loads(l)["streams"]) for l in open(sys.argv[1])))' "$TMP/c.json")
n=$(sqlite3 "$db" "SELECT count(*) FROM cdr_rtp")
[ "$n" = "$want" ] || fail "cdr_rtp has $n rows, want $want"
ok "schema version $v; $n stream rows in cdr_rtp"
