// SPDX-License-Identifier: GPL-2.0

//! IP tunnel encapsulation ops: what `ip link add ... encap fou` uses.
//!
//! The kernel has one `ip_tunnel_encap_ops` slot per encapsulation type;
//! tunnels (gre, gretap, ipip, sit) look their type's ops up under RCU for
//! every packet. This module turns a safe [`EncapOps`] implementation into
//! such a table and holds the slot while registered (net/ipv4/fou_core.c,
//! `ip_tunnel_encap_add_fou_ops`).

use crate::bindings;
use crate::net::skb::SkBuff;
use kernel::prelude::*;

/// The encapsulation a tunnel was configured with (`struct
/// ip_tunnel_encap`): `encap-sport`, `encap-dport`, `[no]encap-csum`,
/// `[no]encap-remcsum`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EncapParams {
    /// Fixed source port, host order; `None` for `encap-sport auto`.
    pub(crate) sport: Option<u16>,
    /// Destination port, host order.
    pub(crate) dport: u16,
    /// Whether the outer UDP checksum is computed (`encap-csum`).
    pub(crate) csum: bool,
    /// Whether remote checksum offload is requested (`encap-remcsum`).
    pub(crate) remcsum: bool,
}

impl EncapParams {
    /// Reads the C structure.
    fn from_c(e: &bindings::ip_tunnel_encap) -> Self {
        let flags = u32::from(e.flags);
        let sport = u16::from_be(e.sport);
        EncapParams {
            sport: if sport == 0 { None } else { Some(sport) },
            dport: u16::from_be(e.dport),
            csum: flags & bindings::TUNNEL_ENCAP_FLAG_CSUM != 0,
            remcsum: flags & bindings::TUNNEL_ENCAP_FLAG_REMCSUM != 0,
        }
    }
}

/// The IPv4 addresses of the outer header (network order, as in `flowi4`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Flow4 {
    /// Outer source address.
    pub(crate) saddr: u32,
    /// Outer destination address.
    pub(crate) daddr: u32,
}

/// An encapsulation type's behaviour, in safe Rust.
pub(crate) trait EncapOps: 'static {
    /// The bytes of encapsulation headers the tunnel must reserve.
    fn hlen(e: &EncapParams) -> usize;

    /// Puts the encapsulation headers in front of `skb`, whose inner
    /// protocol is `protocol`; returns the outer IP protocol.
    fn build_header(skb: &mut SkBuff<'_>, e: &EncapParams, protocol: u8, fl: &Flow4) -> Result<u8>;

    /// Handles an ICMP error quoting a packet this encapsulation sent, when
    /// no socket claims it: `skb` data is at the quoted outer IP header, its
    /// transport header at the quoted UDP header.
    fn err(skb: &mut SkBuff<'_>, info: u32) -> Result;
}

/// A C ops table built from an [`EncapOps`].
#[repr(transparent)]
pub(crate) struct OpsTable(bindings::ip_tunnel_encap_ops);

// SAFETY: the table is immutable; it holds only function pointers.
unsafe impl Sync for OpsTable {}

impl OpsTable {
    /// The table for `E`.
    pub(crate) const fn new<E: EncapOps>() -> Self {
        OpsTable(bindings::ip_tunnel_encap_ops {
            encap_hlen: Some(encap_hlen::<E>),
            build_header: Some(build_header::<E>),
            err_handler: Some(err_handler::<E>),
        })
    }
}

/// `encap_hlen` of `E`.
unsafe extern "C" fn encap_hlen<E: EncapOps>(e: *mut bindings::ip_tunnel_encap) -> usize {
    // SAFETY: the tunnel passes its valid encap configuration.
    E::hlen(&EncapParams::from_c(unsafe { &*e }))
}

/// `build_header` of `E`.
unsafe extern "C" fn build_header<E: EncapOps>(
    skb: *mut bindings::sk_buff,
    e: *mut bindings::ip_tunnel_encap,
    protocol: *mut u8,
    fl4: *mut bindings::flowi4,
) -> c_int {
    // SAFETY: the tunnel's transmit path passes a packet it owns and lends
    // us for this call, its encap configuration, the inner protocol and the
    // route's flow, all valid for the call.
    let (skb, e, proto, fl) = unsafe {
        (
            SkBuff::from_raw(skb),
            EncapParams::from_c(&*e),
            &mut *protocol,
            Flow4 {
                saddr: (*fl4).saddr,
                daddr: (*fl4).daddr,
            },
        )
    };
    let Some(mut skb) = skb else {
        return EINVAL.to_errno();
    };
    match E::build_header(&mut skb, &e, *proto, &fl) {
        Ok(p) => {
            *proto = p;
            0
        }
        Err(err) => err.to_errno(),
    }
}

/// `err_handler` of `E`.
unsafe extern "C" fn err_handler<E: EncapOps>(skb: *mut bindings::sk_buff, info: u32) -> c_int {
    // SAFETY: the ICMP receive path lends us its packet for the call.
    let Some(mut skb) = (unsafe { SkBuff::from_raw(skb) }) else {
        return EINVAL.to_errno();
    };
    match E::err(&mut skb, info) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// The encapsulation slots fou-rs fills.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Slot {
    /// `TUNNEL_ENCAP_FOU`: `encap fou`.
    Fou,
}

impl Slot {
    /// The slot number.
    fn num(self) -> c_uint {
        match self {
            Slot::Fou => bindings::tunnel_encap_types_TUNNEL_ENCAP_FOU,
        }
    }
}

/// An ops table registered in its slot; unregistered when dropped.
///
/// # Invariants
///
/// `ops` is registered in `slot`.
pub(crate) struct EncapRegistration {
    ops: &'static OpsTable,
    slot: Slot,
}

impl EncapRegistration {
    /// Registers `ops` in `slot`. `EBUSY` when another module (the C
    /// `fou.ko`) holds the slot: `ip_tunnel_encap_add_ops` answers -1, not
    /// an errno, for that.
    pub(crate) fn register(ops: &'static OpsTable, slot: Slot) -> Result<Self> {
        // SAFETY: `ops` is static; the slot number is in range.
        let ret = unsafe { bindings::ip_tunnel_encap_add_ops(&ops.0, slot.num()) };
        if ret != 0 {
            pr_err!(
                "the IP tunnel encap slot {:?} is held by another module (the C fou.ko?); unload it first\n",
                slot
            );
            return Err(EBUSY);
        }
        // INVARIANT: registered just now.
        Ok(EncapRegistration { ops, slot })
    }
}

impl Drop for EncapRegistration {
    fn drop(&mut self) {
        // SAFETY: registered (type invariant). This waits for packets that
        // are using the ops (synchronize_net), so none runs after.
        unsafe { bindings::ip_tunnel_encap_del_ops(&self.ops.0, self.slot.num()) };
    }
}
