#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The BPF kfuncs of fou.ko, bpf_skb_set_fou_encap and bpf_skb_get_fou_encap,
# offered by fou_rs: on a distribution kernel with BTF (make check-distro;
# the test kernel has none), against the kernel's own fou.ko, same guest.
#  - their BTF (prototypes, bpf_kfunc tags, argument types) equals fou.ko's;
#  - the upstream programs (tools/testing/selftests/bpf, test_tunnel_kern.c)
#    load only with a FOU module, and the upstream scenario of
#    `test_progs -t tunnel` for ipip over FOU and over GUE (a collect_md
#    ipip device whose TC programs pick the encapsulation per packet) pings
#    both ways with either module;
#  - on the wire, FOU or GUE to port 5555 from a port chosen from the flow;
#  - one collect_md device reaching two peers behind one address on
#    different FOU ports, chosen per packet by the program (not upstream);
#  - every other input (tests/bpf/fou_edges.bpf.c: no metadata, each type,
#    checksum on and off, received metadata, a NULL encap) gets the same
#    answer from both.
# tests/run builds the programs and the loader on the host (tests/bpf/build)
# and passes their directory as FOU_BPF_DIR.
cd "$(dirname "$0")"
. ./lib.sh
plan 23
b=${FOU_BPF_DIR:-}
tool=$b/fou-bpf
up=$b/test_tunnel_kern.bpf.o
edges=$b/fou_edges.bpf.o
work=$(mktemp -d)

if [ -z "${FOU_KERNEL:-}" ] || [ ! -x "$tool" ] || [ ! -f "$up" ] || [ ! -f "$edges" ]; then
	not_ok "the BPF programs and loader are built for this kernel (FOU_BPF_DIR='$b')"
	done_testing
fi
c4=$(ls /lib/modules/"$(uname -r)"/kernel/net/ipv4/fou.ko* | head -1)
load_c() { modprobe -a udp_tunnel ip_tunnel ip6_udp_tunnel && insmod "$c4"; }
load_impl() { if [ "$1" = fou ]; then load_c; else modprobe fou_rs; fi; }
unload_all() { rmmod fou 2>/dev/null; unload_fou_rs; }
unload_all

# --- No FOU module: what the kfuncs' users meet without one. -------------
check_match "without a FOU module, the upstream ipip_fou_set_tunnel does not load" "^refused" \
	"$tool" load "$up" ipip_fou_set_tunnel

# --- BTF. ------------------------------------------------------------------
load_c && "$tool" kfuncs fou >"$work/btf.fou" 2>&1
unload_all
modprobe fou_rs && "$tool" kfuncs fou_rs >"$work/btf.fou_rs" 2>&1
unload_all
sed 's/^/# fou_rs: /' "$work/btf.fou_rs"
check_match "fou_rs's BTF marks both kfuncs bpf_kfunc" "(tagged bpf_kfunc.*){2}" tr '\n' ' ' <"$work/btf.fou_rs"
# same_btf: both modules' answers are complete (both kfuncs tagged) and equal.
same_btf() {
	[ "$(grep -c 'tagged bpf_kfunc$' "$work/btf.fou")" = 2 ] && diff "$work/btf.fou" "$work/btf.fou_rs"
}
check "fou_rs's BTF of the kfuncs and their types equals fou.ko's" same_btf

# --- The upstream scenario (prog_tests/test_tunnel.c, test_ipip_tunnel). --
# scenario ENCAP IN_OBJ IN_PROG OUT_OBJ OUT_PROG: at_ns0 has a plain ipip
# tunnel with `encap ENCAP` to port 5555, the root namespace a collect_md
# ipip11 whose TC programs (ingress, egress) handle the encapsulation;
# pings both ways.
scenario() {
	local encap=$1 proto=gue r=0
	[ "$encap" = gue ] || proto="ipproto 4"
	ip netns add at_ns0
	ip link add veth0 address 52:54:00:d9:03:00 type veth peer name veth1
	ip link set veth0 netns at_ns0
	ip addr add 172.16.1.200/24 dev veth1
	ip link set dev veth1 up mtu 1500
	ip -n at_ns0 addr add 172.16.1.100/24 dev veth0
	ip -n at_ns0 link set dev veth0 up mtu 1500
	ip -n at_ns0 link add dev ipip00 type ipip local 172.16.1.100 remote 172.16.1.200
	ip -n at_ns0 fou add port 5555 $proto
	ip -n at_ns0 link set dev ipip00 type ipip encap "$encap"
	ip -n at_ns0 link set dev ipip00 type ipip encap-dport 5555
	ip -n at_ns0 link set dev ipip00 up
	ip -n at_ns0 addr add dev ipip00 10.1.1.100/24
	ip fou add port 5555 $proto
	ip link add dev ipip11 type ipip external
	ip link set dev ipip11 up
	ip addr add dev ipip11 10.1.1.200/24
	"$tool" tc "$2" ipip11 "$3" - && "$tool" tc "$4" ipip11 - "$5" || r=1
	# The first packet on the wire towards at_ns0.
	rm -f "$work/wire" "$work/wire.err"
	timeout 60 tcpdump -i veth1 -xx -n -c 1 -l "udp and dst host 172.16.1.100" >"$work/wire" 2>"$work/wire.err" &
	wait_until 30 grep -qs "listening on" "$work/wire.err" || r=1
	ping -i 0.01 -c 3 -w 10 -q 10.1.1.100 >/dev/null || r=1
	ip netns exec at_ns0 ping -i 0.01 -c 3 -w 10 -q 10.1.1.200 >/dev/null || r=1
	wait
	ip link del ipip11
	ip fou del port 5555
	ip link del veth1
	ip netns del at_ns0
	return $r
}
# wire FIELD: a field of the captured packet (decode.py --json); gue FIELD:
# one of its GUE header (decode.py --gue-json).
wire() { python3 decode.py --json <"$work/wire" | python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1]))' "$1"; }
gue() { python3 decode.py --gue-json <"$work/wire" | python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1]))' "$1"; }
# on_the_wire ENCAP: the packet went to UDP port 5555 from a port chosen
# from the flow (sport 0 asked for one), and carries ENCAP: FOU, the inner
# IPv4 header right after UDP; GUE, a version 0 header without options for
# protocol 4 (IPIP), then the inner IPv4 header.
on_the_wire() {
	[ "$(wire udp_dport)" = 5555 ] && [ "$(wire udp_sport)" != 0 ] || return 1
	if [ "$1" = fou ]; then
		[ "$(($(wire gre_flags) >> 8))" = $((0x45)) ]
	else
		[ "$(gue version)/$(gue hlen)/$(gue proto)/$(gue flags)" = 0/0/4/0 ]
	fi
}

# --- Flow-based, beyond the upstream test: two peers behind one address. --
# gw owns 172.16.1.100 and forwards UDP port 5555 to peer pa and 6666 to
# peer pb (NAT), each a plain ipip tunnel over FOU port 5555 with inner
# address 10.1.1.1 and 10.1.1.2. Root's one collect_md ipip11 reaches both:
# its egress program (two_peers_set_tunnel) picks the FOU port by the inner
# destination. Two tunnels to one remote that differ only by port cannot
# otherwise both exist.
two_peers() {
	local r=0 p
	for p in gw pa pb; do ip netns add $p; done
	ip link add veth0 netns gw type veth peer name veth1
	ip addr add 172.16.1.200/24 dev veth1
	ip link set veth1 up
	ip -n gw addr add 172.16.1.100/24 dev veth0
	ip -n gw link set veth0 up
	ip netns exec gw sysctl -qw net.ipv4.ip_forward=1
	for p in a b; do
		local n=1
		[ $p = a ] || n=2
		ip link add v${p}0 netns gw type veth peer name v${p}1 netns p$p
		ip -n gw addr add 192.168.$((n * 10)).1/24 dev v${p}0
		ip -n gw link set v${p}0 up
		ip -n p$p addr add 192.168.$((n * 10)).2/24 dev v${p}1
		ip -n p$p link set v${p}1 up
		ip -n p$p route add default via 192.168.$((n * 10)).1
		ip -n p$p fou add port 5555 ipproto 4
		ip -n p$p link add ipip00 type ipip local 192.168.$((n * 10)).2 remote 172.16.1.200 \
			encap fou encap-sport auto encap-dport 5555
		ip -n p$p addr add 10.1.1.$n/24 dev ipip00
		ip -n p$p link set ipip00 up
	done
	ip netns exec gw nft -f - <<-END || r=1
		table ip nat {
			chain pre {
				type nat hook prerouting priority dstnat;
				iifname "veth0" udp dport 5555 dnat to 192.168.10.2:5555
				iifname "veth0" udp dport 6666 dnat to 192.168.20.2:5555
			}
			chain post {
				type nat hook postrouting priority srcnat;
				oifname "veth0" masquerade
			}
		}
	END
	ip fou add port 5555 ipproto 4
	ip link add dev ipip11 type ipip external
	ip link set dev ipip11 up
	ip addr add dev ipip11 10.1.1.200/24
	"$tool" tc "$edges" ipip11 - two_peers_set_tunnel || r=1
	for p in 1 2; do
		rm -f "$work/wire" "$work/wire.err"
		timeout 60 tcpdump -i veth1 -xx -n -c 1 -l "udp and dst host 172.16.1.100" >"$work/wire" 2>"$work/wire.err" &
		wait_until 30 grep -qs "listening on" "$work/wire.err" || r=1
		ping -i 0.01 -c 3 -w 10 -q 10.1.1.$p >/dev/null || { echo "# no answer from 10.1.1.$p"; r=1; }
		wait
		[ "$(wire udp_dport)" = $((p == 1 ? 5555 : 6666)) ] || { echo "# 10.1.1.$p: dport $(wire udp_dport)"; r=1; }
	done
	ip link del ipip11
	ip fou del port 5555
	ip link del veth1
	for p in gw pa pb; do ip netns del $p; done
	return $r
}

for impl in fou fou_rs; do
	unload_all
	if ! load_impl "$impl"; then
		not_ok "$impl loads"
		continue
	fi
	for e in fou gue; do
		check "$impl: upstream ipip over ${e^^} (ipip_${e}_set_tunnel, ipip_encap_get_tunnel): pings both ways" \
			scenario "$e" "$up" ipip_encap_get_tunnel "$up" "ipip_${e}_set_tunnel"
		if on_the_wire "$e"; then
			ok "$impl: on the wire, ${e^^} to port 5555 from a flow port"
		else
			not_ok "$impl: on the wire, ${e^^} to port 5555 from a flow port" "$(cat "$work/wire")"
		fi
	done
	check "$impl: setting received metadata fails with EINVAL (rx_set lets only then pass)" \
		scenario fou "$edges" rx_set "$up" ipip_fou_set_tunnel
	check "$impl: one collect_md device reaches two peers behind one address, the FOU port chosen per packet" two_peers
	for p in no_tunnel_info tx_fou tx_gue tx_gue_zero_csum tx_unknown_type tx_negative_type; do
		echo "$p: $("$tool" run "$edges" "$p" 2>&1 | tr '\n' ' ')"
	done >"$work/edges.$impl"
	echo "null_encap: $("$tool" load "$edges" null_encap 2>/dev/null)" >>"$work/edges.$impl"
	sed "s/^/# $impl: /" "$work/edges.$impl"
done
unload_all

# What fou_rs answered, checked against what fou_bpf.c says it does, then
# against what fou.ko answered.
edge() { grep "^$1: " "$work/edges.fou_rs" | cut -d' ' -f2-; }
check_match "no metadata: both kfuncs return -EINVAL, the ports are untouched" \
	"^return 0 -22 -22 4444 5555 " edge no_tunnel_info
check_match "FOU: set and get succeed, ports read back, type FOU, checksum flag from the key" \
	"^return 0 0 0 0 4444 5555 1 1 1 " edge tx_fou
check_match "GUE: type GUE" "^return 0 0 0 0 4444 5555 2 1 1 " edge tx_gue
check_match "GUE with BPF_F_ZERO_CSUM_TX: no checksum flag" "^return 0 0 0 0 4444 5555 2 0 1 " edge tx_gue_zero_csum
check_match "an unknown type: success, no encapsulation" "^return 0 0 0 0 4444 5555 0 1 1 " edge tx_unknown_type
check_match "a negative type: the same" "^return 0 0 0 0 4444 5555 0 1 1 " edge tx_negative_type
check_match "a NULL encap: the verifier refuses the program" "^refused" edge null_encap
# same_answers: fou.ko answered every case (a return value or a verdict of
# the verifier) and fou_rs answered the same.
same_answers() {
	[ "$(grep -cE '^[a-z_]+: (return -?[0-9]+ |loaded|refused)' "$work/edges.fou")" = 7 ] &&
		diff "$work/edges.fou" "$work/edges.fou_rs"
}
check "every answer equals fou.ko's" same_answers
rm -rf "$work"
done_testing
