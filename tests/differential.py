#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Differential tests: the same generated input to the C module and to
fou_rs, one after the other in one guest, and each input's outcome
compared (tests/differential.sh runs it).

  differential.py datagrams 4|6 COUNT OUT
        adds a FOU port (ipproto 253), a GUE port and a GUE port with
        remcsum_nopartial, sends COUNT generated datagrams to them from
        loopback and writes each one's outcome to OUT: every packet that
        reached an IP protocol (one raw socket per protocol sees the
        packets resubmitted over IPv6; over IPv4, where a raw socket sees
        only packets whose IP header names its protocol, the ICMP errors and
        TCP resets that follow and what reached UDP) and the change of
        every SNMP counter
  differential.py netlink COUNT OUT
        from a fixed set of ports, sends COUNT generated requests to `fou`
        (structured ones and random ones), and writes each one's outcome:
        the errno, the reply's messages and the ports listed after it; the
        ports are then put back as they were
  differential.py compare datagrams|netlink C_OUT RS_OUT [C_OUT2 RS_OUT2]
        compares two records input by input: prints the differences the
        README lists with their reason, and fails on any other; with the
        records of a second run, only on one that both runs have

Both runs of one kind draw the same inputs (FOU_DIFF_SEED, default 11).
"""
import errno
import json
import os
import random
import resource
import select
import socket
import struct
import sys
from collections import Counter

from genl import (AF, IFINDEX, IPPROTO, LOCAL_V4, LOCAL_V6, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, PEER_PORT, PEER_V4,
                  PEER_V6, PORT, REMCSUM_NOPARTIAL, TYPE, CMD_ADD, CMD_DEL, CMD_GET, Genl, attr, be16, u8)
from fuzz import NLM_F_ECHO, gue_datagram, random_request

SEED = int(os.environ.get("FOU_DIFF_SEED", "11"))
STATS = 12
FOU_PORT, GUE_PORT, GUE_NOPARTIAL_PORT = 5555, 5556, 5557
SRC_PORT, MARK_PORT = 5600, 5601
MARK = b"fou-rs differential marker "


def record(out, rows):
    with open(out, "w") as f:
        for r in rows:
            f.write(json.dumps(r, sort_keys=True) + "\n")


# --- Datagrams. -------------------------------------------------------------

def snmp():
    """Every counter of /proc/net/snmp and /proc/net/snmp6, by name."""
    c = {}
    with open("/proc/net/snmp") as f:
        lines = f.read().split("\n")
    for names, values in zip(lines[0::2], lines[1::2]):
        group = names.split(":")[0]
        for n, v in zip(names.split()[1:], values.split()[1:]):
            c[group + n] = int(v)
    with open("/proc/net/snmp6") as f:
        for line in f:
            n, v = line.split()
            c[n] = int(v)
    return c


def normalise(v6, proto, data):
    """A received packet without what differs between two sends of the same
    datagram: IPv4's identification and header checksum (an IPv6 raw socket
    sees no IP header), and in an ICMP error those of the quoted header and
    the ICMP checksum that covers them."""
    if v6:
        return data
    b = bytearray(data)

    def clear(at, n):
        b[at:at + n] = bytes(min(n, max(0, len(b) - at)))

    clear(4, 2)
    clear(10, 2)
    if proto == 1 and len(b) >= 28 and b[20] in (3, 4, 5, 11, 12):
        clear(22, 2)
        clear(28 + 4, 2)
        clear(28 + 10, 2)
    return bytes(b)


def datagrams(fam, count, out):
    v6 = fam == "6"
    af = socket.AF_INET6 if v6 else socket.AF_INET
    dst = "::1" if v6 else "127.0.0.1"
    g = Genl()
    for port, typ, extra in ((FOU_PORT, 1, u8(IPPROTO, 253)), (GUE_PORT, 2, b""),
                             (GUE_NOPARTIAL_PORT, 2, attr(REMCSUM_NOPARTIAL, b""))):
        err, text, _ = g.call(CMD_ADD, be16(PORT, port) + u8(AF, af) + u8(TYPE, typ) + extra)
        if err:
            sys.exit(f"differential.py: adding port {port}: {err} {text}")
    # One CPU, one backlog: what loopback delivers arrives in the order sent.
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    raw = {}
    for p in range(1, 255):
        s = socket.socket(af, socket.SOCK_RAW, p)
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        raw[s.fileno()] = (p, s)
    poller = select.poll()
    for fd in raw:
        poller.register(fd, select.POLLIN)
    tx = socket.socket(af, socket.SOCK_DGRAM)
    tx.bind((dst, SRC_PORT))
    mark = socket.socket(af, socket.SOCK_DGRAM)
    mark.bind((dst, MARK_PORT))
    mark.settimeout(10)

    def wait_mark(tag):
        """Sends the marker `tag` to a plain UDP socket and reads it back:
        what loopback delivered before it has been handled."""
        tx.sendto(tag, (dst, MARK_PORT))
        while True:
            try:
                if mark.recv(65536) == tag:
                    return
            except socket.timeout:
                sys.exit(f"differential.py: marker {tag!r} did not arrive in 10 s")

    rnd = random.Random(SEED)
    rows = []
    for i in range(count):
        if i % 4 == 0:
            port, d = FOU_PORT, bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 300)))
        else:
            port, d = rnd.choice([GUE_PORT, GUE_NOPARTIAL_PORT]), gue_datagram(rnd)
        before = snmp()
        seen = []
        tx.sendto(d, (dst, port))
        # Everything the datagram causes (a resubmitted packet, an ICMP
        # error it provokes, that error's own delivery) is queued before the
        # second marker is sent, and handled before it arrives.
        wait_mark(MARK + b"%da" % i)
        wait_mark(MARK + b"%db" % i)
        for fd, _ in poller.poll(0):
            p, s = raw[fd]
            while True:
                try:
                    pkt = s.recv(65536)
                except BlockingIOError:
                    break
                if MARK not in pkt:
                    seen.append([p, normalise(v6, p, pkt).hex()])
        after = snmp()
        # The markers' own effects are the same in every run.
        delta = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
        rows.append({"i": i, "port": port, "datagram": d.hex(),
                     "delivered": sorted(seen),
                     "counters": delta})
    record(out, rows)
    protos = Counter(p for r in rows for p, _ in r["delivered"] if p != 17 or v6)
    print(f"datagrams: {count} sent over IPv{fam}, deliveries per protocol {dict(sorted(protos.items()))}")
    return 0


# --- Netlink. ---------------------------------------------------------------

LO4, PEER4 = socket.inet_aton("127.0.0.1"), socket.inet_aton("127.0.0.2")
LO6 = socket.inet_pton(socket.AF_INET6, "::1")
# The ports every request meets: both families, both types, bound, connected
# and bound to a device.
BASE = [
    be16(PORT, 40000) + u8(TYPE, 1) + u8(IPPROTO, 47),
    be16(PORT, 40001) + u8(AF, 10) + u8(TYPE, 2),
    be16(PORT, 40002) + u8(TYPE, 2) + attr(LOCAL_V4, LO4) + attr(PEER_V4, PEER4) + be16(PEER_PORT, 1),
    be16(PORT, 40003) + u8(AF, 10) + u8(TYPE, 1) + u8(IPPROTO, 4) + attr(LOCAL_V6, LO6)
    + attr(PEER_V6, LO6) + be16(PEER_PORT, 7),
    be16(PORT, 40004) + u8(TYPE, 1) + u8(IPPROTO, 41) + attr(LOCAL_V4, LO4)
    + attr(IFINDEX, struct.pack("=i", 1)) + attr(REMCSUM_NOPARTIAL, b""),
]
BASE_BY_PORT = {struct.unpack("!H", b[4:6])[0]: b for b in BASE}


def structured_request(rnd, listed):
    """ADD, DEL or GET with plausible attributes, each present or not, right
    or wrong: the ports of the base set or others, both families, addresses
    local or not, unspecified or of the wrong length, devices that exist or
    not; or the attributes exactly as a dump listed a port."""
    cmd = rnd.choice([CMD_ADD, CMD_DEL, CMD_GET])
    if listed and rnd.random() < 0.15:
        a = rnd.choice(listed)
        return cmd, b"".join(attr(t, bytes.fromhex(v)) for t, v in sorted(a.items())), \
            NLM_F_REQUEST | NLM_F_ACK, 1
    choices = [
        (PORT, [be16(PORT, p) for p in (40000, 40001, 40002, 40003, 40004, 40010, 0)]
         + [attr(PORT, b"\x9c")]),
        (AF, [u8(AF, 2), u8(AF, 10), u8(AF, 0), u8(AF, 7), attr(AF, struct.pack("=H", 10))]),
        (TYPE, [u8(TYPE, 1), u8(TYPE, 2), u8(TYPE, 0), u8(TYPE, 3)]),
        (IPPROTO, [u8(IPPROTO, p) for p in (0, 4, 41, 47, 253)]),
        (REMCSUM_NOPARTIAL, [attr(REMCSUM_NOPARTIAL, b"")]),
        (LOCAL_V4, [attr(LOCAL_V4, a) for a in (LO4, bytes(4), socket.inet_aton("10.9.9.9"))]),
        (LOCAL_V6, [attr(LOCAL_V6, a) for a in (LO6, bytes(16), LO6[:15], LO6 + b"\0")]),
        (PEER_V4, [attr(PEER_V4, a) for a in (PEER4, bytes(4))]),
        (PEER_V6, [attr(PEER_V6, a) for a in (LO6, bytes(16))]),
        (PEER_PORT, [be16(PEER_PORT, p) for p in (0, 1, 7)]),
        (IFINDEX, [attr(IFINDEX, struct.pack("=i", x)) for x in (0, 1, -1, 999)]),
    ]
    attrs = b""
    for t, values in choices:
        if rnd.random() < (0.8 if t in (PORT, TYPE) else 0.25):
            attrs += rnd.choice(values)
    flags = NLM_F_REQUEST | NLM_F_ACK | (NLM_F_ECHO if rnd.random() < 0.05 else 0)
    return cmd, attrs, flags, 1


def parse_msgs(msgs):
    """Reply messages as (command, {attribute: payload hex})."""
    out = []
    for m in msgs:
        p, a = 20, {}
        while p + 4 <= len(m):
            al, at = struct.unpack_from("=HH", m, p)
            if al < 4:
                break
            a[str(at)] = m[p + 4:p + al].hex()
            p += (al + 3) & ~3
        out.append([m[16], a])
    return out


def key_attrs(a):
    """A DEL for a listed port: its key attributes, the unspecified ones
    left out (what both modules accept), but a local address, even zero,
    kept beside a device (IFINDEX needs one)."""
    a = {int(k): bytes.fromhex(v) for k, v in a.items()}
    keep = (PORT, AF, LOCAL_V4, LOCAL_V6, PEER_V4, PEER_V6, PEER_PORT, IFINDEX)
    device = any(a.get(IFINDEX, b""))
    return b"".join(attr(t, v) for t, v in a.items()
                    if t in keep and (t in (PORT, AF) or any(v) or (device and t in (LOCAL_V4, LOCAL_V6))))


def listing(g):
    err, _, msgs = g.call(CMD_GET, flags=NLM_F_REQUEST | NLM_F_DUMP)
    return err, sorted((json.dumps(a, sort_keys=True) for _, a in parse_msgs(msgs)))


def netlink(count, out):
    g = Genl()
    for b in BASE:
        err, text, _ = g.call(CMD_ADD, b)
        if err:
            sys.exit(f"differential.py: adding a base port: {err} {text}")
    _, base = listing(g)
    if len(base) != len(BASE):
        sys.exit(f"differential.py: {len(base)} base ports listed, {len(BASE)} added")
    rnd = random.Random(SEED)
    rows = []
    for i in range(count):
        listed = [json.loads(a) for a in base]
        if rnd.random() < 0.7:
            cmd, attrs, flags, version = structured_request(rnd, [{int(k): v for k, v in a.items()}
                                                                    for a in listed])
        else:
            cmd, attrs, flags, version = random_request(rnd)
        g.raw(g.msg(g.fam, cmd, attrs, flags, version))
        err, _, msgs = g.recv_all(g.seq)
        lerr, after = listing(g)
        rows.append({"i": i, "cmd": cmd, "attrs": attrs.hex(), "flags": flags, "version": version,
                     "err": err,
                     # A dump's order differs: C lists the ports newest first, fou_rs by key.
                     "reply": sorted(parse_msgs(msgs), key=lambda m: json.dumps(m, sort_keys=True)), "listed": after, "list_err": lerr})
        # Back to the base set: what was added goes, what was deleted returns.
        for a in set(after) - set(base):
            e, text, _ = g.call(CMD_DEL, key_attrs(json.loads(a)))
            if e:
                sys.exit(f"differential.py: request {i}: deleting {a}: {e} {text}")
        for a in set(base) - set(after):
            port = struct.unpack("!H", bytes.fromhex(json.loads(a)[str(PORT)]))[0]
            e, text, _ = g.call(CMD_ADD, BASE_BY_PORT[port])
            if e:
                sys.exit(f"differential.py: request {i}: restoring {a}: {e} {text}")
        _, now = listing(g)
        if now != base:
            sys.exit(f"differential.py: request {i}: the base set did not come back: {now}")
    record(out, rows)
    errs = Counter(str(r["err"]) for r in rows)
    print(f"netlink: {count} requests, answers {dict(sorted(errs.items()))}")
    return 0


# --- Comparison. ------------------------------------------------------------

def attrs_of(hexstr):
    """The top-level attributes of a request: {type: payload}."""
    b, p, a = bytes.fromhex(hexstr), 0, {}
    while p + 4 <= len(b):
        al, at = struct.unpack_from("=HH", b, p)
        if al < 4:
            break
        a[at & 0x3fff] = b[p + 4:p + al]
        p += (al + 3) & ~3
    return a


def known_netlink(c, r):
    """Why request outcome `c` (C) and `r` (fou_rs) may differ, or None."""
    a = attrs_of(c["attrs"])
    if STATS in a:
        return "STATS (12), fou_rs's counters attribute, which the C module ignores"
    if c["cmd"] == CMD_ADD and r["err"] == errno.EINVAL and (PORT not in a or a[PORT][:2] == b"\0\0"):
        return "ADD without a port (or port 0): C binds a random port, fou_rs refuses (EINVAL)"
    if c["err"] == errno.ERANGE and a.get(IPPROTO, b"\1")[:1] == b"\0":
        return ("IPPROTO 0: C's policy refuses it in every request (ERANGE); fou_rs only in a direct "
                "port's ADD (old clients send it with GUE)")
    if c["cmd"] == CMD_ADD and c["err"] in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.ENODEV) \
            and r["err"] == errno.EINVAL:
        return ("an ADD wrong twice: C binds the socket before checking the rest of the configuration "
                "and reports the bind's error, fou_rs the configuration's (EINVAL)")
    return None


def remcsum_field(udp):
    """Where a GUE datagram (from its UDP header on) asks the remote checksum
    to be written, as offsets into `udp`: the two bytes at the option's
    offset past the GUE header; none without the option."""
    if len(udp) < 12 or udp[8] >> 6 or not udp[10:12] == b"\0\x01":
        return ()
    hlen = 4 + (udp[8] & 0x1f) * 4
    if hlen < 12 or len(udp) < 8 + 12 or not udp[12] & 0x80:
        return ()
    at = 8 + hlen + struct.unpack_from("!H", udp, 18)[0]
    return (at, at + 1)


def known_datagram(c, r):
    """Why datagram outcome `c` (C) and `r` (fou_rs) may differ, or None.

    Only for a datagram both drop (the same counters, and only the outer
    copy seen, by the raw UDP socket): C changes a GUE packet in place
    before checks that drop it, and a raw socket shares its buffer. fou_rs
    checks the header before it changes the packet."""
    if c["counters"] != r["counters"] or len(c["delivered"]) != 1 or len(r["delivered"]) != 1:
        return None
    (pc, xc), (pr, xr) = c["delivered"][0], r["delivered"][0]
    a, b = bytes.fromhex(xc), bytes.fromhex(xr)
    if pc != 17 or pr != 17 or len(a) != len(b):
        return None
    # An IPv4 raw socket sees the IP header; an IPv6 one from UDP on.
    ip = 20 if a[:1] == b"\x45" else 0
    diff = {i for i in range(len(a)) if a[i] != b[i]}
    why = []
    if ip and diff & {2, 3}:
        diff -= {2, 3}
        why.append("the outer IPv4 total length shortened")
    if diff and diff <= {ip + i for i in remcsum_field(b[ip:])}:
        diff = set()
        why.append("the remote checksum written")
    if diff or not why:
        return None
    return (f"a GUE packet both drop, which C changes in place before the check that drops it "
            f"({' and '.join(why)}), seen by a raw socket sharing its buffer; fou_rs checks the header "
            "before it changes the packet")


def differences(kind, c, r):
    """The inputs whose outcomes differ: (known reasons counted, the others
    as (C, fou_rs) pairs); None, after saying why, when the records do not
    belong together."""
    if len(c) != len(r) or not c:
        print(f"FAILED: {len(c)} outcomes recorded with the C module, {len(r)} with fou_rs")
        return None
    known, unknown = Counter(), []
    for x, y in zip(c, r):
        if (x.get("datagram"), x.get("attrs")) != (y.get("datagram"), y.get("attrs")):
            print(f"FAILED: input {x['i']} differs between the runs (not the same generator)")
            return None
        if all(x[f] == y[f] for f in FIELDS[kind]):
            continue
        why = known_netlink(x, y) if kind == "netlink" else known_datagram(x, y)
        if why:
            known[why] += 1
        else:
            unknown.append((x, y))
    return known, unknown


FIELDS = {"datagrams": ("delivered", "counters"), "netlink": ("err", "reply", "listed", "list_err")}


def show(pairs, kind, n=10):
    """Prints the first `n` differing inputs, field by field."""
    for x, y in pairs[:n]:
        print(f"# input {x['i']}: {x.get('datagram') or x.get('attrs')} (cmd {x.get('cmd')}, port {x.get('port')})")
        for f in FIELDS[kind]:
            if x[f] != y[f]:
                print(f"#   {f}: C {x[f]}")
                print(f"#   {f}: fou_rs {y[f]}")


def compare(kind, c_out, rs_out, again=()):
    """Compares the records of C (`c_out`) and fou_rs (`rs_out`). With
    `again`, the records of a second run of both: a difference counts only
    when the second run has it too; one that did not repeat (an outcome
    that depended on the moment, not on the module) is shown as unstable."""
    def load(f):
        return [json.loads(line) for line in open(f)]

    c = load(c_out)
    d = differences(kind, c, load(rs_out))
    if d is None:
        return 1
    known, unknown = d
    unstable = []
    if again:
        missing = [f for f in again if not os.path.exists(f)]
        if missing:
            print(f"the second run recorded nothing: {' '.join(missing)} missing (see the module loads above)")
            return 1
        d2 = differences(kind, load(again[0]), load(again[1]))
        if d2 is None:
            return 1
        repeated = {x["i"] for x, _ in d2[1]}
        unstable = [(x, y) for x, y in unknown if x["i"] not in repeated]
        unknown = [(x, y) for x, y in unknown if x["i"] in repeated]
    for why, n in known.most_common():
        print(f"# known difference, {n} inputs: {why}")
    fields = FIELDS[kind]
    groups = Counter((x.get("cmd"), x.get("port"), str(x.get("err")), str(y.get("err")),
                      tuple(f for f in fields if x[f] != y[f])) for x, y in unknown)
    for (cmd, port, ec, er, what), n in groups.most_common():
        print(f"# other difference, {n} inputs: command {cmd} port {port}, errno C {ec} fou_rs {er}, "
              f"differing {', '.join(what)}")
    show(unknown, kind)
    if unstable:
        print(f"# unstable difference, {len(unstable)} inputs: differed in the first run, alike "
              "(or known) in the second:")
        show(unstable, kind, 5)
    # Both kinds of outcome occur, or the comparison says little.
    if kind == "datagrams":
        # Each datagram's outer copy reaches the raw UDP socket; a datagram
        # the port handed on reached one more protocol.
        inward = sum(len(x["delivered"]) > 1 for x in c)
        spread = f"{inward} handed on and {len(c) - inward} dropped by the C module"
    else:
        inward = sum(x["err"] == 0 for x in c)
        spread = f"{inward} succeeded and {len(c) - inward} refused with the C module"
    if inward in (0, len(c)):
        print(f"FAILED: {spread}: the inputs do not reach both outcomes")
        return 1
    n = len(c)
    line = f"{kind}: {n} inputs ({spread}), {n - sum(known.values()) - len(unknown) - len(unstable)} alike, " \
           f"{sum(known.values())} known differences, {len(unknown)} other differences"
    if again:
        line += f" (in both runs), {len(unstable)} unstable"
    print(line + (" ok" if not unknown else " FAILED"))
    return 1 if unknown else 0


def main():
    cmd = sys.argv[1]
    if cmd == "datagrams":
        return datagrams(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    if cmd == "netlink":
        return netlink(int(sys.argv[2]), sys.argv[3])
    if cmd == "compare":
        return compare(sys.argv[2], sys.argv[3], sys.argv[4], tuple(sys.argv[5:7]))
    sys.exit(f"differential.py: unknown command {cmd}")


sys.exit(main())
