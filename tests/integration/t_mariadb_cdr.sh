#!/bin/bash
# All-in-one with mysqlhost set: the daemon's CDRs land in a private MariaDB
# over TCP (127.0.0.1) and equal, column by column, what the SQLite store
# holds for the same capture; cdr_check_exists_callid holds across runs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mariadb.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 not installed"
mariadb_start
"$VSGEN" -n 12 -d 5 -s mix --rtcp --dtmf 7 --loss 2 -o "$TMP/c.pcap" --truth "$TMP/c.truth" || fail vsgen

cat >"$TMP/my.conf" <<CONF
mysqlhost = $VS_MYSQL_HOST
mysqlport = $VS_MYSQL_PORT
mysqldb = $VS_MYSQL_DB
mysqlusername = $VS_MYSQL_USER
mysqlpassword = $VS_MYSQL_PASSWORD
cdr_check_exists_callid = yes
CONF
"$VS_BIN" --check-config -c "$TMP/my.conf" >"$TMP/eff" || fail "config refused"
grep -q "$VS_MYSQL_PASSWORD" "$TMP/eff" && fail "--check-config printed the password"
"$VS_BIN" -c "$TMP/my.conf" --spooldir "$TMP/s1" -r "$TMP/c.pcap" 2>"$TMP/log" ||
	{ cat "$TMP/log"; fail "voxsense with MariaDB"; }
n=$(mariadb_sql "SELECT count(*) FROM cdr")
[ "$n" = 12 ] || fail "want 12 CDRs in MariaDB, have $n"
ok "12 CDRs in MariaDB over 127.0.0.1:$VS_MYSQL_PORT"

"$VS_BIN" --spooldir "$TMP/s2" -r "$TMP/c.pcap" 2>/dev/null || fail "voxsense with SQLite"
# Same rows in both stores: compare the common columns as text.
cols=$(sqlite3 "$TMP/s2/voxsense.db" "SELECT group_concat(name, ',') FROM pragma_table_info('cdr')")
sqlite3 -separator '|' "$TMP/s2/voxsense.db" \
	"SELECT $cols FROM cdr ORDER BY call_id" >"$TMP/lite.txt"
python3 - "$cols" <<'PY' >"$TMP/query.sql"
import sys
cols = sys.argv[1].split(",")
# NULL -> '' as sqlite3 prints it
exprs = ["IFNULL(%s,'')" % c for c in cols]
print("SELECT CONCAT_WS('|', %s) FROM cdr ORDER BY call_id;" % ", ".join(exprs))
PY
mariadb --no-defaults --socket="$VS_MYSQL_SOCKET" -uroot -N -B "$VS_MYSQL_DB" <"$TMP/query.sql" >"$TMP/maria.txt" ||
	fail "query MariaDB"
python3 - "$TMP/lite.txt" "$TMP/maria.txt" "$cols" <<'PY' || fail "MariaDB and SQLite rows differ"
import sys
cols = sys.argv[3].split(",")
a = [l.rstrip("\n").split("|") for l in open(sys.argv[1])]
b = [l.rstrip("\n").split("|") for l in open(sys.argv[2])]
assert len(a) == len(b) == 12, (len(a), len(b))
bad = 0
for ra, rb in zip(a, b):
    for c, x, y in zip(cols, ra, rb):
        if x == y:
            continue
        try:  # numbers: same value whatever the text form
            if abs(float(x) - float(y)) <= 1e-9 * max(1.0, abs(float(x))):
                continue
        except ValueError:
            pass
        if c in ("calldate", "callend") and x.replace("T", " ").rstrip("Z") == y:
            continue
        bad += 1
        print("  %s: sqlite %r mariadb %r" % (c, x, y))
sys.exit(1 if bad else 0)
PY
ok "MariaDB rows equal SQLite rows over $(echo "$cols" | tr ',' '\n' | wc -l) columns"

"$VS_BIN" -c "$TMP/my.conf" --spooldir "$TMP/s3" -r "$TMP/c.pcap" --stats 2>"$TMP/log" || fail "second run"
grep -q "^pipeline.cdr_skipped 12" "$TMP/log" || fail "second run did not skip the 12 known Call-IDs"
[ "$(mariadb_sql "SELECT count(*) FROM cdr")" = 12 ] || fail "duplicates stored"
ok "cdr_check_exists_callid: second run skipped all 12"
mariadb_stop
