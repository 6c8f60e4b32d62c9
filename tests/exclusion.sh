#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# fou_rs and the kernel's C FOU own the same names: the `fou` genl family
# and the fou/gue encap slots. Whichever loads second must fail cleanly,
# saying what is taken, and leave the first one working. The C FOU also runs
# the seed's scenario, so it is a working C FOU to compare with (c_fou in
# lib.sh says which C FOU that is).
cd "$(dirname "$0")"
. ./lib.sh
plan 13
. ./seed_env.sh
unload_fou_rs
seed_cleanup
c_fou || done_testing
unload_c

# seed_ping WHAT: the seed's gretap over FOU between h1 and h2 passes pings.
seed_ping() {
	seed_underlay
	seed_gretap || return 1
	ip -n h1 addr add 192.168.123.1/24 dev my-gre
	ip -n h2 addr add 192.168.123.2/24 dev my-gre
	ip netns exec h1 ping -c 2 -W 3 192.168.123.2
	local r=$?
	seed_cleanup
	return $r
}

# --- C first, then fou_rs. -------------------------------------------------
check "the C FOU loads ($c_name, $c6_name)" load_c
# c_seed_ping: the seed's scenario passes, and the C FOU served it.
c_seed_ping() { seed_ping && c_only; }
check "the C FOU passes the seed's gretap-over-FOU scenario" c_seed_ping
dmesg -C
check_fails "modprobe fou_rs with the C FOU loaded fails" "File exists|Device or resource busy" modprobe fou_rs
check_match "and says which name is taken and by what" \
	"generic netlink family 'fou' is already registered by another module" dmesg
check_fails "fou_rs is not loaded" "" grep -q "^fou_rs " /proc/modules
check "the C FOU still works: ip fou add" ip fou add port 7777 ipproto 47
check_match "the C FOU still works: ip fou show" "port 7777 ipproto 47" ip fou show
ip fou del port 7777
check "the C FOU still passes the seed's scenario" c_seed_ping
unload_c

# --- fou_rs first, then C. -------------------------------------------------
check "modprobe fou_rs" modprobe fou_rs
check_fails "insmod of the C FOU with fou_rs loaded fails" "File exists|Device or resource busy|Invalid" \
	insmod "$c4"
check_fails "$c_name is not loaded" "" grep -q "^$c_name " /proc/modules
check "fou_rs still works: the seed's scenario" seed_ping
check_match "fou_rs still serves the family" "fou_rs" sh -c 'ip fou add port 7777 ipproto 47 && ip fou show && grep "^fou_rs " /proc/modules'
ip fou del port 7777
unload_fou_rs
done_testing
