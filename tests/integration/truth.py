#!/usr/bin/env python3
"""Compares voxsense CDRs (JSON lines) with vsgen's ground truth.

usage: truth.py TRUTH.jsonl CDRS.jsonl [--jitter-tol 0.05] [--no-reorder]

Exact: the set of Call-IDs, numbers, domains, display names, final code, end
reason, who hung up, calldate/progress/connect times (µs), and per direction
SSRC, codec, packets, lost, duplicates, loss bursts, DTMF digits; for calls
whose media moved (re-INVITE) every leg is compared with a stream of the CDR.
Jitter: max jitter within the relative tolerance (floor 0.02 ms).
Reordered counts are compared unless --no-reorder."""
import json
import sys

END = {"answered": "bye", "nortp": "bye", "reinvite": "bye", "cancel": "cancel",
       "busy": "error", "noanswer": "error"}


def us(t):
    return None if t is None else int(round(t * 1e6))


def load(path):
    return [json.loads(l) for l in open(path) if l.strip()]


def split_ep(s):
    host, port = s.rsplit(":", 1)
    return host.strip("[]"), int(port)


class Checker:
    def __init__(self, tol, reorder):
        self.tol, self.reorder, self.bad = tol, reorder, 0

    def eq(self, cid, what, got, want):
        if got != want:
            self.bad += 1
            print("  BAD %s %s: got %r want %r" % (cid, what, got, want))

    def jitter(self, cid, what, got, want):
        if abs(got - want) > max(self.tol * want, 0.02):
            self.bad += 1
            print("  BAD %s %s: got %.4f want %.4f" % (cid, what, got, want))

    def stream(self, cid, tag, have, want):
        self.eq(cid, tag + ".ssrc", have["ssrc"], want["ssrc"])
        self.eq(cid, tag + ".packets", have["packets"], want["packets"])
        self.eq(cid, tag + ".lost", have["lost"], want["lost"])
        self.eq(cid, tag + ".duplicates", have["duplicates"], want["dup"])
        self.eq(cid, tag + ".loss_burst", have["loss_burst"], want["loss_bursts"])
        if self.reorder:
            self.eq(cid, tag + ".reordered", have["reordered"], want["reordered"])
        self.jitter(cid, tag + ".jitter_max_ms", have["jitter_max_ms"],
                    want["max_jitter_ms"])

    def call(self, t, c):
        cid = t["call_id"]
        self.eq(cid, "caller", c["caller"], t["caller_number"])
        self.eq(cid, "called", c["called"], t["called_number"])
        self.eq(cid, "caller_domain", c["caller_domain"], t["caller_domain"])
        self.eq(cid, "caller_name", c["caller_name"], t["caller_name"])
        self.eq(cid, "last_sip_code", c["last_sip_code"], t["final_code"])
        self.eq(cid, "end", c["end"], END[t["scenario"]])
        self.eq(cid, "calldate_us", int(c["calldate_us"]), us(t["invite_time"]))
        self.eq(cid, "progress_us", int(c["progress_us"]) or None, us(t["ring_time"]))
        self.eq(cid, "connect_us", int(c["connect_us"]) or None, us(t["answer_time"]))
        if t["hangup"]:
            self.eq(cid, "whohanged", c["whohanged"], t["hangup"])
        self.eq(cid, "sip_caller", (c["sip_caller_ip"], c["sip_caller_port"]),
                split_ep(t["caller_sip"]))
        for d in ("a", "b"):
            want, have = t[d], c[d]
            if not want:
                self.eq(cid, d + ".present", have["present"], 0)
                continue
            self.eq(cid, d + ".codec", have["codec"], want["codec"])
            self.eq(cid, d + ".dtmf", have["dtmf"], want["dtmf"])
            legs = want.get("legs") or []
            if len(legs) <= 1:
                self.stream(cid, d, have, want)
                continue
            for i, leg in enumerate(legs):
                src, dst = split_ep(leg["src"]), split_ep(leg["dst"])
                m = [s for s in c.get("streams", [])
                     if (s["src_ip"], s["src_port"]) == src
                     and (s["dst_ip"], s["dst_port"]) == dst]
                if not m:
                    self.bad += 1
                    print("  BAD %s %s.legs[%d] %s -> %s: no such stream"
                          % (cid, d, i, leg["src"], leg["dst"]))
                    continue
                leg = dict(leg, ssrc=want["ssrc"])
                self.stream(cid, "%s.legs[%d]" % (d, i), m[0], leg)


def main():
    a = sys.argv[1:]
    tol = float(a[a.index("--jitter-tol") + 1]) if "--jitter-tol" in a else 0.05
    chk = Checker(tol, "--no-reorder" not in a)
    truth = {t["call_id"]: t for t in load(a[0])}
    cdrs = {}
    for c in load(a[1]):
        if c["call_id"] in cdrs:
            chk.bad += 1
            print("  BAD %s: two CDRs" % c["call_id"])
        cdrs[c["call_id"]] = c
    for cid in sorted(set(truth) ^ set(cdrs)):
        chk.bad += 1
        print("  BAD %s: %s" % (cid, "no CDR" if cid in truth else "CDR of no call"))
    for cid in sorted(set(truth) & set(cdrs)):
        chk.call(truth[cid], cdrs[cid])
    print("  %d calls in truth, %d CDRs, %d mismatches" % (len(truth), len(cdrs), chk.bad))
    sys.exit(1 if chk.bad else 0)


main()
