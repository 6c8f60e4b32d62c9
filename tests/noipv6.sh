#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# fou_rs on a kernel built without IPv6 (`make check-noipv6`, the test
# kernel with rust-tools/noipv6.config), where the C fou.ko loads and serves
# IPv4: fou_rs loads without a word, refuses an IPv6 port with the C
# module's error, carries gretap over FOU and ipip over GUE, and unloads.
cd "$(dirname "$0")"
. ./lib.sh
if [ -e /proc/sys/net/ipv6 ]; then
	plan 1
	not_ok "the kernel has no IPv6" "noipv6.sh runs on the kernel of make check-noipv6"
	done_testing
fi
plan 10
. ./seed_env.sh

unload_fou_rs
seed_cleanup
seed_underlay

# The C module's answer to an IPv6 port, for comparison.
c_err=
if c_fou && insmod "$c4"; then
	c_err=$(ip -n h1 fou add port 5555 ipproto 4 -6 2>&1)
	rmmod "$c_name"
fi
check "the C fou.ko refuses an IPv6 port here" test -n "$c_err"

dmesg -C
check "modprobe fou_rs" modprobe fou_rs
check "it says nothing of its own when loaded" \
	sh -c '! dmesg | grep "fou_rs:" | grep -v -e "taint" -e "module verification"'
out=$(ip -n h1 fou add port 5555 ipproto 4 -6 2>&1)
check "an IPv6 port is refused as by the C fou.ko (${c_err:-?})" \
	test -n "$out" -a "$out" = "$c_err"
check "the refused port is not listed" sh -c '! ip -n h1 fou show | grep -q 5555'

# gretap over FOU, the seed's configuration.
ip -n h2 fou add port 55555 ipproto 47
ip -n h1 fou add port 33333 ipproto 47
ip -n h1 link add t1 type gretap remote $H2 local $H1 encap fou encap-sport 33333 encap-dport 55555
ip -n h2 link add t1 type gretap remote $H1 local $H2 encap fou encap-sport 55555 encap-dport 33333
ip -n h1 addr add 192.168.1.1/24 dev t1
ip -n h2 addr add 192.168.1.2/24 dev t1
ip -n h1 link set t1 up
ip -n h2 link set t1 up
check "gretap over FOU: ping h1 -> h2" ip netns exec h1 ping -c 3 -W 5 192.168.1.2

# ipip over GUE, automatic source port.
ip -n h1 fou add port 6000 gue
ip -n h2 fou add port 6000 gue
ip -n h1 link add t2 type ipip remote $H2 local $H1 encap gue encap-sport auto encap-dport 6000
ip -n h2 link add t2 type ipip remote $H1 local $H2 encap gue encap-sport auto encap-dport 6000
ip -n h1 addr add 192.168.2.1/24 dev t2
ip -n h2 addr add 192.168.2.2/24 dev t2
ip -n h1 link set t2 up
ip -n h2 link set t2 up
check "ipip over GUE: ping h1 -> h2" ip netns exec h1 ping -c 3 -W 5 192.168.2.2
check "ip fou show lists h1's two ports" sh -c '[ "$(ip -n h1 fou show | grep -c "^port ")" = 2 ]'

seed_cleanup
check "rmmod fou_rs" rmmod fou_rs
check "it says nothing of its own when unloaded" \
	sh -c '! dmesg | grep "fou_rs:" | grep -v -e "taint" -e "module verification"'
done_testing
