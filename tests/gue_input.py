#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Crafted GUE datagrams and ICMP errors for tests/gue_input.sh.

  gue_input.py hostile DST PORT        send every malformed GUE header kind,
                                       print "sent N"
  gue_input.py v1 DST PORT SRC4 DST4   send a GUE version 1 datagram holding
                                       an IPv4/UDP packet SRC4 -> DST4:7000
  gue_input.py icmp OUTER_SRC OUTER_DST DPORT KIND
                                       send to OUTER_SRC an ICMP "host
                                       unreachable" (or ICMPv6 "address
                                       unreachable") quoting a packet
                                       OUTER_SRC -> OUTER_DST
                                       to UDP port DPORT whose payload is KIND:
                                       ipip, gue-udp, gue-udplite, gue-ipip,
                                       truncated (2 bytes after UDP),
                                       truncated-opts (GUE options cut)
"""
import ipaddress
import socket
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def ipv6(src, dst, nh, payload):
    return (struct.pack("!IHBB", 6 << 28, len(payload), nh, 64)
            + socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) + payload)


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def gue0(proto, flags=0, opts=b"", control=False):
    assert len(opts) % 4 == 0
    return bytes([(0x20 if control else 0) | len(opts) // 4, proto]) + struct.pack("!H", flags) + opts


def hostile():
    """Every way a GUE header must be refused, each several times."""
    inner = ipv4("192.168.9.1", "192.168.9.2", 17, udp(1, 7000, b"x" * 8))
    remcsum = lambda start, off: struct.pack("!IHH", 1 << 31, start, off)
    kinds = [
        bytes([0x80, 4, 0, 0]) + inner,                  # version 2
        bytes([0xC0, 4, 0, 0]) + inner,                  # version 3
        bytes([0x55]) + inner[1:],                       # version 1, nibble 5
        bytes([0x75]) + inner[1:],                       # version 1, nibble 7
        bytes([0x05, 4, 0, 0]) + b"\0" * 8,              # hlen beyond the packet
        bytes([0x1F, 4, 0, 1]),                          # hlen 31, nothing after
        gue0(4, flags=0x8000) + inner,                   # unknown flag
        gue0(4, flags=0x0001, opts=b"\0\0\0\1") + inner,  # unknown private flag
        gue0(4, flags=0x0001) + inner,                   # PRIV without its word
        gue0(4, flags=0x0001, opts=remcsum(30, 20)) + inner,    # offset < start
        gue0(4, flags=0x0001, opts=remcsum(20, 60000)) + inner,  # past the end
        gue0(4, flags=0x0001, opts=remcsum(60000, 60000)) + inner,
        gue0(4, control=True) + inner,                   # control message
        gue0(0) + inner,                                 # proto_ctype 0
        gue0(4, flags=0x0001, opts=remcsum(20, 36))[:6],  # options cut short
        b"\0\0\0",                                       # shorter than GUE
    ]
    return kinds


def send_udp(dst, port, datagrams, repeat=1):
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    n = 0
    for _ in range(repeat):
        for d in datagrams:
            s.sendto(d, (dst, port))
            n += 1
    return n


def icmp(outer_src, outer_dst, dport, kind):
    inner = ipv4("192.168.7.1", "192.168.7.2", 1, b"\x08\0\0\0\0\0\0\0")
    payload = {
        "ipip": inner,
        "gue-udp": gue0(17) + inner,
        "gue-udplite": gue0(136) + inner,
        "gue-ipip": gue0(4) + inner,
        "truncated": b"\0\0",
        "truncated-opts": gue0(4, flags=0x0001, opts=b"\0" * 8)[:8],
    }[kind]
    if ":" in outer_src:
        quoted = ipv6(outer_src, outer_dst, 17, udp(40000, dport, payload))
        # ICMPv6 destination unreachable, address unreachable; the kernel
        # fills in the checksum.
        msg = struct.pack("!BBHI", 1, 3, 0, 0) + quoted
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        s.sendto(msg, (outer_src, 0))
    else:
        quoted = ipv4(outer_src, outer_dst, 17, udp(40000, dport, payload))
        # Destination unreachable, host unreachable.
        msg = struct.pack("!BBHI", 3, 1, 0, 0) + quoted
        msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        s.sendto(msg, (outer_src, 0))


def main():
    cmd = sys.argv[1]
    if cmd == "hostile":
        print("sent", send_udp(sys.argv[2], int(sys.argv[3]), hostile(), repeat=10))
    elif cmd == "v1":
        inner = ipv4(sys.argv[4], sys.argv[5], 17, udp(1, 7000, b"gue version 1\n"))
        print("sent", send_udp(sys.argv[2], int(sys.argv[3]), [inner]))
    elif cmd == "icmp":
        icmp(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(f"gue_input.py: unknown command {cmd}")


if __name__ == "__main__":
    main()
