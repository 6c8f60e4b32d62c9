#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Hand-built netlink messages to the `fou` family, malformed on purpose.

Prints TAP. Every message must get a clean answer (or, for a message the
netlink core cannot even parse, none), the family must keep working, and
nothing may be left configured that was not meant to be.
"""
import errno
import os
import socket
import struct
import sys

from genl import *  # noqa: F401,F403 (the netlink vocabulary)

n = 0
failed = 0


def ok(cond, what, detail=""):
    global n, failed
    n += 1
    if cond:
        print(f"ok {n} - {what}")
    else:
        failed += 1
        print(f"not ok {n} - {what}")
        if detail:
            print(f"# {detail}")


def expect(what, attrs, want, cmd=CMD_ADD, need_msg=False):
    err, text, _ = g.call(cmd, attrs)
    good = err == want and (text is not None or not need_msg)
    ok(good, f"{what}: {name(want)}" + (" with an extack message" if need_msg else ""),
       f"got {name(err)}, extack {text!r}")


def attr_types(m):
    """The attribute types of a reply message."""
    p, types = 20, set()
    while p + 4 <= len(m):
        al, at = struct.unpack_from("=HH", m, p)
        if al < 4:
            break
        types.add(at & 0x3fff)
        p += (al + 3) & ~3
    return types


# Attributes too short for their type: the policy refuses them.
for t, nm in [(PORT, "PORT"), (AF, "AF"), (IPPROTO, "IPPROTO"), (TYPE, "TYPE"),
              (LOCAL_V4, "LOCAL_V4"), (PEER_V4, "PEER_V4"), (PEER_PORT, "PEER_PORT"),
              (IFINDEX, "IFINDEX")]:
    expect(f"empty {nm}", attr(t, b"") + base, errno.ERANGE, need_msg=True)
expect("3-byte LOCAL_V4", attr(LOCAL_V4, b"\1\2\3") + base, errno.ERANGE, need_msg=True)
for t, nm in [(LOCAL_V6, "LOCAL_V6"), (PEER_V6, "PEER_V6")]:
    for ln in (0, 15, 17, 32):
        expect(f"{nm} of {ln} bytes (must be exactly 16)",
               u8(AF, 10) + attr(t, b"\x20" * ln) + base, errno.ERANGE, need_msg=True)
expect("IPPROTO 0", be16(PORT, 9000) + u8(TYPE, 1) + u8(IPPROTO, 0), errno.ERANGE, need_msg=True)
expect("flag with a payload", attr(REMCSUM_NOPARTIAL, b"\1\0\0\0") + base, errno.ERANGE, need_msg=True)

# Semantic errors, found by the parser.
expect("no PORT", u8(TYPE, 1) + u8(IPPROTO, 47), errno.EINVAL)
expect("PORT 0", be16(PORT, 0) + u8(TYPE, 1) + u8(IPPROTO, 47), errno.EINVAL)
expect("no TYPE", be16(PORT, 9000) + u8(IPPROTO, 47), errno.EINVAL)
expect("TYPE 3", be16(PORT, 9000) + u8(TYPE, 3), errno.EINVAL)
expect("TYPE direct without IPPROTO", be16(PORT, 9000) + u8(TYPE, 1), errno.EINVAL)
expect("AF 7", u8(AF, 7) + base, errno.EAFNOSUPPORT)
expect("peer without peer port", attr(PEER_V4, b"\x0a\0\0\1") + base, errno.EINVAL)
expect("ifindex without local", attr(IFINDEX, struct.pack("=i", 1)) + base, errno.EINVAL)
expect("ifindex -1", attr(LOCAL_V4, b"\x7f\0\0\1") + attr(IFINDEX, struct.pack("=i", -1)) + base,
       errno.EINVAL)
# The kernel binds a socket to an ifindex without checking that a device
# has it, so the C module accepts this, and so do we.
bound = attr(LOCAL_V4, b"\x7f\0\0\1") + attr(IFINDEX, struct.pack("=i", 9999))
expect("ifindex of no device, as C accepts it", bound + base, 0)
expect("DEL without the bound key misses it", be16(PORT, 9000), errno.EINVAL, cmd=CMD_DEL)
expect("DEL with the full key", bound + be16(PORT, 9000), 0, cmd=CMD_DEL)
expect("DEL of a missing port", be16(PORT, 9001), errno.EINVAL, cmd=CMD_DEL)
expect("GET of a missing port", be16(PORT, 9001), errno.ESRCH, cmd=CMD_GET)
expect("GET without PORT", b"", errno.EINVAL, cmd=CMD_GET)
expect("GET with IFINDEX -1 finds no port, as in C", attr(LOCAL_V4, b"\x7f\0\0\1")
       + attr(IFINDEX, struct.pack("=i", -1)) + be16(PORT, 9001), errno.ESRCH, cmd=CMD_GET)
for cmd in (0, 4, 99, 255):
    expect(f"unknown command {cmd}", base, errno.EOPNOTSUPP, cmd=cmd)

err, pl = g.ports()
ok(err == 0 and pl == [], "nothing was created by the refused messages", f"{name(err)} {pl}")

# Accepted as the C family accepts them (liberal validation).
expect("AF as 16 bits (old iproute2)", attr(AF, struct.pack("=H", 2)) + base, 0)
expect("unknown attribute types are ignored, and STATS in an ADD", attr(13, b"\1\2\3\4") + attr(200, b"")
       + attr(12, b"") + be16(PORT, 9002) + u8(TYPE, 2), 0)
expect("duplicate ADD", base, errno.EADDRINUSE)
err, pl = g.ports()
ok(pl == [(2, 9000), (2, 9002)], "exactly the two accepted ports exist", str(pl))
# A dump request is not validated, as the C family's is not: attributes a
# request would be refused for do not stop the listing, and STATS among
# them still brings the counters.
bad = u8(IPPROTO, 0) + attr(LOCAL_V6, b"\1" * 15) + attr(PORT, b"")
err, _, msgs = g.call(CMD_GET, bad, flags=NLM_F_REQUEST | NLM_F_DUMP)
ok(err == 0 and len(msgs) == 2, "a dump request with IPPROTO 0, a 15-byte LOCAL_V6 and an empty PORT lists "
   "both ports", f"{name(err)}, {len(msgs)} ports")
err, _, msgs = g.call(CMD_GET, bad + attr(12, b"") + struct.pack("=HH", 40, 1),
                      flags=NLM_F_REQUEST | NLM_F_DUMP)

ok(err == 0 and len(msgs) == 2 and all(12 in attr_types(m) for m in msgs),
   "and with STATS (and a truncated attribute) lists them with their counters", f"{name(err)}, {len(msgs)} ports")
expect("DEL 9000", be16(PORT, 9000), 0, cmd=CMD_DEL)
expect("DEL 9002", be16(PORT, 9002), 0, cmd=CMD_DEL)

# What a dump replies identifies each port, as C's fou_cfg_cmp finds it: a
# tool that lists the ports and deletes what it listed (zero addresses,
# PEER_PORT 0 and IFINDEX 0 included) gets no error.
expect("ADD 9003 direct", be16(PORT, 9003) + u8(TYPE, 1) + u8(IPPROTO, 47), 0)
expect("ADD 9003 GUE over IPv6", be16(PORT, 9003) + u8(AF, 10) + u8(TYPE, 2), 0)
expect("ADD 9004 bound and connected", be16(PORT, 9004) + u8(TYPE, 2) + attr(LOCAL_V4, b"\x7f\0\0\1")
       + attr(PEER_V4, b"\x7f\0\0\2") + be16(PEER_PORT, 7), 0)
err, out = g.dump()
ok(err == 0 and len(out) == 3, "the dump lists the 3 ports", f"{name(err)} {len(out)}")
for a in out:
    port = struct.unpack("!H", a[PORT])[0]
    everything = b"".join(attr(t, v) for t, v in a.items())
    gerr, text, msgs = g.call(CMD_GET, everything)
    ok(gerr == 0 and len(msgs) == 1, f"GET with every attribute the dump replied for port {port} finds it",
       f"{name(gerr)} {text}")
    derr, text, _ = g.call(CMD_DEL, everything)
    ok(derr == 0, f"DEL with every attribute the dump replied for port {port} deletes it", f"{name(derr)} {text}")
err, pl = g.ports()
ok(err == 0 and pl == [], "no port left", f"{name(err)} {pl}")

# A port is what its socket has, as C's fou_cfg_cmp reads it: connected
# without a local address, it has the route's source (the connect sets it);
# a peer on PEER_PORT 0 is not connected to, so it has no peer.
LO, PEER = b"\x7f\0\0\1", b"\x7f\0\0\2"
connected = be16(PORT, 9005) + attr(PEER_V4, PEER) + be16(PEER_PORT, 7)
expect("ADD 9005 connected without a local address", connected + u8(TYPE, 2), 0)
expect("ADD 9006 with a peer on peer port 0", be16(PORT, 9006) + u8(TYPE, 2) + attr(PEER_V4, PEER)
       + be16(PEER_PORT, 0), 0)
err, out = g.dump()
got = {struct.unpack("!H", a[PORT])[0]: a for a in out}
p5, p6 = got.get(9005, {}), got.get(9006, {})
ok(err == 0 and p5.get(LOCAL_V4) == LO and p5.get(PEER_V4) == PEER,
   "a port connected without a local address lists the route's source, 127.0.0.1, as C", f"{name(err)} {p5}")
ok(err == 0 and p6.get(PEER_V4) == bytes(4) and p6.get(PEER_PORT) == bytes(2),
   "a peer on peer port 0 is not connected to: the port lists none, as C", f"{name(err)} {p6}")
expect("DEL 9005 without its local address misses it, as C", connected, errno.EINVAL, cmd=CMD_DEL)
expect("DEL 9005 with its local address", connected + attr(LOCAL_V4, LO), 0, cmd=CMD_DEL)
expect("DEL 9006 without a peer", be16(PORT, 9006), 0, cmd=CMD_DEL)

# Broken framing: what the generic netlink layer can parse it refuses with
# EINVAL; a message whose nlmsg_len does not fit the datagram the netlink
# core drops unanswered (netlink_rcv_skb), and nothing else may answer it.
# Either way the family keeps working.
DROPPED = "no answer"
for what, data, want in [
    ("header only, no genl header", struct.pack("=IHHII", 16, g.fam, NLM_F_REQUEST | NLM_F_ACK, 1, 0),
     errno.EINVAL),
    ("nlmsg_len beyond the datagram", struct.pack("=IHHII", 200, g.fam, NLM_F_REQUEST | NLM_F_ACK, 2, 0)
     + b"\1\1\0\0", DROPPED),
    ("nlmsg_len below the header", struct.pack("=IHHII", 8, g.fam, NLM_F_REQUEST | NLM_F_ACK, 3, 0), DROPPED),
    ("attribute longer than the message", g.msg(g.fam, CMD_ADD, struct.pack("=HH", 64, PORT) + b"\0\0"),
     errno.EINVAL),
    ("attribute length below its header", g.msg(g.fam, CMD_ADD, struct.pack("=HH", 2, PORT) + b"\0\0"),
     errno.EINVAL),
    ("truncated datagram", g.msg(g.fam, CMD_ADD, base)[:18], DROPPED),
]:
    g.raw(data)
    err, text, _ = g.recv_all()
    got = DROPPED if err == "timeout" else err
    ok(got == want, f"{what}: {name(want)}", f"got {name(err)}")
expect("the family still answers afterwards", be16(PORT, 9001), errno.ESRCH, cmd=CMD_GET)

# A few thousand random messages: each answered, nothing left behind.
import random
rnd = random.Random(int(os.environ.get("FOU_NLRAW_SEED", "4242")))
count = int(os.environ.get("FOU_NLRAW_COUNT", "3000"))
answered = 0
added = set()
for i in range(count):
    attrs = b""
    for _ in range(rnd.randint(0, 6)):
        t = rnd.choice([PORT, AF, IPPROTO, TYPE, REMCSUM_NOPARTIAL, LOCAL_V4, LOCAL_V6, PEER_V4,
                        PEER_V6, PEER_PORT, IFINDEX, 0, 12, rnd.randint(0, 0xffff)])
        ln = rnd.choice([0, 1, 2, 3, 4, 8, 15, 16, 17, rnd.randint(0, 64)])
        attrs += attr(t & 0xffff, bytes(rnd.getrandbits(8) for _ in range(ln)))
    cmd = rnd.choice([CMD_ADD, CMD_DEL, CMD_GET, rnd.randint(0, 255)])
    err, _, _ = g.call(cmd, attrs)
    if err != "timeout" and err != "bad reply":
        answered += 1
ok(answered == count, f"{count} random messages all answered", f"{answered} answered")
# Delete whatever the random ADDs created, by the full key GET reports
# (a port bound to an address or connected to a peer needs all of it).
err, out = g.dump()
print(f"# random ADDs that created a port: {len(out)}")
undeleted = []
for a in out:
    key = b"".join(attr(t, v) for t, v in a.items()
                   if t in (PORT, AF, LOCAL_V4, LOCAL_V6, PEER_V4, PEER_V6, PEER_PORT, IFINDEX)
                   and not (t in (LOCAL_V4, LOCAL_V6, PEER_V4, PEER_V6) and not any(v))
                   and not (t in (IFINDEX, PEER_PORT) and not any(v)))
    derr, text, _ = g.call(CMD_DEL, key)
    if derr != 0:
        undeleted.append(f"{struct.unpack('!H', a[PORT])[0]}: {name(derr)} {text}")
ok(err == 0 and not undeleted, "each randomly created port deleted by its reported key",
   f"dump {name(err)}; not deleted: {undeleted}")
err, pl = g.ports()
ok(err == 0 and pl == [], "no port left after the random messages", f"{name(err)} {pl}")

sys.exit(1 if failed else 0)
