// SPDX-License-Identifier: GPL-2.0

//! GUE headers, parsed from bytes.
//!
//! Mirrors `struct guehdr` and `validate_gue_flags` of include/net/gue.h as
//! pure functions on byte slices: the header is copied out of the packet,
//! never read through a pointer that a later pull could move (upstream bug:
//! the GUE header used after a pull that reallocated the buffer).

use crate::net::errno::eopnotsupp;
use kernel::prelude::*;

/// The size of the fixed GUE header.
pub(crate) const GUE_HLEN: usize = 4;
/// The most option bytes a version 0 header can announce (`hlen` is 5 bits
/// of 32-bit words).
pub(crate) const MAX_OPTLEN: usize = 31 * 4;
/// The longest header fou-rs sends: the fixed header, the private flags and
/// the remote checksum offload option.
pub(crate) const MAX_TX_HLEN: usize = GUE_HLEN + LEN_PRIV + PLEN_REMCSUM;
/// Standard flag: private flags follow in the options.
const FLAG_PRIV: u16 = 1 << 0;
/// Length of the private flags word.
const LEN_PRIV: usize = 4;
/// Private flag: remote checksum offload option present.
const PFLAG_REMCSUM: u32 = 1 << 31;
/// Length of the remote checksum offload option.
const PLEN_REMCSUM: usize = 4;

/// The first word of a GUE packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Gue {
    /// Version 0: a full GUE header.
    V0 {
        /// Control message (not data).
        control: bool,
        /// Length of the options after the 4-byte header, in bytes.
        optlen: usize,
        /// Inner IP protocol (data) or control type.
        proto_ctype: u8,
        /// Standard flags.
        flags: u16,
    },
    /// Version 1: an IPv4 (4) or IPv6 (6) packet directly after UDP.
    V1 {
        /// The inner IP version nibble.
        ip_version: u8,
    },
}

/// Why a GUE header is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GueError {
    /// Fewer bytes than the header or its options need.
    Truncated,
    /// Versions 2 and 3 are undefined; version 1 needs IPv4 or IPv6.
    Version,
    /// Unknown standard or private flags, or options that do not fit.
    Flags,
    /// A remote checksum offload option whose checksum field comes before
    /// the checksummed data.
    RemCsum,
}

impl From<GueError> for Error {
    fn from(e: GueError) -> Error {
        match e {
            GueError::Truncated | GueError::Flags | GueError::RemCsum => EINVAL,
            GueError::Version => eopnotsupp(),
        }
    }
}

/// Parses the first word of a GUE packet (the bytes after UDP).
#[inline]
pub(crate) fn parse(b: &[u8]) -> Result<Gue, GueError> {
    let w: [u8; GUE_HLEN] = b
        .get(..GUE_HLEN)
        .and_then(|s| s.try_into().ok())
        .ok_or(GueError::Truncated)?;
    match w[0] >> 6 {
        0 => Ok(Gue::V0 {
            control: w[0] & 0x20 != 0,
            optlen: usize::from(w[0] & 0x1f) * 4,
            proto_ctype: w[1],
            flags: u16::from_be_bytes([w[2], w[3]]),
        }),
        1 => match w[0] >> 4 {
            ip_version @ (4 | 6) => Ok(Gue::V1 { ip_version }),
            _ => Err(GueError::Version),
        },
        _ => Err(GueError::Version),
    }
}

/// The options of a version 0 header that fou-rs understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct GueOptions {
    /// Remote checksum offload: (start, offset) from the option.
    pub(crate) remcsum: Option<(u16, u16)>,
}

/// Validates the flags of a version 0 header against its options `opts`
/// (exactly `optlen` bytes), as `validate_gue_flags` does, and returns the
/// options found.
#[inline]
pub(crate) fn validate_flags(flags: u16, opts: &[u8]) -> Result<GueOptions, GueError> {
    if flags & !FLAG_PRIV != 0 {
        return Err(GueError::Flags);
    }
    let mut out = GueOptions::default();
    if flags & FLAG_PRIV == 0 {
        return Ok(out);
    }
    let p = opts.get(..LEN_PRIV).ok_or(GueError::Flags)?;
    let pflags = u32::from_be_bytes([p[0], p[1], p[2], p[3]]);
    if pflags & !PFLAG_REMCSUM != 0 {
        return Err(GueError::Flags);
    }
    if pflags & PFLAG_REMCSUM != 0 {
        let r = opts
            .get(LEN_PRIV..LEN_PRIV + PLEN_REMCSUM)
            .ok_or(GueError::Flags)?;
        let start = u16::from_be_bytes([r[0], r[1]]);
        let offset = u16::from_be_bytes([r[2], r[3]]);
        // The checksum field must not come before the checksum start.
        if offset < start {
            return Err(GueError::RemCsum);
        }
        out.remcsum = Some((start, offset));
    }
    Ok(out)
}

/// The bytes of a GUE header to send (`__gue_build_header`): version 0,
/// data, inner protocol `proto`; with `remcsum` = (start, offset) from the
/// inner packet, the private flags word and the remote checksum offload
/// option. Returns the buffer and how many of its bytes are the header.
#[inline]
pub(crate) fn build(proto: u8, remcsum: Option<(u16, u16)>) -> ([u8; MAX_TX_HLEN], usize) {
    let mut h = [0u8; MAX_TX_HLEN];
    h[1] = proto;
    let Some((start, offset)) = remcsum else {
        return (h, GUE_HLEN);
    };
    // CAST: the options are 8 bytes, 2 words.
    h[0] = ((LEN_PRIV + PLEN_REMCSUM) / 4) as u8;
    h[2..4].copy_from_slice(&FLAG_PRIV.to_be_bytes());
    h[4..8].copy_from_slice(&PFLAG_REMCSUM.to_be_bytes());
    h[8..10].copy_from_slice(&start.to_be_bytes());
    h[10..12].copy_from_slice(&offset.to_be_bytes());
    (h, MAX_TX_HLEN)
}

/// The header length `build` produces with or without remote checksum
/// offload (`gue_encap_hlen` without the UDP header).
pub(crate) fn tx_hlen(remcsum: bool) -> usize {
    if remcsum {
        MAX_TX_HLEN
    } else {
        GUE_HLEN
    }
}

#[kunit_tests(fou_rs_gue)]
mod tests {
    use super::*;

    #[test]
    fn version_0_fields() {
        // hlen 2 words, control clear, proto 47, flags PRIV.
        assert_eq!(
            parse(&[0x02, 47, 0x00, 0x01, 0xff]),
            Ok(Gue::V0 {
                control: false,
                optlen: 8,
                proto_ctype: 47,
                flags: 1
            })
        );
        assert_eq!(
            parse(&[0x20, 0, 0, 0]),
            Ok(Gue::V0 {
                control: true,
                optlen: 0,
                proto_ctype: 0,
                flags: 0
            })
        );
    }

    #[test]
    fn version_1_needs_ipv4_or_ipv6() {
        assert_eq!(parse(&[0x45, 0, 0, 0]), Ok(Gue::V1 { ip_version: 4 }));
        assert_eq!(parse(&[0x60, 0, 0, 0]), Ok(Gue::V1 { ip_version: 6 }));
        assert_eq!(parse(&[0x55, 0, 0, 0]), Err(GueError::Version));
        assert_eq!(parse(&[0x70, 0, 0, 0]), Err(GueError::Version));
    }

    #[test]
    fn versions_2_and_3_are_refused() {
        assert_eq!(parse(&[0x80, 47, 0, 0]), Err(GueError::Version));
        assert_eq!(parse(&[0xc0, 47, 0, 0]), Err(GueError::Version));
    }

    #[test]
    fn truncated_headers_are_refused() {
        assert_eq!(parse(&[]), Err(GueError::Truncated));
        assert_eq!(parse(&[0, 47, 0]), Err(GueError::Truncated));
    }

    #[test]
    fn unknown_flags_are_refused() {
        assert_eq!(validate_flags(0x8000, &[]), Err(GueError::Flags));
        assert_eq!(validate_flags(0x0002, &[0; 8]), Err(GueError::Flags));
    }

    #[test]
    fn private_flags_need_their_word() {
        assert_eq!(validate_flags(FLAG_PRIV, &[0, 0, 0]), Err(GueError::Flags));
        assert_eq!(validate_flags(FLAG_PRIV, &[0, 0, 0, 0]), Ok(GueOptions::default()));
        assert_eq!(validate_flags(FLAG_PRIV, &[0, 0, 0, 1]), Err(GueError::Flags));
    }

    #[test]
    fn built_headers_parse_back() {
        let (h, n) = build(47, None);
        assert_eq!(&h[..n], &[0, 47, 0, 0]);
        assert_eq!(n, tx_hlen(false));
        let (h, n) = build(4, Some((20, 26)));
        assert_eq!(&h[..n], &[2, 4, 0, 1, 0x80, 0, 0, 0, 0, 20, 0, 26]);
        assert_eq!(n, tx_hlen(true));
        assert_eq!(
            parse(&h[..n]),
            Ok(Gue::V0 {
                control: false,
                optlen: 8,
                proto_ctype: 4,
                flags: FLAG_PRIV
            })
        );
        assert_eq!(
            validate_flags(FLAG_PRIV, &h[GUE_HLEN..n]),
            Ok(GueOptions {
                remcsum: Some((20, 26))
            })
        );
    }

    #[test]
    fn remcsum_option_checked() {
        let ok = [0x80, 0, 0, 0, 0, 4, 0, 10];
        assert_eq!(
            validate_flags(FLAG_PRIV, &ok),
            Ok(GueOptions {
                remcsum: Some((4, 10))
            })
        );
        // The option's bytes missing.
        assert_eq!(validate_flags(FLAG_PRIV, &ok[..6]), Err(GueError::Flags));
        // Offset before start.
        assert_eq!(
            validate_flags(FLAG_PRIV, &[0x80, 0, 0, 0, 0, 10, 0, 4]),
            Err(GueError::RemCsum)
        );
        assert_eq!(
            validate_flags(FLAG_PRIV, &[0x80, 0, 0, 0, 0, 4, 0, 4]),
            Ok(GueOptions {
                remcsum: Some((4, 4))
            })
        );
    }
}
