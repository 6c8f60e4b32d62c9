#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Hand-built malformed netlink messages to the `fou` family (tests/nlraw.py).
. "$(dirname "$0")/lib.sh"
# nlraw.py's checks.
plan 76
unload_fou_rs
modprobe fou_rs || { not_ok "modprobe fou_rs"; done_testing; }
python3 "$(dirname "$0")/nlraw.py"
rc=$?
unload_fou_rs
exit $rc
