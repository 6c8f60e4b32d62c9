// SPDX-License-Identifier: GPL-2.0

//! GRO (generic receive offload) for UDP tunnel sockets.
//!
//! UDP's GRO hands a datagram arriving for a tunnel socket to the socket's
//! `gro_receive` after consuming the UDP header; FOU and GUE consume their
//! own header and pass the packet on to the inner protocol's offload, so
//! that a TCP stream inside the tunnel is aggregated like a plain one
//! (`fou_gro_receive`, `gue_gro_receive`, `fou_gro_complete`,
//! `gue_gro_complete` in net/ipv4/fou_core.c). This module wraps the
//! packet in the two steps and the calls into the inner offloads.

use crate::bindings;
use crate::config::Family;
use crate::net::skb::RemCsum;
use core::{
    marker::PhantomData, //
    ptr::{null_mut, NonNull},
};
use kernel::prelude::*;

/// A packet in GRO's receive step, its headers up to and including UDP
/// consumed, with the list of packets held for aggregation.
///
/// # Invariants
///
/// `skb` is the packet being received and `head` the list of held packets
/// of its GRO bucket, both lent by the GRO core for `'a`, in softirq
/// context under RCU.
pub(crate) struct GroPacket<'a> {
    skb: NonNull<bindings::sk_buff>,
    head: NonNull<bindings::list_head>,
    /// What a remote checksum offload changed in the packet, undone if it
    /// is not aggregated; `None` until one is applied.
    remcsum: Option<bindings::gro_remcsum>,
    _p: PhantomData<&'a mut bindings::sk_buff>,
}

impl GroPacket<'_> {
    /// Copies the `out.len()` bytes after what GRO consumed so far into
    /// `out`; `EINVAL` when the packet is shorter.
    pub(crate) fn read(&mut self, out: &mut [u8]) -> Result {
        let skb = self.skb.as_ptr();
        let len = u32::try_from(out.len()).map_err(|_| EINVAL)?;
        // SAFETY: `skb` is the packet GRO lent us (type invariant);
        // `skb_gro_header` returns `len` readable bytes at `off` (in the
        // first fragment or, pulled, in the linear area), or NULL; they do
        // not overlap `out`.
        unsafe {
            let off = bindings::skb_gro_offset(skb);
            let end = off.checked_add(len).ok_or(EINVAL)?;
            let p = bindings::skb_gro_header(skb, end, off).cast::<u8>();
            if p.is_null() {
                return Err(EINVAL);
            }
            core::ptr::copy_nonoverlapping(p, out.as_mut_ptr(), out.len());
        }
        Ok(())
    }

    /// Consumes `hdr`, the encapsulation header just read (see [`read`]):
    /// takes it out of the GRO checksum, applies `remcsum`, the header's
    /// remote checksum offload option if it has one, marks every held
    /// packet whose bytes at the same place differ as another flow (packets
    /// are merged only with identical headers), and moves past it. `EINVAL`
    /// when the option cannot be applied: the packet is then not
    /// aggregated.
    ///
    /// [`read`]: GroPacket::read
    pub(crate) fn pull_header(&mut self, hdr: &[u8], remcsum: Option<RemCsum>) -> Result {
        let skb = self.skb.as_ptr();
        let len = u32::try_from(hdr.len()).map_err(|_| EINVAL)?;
        // SAFETY: `skb` is lent to us (type invariant); the checksum update
        // reads `len` bytes of `hdr`, the same bytes as in the packet.
        let off = unsafe {
            bindings::skb_gro_postpull_rcsum(skb, hdr.as_ptr().cast(), len);
            bindings::skb_gro_offset(skb)
        };
        if let Some(r) = remcsum {
            self.remcsum(off, len, r)?;
        }
        let mut p: *mut bindings::sk_buff = null_mut();
        loop {
            // SAFETY: `head` is the bucket's list (type invariant); `p` is
            // NULL or an entry of it.
            p = unsafe { bindings::fou_rs_gro_next(self.head.as_ptr(), p) };
            if p.is_null() {
                break;
            }
            // SAFETY: `p` is a held packet, valid while GRO runs.
            if !unsafe { bindings::fou_rs_gro_same_flow(p) } {
                continue;
            }
            // Held packets have their headers in the linear area (GRO
            // pulls them from the first fragment before holding them);
            // one that does not is treated as another flow.
            // SAFETY: as above.
            let same = unsafe {
                let plen = bindings::skb_headlen(p);
                off.checked_add(len).is_some_and(|end| end <= plen)
                    && core::slice::from_raw_parts((*p).data.add(off as usize), hdr.len()) == hdr
            };
            if !same {
                // SAFETY: as above.
                unsafe { bindings::fou_rs_gro_other_flow(p) };
            }
        }
        // SAFETY: `skb` is lent to us.
        unsafe { bindings::skb_gro_pull(skb, len) };
        Ok(())
    }

    /// Applies a remote checksum offload option to the packet in GRO
    /// (`gue_gro_remcsum`): the data from `r.start` bytes after the
    /// `hlen`-byte header at `off` is checksummed by GRO's running
    /// checksum, which must be valid; without `r.nopartial` GRO only notes
    /// where it starts, with it the checksum field is written now (undone
    /// by [`receive`] if the packet is not aggregated). Once per packet:
    /// an outer header's option already applied leaves this one to normal
    /// receive.
    fn remcsum(&mut self, off: u32, hlen: u32, r: RemCsum) -> Result {
        let skb = self.skb.as_ptr();
        let grc = self.remcsum.insert(bindings::gro_remcsum {
            offset: 0,
            delta: 0,
        });
        let end = off.checked_add(hlen).ok_or(EINVAL)?;
        // SAFETY: `skb` is lent to us (type invariant); `skb_gro_header`
        // returns the header's bytes or NULL.
        let ptr = unsafe {
            if bindings::fou_rs_skb_remcsum_offload(skb) {
                return Ok(());
            }
            if !bindings::fou_rs_gro_csum_valid(skb) {
                return Err(EINVAL);
            }
            bindings::skb_gro_header(skb, end, off)
        };
        if ptr.is_null() {
            return Err(EINVAL);
        }
        // SAFETY: `skb` is lent to us, its GRO checksum valid (checked
        // above: `skb_gro_remcsum_process` requires it) and `ptr` its
        // header at `off`; the function itself makes sure the bytes it
        // writes with `nopartial` are in the packet (`skb_gro_header`), and
        // records in `grc` what it changed. Then the packet is marked as
        // having had its option applied.
        unsafe {
            let p = bindings::skb_gro_remcsum_process(
                skb,
                ptr,
                off,
                hlen as usize,
                c_int::from(r.start),
                c_int::from(r.offset),
                grc,
                r.nopartial,
            );
            if p.is_null() {
                return Err(EINVAL);
            }
            bindings::fou_rs_skb_set_remcsum_offload(skb);
        }
        Ok(())
    }
}

/// The head of an aggregated packet, in GRO's completion step.
///
/// # Invariants
///
/// `skb` is a packet lent by the GRO core for `'a` whose headers up to
/// `nhoff` and the encapsulation header after it are in the linear area
/// (GRO made them linear before holding the packet).
pub(crate) struct GroComplete<'a> {
    skb: NonNull<bindings::sk_buff>,
    nhoff: c_int,
    _p: PhantomData<&'a mut bindings::sk_buff>,
}

impl GroComplete<'_> {
    /// Copies the bytes of the encapsulation header (after UDP) into
    /// `out`; `EINVAL` when the linear area is shorter.
    pub(crate) fn read(&self, out: &mut [u8]) -> Result {
        let skb = self.skb.as_ptr();
        let off = usize::try_from(self.nhoff).map_err(|_| EINVAL)?;
        let end = off.checked_add(out.len()).ok_or(EINVAL)?;
        // SAFETY: `skb` is lent to us (type invariant); `end` bytes from
        // `data` are linear (checked first).
        unsafe {
            if end > bindings::skb_headlen(skb) as usize {
                return Err(EINVAL);
            }
            core::ptr::copy_nonoverlapping((*skb).data.add(off), out.as_mut_ptr(), out.len());
        }
        Ok(())
    }
}

/// The inner protocol's offload callbacks of `family`, valid while `_rcu`
/// is held.
fn offload<'a>(
    _rcu: &'a kernel::sync::rcu::Guard,
    family: Family,
    proto: u8,
) -> Option<&'a bindings::net_offload> {
    // SAFETY: reading the offload table under `_rcu`; a registered entry
    // stays valid until a grace period after it is unregistered.
    unsafe { bindings::fou_rs_gro_offload(family == Family::Inet6, proto).as_ref() }
}

/// What a tunnel socket's GRO receive step decided.
pub(crate) enum GroVerdict {
    /// The encapsulation header was consumed: aggregate the packet as one
    /// of the inner IP protocol `n`.
    Inner(u8),
    /// Do not aggregate: the packet is received on its own.
    Flush,
}

/// Runs a socket's GRO receive step: `f` decides on the packet; an inner
/// protocol without GRO support, or a flush, leaves the packet to normal
/// receive (upstream warned on the first and held the packet on the
/// second).
///
/// # Safety
///
/// `head` and `skb` are those UDP's GRO passes to a socket's `gro_receive`,
/// in softirq context under RCU.
pub(crate) unsafe fn receive(
    head: *mut bindings::list_head,
    skb: *mut bindings::sk_buff,
    family: Family,
    f: impl FnOnce(&mut GroPacket<'_>) -> GroVerdict,
) -> *mut bindings::sk_buff {
    let (Some(h), Some(s)) = (NonNull::new(head), NonNull::new(skb)) else {
        return null_mut();
    };
    // INVARIANT: lent by GRO (the caller's guarantee).
    let mut gro = GroPacket {
        skb: s,
        head: h,
        remcsum: None,
        _p: PhantomData,
    };
    let mut pp = null_mut();
    let mut flush = true;
    if let GroVerdict::Inner(proto) = f(&mut gro) {
        let rcu = kernel::sync::rcu::read_lock();
        if let Some(cb) = offload(&rcu, family, proto).and_then(|o| o.callbacks.gro_receive) {
            // SAFETY: `skb` is ours for the call (see above); the outer
            // header is consumed, so the inner one is the GRO header now.
            pp = unsafe {
                bindings::fou_rs_gro_mark_fou(skb);
                bindings::call_gro_receive(Some(cb), head, skb)
            };
            flush = false;
        }
    }
    // SAFETY: as above; `grc` is what the remote checksum offload of this
    // packet recorded, undone unless the packet is held.
    unsafe {
        match gro.remcsum.as_mut() {
            Some(grc) => bindings::skb_gro_flush_final_remcsum(skb, pp, c_int::from(flush), grc),
            None if flush => bindings::fou_rs_gro_flush(skb),
            None => {}
        }
    }
    pp
}

/// Runs a socket's GRO completion step: `f` finds the inner protocol and
/// the encapsulation header's length; the inner protocol completes the
/// aggregate. `ENOENT` when `f` finds none, `ENOSYS` when the protocol has
/// no GRO completion (no warning).
///
/// # Safety
///
/// `skb` and `nhoff` are those UDP's GRO passes to a socket's
/// `gro_complete`, under RCU.
pub(crate) unsafe fn complete(
    skb: *mut bindings::sk_buff,
    nhoff: c_int,
    family: Family,
    f: impl FnOnce(&GroComplete<'_>) -> Option<(u8, usize)>,
) -> c_int {
    let Some(s) = NonNull::new(skb) else {
        return EINVAL.to_errno();
    };
    // INVARIANT: lent by GRO with its headers linear.
    let gro = GroComplete {
        skb: s,
        nhoff,
        _p: PhantomData,
    };
    let Some((proto, hlen)) = f(&gro) else {
        return ENOENT.to_errno();
    };
    let rcu = kernel::sync::rcu::read_lock();
    let Some(cb) = offload(&rcu, family, proto).and_then(|o| o.callbacks.gro_complete) else {
        return crate::net::errno::enosys().to_errno();
    };
    let Some(inner) = c_int::try_from(hlen).ok().and_then(|h| nhoff.checked_add(h)) else {
        return EINVAL.to_errno();
    };
    // The inner header must start inside the linear area, whatever length
    // `f` claimed for the encapsulation header.
    // SAFETY: `skb` is lent to us (type invariant of `GroComplete`).
    let headlen = unsafe { bindings::skb_headlen(skb) };
    if u32::try_from(inner).map_or(true, |i| i >= headlen) {
        return EINVAL.to_errno();
    }
    // SAFETY: `skb` is ours for the call; `inner` is where the inner
    // header starts, inside the linear area (checked above).
    unsafe {
        let err = cb(skb, inner);
        bindings::skb_set_inner_mac_header(skb, inner);
        err
    }
}
