// SPDX-License-Identifier: GPL-2.0

//! Internet address families, addresses and peers, as the socket and
//! packet wrappers of this layer take them.

/// `AF_INET`, as a byte (netlink attributes carry it so).
pub(crate) const AF_INET: u8 = 2;
/// `AF_INET6`, as a byte.
pub(crate) const AF_INET6: u8 = 10;

/// An address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Family {
    /// IPv4 (`AF_INET`).
    Inet,
    /// IPv6 (`AF_INET6`).
    Inet6,
}

impl Family {
    /// The `AF_*` number of this family.
    pub(crate) fn af(self) -> u8 {
        match self {
            Family::Inet => AF_INET,
            Family::Inet6 => AF_INET6,
        }
    }
}

/// An IP address, in network byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Addr {
    /// An IPv4 address.
    V4([u8; 4]),
    /// An IPv6 address.
    V6([u8; 16]),
}

impl Addr {
    /// The address's family.
    pub(crate) fn family(&self) -> Family {
        match self {
            Addr::V4(_) => Family::Inet,
            Addr::V6(_) => Family::Inet6,
        }
    }

    /// Whether this is the unspecified address (`0.0.0.0` or `::`).
    pub(crate) fn is_unspecified(&self) -> bool {
        match self {
            Addr::V4(b) => b.iter().all(|x| *x == 0),
            Addr::V6(b) => b.iter().all(|x| *x == 0),
        }
    }
}

/// The far end of a connected socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Peer {
    /// Peer address.
    pub(crate) addr: Addr,
    /// Peer UDP port, host order.
    pub(crate) port: u16,
}
