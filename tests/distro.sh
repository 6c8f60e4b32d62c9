#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# fou_rs on a distribution kernel (FOU_KERNEL=debian:RELEASE; make
# check-distro): the guest runs that kernel unmodified, with its own C
# fou.ko and fou6.ko in its module tree; fou_rs.ko sits in updates/ and the
# modprobe.d rule `make install` ships (rust-tools/fou-rs.modprobe.conf)
# gives it their names. Every way the C module is loaded must load fou_rs;
# the unsigned module loads and taints; then the seed demonstration.
cd "$(dirname "$0")"
. ./lib.sh
plan 26
release=${FOU_KERNEL#debian:}

if [ -z "${FOU_KERNEL:-}" ]; then
	not_ok "FOU_KERNEL names the distribution kernel (tests/run passes it)"
	done_testing
fi
unload_fou_rs

# c_loaded: succeeds when the C FOU (fou or fou6) is loaded.
c_loaded() { grep -qE '^fou6? ' /proc/modules; }
# only_fou_rs: fou_rs is loaded and the C FOU is not.
only_fou_rs() { grep -q '^fou_rs ' /proc/modules && ! c_loaded; }
# unload_all: neither fou_rs nor the C FOU loaded.
unload_all() { rmmod fou6 fou 2>/dev/null; unload_fou_rs; }

check "uname -r is Debian's release $release" test "$(uname -r)" = "$release"
check_match "the kernel is Debian's build" "Debian" cat /proc/version
check "the kernel's own fou.ko is in its module tree" sh -c "ls /lib/modules/$release/kernel/net/ipv4/fou.ko*"
check "the kernel's own fou6.ko is in its module tree" sh -c "ls /lib/modules/$release/kernel/net/ipv6/fou6.ko*"
check "fou_rs.ko is in updates/" test -f "/lib/modules/$release/updates/fou_rs.ko"
check "modinfo fou_rs: vermagic is the release" test "$(modinfo -F vermagic fou_rs | cut -d' ' -f1)" = "$release"
check "the modprobe.d rule is installed" cmp /etc/modprobe.d/fou-rs.conf ../rust-tools/fou-rs.modprobe.conf

# --- Every name of the C module gives fou_rs. -----------------------------
# Exactly fou_rs, nothing beside it. (The C fou.ko has no genl alias, so
# `ip fou add` autoloads fou_rs even without the rule; the rule keeps it so
# should a kernel's fou.ko gain one.)
for name in fou fou6 net-pf-16-proto-16-family-fou; do
	check "modprobe resolves $name to fou_rs alone" test "$(modprobe -R "$name" 2>&1)" = fou_rs
done
dmesg -C
t0=$(cat /proc/sys/kernel/tainted)
check "modprobe fou loads fou_rs, not the C fou" sh -c 'modprobe fou && grep -q "^fou_rs " /proc/modules && ! grep -qE "^fou6? " /proc/modules'
# Taint bits: 4096 (O) out-of-tree, 8192 (E) unsigned module.
t1=$(cat /proc/sys/kernel/tainted)
if ((t0 & 4096)) || ((t0 & 8192)); then
	not_ok "the kernel was not tainted by a module before" "tainted=$t0"
elif ((t1 & 4096)) && ((t1 & 8192)); then
	ok "the unsigned out-of-tree module loads and taints the kernel (O, E: tainted=$t1)"
else
	not_ok "the unsigned out-of-tree module taints the kernel (O, E)" "tainted=$t1"
fi
check_match "the kernel says the signature is missing, and loads it" \
	"fou_rs: module verification failed: signature and/or required key missing" dmesg
check "modprobe -r fou unloads fou_rs" sh -c 'grep -q "^fou_rs " /proc/modules && modprobe -r fou && ! grep -q "^fou_rs " /proc/modules'
check "modprobe fou6 loads fou_rs, not the C fou6" sh -c 'modprobe fou6 && grep -q "^fou_rs " /proc/modules && ! grep -qE "^fou6? " /proc/modules'
unload_all
check "ip fou add (the genl autoload) loads fou_rs, not the C fou" \
	sh -c 'ip fou add port 55555 ipproto 47 && grep -q "^fou_rs " /proc/modules && ! grep -qE "^fou6? " /proc/modules'
check_match "ip fou show lists the port" "^port 55555 ipproto 47\$" ip fou show
ip fou del port 55555
check "encap fou: a gretap with FOU encapsulation is created by fou_rs's ops" \
	sh -c 'ip link add fr0 type gretap remote 10.9.9.2 local 10.9.9.1 encap fou encap-sport 33333 encap-dport 55555 &&
		ip -d link show fr0 | grep -q "encap fou" && grep -q "^fou_rs " /proc/modules && ! grep -qE "^fou6? " /proc/modules'
ip link del fr0 2>/dev/null
ip6tnl_gue() {
	ip link add fr6 type ip6tnl remote fc00::2 local fc00::1 encap gue encap-sport 33333 encap-dport 55555 &&
		ip -d link show fr6 | grep -q "encap gue" && only_fou_rs
}
check "encap gue on an ip6tnl (the C fou6's part) is fou_rs's too" ip6tnl_gue
ip link del fr6 2>/dev/null
unload_all
# Without fou_rs loaded the encap ops do not exist: the C module is not
# pulled in behind fou_rs's back.
check_fails "without fou_rs, encap fou is refused (nothing autoloads the C module)" "Invalid argument" \
	ip link add fr0 type gretap remote 10.9.9.2 local 10.9.9.1 encap fou encap-sport 33333 encap-dport 55555
check_fails "and the C fou is not loaded" "" c_loaded
ip link del fr0 2>/dev/null

# --- The seed demonstration, as `make demo FOU_KERNEL=...` runs it. -------
out=$(./demo 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
check "the seed demo runs to the end" test "$rc" = 0
check_match "demo: modprobe fou loaded fou_rs" "^fou_rs " echo "$out"
check_match "demo: the underlay packet carries GRE with a bridged frame" "protocol 0x6558 \(Transparent Ethernet Bridging\)" echo "$out"
check_match "demo: the ping crosses the tunnel" " 0% packet loss" echo "$out"
check_fails "demo: the C FOU never loaded" "" c_loaded
unload_all
done_testing
