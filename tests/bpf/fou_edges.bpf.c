// SPDX-License-Identifier: GPL-2.0
/*
 * BPF programs that call fou.ko's kfuncs on the inputs the upstream test
 * does not try, so that tests/bpf.sh can compare what fou_rs and the C
 * module answer: no tunnel metadata, metadata for transmit with every kind
 * of type, with and without the key's checksum flag, and metadata a packet
 * was received with (rx_set, on a tunnel's ingress); and a flow-based
 * program the upstream test lacks (two_peers_set_tunnel). Results go to
 * `results` (fou-bpf run prints it), including the encapsulation fields the
 * kfunc wrote, read from the packet's metadata dst.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define EINVAL 22

struct bpf_fou_encap___local {
	__be16 sport;
	__be16 dport;
};

int bpf_skb_set_fou_encap(struct __sk_buff *skb_ctx, struct bpf_fou_encap___local *encap, int type) __ksym;
int bpf_skb_get_fou_encap(struct __sk_buff *skb_ctx, struct bpf_fou_encap___local *encap) __ksym;
void *bpf_cast_to_kern_ctx(void *obj) __ksym;

int results[32];

SEC("tc")
int no_tunnel_info(struct __sk_buff *skb)
{
	struct bpf_fou_encap___local e = { .sport = bpf_htons(4444), .dport = bpf_htons(5555) };

	results[0] = bpf_skb_set_fou_encap(skb, &e, 0);
	results[1] = bpf_skb_get_fou_encap(skb, &e);
	results[2] = bpf_ntohs(e.sport);
	results[3] = bpf_ntohs(e.dport);
	return TC_ACT_OK;
}

/* bpf_skb_set_tunnel_key with KEY_FLAGS, then the kfuncs with TYPE; the
 * return values, the ports read back and the encapsulation type and flags
 * the metadata ends with. */
static __always_inline int set_get(struct __sk_buff *skb, __u64 key_flags, int type)
{
	struct bpf_tunnel_key key = { .remote_ipv4 = 0x0a000002, .tunnel_ttl = 64 };
	struct bpf_fou_encap___local e = { .sport = bpf_htons(4444), .dport = bpf_htons(5555) };
	struct bpf_fou_encap___local got = {};
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);
	struct metadata_dst *md;

	results[0] = bpf_skb_set_tunnel_key(skb, &key, sizeof(key), key_flags);
	results[1] = bpf_skb_set_fou_encap(skb, &e, type);
	results[2] = bpf_skb_get_fou_encap(skb, &got);
	results[3] = bpf_ntohs(got.sport);
	results[4] = bpf_ntohs(got.dport);
	md = (void *)(BPF_CORE_READ(kskb, _skb_refdst) & ~1UL);
	results[5] = BPF_CORE_READ(md, u.tun_info.encap.type);
	results[6] = BPF_CORE_READ(md, u.tun_info.encap.flags);
	results[7] = BPF_CORE_READ(md, u.tun_info.mode);
	return TC_ACT_OK;
}

SEC("tc")
int tx_fou(struct __sk_buff *skb)
{
	return set_get(skb, 0, 0);
}

SEC("tc")
int tx_gue(struct __sk_buff *skb)
{
	return set_get(skb, 0, 1);
}

SEC("tc")
int tx_gue_zero_csum(struct __sk_buff *skb)
{
	return set_get(skb, BPF_F_ZERO_CSUM_TX, 1);
}

SEC("tc")
int tx_unknown_type(struct __sk_buff *skb)
{
	return set_get(skb, 0, 7);
}

SEC("tc")
int tx_negative_type(struct __sk_buff *skb)
{
	return set_get(skb, 0, -1);
}

/* The verifier must refuse a NULL encap for both modules alike. */
SEC("tc")
int null_encap(struct __sk_buff *skb)
{
	return bpf_skb_set_fou_encap(skb, NULL, 0);
}

/* On a collect_md tunnel's ingress the metadata is what the packet came
 * with: setting it must fail with EINVAL; the packet passes only then. */
SEC("tc")
int rx_set(struct __sk_buff *skb)
{
	struct bpf_fou_encap___local e = { .sport = 0, .dport = bpf_htons(5555) };

	return bpf_skb_set_fou_encap(skb, &e, 0) == -EINVAL ? TC_ACT_OK : TC_ACT_SHOT;
}

/* Flow-based FOU to two peers behind one address (tests/bpf.sh two_peers):
 * the outer destination is always 172.16.1.100, the FOU port 5555 for inner
 * destination 10.1.1.1 and 6666 for 10.1.1.2. */
SEC("tc")
int two_peers_set_tunnel(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct bpf_tunnel_key key = { .remote_ipv4 = 0xac100164, .tunnel_ttl = 64 };
	struct bpf_fou_encap___local e = { .sport = 0 };
	struct iphdr *iph = data;

	if (data + sizeof(*iph) > end)
		return TC_ACT_SHOT;
	if (iph->daddr == bpf_htonl(0x0a010101))
		e.dport = bpf_htons(5555);
	else if (iph->daddr == bpf_htonl(0x0a010102))
		e.dport = bpf_htons(6666);
	else
		return TC_ACT_SHOT;
	if (bpf_skb_set_tunnel_key(skb, &key, sizeof(key), 0) < 0)
		return TC_ACT_SHOT;
	return bpf_skb_set_fou_encap(skb, &e, 0) < 0 ? TC_ACT_SHOT : TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
