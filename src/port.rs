// SPDX-License-Identifier: GPL-2.0

//! The FOU ports of a network namespace.
//!
//! Mirrors `struct fou_net` of net/ipv4/fou_core.c, with a red-black tree
//! keyed by everything `fou_cfg_cmp` compares instead of a list: adding,
//! finding and deleting a port are O(log n), and a dump resumes after the
//! last key it sent, so no port is skipped at message boundaries.

use crate::config::{
    Encap, //
    Family,
    PortConfig,
    PortKey,
};
use crate::fou_rx::{
    FouReceiver, //
    GueReceiver,
};
use crate::net::errno::eaddrinuse;
use crate::stats::{
    PortStats, //
    Snapshot,
    StatsPool,
};
use crate::net::netns::{
    Net, //
    PernetId,
    PernetState,
};
use crate::net::skb::Protocols;
use crate::net::udp_tunnel::TunnelSocket;
use kernel::{
    new_mutex, //
    prelude::*,
    rbtree::{RBTree, RBTreeNodeReservation},
    sync::Mutex,
};
use core::sync::atomic::{
    AtomicBool, //
    Ordering,
};

/// Ports by key.
pub(crate) struct PortTable<V> {
    tree: RBTree<PortKey, V>,
}

impl<V> PortTable<V> {
    /// An empty table.
    pub(crate) fn new() -> Self {
        PortTable {
            tree: RBTree::new(),
        }
    }

    /// Whether a port with `key` exists.
    pub(crate) fn contains(&self, key: &PortKey) -> bool {
        self.tree.get(key).is_some()
    }

    /// Adds `value` under `key` in the node `node` allocated beforehand.
    ///
    /// `EADDRINUSE` when the key is taken (what the C module's second bind
    /// of the same address and port answers); the table is then unchanged.
    pub(crate) fn insert(
        &mut self,
        node: RBTreeNodeReservation<PortKey, V>,
        key: PortKey,
        value: V,
    ) -> Result {
        if self.contains(&key) {
            return Err(eaddrinuse());
        }
        self.tree.insert(node.into_node(key, value));
        Ok(())
    }

    /// Removes and returns the port with `key`.
    pub(crate) fn remove(&mut self, key: &PortKey) -> Option<V> {
        self.tree.remove(key)
    }

    /// The port with `key`.
    pub(crate) fn get(&self, key: &PortKey) -> Option<&V> {
        self.tree.get(key)
    }

    /// Removes and returns the first port in key order.
    pub(crate) fn pop_first(&mut self) -> Option<V> {
        let (_, node) = self.tree.cursor_front_mut()?.remove_current();
        Some(node.to_key_value().1)
    }

    /// Calls `f` on the ports after `after` (all of them for `None`) in key
    /// order, while it returns `true`.
    pub(crate) fn for_each_after(&mut self, after: Option<&PortKey>, mut f: impl FnMut(&PortKey, &V) -> bool) {
        // One lookup, then one step to the next node per entry (a cursor
        // that can move needs the tree borrowed mutably; nothing is
        // changed through it).
        let mut cursor = match after {
            None => self.tree.cursor_front_mut(),
            Some(a) => match self.tree.cursor_lower_bound_mut(a) {
                Some(c) if c.current().0 == a => c.move_next(),
                c => c,
            },
        };
        while let Some(c) = cursor {
            let (key, value) = c.current();
            if !f(key, value) {
                return;
            }
            cursor = c.move_next();
        }
    }
}

/// What the receive path of a port reads: its configuration and counters.
pub(crate) struct PortState {
    /// The configuration the port was added with.
    pub(crate) cfg: PortConfig,
    /// The inner protocol of a FOU direct port (0 for GUE, whose packets
    /// name theirs), read on every packet without a test of `cfg.encap`.
    pub(crate) ipproto: u8,
    /// Where its packets go: the IP protocol table of its family.
    pub(crate) protocols: Protocols,
    /// What it received and dropped.
    pub(crate) stats: PortStats,
}

/// A port: its socket, which carries the state of the receive path.
pub(crate) type Port = TunnelSocket<PortState>;

/// The counters of `port` now, when `want`. Inline: a dump without
/// counters asks for every entry.
#[inline(always)]
fn snapshot(port: &Port, want: bool) -> Option<Snapshot> {
    want.then(|| port.data().stats.snapshot(port.drops()))
}

/// The FOU state of one network namespace.
#[pin_data]
pub(crate) struct FouNet {
    /// The ports, under a mutex: only netlink and namespace exit touch it;
    /// the receive path reaches a port through its socket, under RCU.
    #[pin]
    ports: Mutex<PortTable<Port>>,
    /// Where the ports' counters come from.
    #[pin]
    counters: StatsPool,
    /// Set, under `ports`' mutex, when the module unloads: no port may be
    /// added after its ports were removed and announced.
    closed: AtomicBool,
}

/// The pernet id of [`FouNet`].
static FOU_NET_ID: PernetId = PernetId::new();

impl PernetState for FouNet {
    fn id() -> &'static PernetId {
        &FOU_NET_ID
    }

    fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(FouNet {
            ports <- new_mutex!(PortTable::new(), "fou_rs_ports"),
            counters <- StatsPool::new(),
            closed: AtomicBool::new(false),
        })
    }
}

impl FouNet {
    /// Creates the port `cfg` describes in `net`.
    ///
    /// Memory is allocated before the lock is taken. Nothing is left behind
    /// on error: the socket is published only once the port is in the table
    /// (the C module published it first, which led to a use-after-free).
    ///
    /// The port's key is what its socket has ([`PortKey::of_socket`]),
    /// which the configuration returned carries.
    pub(crate) fn add(&self, net: &Net<'_>, cfg: PortConfig) -> Result<PortConfig> {
        let node = RBTreeNodeReservation::new(GFP_KERNEL)?;
        let stats = PortStats::new(&self.counters)?;
        let mut ports = self.ports.lock();
        if self.closed.load(Ordering::Relaxed) {
            return Err(ENODEV);
        }
        if ports.contains(&cfg.key) {
            return Err(eaddrinuse());
        }
        let state = |addrs| PortState {
            cfg: PortConfig {
                key: PortKey::of_socket(addrs),
                ..cfg
            },
            ipproto: match cfg.encap {
                Encap::Direct { ipproto } => ipproto,
                Encap::Gue => 0,
            },
            protocols: Protocols::of(cfg.key.family),
            stats,
        };
        let socket = match (cfg.encap, cfg.key.family) {
            (Encap::Direct { .. }, Family::Inet) => TunnelSocket::open::<FouReceiver<false>>(net, &cfg.key, state),
            (Encap::Direct { .. }, Family::Inet6) => TunnelSocket::open::<FouReceiver<true>>(net, &cfg.key, state),
            (Encap::Gue, Family::Inet) => TunnelSocket::open::<GueReceiver<false>>(net, &cfg.key, state),
            (Encap::Gue, Family::Inet6) => TunnelSocket::open::<GueReceiver<true>>(net, &cfg.key, state),
        }?;
        let cfg = socket.data().cfg;
        ports.insert(node, cfg.key, socket)?;
        Ok(cfg)
    }

    /// Deletes the port with `key`; its configuration, or `None` when there
    /// is none.
    pub(crate) fn del(&self, key: &PortKey) -> Option<PortConfig> {
        let port = self.ports.lock().remove(key);
        // The socket is released here, outside the lock.
        port.map(|p| p.data().cfg)
    }

    /// Deletes every port and refuses new ones (module unload): the
    /// configurations of the ports removed.
    pub(crate) fn close(&self) -> KVec<PortConfig> {
        let mut removed = KVec::new();
        loop {
            let port = {
                let mut ports = self.ports.lock();
                self.closed.store(true, Ordering::Relaxed);
                ports.pop_first()
            };
            // Released outside the lock, one by one.
            let Some(port) = port else {
                return removed;
            };
            // Without memory for the list, the port still goes, unannounced.
            let _ = removed.push(port.data().cfg, GFP_KERNEL);
        }
    }

    /// The configuration of the port with `key`, and its counters when
    /// `stats`.
    pub(crate) fn get(&self, key: &PortKey, stats: bool) -> Option<(PortConfig, Option<Snapshot>)> {
        self.ports.lock().get(key).map(|p| (p.data().cfg, snapshot(p, stats)))
    }

    /// Calls `f` on the configurations of the ports after `after` (with
    /// their counters when `stats`), in key order, while it returns `true`.
    pub(crate) fn for_each_after(
        &self,
        after: Option<&PortKey>,
        stats: bool,
        mut f: impl FnMut(&PortConfig, Option<Snapshot>) -> bool,
    ) {
        self.ports
            .lock()
            .for_each_after(after, |_, p| f(&p.data().cfg, snapshot(p, stats)));
    }
}

#[kunit_tests(fou_rs_port_table)]
mod tests {
    use super::*;

    fn key(port: u16) -> PortKey {
        PortKey::inet(port, None)
    }

    fn add(t: &mut PortTable<u32>, k: PortKey, v: u32) -> Result {
        t.insert(RBTreeNodeReservation::new(GFP_KERNEL)?, k, v)
    }

    /// The number of ports in `t`.
    fn count(t: &mut PortTable<u32>) -> usize {
        let mut n = 0;
        t.for_each_after(None, |_, _| {
            n += 1;
            true
        });
        n
    }

    fn keys_after(t: &mut PortTable<u32>, after: Option<&PortKey>) -> Result<KVec<u16>> {
        let mut v = KVec::new();
        let mut r = Ok(());
        t.for_each_after(after, |k, _| {
            r = v.push(k.port, GFP_KERNEL);
            r.is_ok()
        });
        r?;
        Ok(v)
    }

    #[test]
    fn duplicate_key_is_eaddrinuse_and_changes_nothing() -> Result {
        let mut t = PortTable::new();
        add(&mut t, key(7777), 1)?;
        assert_eq!(add(&mut t, key(7777), 2), Err(eaddrinuse()));
        assert_eq!(t.get(&key(7777)), Some(&1));
        assert_eq!(count(&mut t), 1);
        Ok(())
    }

    #[test]
    fn same_port_other_local_address_is_another_key() -> Result {
        let mut t = PortTable::new();
        add(&mut t, key(7777), 1)?;
        let k = PortKey::inet(7777, Some([10, 0, 0, 1]));
        add(&mut t, k, 2)?;
        assert_eq!(count(&mut t), 2);
        assert_eq!(t.remove(&k), Some(2));
        assert_eq!(t.get(&key(7777)), Some(&1));
        Ok(())
    }

    #[test]
    fn remove_missing_is_none() -> Result {
        let mut t: PortTable<u32> = PortTable::new();
        assert_eq!(t.remove(&key(1)), None);
        add(&mut t, key(1), 1)?;
        assert_eq!(t.remove(&key(1)), Some(1));
        assert_eq!(t.remove(&key(1)), None);
        Ok(())
    }

    #[test]
    fn iteration_resumes_after_a_key_without_skipping() -> Result {
        let mut t = PortTable::new();
        for p in [50u16, 10, 40, 20, 30] {
            add(&mut t, key(p), u32::from(p))?;
        }
        assert_eq!(&keys_after(&mut t, None)?[..], &[10, 20, 30, 40, 50]);
        assert_eq!(&keys_after(&mut t, Some(&key(20)))?[..], &[30, 40, 50]);
        // A resume point that was deleted meanwhile: continue after it.
        assert_eq!(&keys_after(&mut t, Some(&key(25)))?[..], &[30, 40, 50]);
        assert_eq!(&keys_after(&mut t, Some(&key(50)))?[..], &[]);
        Ok(())
    }

    #[test]
    fn ten_thousand_ports_page_through_completely() -> Result {
        let mut t = PortTable::new();
        for p in 1..=10_000u16 {
            add(&mut t, key(p), 0)?;
        }
        // Pages of 97 ports, resuming after the last one of each page; a
        // resume that repeated or skipped entries would take another number
        // of pages (bounded: one that never ends must fail, not hang).
        let mut seen = 0u32;
        let mut pages = 0u32;
        let mut last: Option<PortKey> = None;
        while pages <= 10_000 / 97 + 1 {
            let mut page = 0;
            let mut next = last;
            t.for_each_after(last.as_ref(), |k, _| {
                page += 1;
                next = Some(*k);
                page < 97
            });
            if page == 0 {
                break;
            }
            seen += page;
            pages += 1;
            last = next;
        }
        assert_eq!(seen, 10_000);
        assert_eq!(pages, 10_000 / 97 + 1);
        Ok(())
    }
}
