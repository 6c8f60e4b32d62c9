#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Raw generic netlink to the `fou` family, for tests/nlraw.py and
tests/stress.py: message building, a socket that collects replies."""
import errno
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

    def recv_all(self, seq=None):
        """Returns (errno or None, extack message, payload messages) of the
        reply to request `seq` (of whatever comes, for None); messages of
        other requests are skipped."""
        msgs = []
        while True:
            try:
                data = self.s.recv(1 << 20)
            except socket.timeout:
                return ("timeout", None, msgs)
            off = 0
            while off + 16 <= len(data):
                ln, typ, flags, mseq, pid = struct.unpack_from("=IHHII", data, off)
                if ln < 16:
                    return ("bad reply", None, msgs)
                if seq is not None and mseq != seq:
                    off += (ln + 3) & ~3
                    continue
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
        return self.recv_all(self.seq)

    def family_id(self, name):
        self.raw(self.msg(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, attr(CTRL_ATTR_FAMILY_NAME, name + b"\0")))
        err, _, msgs = self.recv_all(self.seq)
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
