#!/usr/bin/env python3
# abuse_client.py: bad peers for a central server's channel port
# (tests/integration/t_dist_abuse.sh). Every connection is made from SRC
# (port chosen by the kernel) and reported as one line on stdout:
#   <kind> <src_port> <what happened>
# so that the test can find the server's log line for that exact peer.
#
# Usage: abuse_client.py KIND SRC HOST PORT [args]
#   garbage            plain TCP, 4 KiB of random bytes (not TLS), wait close
#   silent             plain TCP, sends nothing; reports when the server
#                      closed it (seconds after connect)
#   tls-silent         TLS done, then nothing (same report)
#   tls-unknown        TLS, then a frame of type 200
#   tls-oversize LEN   TLS, then a frame header with raw/wire length LEN
#   tls-truncated      TLS, then 10 of the 100 payload bytes a header
#                      announces, then close
#   tls-wrongtype      TLS, then a CDR frame (type 6) instead of HELLO
#   tls-badhello       TLS, then a HELLO whose payload is not JSON
#   flood N HOLD       N plain TCP connections open at once, "open" printed
#                      when all are, held HOLD seconds, then all closed;
#                      then N/5 TLS handshakes, each closed right after
# Exit 0 unless a connection could not be made at all.
import os
import socket
import ssl
import struct
import sys
import time
from concurrent.futures import ThreadPoolExecutor

WAIT_CLOSE_S = 20.0  # longest wait for the server to close a connection


def say(*words):
    print(*words, flush=True)


def tcp(src, host, port):
    s = socket.create_connection((host, port), timeout=10,
                                 source_address=(src, 0))
    return s, s.getsockname()[1]


def tls(src, host, port):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # no pinning: a stranger
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    s, sport = tcp(src, host, port)
    return ctx.wrap_socket(s), sport


def frame(ftype, payload, length=None):
    n = len(payload) if length is None else length
    return struct.pack(">BBBBII", 1, ftype, 0, 0, n, n) + payload


def wait_close(s, t0):
    """Reads until the server closes; returns (seconds since t0, bytes)."""
    got = b""
    s.settimeout(WAIT_CLOSE_S)
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    return time.monotonic() - t0, got


def error_text(got):
    """The text of an ERROR frame (type 5) the server sent, if any."""
    if len(got) >= 14 and got[1] == 5:
        n = struct.unpack(">I", got[4:8])[0]
        return got[14:12 + n].decode("utf-8", "replace")
    return ""


def report(kind, sport, s, t0):
    dt, got = wait_close(s, t0)
    closed = "closed" if dt < WAIT_CLOSE_S else "still-open"
    txt = error_text(got)
    say(kind, sport, closed, "%.2f" % dt, ("error=" + txt) if txt else "")
    s.close()


def one(kind, src, host, port, args):
    t0 = time.monotonic()
    if kind in ("garbage", "silent"):
        s, sport = tcp(src, host, port)
        if kind == "garbage":
            s.sendall(os.urandom(4096))
        report(kind, sport, s, t0)
        return
    s, sport = tls(src, host, port)
    t0 = time.monotonic() if kind != "tls-silent" else t0
    if kind == "tls-unknown":
        s.sendall(frame(200, b"x" * 16))
    elif kind == "tls-oversize":
        s.sendall(frame(1, b"", int(args[0])))
    elif kind == "tls-truncated":
        s.sendall(frame(1, b"{" * 10, 100))
        s.close()
        say(kind, sport, "sent-and-closed")
        return
    elif kind == "tls-wrongtype":
        s.sendall(frame(6, b"\0" * 40))
    elif kind == "tls-badhello":
        s.sendall(frame(1, b"\x00\xffnot json at all"))
    elif kind != "tls-silent":
        raise SystemExit("unknown kind " + kind)
    report(kind, sport, s, t0)


def flood(src, host, port, n, hold):
    socks = []
    for _ in range(n):
        s, sport = tcp(src, host, port)
        socks.append(s)
        say("flood-tcp", sport)
    say("open", len(socks))
    time.sleep(hold)
    for s in socks:
        s.close()

    def hs(_):
        s, sport = tls(src, host, port)
        s.close()
        return sport

    with ThreadPoolExecutor(8) as ex:
        for sport in ex.map(hs, range(max(1, n // 5))):
            say("flood-tls", sport)
    say("done")


def main():
    if len(sys.argv) < 5:
        raise SystemExit("usage: abuse_client.py KIND SRC HOST PORT [args] "
                         "(kinds: see the header of this file)")
    kind, src, host, port = sys.argv[1:5]
    if kind == "flood":
        flood(src, host, int(port), int(sys.argv[5]), float(sys.argv[6]))
    else:
        one(kind, src, host, int(port), sys.argv[5:])


if __name__ == "__main__":
    main()
