#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The counted parts of tests/stress.sh. Each prints one line of counts
and "ok" or "FAILED: why"; exit status 0 when ok.

  stress.py netlink COUNT           COUNT generated messages to `fou`
                                    (random attributes, lengths, types,
                                    nesting, flags, commands, versions),
                                    valid ADD/DEL pairs mixed in; every one
                                    answered, nothing left configured
  stress.py churn SECONDS           two processes adding and deleting 64
                                    overlapping ports for SECONDS; the
                                    final ports match their successes
  stress.py packets COUNT DST FOU_PORT GUE_PORT
                                    COUNT datagrams split over a FOU port
                                    (ipproto 253) and a GUE port; prints
                                    how many a GUE port must drop
"""
import multiprocessing
import os
import random
import socket
import struct
import sys
import time

from genl import *  # noqa: F401,F403 (the netlink vocabulary)
from fuzz import gue_datagram, random_request

SEED = int(os.environ.get("FOU_STRESS_SEED", "7"))


def verdict(ok_cond, counts, why):
    print(counts, "ok" if ok_cond else f"FAILED: {why}")
    return 0 if ok_cond else 1


def netlink(count):
    rnd = random.Random(SEED)
    g = Genl()
    answered = pairs = pair_fail = 0
    # A valid port no random message can collide with: bound to 127.0.0.1
    # and connected to 127.0.0.2:1.
    key = (be16(PORT, 40000) + attr(LOCAL_V4, socket.inet_aton("127.0.0.1"))
           + attr(PEER_V4, socket.inet_aton("127.0.0.2")) + be16(PEER_PORT, 1))
    for i in range(count):
        if i % 10 == 0:
            a, _, _ = g.call(CMD_ADD, key + u8(TYPE, 1) + u8(IPPROTO, 47))
            d, _, _ = g.call(CMD_DEL, key)
            pairs += 1
            pair_fail += (a != 0) + (d != 0)
            answered += 1
            continue
        cmd, attrs, flags, version = random_request(rnd)
        g.raw(g.msg(g.fam, cmd, attrs, flags, version))
        err, _, _ = g.recv_all()
        if err not in ("timeout", "bad reply"):
            answered += 1
    created = 0
    err, out = g.dump()
    for a in out:
        created += 1
        k = b"".join(attr(t, v) for t, v in a.items()
                     if t in (PORT, AF, LOCAL_V4, LOCAL_V6, PEER_V4, PEER_V6, PEER_PORT, IFINDEX)
                     and not (t in (LOCAL_V4, LOCAL_V6, PEER_V4, PEER_V6, IFINDEX, PEER_PORT) and not any(v)))
        g.call(CMD_DEL, k)
    err, left = g.ports()
    return verdict(answered == count and pair_fail == 0 and err == 0 and not left,
                   f"netlink: {count} messages, {answered} answered, {pairs} valid ADD/DEL pairs "
                   f"({pair_fail} failed), {created} ports created by random ADDs and deleted, "
                   f"{len(left)} left",
                   "a message unanswered, a valid pair failed or a port left behind")


def churner(seconds, seed, q):
    rnd = random.Random(seed)
    g = Genl()
    adds = [0] * 64
    dels = [0] * 64
    bad = []
    end = time.time() + seconds
    ops = 0
    while time.time() < end:
        i = rnd.randrange(64)
        key = be16(PORT, 41000 + i)
        if rnd.random() < 0.5:
            err, _, _ = g.call(CMD_ADD, key + u8(TYPE, 2))
            if err == 0:
                adds[i] += 1
            elif err not in (errno.EADDRINUSE, errno.EALREADY):
                bad.append(f"ADD {41000 + i}: {name(err)}")
        else:
            err, _, _ = g.call(CMD_DEL, key)
            if err == 0:
                dels[i] += 1
            elif err != errno.EINVAL:  # a missing port, as in C
                bad.append(f"DEL {41000 + i}: {name(err)}")
        ops += 1
    q.put((adds, dels, bad, ops))


def churn(seconds):
    q = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=churner, args=(seconds, SEED + k, q)) for k in range(2)]
    for p in procs:
        p.start()
    results = [q.get() for _ in procs]
    for p in procs:
        p.join()
    adds = [sum(r[0][i] for r in results) for i in range(64)]
    dels = [sum(r[1][i] for r in results) for i in range(64)]
    bad = [b for r in results for b in r[2]]
    ops = sum(r[3] for r in results)
    # Successful ADDs and DELs of one port alternate, whatever the
    # interleaving: the port exists exactly when they differ by one.
    expect = sorted(41000 + i for i in range(64) if adds[i] - dels[i] == 1)
    balanced = all(adds[i] - dels[i] in (0, 1) for i in range(64))
    err, ports = Genl().ports()
    got = sorted(p for _, p in ports)
    return verdict(not bad and balanced and err == 0 and got == expect,
                   f"churn: 2 processes, {seconds} s, {ops} operations, {sum(adds)} ADDs and "
                   f"{sum(dels)} DELs succeeded, {len(got)} ports at the end, {len(expect)} expected",
                   f"unexpected errors {bad[:5]}, balanced {balanced}, ports {got} vs {expect}")


def gue_drops(d):
    """Whether a GUE port must drop UDP payload `d` (fou-rs's rules)."""
    if len(d) < 4:
        return True
    v = d[0] >> 6
    if v == 1:
        return d[0] >> 4 not in (4, 6)
    if v != 0:
        return True
    control, optlen, proto = d[0] & 0x20, (d[0] & 0x1F) * 4, d[1]
    flags = struct.unpack("!H", d[2:4])[0]
    if len(d) < 4 + optlen or flags & ~1:
        return True
    need = 0
    if flags & 1:
        if optlen < 4:
            return True
        pf = struct.unpack("!I", d[4:8])[0]
        if pf & ~(1 << 31):
            return True
        if pf:
            if optlen < 8:
                return True
            start, off = struct.unpack("!HH", d[8:12])
            if off < start:
                return True
            need = 4 + optlen + max(start, off + 2)
    if control or proto == 0:
        return True
    return len(d) < need


def packets(count, dst, fou_port, gue_port):
    rnd = random.Random(SEED)
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    must_drop = to_fou = to_gue = 0
    for i in range(count):
        if i % 4 == 0:
            d = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 300)))
            s.sendto(d, (dst, fou_port))
            to_fou += 1
        else:
            d = gue_datagram(rnd)
            must_drop += gue_drops(d)
            s.sendto(d, (dst, gue_port))
            to_gue += 1
        if i % 64 == 63:
            time.sleep(0.002)  # stay below the receiver's socket and backlog limits
    print(f"packets: {count} datagrams, {to_fou} to the FOU port, {to_gue} to the GUE port, "
          f"{must_drop} of them malformed")
    print(f"expect {to_fou} {to_gue} {must_drop}")
    return 0


def main():
    cmd = sys.argv[1]
    if cmd == "netlink":
        return netlink(int(sys.argv[2]))
    if cmd == "churn":
        return churn(int(sys.argv[2]))
    if cmd == "packets":
        return packets(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    sys.exit(f"stress.py: unknown command {cmd}")


sys.exit(main())
