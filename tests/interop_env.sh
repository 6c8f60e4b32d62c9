# SPDX-License-Identifier: GPL-2.0
# The interoperability setup shared by both guests (sourced by
# tests/interop-peer, the C side, and tests/interop.sh, the fou_rs side):
# one scenario per underlay subnet of eth0, the same configuration on both
# sides, fixed source port 4000 (but where the encap says auto) so the
# headers can be compared byte for byte. Scenario N: underlay 10.1.N.ID/24
# or fc01:N::ID/64, tunnel tN, inner 192.168.N.ID/24 (or fd0N::ID/64 for
# sit). The probe whose headers are compared: an echo request and its
# reply (ping), or a UDP datagram and its echo (udp: a UDP checksum left
# to offload, which encap-remcsum describes in a GUE option).
#
#   N  type                 encap                  port  probe
SCENARIOS="
1 gretap                fou-47-csum             5551  ping
2 ipip                  fou-4-nocsum            5552  ping
3 sit                   fou-41-csum             5553  ping
4 ipip                  gue-csum                5554  ping
5 ip6gre                fou6-47                 5555  ping
6 ip6tnl_ipip6          gue6                    5556  ping
7 ipip                  gue-csum-remcsum        5557  udp
8 gretap                fou-47-csum-auto        5558  ping
"
# The UDP echo port of the udp probe, on the C side.
UDP_ECHO_PORT=7777

# interop_setup ID: configures this guest as side ID (1 or 2) of every
# scenario.
interop_setup() {
	local me=$1 peer=$((3 - $1)) n type encap port probe v6 proto csum mode sport remcsum
	ip link set lo up
	ip link set eth0 up
	while read -r n type encap port probe; do
		[ -n "$n" ] || continue
		v6=""
		case "$encap" in fou6*|gue6*) v6=1 ;; esac
		if [ -n "$v6" ]; then
			ip -6 addr add fc01:$n::$me/64 dev eth0 nodad
			local lo=fc01:$n::$me re=fc01:$n::$peer csum=encap-udp6-csum
		else
			ip addr add 10.1.$n.$me/24 dev eth0
			local lo=10.1.$n.$me re=10.1.$n.$peer csum=encap-csum
			case "$encap" in *nocsum) csum=noencap-csum ;; esac
		fi
		case "$encap" in
		fou*) proto=${encap#*-}; proto=${proto%%-*}
			ip fou add port "$port" ipproto "$proto" ${v6:+-6} ;;
		gue*) ip fou add port "$port" gue ${v6:+-6} ;;
		esac
		mode="" sport=4000 remcsum=""
		case "$type" in ip6tnl_*) mode="mode ${type#ip6tnl_}"; type=ip6tnl ;; esac
		case "$encap" in *-auto) sport=auto ;; esac
		case "$encap" in *-remcsum) remcsum=encap-remcsum ;; esac
		ip link add t$n type "$type" $mode local "$lo" remote "$re" \
			encap "${encap%%[-6]*}" encap-sport $sport encap-dport "$port" $csum $remcsum
		ip link set t$n up
		if [ "$type" = sit ]; then
			ip addr add fd0$n::$me/64 dev t$n nodad
		else
			ip addr add 192.168.$n.$me/24 dev t$n
		fi
	done <<<"$SCENARIOS"
}
