// SPDX-License-Identifier: GPL-2.0

//! fou-rs: Foo-over-UDP and GUE tunnelling, in Rust.
//!
//! Replaces the kernel's C modules `fou.ko` and `fou6.ko` (net/ipv4/fou_core.c,
//! net/ipv6/fou6.c): one module serving the generic netlink family `fou`, the
//! in-kernel UDP sockets of the ports that decapsulate, and the `encap fou`
//! ops that IP tunnels encapsulate with. GUE decapsulation and encapsulation,
//! the IPv6 encap ops and GRO are not implemented yet.

use kernel::prelude::*;

mod bindings;
mod config;
mod fou_rx;
mod fou_tx;
mod gue;
mod net;
mod netlink;
mod port;

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
    /// `encap fou` for IP tunnels: unregistered first, waiting for packets
    /// in flight, so tunnels stop using fou-rs cleanly.
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
}

/// The ops table of `encap fou`.
static FOU_ENCAP_OPS: net::encap::OpsTable = net::encap::OpsTable::new::<fou_tx::FouEncap>();

impl kernel::InPlaceModule for FouRs {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        // Fields initialize in the order written: pernet, then the family.
        try_pin_init!(FouRs {
            pernet <- net::netns::PernetRegistration::register(),
            family <- net::genl::Registration::register(module),
            encap_fou: net::encap::EncapRegistration::register(&FOU_ENCAP_OPS, net::encap::Slot::Fou)?,
            rcu: net::rcu::RcuBarrier,
        })
        .pin_chain(|_| {
            pr_info!("Foo-over-UDP and GUE in Rust: genl family fou, FOU receive, encap fou (GUE not yet)\n");
            Ok(())
        })
    }
}

#[pinned_drop]
impl PinnedDrop for FouRs {
    fn drop(self: Pin<&mut Self>) {
        pr_info!("unloading\n");
    }
}
