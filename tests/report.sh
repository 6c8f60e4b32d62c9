# SPDX-License-Identifier: GPL-2.0
# The host-side results of a run (sourced by tests/run and tests/check-dkms):
# `pass WHAT` and `fail WHAT` print a "PASS: " or "FAIL: " line, prefixed
# with $prefix; `detail TEXT` adds a line to the last failure, printed
# under it in the summary (only right after a `fail`); `finish` prints the
# failures and the last line "N passed, N failed", and exits non-zero if
# anything failed.
passed=0
failed=0
failures=()
prefix=
pass() { passed=$((passed + 1)); echo "PASS: $prefix$*"; last=pass; }
fail() { failed=$((failed + 1)); failures+=("$prefix$*"); echo "FAIL: $prefix$*"; last=fail; }
detail() { [ "${last:-}" != fail ] || failures[-1]+=$'\n      '"$*"; }
finish() {
	echo
	if ((failed)); then
		echo "Failed:"
		printf '  %s\n' "${failures[@]}"
	fi
	echo "$passed passed, $failed failed"
	((failed == 0))
	exit
}
