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

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLMSGERR_ATTR_MSG = 1

CMD_ADD, CMD_DEL, CMD_GET = 1, 2, 3
(PORT, AF, IPPROTO, TYPE, REMCSUM_NOPARTIAL, LOCAL_V4, LOCAL_V6, PEER_V4,
 PEER_V6, PEER_PORT, IFINDEX) = range(1, 12)

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


def attr(t, payload):
    ln = 4 + len(payload)
    return struct.pack("=HH", ln, t) + payload + b"\0" * ((4 - ln % 4) % 4)


def be16(t, v):
    return attr(t, struct.pack("!H", v))


def u8(t, v):
    return attr(t, struct.pack("B", v))


class Genl:
    def __init__(self):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.s.bind((0, 0))
        self.s.settimeout(2)
        # Ask for extended ACKs with messages.
        NETLINK_CAP_ACK, NETLINK_EXT_ACK = 10, 11
        self.s.setsockopt(270, NETLINK_EXT_ACK, 1)
        self.s.setsockopt(270, NETLINK_CAP_ACK, 1)
        self.seq = 100
        self.fam = self.family_id(b"fou")

    def raw(self, data):
        self.s.send(data)

    def msg(self, typ, cmd, attrs=b"", flags=NLM_F_REQUEST | NLM_F_ACK, version=1):
        self.seq += 1
        body = struct.pack("BBH", cmd, version, 0) + attrs
        return struct.pack("=IHHII", 16 + len(body), typ, flags, self.seq, 0) + body

    def recv_all(self):
        """Returns (errno or None, extack message, payload messages)."""
        msgs = []
        while True:
            try:
                data = self.s.recv(1 << 20)
            except socket.timeout:
                return ("timeout", None, msgs)
            off = 0
            while off + 16 <= len(data):
                ln, typ, flags, seq, pid = struct.unpack_from("=IHHII", data, off)
                if ln < 16:
                    return ("bad reply", None, msgs)
                if typ == NLMSG_ERROR:
                    (err,) = struct.unpack_from("=i", data, off + 16)
                    text = None
                    # TLVs after the echoed header (capped ack: 16 bytes).
                    p = off + 20 + 16
                    while p + 4 <= off + ln:
                        al, at = struct.unpack_from("=HH", data, p)
                        if al < 4:
                            break
                        if at == NLMSGERR_ATTR_MSG:
                            text = data[p + 4:p + al].rstrip(b"\0").decode()
                        p += (al + 3) & ~3
                    return (-err if err else 0, text, msgs)
                if typ == NLMSG_DONE:
                    return (0, None, msgs)
                msgs.append(data[off:off + ln])
                off += (ln + 3) & ~3

    def call(self, cmd, attrs=b"", flags=NLM_F_REQUEST | NLM_F_ACK):
        self.raw(self.msg(self.fam, cmd, attrs, flags))
        return self.recv_all()

    def family_id(self, name):
        self.raw(self.msg(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, attr(CTRL_ATTR_FAMILY_NAME, name + b"\0")))
        err, _, msgs = self.recv_all()
        if err or not msgs:
            print(f"Bail out! family {name} not found ({err})")
            sys.exit(1)
        m = msgs[0]
        p = 20
        while p < len(m):
            al, at = struct.unpack_from("=HH", m, p)
            if at == CTRL_ATTR_FAMILY_ID:
                return struct.unpack_from("=H", m, p + 4)[0]
            p += (al + 3) & ~3
        sys.exit("no family id")

    def dump(self):
        """The ports a dump lists, each as a dict of attribute payloads."""
        err, _, msgs = self.call(CMD_GET, flags=NLM_F_REQUEST | NLM_F_DUMP)
        out = []
        for m in msgs:
            p, a = 20, {}
            while p + 4 <= len(m):
                al, at = struct.unpack_from("=HH", m, p)
                a[at] = m[p + 4:p + al]
                p += (al + 3) & ~3
            out.append(a)
        return err, out

    def ports(self):
        """The ports a dump lists, as (af, port) pairs."""
        err, out = self.dump()
        return err, sorted((a[AF][0], struct.unpack("!H", a[PORT])[0]) for a in out)


def name(e):
    return errno.errorcode.get(e, str(e)) if isinstance(e, int) else str(e)


g = Genl()
base = be16(PORT, 9000) + u8(TYPE, 1) + u8(IPPROTO, 47)


def expect(what, attrs, want, cmd=CMD_ADD, need_msg=False):
    err, text, _ = g.call(cmd, attrs)
    good = err == want and (text is not None or not need_msg)
    ok(good, f"{what}: {name(want)}" + (" with an extack message" if need_msg else ""),
       f"got {name(err)}, extack {text!r}")


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
for cmd in (0, 4, 99, 255):
    expect(f"unknown command {cmd}", base, errno.EOPNOTSUPP, cmd=cmd)

err, pl = g.ports()
ok(err == 0 and pl == [], "nothing was created by the refused messages", f"{name(err)} {pl}")

# Accepted as the C family accepts them (liberal validation).
expect("AF as 16 bits (old iproute2)", attr(AF, struct.pack("=H", 2)) + base, 0)
expect("unknown attribute types are ignored", attr(12, b"\1\2\3\4") + attr(200, b"") + be16(PORT, 9002)
       + u8(TYPE, 2), 0)
expect("duplicate ADD", base, errno.EADDRINUSE)
err, pl = g.ports()
ok(pl == [(2, 9000), (2, 9002)], "exactly the two accepted ports exist", str(pl))
expect("DEL 9000", be16(PORT, 9000), 0, cmd=CMD_DEL)
expect("DEL 9002", be16(PORT, 9002), 0, cmd=CMD_DEL)

# Broken framing: the netlink core drops these or answers with an error;
# either way the family keeps working.
for what, data in [
    ("header only, no genl header", struct.pack("=IHHII", 16, g.fam, NLM_F_REQUEST | NLM_F_ACK, 1, 0)),
    ("nlmsg_len beyond the datagram", struct.pack("=IHHII", 200, g.fam, NLM_F_REQUEST | NLM_F_ACK, 2, 0)
     + b"\1\1\0\0"),
    ("nlmsg_len below the header", struct.pack("=IHHII", 8, g.fam, NLM_F_REQUEST | NLM_F_ACK, 3, 0)),
    ("attribute longer than the message", g.msg(g.fam, CMD_ADD, struct.pack("=HH", 64, PORT) + b"\0\0")),
    ("attribute length below its header", g.msg(g.fam, CMD_ADD, struct.pack("=HH", 2, PORT) + b"\0\0")),
    ("truncated datagram", g.msg(g.fam, CMD_ADD, base)[:18]),
]:
    g.raw(data)
    err, text, _ = g.recv_all()
    ok(err != 0, f"{what}: refused ({name(err)})", f"got {name(err)}")
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
for a in out:
    key = b"".join(attr(t, v) for t, v in a.items()
                   if t in (PORT, AF, LOCAL_V4, LOCAL_V6, PEER_V4, PEER_V6, PEER_PORT, IFINDEX)
                   and not (t in (LOCAL_V4, LOCAL_V6, PEER_V4, PEER_V6) and not any(v))
                   and not (t in (IFINDEX, PEER_PORT) and not any(v)))
    derr, text, _ = g.call(CMD_DEL, key)
    ok(derr == 0, f"DEL of randomly created port {struct.unpack('!H', a[PORT])[0]} by its reported key",
       f"{name(derr)} {text}")
err, pl = g.ports()
ok(err == 0 and pl == [], "no port left after the random messages", f"{name(err)} {pl}")

print(f"1..{n}")
sys.exit(1 if failed else 0)
