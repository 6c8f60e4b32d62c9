#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The data plane: the seed's GRE-over-UDP packet byte for byte, every tunnel
# type over FOU with traffic both ways, hostile datagrams, and deleting or
# unloading under a ping flood.
cd "$(dirname "$0")"
. ./lib.sh
plan 49
. ./seed_env.sh

unload_fou_rs
seed_cleanup
seed_underlay

# Without fou_rs the tunnel cannot be configured (the seed's first attempt).
check_fails "encap fou without fou_rs: Invalid argument" "Invalid argument" \
	ip -n h1 link add t0 type gretap remote $H2 local $H1 encap fou encap-sport 1 encap-dport 2

modprobe fou_rs
seed_gretap

# --- The seed's packet. --------------------------------------------------
cap=$(mktemp)
cap2=$(mktemp)
capture h2 veth2 udp "$cap"
capture h2 my-gre "" "$cap2"
# (arping exits 1: nobody answers 192.168.123.123, as in the seed.)
check_match "arping -I my-gre 192.168.123.123 -c 1 sends one probe" "Sent 1 probes" \
	sh -c 'ip netns exec h1 arping -I my-gre 192.168.123.123 -c 1; true' 
wait
fields=$(python3 decode.py --json <"$cap" 2>&1)
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2]))' "$fields" "$1" 2>/dev/null; }
check_field() {
	local got
	got=$(field "$1")
	if [ "$got" = "$2" ]; then ok "seed packet: $3"; else not_ok "seed packet: $3" "field $1: expected $2, got $got" "$(cat "$cap")"; fi
}
check_field udp_sport 33333 "UDP source port 0x8235"
check_field udp_dport 55555 "UDP destination port 0xd903"
check_field udp_len 54 "UDP length 0x0036"
check_field gre_flags 0 "GRE flags 0000"
check_field gre_proto 25944 "GRE protocol 6558"
check_field inner_dst ff:ff:ff:ff:ff:ff "inner Ethernet destination broadcast"
check_field inner_src "$(ip -n h1 -br link show my-gre | awk '{print $3}')" "inner Ethernet source is my-gre's MAC"
check_field inner_type 2054 "inner ethertype 0x0806"
check_field arp_tpa 192.168.123.123 "ARP target 192.168.123.123"
check_match "the receiver's my-gre shows the decapsulated ARP request" \
	"ARP, Request who-has 192.168.123.123" cat "$cap2"
# The frame on my-gre is the underlay packet's payload after the outer
# Ethernet (14), IPv4 (20), UDP (8) and GRE (4) headers.
check "and it is byte-identical to the inner frame on the wire" python3 -c '
import sys
sys.argv = ["decode.py"]
exec(open("decode.py").read().split("def mac(")[0])
outer = hexbytes(open("'"$cap"'").read())
inner = hexbytes(open("'"$cap2"'").read())
print("inner frame on the wire:", outer[46:].hex())
print("frame on my-gre:        ", inner.hex())
sys.exit(0 if inner and outer[46:] == inner else 1)'
rm -f "$cap" "$cap2" "$cap.err" "$cap2.err"

ip -n h1 addr add 192.168.123.1/24 dev my-gre
ip -n h2 addr add 192.168.123.2/24 dev my-gre
check "ping h1 -> h2 across gretap over FOU" ip netns exec h1 ping -c 3 -W 2 192.168.123.2
check "ping h2 -> h1 across gretap over FOU" ip netns exec h2 ping -c 3 -W 2 192.168.123.1
seed_cleanup

# --- Every tunnel type over FOU, both ways, with traffic. ------------------
# iperf3_ok FROM TO_ADDR: a short iperf3 TCP transfer completes.
iperf3_ok() {
	ip netns exec "$1" iperf3 -c "$2" -n 512K
}

# xfer_ok FROM TO_NS TO_ADDR: 512 KiB of random bytes sent over TCP arrives
# complete and unchanged (iperf3's own byte counts stop at its end-of-test
# message, which can overtake data still in flight under emulation).
xfer_ok() {
	local from=$1 to=$2 addr=$3 tx rx l=TCP-LISTEN c
	tx=$(mktemp)
	rx=$(mktemp)
	c="TCP:$addr:5001"
	case "$addr" in *:*) l=TCP6-LISTEN c="TCP6:[$addr]:5001" ;; esac
	head -c 524288 /dev/urandom >"$tx"
	ip netns exec "$to" timeout 60 socat -u "$l:5001,reuseaddr" "OPEN:$rx,creat,trunc" &
	listening "$to" t 5001 || return 1
	ip netns exec "$from" timeout 60 socat -u "OPEN:$tx" "$c" || return 1
	wait
	echo "sent $(stat -c %s "$tx") bytes, received $(stat -c %s "$rx")"
	cmp "$tx" "$rx"
	local r=$?
	rm -f "$tx" "$rx"
	return $r
}

# tunnel_case KIND IPPROTO SPORT CSUM: a tunnel of KIND over FOU ports of
# IPPROTO, with encap-sport SPORT (a port or auto) and [no]encap-csum.
tunnel_case() {
	local kind=$1 proto=$2 sport=$3 csum=$4 a1 a2 ping=ping
	local name="$kind over FOU (ipproto $proto, encap-sport $sport, $csum)"
	seed_underlay
	ip netns exec h2 iperf3 -s -D >/dev/null 2>&1
	ip netns exec h1 iperf3 -s -D >/dev/null 2>&1
	listening h2 t 5201
	listening h1 t 5201
	ip -n h1 fou add port 5555 ipproto "$proto"
	ip -n h2 fou add port 5555 ipproto "$proto"
	for h in h1 h2; do
		local self=$H1 peer=$H2
		[ $h = h2 ] && self=$H2 peer=$H1
		ip -n $h link add t0 type "$kind" remote $peer local $self \
			encap fou encap-sport "$sport" encap-dport 5555 "$csum" || {
			# Its checks do not run (the plan counts them missing);
			# the cases after it start clean.
			not_ok "$name: the tunnel device is created in $h"
			pkill -x iperf3
			seed_cleanup
			return 1
		}
		ip -n $h link set t0 up
	done
	if [ "$kind" = sit ]; then
		a1=fd00::1 a2=fd00::2
		ip -n h1 addr add $a1/64 dev t0 nodad
		ip -n h2 addr add $a2/64 dev t0 nodad
	else
		a1=192.168.7.1 a2=192.168.7.2
		ip -n h1 addr add $a1/24 dev t0
		ip -n h2 addr add $a2/24 dev t0
	fi
	check "$name: ping h1 -> h2" ip netns exec h1 $ping -c 2 -W 3 $a2
	check "$name: ping h2 -> h1" ip netns exec h2 $ping -c 2 -W 3 $a1
	check "$name: iperf3 TCP h1 -> h2" iperf3_ok h1 $a2
	check "$name: iperf3 TCP h2 -> h1" iperf3_ok h2 $a1
	check "$name: 512 KiB over TCP h1 -> h2 arrives intact" xfer_ok h1 h2 $a2
	check "$name: 512 KiB over TCP h2 -> h1 arrives intact" xfer_ok h2 h1 $a1
	pkill -x iperf3
	seed_cleanup
}

# Each kind once, the options alternating (tests/tunnels.sh has the other
# combinations, GUE and the IPv6 underlay).
tunnel_case gretap 47 auto encap-csum
tunnel_case gre 47 4000 noencap-csum
tunnel_case ipip 4 4000 encap-csum
tunnel_case sit 41 auto noencap-csum

# --- Hostile datagrams to FOU ports. ---------------------------------------
seed_underlay
seed_gretap
ip -n h1 addr add 192.168.123.1/24 dev my-gre
ip -n h2 addr add 192.168.123.2/24 dev my-gre
# A port for a protocol nothing handles: its packets are counted as such.
ip -n h2 fou add port 6000 ipproto 253
col=$(ip netns exec h2 awk '/^Ip: F/ { for (i = 1; i <= NF; i++) if ($i == "InUnknownProtos") print i }' /proc/net/snmp)
unknown() { ip netns exec h2 awk -v c="$col" '/^Ip: [0-9]/ { print $c }' /proc/net/snmp; }
before=$(unknown)
check "send 300 hostile datagrams (1-byte, short GRE, random) to the GRE port and the ipproto 253 port" \
	ip netns exec h1 python3 -c '
import os, random, socket
r = random.Random(7)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(100):
    s.sendto(bytes([r.getrandbits(8)]), ("'$H2'", 55555))
    s.sendto(bytes([0, 0, 0x65, 0x58]) + os.urandom(r.randint(0, 13)), ("'$H2'", 55555))
    s.sendto(os.urandom(r.randint(1, 1400)), ("'$H2'", 55555 if i % 2 else 6000))
'
sleep 1
after=$(unknown)
if [ -n "$after" ] && [ $((after - before)) -ge 50 ]; then
	ok "datagrams for the unhandled protocol 253 are counted (InUnknownProtos +$((after - before)))"
else
	not_ok "datagrams for the unhandled protocol 253 are counted" "InUnknownProtos before $before after $after"
fi
check "the tunnel still works after the hostile datagrams" ip netns exec h1 ping -c 3 -W 2 192.168.123.2

# --- Deleting the port and unloading under a ping flood. -------------------
ip netns exec h1 ping -f -w 8 192.168.123.2 >/dev/null 2>&1 &
flood=$!
check "a ping flood crosses the tunnel" rx_grows h2 my-gre 100
check "ip fou del under a ping flood" ip -n h2 fou del port 55555
sleep 1
check "re-add the port under the flood" ip -n h2 fou add port 55555 ipproto 47
sleep 1
check "rmmod fou_rs under a ping flood (tunnels still configured)" rmmod fou_rs
sleep 1
wait $flood
# Without fou_rs the FOU encap ops are gone: the tunnel cannot build its
# packets and counts each as a transmit error.
tx_errors() { ip netns exec h1 cat /sys/class/net/my-gre/statistics/tx_errors; }
e0=$(tx_errors)
out=$(ip netns exec h1 ping -c 2 -W 1 192.168.123.2 2>&1)
e1=$(tx_errors)
if echo "$out" | grep -q "100% packet loss" && [ $((e1 - e0)) -ge 2 ]; then
	ok "with fou_rs unloaded the tunnel does not pass traffic (it cannot encapsulate)"
else
	not_ok "with fou_rs unloaded the tunnel does not pass traffic (it cannot encapsulate)" \
		"$out" "my-gre transmit errors in h1: +$((e1 - e0)), expected 2 or more"
fi
check "modprobe fou_rs again" modprobe fou_rs
ip -n h1 fou add port 33333 ipproto 47
ip -n h2 fou add port 55555 ipproto 47
check "after reloading and re-adding the ports the tunnel works again" \
	ip netns exec h1 ping -c 3 -W 2 192.168.123.2
seed_cleanup
unload_fou_rs
done_testing
