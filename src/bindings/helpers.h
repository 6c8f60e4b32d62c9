/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prototypes of fou_rs's hand-written C: one line per kernel macro that
 * bindgen cannot see, and the C side of the layout check (sizes and offsets
 * as GCC computes them, compared in KUnit with what bindgen generated).
 */
#ifndef FOU_RS_HELPERS_H
#define FOU_RS_HELPERS_H

#include <linux/types.h>

/* One entry of the layout table: a C size or offset, named. */
struct fou_rs_layout {
	const char *name;
	size_t value;
};

/* The table, ending with a NULL name. */
extern const struct fou_rs_layout fou_rs_c_layout[];

struct genl_info;
struct netlink_callback;
struct sk_buff;
struct sock;

/* NETLINK_CB(cb->skb).portid: the port a dump replies to. */
u32 fou_rs_dump_portid(struct netlink_callback *cb);

/* The genl_info of a dump (genl_info_dump() wraps a container macro). */
const struct genl_info *fou_rs_dump_info(struct netlink_callback *cb);

/* genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL): a reply of the usual size. */
struct sk_buff *fou_rs_genlmsg_new_default(void);

/* GENL_SET_ERR_MSG(info, msg) for a msg that is not a literal; static. */
void fou_rs_genl_set_err_msg(struct genl_info *info, const char *msg);

/* Where rcu_dereference_sk_user_data(sk) reads, as GCC lays out struct sock
 * (libclang places the field elsewhere under the debug config: it lies past
 * the point where they part), and the mask it applies: the receive path
 * reads the field itself, without a call per packet. */
extern const unsigned long fou_rs_sk_user_data_offset;
extern const unsigned long fou_rs_sk_user_data_ptrmask;

/* sk->sk_allocation = GFP_ATOMIC, as fou_create sets it. */
void fou_rs_sk_alloc_atomic(struct sock *sk);

/* The addresses a socket was bound and connected to, the fields of struct
 * sock_common that fou_cfg_cmp compares (macros, and past where libclang
 * and GCC may part). */
__be32 fou_rs_sk_rcv_saddr(const struct sock *sk);
__be32 fou_rs_sk_daddr(const struct sock *sk);
__be16 fou_rs_sk_dport(const struct sock *sk);
#if IS_ENABLED(CONFIG_IPV6)
struct in6_addr fou_rs_sk_v6_rcv_saddr(const struct sock *sk);
struct in6_addr fou_rs_sk_v6_daddr(const struct sock *sk);
#endif
int fou_rs_sk_bound_dev_if(const struct sock *sk);

/* udp_flow_src_port(dev_net(skb->dev), skb, 0, 0, false): the flow-hash
 * source port for `encap-sport auto`. */
__be16 fou_rs_flow_src_port(struct sk_buff *skb);

/* cmpxchg on the IPv6 tunnels' encap table, which lives in built-in
 * net/ipv4/ip_tunnel_core.c: the whole of ip6_tnl_encap_add_ops and
 * ip6_tnl_encap_del_ops (but their synchronize_net), whose home, ip6_tunnel.ko,
 * fou_rs must not depend on (loading it creates an ip6tnl0 device in every
 * namespace). `num` below MAX_IPTUN_ENCAP_OPS. */
struct ip6_tnl_encap_ops;
const struct ip6_tnl_encap_ops *fou_rs_ip6tun_encaps_cmpxchg(unsigned int num, const struct ip6_tnl_encap_ops *old, const struct ip6_tnl_encap_ops *new);

struct net_protocol;

/* rcu_dereference(inet_protos[proto]): the handler of an IPv4 protocol. */
const struct net_protocol *fou_rs_inet_proto(u8 proto);

#if IS_ENABLED(CONFIG_IPV6)
struct inet6_protocol;

/* rcu_dereference(inet6_protos[proto]): the handler of an IPv6 protocol
 * (a kernel without IPv6 has neither the table nor the struct). */
const struct inet6_protocol *fou_rs_inet6_proto(u8 proto);
#endif

/* skb->ip_summed, read and written by C: the KUnit suite fou_rs_skb checks
 * that bindgen's bit-field accessors, which the receive path uses, agree. */
u8 fou_rs_skb_ip_summed(const struct sk_buff *skb);
void fou_rs_skb_set_ip_summed(struct sk_buff *skb, u8 ip_summed);

/* skb->ip_summed = CHECKSUM_NONE; skb->encapsulation = 0 (bit fields). */
void fou_rs_skb_csum_none(struct sk_buff *skb);

/* skb->remcsum_offload (a bit field): GRO already did remote checksum. */
bool fou_rs_skb_remcsum_offload(const struct sk_buff *skb);

/* skb->remcsum_offload = 1: GRO did the remote checksum offload. */
void fou_rs_skb_set_remcsum_offload(struct sk_buff *skb);

struct list_head;
struct net_offload;

/* NAPI_GRO_CB() bits, written and read by C: the KUnit suite fou_rs_gro
 * checks bindgen's accessors, which the GRO path uses, against them (the
 * remote checksum path in GRO uses csum_valid itself). */

/* NAPI_GRO_CB(skb)->encap_mark = 0, ->is_fou = 1: the packet's outer
 * encapsulation header was consumed by FOU/GUE. */
void fou_rs_gro_mark_fou(struct sk_buff *skb);

/* NAPI_GRO_CB(skb)->flush |= 1: do not hold the packet for aggregation. */
void fou_rs_gro_flush(struct sk_buff *skb);

/* NAPI_GRO_CB(skb)->csum_valid: GRO holds the packet's checksum. */
bool fou_rs_gro_csum_valid(const struct sk_buff *skb);

/* NAPI_GRO_CB(p)->same_flow, and clearing it. */
bool fou_rs_gro_same_flow(const struct sk_buff *p);
void fou_rs_gro_other_flow(struct sk_buff *p);

/* NAPI_GRO_CB(skb)->recursion_counter, and setting it. */
u8 fou_rs_gro_recursion_counter(const struct sk_buff *skb);
void fou_rs_gro_set_recursion_counter(struct sk_buff *skb, u8 n);

/* The arguments of the BPF kfuncs (kfuncs.c), as fou.ko's
 * net/ipv4/fou_bpf.c defines them: programs match them by name. */
struct bpf_fou_encap {
	__be16 sport;
	__be16 dport;
};

enum bpf_fou_encap_type {
	FOU_BPF_ENCAP_FOU,
	FOU_BPF_ENCAP_GUE,
};

/* The kfunc set: bpf_skb_set_fou_encap and bpf_skb_get_fou_encap. */
struct btf_kfunc_id_set;
extern const struct btf_kfunc_id_set fou_rs_kfunc_set;

/* The Rust bodies of the two kfuncs (src/net/tunnel.rs). */
int fou_rs_kfunc_set_encap(struct sk_buff *skb, struct bpf_fou_encap *encap, int type);
int fou_rs_kfunc_get_encap(struct sk_buff *skb, struct bpf_fou_encap *encap);

struct ip_tunnel_info;

/* test_bit(IP_TUNNEL_CSUM_BIT, info->key.tun_flags): `csum` was asked for. */
bool fou_rs_tunnel_info_csum(const struct ip_tunnel_info *info);

struct net;

/* The namespace after net on net_namespace_list (the first for NULL), NULL
 * at the end; the caller holds net_rwsem. */
struct net *fou_rs_net_next(struct net *net);

/* __alloc_percpu(n * sizeof(u64), sizeof(u64)): n zeroed counters per CPU. */
u64 __percpu *fou_rs_alloc_percpu_u64(u32 n);

/* this_cpu_add(base[i], v): counts on the running CPU, from any context. */
void fou_rs_percpu_add(u64 __percpu *base, u32 i, u64 v);

/* READ_ONCE(per_cpu_ptr(base, cpu)[i]). */
u64 fou_rs_percpu_read(u64 __percpu *base, int cpu, u32 i);

/* memset(per_cpu_ptr(base, cpu), 0, n * sizeof(u64)): zeroes CPU cpu's n
 * counters at base. */
void fou_rs_percpu_zero(u64 __percpu *base, int cpu, u32 n);

/* The possible CPU after cpu (the first for -1), -1 after the last. */
int fou_rs_cpu_next_possible(int cpu);

#endif
