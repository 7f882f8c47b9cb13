# Sourced by tests/bench/bench_capture.sh: the network, the sensor, one
# measured run. Uses $work $bin $here $NS $S $P $SENSOR_PID $STATS_WAS
# $STATS_DELAY.

teardown() {
	[ -n "${VSB_TORN:-}" ] && return
	VSB_TORN=1
	sensor_kill
	[ -n "${PERF_PID:-}" ] && kill -INT "$PERF_PID" 2>/dev/null
	echo "$STATS_WAS" >/proc/sys/kernel/bpf_stats_enabled 2>/dev/null
	ip link set dev "$S" xdpdrv off 2>/dev/null
	ip link del "$S" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf /sys/fs/bpf/voxsense 2>/dev/null
	if [ -n "${BENCH_KEEP:-}" ]; then
		echo "capture bench: logs and CDRs kept in $work"
	else
		rm -rf "$work"
	fi
}

# This process has its own network and mount namespaces (see the top of
# bench_capture.sh): a private bpffs and sysfs, a veth pair to $NS.
net_setup() {
	mount --make-rprivate / 2>/dev/null
	mount -t sysfs sysfs /sys 2>/dev/null || return 1
	mount -t bpf bpf /sys/fs/bpf 2>/dev/null || return 1
	ip link set lo up
	ip netns add "$NS" || return 1
	ip link add "$S" type veth peer name "$P" || return 1
	ip link set "$P" netns "$NS" &&
		ip link set "$S" up &&
		ip -n "$NS" link set "$P" up
}

# vsblast, the reference XDP program, and frames for BPF_PROG_TEST_RUN.
build_tools() {
	gcc -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror \
		"$here/vsblast.c" -lpcap -o "$work/vsblast" || return 1
	clang -O2 -g -target bpf -Wall -Werror \
		-I"/usr/include/$(gcc -dumpmachine)" \
		-c "$here/xdp_pass.bpf.c" -o "$work/pass.o" || return 1
	python3 - "$work" <<-'PY'
	import struct, sys
	def frame(proto, sport, dport, payload):
	    l4 = (struct.pack("!HHIIBBHHH", sport, dport, 1, 1, 0x50, 0x10, 502, 0, 0)
	          if proto == 6 else struct.pack("!HHHH", sport, dport, 8 + len(payload), 0))
	    l4 += payload
	    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64, proto, 0,
	                     bytes([192, 168, 1, 2]), bytes([172, 16, 3, 4]))
	    eth = bytes([2, 0, 0xb, 0, 0, 2, 2, 0, 0xb, 0, 0, 1, 8, 0])
	    f = eth + ip + l4
	    return f + bytes(max(0, 60 - len(f)))
	out = sys.argv[1]
	open(out + "/tr_tcp.bin", "wb").write(frame(6, 40000, 443, b""))
	open(out + "/tr_dns.bin", "wb").write(frame(17, 40000, 53, bytes(40)))
	# Unrelated UDP that is shaped like RTP: the worst case, two hash lookups.
	open(out + "/tr_rtpish.bin", "wb").write(frame(17, 40000, 30000, b"\x80" + bytes(171)))
	PY
}

# gen_calls FILE CALLS SECONDS: all calls set up within a second, each
# with SECONDS of G.711 at 50 pps per direction.
gen_calls() {
	"$bin/vsgen" -o "$1" -n "$2" -d "$3" --rate 10000 --seed 11 >/dev/null
}

sensor_kill() {
	[ -n "$SENSOR_PID" ] || return 0
	kill -TERM "$SENSOR_PID" 2>/dev/null
	wait "$SENSOR_PID" 2>/dev/null
	SENSOR_PID=
}

# sensor_start NAME MODE: voxsense on CPU 1 (none: no sensor; xdppass:
# the reference program attached instead). The sender and the sensor run
# SCHED_FIFO so that whatever else the VM runs does not decide the figures.
sensor_start() {
	local name=$1 mode=$2
	case $mode in
	none) return 0 ;;
	xdppass)
		ip link set dev "$S" xdpdrv obj "$work/pass.o" sec xdp
		return
		;;
	esac
	cat >"$work/$name.conf" <<-CONF
	interface = $S
	capture_mode = $mode
	spooldir = $work/spool-$name
	savesip = no
	savertp = no
	${BENCH_CONF:-}
	CONF
	chrt -f 20 taskset -c 1 "$bin/voxsense" -c "$work/$name.conf" --stats \
		--cdr-json "$work/$name.json" 2>"$work/$name.log" &
	SENSOR_PID=$!
	for _ in $(seq 150); do
		grep -q "live capture on" "$work/$name.log" && return 0
		kill -0 "$SENSOR_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "   $name: sensor did not start:" >&2
	cat "$work/$name.log" >&2
	return 1
}

sensor_stop() {
	local mode=$1
	[ "$mode" = xdppass ] && ip link set dev "$S" xdpdrv off
	sensor_kill
}

# CPU time (ns, exact) of a task and all its threads.
task_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null |
		awk '{ s += $1 } END { printf "%.0f\n", s }'
}

# sample FILE: counters at one instant, one "key value" a line.
sample() {
	local k=0 p
	for p in $(ps -e -o pid=,comm= | awk '$2 ~ /^ksoftirqd\// { print $1 }'); do
		k=$((k + $(task_ns "$p")))
	done
	{
		echo "t_ns $(date +%s%N)"
		# USER_HZ (1/100 s). Idle is exact (nohz), the split tick-sampled.
		awk '/^cpu / { print "busy_ticks", $2 + $3 + $4 + $7 + $8;
			print "softirq_ticks", $8 }' /proc/stat
		echo "ksoftirqd_ns $k"
		if [ -n "$SENSOR_PID" ]; then
			echo "daemon_ns $(task_ns "$SENSOR_PID")"
			awk '{ print "daemon_utime", $14; print "daemon_stime", $15 }' \
				/proc/"$SENSOR_PID"/stat
		fi
		echo "s_rx $(cat /sys/class/net/"$S"/statistics/rx_packets)"
		echo "s_rx_dropped $(cat /sys/class/net/"$S"/statistics/rx_dropped)"
		echo "p_tx_dropped $(ip netns exec "$NS" cat /sys/class/net/"$P"/statistics/tx_dropped)"
	} >"$1"
}

# blast PART PPS NOISE NOISE_ONLY PCAP [vsblast args]: vsblast on CPU 0
# from $NS.
blast() {
	local only=
	[ "$4" = 1 ] && only=--noise-only
	ip netns exec "$NS" chrt -f 20 taskset -c 0 "$work/vsblast" -i "$P" \
		--part "$1" -p "$2" -x "$3" $only "${@:6}" "$5"
}

# The XDP program on $S: "pinned PATH" for the sensor's (MODE copy or
# afxdp), "id N" for the reference program.
xdp_prog() {
	case $1 in
	copy) echo pinned /sys/fs/bpf/voxsense/prog_vs_xdp_copy ;;
	afxdp) echo pinned /sys/fs/bpf/voxsense/prog_vs_xdp_xsk ;;
	*) echo id "$(ip -j link show dev "$S" | python3 -c 'import json, sys
print(json.load(sys.stdin)[0]["xdp"]["prog"]["id"])')" ;;
	esac
}

# "run_time_ns run_cnt" of a program (0 0 without bpf_stats).
prog_stats() {
	# shellcheck disable=SC2086 # $1 is two words: pinned PATH or id N
	bpftool -j prog show $1 | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(d.get("run_time_ns", 0), d.get("run_cnt", 0))'
}

# BPF_PROG_TEST_RUN of the program of MODE on three unrelated frames: the
# average run time (the test loop's own cost is the reference program's).
test_run() {
	local f prog
	prog=$(xdp_prog "$1")
	for f in tcp dns rtpish; do
		printf 'testrun_%s ' "$f"
		# shellcheck disable=SC2086 # $prog is two words
		bpftool prog run $prog data_in "$work/tr_$f.bin" repeat 2000000 2>&1 |
			sed -n 's/.*duration (average): \([0-9]*\)ns.*/\1/p'
	done
}

# The program's own run time per frame in this run's traffic, from the
# kernel's bpf_stats, on for one second from DELAY s into the media phase
# (it costs a clock read per run: about 1/8 of the phase pays it).
stats_window() {
	local prog t0 c0 t1 c1
	sleep "$2"
	prog=$(xdp_prog "$1")
	echo 1 >/proc/sys/kernel/bpf_stats_enabled || return
	read -r t0 c0 < <(prog_stats "$prog")
	sleep 1
	read -r t1 c1 < <(prog_stats "$prog")
	echo "$STATS_WAS" >/proc/sys/kernel/bpf_stats_enabled
	[ "$c1" -gt "$c0" ] && echo "bpf_stats_ns $(( (t1 - t0) / (c1 - c0) ))"
}

# profile NAME: perf samples of CPU 0 (the sender and the receive softirq
# it runs), in the background until SIGINT; its pid in PERF_PID.
profile() {
	perf record -q -C 0 -F 2500 -g -o "$work/$1.perf" -- sleep 1000 \
		>/dev/null 2>&1 &
	PERF_PID=$!
}

# The profile split by the code the sensor adds (perf_split.py).
profile_split() {
	perf script -i "$work/$1.perf" -F comm,period,ip,sym 2>/dev/null |
		python3 "$here/perf_split.py"
	[ -n "${BENCH_KEEP:-}" ] || rm -f "$work/$1.perf"
}

# run NAME MODE PCAP PPS NOISE NOISE_ONLY: one measured run. Writes
# NAME.{setup,media,bye,s0,s1,extra} next to the sensor's NAME.log/.json.
# RUN_STATS=1: bpf_stats for a second of the media phase; RUN_TEST=1:
# BPF_PROG_TEST_RUN after it.
run() {
	local name=$1 mode=$2 pcap=$3 pps=$4 noise=$5 only=$6 r=$work/$1
	local pp='' PERF_PID= DPERF_PID=
	sensor_start "$name" "$mode" || { echo "mode $mode" >"$r.failed"; return; }
	[ "$only" = 1 ] || blast setup 20000 0 0 "$pcap" >"$r.setup"
	sleep 0.5
	sample "$r.s0"
	[ -n "$HAVE_PERF" ] && [ "${name#rate}" = "$name" ] && profile "$name"
	[ -n "${BENCH_DAEMON_PERF:-}" ] && [ -n "$SENSOR_PID" ] && {
		perf record -q -p "$SENSOR_PID" -F 4000 -g \
			-o "$BENCH_DAEMON_PERF/$name.perf" >/dev/null 2>&1 &
		DPERF_PID=$!
	}
	if [ -n "${RUN_STATS:-}" ]; then
		case $mode in
		copy | afxdp | xdppass)
			stats_window "$mode" "$STATS_DELAY" >"$r.bpfstats" &
			pp=$! ;;
		esac
	fi
	blast media "$pps" "$noise" "$only" "$pcap" >"$r.media"
	if [ -n "$PERF_PID" ]; then
		kill -INT "$PERF_PID"
		wait "$PERF_PID"
	fi
	if [ -n "$DPERF_PID" ]; then
		kill -INT "$DPERF_PID"
		wait "$DPERF_PID"
	fi
	[ -n "$pp" ] && wait "$pp"
	sleep 0.3
	sample "$r.s1"
	[ "$only" = 1 ] || blast bye 20000 0 0 "$pcap" >"$r.bye"
	cat "$r.bpfstats" >"$r.extra" 2>/dev/null
	[ -f "$work/$name.perf" ] && profile_split "$name" >>"$r.extra"
	if [ -n "${RUN_TEST:-}" ]; then
		case $mode in
		copy | xdppass) test_run "$mode" >>"$r.extra" ;;
		esac
	fi
	sleep 0.3
	sensor_stop "$mode"
	echo "mode $mode" >>"$r.extra"
	printf '   %-16s %s\n' "$name" "$(cat "$r.media")"
}
