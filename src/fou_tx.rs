// SPDX-License-Identifier: GPL-2.0

//! FOU and GUE transmit: the UDP (and GUE) header in front of a tunnel's
//! packets, for IPv4 and IPv6 tunnels, and the ICMP errors that come back.
//!
//! Mirrors `fou_encap_hlen`, `gue_encap_hlen`, `fou_build_header`,
//! `gue_build_header`, `__gue_build_header`, `fou_build_udp` and `gue_err`
//! in net/ipv4/fou_core.c, and their IPv6 twins in net/ipv6/fou6.c.

use crate::gue::{
    self, //
    Gue,
    GUE_HLEN,
};
use crate::net::encap::{
    EncapOps, //
    EncapParams,
    Flow,
};
use crate::net::errno::eopnotsupp;
use crate::net::skb::{
    IcmpError, //
    SkBuff,
};
use kernel::prelude::*;

/// The size of a UDP header.
pub(crate) const UDP_HLEN: usize = 8;
/// `IPPROTO_UDP`.
const IPPROTO_UDP: u8 = 17;
/// `IPPROTO_UDPLITE`.
const IPPROTO_UDPLITE: u8 = 136;
/// `IPPROTO_IPIP`.
pub(crate) const IPPROTO_IPIP: u8 = 4;
/// `IPPROTO_IPV6`.
pub(crate) const IPPROTO_IPV6: u8 = 41;

/// A UDP header from `sport` to `dport` over `len` bytes (header included),
/// checksum zero (filled in later, or left zero for `noencap-csum`).
///
/// Lengths above 65535 (GSO packets) are truncated as C's `htons` does;
/// segmentation rewrites them per segment.
#[inline]
pub(crate) fn udp_header(sport: u16, dport: u16, len: u32) -> [u8; UDP_HLEN] {
    // CAST: deliberate truncation to 16 bits, as in C (see above).
    let len = len as u16;
    let mut h = [0u8; UDP_HLEN];
    h[0..2].copy_from_slice(&sport.to_be_bytes());
    h[2..4].copy_from_slice(&dport.to_be_bytes());
    h[4..6].copy_from_slice(&len.to_be_bytes());
    h
}

/// The source port: fixed, or for `encap-sport auto` from the flow hash,
/// taken before anything is pushed (`__fou_build_header`).
#[inline]
fn sport(skb: &SkBuff<'_>, e: &EncapParams) -> u16 {
    e.sport.unwrap_or_else(|| skb.flow_src_port())
}

/// Pushes the UDP header and sets its checksum (`fou_build_udp`,
/// `fou6_build_udp`); returns the outer protocol.
#[inline]
fn push_udp(skb: &mut SkBuff<'_>, e: &EncapParams, flow: &Flow, sport: u16) -> u8 {
    // CAST: `UDP_HLEN` is 8. The sum is truncated to 16 bits in the header
    // anyway (no overflow check: a packet is far below 4 GiB).
    let len = skb.len().wrapping_add(UDP_HLEN as u32);
    skb.push_transport_header(&udp_header(sport, e.dport, len));
    skb.udp_set_csum(!e.csum, flow);
    IPPROTO_UDP
}

/// Handles an ICMP or ICMPv6 error quoting a FOU or GUE packet (`gue_err`,
/// `gue6_err`): finds the inner protocol from the bytes after the quoted
/// UDP header and hands the error to that protocol's handler, so that PMTU
/// exceptions reach the inner tunnel.
///
/// Every byte is pulled before it is read and copied out (upstream read
/// the GUE header outside the linear area); an inner UDP or UDP-Lite is
/// refused (upstream recursed without bound on it).
pub(crate) fn gue_err(skb: &mut SkBuff<'_>, err: &IcmpError<'_>) -> Result {
    let toff = usize::try_from(skb.transport_offset()).map_err(|_| EINVAL)?;
    let mut hdr = [0u8; UDP_HLEN + GUE_HLEN];
    skb.read(toff, &mut hdr)?;
    let proto = match gue::parse(&hdr[UDP_HLEN..])? {
        Gue::V1 { ip_version: 4 } => IPPROTO_IPIP,
        Gue::V1 { .. } => IPPROTO_IPV6,
        Gue::V0 { control: true, .. } => return Err(ENOENT),
        Gue::V0 {
            optlen,
            proto_ctype,
            flags,
            ..
        } => {
            let mut buf = [0u8; gue::MAX_OPTLEN];
            let opts = buf.get_mut(..optlen).ok_or(EINVAL)?;
            skb.read(toff + UDP_HLEN + GUE_HLEN, opts)?;
            gue::validate_flags(flags, opts)?;
            if proto_ctype == IPPROTO_UDP || proto_ctype == IPPROTO_UDPLITE {
                return Err(eopnotsupp());
            }
            proto_ctype
        }
    };
    skb.proto_err(proto, err)
}

/// The `encap fou` encapsulation: a UDP header.
pub(crate) struct FouEncap;

impl EncapOps for FouEncap {
    fn hlen(_e: &EncapParams) -> usize {
        UDP_HLEN
    }

    #[inline(always)]
    fn build_header(skb: &mut SkBuff<'_>, e: &EncapParams, _protocol: u8, flow: &Flow) -> Result<u8> {
        skb.handle_udp_tunnel_offloads(e.csum, false)?;
        let sport = sport(skb, e);
        Ok(push_udp(skb, e, flow, sport))
    }

    fn err(skb: &mut SkBuff<'_>, err: &IcmpError<'_>) -> Result {
        gue_err(skb, err)
    }
}

/// The `encap gue` encapsulation: a UDP header and a version 0 GUE header,
/// with the remote checksum offload option for `encap-remcsum` packets
/// whose checksum is left to offload.
pub(crate) struct GueEncap;

impl EncapOps for GueEncap {
    fn hlen(e: &EncapParams) -> usize {
        UDP_HLEN + gue::tx_hlen(e.remcsum)
    }

    #[inline(always)]
    fn build_header(skb: &mut SkBuff<'_>, e: &EncapParams, protocol: u8, flow: &Flow) -> Result<u8> {
        let remcsum = e.remcsum && skb.csum_partial();
        skb.handle_udp_tunnel_offloads(e.csum, remcsum)?;
        let sport = sport(skb, e);
        let option = if remcsum {
            // Relative to the inner packet, which starts at `data`; a
            // checksum that starts before it cannot be described.
            let (start, offset) = skb.csum_start_offset();
            let start = u16::try_from(start).map_err(|_| EINVAL)?;
            Some((start, start.checked_add(offset).ok_or(EINVAL)?))
        } else {
            None
        };
        let (h, n) = gue::build(protocol, option);
        // The options first, if any; then the 4-byte header, a copy of a
        // size known at compile time.
        if n > GUE_HLEN {
            skb.push(h.get(GUE_HLEN..n).ok_or(EINVAL)?);
        }
        skb.push_transport_header(&h[..GUE_HLEN]);
        if remcsum && !skb.is_gso() {
            skb.csum_none();
        }
        Ok(push_udp(skb, e, flow, sport))
    }

    fn err(skb: &mut SkBuff<'_>, err: &IcmpError<'_>) -> Result {
        gue_err(skb, err)
    }
}

#[kunit_tests(fou_rs_tx)]
mod tests {
    use super::*;

    #[test]
    fn seed_header_bytes() {
        // The seed capture: 33333 -> 55555, UDP length 0x0036, checksum 0.
        assert_eq!(
            udp_header(33333, 55555, 0x36),
            [0x82, 0x35, 0xd9, 0x03, 0x00, 0x36, 0x00, 0x00]
        );
    }

    #[test]
    fn length_truncates_like_htons() {
        assert_eq!(udp_header(1, 2, 0x1_0010)[4..6], [0x00, 0x10]);
    }

    #[test]
    fn fou_reserves_a_udp_header() {
        let e = EncapParams {
            sport: None,
            dport: 55555,
            csum: true,
            remcsum: false,
        };
        assert_eq!(FouEncap::hlen(&e), 8);
    }

    #[test]
    fn gue_reserves_its_options_only_with_remcsum() {
        let mut e = EncapParams {
            sport: None,
            dport: 5555,
            csum: false,
            remcsum: false,
        };
        // `gue_encap_hlen`: UDP + GUE, plus private flags and the option.
        assert_eq!(GueEncap::hlen(&e), 12);
        e.remcsum = true;
        assert_eq!(GueEncap::hlen(&e), 20);
    }
}
