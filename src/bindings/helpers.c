// SPDX-License-Identifier: GPL-2.0
/*
 * The C part of fou_rs: bindgen's wrappers for static inline functions
 * (generated), one-line wrappers for macros, and the layout table the KUnit
 * suite `fou_rs_layout` compares with the Rust view of the same structs.
 */
#include "bindings.h"
#include "generated_wrappers.c"

u32 fou_rs_dump_portid(struct netlink_callback *cb) { return NETLINK_CB(cb->skb).portid; }
const struct genl_info *fou_rs_dump_info(struct netlink_callback *cb) { return genl_info_dump(cb); }
struct sk_buff *fou_rs_genlmsg_new_default(void) { return genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL); }
void fou_rs_genl_set_err_msg(struct genl_info *info, const char *msg) { if (info->extack) info->extack->_msg = msg; }
const unsigned long fou_rs_sk_user_data_offset = offsetof(struct sock, sk_user_data);
const unsigned long fou_rs_sk_user_data_ptrmask = SK_USER_DATA_PTRMASK;
void fou_rs_sk_alloc_atomic(struct sock *sk) { sk->sk_allocation = GFP_ATOMIC; }
__be32 fou_rs_sk_rcv_saddr(const struct sock *sk) { return sk->sk_rcv_saddr; }
__be32 fou_rs_sk_daddr(const struct sock *sk) { return sk->sk_daddr; }
__be16 fou_rs_sk_dport(const struct sock *sk) { return sk->sk_dport; }
#if IS_ENABLED(CONFIG_IPV6)
struct in6_addr fou_rs_sk_v6_rcv_saddr(const struct sock *sk) { return sk->sk_v6_rcv_saddr; }
struct in6_addr fou_rs_sk_v6_daddr(const struct sock *sk) { return sk->sk_v6_daddr; }
#endif
int fou_rs_sk_bound_dev_if(const struct sock *sk) { return READ_ONCE(sk->sk_bound_dev_if); }

__be16 fou_rs_flow_src_port(struct sk_buff *skb) { return udp_flow_src_port(dev_net(skb->dev), skb, 0, 0, false); }

const struct ip6_tnl_encap_ops *fou_rs_ip6tun_encaps_cmpxchg(unsigned int num, const struct ip6_tnl_encap_ops *old, const struct ip6_tnl_encap_ops *new) { return cmpxchg((const struct ip6_tnl_encap_ops **)&ip6tun_encaps[num], old, new); }

const struct net_protocol *fou_rs_inet_proto(u8 proto) { return rcu_dereference(inet_protos[proto]); }
#if IS_ENABLED(CONFIG_IPV6)
const struct inet6_protocol *fou_rs_inet6_proto(u8 proto) { return rcu_dereference(inet6_protos[proto]); }
#endif

/* Bit fields of sk_buff: remote checksum offload for GRO, and the C side
 * of the KUnit check of the Rust accessors (ip_summed, csum_none). */
u8 fou_rs_skb_ip_summed(const struct sk_buff *skb) { return skb->ip_summed; }
void fou_rs_skb_set_ip_summed(struct sk_buff *skb, u8 ip_summed) { skb->ip_summed = ip_summed; }
void fou_rs_skb_csum_none(struct sk_buff *skb) { skb->ip_summed = CHECKSUM_NONE; skb->encapsulation = 0; }
bool fou_rs_skb_remcsum_offload(const struct sk_buff *skb) { return skb->remcsum_offload; }
void fou_rs_skb_set_remcsum_offload(struct sk_buff *skb) { skb->remcsum_offload = 1; }

bool fou_rs_tunnel_info_csum(const struct ip_tunnel_info *info) { return test_bit(IP_TUNNEL_CSUM_BIT, info->key.tun_flags); }

/* GRO: NAPI_GRO_CB() fields (bit fields of a macro-cast control block),
 * for the KUnit suite fou_rs_gro and the remote checksum path. */
void fou_rs_gro_mark_fou(struct sk_buff *skb) { NAPI_GRO_CB(skb)->encap_mark = 0; NAPI_GRO_CB(skb)->is_fou = 1; }
void fou_rs_gro_flush(struct sk_buff *skb) { NAPI_GRO_CB(skb)->flush |= 1; }
bool fou_rs_gro_csum_valid(const struct sk_buff *skb) { return NAPI_GRO_CB(skb)->csum_valid; }
bool fou_rs_gro_same_flow(const struct sk_buff *p) { return NAPI_GRO_CB(p)->same_flow; }
void fou_rs_gro_other_flow(struct sk_buff *p) { NAPI_GRO_CB(p)->same_flow = 0; }
u8 fou_rs_gro_recursion_counter(const struct sk_buff *skb) { return NAPI_GRO_CB(skb)->recursion_counter; }
void fou_rs_gro_set_recursion_counter(struct sk_buff *skb, u8 n) { NAPI_GRO_CB(skb)->recursion_counter = n; }

struct net *fou_rs_net_next(struct net *net) { struct list_head *n = net ? net->list.next : net_namespace_list.next; return n == &net_namespace_list ? NULL : list_entry(n, struct net, list); }

/* Per-CPU counters. */
u64 __percpu *fou_rs_alloc_percpu_u64(u32 n) { return __alloc_percpu(n * sizeof(u64), sizeof(u64)); }
void fou_rs_percpu_add(u64 __percpu *base, u32 i, u64 v) { this_cpu_add(base[i], v); }
u64 fou_rs_percpu_read(u64 __percpu *base, int cpu, u32 i) { return READ_ONCE(per_cpu_ptr(base, cpu)[i]); }
void fou_rs_percpu_zero(u64 __percpu *base, int cpu, u32 n) { memset(per_cpu_ptr(base, cpu), 0, n * sizeof(u64)); }
int fou_rs_cpu_next_possible(int cpu) { unsigned int n = cpumask_next(cpu, cpu_possible_mask); return n < nr_cpu_ids ? n : -1; }

#define FOU_RS_SIZE(type) { "sizeof(" #type ")", sizeof(type) }
#define FOU_RS_OFF(type, field) { "offsetof(" #type ", " #field ")", offsetof(type, field) }

/* Order and names must match `LAYOUT` in src/bindings/mod.rs. */
const struct fou_rs_layout fou_rs_c_layout[] = {
	FOU_RS_SIZE(struct sk_buff),
	FOU_RS_OFF(struct sk_buff, len),
	FOU_RS_OFF(struct sk_buff, data),
	FOU_RS_OFF(struct sk_buff, data_len),
	FOU_RS_OFF(struct sk_buff, tail),
	FOU_RS_OFF(struct sk_buff, end),
	FOU_RS_OFF(struct sk_buff, head),
	FOU_RS_OFF(struct sk_buff, network_header),
	FOU_RS_OFF(struct sk_buff, transport_header),
	FOU_RS_OFF(struct sk_buff, csum_start),
	FOU_RS_OFF(struct sk_buff, csum_offset),
	FOU_RS_OFF(struct skb_shared_info, gso_size),
	FOU_RS_SIZE(struct genl_family),
	FOU_RS_OFF(struct genl_family, id),
	FOU_RS_OFF(struct genl_family, small_ops),
	FOU_RS_OFF(struct genl_family, module),
	FOU_RS_SIZE(struct genl_small_ops),
	FOU_RS_SIZE(struct genl_info),
	FOU_RS_OFF(struct genl_info, attrs),
	FOU_RS_SIZE(struct nla_policy),
	FOU_RS_SIZE(struct udp_port_cfg),
	FOU_RS_OFF(struct udp_port_cfg, local_udp_port),
	FOU_RS_OFF(struct udp_port_cfg, bind_ifindex),
	FOU_RS_SIZE(struct udp_tunnel_sock_cfg),
	FOU_RS_OFF(struct udp_tunnel_sock_cfg, encap_rcv),
	FOU_RS_OFF(struct udp_tunnel_sock_cfg, gro_complete),
	FOU_RS_SIZE(struct ip_tunnel_encap_ops),
	FOU_RS_SIZE(struct ip6_tnl_encap_ops),
	FOU_RS_SIZE(struct pernet_operations),
	FOU_RS_OFF(struct pernet_operations, id),
	FOU_RS_OFF(struct pernet_operations, size),
	FOU_RS_OFF(struct socket, sk),
	FOU_RS_OFF(struct netlink_callback, nlh),
	FOU_RS_OFF(struct netlink_callback, ctx),
	FOU_RS_OFF(struct genl_info, snd_portid),
	FOU_RS_OFF(struct genl_info, family),
	FOU_RS_OFF(struct genl_info, genlhdr),
	FOU_RS_OFF(struct iphdr, tot_len),
	FOU_RS_OFF(struct ipv6hdr, payload_len),
	FOU_RS_OFF(struct flowi4, saddr),
	FOU_RS_OFF(struct flowi4, daddr),
	FOU_RS_OFF(struct net_protocol, err_handler),
	FOU_RS_SIZE(struct ip_tunnel_encap),
	FOU_RS_OFF(struct flowi6, saddr),
	FOU_RS_OFF(struct flowi6, daddr),
	FOU_RS_OFF(struct net_offload, callbacks.gro_receive),
	FOU_RS_OFF(struct net_offload, callbacks.gro_complete),
	FOU_RS_OFF(struct udp_tunnel_sock_cfg, gro_receive),
	FOU_RS_OFF(struct sk_buff, cb),
	FOU_RS_OFF(struct sk_buff, list),
	FOU_RS_OFF(struct napi_gro_cb, frag0),
	FOU_RS_OFF(struct napi_gro_cb, frag0_len),
	FOU_RS_OFF(struct napi_gro_cb, data_offset),
	FOU_RS_OFF(struct napi_gro_cb, flush),
#if IS_ENABLED(CONFIG_IPV6)
	FOU_RS_OFF(struct inet6_protocol, err_handler),
#endif
	{ NULL, 0 },
};
