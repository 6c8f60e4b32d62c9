// SPDX-License-Identifier: GPL-2.0

//! The tunnel metadata a packet carries through a collect_md (`external`)
//! tunnel (`struct ip_tunnel_info`, include/net/ip_tunnels.h), and the C
//! entry points of the BPF kfuncs that read and write its encapsulation
//! (src/bindings/kfuncs.c declares them to BPF; their logic is the
//! protocol's, behind [`EncapKfuncs`]).

use crate::bindings;
use core::{
    marker::PhantomData, //
    ptr::NonNull,
};
use kernel::prelude::*;

/// The encapsulation tunnel metadata asks for (`enum tunnel_encap_types`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EncapType {
    /// `TUNNEL_ENCAP_NONE`.
    None,
    /// `TUNNEL_ENCAP_FOU`.
    Fou,
    /// `TUNNEL_ENCAP_GUE`.
    Gue,
}

impl EncapType {
    /// The C value.
    fn raw(self) -> u16 {
        let v = match self {
            EncapType::None => bindings::tunnel_encap_types_TUNNEL_ENCAP_NONE,
            EncapType::Fou => bindings::tunnel_encap_types_TUNNEL_ENCAP_FOU,
            EncapType::Gue => bindings::tunnel_encap_types_TUNNEL_ENCAP_GUE,
        };
        // CAST: the three values are 0, 1 and 2; `ip_tunnel_encap::type` is
        // a `u16`.
        v as u16
    }
}

/// The UDP ports of an encapsulation, each in network byte order, as BPF
/// programs pass them (`struct bpf_fou_encap`); 0 as the source port means
/// one chosen from the flow, as `encap-sport auto` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EncapPorts {
    /// The source port (network byte order).
    pub(crate) sport: u16,
    /// The destination port (network byte order).
    pub(crate) dport: u16,
}

/// A packet's tunnel metadata, borrowed for one call of a kfunc.
///
/// # Invariants
///
/// `ptr` points to the `ip_tunnel_info` of the packet a TC program runs on,
/// valid for `'a`, and nothing else reads or writes it during `'a` (the
/// program runs to its end on one CPU with bottom halves off, and the
/// metadata belongs to the packet it runs on).
pub(crate) struct TunnelInfo<'a> {
    ptr: NonNull<bindings::ip_tunnel_info>,
    _p: PhantomData<&'a mut bindings::ip_tunnel_info>,
}

impl<'a> TunnelInfo<'a> {
    /// Tunnel metadata of one's own (KUnit: the kfuncs' logic without a
    /// packet). Sound for any `info`: the borrow is exclusive.
    #[cfg(CONFIG_KUNIT = "y")]
    pub(crate) fn from_mut(info: &'a mut bindings::ip_tunnel_info) -> Self {
        // INVARIANT: a unique borrow is valid and untouched by others for 'a.
        TunnelInfo {
            ptr: NonNull::from(info),
            _p: PhantomData,
        }
    }

    /// Whether the metadata is for transmit (`IP_TUNNEL_INFO_TX`), as set by
    /// `bpf_skb_set_tunnel_key`, rather than what a packet was received with.
    pub(crate) fn is_tx(&self) -> bool {
        // SAFETY: `ptr` is valid for reads (type invariant).
        let mode = unsafe { (*self.ptr.as_ptr()).mode };
        u32::from(mode) & bindings::IP_TUNNEL_INFO_TX != 0
    }

    /// Whether the tunnel key asks for checksums (`IP_TUNNEL_CSUM_BIT`).
    pub(crate) fn csum(&self) -> bool {
        // SAFETY: `ptr` is valid for reads (type invariant).
        unsafe { bindings::fou_rs_tunnel_info_csum(self.ptr.as_ptr()) }
    }

    /// Sets the encapsulation type.
    pub(crate) fn set_encap_type(&mut self, ty: EncapType) {
        // SAFETY: `ptr` is valid for writes and not used by anything else
        // while `self` lives (type invariant).
        unsafe { (*self.ptr.as_ptr()).encap.type_ = ty.raw() };
    }

    /// Adds `TUNNEL_ENCAP_FLAG_CSUM` to the encapsulation flags, keeping the
    /// others.
    pub(crate) fn add_encap_csum(&mut self) {
        // CAST: the flag is 1; `ip_tunnel_encap::flags` is a `u16`.
        let flag = bindings::TUNNEL_ENCAP_FLAG_CSUM as u16;
        // SAFETY: as in `set_encap_type`.
        unsafe { (*self.ptr.as_ptr()).encap.flags |= flag };
    }

    /// The encapsulation's ports.
    pub(crate) fn encap_ports(&self) -> EncapPorts {
        // SAFETY: `ptr` is valid for reads (type invariant).
        let e = unsafe { &(*self.ptr.as_ptr()).encap };
        EncapPorts {
            sport: e.sport,
            dport: e.dport,
        }
    }

    /// Sets the encapsulation's ports.
    pub(crate) fn set_encap_ports(&mut self, ports: EncapPorts) {
        // SAFETY: as in `set_encap_type`.
        let e = unsafe { &mut (*self.ptr.as_ptr()).encap };
        e.sport = ports.sport;
        e.dport = ports.dport;
    }
}

/// The two kfuncs of fou.ko, implemented by the protocol.
pub(crate) trait EncapKfuncs {
    /// `bpf_skb_set_fou_encap`: `info` is the packet's tunnel metadata, if
    /// it has any; `ports` is `None` when the program passed NULL.
    fn set_encap(info: Option<TunnelInfo<'_>>, ports: Option<EncapPorts>, ty: c_int) -> Result;

    /// `bpf_skb_get_fou_encap`: the ports to hand back to the program.
    fn get_encap(info: Option<TunnelInfo<'_>>) -> Result<EncapPorts>;
}

/// The tunnel metadata of `skb`, if it has any.
///
/// # Safety
///
/// `skb` is the packet of a running TC program, valid for `'a`.
unsafe fn tunnel_info<'a>(skb: *mut bindings::sk_buff) -> Option<TunnelInfo<'a>> {
    // SAFETY: `skb` is a valid packet (caller).
    let ptr = NonNull::new(unsafe { bindings::skb_tunnel_info(skb) })?;
    // INVARIANT: the metadata is the packet's (its dst's), valid while the
    // program runs on it, and only that program touches it then (caller).
    Some(TunnelInfo {
        ptr,
        _p: PhantomData,
    })
}

/// The body of `bpf_skb_set_fou_encap`.
///
/// # Safety
///
/// `skb` is the packet of the running TC program that called the kfunc
/// (the verifier passes the program's context); `ports` is NULL or points
/// to a `struct bpf_fou_encap` readable for the call.
pub(crate) unsafe fn set_encap<K: EncapKfuncs>(
    skb: *mut bindings::sk_buff,
    ports: *const bindings::bpf_fou_encap,
    ty: c_int,
) -> c_int {
    // SAFETY: `ports` is NULL or valid for reads (caller).
    let ports = unsafe { ports.as_ref() }.map(|p| EncapPorts {
        sport: p.sport,
        dport: p.dport,
    });
    // SAFETY: `skb` is the running program's packet (caller).
    let info = unsafe { tunnel_info(skb) };
    match K::set_encap(info, ports, ty) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// The body of `bpf_skb_get_fou_encap`.
///
/// # Safety
///
/// `skb` is as for [`set_encap`]; `ports` is NULL or points to a
/// `struct bpf_fou_encap` writable for the call.
pub(crate) unsafe fn get_encap<K: EncapKfuncs>(skb: *mut bindings::sk_buff, ports: *mut bindings::bpf_fou_encap) -> c_int {
    // SAFETY: `skb` is the running program's packet (caller).
    let info = unsafe { tunnel_info(skb) };
    let found = match K::get_encap(info) {
        Ok(found) => found,
        Err(e) => return e.to_errno(),
    };
    // SAFETY: `ports` is NULL or valid for writes (caller). (The verifier
    // never passes NULL: the argument is not nullable.)
    match unsafe { ports.as_mut() } {
        Some(p) => {
            p.sport = found.sport;
            p.dport = found.dport;
            0
        }
        None => EINVAL.to_errno(),
    }
}

/// Defines the Rust bodies the C kfuncs of src/bindings/kfuncs.c call,
/// `fou_rs_kfunc_set_encap` and `fou_rs_kfunc_get_encap`, for the
/// [`EncapKfuncs`] implementation `$k`.
macro_rules! export_encap_kfuncs {
    ($k:ty) => {
        /// Called by `bpf_skb_set_fou_encap` (src/bindings/kfuncs.c).
        ///
        /// # Safety
        ///
        /// As for [`crate::net::tunnel::set_encap`]: the C kfunc passes the
        /// arguments the verifier checked.
        #[no_mangle]
        unsafe extern "C" fn fou_rs_kfunc_set_encap(
            skb: *mut $crate::bindings::sk_buff,
            ports: *const $crate::bindings::bpf_fou_encap,
            ty: ::kernel::ffi::c_int,
        ) -> ::kernel::ffi::c_int {
            // SAFETY: the caller's guarantees are `set_encap`'s.
            unsafe { $crate::net::tunnel::set_encap::<$k>(skb, ports, ty) }
        }

        /// Called by `bpf_skb_get_fou_encap` (src/bindings/kfuncs.c).
        ///
        /// # Safety
        ///
        /// As for [`crate::net::tunnel::get_encap`].
        #[no_mangle]
        unsafe extern "C" fn fou_rs_kfunc_get_encap(
            skb: *mut $crate::bindings::sk_buff,
            ports: *mut $crate::bindings::bpf_fou_encap,
        ) -> ::kernel::ffi::c_int {
            // SAFETY: the caller's guarantees are `get_encap`'s.
            unsafe { $crate::net::tunnel::get_encap::<$k>(skb, ports) }
        }
    };
}
pub(crate) use export_encap_kfuncs;

/// The kfunc set registered for TC programs (`BPF_PROG_TYPE_SCHED_CLS`).
///
/// Registered for the module's life: the kernel keeps a module's kfunc sets
/// with its BTF and drops them when the module goes, so there is nothing to
/// unregister (fou.ko has no unregister either). A no-op on kernels without
/// BPF.
pub(crate) struct KfuncRegistration;

impl KfuncRegistration {
    /// Registers `bpf_skb_set_fou_encap` and `bpf_skb_get_fou_encap`.
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: `fou_rs_kfunc_set` is a static of src/bindings/kfuncs.c,
        // its set filled in by resolve_btfids at link time.
        kernel::error::to_result(unsafe {
            bindings::register_btf_kfunc_id_set(
                bindings::bpf_prog_type_BPF_PROG_TYPE_SCHED_CLS,
                core::ptr::addr_of!(bindings::fou_rs_kfunc_set),
            )
        })?;
        Ok(KfuncRegistration)
    }
}
