#!/bin/bash
# Checks vsgen's ground truth against tshark for several option sets.
#
#   tests/gen/check-vsgen.sh [path/to/vsgen]
#
# For every capture: no checksum error or malformed packet; every call's
# SIP messages (Call-ID, INVITE/18x/200/BYE times, final code) as the truth
# says; one RTP stream per truth leg with tshark's packet count, lost count
# and max jitter matching. Exits non-zero on the first mismatch.
set -euo pipefail

VSGEN=${1:-build/rel/vsgen}
WORK=$(mktemp -d /tmp/check-vsgen.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

command -v tshark >/dev/null || { echo "check-vsgen: tshark missing"; exit 1; }
[ -x "$VSGEN" ] || { echo "check-vsgen: $VSGEN not built"; exit 1; }

# Compares one capture with its truth file; prints one summary line.
compare() {
	local pcap=$1 truth=$2 name=$3 need=$4
	local tsh=(tshark -n -r "$pcap" -o ip.check_checksum:TRUE
		   -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE)

	"${tsh[@]}" -Y 'ip.checksum.status==0 || udp.checksum.status==0 ||
		tcp.checksum.status==0 || _ws.malformed ||
		_ws.expert.severity>=error' \
		-T fields -e frame.number -e _ws.expert.message \
		>"$WORK/bad.txt" 2>/dev/null
	"${tsh[@]}" -Y 'sip' -T fields -E separator='|' -e frame.time_epoch \
		-e sip.Call-ID -e sip.Method -e sip.Status-Code -e sip.CSeq.method \
		>"$WORK/sip.txt" 2>/dev/null
	"${tsh[@]}" -q -z sip,stat -z rtp,streams >"$WORK/stat.txt" 2>/dev/null
	"${tsh[@]}" -T fields -E separator='|' -e vlan.id -e ieee8021ad.id \
		-e ip.flags.mf -e ipv6.fraghdr.more -e tcp.segment.count \
		-e rtcp.pt -e rtpevent.event_id -e ipv6.src \
		>"$WORK/feat.txt" 2>/dev/null
	python3 - "$truth" "$WORK" "$name" "$need" <<'EOF'
import json, sys, re

truth_path, work, name, need = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split()
calls = [json.loads(l) for l in open(truth_path)]
errors = []

def err(msg):
    errors.append(msg)

bad = [l for l in open(work + "/bad.txt").read().splitlines() if l.strip()]
if bad:
    err("%d bad packets, first: %s" % (len(bad), bad[0]))

# SIP: one row per message (a TCP segment with two messages gives one row
# with comma-separated fields).
msgs = {}
for line in open(work + "/sip.txt"):
    t, cid, meth, code, cmeth = line.rstrip("\n").split("|")
    cids, meths, codes, cmeths = (x.split(",") for x in (cid, meth, code, cmeth))
    for i in range(len(cids)):
        m = meths[i] if i < len(meths) else ""
        c = codes[i] if i < len(codes) else ""
        msgs.setdefault(cids[i], []).append(
            (float(t), m, int(c) if c else 0, cmeths[i] if i < len(cmeths) else ""))

def first(lst, pred):
    for m in lst:
        if pred(m):
            return m[0]
    return None

def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) < 2e-6

for c in calls:
    lst = msgs.get(c["call_id"])
    if not lst:
        err("call %d: Call-ID not seen" % c["index"])
        continue
    inv = first(lst, lambda m: m[1] == "INVITE")
    ring = first(lst, lambda m: 180 <= m[2] < 190)
    ans = first(lst, lambda m: m[2] == 200 and m[3] == "INVITE")
    fin = first(lst, lambda m: m[2] >= 200 and m[3] == "INVITE")
    bye = first(lst, lambda m: m[1] == "BYE")
    codes = [m[2] for m in lst if m[2] >= 200 and m[3] == "INVITE"]
    for key, got in (("invite_time", inv), ("ring_time", ring),
                     ("answer_time", ans), ("final_time", fin),
                     ("bye_time", bye)):
        if not close(got, c[key]):
            err("call %d: %s tshark %s truth %s" % (c["index"], key, got, c[key]))
    if not codes or codes[0] != c["final_code"]:
        err("call %d: final code tshark %s truth %s" % (c["index"], codes, c["final_code"]))

stat = open(work + "/stat.txt").read()
m = re.search(r"Number of SIP messages: (\d+)", stat)
nsip = sum(len(v) for v in msgs.values())
if not m or int(m.group(1)) != nsip:
    err("sip,stat counts %s messages, -Y sip %d" % (m and m.group(1), nsip))
ninv = sum(1 for v in msgs.values() for x in v if x[1] == "INVITE")
m = re.search(r"INVITE\s*:\s*(\d+) Packets", stat)
if not m or int(m.group(1)) != ninv:
    err("sip,stat INVITE count %s, -Y sip %d" % (m and m.group(1), ninv))

# RTP: key (src ip, src port, dst ip, dst port, ssrc).
streams = {}
sect = stat.split("RTP Streams", 1)[-1]
row = re.compile(r"^\s*[\d.]+\s+[\d.]+\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+0x([0-9A-Fa-f]+)"
                 r"\s+(.+?)\s+(\d+)\s+(-?\d+)\s+\([-\d.]+%\)(?:\s+[-\d.]+){5}\s+([-\d.]+)")
for line in sect.splitlines():
    m = row.match(line)
    if not m:
        continue
    key = (m.group(1), int(m.group(2)), m.group(3), int(m.group(4)), int(m.group(5), 16))
    streams[key] = dict(pkts=int(m.group(7)), lost=int(m.group(8)),
                        max_jitter=float(m.group(9)))

def split_ep(s):
    host, port = s.rsplit(":", 1)
    return host.strip("[]"), int(port)

nlegs = 0
worst = 0.0
for c in calls:
    for d in ("a", "b"):
        st = c.get(d)
        if not st:
            continue
        for leg in st["legs"]:
            nlegs += 1
            key = split_ep(leg["src"]) + split_ep(leg["dst"]) + (st["ssrc"],)
            ts = streams.get(key)
            where = "call %d %s %s" % (c["index"], d, leg["src"])
            # The truth must add up on its own.
            span = (leg["last_seq"] - leg["first_seq"]) % 65536 + 1
            runs = sum((i + 1) * n for i, n in enumerate(leg["loss_bursts"]))
            if (leg["unique"] + leg["lost"] != span or
                    leg["packets"] != leg["unique"] + leg["dup"] or
                    (leg["loss_bursts"][9] == 0 and runs != leg["lost"])):
                err("%s: truth does not add up: %s" % (where, leg))
            if not ts:
                err("%s: stream not found" % where)
                continue
            if ts["pkts"] != leg["packets"]:
                err("%s: packets tshark %d truth %d" % (where, ts["pkts"], leg["packets"]))
            # tshark counts a duplicate as received: lost = expected - all.
            if ts["lost"] != leg["lost"] - leg["dup"]:
                err("%s: lost tshark %d truth %d-%d dup" % (where, ts["lost"], leg["lost"], leg["dup"]))
            mine = leg["max_jitter_ms"]
            diff = abs(ts["max_jitter"] - mine)
            tol = 0.002 + 0.005 * mine   # tshark prints 3 decimals
            worst = max(worst, diff / max(mine, 0.01))
            if diff > tol:
                err("%s: max jitter tshark %.3f truth %.3f" % (where, ts["max_jitter"], mine))
if len(streams) != nlegs:
    err("tshark has %d RTP streams, truth %d legs" % (len(streams), nlegs))

# The option under test must have shown up, so that no check passes on a
# capture without the feature.
feat = [l.rstrip("\n").split("|") for l in open(work + "/feat.txt")]
dirs = [c[d] for c in calls for d in "ab" if c.get(d)]
tot = lambda k: sum(d[k] for d in dirs)
have = {
    "vlan": bool(feat) and all(f[0] for f in feat),
    "qinq": bool(feat) and all(f[0] and f[1] for f in feat),
    "frag": any(f[2] == "1" or f[3] == "1" for f in feat),
    "ipv6": bool(feat) and all(f[7] for f in feat),
    "tcpsplit": any(f[4] for f in feat),
    "tcpmulti": any("," in l.split("|")[1] for l in open(work + "/sip.txt")),
    "lost": tot("lost") > 0, "dup": tot("dup") > 0,
    "reordered": tot("reordered") > 0,
    "rtcp": sum(1 for f in feat if "200" in f[5].split(",")) == tot("rtcp_sr") > 0,
    "dtmf": sum(1 for f in feat if f[6]) == 6 * sum(len(d["dtmf"]) for d in dirs) > 0,
    "reinvite": any(len(d["legs"]) == 2 for d in dirs),
}
m = re.search(r"resent SIP messages: (\d+)", stat)
have["retrans"] = bool(m) and int(m.group(1)) == len(calls) + sum(
    1 for c in calls if c["answer_time"] is not None)
for n in need:
    if not have.get(n):
        err("feature %s not seen as expected" % n)

for e in errors[:20]:
    print("  MISMATCH %s: %s" % (name, e))
print("%-28s %s: %d calls, %d SIP msgs, %d RTP streams, worst jitter diff %.1f%%"
      % (name, "FAIL" if errors else "ok", len(calls), nsip, nlegs, 100 * worst))
sys.exit(1 if errors else 0)
EOF
}

# run NAME "FEATURES THAT MUST SHOW" vsgen-options...
run() {
	local name=$1 need=$2
	shift 2
	"$VSGEN" -o "$WORK/$name.pcap" --truth "$WORK/$name.jsonl" "$@"
	compare "$WORK/$name.pcap" "$WORK/$name.jsonl" "$name" "$need"
}

fail=0
run basic "" -n 6 -d 4 || fail=1
run mix "rtcp retrans dtmf reinvite" -n 14 -d 12 -s mix --rtcp --retrans \
	--dtmf 19 || fail=1
# seed 3 wraps the 16-bit sequence number of two streams.
run wrap "lost dup reordered" -n 10 -d 30 --loss 1 --jitter 10 --dup 1 \
	--reorder 1 --seed 3 || fail=1
run loss "lost" -n 4 -d 6 --loss 5 --loss-burst 3 --seed 7 || fail=1
run dup-jitter "dup" -n 4 -d 6 --dup 3 --jitter 8 -c pcma || fail=1
run reorder "reordered" -n 4 -d 6 --jitter 30 --reorder 2 -c g729 || fail=1
run reorder-only "reordered lost" -n 3 -d 6 --reorder 3 --loss 2 || fail=1
run tcp "tcpsplit tcpmulti reinvite" -n 8 -d 3 -s mix --transport tcp || fail=1
run ipv6-vlan "ipv6 vlan lost" -n 6 -d 3 -s mix --ipv6 --vlan 42 \
	--loss 2 || fail=1
run qinq-frag "qinq frag" -n 6 -d 3 --qinq=300 --vlan 7 --frag \
	-c g722 || fail=1
run frag-ipv6 "frag ipv6 dtmf" -n 4 -d 3 --frag --ipv6 --mtu 576 \
	--dtmf '123#*' || fail=1
run tcp-ipv6 "tcpsplit ipv6 reinvite" -n 4 -d 3 -s reinvite \
	--transport tcp --ipv6 --jitter 5 --rtcp --dup 2 || fail=1
[ $fail = 0 ] && echo "check-vsgen: all passed" || echo "check-vsgen: FAILED"
exit $fail
