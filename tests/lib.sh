# SPDX-License-Identifier: GPL-2.0
# TAP helpers for the fou-rs selftests (sourced). Each test script prints
# kselftest-style TAP: a plan line "1..N" first (plan N), then "ok N - what"
# or "not ok N - what" for each check.

_tap_n=0
_tap_failed=0

# plan N: states, before the first check, how many checks the test runs.
# tests/in-guest fails a test that states none or runs another number, so a
# check cannot vanish: a case that returns early, a setup that fails without
# its own `not ok`, a test that dies half-way.
plan() {
	echo "1..$1"
}

# ok WHAT: records a passed check.
ok() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $*"
}

# not_ok WHAT [DETAIL...]: records a failed check, with detail lines.
not_ok() {
	_tap_n=$((_tap_n + 1))
	_tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $1"
	shift
	for l in "$@"; do echo "# $l"; done
	# make mutants (FOU_FIRST_FAILURE): the first failure is the verdict;
	# the rest of the test, whose checks would wait out their timeouts, does
	# not run, and its background jobs (servers, captures), which would hold
	# its output open, end with it.
	if [ "${FOU_FIRST_FAILURE:-0}" = 1 ]; then
		kill $(jobs -p) 2>/dev/null
		exit 1
	fi
}

# check WHAT CMD...: passes when CMD succeeds; shows its output otherwise.
check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$what"
	else
		not_ok "$what" "command: $*" "$out"
	fi
}

# check_fails WHAT PATTERN CMD...: passes when CMD fails and its output
# matches the extended regex PATTERN.
check_fails() {
	local what=$1 pattern=$2 out
	shift 2
	if out=$("$@" 2>&1); then
		not_ok "$what" "command unexpectedly succeeded: $*" "$out"
	elif echo "$out" | grep -Eq -- "$pattern"; then
		ok "$what"
	else
		not_ok "$what" "command: $*" "expected output matching: $pattern" "got: $out"
	fi
}

# check_match WHAT PATTERN CMD...: passes when CMD succeeds and its output
# matches the extended regex PATTERN.
check_match() {
	local what=$1 pattern=$2 out
	shift 2
	if ! out=$("$@" 2>&1); then
		not_ok "$what" "command failed: $*" "$out"
	elif echo "$out" | grep -Eq -- "$pattern"; then
		ok "$what"
	else
		not_ok "$what" "command: $*" "expected output matching: $pattern" "got: $out"
	fi
}

# done_testing: ends the test, non-zero if anything failed.
done_testing() {
	[ "$_tap_failed" = 0 ]
	exit
}

# unload_fou_rs: removes the module if loaded; test scripts start from a
# kernel without it.
unload_fou_rs() {
	if grep -q '^fou_rs ' /proc/modules; then
		rmmod fou_rs
	fi
}

# c_fou: makes the kernel's C FOU available to a test: sets c4, c6 (its
# module files), c_name, c6_name (their names once loaded) and defines
# load_c (loads both; fou_rs must not be loaded), c_only (the C FOU is
# loaded, fou_rs is not) and unload_c. On the test kernel the C FOU is the
# reference build (fou_c.ko + fou6_c.ko from rust-tools/reference,
# $FOU_REFERENCE); on a distribution kernel (FOU_KERNEL) it is the kernel's
# own fou.ko and fou6.ko, loaded by path because the modprobe.d rule gives
# their names to fou_rs. Returns 1 after a `not ok` when there is none.
c_fou() {
	if [ -n "${FOU_KERNEL:-}" ]; then
		local tree=/lib/modules/$(uname -r)/kernel/net
		c4=$(ls "$tree"/ipv4/fou.ko* 2>/dev/null | head -1)
		c6=$(ls "$tree"/ipv6/fou6.ko* 2>/dev/null | head -1)
		c_name=fou c6_name=fou6
		if [ -z "$c4" ] || [ -z "$c6" ]; then
			not_ok "the kernel's own fou.ko and fou6.ko are in $tree"
			return 1
		fi
		# Their dependencies by modprobe (udp_tunnel, ip_tunnel, ...; not
		# fou itself, which fou6 depends on and which names fou_rs here),
		# then the modules themselves by path.
		load_c() {
			modprobe -a $(modinfo -F depends "$c4" "$c6" | tr ',' '\n' | grep -vx fou) &&
				insmod "$c4" && insmod "$c6" && c_only
		}
	else
		local ref=${FOU_REFERENCE:-}
		c4=$ref/fou_c.ko c6=$ref/fou6_c.ko c_name=fou_c c6_name=fou6_c
		if [ -z "$ref" ] || [ ! -f "$c4" ]; then
			not_ok "the reference C FOU is available" "FOU_REFERENCE='$ref' (tests/run builds it)"
			return 1
		fi
		load_c() { insmod "$c4" && insmod "$c6" && c_only; }
	fi
	c_only() { grep -q "^$c_name " /proc/modules && ! grep -q "^fou_rs " /proc/modules; }
	unload_c() { rmmod "$c6_name" 2>/dev/null; rmmod "$c_name" 2>/dev/null; true; }
}

# wait_until SECONDS CMD...: runs CMD every 0.2 s until it succeeds (returns
# 0) or SECONDS have passed (returns 1). What a test starts in the background
# (a server, a capture) can take seconds to be ready on a slow guest, and
# what it receives seconds to arrive: a fixed wait was too short on the
# debug and KASAN kernels.
wait_until() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < end)) || return 1
		sleep 0.2
	done
}

# rx_grows NS DEV N: DEV in namespace NS receives more than N packets
# within 10 s (traffic flows through it now).
rx_grows() {
	local r0
	r0=$(_rx_packets "$1" "$2") || return 1
	wait_until 10 _rx_above "$1" "$2" $((r0 + $3)) && return 0
	echo "# $2 in $1: $(($(_rx_packets "$1" "$2") - r0)) packets in 10 s, not more than $3"
	return 1
}
_rx_packets() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/rx_packets"; }
_rx_above() { [ "$(_rx_packets "$1" "$2" 2>/dev/null || echo 0)" -gt "$3" ]; }

# udp_no_ports NS 4|6: datagrams namespace NS received for no socket
# (UDP's NoPorts, or Udp6NoPorts).
udp_no_ports() {
	if [ "$2" = 4 ]; then
		ip netns exec "$1" nstat -az UdpNoPorts | awk '$1 == "UdpNoPorts" { print $2 }'
	else
		ip netns exec "$1" nstat -az Udp6NoPorts | awk '$1 == "Udp6NoPorts" { print $2 }'
	fi
}

# refused_by_udp WHAT NS 4|6 N CMD...: CMD loses every ping ("100% packet
# loss") and NS's UDP took N more datagrams for which it had no socket: they
# arrived and were refused, not lost on the way.
refused_by_udp() {
	local what=$1 ns=$2 fam=$3 n=$4 out n0 n1
	shift 4
	n0=$(udp_no_ports "$ns" "$fam")
	out=$("$@" 2>&1)
	n1=$(udp_no_ports "$ns" "$fam")
	if echo "$out" | grep -q "100% packet loss" && [ $((n1 - n0)) = "$n" ]; then
		ok "$what"
	else
		not_ok "$what" "command: $*" "$out" "UDP datagrams to no socket in $ns: +$((n1 - n0)), expected +$n"
	fi
}

# bound NS t|u PORT: succeeds when a TCP (t) or UDP (u) socket in namespace
# NS is bound to PORT.
bound() {
	ip netns exec "$1" ss -Hln"$2" "sport = :$3" | grep -q .
}

# listening NS t|u PORT: waits up to 30 s until bound NS t|u PORT (a client
# started right after its server was refused that way on the KASAN kernel).
listening() {
	wait_until 30 bound "$@" && return 0
	echo "# nothing listens on $2 port $3 in $1 after 30 s"
	return 1
}

# ynl ARGS...: the kernel's YNL CLI on the `fou` family (from the Linux
# source the test kernel was built from).
ynl() {
	python3 "$KDIR/source/tools/net/ynl/pyynl/cli.py" \
		--spec "$KDIR/source/Documentation/netlink/specs/fou.yaml" "$@"
}
