#!/bin/bash
# The generator's ground truth agrees with tshark (packets, loss, jitter, SIP
# timings) over every option the tests use: see tests/gen/check-vsgen.sh.
. "$(dirname "$0")/lib.sh"
command -v tshark >/dev/null || skip "tshark not installed"
"$top/tests/gen/check-vsgen.sh" "$VSGEN"
