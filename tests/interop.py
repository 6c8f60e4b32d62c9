#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Compares the encapsulation headers of two captured packets (tcpdump -xx
output on stdin: one each way, same configuration on both ends): the UDP
header (ports, length, whether a checksum is set) and the BYTES bytes after
it (GRE or GUE header). Prints both; exits 0 when they match."""
import re
import struct
import sys


def packets(text):
    out, cur = [], None
    for line in text.splitlines():
        m = re.match(r"\s*0x([0-9a-f]{4}):\s+((?:[0-9a-f]{2,4}\s?)+)", line)
        if m:
            cur += bytes.fromhex(m.group(2).split("  ")[0].replace(" ", ""))
        elif line and not line[0].isspace():
            cur = bytearray()
            out.append(cur)
    return [bytes(p) for p in out if p]


def encap(p, n):
    et = struct.unpack("!H", p[12:14])[0]
    if et == 0x0800:
        o = 14 + (p[14] & 0xF) * 4
    else:
        # IPv6, through hop-by-hop, routing and destination options headers.
        nh, o = p[14 + 6], 14 + 40
        while nh in (0, 43, 60):
            nh, o = p[o], o + (p[o + 1] + 1) * 8
    sport, dport, ln, cs = struct.unpack("!HHHH", p[o:o + 8])
    return (sport, dport, ln, cs != 0, p[o + 8:o + 8 + n].hex())


n = int(sys.argv[1])
ps = packets(sys.stdin.read())
if len(ps) < 2:
    sys.exit(f"interop.py: {len(ps)} packets captured, need 2")
a, b = encap(ps[0], n), encap(ps[1], n)
print(f"sent:     sport {a[0]} dport {a[1]} len {a[2]} csum {'set' if a[3] else 'zero'} then {a[4]}")
print(f"received: sport {b[0]} dport {b[1]} len {b[2]} csum {'set' if b[3] else 'zero'} then {b[4]}")
sys.exit(0 if a == b else 1)
