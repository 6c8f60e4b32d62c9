#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""fou-rs against the kernel's C FOU, in one guest and one run (make bench).

Contenders: veth without tunnel, gretap without encap, gretap over FOU and
ipip over GUE, each with the C reference (fou_c.ko + fou6_c.ko, from
rust-tools/reference, $FOU_REFERENCE) and with fou_rs. Metrics: TCP
throughput (iperf3, 1 and 4 streams), small-packet rate (UDP, 64-byte
payloads) and control-plane cost (adding then deleting N ports with
`ip -batch`). Every repetition runs every contender, alternating which of C
and fou-rs goes first; the report gives min/median/max per contender and
the ratios fou-rs/C and FOU/plain (per repetition, then min/median/max).

The guest runs under QEMU TCG: absolute figures say little, ratios matter.
This reports; it asserts nothing about timings.

  bench.py [--smoke]    --smoke: one repetition, 1-second runs, 100 ports
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

SMOKE = "--smoke" in sys.argv
REPS = 1 if SMOKE else int(os.environ.get("FOU_BENCH_REPS", "5"))
SECS = 1 if SMOKE else int(os.environ.get("FOU_BENCH_SECONDS", "5"))
PORTS = [100] if SMOKE else [1000, 10000]
REF = os.environ.get("FOU_REFERENCE", "")
H1, H2 = "10.0.0.1", "10.0.0.2"
T1, T2 = "192.168.123.1", "192.168.123.2"


def sh(cmd, check=True):
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    if check and r.returncode:
        raise RuntimeError(f"{cmd}: exit {r.returncode}: {r.stderr.strip() or r.stdout.strip()}")
    return r.stdout


def loaded(mod):
    return any(line.split()[0] == mod for line in open("/proc/modules"))


def use(impl):
    """Loads the FOU implementation `impl` ("c", "rs" or None), unloading the other."""
    for mod, other in (("fou_rs", "rs"), ("fou6_c", "c"), ("fou_c", "c")):
        if loaded(mod) and impl != other:
            sh(f"rmmod {mod}")
    if impl == "rs" and not loaded("fou_rs"):
        sh("modprobe fou_rs")
    if impl == "c" and not loaded("fou_c"):
        sh(f"insmod {REF}/fou_c.ko && insmod {REF}/fou6_c.ko")


def underlay():
    sh("ip netns del h1 2>/dev/null; ip netns del h2 2>/dev/null; true", check=False)
    sh("ip netns add h1 && ip netns add h2 && "
       "ip link add veth1 netns h1 type veth peer name veth2 netns h2 && "
       f"ip -n h1 addr add {H1}/24 dev veth1 && ip -n h2 addr add {H2}/24 dev veth2 && "
       "ip -n h1 link set veth1 up && ip -n h2 link set veth2 up && "
       "ip -n h1 link set lo up && ip -n h2 link set lo up")


def setup(name):
    """Builds contender `name`; returns the address to reach h2 at."""
    impl = {"fou-c": "c", "gue-c": "c", "fou-rs": "rs", "gue-rs": "rs"}.get(name)
    use(impl)
    underlay()
    if name == "veth":
        return H2
    for h, me, peer in (("h1", H1, H2), ("h2", H2, H1)):
        if name == "gretap":
            sh(f"ip -n {h} link add t0 type gretap remote {peer} local {me}")
        elif name.startswith("fou"):
            sh(f"ip -n {h} fou add port 5555 ipproto 47")
            sh(f"ip -n {h} link add t0 type gretap remote {peer} local {me} "
               "encap fou encap-sport auto encap-dport 5555")
        else:
            sh(f"ip -n {h} fou add port 5555 gue")
            sh(f"ip -n {h} link add t0 type ipip remote {peer} local {me} "
               "encap gue encap-sport auto encap-dport 5555")
        sh(f"ip -n {h} link set t0 up")
    sh(f"ip -n h1 addr add {T1}/24 dev t0 && ip -n h2 addr add {T2}/24 dev t0")
    return T2


def iperf(addr, args):
    sh("ip netns exec h2 iperf3 -s -D -1 >/dev/null 2>&1", check=False)
    time.sleep(0.5)
    out = sh(f"ip netns exec h1 iperf3 -c {addr} -t {SECS} -J {args}")
    return json.loads(out)["end"]


def tcp(addr, streams):
    return iperf(addr, f"-P {streams}")["sum_received"]["bits_per_second"] / 1e6


def udp64(addr):
    end = iperf(addr, "-u -l 64 -b 0")
    s = end["sum"]
    return (s["packets"] - s["lost_packets"]) / s["seconds"] / 1000


def control(n):
    """Seconds to add then delete n ports with ip -batch."""
    with tempfile.NamedTemporaryFile("w", delete=False) as a, \
            tempfile.NamedTemporaryFile("w", delete=False) as d:
        for p in range(20000, 20000 + n):
            a.write(f"fou add port {p} ipproto 47\n")
            d.write(f"fou del port {p}\n")
    t = time.monotonic()
    sh(f"ip -n h1 -batch {a.name} && ip -n h1 -batch {d.name}")
    dt = time.monotonic() - t
    os.unlink(a.name)
    os.unlink(d.name)
    return dt


METRICS = [("TCP 1 stream", "Mbit/s", lambda a: tcp(a, 1)),
           ("TCP 4 streams", "Mbit/s", lambda a: tcp(a, 4)),
           ("UDP 64-byte payloads", "kpkt/s", udp64)]


def main():
    if not REF or not os.path.exists(f"{REF}/fou_c.ko"):
        sys.exit("bench.py: the reference C FOU is missing (FOU_REFERENCE; tests/run builds it)")
    res = {}  # (metric, contender) -> [value per repetition]
    print(f"# fou-rs bench: {REPS} repetition(s), {SECS} s per run, ports {PORTS}; "
          "QEMU TCG guest: compare ratios, not absolute figures", flush=True)
    for rep in range(REPS):
        pairs = [("fou-c", "fou-rs"), ("gue-c", "gue-rs")]
        if rep % 2:
            pairs = [(b, a) for a, b in pairs]
        order = ["veth", "gretap"] + [c for p in pairs for c in p]
        for name in order:
            addr = setup(name)
            for metric, _, f in METRICS:
                res.setdefault((metric, name), []).append(f(addr))
            if name in ("fou-c", "fou-rs"):
                for n in PORTS:
                    res.setdefault((f"add+del {n} ports", name), []).append(control(n))
            print(f"# repetition {rep + 1}: {name} done", flush=True)
    sh("ip netns del h1; ip netns del h2", check=False)
    use(None)
    report(res)


def mmm(xs):
    return f"{min(xs):9.2f} {statistics.median(xs):9.2f} {max(xs):9.2f}"


def report(res):
    print()
    print(f"{'metric':24} {'contender':9} {'min':>9} {'median':>9} {'max':>9}")
    units = {m: u for m, u, _ in METRICS}
    for (metric, name), xs in res.items():
        print(f"{metric:24} {name:9} {mmm(xs)}  {units.get(metric, 's')}")
    print()
    print("ratios per repetition, min / median / max "
          "(throughput and rate: higher is better; control-plane seconds: lower is better)")
    for (metric, name), xs in res.items():
        if name.endswith("-rs"):
            c = res[(metric, name[:-3] + "-c")]
            print(f"{metric:24} {name + '/C':14} {mmm([x / y for x, y in zip(xs, c)])}")
    for (metric, name), xs in res.items():
        if name in ("fou-c", "fou-rs") and (metric, "gretap") in res:
            plain = res[(metric, "gretap")]
            print(f"{metric:24} {name + '/gretap':14} {mmm([x / y for x, y in zip(xs, plain)])}")
    print("\nbench: table complete")


main()
