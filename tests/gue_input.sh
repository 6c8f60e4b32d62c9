#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Crafted input: malformed GUE datagrams (each dropped and counted), GUE
# version 1 delivery, and ICMP/ICMPv6 errors quoting FOU and GUE packets
# (handled by the inner tunnel, or refused: inner UDP/UDP-Lite, truncated
# quotes). The guest log must stay clean (tests/run checks it).
cd "$(dirname "$0")"
. ./lib.sh
plan 15
. ./seed_env.sh

unload_fou_rs
seed_cleanup
modprobe fou_rs
seed_underlay6

# --- Malformed GUE headers: every one dropped and counted. ----------------
for fam in 4 6; do
	if [ $fam = 4 ]; then dst=$H2 opt=""; else dst=$H2_6 opt="-6"; fi
	ip -n h2 fou add port 5555 gue $opt
	before=$(drops h2 5555)
	sent=$(ip netns exec h1 python3 gue_input.py hostile "$dst" 5555 | awk '{ print $2 }')
	sleep 1
	after=$(drops h2 5555)
	if [ -n "$sent" ] && [ -n "$after" ] && [ $((after - before)) -eq "$sent" ]; then
		ok "IPv$fam GUE port: $sent malformed GUE datagrams, each dropped and counted"
	else
		not_ok "IPv$fam GUE port: malformed GUE datagrams, each dropped and counted" \
			"sent '$sent', socket drops before '$before' after '$after'"
	fi
	ip -n h2 fou del port 5555 $opt
done

# --- GUE version 1: a bare IPv4 packet after UDP goes to IPIP. ------------
ip -n h2 fou add port 5555 gue
ip -n h2 link add t0 type ipip local $H2 remote $H1
ip -n h2 link set t0 up
ip -n h2 addr add 192.168.9.2/24 dev t0
out=$(mktemp)
ip netns exec h2 timeout 60 socat -u UDP-RECV:7000 "OPEN:$out,creat,trunc" &
listening h2 u 7000
ip netns exec h1 python3 gue_input.py v1 $H2 5555 192.168.9.1 192.168.9.2
# Up to 10 s for socat to write it. (socat had 10 s in all, and the first
# test in a fresh debug guest, caches cold, used them up before sending.)
wait_until 10 grep -q "gue version 1" "$out"
kill %1 2>/dev/null
wait
check_match "a GUE version 1 datagram's IPv4 packet reaches its UDP socket through ipip" \
	"gue version 1" cat "$out"
rm -f "$out"
ip -n h2 link del t0
ip -n h2 fou del port 5555

# --- ICMP errors quoting FOU and GUE packets. -----------------------------
# In h1, a tunnel that sends to h2's port 5555, and h1's own ports (UDP
# hands ICMP errors to the encap ops only while some encapsulation socket
# exists); errors about the tunnel's packets come back to h1. Each case
# sends an ICMP "host unreachable" (ICMPv6 "address unreachable") quoting a
# made-up packet and observes two things in h1: whether the error was
# refused (counted in ICMP InErrors), and whether the inner tunnel reacted
# to it. ipip_err records the error on the tunnel, and its next transmit
# reports the link failure to the inner sender, an ICMP host unreachable
# from h1 to itself. ip6_tnl_err only reports the error through a debug
# message (its ICMPv4 to the inner sender needs the inner header at the
# offset the handler receives, and the C module passes that of UDP, as
# fou_rs does), which dynamic debug turns on. An error passed on reaches
# the tunnel (InErrors +0, one reaction); one refused does not (InErrors
# +1, none).
icmp_in_errors() {
	ip netns exec h1 awk -v f="$1" '
		$1 == "Icmp:" && !n { for (i = 1; i <= NF; i++) if ($i == "InErrors") c = i; n = 1; next }
		$1 == "Icmp:" && n && f == 4 { print $c }
		$1 == "Icmp6InErrors" && f == 6 { print $2 }' /proc/net/snmp /proc/net/snmp6
}
# tunnel_reactions FAMILY: how often the tunnel has reacted to an error.
tunnel_reactions() {
	if [ "$1" = 4 ]; then
		ip netns exec h1 awk '
			$1 == "Icmp:" && !n { for (i = 1; i <= NF; i++) if ($i == "OutDestUnreachs") c = i; n = 1; next }
			$1 == "Icmp:" && n { print $c }' /proc/net/snmp
	else
		dmesg | grep -c "t6: Path to destination invalid or inactive!"
	fi
}
# icmp_case FAMILY KIND REFUSED WHAT: REFUSED 1 when the error must be
# refused, 0 when it must reach the tunnel.
icmp_case() {
	local fam=$1 kind=$2 refused=$3 what=$4 src=$H1 dst=$H2 e0 e1 u0 u1
	[ "$fam" = 6 ] && src=$H1_6 dst=$H2_6
	e0=$(icmp_in_errors "$fam") u0=$(tunnel_reactions "$fam")
	ip netns exec h2 python3 gue_input.py icmp $src $dst 5555 "$kind"
	sleep 0.5
	# The IPv4 tunnel's next transmit (its packet is dropped unanswered).
	[ "$fam" = 6 ] || ip netns exec h1 ping -c 1 -W 1 192.168.7.2 >/dev/null
	e1=$(icmp_in_errors "$fam") u1=$(tunnel_reactions "$fam")
	if [ -n "$e1" ] && [ -n "$u1" ] && [ $((e1 - e0)) -eq "$refused" ] &&
		[ $((u1 - u0)) -eq $((1 - refused)) ]; then
		ok "$what"
	else
		not_ok "$what" "IPv$fam ICMP InErrors +$((e1 - e0)), tunnel reactions +$((u1 - u0));" \
			"expected +$refused and +$((1 - refused))"
	fi
}
ip -n h1 fou add port 5555 ipproto 4
ip -n h1 fou add port 5555 ipproto 4 -6
ip -n h1 link add t4 type ipip local $H1 remote $H2 encap fou encap-sport auto encap-dport 5555
ip -n h1 link add t6 type ip6tnl mode ipip6 local $H1_6 remote $H2_6 encap fou \
	encap-sport auto encap-dport 5555 encap-udp6-csum
ip -n h1 link set t4 up
ip -n h1 link set t6 up
ip -n h1 addr add 192.168.7.1/24 dev t4
# h2 takes the tunnel's packets without a word (no port unreachable back).
ip netns exec h2 python3 -c 'import socket, time; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 5555)); time.sleep(600)' >/dev/null 2>&1 &
sink=$!
listening h2 u 5555
dyndbg=/sys/kernel/debug/dynamic_debug/control
echo 'file ip6_tunnel.c +p' >"$dyndbg" ||
	echo "# no dynamic debug ($dyndbg): the IPv6 tunnel's reactions cannot be seen"
for fam in 4 6; do
	icmp_case $fam ipip 0 "IPv$fam: ICMP error quoting a FOU ipip packet reaches the ipip tunnel"
	icmp_case $fam gue-ipip 0 "IPv$fam: ICMP error quoting a GUE ipip packet reaches the ipip tunnel"
	icmp_case $fam gue-udp 1 "IPv$fam: ICMP error quoting GUE with inner UDP is refused (no recursion)"
	icmp_case $fam gue-udplite 1 "IPv$fam: ICMP error quoting GUE with inner UDP-Lite is refused"
	icmp_case $fam truncated 1 "IPv$fam: ICMP error quoting 2 bytes after UDP is refused"
	icmp_case $fam truncated-opts 1 "IPv$fam: ICMP error quoting cut GUE options is refused"
done
kill $sink
wait
echo 'file ip6_tunnel.c -p' >"$dyndbg"
seed_cleanup
unload_fou_rs
done_testing
