#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The control plane: the generic netlink family `fou` through stock iproute2
# and the kernel's YNL CLI, its errors, the ports' sockets, namespaces, and
# 10,000 ports.
. "$(dirname "$0")/lib.sh"
plan 54

SRC=$KDIR/source
show() { ip fou show | sort; }

unload_fou_rs
# --- Autoload: the genl family alias loads the module. --------------------
check "ip fou add autoloads fou_rs" sh -c 'ip fou add port 55555 ipproto 47 && grep -q "^fou_rs " /proc/modules'

# --- Stock iproute2: each kind of port, as `ip fou show` prints it. -------
ip link add d0 type dummy
ip addr add 10.1.1.1/24 dev d0
ip -6 addr add 2001:db8::1/64 dev d0 nodad
ip link set d0 up
check "add port 5556 gue" ip fou add port 5556 gue
check "add port 6666 ipproto 4 -6" ip fou add port 6666 ipproto 4 -6
check "add with local" ip fou add port 7005 ipproto 47 local 10.1.1.1
check "add with local, peer, peer_port, dev" \
	ip fou add port 7001 ipproto 47 local 10.1.1.1 peer 10.1.1.2 peer_port 7002 dev d0
check "add -6 gue with local, peer, peer_port" \
	ip fou add port 7003 gue -6 local 2001:db8::1 peer 2001:db8::2 peer_port 7004
# iproute2 has no keyword for REMCSUM_NOPARTIAL: YNL sets it.
check "add gue remcsum-nopartial (YNL)" \
	ynl --do add --json '{"port": 7006, "type": 2, "af": 2, "remcsum-nopartial": true}'
expected=$(sort <<'END'
port 5556 gue
port 55555 ipproto 47
port 6666 ipproto 4 -6
port 7001 ipproto 47 local 10.1.1.1 peer 10.1.1.2 peer_port 7002 dev d0
port 7003 gue -6 local 2001:db8::1 peer 2001:db8::2 peer_port 7004
port 7005 ipproto 47 local 10.1.1.1
port 7006 gue
END
)
got=$(show)
if [ "$got" = "$expected" ]; then ok "ip fou show lists every port as configured"; else
	not_ok "ip fou show lists every port as configured" "expected:" "$expected" "got:" "$got"; fi

# --- Errors, each the exact failure. ---------------------------------------
check_fails "duplicate add: EADDRINUSE" "Address already in use" ip fou add port 55555 ipproto 47
check_fails "wildcard add over a bound port: EADDRINUSE" "Address already in use" ip fou add port 7005 gue
check_fails "del of a missing port fails" "no such FOU port" ip fou del port 4444
check_fails "del needs the full key (local)" "no such FOU port" ip fou del port 7005
check_fails "add without CAP_NET_ADMIN: EPERM" "Operation not permitted" \
	setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all ip fou add port 4444 ipproto 47
check_fails "del without CAP_NET_ADMIN: EPERM" "Operation not permitted" \
	setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all ip fou del port 55555
check_match "show without CAP_NET_ADMIN works" "port 55555 ipproto 47" \
	setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all ip fou show
check_fails "YNL add without port: EINVAL" "Invalid argument" ynl --do add --json '{"ipproto": 47, "type": 1}'
check_fails "YNL add ipproto 0: ERANGE" "Numerical result out of range" \
	ynl --do add --json '{"port": 4444, "ipproto": 0, "type": 1}'
check_fails "YNL add without type: EINVAL" "Invalid argument" ynl --do add --json '{"port": 4444, "ipproto": 47}'
check_fails "YNL get of a missing port: ESRCH" "No such process" ynl --do get --json '{"port": 4444}'
got=$(show)
if [ "$got" = "$expected" ]; then ok "failed requests changed nothing"; else
	not_ok "failed requests changed nothing" "got:" "$got"; fi

# --- The sockets: no owning process, the port is taken. -------------------
check_match "ss lists port 7005 without a process" '10\.1\.1\.1:7005 +0\.0\.0\.0:\* *$' ss -ulpn
check_fails "user-space bind to 55555: EADDRINUSE" "Address already in use" \
	python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(("0.0.0.0", 55555))'
check_fails "user-space bind to [::]:6666: EADDRINUSE" "Address already in use" \
	python3 -c 'import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).bind(("::", 6666))'

# --- YNL: add, get, dump, del, and its dump agrees with ip fou show. -------
check "YNL add port 8888 ipproto 4" ynl --do add --json '{"port": 8888, "ipproto": 4, "type": 1}'
check_match "YNL get port 8888" '"port": 8888, "peer-port": 0, "ipproto": 4, "type": 1' \
	ynl --do get --json '{"port": 8888}' --output-json
check_match "ip fou show lists the YNL port" "port 8888 ipproto 4" ip fou show
nopartial_reported() {
	ynl --do get --json '{"port": 7006}' --output-json | grep -q '"remcsum-nopartial": true' &&
		! ynl --do get --json '{"port": 8888}' --output-json | grep -q nopartial
}
check "YNL get reports remcsum-nopartial of port 7006, not of port 8888" nopartial_reported
ynl_ports=$(ynl --dump get --output-json | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    print(p["port"], "gue" if p["type"] == 2 else "ipproto %d" % p["ipproto"], "-6" if p["af"] == 10 else "")' |
	sed 's/ *$//' | sort)
ip_ports=$(ip fou show | awk '{ s = $2 " " $3; if ($3 != "gue") s = s " " $4; if (index($0, " -6")) s = s " -6"; print s }' | sort)
if [ -n "$ynl_ports" ] && [ "$ynl_ports" = "$ip_ports" ]; then ok "YNL dump matches ip fou show"; else
	not_ok "YNL dump matches ip fou show" "YNL:" "$ynl_ports" "ip:" "$ip_ports"; fi
check "YNL del port 8888" ynl --do del --json '{"port": 8888}'

# --- Delete each port with stock iproute2. ---------------------------------
check "del port 55555" ip fou del port 55555
check "del port 5556" ip fou del port 5556
check "del port 6666 -6" ip fou del port 6666 -6
check "del port 7005 local" ip fou del port 7005 local 10.1.1.1
check "del port 7001 local peer peer_port dev" ip fou del port 7001 local 10.1.1.1 peer 10.1.1.2 peer_port 7002 dev d0
check "del port 7003 -6 local peer peer_port" ip fou del port 7003 -6 local 2001:db8::1 peer 2001:db8::2 peer_port 7004
check "del port 7006" ip fou del port 7006
check_match "no port left" '^$' sh -c 'ip fou show; ss -uan | grep -E ":(55555|5556|6666|700[1-6]) " || true'
check "a deleted port can be bound from user space" \
	python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(("0.0.0.0", 55555))'
ip link del d0

# --- Namespaces: ports kept apart, freed with the namespace. ---------------
ip netns add fa
ip netns add fb
check "same port in two namespaces" sh -c 'ip -n fa fou add port 7777 ipproto 47 && ip -n fb fou add port 7777 gue'
check_match "namespace fa sees only its port" '^port 7777 ipproto 47$' ip -n fa fou show
check_match "namespace fb sees only its port" '^port 7777 gue$' ip -n fb fou show
check_match "the initial namespace sees none" '^$' ip fou show
check "ip netns del with ports present" ip netns del fa
check "the namespace's port is gone (bind succeeds in a new one)" sh -c 'ip netns add fa &&
	ip netns exec fa python3 -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind((\"0.0.0.0\", 7777))"'
ip netns del fa

# --- 10,000 ports: added, dumped across many messages, deleted. -----------
n=${FOU_SCALE_PORTS:-10000}
batch=$(mktemp)
# GUE ports: iproute2 resolves `ipproto N` through getprotobyname, which
# reads /etc/protocols over 9p for every line and costs more than the add.
for p in $(seq 20001 $((20000 + n))); do echo "fou add port $p gue"; done >"$batch"
start=$(date +%s.%N)
check "add $n ports with ip -batch" ip -batch "$batch"
echo "# added $n ports in $(echo "$(date +%s.%N) - $start" | bc) s"
count=$(ip fou show | wc -l)
[ "$count" = "$n" ] && ok "ip fou show lists all $n ports" || not_ok "ip fou show lists all $n ports" "listed $count"
count=$(ip fou show | sort -u | wc -l)
[ "$count" = "$n" ] && ok "no port listed twice" || not_ok "no port listed twice" "$count distinct"
count=$(ynl --dump get --output-json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$count" = "$n" ] && ok "YNL dump lists all $n ports" || not_ok "YNL dump lists all $n ports" "listed $count"
sed -i 's/^fou add/fou del/' "$batch"
start=$(date +%s.%N)
check "delete $n ports with ip -batch" ip -batch "$batch"
echo "# deleted $n ports in $(echo "$(date +%s.%N) - $start" | bc) s"
check_match "none left" '^0$' sh -c 'ip fou show | wc -l'
rm -f "$batch"

# --- Unload with ports in several namespaces. ------------------------------
ip netns add fc
check "ports in three namespaces" sh -c 'ip fou add port 7777 ipproto 47 && ip -n fb fou add port 7778 gue -6 &&
	ip -n fc fou add port 7779 ipproto 4'
check "rmmod fou_rs with ports configured" rmmod fou_rs
check_match "every socket released" '^$' sh -c 'ss -uan | grep -E ":777[789] "; ip netns exec fb ss -uan | grep -E ":777[789] ";
	ip netns exec fc ss -uan | grep -E ":777[789] "; true'
check "reload and add the same ports" sh -c 'modprobe fou_rs && ip fou add port 7777 ipproto 47 && ip -n fb fou add port 7778 gue -6'
ip netns del fb
ip netns del fc
unload_fou_rs
done_testing
