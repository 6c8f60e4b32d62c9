#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# GRO on FOU and GUE ports: a TCP stream through the tunnel is aggregated
# on the receiver when the underlay device does GRO, and still flows when it
# does not; a port without an inner offload (ipproto 253) is not held; port
# deletion, namespace deletion and rmmod while aggregated traffic flows.
cd "$(dirname "$0")"
. ./lib.sh
plan 20
. ./seed_env.sh

unload_fou_rs
seed_cleanup
modprobe fou_rs

# setup ENCAP PORT_OPTS [LINK_OPTS]: ipip over ENCAP between h1 and h2
# (192.168.7.1/2). The sender's veth segments in software (no GSO passes
# through it), so packets on the wire are MTU-sized; the receiver's veth
# does GRO only when asked to. With encap-remcsum in LINK_OPTS the sender's
# veth also computes the outer UDP checksum itself: the receiver's GRO then
# verifies it and applies the remote checksum offload option (seen in a
# debug run: GRO's checksum valid, no option applied earlier), where a
# segment still offloading its checksum arrives marked as already done.
setup() {
	seed_underlay
	for h in h1 h2; do
		local self=$H1 peer=$H2
		[ $h = h2 ] && self=$H2 peer=$H1
		ip -n $h fou add port 5555 $2
		ip -n $h link add t0 type ipip local $self remote $peer encap "$1" \
			encap-sport auto encap-dport 5555 encap-csum $3
		ip -n $h link set t0 up
	done
	ip -n h1 addr add 192.168.7.1/24 dev t0
	ip -n h2 addr add 192.168.7.2/24 dev t0
	ip netns exec h1 ethtool -K veth1 tso off gso off tx-udp_tnl-segmentation off \
		tx-udp_tnl-csum-segmentation off >/dev/null 2>&1
	case "$3" in
	*remcsum*) ip netns exec h1 ethtool -K veth1 tx off >/dev/null 2>&1 ;;
	esac
	ip netns exec h2 iperf3 -s -D >/dev/null 2>&1
	listening h2 t 5201
}

# stream GRO: with the receiver's GRO on|off, 4 MiB of TCP from h1 to h2;
# prints "segments S packets P": TCP segments h1 sent, packets h2's tunnel
# device received.
stream() {
	ip netns exec h2 ethtool -K veth2 gro "$1" >/dev/null
	local segs0 rx0 segs1 rx1
	segs0=$(ip netns exec h1 nstat -az TcpOutSegs | awk '/TcpOutSegs/ { print $2 }')
	rx0=$(ip netns exec h2 cat /sys/class/net/t0/statistics/rx_packets)
	ip netns exec h1 iperf3 -c 192.168.7.2 -n 4M >/dev/null || return 1
	segs1=$(ip netns exec h1 nstat -az TcpOutSegs | awk '/TcpOutSegs/ { print $2 }')
	rx1=$(ip netns exec h2 cat /sys/class/net/t0/statistics/rx_packets)
	echo "segments $((segs1 - segs0)) packets $((rx1 - rx0))"
}

# flows NAME on|off: one stream with the receiver's GRO on or off; passes
# when it flows, one packet per segment (not aggregated).
flows() {
	local out segs pkts
	out=$(stream "$2")
	echo "# $1: $out"
	read -r _ segs _ pkts <<<"$out"
	if [ -n "$pkts" ] && [ "$segs" -gt 1000 ] && [ $((pkts * 10)) -ge $((segs * 9)) ]; then
		ok "$1: the stream flows, one packet per segment"
	else
		not_ok "$1: the stream flows, one packet per segment" "$out"
	fi
}

# gro_case ENCAP PORT_OPTS
gro_case() {
	local name="ipip over $1" out segs pkts
	setup "$1" "$2"
	flows "$name, GRO off" off
	# How many segments one NAPI poll finds queued depends on scheduling:
	# under TCG 2,998 segments became 122 to 539 packets in runs here, and a
	# CI run missed a threshold of a third for both encaps. So up to three
	# streams; without gro_receive every one is one packet per segment.
	local try tries="" aggregated=no
	for try in 1 2 3; do
		out=$(stream on)
		echo "# $name, GRO on, stream $try: $out"
		tries="$tries [$out]"
		read -r _ segs _ pkts <<<"$out"
		if [ -n "$pkts" ] && [ "$segs" -gt 1000 ] && [ $((pkts * 4)) -le $((segs * 3)) ]; then
			aggregated=yes
			break
		fi
	done
	if [ $aggregated = yes ]; then
		ok "$name, GRO on: segments are aggregated (at most 3/4 as many packets)"
	else
		not_ok "$name, GRO on: segments are aggregated" "$tries"
	fi
	pkill -x iperf3
	seed_cleanup
}
gro_case fou "ipproto 4"
gro_case gue gue

# GUE with remote checksum offload, the receiver's GRO on: GRO applies the
# option as the C module does (`gue_gro_remcsum`, see `setup`), and the
# stream flows,
# its data intact (TCP's own checksums, completed from the option). It is
# not aggregated here, by the C module either (tried: transmit and receive
# checksumming on and off, remcsum_nopartial, threaded NAPI): traced with
# ftrace on Debian's kernel and fou.ko, each packet's GRO receive is
# followed by its delivery, one packet per NAPI poll.
setup gue gue encap-remcsum
flows "ipip over gue encap-remcsum, GRO on" on
pkill -x iperf3
seed_cleanup

# A port whose inner protocol has no GRO offload: packets are not held or
# merged, each of the 2,000 reaches IP's delivery as its own packet (none
# has a handler: IP counts each in InUnknownProtos).
seed_underlay
ip netns exec h2 ethtool -K veth2 gro on >/dev/null
ip -n h2 fou add port 6000 ipproto 253
unknown_protos() { ip netns exec h2 nstat -az IpInUnknownProtos | awk '/IpInUnknownProtos/ { print $2 }'; }
u0=$(unknown_protos)
ip netns exec h1 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(2000):
    s.sendto(bytes(200), ("'$H2'", 6000))
'
all_arrived() { [ "$(unknown_protos)" -ge $((u0 + 2000)) ]; }
wait_until 10 all_arrived
u1=$(unknown_protos)
if [ "$u1" = $((u0 + 2000)) ]; then
	ok "2000 datagrams to an ipproto 253 port with GRO on: each delivered on its own"
else
	not_ok "2000 datagrams to an ipproto 253 port with GRO on: each delivered on its own" \
		"IpInUnknownProtos +$((u1 - u0))"
fi
seed_cleanup

# --- Teardown while aggregated traffic flows. ------------------------------
# Each teardown first sees the stream reach h2's tunnel device (100 more
# packets within 10 s), so that it tears down under traffic.
for encap in fou gue; do
	opts="ipproto 4"
	[ $encap = gue ] && opts=gue
	set -- $encap "$opts"
	setup "$1" "$2"
	ip netns exec h2 ethtool -K veth2 gro on >/dev/null
	ip netns exec h1 iperf3 -c 192.168.7.2 -t 8 >/dev/null 2>&1 &
	check "$1: a GRO stream flows" rx_grows h2 t0 100
	check "$1: ip fou del under a GRO stream" ip -n h2 fou del port 5555
	sleep 1
	check "$1: ip fou add again under the stream" ip -n h2 fou add port 5555 $2
	sleep 1
	check "$1: ip netns del of the receiver under the stream" ip netns del h2
	# The client's path is gone: stop it rather than wait for TCP to give up.
	pkill -x iperf3
	wait
	seed_cleanup
	setup "$1" "$2"
	ip netns exec h2 ethtool -K veth2 gro on >/dev/null
	ip netns exec h1 iperf3 -c 192.168.7.2 -t 8 >/dev/null 2>&1 &
	check "$1: a GRO stream flows" rx_grows h2 t0 100
	check "$1: rmmod fou_rs under a GRO stream" rmmod fou_rs
	pkill -x iperf3
	wait
	seed_cleanup
	check "$1: modprobe fou_rs again" modprobe fou_rs
done

unload_fou_rs
done_testing
