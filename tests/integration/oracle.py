#!/usr/bin/env python3
"""Compares voxsense CDR legs/streams (JSON lines) with a tshark oracle's
`-z rtp,streams` table (the SDP-announced one, first in the file).

usage: oracle.py ORACLE.txt CDRS.jsonl [--jitter-tol 0.05] [--require-all]
                 [--allow-missing 0xSSRC]...

The Call-IDs that had an INVITE in the oracle's per-Call-ID summary must be
exactly the Call-IDs of the CDRs (one CDR each).

Every tshark stream whose SSRC and endpoints match a voxsense stream must have
the same packet count and loss, and max jitter within tolerance (relative;
absolute 0.01 ms floor). tshark's Lost is expected - received with duplicates
counted as received, so it is compared with voxsense lost - duplicates.
Prints one line per stream; exit 1 on any mismatch or when a tshark stream
has no voxsense counterpart and --require-all is given."""
import json
import re
import sys


def tshark_streams(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    sec = text.split("## tshark -q -z rtp,streams\n", 1)
    if len(sec) < 2:
        return []
    rows = []
    for line in sec[1].splitlines():
        if line.startswith("=" * 10) and rows:
            break
        m = re.match(r"\s*([\d.]+)\s+([\d.]+)\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+"
                     r"(0x[0-9A-Fa-f]+)\s+(.*?)\s+(\d+)\s+(-?\d+)\s+\(.*?\)\s+"
                     r"([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)",
                     line)
        if m:
            rows.append(dict(src=m[3], sport=int(m[4]), dst=m[5], dport=int(m[6]),
                             ssrc=int(m[7], 16), payload=m[8], pkts=int(m[9]),
                             lost=int(m[10]), mean_jitter=float(m[15]),
                             max_jitter=float(m[16])))
    return rows


def invite_call_ids(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    if "distinct Call-IDs:" not in text:
        return set()
    sec = text.split("distinct Call-IDs:", 1)[1].split("\n## ", 1)[0]
    ids = set()
    for line in sec.splitlines()[1:]:
        parts = line.split(" | ")
        if len(parts) >= 5 and "INVITE" in parts[4].split():
            ids.add(parts[0])
    return ids


def our_streams(path):
    out = []
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        cdr = json.loads(line)
        legs = cdr.get("streams") or [cdr[k] for k in ("a", "b") if cdr.get(k)]
        for leg in legs:
            if leg.get("present", 1):
                out.append(leg)
    return out


def main():
    args = sys.argv[1:]
    tol = 0.05
    require_all = "--require-all" in args
    if "--jitter-tol" in args:
        tol = float(args[args.index("--jitter-tol") + 1])
    oracle, cdrs = args[0], args[1]
    allow = {int(args[i + 1], 16) for i, a in enumerate(args) if a == "--allow-missing"}
    want = tshark_streams(oracle)
    have = our_streams(cdrs)
    bad = 0
    matched = 0
    ids = [json.loads(l)["call_id"] for l in open(cdrs) if l.strip()]
    calls = invite_call_ids(oracle)
    if sorted(ids) != sorted(calls):
        bad += 1
        print("  BAD calls: CDRs %s, oracle INVITE Call-IDs %s" % (sorted(ids), sorted(calls)))
    else:
        print("  ok   %d calls, one CDR each" % len(ids))
    for w in want:
        cand = [h for h in have if h.get("ssrc") == w["ssrc"]
                and h.get("src_ip") == w["src"] and h.get("src_port") == w["sport"]
                and h.get("dst_ip") == w["dst"] and h.get("dst_port") == w["dport"]]
        tag = "%s:%d -> %s:%d ssrc 0x%08x" % (w["src"], w["sport"], w["dst"],
                                               w["dport"], w["ssrc"])
        if not cand:
            known = w["ssrc"] in allow
            print("  %s %s (tshark %d pkts)" % ("missing (expected)" if known else "MISSING",
                                              tag, w["pkts"]))
            bad += require_all and not known
            continue
        h = cand[0]
        matched += 1
        lost = h["lost"] - h.get("duplicates", 0)
        jt = h["jitter_max_ms"]
        jok = abs(jt - w["max_jitter"]) <= max(tol * w["max_jitter"], 0.01)
        ok = h["packets"] == w["pkts"] and lost == w["lost"] and jok
        print("  %s %s: pkts %d/%d lost %d/%d maxjitter %.3f/%.3f meanjitter %.3f/%.3f"
              % ("ok  " if ok else "BAD ", tag, h["packets"], w["pkts"], lost,
                 w["lost"], jt, w["max_jitter"], h.get("jitter_mean_ms", -1),
                 w["mean_jitter"]))
        bad += not ok
    print("  %d tshark streams, %d matched, %d mismatches" % (len(want), matched, bad))
    sys.exit(1 if bad or (want and not matched) else 0)


main()
