// SPDX-License-Identifier: GPL-2.0

//! The attributes of a `fou` netlink request, parsed into a typed port
//! configuration.
//!
//! Mirrors `parse_nl_config` and the checks of `fou_create` in
//! net/ipv4/fou_core.c, as pure functions on the attribute payloads so that
//! KUnit can test them without a socket. The attribute policy (lengths,
//! IPPROTO at least 1) is applied by generic netlink before these run; the
//! parser still checks every length it reads.

pub(crate) use crate::net::inet::{
    Addr, //
    Family,
    Peer,
};
use crate::net::{
    errno::eafnosupport, //
    inet::{
        AF_INET, //
        AF_INET6,
    },
    udp_tunnel::SocketAddrs,
};
use core::ops::Deref;
use kernel::prelude::*;

/// An attribute of the `fou` family (include/uapi/linux/fou.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub(crate) enum Attr {
    /// Local UDP port, big endian (`FOU_ATTR_PORT`).
    Port = 1,
    /// Address family of the port, `AF_INET` or `AF_INET6`.
    Af = 2,
    /// The IP protocol a direct port hands its packets to.
    Ipproto = 3,
    /// Encapsulation type: 1 direct, 2 GUE.
    Type = 4,
    /// Flag: do not use partial checksums for remote checksum offload.
    RemcsumNopartial = 5,
    /// Local IPv4 address.
    LocalV4 = 6,
    /// Local IPv6 address.
    LocalV6 = 7,
    /// Peer IPv4 address.
    PeerV4 = 8,
    /// Peer IPv6 address.
    PeerV6 = 9,
    /// Peer UDP port, big endian.
    PeerPort = 10,
    /// Interface the port's socket is bound to.
    Ifindex = 11,
    /// The port's counters (a nest of [`crate::stats::StatsAttr`]), beyond
    /// the C module: numbered after its last attribute, and in a reply only
    /// when the GET or dump request carried it (empty), so that clients
    /// that know only the kernel's attributes never meet it.
    Stats = 12,
}

impl From<Attr> for u16 {
    fn from(a: Attr) -> u16 {
        a as u16
    }
}

/// The payloads of the attributes present in one `fou` request.
pub(crate) type Attrs<'a> = crate::net::genl::Attrs<'a, Attr>;

/// What identifies a port: its socket's addresses, everything `fou_cfg_cmp`
/// compares. Ports sort by family, then port.
///
/// # Invariants
///
/// `local` and `peer.addr`, when present, are of the family `family`.
/// `ifindex` is 0 (no device) unless `local` is present. It is negative only
/// in a key that is looked up (a GET or DEL names a device that cannot
/// exist, and finds no port, as in C): a port's key never has one
/// ([`parse_add`] refuses it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PortKey(SocketAddrs);

impl Deref for PortKey {
    type Target = SocketAddrs;

    fn deref(&self) -> &SocketAddrs {
        &self.0
    }
}

impl PortKey {
    /// The key of a port whose socket has the addresses `a`, read as
    /// [`parse_key`] reads a request: a zero local address without a
    /// device is no local address; a device needs a local address.
    /// Addresses of another family than `a.family` are dropped.
    pub(crate) fn of_socket(a: SocketAddrs) -> PortKey {
        let local = a.local.filter(|l| l.family() == a.family);
        let ifindex = if local.is_some() { a.ifindex.max(0) } else { 0 };
        // INVARIANT: the addresses are of the family (filtered); `ifindex`
        // is 0 unless `local` is present, and not negative.
        PortKey(SocketAddrs {
            local: local.filter(|l| ifindex != 0 || !l.is_unspecified()),
            peer: a.peer.filter(|p| p.port != 0 && p.addr.family() == a.family),
            ifindex,
            ..a
        })
    }
}

#[cfg(CONFIG_KUNIT = "y")]
impl PortKey {
    /// For tests: the key of an IPv4 port, bound to `local` if given.
    pub(crate) fn inet(port: u16, local: Option<[u8; 4]>) -> PortKey {
        // INVARIANT: an IPv4 address, no device.
        PortKey(SocketAddrs {
            family: Family::Inet,
            port,
            local: local.map(Addr::V4),
            peer: None,
            ifindex: 0,
        })
    }
}

/// The size of an encoded [`PortKey`].
pub(crate) const KEY_BYTES: usize = 43;

impl PortKey {
    /// Encodes the key into bytes, for a dump's cursor.
    pub(crate) fn encode(&self) -> [u8; KEY_BYTES] {
        /// Writes an optional address as a tag byte and 16 address bytes.
        fn put_addr(out: &mut [u8], addr: Option<&Addr>) {
            match addr {
                None => out[0] = 0,
                Some(Addr::V4(a)) => {
                    out[0] = 4;
                    out[1..5].copy_from_slice(a);
                }
                Some(Addr::V6(a)) => {
                    out[0] = 6;
                    out[1..17].copy_from_slice(a);
                }
            }
        }
        let mut out = [0u8; KEY_BYTES];
        out[0] = self.family.af();
        out[1..3].copy_from_slice(&self.port.to_be_bytes());
        put_addr(&mut out[3..20], self.local.as_ref());
        put_addr(&mut out[20..37], self.peer.as_ref().map(|p| &p.addr));
        if let Some(p) = &self.peer {
            out[37..39].copy_from_slice(&p.port.to_be_bytes());
        }
        out[39..43].copy_from_slice(&self.ifindex.to_ne_bytes());
        out
    }

    /// Decodes what [`PortKey::encode`] wrote; `None` for anything else.
    pub(crate) fn decode(b: &[u8]) -> Option<PortKey> {
        let b: &[u8; KEY_BYTES] = b.get(..KEY_BYTES)?.try_into().ok()?;
        let family = match b[0] {
            AF_INET => Family::Inet,
            AF_INET6 => Family::Inet6,
            _ => return None,
        };
        let get_addr = |t: &[u8]| -> Option<Option<Addr>> {
            match (t[0], family) {
                (0, _) => Some(None),
                (4, Family::Inet) => Some(Some(Addr::V4(t[1..5].try_into().ok()?))),
                (6, Family::Inet6) => Some(Some(Addr::V6(t[1..17].try_into().ok()?))),
                _ => None,
            }
        };
        let local = get_addr(&b[3..20])?;
        let peer = get_addr(&b[20..37])?.map(|addr| Peer {
            addr,
            port: u16::from_be_bytes([b[37], b[38]]),
        });
        let ifindex = i32::from_ne_bytes([b[39], b[40], b[41], b[42]]);
        if ifindex < 0 || (ifindex != 0 && local.is_none()) {
            return None;
        }
        // INVARIANT: addresses match `family`; `ifindex` checked above.
        Some(PortKey(SocketAddrs {
            family,
            port: u16::from_be_bytes([b[1], b[2]]),
            local,
            peer,
            ifindex,
        }))
    }
}

/// How a port decapsulates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encap {
    /// FOU direct: the UDP payload is a packet of IP protocol `ipproto`.
    Direct {
        /// The inner IP protocol, never 0.
        ipproto: u8,
    },
    /// Generic UDP Encapsulation: the protocol is in the GUE header.
    Gue,
}

/// A port to create: its key and how it decapsulates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PortConfig {
    /// What identifies the port.
    pub(crate) key: PortKey,
    /// How it decapsulates.
    pub(crate) encap: Encap,
    /// Whether remote checksum offload avoids partial checksums.
    pub(crate) remcsum_nopartial: bool,
}

/// Reads an address of `family` from the V4 or V6 attribute.
fn addr(attrs: &Attrs<'_>, family: Family, v4: Attr, v6: Attr) -> Result<Option<Addr>> {
    Ok(match family {
        Family::Inet => attrs.bytes::<4>(v4)?.map(Addr::V4),
        Family::Inet6 => attrs.bytes::<16>(v6)?.map(Addr::V6),
    })
}

/// Parses what identifies a port, as DEL and GET need it.
///
/// AF defaults to `AF_INET`; any other family than `AF_INET`/`AF_INET6` is
/// `EAFNOSUPPORT`. PORT is required (`EINVAL`): the C module's acceptance of
/// a missing port (binding a random one) led to a use-after-free. A peer
/// address needs PEER_PORT, and IFINDEX needs a local address (`EINVAL`);
/// a negative IFINDEX is looked up, and matches no port, as in C.
/// Addresses of the other family are ignored, as in C.
///
/// What a GET or dump replies for a port without a local address or peer
/// (LOCAL and PEER all zero, PEER_PORT 0, IFINDEX 0) identifies that port,
/// as C's `fou_cfg_cmp` finds it: a zero local address without a device
/// is no local address, a zero peer on port 0 no peer.
pub(crate) fn parse_key(attrs: &Attrs<'_>) -> Result<PortKey> {
    let family = match attrs.u8(Attr::Af)? {
        None | Some(AF_INET) => Family::Inet,
        Some(AF_INET6) => Family::Inet6,
        Some(_) => return Err(eafnosupport()),
    };
    let port = attrs.be16(Attr::Port)?.ok_or(EINVAL)?;
    let local = addr(attrs, family, Attr::LocalV4, Attr::LocalV6)?;
    let peer = match addr(attrs, family, Attr::PeerV4, Attr::PeerV6)? {
        None => None,
        Some(addr) => Some(Peer {
            addr,
            port: attrs.be16(Attr::PeerPort)?.ok_or(EINVAL)?,
        }),
    };
    let ifindex = match attrs.s32(Attr::Ifindex)? {
        None => 0,
        Some(_) if local.is_none() => return Err(EINVAL),
        Some(i) => i,
    };
    let local = local.filter(|a| ifindex != 0 || !a.is_unspecified());
    let peer = peer.filter(|p| p.port != 0 || !p.addr.is_unspecified());
    // INVARIANT: the addresses were read for `family`; `ifindex` is 0 unless
    // `local` is present.
    Ok(PortKey(SocketAddrs {
        family,
        port,
        local,
        peer,
        ifindex,
    }))
}

/// Parses an ADD request into the port to create.
///
/// On top of [`parse_key`]: a negative IFINDEX is `EINVAL` (C's bind
/// fails on it); a peer on PEER_PORT 0 is no peer (C connects the socket
/// only to a peer port, and its GET and dumps then show no peer); TYPE is
/// required and must be direct (1) or GUE (2), else `EINVAL`; a direct
/// port needs IPPROTO (`EINVAL` when missing, `ERANGE` for 0, as the
/// policy answers it).
pub(crate) fn parse_add(attrs: &Attrs<'_>) -> Result<PortConfig> {
    let PortKey(mut addrs) = parse_key(attrs)?;
    if addrs.ifindex < 0 {
        return Err(EINVAL);
    }
    addrs.peer = addrs.peer.filter(|p| p.port != 0);
    // INVARIANT: `parse_key`'s, with a non-negative `ifindex`.
    let key = PortKey(addrs);
    let encap = match attrs.u8(Attr::Type)? {
        Some(1) => match attrs.u8(Attr::Ipproto)? {
            None => return Err(EINVAL),
            Some(0) => return Err(ERANGE),
            Some(ipproto) => Encap::Direct { ipproto },
        },
        Some(2) => Encap::Gue,
        _ => return Err(EINVAL),
    };
    Ok(PortConfig {
        key,
        encap,
        remcsum_nopartial: attrs.get(Attr::RemcsumNopartial).is_some(),
    })
}

#[kunit_tests(fou_rs_config)]
mod tests {
    use super::*;

    const PORT_55555: [u8; 2] = 55555u16.to_be_bytes();
    const DIRECT: [u8; 1] = [1];
    const GUE: [u8; 1] = [2];
    const GRE: [u8; 1] = [47];
    const INET6: [u8; 1] = [AF_INET6];
    const V4_A: [u8; 4] = [192, 0, 2, 1];
    const V4_B: [u8; 4] = [192, 0, 2, 2];
    const V6_A: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const PEER_PORT: [u8; 2] = 4242u16.to_be_bytes();
    const ZERO_PORT: [u8; 2] = [0; 2];
    const IFINDEX_2: [u8; 4] = 2i32.to_ne_bytes();

    /// A GRE port on 55555, the seed's `ip fou add port 55555 ipproto 47`.
    fn gre_port() -> Attrs<'static> {
        let mut a = Attrs::default();
        a.set(Attr::Port, &PORT_55555);
        a.set(Attr::Type, &DIRECT);
        a.set(Attr::Ipproto, &GRE);
        a
    }

    #[test]
    fn af_defaults_to_inet() -> Result {
        let cfg = parse_add(&gre_port())?;
        assert_eq!(cfg.key.family, Family::Inet);
        assert_eq!(cfg.key.port, 55555);
        assert_eq!(cfg.encap, Encap::Direct { ipproto: 47 });
        assert!(cfg.key.local.is_none());
        assert!(cfg.key.peer.is_none());
        assert_eq!(cfg.key.ifindex, 0);
        assert!(!cfg.remcsum_nopartial);
        Ok(())
    }

    #[test]
    fn inet6_port_reads_v6_addresses_only() -> Result {
        let mut a = gre_port();
        a.set(Attr::Af, &INET6);
        a.set(Attr::LocalV4, &V4_A);
        a.set(Attr::LocalV6, &V6_A);
        let key = parse_key(&a)?;
        assert_eq!(key.family, Family::Inet6);
        assert_eq!(key.family.af(), AF_INET6);
        assert_eq!(key.local, Some(Addr::V6(V6_A)));
        Ok(())
    }

    #[test]
    fn two_byte_af_from_old_iproute2_is_accepted() -> Result {
        let af16 = u16::from(AF_INET6).to_ne_bytes();
        let mut a = gre_port();
        a.set(Attr::Af, &af16);
        assert_eq!(parse_key(&a)?.family, Family::Inet6);
        Ok(())
    }

    #[test]
    fn unknown_af_is_eafnosupport() {
        let mut a = gre_port();
        a.set(Attr::Af, &[7]);
        assert_eq!(parse_key(&a), Err(eafnosupport()));
    }

    #[test]
    fn missing_port_is_einval() {
        let mut a = Attrs::default();
        a.set(Attr::Type, &GUE);
        assert_eq!(parse_add(&a), Err(EINVAL));
        assert_eq!(parse_key(&a), Err(EINVAL));
    }

    #[test]
    fn peer_needs_peer_port() -> Result {
        let mut a = gre_port();
        a.set(Attr::PeerV4, &V4_B);
        assert_eq!(parse_key(&a), Err(EINVAL));
        a.set(Attr::PeerPort, &PEER_PORT);
        let peer = parse_key(&a)?.peer;
        assert_eq!(
            peer,
            Some(Peer {
                addr: Addr::V4(V4_B),
                port: 4242
            })
        );
        Ok(())
    }

    #[test]
    fn a_peer_on_port_0_is_no_peer_for_add_only() -> Result {
        let mut a = gre_port();
        a.set(Attr::PeerV4, &V4_B);
        a.set(Attr::PeerPort, &ZERO_PORT);
        assert!(parse_add(&a)?.key.peer.is_none());
        // Looked up, it names a peer no port has (C compares it with the
        // unconnected socket's zero peer): it finds nothing.
        assert!(parse_key(&a)?.peer.is_some());
        Ok(())
    }

    #[test]
    fn a_key_is_what_the_socket_has() {
        let sock = |local, peer, ifindex| {
            PortKey::of_socket(SocketAddrs {
                family: Family::Inet,
                port: 55555,
                local,
                peer,
                ifindex,
            })
        };
        let zero = Some(Addr::V4([0; 4]));
        let peer = Some(Peer {
            addr: Addr::V4(V4_B),
            port: 4242,
        });
        // Bound to no address, unconnected: the key of `ip fou add port`.
        assert_eq!(sock(zero, None, 0), PortKey::inet(55555, None));
        // Connected without a local address: the route's source, as C lists it.
        let k = sock(Some(Addr::V4(V4_A)), peer, 0);
        assert_eq!((k.local, k.peer), (Some(Addr::V4(V4_A)), peer));
        // A zero address on a device stays; a device without one goes.
        assert_eq!((sock(zero, None, 2).local, sock(zero, None, 2).ifindex), (zero, 2));
        assert_eq!(sock(None, None, 2).ifindex, 0);
        // Another family's address is none.
        assert_eq!(sock(Some(Addr::V6(V6_A)), None, 0).local, None);
    }

    #[test]
    fn peer_port_without_peer_is_ignored() -> Result {
        let mut a = gre_port();
        a.set(Attr::PeerPort, &PEER_PORT);
        assert!(parse_key(&a)?.peer.is_none());
        Ok(())
    }

    #[test]
    fn ifindex_needs_local() -> Result {
        let mut a = gre_port();
        a.set(Attr::Ifindex, &IFINDEX_2);
        assert_eq!(parse_key(&a), Err(EINVAL));
        a.set(Attr::LocalV4, &V4_A);
        let key = parse_key(&a)?;
        assert_eq!(key.ifindex, 2);
        assert_eq!(key.local, Some(Addr::V4(V4_A)));
        Ok(())
    }

    #[test]
    fn what_a_dump_replies_identifies_the_port() -> Result {
        // A port without local address or peer, as GET and dumps give it.
        let zero4 = [0u8; 4];
        let zero_port = 0u16.to_be_bytes();
        let zero_ifindex = 0i32.to_ne_bytes();
        let mut a = gre_port();
        a.set(Attr::LocalV4, &zero4);
        a.set(Attr::PeerV4, &zero4);
        a.set(Attr::PeerPort, &zero_port);
        a.set(Attr::Ifindex, &zero_ifindex);
        assert_eq!(parse_key(&a)?, parse_key(&gre_port())?);
        // IPv6 likewise.
        let zero6 = [0u8; 16];
        let mut b = gre_port();
        b.set(Attr::Af, &INET6);
        b.set(Attr::LocalV6, &zero6);
        b.set(Attr::PeerV6, &zero6);
        b.set(Attr::PeerPort, &zero_port);
        b.set(Attr::Ifindex, &zero_ifindex);
        let mut c = gre_port();
        c.set(Attr::Af, &INET6);
        assert_eq!(parse_key(&b)?, parse_key(&c)?);
        // A zero address with a device, or a zero peer on a port, stays.
        a.set(Attr::Ifindex, &IFINDEX_2);
        assert_eq!(parse_key(&a)?.local, Some(Addr::V4(zero4)));
        a.set(Attr::PeerPort, &PEER_PORT);
        assert!(parse_key(&a)?.peer.is_some());
        Ok(())
    }

    #[test]
    fn negative_ifindex_is_einval_for_add_only() -> Result {
        let neg = (-3i32).to_ne_bytes();
        let mut a = gre_port();
        a.set(Attr::LocalV4, &V4_A);
        a.set(Attr::Ifindex, &neg);
        assert_eq!(parse_add(&a).map(|c| c.key), Err(EINVAL));
        // A GET or DEL looks it up, and finds nothing.
        assert_eq!(parse_key(&a)?.ifindex, -3);
        Ok(())
    }

    #[test]
    fn direct_needs_ipproto() {
        let mut a = Attrs::default();
        a.set(Attr::Port, &PORT_55555);
        a.set(Attr::Type, &DIRECT);
        assert_eq!(parse_add(&a), Err(EINVAL));
        a.set(Attr::Ipproto, &[0]);
        assert_eq!(parse_add(&a), Err(ERANGE));
    }

    #[test]
    fn type_is_required_and_known() -> Result {
        let mut a = gre_port();
        a.set(Attr::Type, &[3]);
        assert_eq!(parse_add(&a), Err(EINVAL));
        let mut b = Attrs::default();
        b.set(Attr::Port, &PORT_55555);
        b.set(Attr::Ipproto, &GRE);
        assert_eq!(parse_add(&b), Err(EINVAL));
        // DEL and GET need no type.
        assert_eq!(parse_key(&b)?.port, 55555);
        Ok(())
    }

    #[test]
    fn gue_ignores_ipproto_and_keeps_flags() -> Result {
        let mut a = Attrs::default();
        a.set(Attr::Port, &PORT_55555);
        a.set(Attr::Type, &GUE);
        a.set(Attr::RemcsumNopartial, &[]);
        let cfg = parse_add(&a)?;
        assert_eq!(cfg.encap, Encap::Gue);
        assert!(cfg.remcsum_nopartial);
        Ok(())
    }

    #[test]
    fn short_payloads_are_einval() {
        let mut a = Attrs::default();
        a.set(Attr::Port, &[1]);
        assert_eq!(parse_key(&a), Err(EINVAL));
        let mut b = gre_port();
        b.set(Attr::Af, &INET6);
        b.set(Attr::LocalV6, &V6_A[..15]);
        assert_eq!(parse_key(&b), Err(EINVAL));
    }

    #[test]
    fn cursor_encoding_round_trips() -> Result {
        let mut a = gre_port();
        a.set(Attr::LocalV4, &V4_A);
        a.set(Attr::PeerV4, &V4_B);
        a.set(Attr::PeerPort, &PEER_PORT);
        a.set(Attr::Ifindex, &IFINDEX_2);
        let mut b = gre_port();
        b.set(Attr::Af, &INET6);
        b.set(Attr::LocalV6, &V6_A);
        for key in [parse_key(&gre_port())?, parse_key(&a)?, parse_key(&b)?] {
            assert_eq!(PortKey::decode(&key.encode()), Some(key));
        }
        let mut bad = parse_key(&a)?.encode();
        bad[0] = 7;
        assert_eq!(PortKey::decode(&bad), None);
        let mut bad = parse_key(&a)?.encode();
        bad[3] = 6; // an IPv6 local address on an IPv4 key
        assert_eq!(PortKey::decode(&bad), None);
        assert_eq!(PortKey::decode(&[0u8; 10]), None);
        Ok(())
    }

    #[test]
    fn keys_order_by_family_then_port() -> Result {
        let k4 = parse_key(&gre_port())?;
        let mut a = gre_port();
        a.set(Attr::Af, &INET6);
        let k6 = parse_key(&a)?;
        let p = 1u16.to_be_bytes();
        let mut b = gre_port();
        b.set(Attr::Port, &p);
        let k4_low = parse_key(&b)?;
        assert!(k4_low < k4);
        assert!(k4 < k6);
        assert!(k4 != k6);
        Ok(())
    }
}
