#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What fou-rs offers beyond the C module: per-port counters (exact against
# the traffic sent, one count per drop cause), drop reasons on the
# skb:kfree_skb tracepoint, the project's YNL spec (src/fou.yaml) showing
# the counters while the kernel's spec and `ip fou` see the replies they
# always saw, change notifications (add, delete, module unload), and old
# clients' GUE ADD with IPPROTO 0.
cd "$(dirname "$0")"
. ./lib.sh
plan 55
. ./seed_env.sh

spec=$(cd .. && pwd)/src/fou.yaml
# ynl_rs ARGS...: the kernel's YNL CLI with the project's spec.
ynl_rs() {
	python3 "$KDIR/source/tools/net/ynl/pyynl/cli.py" --spec "$spec" \
		--schema "$KDIR/source/Documentation/netlink/genetlink-legacy.yaml" "$@"
}

# tap CMD...: runs a TAP-printing helper, recording each of its lines.
tap() {
	local status rest
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) not_ok "${line#not ok - }" ;;
		"#"*) echo "$line" ;;
		*) not_ok "helper output: $line" ;;
		esac
	done < <("$@" 2>&1)
}

unload_fou_rs
seed_cleanup
modprobe fou_rs
seed_underlay6
# The receiving veth verifies checksums itself (CHECKSUM_NONE packets are
# otherwise marked as verified), so that UDP sees a bad one.
ip netns exec h2 ethtool -K veth2 rx off >/dev/null
ip -n h2 fou add port 5555 gue
ip -n h2 fou add port 5555 gue -6
ip -n h2 fou add port 5556 ipproto 253

# --- Counters, exact. --------------------------------------------------------
tap ip netns exec h1 python3 counters.py rx $H2 5555
tap ip netns exec h1 python3 counters.py rx $H2_6 5555
tap ip netns exec h1 python3 counters.py direct $H2 5556
tap ip netns exec h1 python3 counters.py causes $H2 5555
tap ip netns exec h1 python3 counters.py causes $H2_6 5555
tap ip netns exec h1 python3 counters.py csum $H2 5555
tap ip netns exec h1 python3 counters.py csum $H2_6 5555

# --- YNL: the project's spec shows them, stock clients see nothing new. ----
check_match "YNL with src/fou.yaml: GET with stats shows the port's counters" \
	'"rx-packets": 25, "rx-bytes": [0-9]+, "drop-malformed": 4, "drop-gue-unknown": 7, "drop-control": 1, "drop-proto": 1, "no-handler": 5, "drop-remcsum": 3, "drop-nomem": 0, "drop-csum": 1' \
	ip netns exec h2 bash -c "$(declare -f ynl_rs); KDIR=$KDIR spec=$spec ynl_rs --do get --json '{\"port\": 5555, \"af\": 2, \"stats\": {}}' --output-json"
check_match "YNL with src/fou.yaml: a dump with stats gives every port its counters" \
	'"port": 5556.*"stats": \{"rx-packets": 3' \
	ip netns exec h2 bash -c "$(declare -f ynl_rs); KDIR=$KDIR spec=$spec ynl_rs --dump get --json '{\"stats\": {}}' --output-json"
out=$(ip netns exec h2 bash -c "$(declare -f ynl); KDIR=$KDIR ynl --dump get --output-json" 2>&1)
if [ $? = 0 ] && ! echo "$out" | grep -q stats && [ "$(echo "$out" | grep -o '"port"' | wc -l)" = 3 ]; then
	ok "YNL with the kernel's spec: the dump lists the 3 ports, without counters"
else
	not_ok "YNL with the kernel's spec: the dump lists the 3 ports, without counters" "$out"
fi
check_match "ip fou show lists them as always" \
	"^port 5555 gue$" ip -n h2 fou show
# A port deleted and added again counts from zero: its counters go back to
# the namespace's pool a grace period after the delete and are zeroed when
# lent again (here, most likely, to the same port).
ip -n h2 fou del port 5556
sleep 1
ip -n h2 fou add port 5556 ipproto 253
check_match "a port deleted and added again counts from zero" \
	'"rx-packets": 0, "rx-bytes": 0, "drop-malformed": 0, "drop-gue-unknown": 0, "drop-control": 0, "drop-proto": 0, "no-handler": 0, "drop-remcsum": 0, "drop-nomem": 0, "drop-csum": 0' \
	ip netns exec h2 bash -c "$(declare -f ynl_rs); KDIR=$KDIR spec=$spec ynl_rs --do get --json '{\"port\": 5556, \"af\": 2, \"stats\": {}}' --output-json"

# --- Drop reasons. -----------------------------------------------------------
tracing=/sys/kernel/tracing
mountpoint -q $tracing || mount -t tracefs nodev $tracing
echo 0 >$tracing/tracing_on
echo >$tracing/trace
echo 1 >$tracing/events/skb/kfree_skb/enable
echo 1 >$tracing/tracing_on
ip netns exec h1 python3 gue_input.py hostile $H2 5555 >/dev/null
ip netns exec h1 python3 counters.py csum $H2 5555 >/dev/null
echo 0 >$tracing/tracing_on
echo 0 >$tracing/events/skb/kfree_skb/enable
trace=$(cat $tracing/trace)
for reason in PKT_TOO_SMALL UNHANDLED_PROTO IP_NOPROTO SKB_CSUM; do
	if echo "$trace" | grep -Eq "location=.*\[fou_rs\] reason: $reason"; then
		ok "malformed GUE: freed by fou_rs with drop reason $reason"
	else
		not_ok "malformed GUE: freed by fou_rs with drop reason $reason" \
			"$(echo "$trace" | grep -E 'fou_rs|CSUM' | head -5)"
	fi
done
if echo "$trace" | grep -Eq "reason: UDP_CSUM"; then
	ok "the bad UDP checksum: freed by UDP with UDP_CSUM (before decapsulation)"
else
	not_ok "the bad UDP checksum: freed by UDP with UDP_CSUM (before decapsulation)"
fi
if echo "$trace" | grep -E "\[fou_rs\]" | grep -q "NOT_SPECIFIED"; then
	not_ok "fou_rs frees nothing without a reason" "$(echo "$trace" | grep -E '\[fou_rs\].*NOT_SPECIFIED' | head -3)"
else
	ok "fou_rs frees nothing without a reason"
fi

# --- Old clients. ------------------------------------------------------------
tap ip netns exec h1 python3 counters.py oldclient

# --- Notifications. ----------------------------------------------------------
ntf=$(mktemp)
ip -n h1 fou add port 7100 gue
ip netns exec h2 env PYTHONUNBUFFERED=1 bash -c "$(declare -f ynl_rs); KDIR=$KDIR spec=$spec \
	ynl_rs --subscribe ports --sleep 300 --output-json" >"$ntf" 2>&1 &
listener=$!
# The listener is subscribed once it reports a probe port.
subscribed=0
for _ in $(seq 60); do
	ip -n h2 fou add port 7999 gue
	if wait_until 1 grep -q '"port": 7999' "$ntf"; then
		subscribed=1
		break
	fi
	ip -n h2 fou del port 7999
done
ip -n h2 fou del port 7999 2>/dev/null
if [ $subscribed = 1 ]; then
	ok "YNL --subscribe ports: the listener hears a port added"
else
	not_ok "YNL --subscribe ports: the listener hears a port added" "$(cat "$ntf")"
fi
ip -n h2 fou add port 7001 ipproto 47 local $H2 peer $H1 peer_port 7002
ip -n h2 fou del port 7001 local $H2 peer $H1 peer_port 7002
ip -n h2 fou add port 7003 gue -6
ip -n h2 fou add port 7004 ipproto 4
# Module unload deletes every port of every namespace: h2's listener hears
# h2's (5555 twice, 5556, 7003, 7004), not h1's 7100.
modprobe -r fou_rs
wait_until 30 bash -c "[ \$(grep -v '\"port\": 7999' $ntf | grep -c '\"del-ntf\"') -ge 6 ]"
kill $listener 2>/dev/null
wait $listener 2>/dev/null
# One line per notification but the probe's: name, port, af, type,
# ipproto, local and peer IPv4 address, peer port.
events=$(python3 -c '
import json, socket, struct, sys
def v4(a):
    return socket.inet_ntoa(struct.pack("=I", a)) if isinstance(a, int) else "-"
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith("{"):
        continue
    m = json.loads(line)
    a = m["msg"]
    if a.get("port") == 7999:
        continue
    print(m["name"], a.get("port"), a.get("af"), a.get("type"), a.get("ipproto"),
          v4(a.get("local-v4")), v4(a.get("peer-v4")), a.get("peer-port"))
' "$ntf")
echo "$events" | sed 's/^/# /'
want="add-ntf 7001 2 1 47 10.0.0.2 10.0.0.1 7002
del-ntf 7001 2 1 47 10.0.0.2 10.0.0.1 7002
add-ntf 7003 10 2 0 - - 0
add-ntf 7004 2 1 4 0.0.0.0 0.0.0.0 0"
if [ "$(echo "$events" | head -4)" = "$want" ]; then
	ok "notifications: add and delete by request, with a GET reply's attributes, in order"
else
	not_ok "notifications: add and delete by request, with a GET reply's attributes, in order" \
		"want:" "$want"
fi
unload=$(echo "$events" | tail -n +5 | sort)
want_unload=$(printf '%s\n' "del-ntf 5555 10 2 0 - - 0" "del-ntf 5555 2 2 0 0.0.0.0 0.0.0.0 0" \
	"del-ntf 5556 2 1 253 0.0.0.0 0.0.0.0 0" "del-ntf 7003 10 2 0 - - 0" \
	"del-ntf 7004 2 1 4 0.0.0.0 0.0.0.0 0" | sort)
if [ "$unload" = "$want_unload" ]; then
	ok "notifications: module unload deletes and announces each port of the namespace, none of another"
else
	not_ok "notifications: module unload deletes and announces each port of the namespace, none of another" \
		"want:" "$want_unload"
fi
rm -f "$ntf"

seed_cleanup
done_testing
