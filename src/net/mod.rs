// SPDX-License-Identifier: GPL-2.0

//! The FFI layer: safe wrappers over the kernel's networking C API.
//!
//! Every raw pointer and every call into `crate::bindings` lives under this
//! module; the protocol code outside it is safe Rust.

pub(crate) mod encap;
pub(crate) mod errno;
pub(crate) mod genl;
pub(crate) mod gro;
pub(crate) mod inet;
pub(crate) mod netns;
pub(crate) mod percpu;
pub(crate) mod rcu;
pub(crate) mod udp_tunnel;
pub(crate) mod skb;
pub(crate) mod tunnel;
