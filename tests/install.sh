#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make install` and `make uninstall` (rust-tools/install): into a staging
# root (INSTALL_MOD_PATH, DESTDIR), where uninstall must leave nothing of
# its own, and into the guest's own root, where the installed module must
# answer `modprobe fou` and the removed one must not. On the test kernel
# (its module tree is small enough for depmod under TCG; a distribution
# kernel's real installation is the DKMS test's).
cd "$(dirname "$0")"
. ./lib.sh
plan 19
inst=../rust-tools/install
rel=$(uname -r)
unload_fou_rs

# --- A staging root holding a kernel tree, so depmod runs there. ---------
stage=$(mktemp -d)
mkdir -p "$stage/lib/modules/$rel/kernel"
snapshot() { (cd "$stage" && find . | sort); }
before=$(snapshot)
check "install into INSTALL_MOD_PATH" env INSTALL_MOD_PATH="$stage" "$inst" install
check "the module is in updates/" cmp "$stage/lib/modules/$rel/updates/fou_rs.ko" ../fou_rs.ko
check "the modprobe.d rule is in etc/modprobe.d/" cmp "$stage/etc/modprobe.d/fou-rs.conf" ../rust-tools/fou-rs.modprobe.conf
check_match "depmod ran in the staging root: modules.dep lists it" "^updates/fou_rs.ko:" cat "$stage/lib/modules/$rel/modules.dep"
check_match "and modules.alias has its aliases" "^alias fou fou_rs$" cat "$stage/lib/modules/$rel/modules.alias"
check "uninstall from INSTALL_MOD_PATH" env INSTALL_MOD_PATH="$stage" "$inst" uninstall
check_fails "modules.dep no longer lists it" "" grep -q fou_rs "$stage/lib/modules/$rel/modules.dep"
# What is left is what was there plus depmod's index files.
left=$(snapshot | grep -v "^./lib/modules/$rel/modules\.")
check "uninstall leaves nothing of fou-rs behind" test "$left" = "$before"
rm -rf "$stage"

stage=$(mktemp -d)
check "install into DESTDIR (no kernel tree: no depmod)" env DESTDIR="$stage" "$inst" install
check "the module is under DESTDIR" test -f "$stage/lib/modules/$rel/updates/fou_rs.ko"
check "uninstall from DESTDIR leaves it empty" sh -c "env DESTDIR='$stage' '$inst' uninstall && test -z \"\$(ls -A '$stage')\""
rm -rf "$stage"

other=$(mktemp -d)
mkdir -p "$other/include/config"
echo 9.9.9 >"$other/include/config/kernel.release"
check_fails "install refuses a module built for another kernel" "built for $rel, not 9.9.9" \
	env KDIR="$other" INSTALL_MOD_PATH="$other" "$inst" install
rm -rf "$other"

# --- The guest's own root (vm/run installed the module as install does). --
check "uninstall from the running system" "$inst" uninstall
check "the module is gone from updates/" test ! -e "/lib/modules/$rel/updates/fou_rs.ko"
check_fails "modprobe fou_rs no longer finds it" "not found" modprobe fou_rs
check_fails "nor does modprobe fou" "not found" modprobe fou
check "install into the running system" "$inst" install
check_match "modprobe resolves fou to fou_rs through the rule" "^fou_rs$" modprobe -R fou
check "modprobe fou loads fou_rs" sh -c 'modprobe fou && grep -q "^fou_rs " /proc/modules'
unload_fou_rs
done_testing
