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
use crate::net::inet::Family;
use crate::net::{
    rcu::ReadSection, //
    skb::RemCsum,
};
use core::{
    marker::PhantomData, //
    ptr::{null_mut, NonNull},
};
use kernel::prelude::*;

/// Where `list`, the link of held packets, lies in `sk_buff`.
const SKB_LIST: usize =
    core::mem::offset_of!(bindings::sk_buff, __bindgen_anon_1) + core::mem::offset_of!(bindings::sk_buff__bindgen_ty_1, list);

/// GRO's control block of `skb` (`NAPI_GRO_CB`), in its `cb`. The
/// `fou_rs_layout` and `fou_rs_gro` KUnit cases check its fields and bits
/// against GCC's. Only an address is computed.
#[inline]
pub(crate) fn gro_cb(skb: *mut bindings::sk_buff) -> *mut bindings::napi_gro_cb {
    skb.wrapping_byte_add(core::mem::offset_of!(bindings::sk_buff, cb)).cast()
}

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
    #[inline]
    pub(crate) fn read(&mut self, out: &mut [u8]) -> Result {
        let skb = self.skb.as_ptr();
        let len = u32::try_from(out.len()).map_err(|_| EINVAL)?;
        let cb = gro_cb(skb);
        // SAFETY: `skb` is the packet GRO lent us (type invariant), `cb` its
        // GRO control block. The bytes at `off` are in the first fragment
        // when it holds them (`skb_gro_header`'s fast path, done here), else
        // `skb_gro_header` pulls them into the linear area or returns NULL;
        // they do not overlap `out`.
        unsafe {
            // CAST: GRO's offset is an `int` that only grows from 0.
            let off = (*cb).data_offset as u32;
            let end = off.checked_add(len).ok_or(EINVAL)?;
            let f = &(*cb).__bindgen_anon_1.__bindgen_anon_1;
            let p = if !f.frag0.is_null() && end <= f.frag0_len {
                f.frag0.cast::<u8>().add(off as usize)
            } else {
                bindings::skb_gro_header(skb, end, off).cast::<u8>()
            };
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
    /// Inlined: a header of a size known at compile time is compared with
    /// the held packets' without a call.
    ///
    /// [`read`]: GroPacket::read
    #[inline(always)]
    pub(crate) fn pull_header(&mut self, hdr: &[u8], remcsum: Option<RemCsum>) -> Result {
        let skb = self.skb.as_ptr();
        let len = u32::try_from(hdr.len()).map_err(|_| EINVAL)?;
        let cb = gro_cb(skb);
        // SAFETY: `skb` is lent to us (type invariant), `cb` its GRO control
        // block; the checksum update (only when GRO holds a checksum, its
        // own test) reads `len` bytes of `hdr`, the same bytes as in the
        // packet.
        let off = unsafe {
            if (*cb).__bindgen_anon_2.__bindgen_anon_1.csum_valid() != 0 {
                bindings::skb_gro_postpull_rcsum(skb, hdr.as_ptr().cast(), len);
            }
            // CAST: see `read`.
            (*cb).data_offset as u32
        };
        if let Some(r) = remcsum {
            self.remcsum(off, len, r)?;
        }
        let head = self.head.as_ptr();
        // SAFETY: `head` is the bucket's list of held packets (type
        // invariant), each linked by its `list` member, valid while GRO
        // runs. Held packets have their headers in the linear area (GRO
        // pulls them from the first fragment before holding them); one
        // that does not is treated as another flow.
        unsafe {
            let mut n = (*head).next;
            while n != head {
                let p = n.cast::<u8>().wrapping_sub(SKB_LIST).cast::<bindings::sk_buff>();
                n = (*n).next;
                let pcb = &mut (*gro_cb(p)).__bindgen_anon_2.__bindgen_anon_1;
                if pcb.same_flow() == 0 {
                    continue;
                }
                // A valid packet's `len` counts its `data_len` (as C, no
                // check).
                let plen = (*p).len.wrapping_sub((*p).data_len);
                let same = off.checked_add(len).is_some_and(|end| end <= plen)
                    && core::slice::from_raw_parts((*p).data.add(off as usize), hdr.len()) == hdr;
                if !same {
                    pcb.set_same_flow(0);
                }
            }
            // `skb_gro_pull`. CAST: `len` is that of a header GRO just
            // read, far below 2 GiB.
            (*cb).data_offset += len as c_int;
        }
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
/// is held. Read here, not through a C helper: once per packet in GRO.
#[inline(always)]
fn offload<'a>(_rcu: ReadSection<'a>, family: Family, proto: u8) -> Option<&'a bindings::net_offload> {
    let table = match family {
        Family::Inet => (&raw const bindings::inet_offloads).cast::<*const bindings::net_offload>(),
        Family::Inet6 => (&raw const bindings::inet6_offloads).cast::<*const bindings::net_offload>(),
    };
    // SAFETY: both tables are static arrays of `MAX_INET_PROTOS` (256)
    // entries, one per `u8`, written atomically one entry at a time; the
    // entry is read once, as `rcu_dereference` does (`READ_ONCE`, on which
    // the dependent reads of the entry are ordered), under `_rcu`: a
    // registered entry stays valid until a grace period after it is
    // unregistered.
    unsafe { core::ptr::read_volatile(table.add(usize::from(proto))).as_ref() }
}

/// The bits of GRO's control block that hold `recursion_counter`.
type CbBits = bindings::napi_gro_cb__bindgen_ty_2__bindgen_ty_1;

/// `recursion_counter`'s bits in its 16-bit bit-field unit, and its 1, as
/// bindgen places them (bit `n` of the unit is bit `n % 8` of its byte
/// `n / 8`, which a little-endian `u16` reads as bit `n`).
const RECURSION_MASK: u16 = {
    let (bit, width) = bindings::NAPI_GRO_CB_RECURSION_COUNTER;
    assert!(cfg!(target_endian = "little") && width > 0 && bit + width <= 16);
    // CAST: at most 16 bits, checked above.
    (((1u32 << width) - 1) << bit) as u16
};
const RECURSION_ONE: u16 = 1 << bindings::NAPI_GRO_CB_RECURSION_COUNTER.0;

/// `gro_recursion_inc_test`: counts one more level of GRO receive in the
/// packet's control block (the counter wraps, as C's does, and no other
/// bit changes); true when that reaches `GRO_RECURSION_LIMIT`. Inline, on
/// the counter's unit, without bindgen's bit-by-bit setter: once per
/// packet in GRO. The `fou_rs_gro` KUnit case checks it against C's
/// counter.
#[inline(always)]
fn recursion_inc_test(bits: &mut CbBits) -> bool {
    // The unit is two bytes (a unit of another size does not compile).
    let unit: &mut bindings::__BindgenBitfieldUnit<[u8; 2]> = &mut bits._bitfield_1;
    let unit = core::ptr::from_mut(unit).cast::<u16>();
    // SAFETY: `unit` is the address of two bytes of `bits`, borrowed
    // mutably; read and written unaligned (the unit's type is bytes).
    let old = unsafe { unit.read_unaligned() };
    let n = (old & RECURSION_MASK).wrapping_add(RECURSION_ONE) & RECURSION_MASK;
    // SAFETY: as above.
    unsafe { unit.write_unaligned((old & !RECURSION_MASK) | n) };
    // CAST: the limit (15) is below 2^width, checked by the KUnit case.
    n == RECURSION_ONE.wrapping_mul(bindings::GRO_RECURSION_LIMIT as u16)
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
#[inline(always)]
pub(crate) unsafe fn receive(
    head: *mut bindings::list_head,
    skb: *mut bindings::sk_buff,
    family: Family,
    rcu: ReadSection<'_>,
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
    let gcb = gro_cb(skb);
    if let GroVerdict::Inner(proto) = f(&mut gro) {
        if let Some(inner) = offload(rcu, family, proto).and_then(|o| o.callbacks.gro_receive) {
            // SAFETY: `skb` is ours for the call (see above), `gcb` its GRO
            // control block; the outer header is consumed, so the inner one
            // is the GRO header now (`encap_mark` cleared, `is_fou` set).
            // `call_gro_receive`, inline: one more level of GRO, unless
            // that is one too many.
            pp = unsafe {
                let bits = &mut (*gcb).__bindgen_anon_2.__bindgen_anon_1;
                bits.set_encap_mark(0);
                bits.set_is_fou(1);
                if recursion_inc_test(bits) {
                    (*gcb).flush |= 1;
                    null_mut()
                } else {
                    inner(head, skb)
                }
            };
            flush = false;
        }
    }
    // SAFETY: as above; `grc` is what the remote checksum offload of this
    // packet recorded, undone unless the packet is held.
    unsafe {
        match gro.remcsum.as_mut() {
            Some(grc) => bindings::skb_gro_flush_final_remcsum(skb, pp, c_int::from(flush), grc),
            None if flush => (*gcb).flush |= 1,
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
    rcu: ReadSection<'_>,
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
    let Some(cb) = offload(rcu, family, proto).and_then(|o| o.callbacks.gro_complete) else {
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

#[kunit_tests(fou_rs_gro)]
mod tests {
    use super::*;

    #[test]
    fn control_block_bits_are_where_gcc_puts_them() {
        let mut raw = core::mem::MaybeUninit::<bindings::sk_buff>::zeroed();
        let skb = raw.as_mut_ptr();
        let cb = gro_cb(skb);
        // SAFETY: `skb` is a zeroed `sk_buff` of our own, never a packet:
        // only bits of its GRO control block are read and written, by Rust
        // (bindgen's accessors, as the GRO path uses them) and by C.
        let (same, other, marked, csum, flush) = unsafe {
            let bits = &mut (*cb).__bindgen_anon_2.__bindgen_anon_1;
            bits.set_same_flow(1);
            bits.set_encap_mark(1);
            let same = bindings::fou_rs_gro_same_flow(skb);
            bindings::fou_rs_gro_other_flow(skb);
            let other = bits.same_flow();
            bindings::fou_rs_gro_mark_fou(skb);
            let marked = (bits.encap_mark(), bits.is_fou());
            let csum = (bits.csum_valid(), bindings::fou_rs_gro_csum_valid(skb));
            bindings::fou_rs_gro_flush(skb);
            (same, other, marked, csum, (*cb).flush)
        };
        assert!(same);
        assert_eq!(other, 0);
        assert_eq!(marked, (0, 1));
        assert_eq!(csum, (0, false));
        assert_eq!(flush, 1);
    }

    #[test]
    fn recursion_counter_counts_where_gcc_puts_it() {
        let mut raw = core::mem::MaybeUninit::<bindings::sk_buff>::zeroed();
        let skb = raw.as_mut_ptr();
        let cb = gro_cb(skb);
        // SAFETY: as above; the counter is counted by Rust and read and
        // written by C, its neighbours set first and read at the end.
        unsafe {
            let bits = &mut (*cb).__bindgen_anon_2.__bindgen_anon_1;
            // Set below the counter, clear above it (where a carry out of
            // it would go).
            bits.set_ip_fixedid(3);
            bits.set_is_fou(1);
            for n in 1..15 {
                assert!(!recursion_inc_test(bits));
                assert_eq!(bindings::fou_rs_gro_recursion_counter(skb), n);
            }
            assert!(recursion_inc_test(bits));
            assert_eq!(bindings::fou_rs_gro_recursion_counter(skb), 15);
            assert!(!recursion_inc_test(bits));
            assert_eq!(bindings::fou_rs_gro_recursion_counter(skb), 0);
            bindings::fou_rs_gro_set_recursion_counter(skb, 14);
            assert!(recursion_inc_test(bits));
            assert_eq!((bits.ip_fixedid(), bits.is_flist(), bits.is_fou(), bits.free()), (3, 0, 1, 0));
            assert_eq!(((*cb).flush, bits.gro_remcsum_start), (0, 0));
        }
    }
}
