#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The module's life cycle: modprobe by name and by the aliases the C modules'
# users rely on, that it says nothing when loaded or unloaded (as the C
# module), and a clean unload.
. "$(dirname "$0")/lib.sh"
plan 13

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
done_testing
