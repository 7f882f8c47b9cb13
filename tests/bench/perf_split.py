#!/usr/bin/env python3
"""Splits a perf profile of the sender's CPU by the code the sensor adds.

Reads `perf script -F comm,period,ip,sym` (cpu-clock samples with call
chains) on stdin and prints "perf_<part>_ns N" lines: the CPU time of the
samples whose call chain passes through that part. Only the bench's sender
(whose sends run the receive softirq) and ksoftirqd count, so that other
processes on the CPU, even other XDP users, are left out.

  prog   the sensor's XDP program and the helpers it calls (parsing, map
         lookups, copies into the ring buffer)
  wake   ring buffer wakeups (irq_work) of the copy mode's reader
  xsk    AF_XDP: redirect, copy into the UMEM, socket wakeups
  tap    libpcap: the AF_PACKET tap, its classic BPF filter, TPACKET_V3 copy
  stack  not the sensor's: the IP stack's receive path for the frames that
         get past the hook (XDP_PASS, or no XDP at all), up to where it drops
         them; what afxdp saves by dropping at XDP shows here
  all    every sample of the sender and ksoftirqd
"""
import sys

COMMS = ("vsblast", "ksoftirqd/0")
PARTS = (  # first match wins, in this order
    ("tap", ("tpacket_rcv", "packet_rcv", "run_filter")),
    ("xsk", ("xdp_do_redirect", "xsk_rcv", "__xsk_rcv", "xsk_flush",
             "__xsk_map_flush", "xdp_do_flush", "xsk_generic_rcv")),
    ("wake", ("bpf_ringbuf_notify",)),
    ("prog", ("bpf_prog_",)),
    ("stack", ("__netif_receive_skb_core", "__netif_receive_skb_list_core",
               "netif_receive_skb_list_internal", "process_backlog")),
)


def part_of(chain):
    for name, syms in PARTS:
        for s in chain:
            if any(s.startswith(p) for p in syms):
                return name
    return None


def main():
    ns = {name: 0 for name, _ in PARTS}
    ns["all"] = 0
    comm, period, chain = None, 0, []

    def flush():
        if comm in COMMS:
            ns["all"] += period
            p = part_of(chain)
            if p:
                ns[p] += period

    for line in sys.stdin:
        if not line.strip():
            continue
        if not line[0].isspace():
            flush()
            w = line.split()
            comm, chain = w[0], []
            try:
                period = int(w[1])
            except (IndexError, ValueError):
                comm, period = None, 0
            continue
        w = line.split(None, 1)
        if len(w) == 2:
            chain.append(w[1].strip())
    flush()
    for k, v in ns.items():
        print("perf_%s_ns %d" % (k, v))


if __name__ == "__main__":
    main()
