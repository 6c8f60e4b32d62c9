#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Compares the outer headers of a probe and its answer, one sent by each
side of a tunnel with the same configuration (tcpdump -xx output on stdin):
the whole outer IPv4 or IPv6 header (extension headers included), the UDP
header, and the BYTES bytes after it (the GRE header, or the GUE header
with its options: private flags and remote checksum offload).

  interop.py BYTES MARKER [auto]

Only packets carrying MARKER (hex) twice count: the tunnel also carries
other packets (IPv6 router solicitations through ip6gre, late TCP segments
of iperf3). The first two such packets must come from different outer
sources: the probe from this side, the answer from the other. Their
addresses must mirror each other. Fields that legitimately differ between
two senders are named and not compared: the IPv4 identification and so
the header checksum, the IPv6 flow label (from the flow hash), the UDP
checksum's value (only whether one is set), and with `auto` the UDP source
port (from the flow hash: only that it is in the ephemeral range).

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


def headers(p, n):
    """(source, destination, compared fields, fields not compared)."""
    et = struct.unpack("!H", p[12:14])[0]
    same, differ = {}, {}
    if et == 0x0800:
        h = p[14:14 + (p[14] & 0xF) * 4]
        src, dst = h[12:16], h[16:20]
        same.update({"ip version/ihl": h[0], "ip tos": h[1], "ip total length": h[2:4].hex(),
                     "ip flags/fragment": h[6:8].hex(), "ip ttl": h[8], "ip protocol": h[9],
                     "ip options": h[20:].hex()})
        differ.update({"ip id": h[4:6].hex(), "ip checksum": h[10:12].hex()})
        o = 14 + len(h)
    else:
        h = p[14:54]
        src, dst = h[8:24], h[24:40]
        word = struct.unpack("!I", h[0:4])[0]
        same.update({"ip6 version/class": word >> 20, "ip6 payload length": h[4:6].hex(),
                     "ip6 next header": h[6], "ip6 hop limit": h[7]})
        differ["ip6 flow label"] = word & 0xFFFFF
        # Hop-by-hop, routing and destination options headers (the tunnel's
        # encapsulation limit), compared whole.
        nh, o = h[6], 54
        while nh in (0, 43, 60):
            ln = (p[o + 1] + 1) * 8
            same[f"ip6 extension header {nh}"] = p[o:o + ln].hex()
            nh, o = p[o], o + ln
    sport, dport, ln, cs = struct.unpack("!HHHH", p[o:o + 8])
    same.update({"udp source port": sport, "udp destination port": dport, "udp length": ln,
                 "udp checksum set": cs != 0, f"{n} bytes after udp": p[o + 8:o + 8 + n].hex()})
    differ["udp checksum"] = f"{cs:04x}"
    return src.hex(), dst.hex(), same, differ


def show(what, h):
    fields = ", ".join(f"{k} {v}" for k, v in h[2].items())
    own = ", ".join(f"{k} {v}" for k, v in h[3].items())
    return f"{what} {h[0]} -> {h[1]}: {fields}; not compared: {own}"


n, marker = int(sys.argv[1]), bytes.fromhex(sys.argv[2]) * 2
auto = len(sys.argv) > 3 and sys.argv[3] == "auto"
ps = [p for p in packets(sys.stdin.read()) if marker in p]
if len(ps) < 2:
    print(f"interop.py: {len(ps)} packets with the probe's pattern captured, need 2")
    sys.exit(2)
a, b = headers(ps[0], n), headers(ps[1], n)
if auto:
    # Linux's default ip_local_port_range, which udp_flow_src_port uses.
    for h in (a, b):
        sp = h[2].pop("udp source port")
        h[3]["udp source port"] = sp
        if not 32768 <= sp <= 60999:
            print(f"interop.py: automatic source port {sp} outside 32768-60999")
            sys.exit(1)
print(show("sent:    ", a))
print(show("received:", b))
if a[0] == b[0]:
    print("interop.py: both packets come from the same outer source")
    sys.exit(1)
if (a[0], a[1]) != (b[1], b[0]):
    print("interop.py: the addresses do not mirror each other")
    sys.exit(1)
bad = [k for k in a[2] if a[2][k] != b[2].get(k)] + [k for k in b[2] if k not in a[2]]
if bad:
    print("interop.py: differ: " + ", ".join(bad))
    sys.exit(1)
sys.exit(0)
