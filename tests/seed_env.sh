# SPDX-License-Identifier: GPL-2.0
# The seed's two hosts as network namespaces (sourced by tests/demo and the
# data plane selftest). h1 plays server159, h2 server156; a veth pair is the
# underlay. Addresses are the tests' own (documentation and private ranges,
# inside the guest's own namespaces).
H1=10.0.0.1
H2=10.0.0.2
H1_6=fc00::1
H2_6=fc00::2

# seed_underlay: two namespaces joined by veth, nothing else.
seed_underlay() {
	ip netns add h1
	ip netns add h2
	ip link add veth1 netns h1 type veth peer name veth2 netns h2
	ip -n h1 addr add $H1/24 dev veth1
	ip -n h2 addr add $H2/24 dev veth2
	ip -n h1 link set veth1 up
	ip -n h2 link set veth2 up
	ip -n h1 link set lo up
	ip -n h2 link set lo up
}

# seed_underlay6: seed_underlay with IPv6 addresses on the veth too.
seed_underlay6() {
	seed_underlay
	ip -n h1 addr add $H1_6/64 dev veth1 nodad
	ip -n h2 addr add $H2_6/64 dev veth2 nodad
}

# drops NS PORT: the drop counter of the UDP socket on PORT (/proc/net/udp
# and udp6, last column).
drops() {
	ip netns exec "$1" cat /proc/net/udp /proc/net/udp6 |
		awk -v p=":$(printf '%04X' "$2")" '$2 ~ p"$" { print $NF }' | head -1
}

# seed_gretap: the slides' configuration, on both sides, plus the mirror.
seed_gretap() {
	ip -n h2 fou add port 55555 ipproto 47
	ip -n h1 fou add port 33333 ipproto 47
	ip -n h1 link add my-gre type gretap remote $H2 local $H1 encap fou encap-sport 33333 encap-dport 55555
	ip -n h2 link add my-gre type gretap remote $H1 local $H2 encap fou encap-sport 55555 encap-dport 33333
	# No IPv6 on the tunnels: its router solicitations would be the first
	# packets on the wire, and the seed shows the ARP request.
	ip netns exec h1 sysctl -qw net.ipv6.conf.my-gre.disable_ipv6=1
	ip netns exec h2 sysctl -qw net.ipv6.conf.my-gre.disable_ipv6=1
	ip -n h1 link set my-gre up
	ip -n h2 link set my-gre up
}

seed_cleanup() {
	ip netns del h1 2>/dev/null
	ip netns del h2 2>/dev/null
	true
}

# capture NS DEV FILTER OUT: starts `tcpdump -xx -n -c 1` in NS on DEV in the
# background, writing to OUT, and returns once it is listening (a slow
# guest can take seconds to start it). Needs tests/lib.sh.
capture() {
	local ns=$1 dev=$2 filter=$3 out=$4
	ip netns exec "$ns" timeout 60 tcpdump -i "$dev" -xx -n -c 1 -l $filter >"$out" 2>"$out.err" &
	wait_until 30 grep -qs "listening on" "$out.err" && return 0
	echo "tcpdump on $ns/$dev did not start" >&2
	return 1
}
