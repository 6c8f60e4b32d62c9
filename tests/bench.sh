#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make bench` in its smoke form (one repetition, 1-second runs, 100
# ports): every contender runs and the table with its ratios is printed.
# It reports, it asserts no timing.
cd "$(dirname "$0")"
. ./lib.sh
plan 9
unload_fou_rs
out=$(timeout 1200 python3 bench.py --smoke 2>&1)
echo "$out" | sed 's/^/# /'
check_match "bench smoke: the table is complete" "^bench: table complete" echo "$out"
for c in veth gretap fou-c fou-rs gue-c gue-rs; do
	check_match "bench smoke: $c measured" "^TCP 4 streams +$c " echo "$out"
done
check_match "bench smoke: fou-rs/C ratios printed" "^TCP 1 stream +fou-rs/C " echo "$out"
check_match "bench smoke: control-plane cost measured" "^add\+del 100 ports +fou-rs " echo "$out"
unload_fou_rs
done_testing
