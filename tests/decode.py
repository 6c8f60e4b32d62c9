#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Decodes one packet from `tcpdump -xx` output, layer by layer.

Reads tcpdump's hex dump on standard input (Ethernet, IPv4, UDP, GRE, inner
Ethernet, ARP or IPv4/IPv6) and prints each layer the way the seed slides
annotate the capture. With --json, prints the decoded fields instead, for
tests; with --gue-json, the GUE header after an IPv4 or IPv6 outer UDP
header.
"""
import json
import re
import struct
import sys


def hexbytes(text):
    data = b""
    started = False
    for line in text.splitlines():
        m = re.match(r"\s*0x([0-9a-f]{4}):\s+((?:[0-9a-f]{2,4}\s?)+)", line)
        if not m:
            if started:
                break
            continue
        started = True
        hexpart = m.group(2).split("  ")[0]
        data += bytes.fromhex(hexpart.replace(" ", ""))
    return data


def mac(b):
    return ":".join(f"{x:02x}" for x in b)


def ip4(b):
    return ".".join(str(x) for x in b)


def decode(p):
    f = {}
    layers = []
    o = 0
    dst, src, et = p[0:6], p[6:12], struct.unpack("!H", p[12:14])[0]
    f.update(eth_dst=mac(dst), eth_src=mac(src), eth_type=et)
    layers.append(("Outer Ethernet", p[0:14], f"dst {mac(dst)}  src {mac(src)}  type 0x{et:04x}"))
    o = 14
    if et != 0x0800:
        return f, layers
    ihl = (p[o] & 0xf) * 4
    tot, ident, ttl, proto = struct.unpack("!H", p[o + 2:o + 4])[0], struct.unpack("!H", p[o + 4:o + 6])[0], p[o + 8], p[o + 9]
    f.update(ip_len=tot, ip_proto=proto, ip_src=ip4(p[o + 12:o + 16]), ip_dst=ip4(p[o + 16:o + 20]))
    layers.append(("Outer IPv4", p[o:o + ihl],
                   f"len {tot}  id 0x{ident:04x}  ttl {ttl}  proto {proto}  {f['ip_src']} -> {f['ip_dst']}"))
    o += ihl
    if proto != 17:
        return f, layers
    sport, dport, ulen, ucs = struct.unpack("!HHHH", p[o:o + 8])
    f.update(udp_sport=sport, udp_dport=dport, udp_len=ulen, udp_csum=ucs)
    layers.append(("Outer UDP (FOU)", p[o:o + 8],
                   f"sport 0x{sport:04x} = {sport}  dport 0x{dport:04x} = {dport}  "
                   f"len 0x{ulen:04x} = {ulen} ({ulen - 8} bytes of payload)  csum 0x{ucs:04x}"))
    o += 8
    gflags, gproto = struct.unpack("!HH", p[o:o + 4])
    f.update(gre_flags=gflags, gre_proto=gproto)
    layers.append(("GRE", p[o:o + 4], f"flags/version 0x{gflags:04x}  protocol 0x{gproto:04x}"
                   + (" (Transparent Ethernet Bridging)" if gproto == 0x6558 else "")))
    o += 4
    if gproto != 0x6558:
        return f, layers
    idst, isrc, iet = p[o:o + 6], p[o + 6:o + 12], struct.unpack("!H", p[o + 12:o + 14])[0]
    f.update(inner_dst=mac(idst), inner_src=mac(isrc), inner_type=iet)
    layers.append(("Inner Ethernet", p[o:o + 14], f"dst {mac(idst)}  src {mac(isrc)}  type 0x{iet:04x}"))
    o += 14
    if iet == 0x0806:
        op = struct.unpack("!H", p[o + 6:o + 8])[0]
        sha, spa, tha, tpa = p[o + 8:o + 14], p[o + 14:o + 18], p[o + 18:o + 24], p[o + 24:o + 28]
        f.update(arp_op=op, arp_sha=mac(sha), arp_spa=ip4(spa), arp_tpa=ip4(tpa))
        layers.append(("ARP", p[o:o + 28], f"{'request' if op == 1 else op}: who-has {ip4(tpa)} tell {ip4(spa)} ({mac(sha)})"))
    return f, layers


def gue(p):
    """The GUE header fields of an Ethernet/IP/UDP/GUE packet."""
    et = struct.unpack("!H", p[12:14])[0]
    o = 14 + ((p[14] & 0xf) * 4 if et == 0x0800 else 40)
    o += 8
    w = p[o:o + 4]
    f = {"version": w[0] >> 6}
    if f["version"] != 0:
        f["inner_version"] = w[0] >> 4
        return f
    f.update(hlen=w[0] & 0x1f, proto=w[1], flags=struct.unpack("!H", w[2:4])[0], control=(w[0] >> 5) & 1)
    opts = p[o + 4:o + 4 + 4 * f["hlen"]]
    if f["flags"] & 1 and len(opts) >= 4:
        f["pflags"] = struct.unpack("!I", opts[0:4])[0]
        if f["pflags"] & (1 << 31) and len(opts) >= 8:
            f["csum_start"], f["csum_offset"] = struct.unpack("!HH", opts[4:8])
    return f


def main():
    p = hexbytes(sys.stdin.read())
    if not p:
        sys.exit("decode.py: no packet in the input")
    if "--gue-json" in sys.argv:
        print(json.dumps(gue(p)))
        return
    f, layers = decode(p)
    if "--json" in sys.argv:
        print(json.dumps(f))
        return
    for name, raw, text in layers:
        hexs = " ".join(raw[i:i + 2].hex() for i in range(0, len(raw), 2))
        print(f"  {name:16} {hexs}")
        print(f"  {'':16} {text}")


main()
