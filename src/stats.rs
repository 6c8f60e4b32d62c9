// SPDX-License-Identifier: GPL-2.0

//! What a port receives and why it drops: per-port counters, beyond the C
//! module (which counts nothing per port and frees its drops without a
//! reason).
//!
//! Counted per CPU on the receive path; read through the `fou` family, in
//! the `stats` attribute that a GET or dump carrying it gets back.

use crate::gue::GueError;
use crate::net::percpu::{
    CounterPool, //
    PerCpuCounters,
};
use crate::net::skb::{
    DropReason, //
    PullError,
};
use kernel::prelude::*;

/// A counter of a port, by its index (the `stats` attribute `index + 1`
/// carries it, src/fou.yaml).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Counter {
    /// Packets decapsulated and handed to their inner protocol.
    RxPackets = 0,
    /// Bytes of those packets, inner headers included.
    RxBytes = 1,
    /// Dropped: the header (UDP payload, GUE header or its options) is
    /// truncated, or the outer IP length is shorter than it.
    DropMalformed = 2,
    /// Dropped: an undefined GUE version, a version 1 packet that is not
    /// IPv4 or IPv6, or unknown GUE flags (or flags whose options are
    /// missing).
    DropGueUnknown = 3,
    /// Dropped: a GUE control message (not supported, as in C).
    DropControl = 4,
    /// Dropped: GUE inner protocol 0.
    DropProto = 5,
    /// Handed to an inner protocol with no handler: the IP layer drops it
    /// (answering "protocol unreachable") unless a raw socket takes it.
    /// Also counted in [`Counter::RxPackets`].
    NoHandler = 6,
    /// Dropped: a remote checksum offload option outside the packet, or
    /// with its checksum field before the checksummed data.
    DropRemCsum = 7,
    /// Dropped: memory ran out.
    DropNoMem = 8,
}

/// How many counters a port has.
const COUNTERS: usize = 9;

/// The counters of packets the receive path dropped.
const DROPS: [Counter; 6] = [
    Counter::DropMalformed,
    Counter::DropGueUnknown,
    Counter::DropControl,
    Counter::DropProto,
    Counter::DropRemCsum,
    Counter::DropNoMem,
];

/// Why the receive path drops a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DropCause {
    /// Truncated or malformed header.
    Malformed,
    /// Unknown GUE version or flags.
    GueUnknown,
    /// A GUE control message.
    Control,
    /// GUE inner protocol 0.
    Proto,
    /// Remote checksum offload option out of range.
    RemCsum,
    /// Out of memory.
    NoMem,
}

impl DropCause {
    /// The counter this drop counts in.
    pub(crate) fn counter(self) -> Counter {
        match self {
            DropCause::Malformed => Counter::DropMalformed,
            DropCause::GueUnknown => Counter::DropGueUnknown,
            DropCause::Control => Counter::DropControl,
            DropCause::Proto => Counter::DropProto,
            DropCause::RemCsum => Counter::DropRemCsum,
            DropCause::NoMem => Counter::DropNoMem,
        }
    }

    /// The kernel's drop reason for it.
    pub(crate) fn reason(self) -> DropReason {
        match self {
            DropCause::Malformed => DropReason::PktTooSmall,
            DropCause::GueUnknown | DropCause::Control => DropReason::UnhandledProto,
            DropCause::Proto => DropReason::IpNoProto,
            DropCause::RemCsum => DropReason::SkbCsum,
            DropCause::NoMem => DropReason::NoMem,
        }
    }
}

impl From<GueError> for DropCause {
    fn from(e: GueError) -> DropCause {
        match e {
            GueError::Truncated => DropCause::Malformed,
            GueError::Version | GueError::Flags => DropCause::GueUnknown,
            GueError::RemCsum => DropCause::RemCsum,
        }
    }
}

impl From<PullError> for DropCause {
    fn from(e: PullError) -> DropCause {
        match e {
            PullError::Short => DropCause::Malformed,
            PullError::RemCsum => DropCause::RemCsum,
            PullError::NoMem => DropCause::NoMem,
        }
    }
}

/// The counters of one port.
pub(crate) struct PortStats {
    counters: PerCpuCounters<COUNTERS>,
}

/// Where ports' counters come from.
pub(crate) type StatsPool = CounterPool<COUNTERS>;

impl PortStats {
    /// Zeroed counters, from `pool`.
    pub(crate) fn new(pool: &StatsPool) -> Result<Self> {
        Ok(PortStats {
            counters: pool.take()?,
        })
    }

    /// Adds `v` to counter `c` on this CPU.
    #[inline]
    pub(crate) fn add(&self, c: Counter, v: u64) {
        self.counters.add(c as usize, v);
    }

    /// Adds one to counter `c` on this CPU.
    #[inline]
    pub(crate) fn inc(&self, c: Counter) {
        self.counters.inc(c as usize);
    }

    /// The counters now; `socket_drops` is the port's socket's drop counter,
    /// from which the drops UDP made before decapsulation follow.
    pub(crate) fn snapshot(&self, socket_drops: u64) -> Snapshot {
        let values = self.counters.sum();
        // The socket's counter holds every drop of the receive path (which
        // counts each in the socket too) and UDP's own: the rest is UDP's.
        let ours = DROPS
            .iter()
            .fold(0u64, |a, c| a.wrapping_add(values[*c as usize]));
        Snapshot {
            values,
            udp_drops: socket_drops.saturating_sub(ours),
        }
    }
}

/// The counters of a port at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Snapshot {
    /// By [`Counter`] index.
    values: [u64; COUNTERS],
    /// Dropped by UDP before decapsulation: a bad UDP checksum (or an
    /// IPsec policy). UDP verifies datagrams of up to 76 bytes before it
    /// looks their socket up, and drops bad ones without charging a socket:
    /// those are not in here.
    udp_drops: u64,
}

/// The `stats` attribute that carries [`Snapshot::udp_drops`] (`drop-csum`
/// in src/fou.yaml), after those of the counters: counter `i` is carried
/// by attribute `i + 1`.
const ATTR_DROP_CSUM: u16 = COUNTERS as u16 + 1;

impl Snapshot {
    /// Every counter with its attribute number, in number order.
    pub(crate) fn attrs(&self) -> [(u16, u64); COUNTERS + 1] {
        let mut out = [(ATTR_DROP_CSUM, self.udp_drops); COUNTERS + 1];
        for (n, (slot, v)) in (1u16..).zip(out.iter_mut().zip(self.values)) {
            *slot = (n, v);
        }
        out
    }
}

#[kunit_tests(fou_rs_stats)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_numbered_in_order() -> Result {
        let pool = KBox::pin_init(StatsPool::new(), GFP_KERNEL)?;
        let a = PortStats::new(&pool)?.snapshot(0).attrs();
        for (i, (n, _)) in a.iter().enumerate() {
            assert_eq!(usize::from(*n), i + 1);
        }
        assert_eq!(a[Counter::DropNoMem as usize].0, 9);
        assert_eq!(a[COUNTERS].0, 10);
        Ok(())
    }

    #[test]
    fn counts_add_up_and_udp_drops_are_the_rest() -> Result {
        let pool = KBox::pin_init(StatsPool::new(), GFP_KERNEL)?;
        let s = PortStats::new(&pool)?;
        s.add(Counter::RxPackets, 2);
        s.add(Counter::RxBytes, 100);
        s.inc(Counter::DropControl);
        s.add(Counter::DropRemCsum, 1);
        s.add(Counter::NoHandler, 1);
        // The socket counted the two drops above and three of UDP's.
        let a = s.snapshot(5).attrs();
        assert_eq!(a[0], (1, 2));
        assert_eq!(a[1], (2, 100));
        assert_eq!(a[4], (5, 1));
        assert_eq!(a[6], (7, 1));
        assert_eq!(a[7], (8, 1));
        assert_eq!(a[9], (10, 3));
        // A socket count read before the last drop: never below zero.
        assert_eq!(s.snapshot(1).attrs()[9], (10, 0));
        Ok(())
    }

    #[test]
    fn each_drop_has_its_counter() {
        for (d, c) in [
            (DropCause::Malformed, Counter::DropMalformed),
            (DropCause::GueUnknown, Counter::DropGueUnknown),
            (DropCause::Control, Counter::DropControl),
            (DropCause::Proto, Counter::DropProto),
            (DropCause::RemCsum, Counter::DropRemCsum),
            (DropCause::NoMem, Counter::DropNoMem),
        ] {
            assert_eq!(d.counter(), c);
        }
        assert_eq!(DropCause::from(GueError::Version), DropCause::GueUnknown);
        assert_eq!(DropCause::from(GueError::RemCsum), DropCause::RemCsum);
        assert_eq!(DropCause::from(PullError::Short), DropCause::Malformed);
    }
}
