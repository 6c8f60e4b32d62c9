#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every tunnel type over FOU and GUE, over an IPv4 and an IPv6 underlay,
# with traffic both ways; GUE's remote checksum offload on the wire; ports
# connected to a peer. (tests/dataplane.sh has the seed's packet and the
# FOU-over-IPv4 transfers.)
cd "$(dirname "$0")"
. ./lib.sh
plan 75
. ./seed_env.sh

unload_fou_rs
seed_cleanup
modprobe fou_rs

# iperf3_ok FROM TO_ADDR: a short iperf3 TCP transfer completes.
iperf3_ok() {
	ip netns exec "$1" iperf3 -c "$2" -n 256K
}

# add_port NS PORT_OPTS: "ip fou add port 5555 PORT_OPTS" in NS; for
# "gue nopartial" (or "gue -6 nopartial"), a GUE port with the
# REMCSUM_NOPARTIAL flag, which iproute2 cannot set, through YNL.
add_port() {
	local af=2
	case "$2" in
	*nopartial*)
		case "$2" in *-6*) af=10 ;; esac
		ip netns exec "$1" bash -c ". ./lib.sh; ynl --do add --json \
			'{\"port\": 5555, \"type\": 2, \"af\": $af, \"remcsum-nopartial\": true}'" >/dev/null ;;
	*) ip -n "$1" fou add port 5555 $2 ;;
	esac
}

# tunnel_case OUTER KIND ENCAP PORT_OPTS LINK_OPTS...: a tunnel "ip link add
# t0 type KIND LINK_OPTS... encap ENCAP" over the IPv4 (OUTER 4) or IPv6
# (OUTER 6) underlay, between ports PORT_OPTS (see add_port); ping and
# iperf3 both ways across it.
tunnel_case() {
	local outer=$1 kind=$2 encap=$3 port_opts=$4 h self peer a1 a2 inner=4
	shift 4
	local name="$kind $* over $encap ($port_opts), IPv$outer underlay"
	seed_underlay6
	for h in h1 h2; do
		if [ "$outer" = 4 ]; then
			self=$H1 peer=$H2
			[ $h = h2 ] && self=$H2 peer=$H1
		else
			self=$H1_6 peer=$H2_6
			[ $h = h2 ] && self=$H2_6 peer=$H1_6
		fi
		if ! add_port $h "$port_opts" ||
			! ip -n $h link add t0 type "$kind" "$@" local $self remote $peer \
				encap "$encap" encap-dport 5555; then
			not_ok "$name: set up" "see the errors above"
			seed_cleanup
			return
		fi
		ip -n $h link set t0 up
		ip netns exec $h iperf3 -s -D >/dev/null 2>&1
		listening $h t 5201
	done
	case "$kind $*" in sit*|*ip6ip6*) inner=6 ;; esac
	if [ $inner = 6 ]; then
		a1=fd00::1 a2=fd00::2
		ip -n h1 addr add $a1/64 dev t0 nodad
		ip -n h2 addr add $a2/64 dev t0 nodad
	else
		a1=192.168.7.1 a2=192.168.7.2
		ip -n h1 addr add $a1/24 dev t0
		ip -n h2 addr add $a2/24 dev t0
	fi
	check "$name: ping h1 -> h2" ip netns exec h1 ping -c 2 -W 3 $a2
	check "$name: ping h2 -> h1" ip netns exec h2 ping -c 2 -W 3 $a1
	check "$name: iperf3 TCP h1 -> h2" iperf3_ok h1 $a2
	check "$name: iperf3 TCP h2 -> h1" iperf3_ok h2 $a1
	pkill -x iperf3
	seed_cleanup
}

# IPv4 underlay: gretap, gre, ipip, sit. FOU direct ports hand the payload
# to the tunnel's protocol; GUE ports read it from the GUE header. Options
# vary across cases: fixed and automatic source ports, outer checksum on
# and off, remote checksum offload on and off, remcsum_nopartial ports.
tunnel_case 4 gretap fou "ipproto 47" encap-sport auto encap-csum
tunnel_case 4 gre fou "ipproto 47" encap-sport 4000 noencap-csum
tunnel_case 4 ipip fou "ipproto 4" encap-sport 4000 encap-csum
tunnel_case 4 sit fou "ipproto 41" encap-sport auto noencap-csum
tunnel_case 4 gretap gue "gue" encap-sport auto encap-csum encap-remcsum
tunnel_case 4 gre gue "gue nopartial" encap-sport auto encap-csum encap-remcsum
tunnel_case 4 ipip gue "gue" encap-sport 4000 noencap-csum noencap-remcsum
tunnel_case 4 sit gue "gue nopartial" encap-sport auto encap-csum encap-remcsum

# IPv6 underlay: ip6gretap, ip6gre, ip6tnl in both modes, ports with -6.
# IPv6 tunnels take `encap-udp6-csum` for the outer checksum: a port does
# not accept zero UDP checksums over IPv6 (the C module's sockets do not
# either).
tunnel_case 6 ip6gretap fou "ipproto 47 -6" encap-sport auto encap-udp6-csum
tunnel_case 6 ip6gre fou "ipproto 47 -6" encap-sport 4000 encap-udp6-csum
tunnel_case 6 ip6tnl fou "ipproto 4 -6" mode ipip6 encap-sport auto encap-udp6-csum
tunnel_case 6 ip6tnl fou "ipproto 41 -6" mode ip6ip6 encap-sport 4000 encap-udp6-csum
tunnel_case 6 ip6gretap gue "gue -6" encap-sport auto encap-udp6-csum encap-remcsum
tunnel_case 6 ip6gre gue "gue -6 nopartial" encap-sport auto encap-udp6-csum encap-remcsum
tunnel_case 6 ip6tnl gue "gue -6" mode ipip6 encap-sport 4000 encap-udp6-csum noencap-remcsum
tunnel_case 6 ip6tnl gue "gue -6 nopartial" mode ip6ip6 encap-sport auto encap-udp6-csum encap-remcsum

# --- GUE on the wire. ------------------------------------------------------
# gue_wire REMCSUM: ipip over GUE; one TCP data segment captured on the
# underlay; prints its GUE header fields.
gue_wire() {
	local cap
	cap=$(mktemp)
	seed_underlay6
	for h in h1 h2; do
		local self=$H1 peer=$H2
		[ $h = h2 ] && self=$H2 peer=$H1
		ip -n $h fou add port 5555 gue
		ip -n $h link add t0 type ipip local $self remote $peer encap gue \
			encap-sport auto encap-dport 5555 encap-csum "$1"
		ip -n $h link set t0 up
	done
	ip -n h1 addr add 192.168.7.1/24 dev t0
	ip -n h2 addr add 192.168.7.2/24 dev t0
	# A TCP segment with data (IPv4 length > 80) from h1 to h2.
	capture h2 veth2 "udp dst port 5555 and ip[2:2] > 120" "$cap" || return 1
	ip netns exec h2 timeout 20 socat -u TCP-LISTEN:7000 - >/dev/null &
	listening h2 t 7000
	head -c 2000 /dev/urandom | ip netns exec h1 timeout 20 socat -u - TCP:192.168.7.2:7000
	wait
	python3 decode.py --gue-json <"$cap"
	rm -f "$cap" "$cap.err"
	seed_cleanup
}
fields=$(gue_wire encap-remcsum)
echo "# remcsum: $fields"
# The option describes the inner TCP checksum: it starts after the inner
# IPv4 header (20) and its checksum field is 16 bytes into TCP.
check_match "GUE with encap-remcsum: version 0, 2 option words, private flags" \
	'"version": 0, "hlen": 2, "proto": 4, "flags": 1' echo "$fields"
check_match "GUE with encap-remcsum: REMCSUM private flag, start 20, offset 36" \
	'"pflags": 2147483648, "csum_start": 20, "csum_offset": 36' echo "$fields"
fields=$(gue_wire noencap-remcsum)
echo "# no remcsum: $fields"
check_match "GUE without encap-remcsum: version 0, no options, proto 4, no flags" \
	'"version": 0, "hlen": 0, "proto": 4, "flags": 0' echo "$fields"

# --- encap-sport auto: the source port follows the inner flow. ------------
# Eight inner UDP flows (source ports 10000-10007), two datagrams each,
# through ipip over FOU with encap-sport auto: each flow leaves from one
# port of the ephemeral range (udp_flow_src_port, from the flow hash), and
# the flows spread over more than one (a fixed port would be one for all).
seed_underlay6
for h in h1 h2; do
	self=$H1 peer=$H2
	[ $h = h2 ] && self=$H2 peer=$H1
	ip -n $h fou add port 5555 ipproto 4
	ip -n $h link add t0 type ipip local $self remote $peer encap fou encap-sport auto encap-dport 5555
	ip -n $h link set t0 up
done
ip -n h1 addr add 192.168.7.1/24 dev t0
ip -n h2 addr add 192.168.7.2/24 dev t0
cap=$(mktemp)
ip netns exec h2 timeout 60 tcpdump -i veth2 -n -l -c 16 "udp dst port 5555 and src host $H1" >"$cap" 2>"$cap.err" &
wait_until 30 grep -qs "listening on" "$cap.err"
ip netns exec h1 python3 -c '
import socket
for i in range(8):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("192.168.7.1", 10000 + i))
    for _ in range(2):
        s.sendto(b"flow", ("192.168.7.2", 9))
'
wait
# The outer source ports, in the order sent: a pair per flow.
sports=$(sed -nE 's/.* IP [0-9.]+\.([0-9]+) > [0-9.]+\.5555: UDP.*/\1/p' "$cap" | tr '\n' ' ')
echo "# outer source ports: $sports"
read -r -a sp <<<"$sports"
per_flow=1
for i in $(seq 0 2 14); do
	[ "${sp[$i]:-}" = "${sp[$((i + 1))]:-x}" ] && ((sp[i] >= 32768 && sp[i] <= 60999)) || per_flow=0
done
if [ ${#sp[@]} = 16 ] && [ $per_flow = 1 ]; then
	ok "encap-sport auto: each inner flow leaves from one source port in 32768-60999"
else
	not_ok "encap-sport auto: each inner flow leaves from one source port in 32768-60999" "got: $sports"
fi
distinct=$(printf '%s\n' "${sp[@]}" | sort -u | grep -c .)
if [ "$distinct" -gt 1 ]; then
	ok "encap-sport auto: 8 inner flows leave from $distinct source ports"
else
	not_ok "encap-sport auto: 8 inner flows leave from more than one source port" "got: $sports"
fi
rm -f "$cap" "$cap.err"
seed_cleanup

# --- Connected ports: local, peer, peer_port, dev. ------------------------
seed_underlay6
ip -n h2 fou add port 5555 ipproto 4 local $H2 peer $H1 peer_port 4000 dev veth2
ip -n h1 fou add port 4000 ipproto 4
ip -n h1 link add t0 type ipip local $H1 remote $H2 encap fou encap-sport 4000 encap-dport 5555
ip -n h2 link add t0 type ipip local $H2 remote $H1 encap fou encap-sport 5555 encap-dport 4000
ip -n h1 link set t0 up
ip -n h2 link set t0 up
ip -n h1 addr add 192.168.7.1/24 dev t0
ip -n h2 addr add 192.168.7.2/24 dev t0
check_match "a connected port shows its local address, peer, peer port and device" \
	"port 5555 ipproto 4 local $H2 peer $H1 peer_port 4000 dev veth2" ip -n h2 fou show
check "a connected port receives from its peer's port" ip netns exec h1 ping -c 2 -W 3 192.168.7.2
ip -n h1 link set t0 type ipip local $H1 remote $H2 encap fou encap-sport 4001 encap-dport 5555
refused_by_udp "a connected port does not receive from another source port" h2 4 2 \
	ip netns exec h1 ping -c 2 -W 1 192.168.7.2
seed_cleanup

seed_underlay6
ip -n h2 fou add port 5555 ipproto 4 -6 local $H2_6 peer $H1_6 peer_port 4000
ip -n h1 fou add port 4000 ipproto 4 -6
ip -n h1 link add t0 type ip6tnl mode ipip6 local $H1_6 remote $H2_6 encap fou encap-sport 4000 encap-dport 5555 encap-udp6-csum
ip -n h2 link add t0 type ip6tnl mode ipip6 local $H2_6 remote $H1_6 encap fou encap-sport 5555 encap-dport 4000 encap-udp6-csum
ip -n h1 link set t0 up
ip -n h2 link set t0 up
ip -n h1 addr add 192.168.7.1/24 dev t0
ip -n h2 addr add 192.168.7.2/24 dev t0
check_match "a connected IPv6 port shows its local address, peer and peer port" \
	"port 5555 ipproto 4 -6 local $H2_6 peer $H1_6 peer_port 4000" ip -n h2 fou show
check "a connected IPv6 port receives from its peer's port" ip netns exec h1 ping -c 2 -W 3 192.168.7.2
ip -n h1 link set t0 type ip6tnl mode ipip6 local $H1_6 remote $H2_6 encap fou encap-sport 4001 encap-dport 5555 encap-udp6-csum
refused_by_udp "a connected IPv6 port does not receive from another source port" h2 6 2 \
	ip netns exec h1 ping -c 2 -W 1 192.168.7.2
seed_cleanup

unload_fou_rs
done_testing
