#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The kernel's own selftests that exercise FOU, unmodified, from the same
# Linux source as the test kernel: `modprobe fou` resolves to fou_rs.
# All eight pmtu.sh FOU/GUE cases must report OK, none SKIP. They check the
# PMTU exception on the sender; tests/gue_input.sh checks the encap ops' error
# handlers directly (some pmtu cases pass without them: the tunnel also
# learns the PMTU from its outer route).
# tests/upstream.sh [K/N]: with K/N, only every Nth case from the Kth (on
# the debug kernel the whole file takes 28 to 32 min, near a test's time
# limit; tests/run runs its halves in two guests).
. "$(dirname "$0")/lib.sh"
net=$KDIR/source/tools/testing/selftests/net
shard=${1:-1/1}
if ! [[ "$shard" =~ ^([1-9][0-9]*)/([1-9][0-9]*)$ ]] || ((BASH_REMATCH[1] > BASH_REMATCH[2])); then
	echo "usage: $0 [K/N] (run every Nth case from the Kth, 1 <= K <= N)" >&2
	exit 2
fi
k=${BASH_REMATCH[1]} n=${BASH_REMATCH[2]}
cases=(rtnetlink pmtu_ipv{4,6}_{fou,gue}{4,6}_exception)
# Two checks for rtnetlink.sh, one per pmtu.sh case, for this shard's cases.
planned=0
for i in "${!cases[@]}"; do
	((i % n == k - 1)) || continue
	planned=$((planned + 1))
	[ "${cases[$i]}" != rtnetlink ] || planned=$((planned + 1))
done
plan $planned
unload_fou_rs

for i in "${!cases[@]}"; do
	((i % n == k - 1)) || continue
	t=${cases[$i]}
	if [ "$t" = rtnetlink ]; then
		# kci_test_encap_fou runs inside kci_test_encap, which makes its
		# namespace; that test's VXLAN half needs CONFIG_VXLAN, which
		# this kernel lacks.
		out=$(cd "$net" && timeout 300 bash ./rtnetlink.sh -v -t kci_test_encap 2>&1)
		rc=$?
		echo "$out" | grep -E "PASS|FAIL|SKIP" | sed 's/^/# /'
		check_match "rtnetlink.sh kci_test_encap_fou: PASS: fou" "^PASS: fou" echo "$out"
		# Its exit status counts the VXLAN half too; a hang still fails.
		if [ $rc = 124 ]; then
			not_ok "rtnetlink.sh kci_test_encap: finished within 300 s"
		else
			ok "rtnetlink.sh kci_test_encap: finished within 300 s"
		fi
		continue
	fi
	out=$(cd "$net" && timeout 600 bash ./pmtu.sh -t $t 2>&1)
	rc=$?
	echo "$out" | sed 's/^/# /'
	n_ok=$(echo "$out" | grep -c '\[ OK \]')
	# Its exit status too: 0 only when every case ran to its end and passed
	# (a case that hangs is killed, 124, whatever it printed before).
	if [ $rc = 0 ] && [ "$n_ok" -ge 1 ] && ! echo "$out" | grep -qE '\[(FAIL|SKIP)\]'; then
		ok "pmtu.sh $t: every case OK ($n_ok), exit status 0"
	else
		not_ok "pmtu.sh $t: every case OK, exit status 0" "exit status $rc, $n_ok OK lines; see the output above"
	fi
done
unload_fou_rs
done_testing
