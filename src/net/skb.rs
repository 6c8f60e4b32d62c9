// SPDX-License-Identifier: GPL-2.0

//! Socket buffers, borrowed from the stack for one receive or transmit step.
//!
//! Only the operations FOU needs, each the sequence of C calls that
//! net/ipv4/fou_core.c makes for it.

use crate::bindings;
use crate::config::Family;
use core::{
    marker::PhantomData, //
    ptr::NonNull,
};
use kernel::{
    error::to_result, //
    prelude::*,
};

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
    /// `ptr` is a valid `sk_buff` the caller may let this value read and
    /// modify for `'a`, and nothing else touches it meanwhile.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::sk_buff) -> Option<Self> {
        // INVARIANT: guaranteed by the caller.
        NonNull::new(ptr).map(|ptr| SkBuff {
            ptr,
            _p: PhantomData,
        })
    }


    /// Bytes in the packet from `data` on.
    pub(crate) fn len(&self) -> u32 {
        // SAFETY: `ptr` is valid (type invariant).
        unsafe { (*self.ptr.as_ptr()).len }
    }

    /// Bytes in the linear area from `data` on.
    fn headlen(&self) -> u32 {
        // SAFETY: `ptr` is valid (type invariant).
        unsafe { bindings::skb_headlen(self.ptr.as_ptr()) }
    }

    /// Removes `hlen` bytes of encapsulation in front of the inner packet
    /// (`fou_recv_pull`): shortens the outer IP header's length field,
    /// pulls the bytes, updates a CHECKSUM_COMPLETE sum, makes the inner
    /// packet the transport header and clears the encapsulation offload
    /// state.
    ///
    /// `EINVAL` when the linear area or the outer length is shorter than
    /// `hlen`; the packet is then unchanged.
    pub(crate) fn pull_encap(&mut self, outer: Family, hlen: u16) -> Result {
        if self.headlen() < u32::from(hlen) {
            return Err(EINVAL);
        }
        let skb = self.ptr.as_ptr();
        // SAFETY: `skb` is valid and ours (type invariant); it was received
        // over `outer`, so its network header is an IPv4 or IPv6 header of
        // that family, in the linear area (the IP layer pulled it).
        unsafe {
            match outer {
                Family::Inet => {
                    let iph = bindings::ip_hdr(skb);
                    let len = u16::from_be((*iph).tot_len);
                    (*iph).tot_len = len.checked_sub(hlen).ok_or(EINVAL)?.to_be();
                }
                Family::Inet6 => {
                    let ip6h = bindings::ipv6_hdr(skb);
                    let len = u16::from_be((*ip6h).payload_len);
                    (*ip6h).payload_len = len.checked_sub(hlen).ok_or(EINVAL)?.to_be();
                }
            }
            let start = bindings::__skb_pull(skb, u32::from(hlen));
            // The pulled bytes start `hlen` before the new data pointer.
            bindings::skb_postpull_rcsum(
                skb,
                start.cast::<u8>().sub(usize::from(hlen)).cast(),
                u32::from(hlen),
            );
            bindings::skb_reset_transport_header(skb);
            to_result(bindings::iptunnel_pull_offloads(skb))
        }
    }

    /// Prepares the offload state of a packet about to be encapsulated in
    /// UDP (`iptunnel_handle_offloads`), the GSO type telling whether the
    /// outer UDP checksum is computed.
    pub(crate) fn handle_udp_tunnel_offloads(&mut self, csum: bool) -> Result {
        let gso = if csum {
            bindings::SKB_GSO_UDP_TUNNEL_CSUM
        } else {
            bindings::SKB_GSO_UDP_TUNNEL
        };
        // CAST: the `SKB_GSO_*` bits fit in an int (bit 11 at most here).
        let gso = gso as c_int;
        // SAFETY: `ptr` is valid and ours (type invariant).
        to_result(unsafe { bindings::iptunnel_handle_offloads(self.ptr.as_ptr(), gso) })
    }

    /// The source port `udp_flow_src_port` picks for this packet's flow, in
    /// host order.
    pub(crate) fn flow_src_port(&self) -> u16 {
        // SAFETY: `ptr` is valid (type invariant) and on its way out of a
        // device, so `skb->dev` is set.
        u16::from_be(unsafe { bindings::fou_rs_flow_src_port(self.ptr.as_ptr()) })
    }

    /// Puts `header` in front of the packet and makes it the transport
    /// header. The caller reserved the room through `encap_hlen`.
    pub(crate) fn push_transport_header(&mut self, header: &[u8]) {
        let skb = self.ptr.as_ptr();
        // CAST: encapsulation headers are a few dozen bytes.
        let n = header.len() as u32;
        // SAFETY: `skb` is valid and ours; the tunnel reserved headroom of
        // `encap_hlen` bytes, which is at least `header.len()`, so
        // `skb_push` returns `n` writable bytes.
        unsafe {
            let p = bindings::skb_push(skb, n).cast::<u8>();
            core::ptr::copy_nonoverlapping(header.as_ptr(), p, header.len());
            bindings::skb_reset_transport_header(skb);
        }
    }

    /// Sets the checksum of the UDP header at the transport header
    /// (`udp_set_csum`): none when `nocheck`, else computed or offloaded
    /// over the IPv4 pseudo-header `saddr` -> `daddr` (network order).
    pub(crate) fn udp_set_csum(&mut self, nocheck: bool, saddr: u32, daddr: u32) {
        let len = self.len();
        // CAST: `udp_set_csum` takes the length as an int; packets are far
        // below 2 GiB.
        let len = len as c_int;
        // SAFETY: `ptr` is valid and ours, with a UDP header at its
        // transport header (pushed by the caller).
        unsafe { bindings::udp_set_csum(nocheck, self.ptr.as_ptr(), saddr, daddr, len) };
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
    pub(crate) fn read(&mut self, offset: usize, out: &mut [u8]) -> Result {
        let end = offset.checked_add(out.len()).ok_or(EINVAL)?;
        let end = u32::try_from(end).map_err(|_| EINVAL)?;
        let skb = self.ptr.as_ptr();
        // SAFETY: `skb` is valid and ours (type invariant).
        if !unsafe { bindings::pskb_may_pull(skb, end) } {
            return Err(EINVAL);
        }
        // SAFETY: `pskb_may_pull` made `end` bytes from `data` linear.
        unsafe {
            core::ptr::copy_nonoverlapping((*skb).data.add(offset), out.as_mut_ptr(), out.len())
        };
        Ok(())
    }

    /// Runs `f` with the transport header set `offset` bytes from `data`,
    /// then restores it.
    pub(crate) fn with_transport_header<R>(&mut self, offset: c_int, f: impl FnOnce(&mut Self) -> R) -> R {
        let saved = self.transport_offset();
        // SAFETY: `ptr` is valid and ours (type invariant); the header
        // offset is only recorded here, not dereferenced.
        unsafe { bindings::skb_set_transport_header(self.ptr.as_ptr(), offset) };
        let r = f(self);
        // SAFETY: as above.
        unsafe { bindings::skb_set_transport_header(self.ptr.as_ptr(), saved) };
        r
    }

    /// Hands an ICMP error about this quoted packet to the error handler of
    /// IPv4 protocol `proto`; `ENOENT` when it has none or it declines.
    /// Runs under RCU (ICMP error processing is in softirq context).
    pub(crate) fn inet_proto_err(&mut self, proto: u8, info: u32) -> Result {
        let _rcu = kernel::sync::rcu::read_lock();
        // SAFETY: reading the protocol table under RCU.
        let p = unsafe { bindings::fou_rs_inet_proto(proto) };
        if p.is_null() {
            return Err(ENOENT);
        }
        // SAFETY: `p` is a registered protocol, valid under `_rcu`.
        let Some(handler) = (unsafe { (*p).err_handler }) else {
            return Err(ENOENT);
        };
        // SAFETY: the handler takes the ICMP error's packet, which is ours.
        if unsafe { handler(self.ptr.as_ptr(), info) } == 0 {
            Ok(())
        } else {
            Err(ENOENT)
        }
    }

    /// Frees the packet: the end of a packet that is dropped.
    pub(super) fn drop_packet(self) {
        // SAFETY: `ptr` is valid and the caller gave its packet to us to
        // consume (a receive callback that returns 0).
        unsafe { bindings::kfree_skb(self.ptr.as_ptr()) };
    }
}
