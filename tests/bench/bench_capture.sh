#!/bin/bash
# Capture bench (run by tests/bench/bench.sh, so by make bench): the kernel
# capture modes side by side on the same offered load through a veth pair
# in private namespaces. docs/bench.md says how to read the figures.
#
#   1. Mixed load: CALLS G.711 calls (50 pps per direction) plus NOISE times
#      as many unrelated TCP/UDP frames, with no sensor (baseline), with a
#      do-nothing XDP program (what veth itself charges for any XDP
#      program), then the sensor in capture_mode = copy, afxdp and pcap.
#   2. Unrelated frames only, the same five: the cost per frame.
#   3. VoIP only at RATES packets/s (RATE / 100 calls): capture loss.
#
# 1 and 2 run ROUNDS times, the five modes interleaved, and the report
# takes the median of each mode's difference to the baseline of its round:
# other load on the host shifts whole rounds, not one mode.
#
# Every run sets up all calls (SIP) first, then sends the media (and the
# noise) at a fixed rate, then the BYEs, so loss in the media phase is
# capture loss, not a race with the SDP. CPU is measured over the media
# phase only. Figures are printed, nothing is asserted.
#
# Usage: tests/bench/bench_capture.sh BUILD_DIR
# env: BENCH_CALLS (200), BENCH_NOISE (10), BENCH_MEDIA_S (4),
#      BENCH_ROUNDS (5), BENCH_NOISE_PPS (200000),
#      BENCH_RATES ("50000 100000 200000"), BENCH_RATE_S (3),
#      BENCH_PERF=0 (no perf profile of CPU 0: no split of the kernel time),
#      BENCH_CONF (a line added to the sensor's config, e.g. ringbuffer = 16),
#      BENCH_MODES (of runs 1 and 2; default "none xdppass copy afxdp pcap"),
#      BENCH_PARTS ("mix noise rate": which of the three runs),
#      BENCH_KEEP=1 (keep the work directory: the sensors' logs and CDRs),
#      BENCH_DAEMON_PERF=DIR (keep a perf profile of the sensor process per
#      media phase as DIR/NAME.perf, for `perf report -i`).
set -u
if [ -z "${VSB_INNER:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "capture bench: skipped (needs root)"; exit 0; }
	command -v unshare >/dev/null || { echo "capture bench: skipped (no unshare)"; exit 0; }
	VSB_INNER=1 exec unshare -n -m "$0" "$@"
fi
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "${1:-build/rel}" && pwd)
CALLS=${BENCH_CALLS:-200}
NOISE=${BENCH_NOISE:-10}
MEDIA_S=${BENCH_MEDIA_S:-4}
ROUNDS=${BENCH_ROUNDS:-5}
NOISE_PPS=${BENCH_NOISE_PPS:-200000}
RATES=${BENCH_RATES:-50000 100000 200000}
RATE_S=${BENCH_RATE_S:-3}
NS=vsb-$$
S=vsb$$s # the sensor's end, in this namespace
P=vsb$$p # the sender's end, in $NS
SENSOR_PID=
STATS_WAS=$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null || echo 0)
work=$(mktemp -d /tmp/vs-benchcap.XXXXXX)
STATS_DELAY=$(( MEDIA_S > 3 ? MEDIA_S - 2 : 1 ))
MODES=${BENCH_MODES:-none xdppass copy afxdp pcap}
PARTS=${BENCH_PARTS:-mix noise rate}
. "$here/bench_capture_lib.sh"
trap 'teardown; exit 130' INT TERM
trap teardown EXIT

skip() { echo "capture bench: skipped ($*)"; exit 0; }
for t in ip bpftool clang gcc python3 taskset; do
	command -v "$t" >/dev/null || skip "$t not installed"
done
[ -x "$bin/voxsense" ] && [ -x "$bin/vsgen" ] || skip "$bin/voxsense or vsgen not built"
net_setup || skip "cannot build the veth pair"
build_tools || skip "cannot build vsblast or the reference XDP program"
HAVE_PERF=
[ "${BENCH_PERF:-1}" != 0 ] && perf record -q -o /dev/null true 2>/dev/null &&
	HAVE_PERF=1

echo
echo "== capture bench: veth, sender on CPU 0, sensor on CPU 1 (docs/bench.md)"
gen_calls "$work/mix.pcap" "$CALLS" "$MEDIA_S"
mix_pps=$((CALLS * 100 * (NOISE + 1)))
noise_n=$((CALLS * 100 * MEDIA_S * NOISE))

want() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
want mix && echo "-- mixed: $CALLS calls ($((CALLS * 100)) VoIP pps) + ${NOISE}x unrelated = $mix_pps pps for ${MEDIA_S} s, $ROUNDS rounds"
want mix && for i in $(seq "$ROUNDS"); do
	for m in $MODES; do
		# bpf_stats in the last round only (it costs a clock read a frame).
		RUN_STATS=$([ "$i" = "$ROUNDS" ] && echo 1) \
			run "mix_r${i}_$m" "$m" "$work/mix.pcap" "$mix_pps" "$NOISE" 0
	done
done

want noise && echo "-- unrelated only: $noise_n frames at $NOISE_PPS pps, $ROUNDS rounds"
want noise && for i in $(seq "$ROUNDS"); do
	for m in $MODES; do
		RUN_STATS=$([ "$i" = "$ROUNDS" ] && echo 1) \
			RUN_TEST=$([ "$i" = 1 ] && echo 1) \
			run "noise_r${i}_$m" "$m" "$work/mix.pcap" \
			"$(( NOISE_PPS * (NOISE + 1) / NOISE ))" "$NOISE" 1
	done
done

want rate && echo "-- VoIP only: $RATES pps for ${RATE_S} s each"
want rate && for r in $RATES; do
	gen_calls "$work/rate$r.pcap" $((r / 100)) "$RATE_S"
	for m in copy afxdp pcap; do
		run "rate${r}_$m" "$m" "$work/rate$r.pcap" "$r" 0 0
	done
done

python3 "$here/capture_report.py" "$work" "$CALLS" "$NOISE"
