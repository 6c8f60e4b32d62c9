// SPDX-License-Identifier: GPL-2.0

//! Socket buffers: a received packet its receive callback owns until its
//! verdict ([`RxSkb`], with the decapsulation steps), and a packet the stack
//! lends for one transmit or error-handling step ([`SkBuff`]).
//!
//! Only the operations FOU needs, each the sequence of C calls that
//! net/ipv4/fou_core.c makes for it.

use crate::bindings;
use crate::net::inet::Family;
use crate::net::encap::Flow;
use crate::net::errno::check;
use core::{
    cell::Cell, //
    ffi::c_void,
    marker::PhantomData,
    ptr::NonNull,
    sync::atomic::{
        AtomicPtr, //
        Ordering,
    },
};
use kernel::prelude::*;

/// An ICMP or ICMPv6 error being handled: what the inner protocol's error
/// handler needs besides the packet. Made only by the error handlers of
/// this layer, from what the ICMP receive path passed them; the protocol
/// side passes it on, unopened.
pub(crate) struct IcmpError<'a>(IcmpKind<'a>);

/// The arguments of an error handler, by family.
enum IcmpKind<'a> {
    /// An ICMP error (`net_protocol::err_handler`).
    V4 {
        /// The `info` of the error (the next-hop MTU of "fragmentation
        /// needed").
        info: u32,
    },
    /// An ICMPv6 error (`inet6_protocol::err_handler`); a kernel without
    /// IPv6 makes none, and has no handler to pass one to.
    #[cfg_attr(not(CONFIG_IPV6), allow(dead_code))]
    V6 {
        /// The IPv6 control block of the error's packet, passed through.
        opt: *mut bindings::inet6_skb_parm,
        /// ICMPv6 type.
        type_: u8,
        /// ICMPv6 code.
        code: u8,
        /// Offset of the quoted transport header, passed through.
        offset: c_int,
        /// The `info` of the error, network order.
        info: u32,
        /// `opt` is lent for the handler call only.
        _p: PhantomData<&'a mut bindings::inet6_skb_parm>,
    },
}

impl<'a> IcmpError<'a> {
    /// The arguments of an IPv4 `err_handler`.
    pub(super) fn v4(info: u32) -> Self {
        IcmpError(IcmpKind::V4 { info })
    }

    /// The arguments of an IPv6 `err_handler`.
    ///
    /// # Safety
    ///
    /// They are those the ICMPv6 receive path passed to an `err_handler`,
    /// and `opt` stays valid for `'a`.
    pub(super) unsafe fn v6(
        opt: *mut bindings::inet6_skb_parm,
        type_: u8,
        code: u8,
        offset: c_int,
        info: u32,
    ) -> Self {
        IcmpError(IcmpKind::V6 {
            opt,
            type_,
            code,
            offset,
            info,
            _p: PhantomData,
        })
    }
}

/// The size of an ICMP or ICMPv6 header, which the ICMP receive path pulled
/// just before `data` when it calls an error handler.
const ICMP_HLEN: c_int = 8;

/// A remote checksum offload option of a received GUE header: the inner
/// checksum to complete, relative to the inner packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RemCsum {
    /// Where the checksummed data starts.
    pub(crate) start: u16,
    /// Where the checksum field is.
    pub(crate) offset: u16,
    /// Complete the checksum now instead of leaving it partial.
    pub(crate) nopartial: bool,
}

/// Why a pull of encapsulation headers failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PullError {
    /// The packet, or its outer IP length, is shorter than the header.
    Short,
    /// The remote checksum offload option points outside the packet.
    RemCsum,
    /// Unsharing the packet to clear its offload state failed.
    NoMem,
}

/// Why a packet is dropped: the kernel's drop reasons (`enum
/// skb_drop_reason`) that tunnel receive paths use, shown by the
/// `skb:kfree_skb` tracepoint, `perf trace` and dropwatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DropReason {
    /// `SKB_DROP_REASON_PKT_TOO_SMALL`: shorter than its headers say.
    PktTooSmall,
    /// `SKB_DROP_REASON_UNHANDLED_PROTO`: a version, flag or message type
    /// the receiver does not implement.
    UnhandledProto,
    /// `SKB_DROP_REASON_IP_NOPROTO`: no inner protocol to hand it to.
    IpNoProto,
    /// `SKB_DROP_REASON_SKB_CSUM`: a checksum to complete that cannot be.
    SkbCsum,
    /// `SKB_DROP_REASON_NOMEM`: memory ran out.
    NoMem,
    /// `SKB_DROP_REASON_SOCKET_CLOSE`: the receiving socket is closing.
    SocketClose,
}

impl DropReason {
    /// The C value.
    pub(super) fn raw(self) -> bindings::skb_drop_reason {
        match self {
            DropReason::PktTooSmall => bindings::skb_drop_reason_SKB_DROP_REASON_PKT_TOO_SMALL,
            DropReason::UnhandledProto => bindings::skb_drop_reason_SKB_DROP_REASON_UNHANDLED_PROTO,
            DropReason::IpNoProto => bindings::skb_drop_reason_SKB_DROP_REASON_IP_NOPROTO,
            DropReason::SkbCsum => bindings::skb_drop_reason_SKB_DROP_REASON_SKB_CSUM,
            DropReason::NoMem => bindings::skb_drop_reason_SKB_DROP_REASON_NOMEM,
            DropReason::SocketClose => bindings::skb_drop_reason_SKB_DROP_REASON_SOCKET_CLOSE,
        }
    }
}

/// Where `ip_summed` lies in its byte (see `SkBuff::pkt_type_byte`): after
/// `pkt_type:3, ignore_df:1, dst_pending_confirm:1`, counted from the
/// least significant bit on little-endian machines, from the most
/// significant one on big-endian ones.
const IP_SUMMED_SHIFT: u8 = if cfg!(target_endian = "big") { 1 } else { 5 };

/// A packet the stack lends for the duration of a callback.
///
/// # Invariants
///
/// `ptr` is a valid `sk_buff` that this value may read and modify for `'a`.
pub(crate) struct SkBuff<'a> {
    ptr: NonNull<bindings::sk_buff>,
    _p: PhantomData<&'a mut bindings::sk_buff>,
}

impl<'a> SkBuff<'a> {
    /// Wraps a packet handed to a callback.
    ///
    /// # Safety
    ///
    /// `ptr` is a valid `sk_buff` (not NULL) the caller may let this value
    /// read and modify for `'a`, and nothing else touches it meanwhile.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::sk_buff) -> Self {
        // INVARIANT: guaranteed by the caller.
        SkBuff {
            // SAFETY: not NULL, guaranteed by the caller.
            ptr: unsafe { NonNull::new_unchecked(ptr) },
            _p: PhantomData,
        }
    }

    /// Bytes in the packet from `data` on.
    pub(crate) fn len(&self) -> u32 {
        self.fields().0
    }

    /// The packet's `sk_buff`, to read its plain fields.
    #[inline(always)]
    fn raw(&self) -> &bindings::sk_buff {
        // SAFETY: `ptr` is valid, and nothing else touches it while `self`
        // lives (type invariant).
        unsafe { self.ptr.as_ref() }
    }

    /// `len` and `data_len`: the packet's bytes from `data` on, and those
    /// of them outside the linear area.
    #[inline(always)]
    fn fields(&self) -> (u32, u32) {
        (self.raw().len, self.raw().data_len)
    }

    /// The bytes before `data` in the buffer (`skb_headroom`): `data` lies
    /// at or after `head`.
    #[inline(always)]
    fn headroom(&self) -> usize {
        // A valid packet's `data` is at or after `head` (as C, no check).
        (self.raw().data as usize).wrapping_sub(self.raw().head as usize)
    }

    /// Bytes in the linear area from `data` on (`skb_headlen`).
    ///
    /// This and the other field accessors below do in Rust what the
    /// kernel's static inline helpers do, rather than call them through
    /// out-of-line wrappers: they run on every packet.
    #[inline]
    fn headlen(&self) -> u32 {
        let (len, data_len) = self.fields();
        // A valid packet's `len` counts its `data_len` (as C, no check: one
        // per call on every packet with overflow checks on).
        len.wrapping_sub(data_len)
    }

    /// The `headers` group of the packet: its header offsets, checksum
    /// fields and bit fields (offload flags: bindgen's accessors for one-bit
    /// fields compile to one instruction; the `fou_rs_skb` KUnit suite
    /// checks that bindgen places the bits where GCC does).
    #[inline]
    fn headers(&self) -> *mut bindings::sk_buff__bindgen_ty_4__bindgen_ty_1 {
        // SAFETY: `ptr` is valid (type invariant); only an address is
        // taken: that of the struct_group's union, whose members all start
        // at its start, as its anonymous member's.
        unsafe { (&raw mut (*self.ptr.as_ptr()).__bindgen_anon_4).cast() }
    }

    /// The packet's checksum state (`ip_summed`: CHECKSUM_NONE,
    /// _UNNECESSARY, _COMPLETE or _PARTIAL). A two-bit field, read from its
    /// byte: bindgen's accessors for fields wider than a bit loop over the
    /// bits.
    #[inline]
    fn ip_summed(&self) -> u8 {
        (self.pkt_type_byte().get() >> IP_SUMMED_SHIFT) & 3
    }

    /// Sets the packet's checksum state (see [`SkBuff::ip_summed`]).
    #[inline]
    fn set_ip_summed(&mut self, v: u8) {
        let b = self.pkt_type_byte();
        b.set((b.get() & !(3 << IP_SUMMED_SHIFT)) | ((v & 3) << IP_SUMMED_SHIFT));
    }

    /// The byte that starts the `headers` group's bit fields: `pkt_type`,
    /// `ignore_df`, `dst_pending_confirm`, `ip_summed`, `ooo_okay`, in every
    /// configuration (the kernel's BPF code reads `pkt_type` there,
    /// `PKT_TYPE_OFFSET`). The `fou_rs_skb` KUnit suite checks `ip_summed`'s
    /// bits against GCC's.
    #[inline]
    fn pkt_type_byte(&self) -> &Cell<u8> {
        // SAFETY: `ptr` is valid, and ours while `self` is borrowed (type
        // invariant); the byte follows a zero-length marker field of the
        // packet. A `Cell` allows no reference into it.
        unsafe { &*(&raw const (*self.headers()).__pkt_type_offset).cast::<Cell<u8>>() }
    }

    /// Makes `data` the transport header (`skb_reset_transport_header`).
    #[inline]
    pub(crate) fn reset_transport_header(&mut self) {
        let skb = self.ptr.as_ptr();
        // SAFETY: `skb` is valid and ours (type invariant); `data` lies in
        // the buffer that starts at `head`.
        unsafe {
            let off = (*skb).data.offset_from((*skb).head);
            // CAST: header offsets are 16 bits in `sk_buff`; the kernel
            // makes the same truncation (with a debug warning only).
            (*self.headers()).transport_header = off as u16;
        }
    }

    /// Whether the packet is a GSO super-packet (`skb_is_gso`).
    #[inline]
    pub(crate) fn is_gso(&self) -> bool {
        let skb = self.ptr.as_ptr();
        // SAFETY: `skb` is valid (type invariant); its shared info lies
        // `end` bytes after `head` (`skb_shinfo`, offsets on 64-bit).
        unsafe {
            let shinfo = (*skb).head.add((*skb).end as usize).cast::<bindings::skb_shared_info>();
            (*shinfo).gso_size != 0
        }
    }

    /// Whether the packet waits for a checksum to be filled in
    /// (CHECKSUM_PARTIAL).
    #[inline]
    pub(crate) fn csum_partial(&self) -> bool {
        u32::from(self.ip_summed()) == bindings::CHECKSUM_PARTIAL
    }

    /// For a CHECKSUM_PARTIAL packet: where the checksummed data starts,
    /// from `data` (negative when before it, `skb_checksum_start_offset`),
    /// and the checksum field's offset from there.
    #[inline(always)]
    pub(crate) fn csum_start_offset(&self) -> (c_int, u16) {
        // CAST: less than 64 KiB (header offsets are 16 bits).
        let headroom = self.headroom() as c_int;
        let h = self.headers();
        // SAFETY: `ptr` is valid (type invariant); `csum_start` and
        // `csum_offset` share a union member with `csum`, plain integers
        // whatever the checksum state.
        let c = unsafe { &(*h).__bindgen_anon_1.__bindgen_anon_1 };
        // No overflow: both are less than 64 KiB.
        (c_int::from(c.csum_start).wrapping_sub(headroom), c.csum_offset)
    }

    /// Leaves the inner checksum to the receiver (remote checksum offload
    /// of a packet that is not GSO): no checksum offload state on the way
    /// out.
    #[inline]
    pub(crate) fn csum_none(&mut self) {
        self.set_ip_summed(bindings::CHECKSUM_NONE as u8);
        self.clear_encapsulation();
    }

    /// `skb->encapsulation = 0`: the inner headers are no longer valid.
    #[inline]
    fn clear_encapsulation(&mut self) {
        // SAFETY: `ptr` is valid and ours (type invariant).
        unsafe { (*self.headers()).set_encapsulation(0) };
    }

    /// Prepares the offload state of a packet about to be encapsulated in
    /// UDP (`iptunnel_handle_offloads`), the GSO type telling whether the
    /// outer UDP checksum is computed.
    ///
    /// `remcsum` adds `SKB_GSO_TUNNEL_REMCSUM`: segments carry a remote
    /// checksum offload option instead of an inner checksum.
    #[inline]
    pub(crate) fn handle_udp_tunnel_offloads(&mut self, csum: bool, remcsum: bool) -> Result {
        let mut gso = if csum {
            bindings::SKB_GSO_UDP_TUNNEL_CSUM
        } else {
            bindings::SKB_GSO_UDP_TUNNEL
        };
        if remcsum {
            gso |= bindings::SKB_GSO_TUNNEL_REMCSUM;
        }
        // CAST: the `SKB_GSO_*` bits fit in an int (bit 13 at most here).
        let gso = gso as c_int;
        // SAFETY: `ptr` is valid and ours (type invariant).
        let ret = unsafe { bindings::iptunnel_handle_offloads(self.ptr.as_ptr(), gso) };
        check(ret)
    }

    /// The source port `udp_flow_src_port` picks for this packet's flow, in
    /// host order.
    #[inline]
    pub(crate) fn flow_src_port(&self) -> u16 {
        // SAFETY: `ptr` is valid (type invariant) and on its way out of a
        // device, so `skb->dev` is set.
        u16::from_be(unsafe { bindings::fou_rs_flow_src_port(self.ptr.as_ptr()) })
    }

    /// Puts `header` in front of the packet and makes it the transport
    /// header. The caller reserved the room through `encap_hlen`.
    ///
    /// Inlined, so that a header of a size known at compile time is
    /// copied without a call.
    #[inline]
    pub(crate) fn push_transport_header(&mut self, header: &[u8]) {
        self.push(header);
        self.reset_transport_header();
    }

    /// Puts `header` in front of the packet. The caller reserved the room
    /// through `encap_hlen`.
    #[inline]
    pub(crate) fn push(&mut self, header: &[u8]) {
        let skb = self.ptr.as_ptr();
        // CAST: encapsulation headers are a few dozen bytes.
        let n = header.len() as u32;
        // SAFETY: `skb` is valid and ours; the tunnel reserved headroom of
        // `encap_hlen` bytes, which is at least `header.len()`, so
        // `skb_push` returns `n` writable bytes.
        unsafe {
            let p = bindings::skb_push(skb, n).cast::<u8>();
            core::ptr::copy_nonoverlapping(header.as_ptr(), p, header.len());
        }
    }

    /// Sets the checksum of the UDP header at the transport header
    /// (`udp_set_csum`, `udp6_set_csum`): none when `nocheck`, else
    /// computed or offloaded over the pseudo-header of `flow`.
    #[inline]
    pub(crate) fn udp_set_csum(&mut self, nocheck: bool, flow: &Flow) {
        let len = self.len();
        // CAST: the functions take the length as an int; packets are far
        // below 2 GiB.
        let len = len as c_int;
        let skb = self.ptr.as_ptr();
        let addr = |a| bindings::in6_addr {
            in6_u: bindings::in6_addr__bindgen_ty_1 { u6_addr8: a },
        };
        // SAFETY: `skb` is valid and ours, with a UDP header at its
        // transport header (pushed by the caller); the IPv6 addresses are
        // read during the call.
        unsafe {
            match *flow {
                Flow::V4 { saddr, daddr } => bindings::udp_set_csum(nocheck, skb, saddr, daddr, len),
                Flow::V6 { saddr, daddr } => bindings::udp6_set_csum(nocheck, skb, &addr(saddr), &addr(daddr), len),
            }
        }
    }

    /// The offset of the transport header from `data` (may be negative).
    pub(crate) fn transport_offset(&self) -> c_int {
        // SAFETY: `ptr` is valid (type invariant).
        unsafe { bindings::skb_transport_offset(self.ptr.as_ptr()) }
    }

    /// Copies `out.len()` bytes at `offset` from `data` into `out`, first
    /// pulling them into the linear area. `EINVAL` when the packet is
    /// shorter. Copying, not borrowing, keeps no pointer across a pull that
    /// may move the buffer.
    #[inline]
    pub(crate) fn read(&mut self, offset: usize, out: &mut [u8]) -> Result {
        let end = offset.checked_add(out.len()).ok_or(EINVAL)?;
        let end = u32::try_from(end).map_err(|_| EINVAL)?;
        let linear = end <= self.headlen();
        let skb = self.ptr.as_ptr();
        // SAFETY: `skb` is valid and ours (type invariant). Bytes already
        // linear need no call (`pskb_may_pull`'s own first test); then `end`
        // bytes from `data` are linear, tested or pulled.
        unsafe {
            if !linear && !bindings::pskb_may_pull(skb, end) {
                return Err(EINVAL);
            }
            core::ptr::copy_nonoverlapping((*skb).data.add(offset), out.as_mut_ptr(), out.len())
        };
        Ok(())
    }

    /// Hands an ICMP or ICMPv6 error about this quoted packet to the error
    /// handler of IP protocol `proto` of the error's family; `ENOENT` when
    /// it has none or it declines. The handler reads the ICMP header as the
    /// transport header, as the C module's `gue_err` arranges it; the
    /// packet's own transport header is restored after. Runs under RCU
    /// (ICMP error processing is in softirq context).
    pub(crate) fn proto_err(&mut self, proto: u8, err: &IcmpError<'_>) -> Result {
        let saved = self.transport_offset();
        let _rcu = kernel::sync::rcu::read_lock();
        let skb = self.ptr.as_ptr();
        // SAFETY: `skb` is valid and ours (type invariant). The ICMP header
        // the ICMP receive path pulled lies `ICMP_HLEN` bytes before `data`
        // in the linear area (an `IcmpError` exists only inside an error
        // handler, for the packet it was handed); `saved` is the packet's
        // own offset. The protocol tables are read under `_rcu`; a non-NULL
        // entry is a registered protocol, valid under it, whose handler
        // takes the error's packet, ours for the call, and (IPv6) the
        // arguments our own handler received with it.
        let ret = unsafe {
            bindings::skb_set_transport_header(skb, -ICMP_HLEN);
            let ret = match err.0 {
                IcmpKind::V4 { info } => {
                    match bindings::fou_rs_inet_proto(proto).as_ref().and_then(|p| p.err_handler) {
                        Some(h) => h(skb, info),
                        None => -1,
                    }
                }
                #[cfg(CONFIG_IPV6)]
                IcmpKind::V6 {
                    opt,
                    type_,
                    code,
                    offset,
                    info,
                    ..
                } => match bindings::fou_rs_inet6_proto(proto).as_ref().and_then(|p| p.err_handler) {
                    Some(h) => h(skb, opt, type_, code, offset, info),
                    None => -1,
                },
                // No ICMPv6 without IPv6, and no IPv6 protocol to hand it to.
                #[cfg(not(CONFIG_IPV6))]
                IcmpKind::V6 { .. } => -1,
            };
            bindings::skb_set_transport_header(skb, saved);
            ret
        };
        if ret == 0 {
            Ok(())
        } else {
            Err(ENOENT)
        }
    }
}

/// A received packet its receive callback owns (UDP's `encap_rcv` gives it
/// to be resubmitted or freed): the callback ends it with a verdict,
/// [`RxSkb::resubmit`] or [`RxSkb::drop_for`], each consuming it. The
/// decapsulation steps exist only here: a packet that is only lent (on
/// transmit, or quoted by an ICMP error) cannot be pulled.
///
/// # Invariants
///
/// `0` is a packet given to a receive callback, which this value may read
/// and modify for `'a`, and which nothing else touches meanwhile. Its
/// network header has at least [`MIN_IP_HLEN`] bytes in the buffer (the IP
/// layer pulled the whole header into the linear area before UDP saw the
/// packet; nothing here moves the header or shortens the buffer: pulls move
/// `data` forward, and a reallocation keeps the offsets and bytes).
pub(crate) struct RxSkb<'a>(SkBuff<'a>);

/// The shortest IP header (IPv4's without options; IPv6's is 40 bytes): the
/// network header of a received packet has at least these bytes.
pub(super) const MIN_IP_HLEN: usize = 20;

/// What becomes of a received packet: made only by consuming the packet
/// ([`RxSkb::resubmit`], [`RxSkb::drop_for`]). Held as one integer, so
/// that the receive callback's common path tests one value: `-proto`,
/// below zero, to hand the packet to IP protocol `proto` (what `encap_rcv`
/// returns for it); a drop reason's C value, above zero, to free it; zero
/// (a resubmission to protocol 0, which is none) frees it too.
pub(crate) struct Verdict(c_int);

impl Verdict {
    /// What `encap_rcv` returns to resubmit the packet (`-proto`), or
    /// `None` to free it.
    #[inline(always)]
    pub(super) fn resubmit_to(&self) -> Option<c_int> {
        (self.0 < 0).then_some(self.0)
    }

    /// Why the packet is freed, when it is.
    pub(super) fn drop_reason(&self) -> bindings::skb_drop_reason {
        match u32::try_from(self.0) {
            Ok(0) | Err(_) => DropReason::IpNoProto.raw(),
            Ok(reason) => reason,
        }
    }
}

impl<'a> core::ops::Deref for RxSkb<'a> {
    type Target = SkBuff<'a>;

    fn deref(&self) -> &SkBuff<'a> {
        &self.0
    }
}

impl<'a> core::ops::DerefMut for RxSkb<'a> {
    fn deref_mut(&mut self) -> &mut SkBuff<'a> {
        &mut self.0
    }
}

impl<'a> RxSkb<'a> {
    /// Wraps a packet given to a receive callback.
    ///
    /// # Safety
    ///
    /// `ptr` is a packet (not NULL) the kernel gave to the caller to
    /// resubmit or free, which this value may read and modify for `'a`,
    /// and nothing else touches meanwhile; the caller acts on the verdict.
    /// Its network header is an IP header of at least [`MIN_IP_HLEN`] bytes
    /// in the buffer, as for any packet UDP receives.
    pub(super) unsafe fn from_raw(ptr: *mut bindings::sk_buff) -> Self {
        // INVARIANT: guaranteed by the caller.
        // SAFETY: guaranteed by the caller.
        RxSkb(unsafe { SkBuff::from_raw(ptr) })
    }

    /// The verdict that hands the packet to IP protocol `proto`.
    pub(crate) fn resubmit(self, proto: u8) -> Verdict {
        Verdict(-c_int::from(proto))
    }

    /// The verdict that frees the packet for `reason`, counted in the
    /// socket's drops.
    pub(crate) fn drop_for(self, reason: DropReason) -> Verdict {
        const { assert!(bindings::skb_drop_reason_SKB_DROP_REASON_MAX < c_int::MAX as u32) };
        // CAST: below `c_int::MAX` (checked above); every reason is above 0.
        Verdict(reason.raw() as c_int)
    }

    /// Whether the linear area holds `n` bytes from `data` on.
    #[inline]
    fn is_linear(&self, n: u16) -> bool {
        self.headlen() >= u32::from(n)
    }

    /// Removes `n` bytes from the front of the packet (`__skb_pull`), which
    /// must be linear ([`PullError::Short`] if not, nothing changed).
    #[inline(always)]
    pub(crate) fn pull(&mut self, n: u16) -> Result<(), PullError> {
        if !self.is_linear(n) {
            return Err(PullError::Short);
        }
        let skb = self.0.ptr.as_ptr();
        // SAFETY: `skb` is valid and ours (type invariant); `n` bytes from
        // `data` are linear (checked above), so `len` stays at least
        // `data_len` and `data` within the linear area.
        unsafe {
            // No overflow: `len` is at least the linear `n` (checked above).
            (*skb).len = (*skb).len.wrapping_sub(u32::from(n));
            (*skb).data = (*skb).data.add(usize::from(n));
        }
        Ok(())
    }

    /// Shortens the length field of the packet's network header (IPv4's
    /// total length, IPv6's payload length) by `n`, for a receive path that
    /// hands the packet on under its outer IP header without `n` bytes of
    /// encapsulation. [`PullError::Short`], nothing changed, when the field
    /// is less than `n`.
    #[inline(always)]
    pub(crate) fn shorten_network_len(&mut self, family: Family, n: u16) -> Result<(), PullError> {
        let skb = self.0.ptr.as_ptr();
        let h = self.headers();
        let at = match family {
            Family::Inet => core::mem::offset_of!(bindings::iphdr, tot_len),
            Family::Inet6 => core::mem::offset_of!(bindings::ipv6hdr, payload_len),
        };
        const { assert!(core::mem::offset_of!(bindings::iphdr, tot_len) + 2 <= MIN_IP_HLEN) };
        const { assert!(core::mem::offset_of!(bindings::ipv6hdr, payload_len) + 2 <= MIN_IP_HLEN) };
        // SAFETY: `skb` is valid and ours (type invariant). The field lies in
        // the network header's first `MIN_IP_HLEN` bytes, which are in the
        // buffer (type invariant), whatever the family.
        unsafe {
            let field = (*skb).head.add(usize::from((*h).network_header) + at).cast::<[u8; 2]>();
            let len = u16::from_be_bytes(*field);
            if len < n {
                return Err(PullError::Short);
            }
            *field = len.wrapping_sub(n).to_be_bytes();
        }
        Ok(())
    }

    /// Brings the checksum state past `n` bytes that start `from` bytes from
    /// `data` (negative: before it) and are, or are about to be, pulled
    /// (`skb_postpull_rcsum`): a CHECKSUM_COMPLETE sum loses them; a
    /// CHECKSUM_PARTIAL packet whose checksum starts before `data` becomes
    /// CHECKSUM_NONE. Done here but for the sum (no call in the common
    /// case). [`PullError::Short`], nothing changed, when the bytes are
    /// not in the linear area or the headroom before it.
    #[inline(always)]
    pub(crate) fn postpull_rcsum(&mut self, from: i32, n: u16) -> Result<(), PullError> {
        let summed = u32::from(self.ip_summed());
        if summed == bindings::CHECKSUM_COMPLETE {
            // CAST: the headroom is less than 64 KiB (header offsets are 16
            // bits).
            let (from, end) = (i64::from(from), i64::from(from) + i64::from(n));
            if from < -(self.headroom() as i64) || end > i64::from(self.headlen()) {
                return Err(PullError::Short);
            }
            let skb = self.0.ptr.as_ptr();
            // SAFETY: `skb` is valid and ours (type invariant); the `n` bytes
            // at `data + from` lie between `head` and the end of the linear
            // area (checked above); the call reads them.
            unsafe { bindings::skb_postpull_rcsum(skb, (*skb).data.offset(from as isize).cast(), u32::from(n)) };
        } else if summed == bindings::CHECKSUM_PARTIAL && self.csum_start_offset().0 < 0 {
            // CAST: CHECKSUM_NONE is 0.
            self.set_ip_summed(bindings::CHECKSUM_NONE as u8);
        }
        Ok(())
    }

    /// After a pull that ends the encapsulation: clears the encapsulation
    /// offload state (`iptunnel_pull_offloads`). [`PullError::NoMem`] when
    /// unsharing the packet for it failed.
    #[inline(always)]
    pub(crate) fn pull_offloads(&mut self) -> Result<(), PullError> {
        if self.is_gso() {
            // SAFETY: `ptr` is valid and ours (type invariant).
            check(unsafe { bindings::iptunnel_pull_offloads(self.0.ptr.as_ptr()) }).map_err(|_| PullError::NoMem)
        } else {
            // What `iptunnel_pull_offloads` does for a packet that is not
            // GSO.
            self.clear_encapsulation();
            Ok(())
        }
    }

    /// Completes or records the remote checksum of the inner packet that
    /// starts `hlen` bytes from `data` (`skb_remcsum_process`), unless GRO
    /// already did. [`PullError::RemCsum`], nothing changed, when the
    /// option's bytes are not in the packet.
    #[inline(always)]
    pub(crate) fn remcsum_process(&mut self, hlen: u16, r: RemCsum) -> Result<(), PullError> {
        let skb = self.0.ptr.as_ptr();
        // The checksum field, and the data before `start`, must be in the
        // packet (and linear).
        let need = u32::from(hlen) + u32::from(r.start).max(u32::from(r.offset) + 2);
        // SAFETY: `skb` is valid and ours (type invariant). After the pull,
        // `need` bytes from `data` are linear, which covers the inner
        // packet's first `start` bytes and its checksum field at `offset`:
        // all that `skb_remcsum_process` reads and writes. The pointer is
        // derived after the pull.
        unsafe {
            let h = self.headers();
            if (*h).remcsum_offload() != 0 {
                return Ok(());
            }
            if self.headlen() < need && !bindings::pskb_may_pull(skb, need) {
                return Err(PullError::RemCsum);
            }
            if r.nopartial {
                let inner = (*skb).data.add(usize::from(hlen));
                bindings::skb_remcsum_process(
                    skb,
                    inner.cast(),
                    c_int::from(r.start),
                    c_int::from(r.offset),
                    true,
                );
                return Ok(());
            }
            // `skb_remcsum_adjust_partial`: the inner checksum is left to
            // whoever verifies it, as CHECKSUM_PARTIAL from `start`.
            // CAST: offsets truncated to the 16-bit fields, as in C.
            let headroom = (*skb).data.offset_from((*skb).head) as u16;
            let c = &mut (*h).__bindgen_anon_1.__bindgen_anon_1;
            c.csum_start = headroom.wrapping_add(hlen).wrapping_add(r.start);
            c.csum_offset = r.offset.wrapping_sub(r.start);
        }
        self.set_ip_summed(bindings::CHECKSUM_PARTIAL as u8);
        Ok(())
    }
}

/// The IP protocol table of a family (`inet_protos`, `inet6_protos`): where
/// the IP layer hands a resubmitted packet.
#[derive(Clone, Copy)]
pub(crate) struct Protocols(&'static [AtomicPtr<c_void>; 256]);

/// A table with no protocol in it: IPv6's on a kernel without IPv6.
#[cfg(not(CONFIG_IPV6))]
static NO_PROTOCOLS: [AtomicPtr<c_void>; 256] = [const { AtomicPtr::new(core::ptr::null_mut()) }; 256];

impl Protocols {
    /// The protocol table of `family`.
    pub(crate) fn of(family: Family) -> Self {
        /// The table at `p`, whose entries are pointers written with atomic
        /// instructions (`inet_add_protocol`'s `cmpxchg`), never freed.
        ///
        /// # Safety
        ///
        /// `p` is one of the kernel's protocol tables.
        unsafe fn table<T, const N: usize>(p: *const [*mut T; N]) -> &'static [AtomicPtr<c_void>; 256] {
            const { assert!(N == 256) };
            // SAFETY: the table is static, `N` (256, `MAX_INET_PROTOS`)
            // pointers, which have the layout of `AtomicPtr`, and is only
            // written atomically, one entry at a time.
            unsafe { &*p.cast::<[AtomicPtr<c_void>; 256]>() }
        }
        match family {
            // SAFETY: the IPv4 protocol table.
            Family::Inet => Protocols(unsafe { table(&raw const bindings::inet_protos) }),
            // SAFETY: the IPv6 protocol table.
            #[cfg(CONFIG_IPV6)]
            Family::Inet6 => Protocols(unsafe { table(&raw const bindings::inet6_protos) }),
            #[cfg(not(CONFIG_IPV6))]
            Family::Inet6 => Protocols(&NO_PROTOCOLS),
        }
    }

    /// Whether IP protocol `proto` has a handler registered: where a packet
    /// resubmitted to it goes (without one, the IP layer answers "protocol
    /// unreachable" and drops it, unless a raw socket takes it). A presence
    /// test (`rcu_access_pointer`), valid in any context.
    #[inline]
    pub(crate) fn handled(self, proto: u8) -> bool {
        !self.0[usize::from(proto)].load(Ordering::Relaxed).is_null()
    }
}

#[kunit_tests(fou_rs_skb)]
mod tests {
    use super::*;

    /// Bytes of the test packet: an IPv4 header, a UDP header, 8 bytes.
    const IP_HLEN: usize = 20;
    const PACKET: usize = IP_HLEN + 8 + 8;

    /// A received IPv4 datagram as UDP hands it to `encap_rcv`: linear,
    /// network header set, `data` at the UDP header, CHECKSUM_PARTIAL with
    /// the checksum starting at the UDP header (a locally sent datagram
    /// whose UDP checksum was left to offload). The test's own; freed on
    /// drop.
    struct Received(NonNull<bindings::sk_buff>);

    impl Received {
        fn new() -> Self {
            // SAFETY: allocating has no preconditions; the new packet is
            // empty, linear, of 128 bytes and ours, so 32 bytes of headroom
            // and `PACKET` bytes fit in it.
            let skb = unsafe {
                let skb = bindings::__alloc_skb(128, kernel::bindings::GFP_KERNEL, 0, -1);
                assert!(!skb.is_null());
                (*skb).data = (*skb).data.add(32);
                (*skb).tail += 32;
                let p = bindings::skb_put(skb, PACKET as u32).cast::<u8>();
                core::ptr::write_bytes(p, 0, PACKET);
                *p = 0x45;
                *p.add(2) = 0;
                *p.add(3) = PACKET as u8;
                let h = SkBuff::from_raw(skb).headers();
                (*h).network_header = 32;
                (*skb).data = (*skb).data.add(IP_HLEN);
                (*skb).len -= IP_HLEN as u32;
                bindings::fou_rs_skb_set_ip_summed(skb, bindings::CHECKSUM_PARTIAL as u8);
                (*h).__bindgen_anon_1.__bindgen_anon_1.csum_start = 32 + IP_HLEN as u16;
                (*h).__bindgen_anon_1.__bindgen_anon_1.csum_offset = 6;
                skb
            };
            Received(NonNull::new(skb).unwrap())
        }

        /// Runs `f` on the packet; then the checksum state, where the
        /// checksum starts (from `head`) and its field is (from there), the
        /// IPv4 total length and the packet length after it.
        fn pull(
            &mut self,
            f: impl FnOnce(&mut RxSkb<'_>) -> Result<(), PullError>,
        ) -> Result<(u32, u16, u16, u16, u32), PullError> {
            let skb = self.0.as_ptr();
            // SAFETY: `skb` is ours (see `new`) and lent to `f` only; the
            // IPv4 header is at `head + 32`.
            unsafe {
                let mut s = RxSkb::from_raw(skb);
                f(&mut s)?;
                let c = &(*s.headers()).__bindgen_anon_1.__bindgen_anon_1;
                Ok((
                    u32::from(bindings::fou_rs_skb_ip_summed(skb)),
                    c.csum_start,
                    c.csum_offset,
                    u16::from_be_bytes([*(*skb).head.add(34), *(*skb).head.add(35)]),
                    (*skb).len,
                ))
            }
        }
    }

    impl Drop for Received {
        fn drop(&mut self) {
            // SAFETY: the packet is ours (see `new`) and no longer used.
            unsafe { bindings::kfree_skb(self.0.as_ptr()) };
        }
    }

    #[test]
    fn bit_fields_are_where_gcc_puts_them() {
        let mut raw = core::mem::MaybeUninit::<bindings::sk_buff>::zeroed();
        let skb = raw.as_mut_ptr();
        // SAFETY: `skb` is a zeroed `sk_buff` of our own, never a packet:
        // only its bit fields are read and written, by Rust (bindgen's
        // accessors, as the receive path uses them) and by C.
        let (c_summed, rust_summed, after_csum_none, zeroed) = unsafe {
            let mut s = SkBuff::from_raw(skb);
            let h = s.headers();
            s.set_ip_summed(bindings::CHECKSUM_PARTIAL as u8);
            let c_summed = bindings::fou_rs_skb_ip_summed(skb);
            bindings::fou_rs_skb_set_ip_summed(skb, bindings::CHECKSUM_COMPLETE as u8);
            let rust_summed = s.ip_summed();
            (*h).set_encapsulation(1);
            // C clears both bit fields: nothing else may be left set.
            bindings::fou_rs_skb_csum_none(skb);
            let after = (s.ip_summed(), (*h).encapsulation());
            let bytes = core::slice::from_raw_parts(skb.cast::<u8>(), size_of::<bindings::sk_buff>());
            let zeroed = bytes.iter().all(|b| *b == 0);
            bindings::fou_rs_skb_set_remcsum_offload(skb);
            (c_summed, rust_summed, after, zeroed && (*h).remcsum_offload() == 1)
        };
        assert_eq!(u32::from(c_summed), bindings::CHECKSUM_PARTIAL);
        assert_eq!(u32::from(rust_summed), bindings::CHECKSUM_COMPLETE);
        assert_eq!(after_csum_none, (0, 0));
        assert!(zeroed);
    }

    #[test]
    fn a_checksum_that_starts_before_data_after_the_pull_is_dropped() {
        // `fou_recv_pull`: `skb_postpull_rcsum` after `__skb_pull`.
        let r = Received::new().pull(|s| {
            s.shorten_network_len(Family::Inet, 8)?;
            s.pull(8)?;
            s.postpull_rcsum(-8, 8)
        });
        assert_eq!(r, Ok((bindings::CHECKSUM_NONE, 52, 6, PACKET as u16 - 8, 8)));
    }

    #[test]
    fn before_the_pull_it_is_kept() {
        // `gue_udp_recv`: `skb_postpull_rcsum` before `__skb_pull`.
        let r = Received::new().pull(|s| {
            s.postpull_rcsum(0, 8)?;
            s.pull(8)
        });
        assert_eq!(r, Ok((bindings::CHECKSUM_PARTIAL, 52, 6, PACKET as u16, 8)));
    }

    #[test]
    fn remote_checksum_is_left_partial_from_its_start() {
        // `skb_remcsum_adjust_partial` for the option (start 2, offset 6)
        // of an inner packet after the 8 pulled bytes: the checksum starts
        // at head + 32 + 20 + 8 + 2, its field 4 bytes further.
        let r = RemCsum {
            start: 2,
            offset: 6,
            nopartial: false,
        };
        let got = Received::new().pull(|s| {
            s.remcsum_process(8, r)?;
            s.pull(8)
        });
        assert_eq!(got, Ok((bindings::CHECKSUM_PARTIAL, 62, 4, PACKET as u16, 8)));
    }

    #[test]
    fn what_is_not_there_is_not_pulled_nor_shortened() {
        // 16 bytes from `data`, an IPv4 total length of 36.
        assert_eq!(Received::new().pull(|s| s.pull(17)), Err(PullError::Short));
        assert_eq!(Received::new().pull(|s| s.postpull_rcsum(0, 17)), Ok((bindings::CHECKSUM_PARTIAL, 52, 6, 36, 16)));
        let r = Received::new().pull(|s| s.shorten_network_len(Family::Inet, 37));
        assert_eq!(r, Err(PullError::Short));
    }

    #[test]
    fn a_complete_sum_outside_the_buffer_is_refused() {
        let mut p = Received::new();
        // CAST: CHECKSUM_COMPLETE is 2.
        let complete = |s: &mut RxSkb<'_>, from, n| {
            s.set_ip_summed(bindings::CHECKSUM_COMPLETE as u8);
            s.postpull_rcsum(from, n)
        };
        // 52 bytes of headroom, 16 linear.
        assert_eq!(p.pull(|s| complete(s, -53, 8)).map(|r| r.0), Err(PullError::Short));
        assert_eq!(p.pull(|s| complete(s, 9, 8)).map(|r| r.0), Err(PullError::Short));
        assert_eq!(p.pull(|s| complete(s, -8, 8)).map(|r| r.0), Ok(bindings::CHECKSUM_COMPLETE));
    }
}
