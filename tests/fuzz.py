# SPDX-License-Identifier: GPL-2.0
"""Generated hostile input, shared by tests/stress.py (volume) and
tests/differential.py (the same input to the C module and to fou_rs):
generic netlink requests to `fou` and GUE payloads. Each generator draws
from the random.Random it is given, so a seed names a sequence."""
import struct

from genl import (AF, IFINDEX, IPPROTO, LOCAL_V4, LOCAL_V6, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, PEER_PORT,
                  PEER_V4, PEER_V6, PORT, REMCSUM_NOPARTIAL, TYPE, CMD_ADD, CMD_DEL, CMD_GET, attr)

NLA_F_NESTED = 0x8000
NLM_F_ECHO = 8
# Every attribute of the family, none (0), and 12 (fou_rs's STATS, which
# the C module does not know).
ATTR_TYPES = [PORT, AF, IPPROTO, TYPE, REMCSUM_NOPARTIAL, LOCAL_V4, LOCAL_V6, PEER_V4,
              PEER_V6, PEER_PORT, IFINDEX, 0, 12]


def random_request(rnd):
    """A generic netlink request with random attributes (types, lengths,
    payloads, nesting), flags, command and version: (cmd, attrs, flags,
    version)."""
    attrs = b""
    for _ in range(rnd.randint(0, 6)):
        t = rnd.choice(ATTR_TYPES + [rnd.randint(0, 0x7fff)])
        ln = rnd.choice([0, 1, 2, 3, 4, 8, 15, 16, 17, rnd.randint(0, 64)])
        attrs += attr(t, bytes(rnd.getrandbits(8) for _ in range(ln)))
    if rnd.random() < 0.1:
        # Everything nested inside one attribute marked as nested.
        attrs = attr(rnd.choice(ATTR_TYPES) | NLA_F_NESTED, attrs)
    flags = NLM_F_REQUEST | NLM_F_ACK | rnd.choice([0, 0, 0, NLM_F_DUMP, 0x100, 0x200, NLM_F_ECHO])
    cmd = rnd.choice([CMD_ADD, CMD_DEL, CMD_GET, rnd.randint(0, 255)])
    version = 1 if rnd.random() < 0.9 else rnd.randint(0, 255)
    return cmd, attrs, flags, version


def gue_datagram(rnd):
    """A GUE-ish payload: every version, flag and option combination,
    remote checksum offsets at and past the edges, inner protocols 0, 17
    and unknown, truncated or random."""
    kind = rnd.randrange(6)
    inner = bytes(rnd.getrandbits(8) for _ in range(rnd.choice([0, 1, 20, 40, 100])))
    if kind == 0:
        return bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 200)))
    if kind == 1:
        # Version 1 with every nibble.
        return bytes([0x40 | rnd.randrange(16) << 0 | (rnd.choice([4, 5, 6, 7]) << 4)]) + inner
    hlen = rnd.choice([0, 1, 2, 3, rnd.randrange(32)])
    flags = rnd.choice([0, 1, 1, 1 << rnd.randrange(16)])
    pflags = rnd.choice([0, 1 << 31, 1 << 31, 1 << rnd.randrange(32)])
    start = rnd.choice([0, 1, 20, len(inner), len(inner) + 1, rnd.randrange(65536)])
    off = rnd.choice([start, start + 1, start + 6, len(inner) - 2, len(inner) - 1, len(inner),
                      rnd.randrange(65536)]) & 0xFFFF
    opts = struct.pack("!IHH", pflags, start, off)[:hlen * 4] + bytes(max(0, hlen * 4 - 8))
    word = bytes([(rnd.choice([0, 0, 0, 2, 3]) << 6) | (0x20 if rnd.random() < 0.1 else 0) | hlen,
                  rnd.choice([0, 4, 17, 41, 47, 136, 253, rnd.randrange(256)])]) + struct.pack("!H", flags)
    d = word + opts + inner
    if kind == 5:
        d = d[:rnd.randint(1, max(1, len(d)))]
    return d
