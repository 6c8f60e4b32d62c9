// SPDX-License-Identifier: GPL-2.0

//! fou-rs: Foo-over-UDP and GUE tunnelling, in Rust.
//!
//! Replaces the kernel's C modules `fou.ko` and `fou6.ko` (net/ipv4/fou_core.c,
//! net/ipv6/fou6.c): one module serving the generic netlink family `fou`, the
//! in-kernel UDP sockets of the ports that decapsulate (FOU and GUE, over
//! IPv4 and IPv6), and the `encap fou` and `encap gue` ops that IPv4 and
//! IPv6 tunnels encapsulate with. GRO aggregates FOU and GUE streams
//! (GUE packets with a remote checksum offload option excepted: those are
//! received one by one). TC programs choose FOU or GUE per packet on
//! collect_md tunnels through fou.ko's two BPF kfuncs.

use kernel::prelude::*;

mod bindings;
mod config;
mod fou_bpf;
mod fou_rx;
mod fou_tx;
mod gue;
mod net;
mod netlink;
mod port;
mod stats;

module! {
    type: FouRs,
    name: "fou_rs",
    authors: ["fou-rs developers"],
    description: "Foo-over-UDP and GUE encapsulation, in Rust",
    license: "GPL",
    alias: ["fou", "fou6", "net-pf-16-proto-16-family-fou"],
}

/// The loaded module: its registrations, in teardown order (as `fou_fini`).
#[pin_data(PinnedDrop)]
struct FouRs {
    /// `encap gue` for IPv4 and IPv6 tunnels: unregistered first, waiting
    /// for packets in flight, so tunnels stop using fou-rs cleanly.
    encap_gue: net::encap::EncapRegistration,
    /// `encap fou`, likewise.
    encap_fou: net::encap::EncapRegistration,
    /// The `fou` family: unregistered next, waiting for running requests,
    /// so none runs after.
    #[pin]
    family: net::genl::Registration<netlink::Fou>,
    /// The ports of every namespace: released when this is unregistered.
    #[pin]
    pernet: net::netns::PernetRegistration<port::FouNet>,
    /// Waits for the ports' memory to be freed after its RCU grace period.
    rcu: net::rcu::RcuBarrier,
    /// The BPF kfuncs `bpf_skb_set_fou_encap` and `bpf_skb_get_fou_encap`,
    /// registered last, as `fou_init` does; the kernel drops them with the
    /// module.
    kfuncs: net::tunnel::KfuncRegistration,
}

// The Rust bodies of the kfuncs src/bindings/kfuncs.c declares to BPF.
net::tunnel::export_encap_kfuncs!(fou_bpf::FouKfuncs);

/// The ops tables of `encap fou`.
static FOU_ENCAP_OPS: net::encap::OpsTable = net::encap::OpsTable::new::<fou_tx::FouEncap>();
/// The ops tables of `encap gue`.
static GUE_ENCAP_OPS: net::encap::OpsTable = net::encap::OpsTable::new::<fou_tx::GueEncap>();

impl kernel::InPlaceModule for FouRs {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        // Fields initialize in the order written: pernet, the family, then
        // the encap ops.
        try_pin_init!(FouRs {
            pernet <- net::netns::PernetRegistration::register(),
            family <- net::genl::Registration::register(module),
            encap_fou: net::encap::EncapRegistration::register(&FOU_ENCAP_OPS, net::encap::Slot::Fou)?,
            encap_gue: net::encap::EncapRegistration::register(&GUE_ENCAP_OPS, net::encap::Slot::Gue)?,
            rcu: net::rcu::RcuBarrier,
            kfuncs: net::tunnel::KfuncRegistration::register()?,
        })
    }
}

#[pinned_drop]
impl PinnedDrop for FouRs {
    fn drop(self: Pin<&mut Self>) {
        // Before the fields go: the family still registered, every port is
        // deleted and announced.
        netlink::close_all(&self.family);
    }
}
