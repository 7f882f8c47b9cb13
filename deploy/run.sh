#!/bin/sh
# `make run`: the sensor's main job on the embedded default: all-in-one,
# live capture on every interface that is up (interface = any, capture_mode
# copy: XDP + TC egress, falling back to libpcap when BPF is refused), SQLite
# store and call pcaps under ./var/spool. CDRs are printed as JSON lines as
# calls end. Stops on Ctrl-C. `make demo` replays a generated capture instead.
set -eu
bin=${1:-build/rel}
top=$(cd "$(dirname "$0")/.." && pwd)
var="$top/var"
mkdir -p "$var"
conf="$var/voxsense.conf"
if [ ! -f "$conf" ]; then
	{ cat "$top/deploy/voxsense.conf"
	  printf '\n# make run: every interface that is up; a packet crossing two of\n'
	  printf '# them is captured twice, so drop the copy\ninterface = any\ndeduplicate = yes\n'; } >"$conf"
	echo "wrote $conf (edit it: interface, sipport, ...)"
fi
echo "voxsense: live capture per $conf; CDRs in $var/spool/voxsense.db; Ctrl-C stops"
exec "$bin/voxsense" -c "$conf" --spooldir "$var/spool" --cdr-json - --stats
