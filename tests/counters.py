#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Per-port counters and old clients, for tests/counters.sh. Runs in the
sending namespace (h1) and reads the counters of the port in h2 through
the `fou` family (a GET carrying an empty STATS attribute). Prints TAP
lines without numbers ("ok - what", "not ok - what", "# detail").

  counters.py rx DST PORT        25 GUE datagrams (20 to UDP, 5 to protocol
                                 253, which has no handler): rx-packets,
                                 rx-bytes and no-handler exact, no drop
  counters.py direct DST PORT    3 datagrams to a direct port of protocol
                                 253: rx-packets, rx-bytes, no-handler
  counters.py causes DST PORT    each malformed GUE header of gue_input.py,
                                 once: exactly its own drop counter moves
  counters.py csum DST PORT      a datagram with a bad UDP checksum:
                                 drop-csum, and nothing else
  counters.py oldclient          ADD as vishvananda/netlink sent it before
                                 May 2026 (GUE with IPPROTO 0) succeeds; a
                                 direct port with IPPROTO 0 is ERANGE
"""
import ctypes
import os
import socket
import struct
import sys
import time

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)
own_ns = os.open("/proc/self/ns/net", os.O_RDONLY)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        sys.exit(f"Bail out! setns: {os.strerror(ctypes.get_errno())}")


# The netlink socket (genl.py makes it when imported) lives in h2, where the
# ports are; the sending sockets are made back in this namespace.
setns(os.open("/run/netns/h2", os.O_RDONLY))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import genl  # noqa: E402
import gue_input  # noqa: E402
setns(own_ns)

STATS = 12
NAMES = {1: "rx-packets", 2: "rx-bytes", 3: "drop-malformed", 4: "drop-gue-unknown",
         5: "drop-control", 6: "drop-proto", 7: "no-handler", 8: "drop-remcsum",
         9: "drop-nomem", 10: "drop-csum"}
failed = 0


def ok(good, what, *detail):
    global failed
    print(("ok - " if good else "not ok - ") + what)
    if not good:
        failed += 1
        for d in detail:
            print(f"# {d}")


def stats(af, port):
    """The port's counters by name, from a GET carrying STATS."""
    err, text, msgs = genl.g.call(genl.CMD_GET, genl.be16(genl.PORT, port) + genl.u8(genl.AF, af)
                                  + genl.attr(STATS, b""))
    if err or not msgs:
        sys.exit(f"Bail out! GET of port {port}: {err} {text}")
    m, p = msgs[0], 20
    while p + 4 <= len(m):
        al, at = struct.unpack_from("=HH", m, p)
        if at == STATS | 0x8000 or at == STATS:
            out, q = {}, p + 4
            while q + 4 <= p + al:
                bl, bt = struct.unpack_from("=HH", m, q)
                out[NAMES[bt]] = struct.unpack_from("=Q", m, q + 4)[0]
                q += (bl + 3) & ~3
            if sorted(out) != sorted(NAMES.values()):
                sys.exit(f"Bail out! STATS holds {sorted(out)}")
            return out
        p += (al + 3) & ~3
    sys.exit("Bail out! no STATS in the reply")


def delta(before, after):
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


def settle(af, port, before, want):
    """The counters once they moved as `want` says (or after 3 s)."""
    end = time.time() + 3
    while True:
        now = stats(af, port)
        if delta(before, now) == want or time.time() > end:
            return now
        time.sleep(0.05)


def family(dst):
    return 10 if ":" in dst else 2


def send(dst, port, datagrams):
    gue_input.send_udp(dst, port, datagrams)


def inner_udp(n):
    return gue_input.udp(40000, 7000, b"c" * n)


def rx(dst, port):
    af = family(dst)
    before = stats(af, port)
    to_udp = [gue_input.gue0(17) + inner_udp(i) for i in range(20)]
    unhandled = [gue_input.gue0(253) + b"u" * (10 + i) for i in range(5)]
    send(dst, port, to_udp + unhandled)
    nbytes = sum(len(d) - 4 for d in to_udp + unhandled)
    want = {"rx-packets": 25, "rx-bytes": nbytes, "no-handler": 5}
    got = delta(before, settle(af, port, before, want))
    ok(got == want, f"IPv{4 if af == 2 else 6} GUE port: 25 datagrams, rx-packets 25, rx-bytes {nbytes} "
       "(the inner packets), no-handler 5 (protocol 253), no drop", f"moved: {got}")


def direct(dst, port):
    af = family(dst)
    before = stats(af, port)
    payloads = [b"d" * (20 + i) for i in range(3)]
    send(dst, port, payloads)
    want = {"rx-packets": 3, "rx-bytes": sum(map(len, payloads)), "no-handler": 3}
    got = delta(before, settle(af, port, before, want))
    ok(got == want, f"IPv{4 if af == 2 else 6} direct port of protocol 253: 3 datagrams counted, "
       "each without a handler", f"moved: {got}")


# What each of gue_input.hostile()'s datagrams must count, in its order.
CAUSES = [
    ("version 2", "drop-gue-unknown"),
    ("version 3", "drop-gue-unknown"),
    ("version 1, IP version 5", "drop-gue-unknown"),
    ("version 1, IP version 7", "drop-gue-unknown"),
    ("options beyond the packet", "drop-malformed"),
    ("hlen 31 and nothing after", "drop-malformed"),
    ("unknown flag", "drop-gue-unknown"),
    ("unknown private flag", "drop-gue-unknown"),
    ("private flags without their word", "drop-gue-unknown"),
    ("remote checksum offset before its start", "drop-remcsum"),
    ("remote checksum offset past the end", "drop-remcsum"),
    ("remote checksum start and offset past the end", "drop-remcsum"),
    ("control message", "drop-control"),
    ("inner protocol 0", "drop-proto"),
    ("options cut short", "drop-malformed"),
    ("shorter than a GUE header", "drop-malformed"),
]


def causes(dst, port):
    af = family(dst)
    kinds = gue_input.hostile()
    if len(kinds) != len(CAUSES):
        sys.exit(f"Bail out! {len(kinds)} hostile kinds, {len(CAUSES)} expected")
    for (what, counter), d in zip(CAUSES, kinds):
        before = stats(af, port)
        send(dst, port, [d])
        want = {counter: 1}
        got = delta(before, settle(af, port, before, want))
        ok(got == want, f"IPv{4 if af == 2 else 6} GUE {what}: {counter} counts it, nothing else moves",
           f"moved: {got}")


def csum(dst, port):
    af = family(dst)
    before = stats(af, port)
    # Longer than 76 bytes: UDP verifies shorter datagrams before it finds
    # their socket, and drops them uncounted there (CHECKSUM_BREAK).
    payload = gue_input.gue0(17) + inner_udp(100)
    if af == 2:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    else:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_UDP)
    # A checksum that cannot be right: not 0 (none), and the sum of the
    # datagram with it is not 0xffff.
    hdr = struct.pack("!HHHH", 40000, port, 8 + len(payload), 0x1234)
    s.sendto(hdr + payload, (dst, 0))
    want = {"drop-csum": 1}
    got = delta(before, settle(af, port, before, want))
    ok(got == want, f"IPv{4 if af == 2 else 6} GUE port: a bad UDP checksum counts in drop-csum, "
       "nothing else moves", f"moved: {got}")


def oldclient():
    g = genl.g
    # vishvananda/netlink's FouAdd: PORT, TYPE, AF, IPPROTO, in that order.
    msg = genl.be16(genl.PORT, 6100) + genl.u8(genl.TYPE, 2) + genl.u8(genl.AF, 2) + genl.u8(genl.IPPROTO, 0)
    err, text, _ = g.call(genl.CMD_ADD, msg)
    ok(err == 0, "GUE ADD with IPPROTO 0, as vishvananda/netlink sent it, succeeds", f"got {err} {text}")
    _, ports = g.ports()
    ok((2, 6100) in ports, "the port it added is listed", f"ports: {ports}")
    err, _, _ = g.call(genl.CMD_DEL, genl.be16(genl.PORT, 6100) + genl.u8(genl.AF, 2))
    ok(err == 0, "and deleted", f"got {err}")
    msg = genl.be16(genl.PORT, 6101) + genl.u8(genl.TYPE, 1) + genl.u8(genl.AF, 2) + genl.u8(genl.IPPROTO, 0)
    err, text, _ = g.call(genl.CMD_ADD, msg)
    ok(err == 34 and text is not None, "a direct ADD with IPPROTO 0 is still ERANGE, with a message",
       f"got {err} {text}")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "oldclient":
        oldclient()
    else:
        {"rx": rx, "direct": direct, "causes": causes, "csum": csum}[cmd](args[0], int(args[1]))
    sys.exit(1 if failed else 0)


main()
