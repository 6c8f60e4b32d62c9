/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C headers fou_rs generates its bindings from: the parts of the
 * networking stack the kernel's own `bindings` crate does not reach (UDP
 * tunnels, generic netlink, IP tunnel encap ops, pernet, tunnel metadata,
 * kfunc sets), plus the prototypes of the hand-written macro wrappers in
 * helpers.c and of the kfuncs' C side.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/module.h>
#include <linux/skbuff.h>
#include <linux/udp.h>
#include <linux/icmp.h>
#include <linux/ipv6.h>
#include <net/dst_metadata.h>
#include <net/genetlink.h>
#include <net/gro.h>
#include <net/gue.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/ip_tunnels.h>
#include <net/ip6_tunnel.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/protocol.h>
#include <net/sock.h>
#include <net/udp.h>
#include <net/udp_tunnel.h>
#include <uapi/linux/fou.h>

#include "helpers.h"
