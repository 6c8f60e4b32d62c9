#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Compares the encapsulation headers of an echo request and its reply
(tcpdump -xx output on stdin, same configuration on both ends): the UDP
header (ports, length, whether a checksum is set) and the BYTES bytes after
it (GRE or GUE header). Only packets carrying MARKER (hex, the ping
pattern) twice count: the tunnel also carries other packets (IPv6 router
solicitations through ip6gre, late TCP segments of iperf3), which have
other lengths. The first two such packets must come from different outer
sources: the request from this side, the reply from the other.
Prints both; exits 0 when they match, 1 when they differ, 2 when fewer
than two marked packets were captured."""
import re
import struct
import sys


def packets(text):
    out, cur = [], None
    for line in text.splitlines():
        m = re.match(r"\s*0x([0-9a-f]{4}):\s+((?:[0-9a-f]{2,4}\s?)+)", line)
        if m:
            if cur is not None:
                cur += bytes.fromhex(m.group(2).split("  ")[0].replace(" ", ""))
        elif line and not line[0].isspace():
            cur = bytearray()
            out.append(cur)
    return [bytes(p) for p in out if p]


def encap(p, n):
    """(outer source, sport, dport, UDP length, checksum set, next N bytes)."""
    et = struct.unpack("!H", p[12:14])[0]
    if et == 0x0800:
        src, o = p[26:30], 14 + (p[14] & 0xF) * 4
    else:
        # IPv6, through hop-by-hop, routing and destination options headers.
        src, nh, o = p[22:38], p[14 + 6], 14 + 40
        while nh in (0, 43, 60):
            nh, o = p[o], o + (p[o + 1] + 1) * 8
    sport, dport, ln, cs = struct.unpack("!HHHH", p[o:o + 8])
    return (src.hex(), sport, dport, ln, cs != 0, p[o + 8:o + 8 + n].hex())


def show(what, e):
    return (f"{what} sport {e[1]} dport {e[2]} len {e[3]} "
            f"csum {'set' if e[4] else 'zero'} then {e[5]}")


n, marker = int(sys.argv[1]), bytes.fromhex(sys.argv[2]) * 2
ps = [p for p in packets(sys.stdin.read()) if marker in p]
if len(ps) < 2:
    print(f"interop.py: {len(ps)} packets with the ping's pattern captured, need 2")
    sys.exit(2)
a, b = encap(ps[0], n), encap(ps[1], n)
print(show("sent:    ", a))
print(show("received:", b))
if a[0] == b[0]:
    print("interop.py: both packets come from the same outer source")
    sys.exit(1)
sys.exit(0 if a[1:] == b[1:] else 1)
