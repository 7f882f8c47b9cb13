#!/bin/bash
# Runs every test: Criterion unit tests (ASan+UBSan), integration tests
# (tests/integration/t_*.sh: exit 0 pass, 77 skip with a reason, else fail)
# and a short fuzz smoke run of every fuzz target over its corpus.
# Usage: tests/run-all.sh BUILD_DIR
set -u
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export VS_BIN="$top/$build/asan/voxsense"
export VS_BIN_REL="$top/$build/rel/voxsense"
export VSGEN="$top/$build/rel/vsgen"
export VS_SHARED="${VS_SHARED:-$top/../shared}"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
pass=0 fail=0 skip=0 failed=""

run() { # name command...
	local name=$1 rc
	shift
	printf '== %s\n' "$name"
	"$@"
	rc=$?
	case $rc in
	0) pass=$((pass + 1)) ;;
	77) skip=$((skip + 1)); echo "   SKIP $name" ;;
	*) fail=$((fail + 1)); failed="$failed $name"; echo "   FAIL $name (rc=$rc)" ;;
	esac
}

# A short libFuzzer run from the committed corpus; its chatter goes to a log
# that is shown only when it finds something.
fuzz_smoke() { # binary workdir corpus
	local log="$2.log"
	"$1" -max_total_time="${FUZZ_SMOKE_SECONDS:-20}" -print_final_stats=1 \
		-close_fd_mask=3 "$2" "$3" >"$log" 2>&1 ||
		{ tail -40 "$log"; return 1; }
	grep -E '^stat::number_of_executed_units' "$log" | sed 's/^/   /'
}

for t in "$build"/asan/unit/test_*; do
	[ -x "$t" ] && run "unit/$(basename "$t")" "$t" --jobs 2 --short-filename
done
for t in tests/integration/t_*.sh; do
	[ -x "$t" ] && run "integration/$(basename "$t" .sh)" "$t"
done
for f in "$build"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	mkdir -p "$build/fuzz-work/$name"
	run "fuzz/$name" fuzz_smoke "$f" "$build/fuzz-work/$name" "tests/fuzz/corpus/$name"
done
echo
echo "tests: $pass passed, $skip skipped, $fail failed${failed:+ ($failed )}"
[ "$fail" -eq 0 ]
