// SPDX-License-Identifier: GPL-2.0

//! FOU and GUE receive: decapsulation on a port's socket.
//!
//! Mirrors `fou_udp_recv`, `gue_udp_recv`, `gue_remcsum`, `fou_recv_pull`
//! and the GRO steps `fou_gro_receive`, `gue_gro_receive`,
//! `fou_gro_complete`, `gue_gro_complete` in net/ipv4/fou_core.c. The GUE
//! header is copied out of the packet and parsed by [`crate::gue`]; no
//! pointer into the packet outlives a pull.
//!
//! GRO aggregates GUE packets that carry a remote checksum offload option
//! as C does (`gue_gro_remcsum`) when GRO holds a valid checksum of the
//! packet; otherwise they are received one by one, the checksum completed
//! in `receive`.

use crate::config::{
    Family, //
    PortConfig,
};
use crate::fou_tx::{
    IPPROTO_IPIP, //
    IPPROTO_IPV6,
    UDP_HLEN,
};
use crate::gue::{
    self, //
    Gue,
    GUE_HLEN,
};
use crate::net::gro::{
    GroComplete, //
    GroPacket,
    GroVerdict,
};
use crate::net::skb::{
    PullError, //
    RemCsum,
    RxSkb,
    Verdict,
};
use crate::net::udp_tunnel::Receiver;
use crate::port::PortState;
use crate::stats::{
    Counter, //
    DropCause,
};

impl PortConfig {
    /// Decapsulates a GUE packet (`gue_udp_recv`); returns the inner IP
    /// protocol. Errors mean the packet is dropped, and say why: undefined
    /// versions, a version 1 packet that is not IPv4 or IPv6, truncated
    /// headers, unknown flags, a remote checksum option outside the packet,
    /// control messages (not supported, as in C) and inner protocol 0.
    #[inline(always)]
    fn receive_gue(&self, skb: &mut RxSkb<'_>, family: Family) -> Result<u8, DropCause> {
        let mut word = [0u8; GUE_HLEN];
        skb.read(UDP_HLEN, &mut word).map_err(|_| DropCause::Malformed)?;
        let (control, optlen, proto_ctype, flags) = match gue::parse(&word)? {
            // Version 1: a bare IPv4 or IPv6 packet after the UDP header.
            Gue::V1 { ip_version } => {
                // CAST: `UDP_HLEN` is 8.
                fou_recv_pull(skb, family, UDP_HLEN as u16)?;
                return Ok(v1_proto(ip_version));
            }
            Gue::V0 {
                control,
                optlen,
                proto_ctype,
                flags,
            } => (control, optlen, proto_ctype, flags),
        };
        // Each length ends in its own copy of the pull: the common one,
        // without options, carries no remote checksum state.
        match optlen {
            // Most packets: no option buffer to clear and fill.
            0 => {
                gue::validate_flags(flags, &[])?;
                self.gue_finish(skb, family, control, proto_ctype, 0, None)
            }
            // Private flags and a remote checksum offload option, the
            // options fou-rs and C send: a copy of a size known at compile
            // time, no buffer cleared.
            REMCSUM_OPTLEN => {
                let mut opts = [0u8; REMCSUM_OPTLEN];
                skb.read(UDP_HLEN + GUE_HLEN, &mut opts).map_err(|_| DropCause::Malformed)?;
                let options = gue::validate_flags(flags, &opts)?;
                self.gue_finish(skb, family, control, proto_ctype, optlen, options.remcsum)
            }
            _ => {
                let options = other_options(skb, flags, optlen)?;
                self.gue_finish(skb, family, control, proto_ctype, optlen, options.remcsum)
            }
        }
    }

    /// The end of `gue_udp_recv` for a version 0 header whose flags and
    /// options are valid: refuses control messages and inner protocol 0,
    /// then removes the UDP and GUE headers (`gue_pull`) and returns the
    /// inner protocol.
    #[inline(always)]
    fn gue_finish(
        &self,
        skb: &mut RxSkb<'_>,
        family: Family,
        control: bool,
        proto_ctype: u8,
        optlen: usize,
        remcsum: Option<(u16, u16)>,
    ) -> Result<u8, DropCause> {
        if control {
            return Err(DropCause::Control);
        }
        if proto_ctype == 0 {
            return Err(DropCause::Proto);
        }
        let remcsum = remcsum.map(|(start, offset)| RemCsum {
            start,
            offset,
            nopartial: self.remcsum_nopartial,
        });
        // CAST: at most 8 + 4 + 124 bytes.
        let hlen = (UDP_HLEN + GUE_HLEN + optlen) as u16;
        gue_pull(skb, family, hlen, remcsum)?;
        Ok(proto_ctype)
    }
}

/// Reads and validates GUE options of another length than fou-rs and C
/// send, through a buffer of the largest size. Out of line: rare, and the
/// buffer would enlarge the frame of the receive function.
#[cold]
#[inline(never)]
fn other_options(skb: &mut RxSkb<'_>, flags: u16, optlen: usize) -> Result<gue::GueOptions, DropCause> {
    let mut buf = [0u8; gue::MAX_OPTLEN];
    let opts = buf.get_mut(..optlen).ok_or(DropCause::Malformed)?;
    skb.read(UDP_HLEN + GUE_HLEN, opts).map_err(|_| DropCause::Malformed)?;
    Ok(gue::validate_flags(flags, opts)?)
}

/// Removes the `len` bytes of encapsulation in front of the inner packet,
/// which the IP layer then receives under the outer IP header
/// (`fou_recv_pull`, for FOU direct and GUE version 1): the outer IP
/// length loses them, and the checksum state is brought past them after
/// the pull (a CHECKSUM_PARTIAL packet whose checksum starts in them, a
/// locally sent outer UDP checksum left to offload, becomes CHECKSUM_NONE,
/// and its inner checksums are verified).
#[inline(always)]
fn fou_recv_pull(skb: &mut RxSkb<'_>, outer: Family, len: u16) -> Result<(), PullError> {
    skb.pull(len)?;
    skb.shorten_network_len(outer, len)?;
    skb.postpull_rcsum(-i32::from(len), len)?;
    skb.reset_transport_header();
    skb.pull_offloads()
}

/// The same for a GUE header of `hlen` bytes (the end of `gue_udp_recv`):
/// the checksum state is brought past it before the pull, then the remote
/// checksum offload option, if any, is applied (`gue_remcsum`). The header
/// is linear: `receive_gue` read it. Nothing changes when the outer length
/// is shorter than it (C shortens the outer length before it checks
/// anything).
#[inline(always)]
fn gue_pull(skb: &mut RxSkb<'_>, outer: Family, hlen: u16, remcsum: Option<RemCsum>) -> Result<(), PullError> {
    skb.shorten_network_len(outer, hlen)?;
    skb.postpull_rcsum(0, hlen)?;
    if let Some(r) = remcsum {
        skb.remcsum_process(hlen, r)?;
    }
    skb.pull(hlen)?;
    skb.reset_transport_header();
    skb.pull_offloads()
}

/// The length of the options fou-rs and C send with remote checksum
/// offload: the private flags word and the option (start, offset).
const REMCSUM_OPTLEN: usize = gue::MAX_TX_HLEN - GUE_HLEN;

/// The inner protocol of a GUE version 1 packet.
fn v1_proto(ip_version: u8) -> u8 {
    if ip_version == 4 {
        IPPROTO_IPIP
    } else {
        IPPROTO_IPV6
    }
}

/// GRO's receive step for a GUE packet (`gue_gro_receive`): the inner
/// protocol, after consuming the GUE header and applying its remote
/// checksum offload option; `None` to flush (malformed, control, an option
/// GRO cannot apply). The usual headers (none or the options fou-rs and C
/// send) are read and compared with the held packets' at a size known at
/// compile time: no buffer cleared, no comparison call.
#[inline(always)]
fn gue_gro_receive(gro: &mut GroPacket<'_>, nopartial: bool) -> Option<u8> {
    let mut word = [0u8; GUE_HLEN];
    gro.read(&mut word).ok()?;
    match gue::parse(&word).ok()? {
        // Version 1: the inner IP header follows directly; nothing to pull.
        Gue::V1 { ip_version } => Some(v1_proto(ip_version)),
        Gue::V0 { control: true, .. } => None,
        // Most packets: the 4-byte header alone.
        Gue::V0 {
            optlen: 0,
            proto_ctype,
            flags,
            ..
        } => {
            gue::validate_flags(flags, &[]).ok()?;
            gro.pull_header(&word, None).ok()?;
            Some(proto_ctype)
        }
        Gue::V0 {
            optlen: REMCSUM_OPTLEN,
            proto_ctype,
            flags,
            ..
        } => {
            let mut hdr = [0u8; GUE_HLEN + REMCSUM_OPTLEN];
            gro.read(&mut hdr).ok()?;
            gro_options(gro, &hdr, flags, nopartial)?;
            Some(proto_ctype)
        }
        Gue::V0 {
            optlen,
            proto_ctype,
            flags,
            ..
        } => {
            gro_other_options(gro, optlen, flags, nopartial)?;
            Some(proto_ctype)
        }
    }
}

/// Validates the options of the GUE header `hdr` GRO read and consumes it,
/// applying its remote checksum offload option if any.
#[inline(always)]
fn gro_options(gro: &mut GroPacket<'_>, hdr: &[u8], flags: u16, nopartial: bool) -> Option<()> {
    let options = gue::validate_flags(flags, hdr.get(GUE_HLEN..)?).ok()?;
    let remcsum = options.remcsum.map(|(start, offset)| RemCsum {
        start,
        offset,
        nopartial,
    });
    gro.pull_header(hdr, remcsum).ok()
}

/// The same for options of another length, read through a buffer of the
/// largest size. Out of line: rare.
#[cold]
#[inline(never)]
fn gro_other_options(gro: &mut GroPacket<'_>, optlen: usize, flags: u16, nopartial: bool) -> Option<()> {
    let mut buf = [0u8; GUE_HLEN + gue::MAX_OPTLEN];
    let hdr = buf.get_mut(..GUE_HLEN + optlen)?;
    gro.read(hdr).ok()?;
    gro_options(gro, hdr, flags, nopartial)
}

/// GRO's completion step for a GUE packet (`gue_gro_complete`).
fn gue_gro_complete(gro: &GroComplete<'_>) -> Option<(u8, usize)> {
    let mut word = [0u8; GUE_HLEN];
    gro.read(&mut word).ok()?;
    match gue::parse(&word).ok()? {
        Gue::V1 { ip_version } => Some((v1_proto(ip_version), 0)),
        Gue::V0 {
            optlen,
            proto_ctype,
            ..
        } => Some((proto_ctype, GUE_HLEN + optlen)),
    }
}

/// The receiver of a FOU direct port (`fou_udp_recv`, `fou_gro_receive`,
/// `fou_gro_complete`), on an IPv6 socket if `V6`: one per family, so that
/// the receive path knows its outer header at compile time.
pub(crate) struct FouReceiver<const V6: bool>;

/// The receiver of a GUE port (`gue_udp_recv`, `gue_gro_receive`,
/// `gue_gro_complete`), on an IPv6 socket if `V6`.
pub(crate) struct GueReceiver<const V6: bool>;

/// The family of a receiver's socket.
const fn family<const V6: bool>() -> Family {
    if V6 {
        Family::Inet6
    } else {
        Family::Inet
    }
}

impl<const V6: bool> Receiver for FouReceiver<V6> {
    type Port = PortState;

    fn family(_port: &PortState) -> Family {
        family::<V6>()
    }

    /// The UDP payload is the inner packet. Strips the UDP header and lets
    /// the IP layer hand the rest to the port's protocol, which validates
    /// it like any packet of that protocol.
    #[inline]
    fn receive(port: &PortState, mut skb: RxSkb<'_>) -> Verdict {
        // CAST: `UDP_HLEN` is 8.
        let decap = fou_recv_pull(&mut skb, family::<V6>(), UDP_HLEN as u16).map_err(DropCause::from);
        port.deliver(skb, decap.map(|()| port.ipproto))
    }

    fn gro_receive(port: &PortState, _gro: &mut GroPacket<'_>) -> GroVerdict {
        GroVerdict::Inner(port.ipproto)
    }

    fn gro_complete(port: &PortState, _gro: &GroComplete<'_>) -> Option<(u8, usize)> {
        Some((port.ipproto, 0))
    }
}

impl<const V6: bool> Receiver for GueReceiver<V6> {
    type Port = PortState;

    fn family(_port: &PortState) -> Family {
        family::<V6>()
    }

    #[inline]
    fn receive(port: &PortState, mut skb: RxSkb<'_>) -> Verdict {
        let decap = port.cfg.receive_gue(&mut skb, family::<V6>());
        port.deliver(skb, decap)
    }

    fn gro_receive(port: &PortState, gro: &mut GroPacket<'_>) -> GroVerdict {
        match gue_gro_receive(gro, port.cfg.remcsum_nopartial) {
            Some(p) => GroVerdict::Inner(p),
            None => GroVerdict::Flush,
        }
    }

    fn gro_complete(_port: &PortState, gro: &GroComplete<'_>) -> Option<(u8, usize)> {
        gue_gro_complete(gro)
    }
}

impl PortState {
    /// Ends a received packet: resubmits it to its inner protocol, counted,
    /// or drops it for the cause decapsulation gave.
    #[inline(always)]
    fn deliver(&self, skb: RxSkb<'_>, decap: Result<u8, DropCause>) -> Verdict {
        match decap {
            Ok(proto) => {
                self.stats.inc(Counter::RxPackets);
                self.stats.add(Counter::RxBytes, u64::from(skb.len()));
                if !self.protocols.handled(proto) {
                    self.stats.inc(Counter::NoHandler);
                }
                skb.resubmit(proto)
            }
            Err(cause) => {
                self.stats.inc(cause.counter());
                skb.drop_for(cause.reason())
            }
        }
    }
}
