#!/bin/sh
# Installs the Debian packages of the given groups (see packages.txt) that are
# missing. Idempotent: prints nothing and touches nothing when all are there.
set -eu
here=$(dirname "$0")
want=""
for group in "$@"; do
	line=$(grep "^$group:" "$here/packages.txt") || {
		echo "deps.sh: unknown group '$group'" >&2; exit 2; }
	want="$want ${line#*:}"
done
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing (run as root to install)" >&2
	exit 1
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture: answer no, non-interactively.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
# Packages with a daemon (mariadb-server) must not start it: tests start
# their own on a private socket. policy-rc.d refuses service starts while
# we install, and is removed afterwards.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends $missing
