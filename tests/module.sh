#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The module's life cycle: modprobe by name and by the aliases the C modules'
# users rely on, that it says nothing when loaded or unloaded (as the C
# module), a clean unload, and that it needs no more of the kernel than the C
# fou.ko: not ip6_tunnel, whose loading creates an ip6tnl0 device in every
# namespace (checked where ip6_tunnel is a module, as in Debian's kernels;
# the test kernel has it built in).
. "$(dirname "$0")/lib.sh"
if [ -n "$(modinfo -F filename ip6_tunnel 2>/dev/null | grep -v builtin)" ]; then
	ip6_tunnel_module=1
	plan 16
else
	ip6_tunnel_module=
	echo "# ip6_tunnel is built into this kernel: its checks run on Debian's"
	plan 13
fi

unload_fou_rs
check "modinfo names the license GPL" sh -c 'modinfo fou_rs | grep -qx "license: *GPL"'
for a in fou fou6 net-pf-16-proto-16-family-fou; do
	check_match "modinfo lists alias $a" "^$a\$" modinfo -F alias fou_rs
done

dmesg -C
check "modprobe fou_rs" modprobe fou_rs
check_match "lsmod shows fou_rs" '^fou_rs ' lsmod
check "rmmod fou_rs" rmmod fou_rs
# The kernel's own notices about an out-of-tree or unsigned module name it
# too; they are not the module's.
check "it says nothing of its own when loaded or unloaded" \
	sh -c '! dmesg | grep "fou_rs:" | grep -v -e "taint" -e "module verification"'
check "lsmod no longer shows fou_rs" sh -c '! lsmod | grep -q "^fou_rs "'

check "modprobe fou loads fou_rs" sh -c 'modprobe fou && grep -q "^fou_rs " /proc/modules'
check "modprobe -r fou unloads it" sh -c 'modprobe -r fou && ! grep -q "^fou_rs " /proc/modules'
check "modprobe fou6 loads fou_rs" sh -c 'modprobe fou6 && grep -q "^fou_rs " /proc/modules'
unload_fou_rs

# Load and unload repeatedly: every cycle must leave nothing behind.
check "20 load/unload cycles" sh -c 'for i in $(seq 20); do modprobe fou_rs && rmmod fou_rs || exit 1; done'

if [ -n "$ip6_tunnel_module" ] && c_fou; then
	c_deps=$(modinfo -F depends "$c4" | tr ',' '\n' | sort | paste -sd,)
	check "fou_rs depends on what the C fou.ko does ($c_deps)" \
		test "$(modinfo -F depends fou_rs | tr ',' '\n' | sort | paste -sd,)" = "$c_deps"
	modprobe -r ip6_tunnel 2>/dev/null
	# Not `ip link show ip6tnl0`: asking for that name loads ip6_tunnel
	# (its alias netdev-ip6tnl0).
	check "modprobe fou_rs leaves ip6_tunnel unloaded: no ip6tnl0" sh -c \
		'! grep -q "^ip6_tunnel " /proc/modules && modprobe fou_rs &&
		 ! grep -q "^ip6_tunnel " /proc/modules && [ ! -e /sys/class/net/ip6tnl0 ]'
	# ip6_tunnel loaded afterwards (by the link type) finds encap fou.
	check "an ip6tnl made then takes encap fou" sh -c \
		'ip link add fou6t type ip6tnl mode any local 2001:db8::1 remote 2001:db8::2 \
			encap fou encap-sport 33333 encap-dport 55555 &&
		 ip -d link show fou6t | grep -q "encap fou" && ip link del fou6t'
	unload_fou_rs
fi
done_testing
