// SPDX-License-Identifier: GPL-2.0

//! fou-rs: Foo-over-UDP and GUE tunnelling, in Rust.
//!
//! Replaces the kernel's C modules `fou.ko` and `fou6.ko` (net/ipv4/fou_core.c,
//! net/ipv6/fou6.c): one module serving the generic netlink family `fou`, the
//! in-kernel UDP sockets that decapsulate, and the tunnel encap ops that
//! encapsulate.
//!
//! This is the foundation: the module loads, says what it is, and carries the
//! typed netlink configuration parser and the FFI layer the later parts build
//! on. It does not yet register the `fou` family, open ports or encap ops.

use kernel::prelude::*;

mod bindings;
mod config;
mod net;

module! {
    type: FouRs,
    name: "fou_rs",
    authors: ["fou-rs developers"],
    description: "Foo-over-UDP and GUE encapsulation, in Rust",
    license: "GPL",
    alias: ["fou", "fou6", "net-pf-16-proto-16-family-fou"],
}

/// The loaded module.
struct FouRs;

impl kernel::Module for FouRs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!("Foo-over-UDP and GUE in Rust (foundation: no family, ports or encap ops yet)\n");
        Ok(FouRs)
    }
}

impl Drop for FouRs {
    fn drop(&mut self) {
        pr_info!("unloaded\n");
    }
}
