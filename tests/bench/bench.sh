#!/bin/bash
# make bench: offline throughput of voxsense versus tshark on one generated
# capture of 500 overlapping 60 s G.711 calls (about 3 M packets).
# Figures are printed side by side; nothing is asserted.
# Usage: tests/bench/bench.sh BUILD_DIR   (env: BENCH_CALLS, BENCH_SECONDS)
set -eu
bin=$(cd "${1:-build/rel}" && pwd)
calls=${BENCH_CALLS:-500}
secs=${BENCH_SECONDS:-60}
work=$(mktemp -d /tmp/vs-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
pcap="$work/bench.pcap"

echo "generating $calls calls x $secs s of G.711 (all overlapping) ..."
"$bin/vsgen" -n "$calls" --duration "$secs" --rate 50 --codec pcmu \
	--scenario answered --seed 7 -o "$pcap" --truth "$work/truth.jsonl"
frames=$(capinfos -c -M "$pcap" | awk '/Number of packets/ {print $NF}')
cat "$pcap" >/dev/null # page cache: measure CPU, not the disk
echo "capture: $frames frames, $(du -h "$pcap" | cut -f1)"

# measure NAME cmd...: runs under /usr/bin/time, records cpu seconds and RSS.
measure() {
	local name=$1
	shift
	/usr/bin/time -f '%U %S %e %M' -o "$work/$name.time" "$@" \
		>"$work/$name.out" 2>"$work/$name.err"
	read -r user sys wall rss <"$work/$name.time"
	cpu=$(echo "$user + $sys" | bc -l)
	printf '%-26s %10.0f %10.3f %9.2f %9.2f %8.1f\n' "$name" \
		"$(echo "$frames / $cpu" | bc -l)" \
		"$(echo "$cpu * 1000000 / $frames" | bc -l)" "$cpu" "$wall" \
		"$(echo "$rss / 1024" | bc -l)"
	echo "$cpu" >"$work/$name.cpu"
}

cat >"$work/nopcap.conf" <<CONF
savesip = no
savertp = no
CONF
cat >"$work/pcap.conf" <<CONF
savesip = yes
savertp = yes
CONF

printf '\n%-26s %10s %10s %9s %9s %8s\n' "run" "pkts/s/cpu" "us/pkt" \
	"cpu s" "wall s" "RSS MB"
measure "voxsense (no pcaps)" "$bin/voxsense" -c "$work/nopcap.conf" \
	--spooldir "$work/s1" -r "$pcap" --stats
measure "voxsense (call pcaps)" "$bin/voxsense" -c "$work/pcap.conf" \
	--spooldir "$work/s2" -r "$pcap" --stats
measure "tshark -z rtp,streams" tshark -n -r "$pcap" -q -z rtp,streams

ratio=$(echo "$(cat "$work/tshark -z rtp,streams.cpu") / $(cat "$work/voxsense (no pcaps).cpu")" | bc -l)
stat() { awk -v k="$1" '$1 == k {print $2}' "$work/voxsense (no pcaps).err"; }
peak=$(stat mem.calls_peak_bytes)
atpeak=$(stat mem.calls_at_peak)
echo
printf 'voxsense is %.1fx faster than tshark per packet (CPU time)\n' "$ratio"
printf 'call table at peak: %s bytes for %s active calls = %.0f bytes/call (sizeof call %s, stream %s)\n' \
	"$peak" "$atpeak" "$(echo "$peak / $atpeak" | bc -l)" \
	"$(stat mem.sizeof_call)" "$(stat mem.sizeof_stream)"
echo "CDRs: $(stat pipeline.cdrs); RTP matched: $(stat call.rtp_packets); pcap frames written: $(awk '$1 == "spool.frames_written" {print $2}' "$work/voxsense (call pcaps).err")"

# The kernel capture modes side by side on live traffic through a veth pair
# in private namespaces (root only; docs/bench.md).
"$(dirname "$0")/bench_capture.sh" "$bin"

# The central server: MariaDB store ingest alone, then end to end from
# sensors over TLS (root only: network namespaces; docs/bench.md).
echo
echo "== MariaDB store ingest (tests/bench/bench_mysql.sh) =="
"$(dirname "$0")/bench_mysql.sh" 6
echo
echo "== central server ingest from sensors (tests/bench/bench_dist.sh) =="
VS_BIN="$bin/voxsense" "$(dirname "$0")/bench_dist.sh" 20000 2
BENCH_SCENARIO=nortp VS_BIN="$bin/voxsense" "$(dirname "$0")/bench_dist.sh" 20000 2
echo
echo "== packet mirroring per sensor (tests/bench/bench_mirror.sh) =="
VS_BIN="$bin/voxsense" VSGEN="$bin/vsgen" "$(dirname "$0")/bench_mirror.sh" 1
