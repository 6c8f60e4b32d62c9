// SPDX-License-Identifier: GPL-2.0
/*
 * The BTF face of fou_rs's two BPF kfuncs, bpf_skb_set_fou_encap and
 * bpf_skb_get_fou_encap, as fou.ko has them (net/ipv4/fou_bpf.c). A BPF
 * program finds a kfunc by name and prototype in a module's BTF, which
 * pahole makes from C debug information only (Rust is left out), and the
 * set that registers them is made by C macros that resolve_btfids fills in
 * at link time. So the two entry points, their argument types (helpers.h)
 * and the set are C; each entry point is one call into Rust, where the
 * logic is (src/fou_bpf.rs, through src/net/tunnel.rs).
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/skbuff.h>
#include "helpers.h"

__bpf_kfunc_start_defs();

/* The enum is in no prototype: emit its BTF, as the C module's switch does
 * (programs look its values up by name, bpf_core_enum_value). */
__bpf_kfunc int bpf_skb_set_fou_encap(struct __sk_buff *skb_ctx, struct bpf_fou_encap *encap, int type)
{
	BTF_TYPE_EMIT_ENUM(FOU_BPF_ENCAP_GUE);
	return fou_rs_kfunc_set_encap((struct sk_buff *)skb_ctx, encap, type);
}

__bpf_kfunc int bpf_skb_get_fou_encap(struct __sk_buff *skb_ctx, struct bpf_fou_encap *encap)
{
	return fou_rs_kfunc_get_encap((struct sk_buff *)skb_ctx, encap);
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(fou_rs_kfunc_ids)
BTF_ID_FLAGS(func, bpf_skb_set_fou_encap)
BTF_ID_FLAGS(func, bpf_skb_get_fou_encap)
BTF_KFUNCS_END(fou_rs_kfunc_ids)

const struct btf_kfunc_id_set fou_rs_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &fou_rs_kfunc_ids,
};
