#!/usr/bin/env python3
"""Prints the capture bench's tables from the files bench_capture.sh left in
its work directory (docs/bench.md explains every column).

Runs are named mix_rI_MODE, noise_rI_MODE (round I) and rateR_MODE. CPU
figures are medians over the rounds of each mode's difference to the
baseline run of the same round, with the range in brackets.

Usage: capture_report.py WORKDIR CALLS NOISE
"""
import glob
import json
import os
import re
import statistics
import sys

TICK_MS = 10  # /proc/stat and /proc/PID/stat count in USER_HZ
MODES = ("copy", "afxdp", "pcap")


def kv(path):
    """A file of "key value" pairs (several per line allowed) as a dict."""
    d = {}
    if not os.path.exists(path):
        return d
    for line in open(path):
        w = line.split()
        for i in range(0, len(w) - 1, 2):
            try:
                d[w[i]] = float(w[i + 1])
            except ValueError:
                d[w[i]] = w[i + 1]
    return d


def cdrs(path):
    n = pkts = 0
    if os.path.exists(path):
        for line in open(path):
            c = json.loads(line)
            n += 1
            for side in ("a", "b"):
                s = c.get(side) or {}
                if s.get("present"):
                    pkts += s.get("packets", 0)
    return n, pkts


def notes(path):
    words = ("XDP attached", "generic XDP", "AF_XDP socket", "falling back")
    if not os.path.exists(path):
        return []
    return [l.split(": ", 1)[-1].strip() for l in open(path)
            if any(w in l for w in words)]


def load(work, name):
    base = os.path.join(work, name)
    if not os.path.exists(base + ".media"):
        return None
    r = {"name": name, "media": kv(base + ".media"), "st": kv(base + ".log"),
         "extra": kv(base + ".extra"), "notes": notes(base + ".log")}
    s0, s1 = kv(base + ".s0"), kv(base + ".s1")
    d = lambda k: s1.get(k, 0) - s0.get(k, 0)
    m, st = r["media"], r["st"]
    g = lambda k: st.get(k, 0)
    r["cdrs"], r["cdr_rtp"] = cdrs(base + ".json")
    r["offered_win"] = m.get("voip", 0) + m.get("noise", 0)
    r["offered"] = (kv(base + ".setup").get("voip", 0) + r["offered_win"]
                    + kv(base + ".bye").get("voip", 0))
    r["window_s"] = d("t_ns") / 1e9
    # The receive path runs in the sender's context (softirq on its way
    # out of each send) or in ksoftirqd: both are timed exactly.
    r["kernel_ms"] = (m.get("cpu_ns", 0) + d("ksoftirqd_ns")) / 1e6
    r["daemon_ms"] = d("daemon_ns") / 1e6
    r["daemon_u"], r["daemon_s"] = d("daemon_utime"), d("daemon_stime")
    r["softirq_ms"] = d("softirq_ticks") * TICK_MS
    # veth counts a failed XDP redirect as the receiver's rx_dropped: that
    # is capture loss (afxdp.*), so only the sender's drops count here.
    r["net_drops"] = d("p_tx_dropped")
    r["delivered"] = g("capture.frames")
    r["kdelivered"] = g("kernel.in.delivered") + g("kernel.out.delivered")
    r["lost"] = (g("kernel.in.delivery_failed") + g("kernel.out.delivery_failed")
                 + g("afxdp.rx_dropped") + g("afxdp.rx_ring_full")
                 + g("capture.pcap_drops"))
    return r


def fmt(v, f="{:,.0f}"):
    return "-" if v is None else f.format(v)


def med(vals, f="{:,.0f}"):
    """Median with its range: '123 [110..140]'."""
    vals = [v for v in vals if v is not None]
    if not vals:
        return "-", None
    m = statistics.median(vals)
    if len(vals) == 1:
        return fmt(m, f), m
    return "%s [%s..%s]" % (fmt(m, f), fmt(min(vals), f), fmt(max(vals), f)), m


def table(rows, head):
    w = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    for row in [head] + rows:
        print("  " + "  ".join(str(x).rjust(n) if i else str(x).ljust(n)
                               for i, (x, n) in enumerate(zip(row, w))))


def rounds(work, kind):
    """{round: {mode: run}} for mix or noise."""
    out = {}
    for p in glob.glob(os.path.join(work, kind + "_r*.media")):
        name = os.path.basename(p)[:-6]
        m = re.match(kind + r"_r(\d+)_(\w+)$", name)
        out.setdefault(int(m.group(1)), {})[m.group(2)] = load(work, name)
    return out


def diffs(rs, mode, ref, key):
    """Per round: run[mode][key] - run[ref][key], where both ran."""
    return [r[mode][key] - r[ref][key] for r in rs.values()
            if r.get(mode) and r.get(ref)]


def prog_ns(rs, mode):
    """bpf_stats ns per run in traffic, less the reference program's (the
    measurement and the XDP dispatch by themselves); from the round that
    measured it."""
    for r in rs.values():
        v = (r.get(mode) or {}).get("extra", {}).get("bpf_stats_ns")
        ref = (r.get("xdppass") or {}).get("extra", {}).get("bpf_stats_ns")
        if v is not None:
            return v - ref if ref is not None else v
    return None


def delivery(rs, calls):
    print("  mode     offered (all rounds): delivery and CDRs")
    rows = []
    for m in MODES:
        runs = [r[m] for r in rs.values() if r.get(m)]
        if not runs:
            rows.append([m, "did not run"] + [""] * 6)
            continue
        tot = lambda k: sum(x[k] for x in runs)
        rows.append([m, fmt(tot("offered")), fmt(tot("delivered")),
                     fmt(tot("kdelivered")), fmt(tot("lost")),
                     fmt(tot("net_drops")),
                     "%d/%d" % (tot("cdrs"), calls * len(runs)),
                     "%s/%s" % (fmt(tot("cdr_rtp")),
                                fmt(sum(x["media"].get("voip", 0) for x in runs)))])
    table(rows, ["mode", "offered", "to user", "kernel deliv", "capture lost",
                 "net drops", "CDRs", "RTP in CDRs/sent"])


def perf_ms(run):
    """Kernel time on the sender's CPU in the sensor's own code (perf)."""
    e = run["extra"]
    if "perf_all_ns" not in e:
        return None
    return sum(e.get("perf_%s_ns" % k, 0) for k in PERF_PARTS) / 1e6


PERF_PARTS = ("prog", "wake", "xsk", "tap")


def perf_parts(runs):
    tot = {k: sum(r["extra"].get("perf_%s_ns" % k, 0) for r in runs)
           for k in PERF_PARTS}
    s = sum(tot.values())
    return "/".join("%s %d%%" % (k, 100 * v / s) for k, v in tot.items()
                    if v and s) or "-"


def cpu_rows(rs, n):
    """The CPU table rows; returns them and {mode: total ms (median)}."""
    rows, out = [], {}
    for m in MODES:
        runs = [r[m] for r in rs.values() if r.get(m)]
        if not runs:
            continue
        dm, _ = med([x["daemon_ms"] for x in runs])
        u = sum(x["daemon_u"] for x in runs)
        s = sum(x["daemon_s"] for x in runs)
        km, _ = med([perf_ms(x) for x in runs])
        tm, tmv = med([x["daemon_ms"] + perf_ms(x) for x in runs
                       if perf_ms(x) is not None])
        out[m] = tmv
        rows.append([m, "%s (%d%% sys)" % (dm, 100 * s / (u + s) if u + s else 0),
                     km, perf_parts(runs), tm,
                     fmt(tmv * 1e6 / n if tmv is not None else None),
                     med(diffs(rs, m, "none", "kernel_ms"))[0],
                     med(diffs(rs, m, "none", "softirq_ms"))[0],
                     fmt(prog_ns(rs, m))])
    if out.get("pcap"):
        for row in rows:
            v = out.get(row[0])
            row.insert(6, fmt(100 * v / out["pcap"], "{:.0f}%") if v else "-")
    else:
        for row in rows:
            row.insert(6, "-")
    ref = med(diffs(rs, "xdppass", "none", "kernel_ms"))
    if ref[1] is not None:
        raw = [(r.get("xdppass") or {}).get("extra", {}).get("bpf_stats_ns")
               for r in rs.values()]
        raw = [v for v in raw if v is not None]
        rows.append(["veth XDP", "-", "-", "-", "-", "-", "-", ref[0],
                     med(diffs(rs, "xdppass", "none", "softirq_ms"))[0],
                     "(%s)" % fmt(raw[0]) if raw else "-"])
    return rows, out


def stack_ms(run):
    e = run["extra"]
    return e["perf_stack_ns"] / 1e6 if "perf_stack_ns" in e else None


def net_rows(rs, n):
    """The issue's own measure: the daemon plus the softirq time the sensor
    adds, less what veth charges for any XDP program. Per round: daemon +
    the sensor's code (perf) + the stack's receive time beyond the
    reference run's (xdppass for the XDP modes, none for pcap), which
    counts what the sensor saves by dropping frames at XDP (afxdp) or adds
    around the stack. Returns the rows and {mode: total ms (median)}."""
    rows, out = [], {}
    for m in MODES:
        ref = "xdppass" if m != "pcap" else "none"
        pairs = [(r[m], r[ref]) for r in rs.values() if r.get(m) and
                 r.get(ref) and stack_ms(r[m]) is not None and
                 stack_ms(r[ref]) is not None and perf_ms(r[m]) is not None]
        if not pairs:
            continue
        st = [stack_ms(a) - stack_ms(b) for a, b in pairs]
        tot = [a["daemon_ms"] + perf_ms(a) + s for (a, _), s in zip(pairs, st)]
        tm, tmv = med(tot)
        out[m] = tmv
        rows.append([m, ref, med([a["daemon_ms"] for a, _ in pairs])[0],
                     med([perf_ms(a) for a, _ in pairs])[0],
                     med([stack_ms(a) for a, _ in pairs])[0],
                     med([stack_ms(b) for _, b in pairs])[0],
                     med(st)[0], tm, fmt(tmv * 1e6 / n)])
    for row in rows:
        v, pc = out.get(row[0]), out.get("pcap")
        row.append(fmt(100 * v / pc, "{:.0f}%") if pc and v is not None
                   else "-")
    return rows, out


NET_HEAD = ["mode", "ref", "daemon ms", "sensor code ms", "stack ms",
            "ref stack ms", "stack +ms", "total ms", "ns/frame", "of pcap"]


def net_table(rs, n):
    rows, out = net_rows(rs, n)
    if not rows:
        return out
    print("\n  The same, as the issue defines it (daemon + the softirq time the"
          " sensor adds), less veth's XDP tax:\n  the stack's receive time"
          " against the reference run of the round (perf, CPU 0)")
    table(rows, NET_HEAD)
    return out


CPU_HEAD = ["mode", "daemon ms", "kernel ms", "split", "total ms",
            "ns/frame", "of pcap", "| kernel +ms vs none", "softirq +ms",
            "prog ns/frame"]


def mixed(work, calls, noise):
    rs = rounds(work, "mix")
    base = [r["none"] for r in rs.values() if r.get("none")]
    if not base:
        print("  (no baseline run)")
        return {}
    b = base[0]
    n = b["offered_win"]
    print("\n  Mixed load: %d calls (%s RTP frames) + %dx unrelated, %s pps,"
          " %.1f s media phase, %d rounds" % (
              calls, fmt(b["media"].get("voip")), noise,
              fmt(b["media"].get("pps")), b["media"].get("seconds", 0), len(rs)))
    delivery(rs, calls)
    print("\n  Sensor CPU per round (%s frames offered in the media phase),"
          " against the same traffic with no sensor" % fmt(n))
    rows, out = cpu_rows(rs, n)
    table(rows, CPU_HEAD)
    for m in MODES:
        for r in rs.values():
            for note in (r.get(m) or {}).get("notes", []):
                print("    %s: %s" % (m, note))
            break
    out["net"] = net_table(rs, n)
    return out


def test_runs(rs):
    """BPF_PROG_TEST_RUN of the copy program less the test loop's own cost
    (the reference program's): {frame: (net, raw)}."""
    for r in rs.values():
        c = (r.get("copy") or {}).get("extra", {})
        ref = (r.get("xdppass") or {}).get("extra", {})
        t = {k[8:]: (v - ref.get(k, 0), v) for k, v in c.items()
             if k.startswith("testrun_")}
        if t:
            return t
    return {}


def unrelated(work):
    rs = rounds(work, "noise")
    base = [r["none"] for r in rs.values() if r.get("none")]
    if not base:
        return {}
    n = base[0]["media"].get("noise", 0)
    print("\n  Unrelated frames only: %s frames at %s pps, %d rounds"
          % (fmt(n), fmt(base[0]["media"].get("pps")), len(rs)))
    rows, out = cpu_rows(rs, n)
    for row in rows:  # what reached userspace, instead of nothing
        runs = [r[row[0]] for r in rs.values() if r.get(row[0])]
        if row[0] in MODES and runs and runs[0]["delivered"]:
            row[0] = "%s (%s to user)" % (row[0], fmt(runs[0]["delivered"]))
    table(rows, CPU_HEAD)
    out["net"] = net_table(rs, n)
    out["testrun"] = test_runs(rs)
    out["prog"] = prog_ns(rs, "copy")
    out["n"] = n
    return out


def rates(work):
    names = [os.path.basename(p)[:-6]
             for p in glob.glob(os.path.join(work, "rate*.media"))]
    key = lambda nm: (int(nm[4:].split("_")[0]),
                      MODES.index(nm.split("_")[1]))
    out, rows = {}, []
    for name in sorted(names, key=key):
        r = load(work, name)
        rate, mode = name[4:].split("_", 1)
        sent = r["media"].get("voip", 0)
        calls = int(rate) // 100
        out[(int(rate), mode)] = (r["lost"], sent - r["cdr_rtp"],
                                  r["media"].get("pps", 0))
        rows.append([rate, mode, fmt(r["media"].get("pps")), fmt(r["offered"]),
                     fmt(r["delivered"]), fmt(r["lost"]), fmt(r["net_drops"]),
                     "%d/%d" % (r["cdrs"], calls),
                     "%s/%s" % (fmt(r["cdr_rtp"]), fmt(sent)),
                     fmt(100 * r["daemon_ms"] / 1e3 / r["window_s"], "{:.0f}")])
    if rows:
        print("\n  VoIP only (calls of 50 pps per direction): capture loss")
        table(rows, ["rate", "mode", "sent pps", "offered", "to user",
                     "capture lost", "net drops", "CDRs", "RTP in CDRs/sent",
                     "daemon CPU %"])
    return out


def goals(mix, unrel, rate):
    print("\n  Goals (issue 3), printed, not asserted:")
    tr = unrel.get("testrun", {})
    n = unrel.get("n") or 1
    cp = unrel.get("copy")
    print("    unrelated traffic < 50 ns/frame (copy mode):\n"
          "      program alone, BPF_PROG_TEST_RUN less the test loop: %s\n"
          "      program in traffic, bpf_stats less the reference's: %s ns\n"
          "      sensor CPU per unrelated frame (daemon + kernel, perf): %s ns"
          % (", ".join("%s %d ns (raw %d)" % (k, v[0], v[1])
                       for k, v in tr.items()) or "-",
             fmt(unrel.get("prog")),
             fmt(cp * 1e6 / n if cp is not None else None)))
    pc = mix.get("pcap")
    if pc:
        print("    sensor CPU <= 1/3 of libpcap's at equal load: %s" % ", ".join(
            "%s %s" % (m, fmt(100 * mix[m] / pc, "{:.0f}%"))
            for m in ("copy", "afxdp") if mix.get(m) is not None))
    net = mix.get("net", {})
    if net.get("pcap"):
        print("      as the issue defines it (softirq added, less veth's XDP"
              " tax): %s" % ", ".join(
                  "%s %s" % (m, fmt(100 * net[m] / net["pcap"], "{:.0f}%"))
                  for m in ("copy", "afxdp") if net.get(m) is not None))
    un = unrel.get("net", {})
    if un.get("copy") is not None:
        print("      per unrelated frame, the same way: copy %s ns, afxdp %s ns"
              % (fmt(un["copy"] * 1e6 / n),
                 fmt(un["afxdp"] * 1e6 / n if un.get("afxdp") is not None
                     else None)))
    for (r, m), (lost, rtp_lost, pps) in sorted(rate.items()):
        if r == 200000:
            print("    no capture loss at 200k VoIP pps: %-5s %s lost in capture,"
                  " %s RTP missing from CDRs (sent at %s pps)"
                  % (m, fmt(lost), fmt(rtp_lost), fmt(pps)))


def main():
    work, calls, noise = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    mix = mixed(work, calls, noise)
    unrel = unrelated(work)
    rate = rates(work)
    goals(mix, unrel, rate)


if __name__ == "__main__":
    main()
