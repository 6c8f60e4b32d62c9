// SPDX-License-Identifier: GPL-2.0

//! IP tunnel encapsulation ops: what `ip link add ... encap fou|gue` uses.
//!
//! The kernel has one `ip_tunnel_encap_ops` slot (IPv4 tunnels: gre,
//! gretap, ipip, sit) and one `ip6_tnl_encap_ops` slot (IPv6 tunnels:
//! ip6tnl, ip6gre, ip6gretap) per encapsulation type; tunnels look their
//! type's ops up under RCU for every packet. This module turns a safe
//! [`EncapOps`] implementation into both tables and holds both slots while
//! registered (`ip_tunnel_encap_add_fou_ops` in net/ipv4/fou_core.c,
//! `ip6_tnl_encap_add_fou_ops` in net/ipv6/fou6.c).

use crate::bindings;
use crate::net::skb::{
    IcmpError, //
    SkBuff,
};
use kernel::prelude::*;

/// The outer family a tunnel encapsulates over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outer {
    /// IPv4 tunnels (`ip_tunnel_encap_ops`).
    V4,
    /// IPv6 tunnels (`ip6_tnl_encap_ops`).
    V6,
}

/// The encapsulation a tunnel was configured with (`struct
/// ip_tunnel_encap`): `encap-sport`, `encap-dport`, `[no]encap-csum` (IPv4
/// tunnels) or `[no]encap-udp6-csum` (IPv6 tunnels), `[no]encap-remcsum`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EncapParams {
    /// Fixed source port, host order; `None` for `encap-sport auto`.
    pub(crate) sport: Option<u16>,
    /// Destination port, host order.
    pub(crate) dport: u16,
    /// Whether the outer UDP checksum is computed: `TUNNEL_ENCAP_FLAG_CSUM`
    /// for IPv4 tunnels, `TUNNEL_ENCAP_FLAG_CSUM6` for IPv6 ones, as in C.
    pub(crate) csum: bool,
    /// Whether remote checksum offload is requested (`encap-remcsum`).
    pub(crate) remcsum: bool,
}

impl EncapParams {
    /// Reads the C structure of a tunnel over `outer`.
    fn from_c(e: &bindings::ip_tunnel_encap, outer: Outer) -> Self {
        let flags = u32::from(e.flags);
        let sport = u16::from_be(e.sport);
        let csum_flag = match outer {
            Outer::V4 => bindings::TUNNEL_ENCAP_FLAG_CSUM,
            Outer::V6 => bindings::TUNNEL_ENCAP_FLAG_CSUM6,
        };
        EncapParams {
            sport: if sport == 0 { None } else { Some(sport) },
            dport: u16::from_be(e.dport),
            csum: flags & csum_flag != 0,
            remcsum: flags & bindings::TUNNEL_ENCAP_FLAG_REMCSUM != 0,
        }
    }
}

/// The addresses of the outer header, from the tunnel's route (network
/// order, as in `flowi4`/`flowi6`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    /// An IPv4 outer header.
    V4 {
        /// Outer source address.
        saddr: u32,
        /// Outer destination address.
        daddr: u32,
    },
    /// An IPv6 outer header.
    V6 {
        /// Outer source address.
        saddr: [u8; 16],
        /// Outer destination address.
        daddr: [u8; 16],
    },
}

/// An encapsulation type's behaviour, in safe Rust, for both families.
pub(crate) trait EncapOps: 'static {
    /// The bytes of encapsulation headers the tunnel must reserve.
    fn hlen(e: &EncapParams) -> usize;

    /// Puts the encapsulation headers in front of `skb`, whose inner
    /// protocol is `protocol`; returns the outer IP protocol.
    fn build_header(skb: &mut SkBuff<'_>, e: &EncapParams, protocol: u8, flow: &Flow) -> Result<u8>;

    /// Handles an ICMP or ICMPv6 error quoting a packet this encapsulation
    /// sent, when no socket claims it: `skb` data is at the quoted outer IP
    /// header, its transport header at the quoted UDP header.
    fn err(skb: &mut SkBuff<'_>, err: &IcmpError<'_>) -> Result;
}

/// The C ops tables built from an [`EncapOps`], one per family.
pub(crate) struct OpsTable {
    v4: bindings::ip_tunnel_encap_ops,
    v6: bindings::ip6_tnl_encap_ops,
}

// SAFETY: the tables are immutable; they hold only function pointers.
unsafe impl Sync for OpsTable {}

impl OpsTable {
    /// The tables for `E`.
    pub(crate) const fn new<E: EncapOps>() -> Self {
        OpsTable {
            v4: bindings::ip_tunnel_encap_ops {
                encap_hlen: Some(encap_hlen::<E>),
                build_header: Some(build_header::<E>),
                err_handler: Some(err_handler::<E>),
            },
            v6: bindings::ip6_tnl_encap_ops {
                encap_hlen: Some(encap_hlen::<E>),
                build_header: Some(build_header6::<E>),
                err_handler: Some(err_handler6::<E>),
            },
        }
    }
}

/// `encap_hlen` of `E` (the same for both families; the flags it reads,
/// REMCSUM, are too).
///
/// # Safety
///
/// `e` is the valid encap configuration of a tunnel, as the IP tunnel
/// layer passes it to `encap_hlen` of the ops table this is in.
unsafe extern "C" fn encap_hlen<E: EncapOps>(e: *mut bindings::ip_tunnel_encap) -> usize {
    // SAFETY: the tunnel passes its valid encap configuration.
    E::hlen(&EncapParams::from_c(unsafe { &*e }, Outer::V4))
}

/// Runs `E::build_header` and stores the outer protocol in `protocol`.
///
/// # Safety
///
/// The pointers are those a tunnel's transmit path passes to
/// `build_header`: a packet it owns and lends for the call, its encap
/// configuration, the inner protocol, all valid for the call.
#[inline(always)]
unsafe fn build<E: EncapOps>(
    skb: *mut bindings::sk_buff,
    e: *mut bindings::ip_tunnel_encap,
    protocol: *mut u8,
    outer: Outer,
    flow: Flow,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let (mut skb, e, proto) = unsafe { (SkBuff::from_raw(skb), EncapParams::from_c(&*e, outer), &mut *protocol) };
    match E::build_header(&mut skb, &e, *proto, &flow) {
        Ok(p) => {
            *proto = p;
            0
        }
        Err(err) => err.to_errno(),
    }
}

/// `build_header` of `E` for IPv4 tunnels.
///
/// # Safety
///
/// The arguments are those an IPv4 tunnel's transmit path passes to
/// `build_header`: a packet it owns and lends for the call, its encap
/// configuration, the inner protocol to update, and the route's flow, all
/// valid for the call.
unsafe extern "C" fn build_header<E: EncapOps>(
    skb: *mut bindings::sk_buff,
    e: *mut bindings::ip_tunnel_encap,
    protocol: *mut u8,
    fl4: *mut bindings::flowi4,
) -> c_int {
    // SAFETY: the IPv4 tunnel passes its route's valid flow.
    let flow = unsafe {
        Flow::V4 {
            saddr: (*fl4).saddr,
            daddr: (*fl4).daddr,
        }
    };
    // SAFETY: the arguments are those of `build_header`.
    unsafe { build::<E>(skb, e, protocol, Outer::V4, flow) }
}

/// `build_header` of `E` for IPv6 tunnels.
///
/// # Safety
///
/// As for [`build_header`], from an IPv6 tunnel (`fl6` an IPv6 flow).
unsafe extern "C" fn build_header6<E: EncapOps>(
    skb: *mut bindings::sk_buff,
    e: *mut bindings::ip_tunnel_encap,
    protocol: *mut u8,
    fl6: *mut bindings::flowi6,
) -> c_int {
    // SAFETY: the IPv6 tunnel passes its route's valid flow; every bit
    // pattern of an `in6_addr` union is a valid byte array.
    let flow = unsafe {
        Flow::V6 {
            saddr: (*fl6).saddr.in6_u.u6_addr8,
            daddr: (*fl6).daddr.in6_u.u6_addr8,
        }
    };
    // SAFETY: the arguments are those of `build_header`.
    unsafe { build::<E>(skb, e, protocol, Outer::V6, flow) }
}

/// Runs `E::err` on a quoted packet.
///
/// # Safety
///
/// `skb` is the packet the ICMP receive path lends for the call.
unsafe fn err<E: EncapOps>(skb: *mut bindings::sk_buff, icmp: IcmpError<'_>) -> c_int {
    // SAFETY: guaranteed by the caller.
    let mut skb = unsafe { SkBuff::from_raw(skb) };
    match E::err(&mut skb, &icmp) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `err_handler` of `E` for IPv4 tunnels.
///
/// # Safety
///
/// `skb` is the quoted packet the ICMP receive path lends to an IPv4
/// protocol's `err_handler`, `data` at the quoted IP header and the ICMP
/// header pulled just before it.
unsafe extern "C" fn err_handler<E: EncapOps>(skb: *mut bindings::sk_buff, info: u32) -> c_int {
    // SAFETY: the ICMP receive path lends us its packet for the call.
    unsafe { err::<E>(skb, IcmpError::v4(info)) }
}

/// `err_handler` of `E` for IPv6 tunnels.
///
/// # Safety
///
/// The arguments are those the ICMPv6 receive path passes to an IPv6
/// protocol's `err_handler`, valid for the call, with the ICMPv6 header
/// pulled just before `data`.
unsafe extern "C" fn err_handler6<E: EncapOps>(
    skb: *mut bindings::sk_buff,
    opt: *mut bindings::inet6_skb_parm,
    type_: u8,
    code: u8,
    offset: c_int,
    info: u32,
) -> c_int {
    // SAFETY: the arguments the ICMPv6 receive path passed us; `opt` is
    // valid for the call, which `icmp` does not outlive.
    let icmp = unsafe { IcmpError::v6(opt, type_, code, offset, info) };
    // SAFETY: the ICMPv6 receive path lends us its packet for the call.
    unsafe { err::<E>(skb, icmp) }
}

/// The encapsulation slots fou-rs fills.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Slot {
    /// `TUNNEL_ENCAP_FOU`: `encap fou`.
    Fou,
    /// `TUNNEL_ENCAP_GUE`: `encap gue`.
    Gue,
}

// Both slot numbers index the kernel's tables of `MAX_IPTUN_ENCAP_OPS`.
const _: () = assert!(
    bindings::tunnel_encap_types_TUNNEL_ENCAP_FOU < bindings::MAX_IPTUN_ENCAP_OPS
        && bindings::tunnel_encap_types_TUNNEL_ENCAP_GUE < bindings::MAX_IPTUN_ENCAP_OPS
);

impl Slot {
    /// The slot number, below `MAX_IPTUN_ENCAP_OPS`.
    fn num(self) -> c_uint {
        match self {
            Slot::Fou => bindings::tunnel_encap_types_TUNNEL_ENCAP_FOU,
            Slot::Gue => bindings::tunnel_encap_types_TUNNEL_ENCAP_GUE,
        }
    }

    /// The name `ip link` uses for it.
    fn name(self) -> &'static str {
        match self {
            Slot::Fou => "fou",
            Slot::Gue => "gue",
        }
    }
}

/// An ops table registered in its slot of both families; unregistered
/// when dropped.
///
/// # Invariants
///
/// `ops.v4` is registered in the IPv4 slot `slot`, `ops.v6` in the IPv6 one.
pub(crate) struct EncapRegistration {
    ops: &'static OpsTable,
    slot: Slot,
}

impl EncapRegistration {
    /// Registers `ops` in `slot` for IPv4 and IPv6 tunnels. `EBUSY` when
    /// another module (the C `fou.ko` or `fou6.ko`) holds either slot:
    /// `ip_tunnel_encap_add_ops` answers -1, not an errno, for that, and the
    /// IPv6 slot is found taken. Nothing stays registered on error.
    ///
    /// The IPv6 slot is claimed on the table itself, with the compare and
    /// exchange of `ip6_tnl_encap_add_ops`: that function lives in
    /// `ip6_tunnel.ko`, which a module calling it would load (and with it an
    /// `ip6tnl0` device in every namespace); the table lives in the built-in
    /// part of the kernel, beside the IPv4 one. IPv6 tunnels find the ops
    /// there once `ip6_tunnel` is loaded, by whoever creates one.
    pub(crate) fn register(ops: &'static OpsTable, slot: Slot) -> Result<Self> {
        // SAFETY: `ops` is static; the slot number is in range.
        if unsafe { bindings::ip_tunnel_encap_add_ops(&ops.v4, slot.num()) } != 0 {
            pr_err!(
                "the IPv4 tunnel encap slot \"{}\" is held by another module (the C fou.ko?); unload it first\n",
                slot.name()
            );
            return Err(EBUSY);
        }
        // SAFETY: the slot number is in range (`Slot::num`); `ops.v6` is
        // static, so it outlives its place in the table.
        let held = unsafe {
            bindings::fou_rs_ip6tun_encaps_cmpxchg(slot.num(), core::ptr::null(), &ops.v6)
        };
        if !held.is_null() {
            pr_err!(
                "the IPv6 tunnel encap slot \"{}\" is held by another module (the C fou6.ko?); unload it first\n",
                slot.name()
            );
            // SAFETY: registered just above.
            unsafe { bindings::ip_tunnel_encap_del_ops(&ops.v4, slot.num()) };
            return Err(EBUSY);
        }
        // INVARIANT: both registered just now.
        Ok(EncapRegistration { ops, slot })
    }
}

impl Drop for EncapRegistration {
    fn drop(&mut self) {
        // SAFETY: registered (type invariant): the IPv6 slot holds `ops.v6`
        // until this exchange, whose result is ours to ignore as
        // `ip6_tnl_encap_del_ops`'s is. `synchronize_net` then waits for the
        // packets using it; `ip_tunnel_encap_del_ops` waits likewise. None
        // runs after.
        unsafe {
            bindings::fou_rs_ip6tun_encaps_cmpxchg(
                self.slot.num(),
                &self.ops.v6,
                core::ptr::null(),
            );
            bindings::synchronize_net();
            bindings::ip_tunnel_encap_del_ops(&self.ops.v4, self.slot.num());
        }
    }
}
