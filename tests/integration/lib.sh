# Sourced by tests/integration/t_*.sh. Gives: $VS_BIN, $VSGEN, $VS_SHARED,
# a private $TMP removed on exit, skip/fail helpers.
set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${VS_BIN:=$top/build/asan/voxsense}"
: "${VSGEN:=$top/build/rel/vsgen}"
: "${VS_SHARED:=$top/../shared}"
export VS_BIN VSGEN VS_SHARED
TMP=$(mktemp -d "/tmp/vxs-$(basename "$0" .sh)-$$.XXXX")
trap 'rm -rf "$TMP"' EXIT
skip() { echo "   skip: $*"; exit 77; }
fail() { echo "   FAIL: $*" >&2; exit 1; }
ok() { echo "   ok: $*"; }
need_shared() { [ -d "$VS_SHARED/pcaps" ] || skip "$VS_SHARED/pcaps absent (shared captures not available)"; }
