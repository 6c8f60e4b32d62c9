#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Hand-built malformed netlink messages to the `fou` family (tests/nlraw.py).
. "$(dirname "$0")/lib.sh"
unload_fou_rs
modprobe fou_rs || { echo "not ok 1 - modprobe fou_rs"; echo "1..1"; exit 1; }
python3 "$(dirname "$0")/nlraw.py"
rc=$?
unload_fou_rs
exit $rc
