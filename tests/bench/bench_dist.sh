#!/bin/bash
# CDR ingest at the central server, end to end: local-processing sensors
# (separate processes, another network namespace, real TLS) send CDRs to a
# central server that commits them into a private MariaDB and acknowledges.
#
# Each sensor first fills its durable CDR spool while no server listens
# (the capture is analysed offline with -r), then the server starts and
# every sensor replays its spool at once: the rate measured is the server's
# (channel, decode, MariaDB insert, commit, acknowledgement), not the
# sensors' analysis.
#
# Usage: tests/bench/bench_dist.sh [CALLS_PER_SENSOR] [SENSORS]
# BENCH_SCENARIO=nortp: calls without RTP, so CDRs without cdr_rtp rows
# (default answered: 2 rows each). BENCH_SRV_CONF: extra lines for the
# server's config. BENCH_PERF=FILE, BENCH_PERF_DB=FILE: perf profiles of
# the server, of mariadbd.
# Prints CDRs/s between 10 % and 90 % of the total, and the server's CPU.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
CALLS=${1:-20000}
NSEN=${2:-2}
export VS_BIN=${VS_BIN:-$HERE/../../build/rel/voxsense}
export VSGEN=${VSGEN:-$HERE/../../build/rel/vsgen}
# A central database server is sized to hold its working set in memory;
# with the tests' 128M buffer pool this would measure page evictions once
# the cdr table (258 columns a row) outgrows it.
export VS_MYSQL_BUFFER_POOL=${VS_MYSQL_BUFFER_POOL:-2G}
# dist_lib.sh wants to be sourced from a test's directory.
. "$HERE/../integration/dist_lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"
dist_setup

now() { date +%s.%N; }

# Short calls: the CDR, not the media, is what is measured.
"$VSGEN" -n "$CALLS" -d 0.08 --rate 2000 -s "${BENCH_SCENARIO:-answered}" --seed 3 \
	-o "$TMP/calls.pcap" >/dev/null || fail vsgen
python3 - "$TMP/empty.pcap" <<'PY' || fail "empty pcap"
import struct, sys
open(sys.argv[1], "wb").write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
PY

srv_conf srv "$SRV_IP" "${BENCH_SRV_CONF:-}"
for i in $(seq "$NSEN"); do
	sen_conf "sen$i" "$i"
	# Fill the spool: no server yet, so the sensor gives up draining
	# after its -r grace period; the CDRs stay durable on disk.
	sen_start "sen$i" "$TMP/calls.pcap"
done
for i in $(seq "$NSEN"); do
	sen_wait "sen$i"
done
total=$((CALLS * NSEN))

srv_start srv
spid=${DIST_PID[srv]}
[ -n "${BENCH_PERF:-}" ] && { perf record -g -o "$BENCH_PERF" -p "$spid" >/dev/null 2>&1 & PERF_PID=$!; }
t0=$(now)
read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$spid/stat")
mpid=$(mariadb_pid)
[ -n "${BENCH_PERF_DB:-}" ] && { perf record -g -o "$BENCH_PERF_DB" -p "$mpid" >/dev/null 2>&1 & PERF_DB_PID=$!; }
read -r mu0 ms0 < <(awk '{print $14, $15}' "/proc/$mpid/stat")
read -r busy0 idle0 < <(awk '/^cpu /{print $2+$3+$4+$7+$8, $5+$6}' /proc/stat)
for i in $(seq "$NSEN"); do
	sen_start "sen$i" "$TMP/empty.pcap"
done
# Progress from the server's control socket (rows its writers committed),
# polled every 50 ms by one process: a COUNT(*) of the growing table five
# times a second costs mariadbd a share of a core on this 2-core VM, and
# the figures measured it too.
read -r t10 n10 t90 n90 < <(python3 - "$TMP/srv/voxsense.sock" "$total" <<'PY'
import json, socket, sys, time
path, total = sys.argv[1], int(sys.argv[2])
t10 = t90 = None
t0 = time.time()
while True:
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        s.sendall(b"status\n")
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        s.close()
        n = int(json.loads(data)["server"]["cdrs_committed"])
    except (OSError, ValueError, KeyError):
        n = 0
    t = time.time()
    if t10 is None and n >= total // 10:
        t10, n10 = t, n
    if t90 is None and n >= total * 9 // 10:
        t90, n90 = t, n
    if n >= total or t - t0 > 300:
        break
    time.sleep(0.05)
if t90 is None:
    print("0 0 0 0")
else:
    print(f"{t10:.6f} {n10} {t90:.6f} {n90}")
PY
)
[ "$t90" = 0 ] && fail "only $(db "SELECT count(*) FROM cdr") of $total CDRs after 300 s"
t1=$(now)
read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$spid/stat")
read -r mu1 ms1 < <(awk '{print $14, $15}' "/proc/$mpid/stat")
[ -n "${PERF_DB_PID:-}" ] && { kill -INT "$PERF_DB_PID"; wait "$PERF_DB_PID"; }
read -r busy1 idle1 < <(awk '/^cpu /{print $2+$3+$4+$7+$8, $5+$6}' /proc/stat)
for i in $(seq "$NSEN"); do
	sen_wait "sen$i" || true
done
hz=$(getconf CLK_TCK)
python3 - "$total" "$t0" "$t1" "$t10" "$n10" "$t90" "$n90" \
	"$((u1 - u0))" "$((s1 - s0))" "$hz" "$NSEN" "${BENCH_SCENARIO:-answered}" \
	"$((mu1 + ms1 - mu0 - ms0))" "$((busy1 - busy0))" "$((idle1 - idle0))" <<'PY'
import sys
total, t0, t1, t10, n10, t90, n90 = (float(x) for x in sys.argv[1:8])
u, s, hz, nsen = (int(x) for x in sys.argv[8:12])
scen = sys.argv[12]
mcpu = int(sys.argv[13]) / hz
busy, idle = int(sys.argv[14]), int(sys.argv[15])
cpu = (u + s) / hz
print(f"server ingest, {nsen} sensors, {int(total)} CDRs (vsgen -s {scen}, 0.08 s calls)")
print(f"  all stored in {t1 - t0:.2f} s: {total / (t1 - t0):.0f} CDRs/s overall")
print(f"  10 %..90 %: {(n90 - n10) / (t90 - t10):.0f} CDRs/s")
print(f"  server CPU {cpu:.2f} s = {cpu / total * 1e6:.1f} us per CDR (user {u / hz:.2f} s, sys {s / hz:.2f} s)")
print(f"  mariadbd CPU {mcpu:.2f} s = {mcpu / total * 1e6:.1f} us per CDR (all its threads)")
print(f"  machine: {100 * busy / max(busy + idle, 1):.0f} % busy (all cores, I/O wait counted idle)")
PY
dups=$(db "SELECT count(*) - count(DISTINCT id_sensor, call_id) FROM cdr")
[ "$dups" = 0 ] || fail "$dups duplicate CDRs"
echo "  every CDR stored exactly once"
echo "  server peak RSS $(awk '/^VmHWM/ {printf "%.0f MB", $2 / 1024}' "/proc/$spid/status")"
srv_stop srv
grep -o "[0-9]* commits; database: .*" "$TMP/srv.log" | tail -1 | sed 's/^/  server: /'
