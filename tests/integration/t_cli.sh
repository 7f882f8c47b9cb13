#!/bin/bash
# Command line and configuration errors: help, version, --check-config, and
# start-up failures that name file, line, key, value and what is expected.
. "$(dirname "$0")/lib.sh"

"$VS_BIN" --help >"$TMP/help" || fail "--help exit $?"
grep -q -- "--check-config" "$TMP/help" || fail "--help lacks --check-config"
"$VS_BIN" --version | grep -q "^voxsense [0-9]" || fail "--version"

"$VS_BIN" --check-config -c "$top/deploy/voxsense.conf" >"$TMP/eff" ||
	fail "example config refused"
grep -q "^sipport = 5060" "$TMP/eff" || fail "effective config lacks sipport"
ok "help, version, check-config of the example"

cat >"$TMP/bad.conf" <<CONF
[general]
id_sensor = 3
sipport = 5060-abc
CONF
"$VS_BIN" --check-config -c "$TMP/bad.conf" 2>"$TMP/err" && fail "bad sipport accepted"
grep -q "$TMP/bad.conf:3: sipport = 5060-abc: expected" "$TMP/err" ||
	{ cat "$TMP/err"; fail "error does not name file:line: key = value: expected"; }
ok "bad value: $(cat "$TMP/err")"

printf 'no_such_key = 1\nsavesip = maybe\n' >"$TMP/unk.conf"
"$VS_BIN" --check-config -c "$TMP/unk.conf" 2>"$TMP/err" && fail "savesip=maybe accepted"
grep -q "unk.conf:1: unknown key 'no_such_key'" "$TMP/err" || { cat "$TMP/err"; fail "no unknown-key warning"; }
grep -q "unk.conf:2: savesip = maybe" "$TMP/err" || { cat "$TMP/err"; fail "savesip error"; }
ok "unknown key warned, bad yes/no refused"

printf 'filter = udp and and\n' >"$TMP/f.conf"
"$VS_BIN" --check-config -c "$TMP/f.conf" 2>"$TMP/err" && fail "bad filter accepted"
grep -q "f.conf:1: filter = udp and and: expected" "$TMP/err" || { cat "$TMP/err"; fail "filter error does not name file:line"; }
ok "bad filter refused: $(cat "$TMP/err")"

"$VS_BIN" -r "$TMP/none.pcap" --spooldir "$TMP/s" 2>"$TMP/err"
rc=$?
[ $rc -eq 2 ] || fail "missing input: exit $rc, want 2"
grep -q "none.pcap" "$TMP/err" || fail "missing input not named"
head -c 3000 /dev/urandom >"$TMP/junk.pcap"
"$VS_BIN" -r "$TMP/junk.pcap" --spooldir "$TMP/s" 2>"$TMP/err"
[ $? -eq 2 ] || fail "junk pcap: want exit 2"
"$VS_BIN" --bogus 2>/dev/null
[ $? -eq 1 ] || fail "unknown option: want exit 1"
ok "runtime errors: $(head -1 "$TMP/err")"
