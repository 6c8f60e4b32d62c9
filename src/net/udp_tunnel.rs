// SPDX-License-Identifier: GPL-2.0

//! In-kernel UDP tunnel sockets: one per FOU port.
//!
//! Mirrors `fou_create` and `fou_release` in net/ipv4/fou_core.c: the
//! socket is created with `udp_sock_create{4,6}` in the port's namespace,
//! belongs to no process, and carries the port's RCU-managed data in
//! `sk_user_data` for the receive path.

use crate::bindings;
use crate::net::gro::{
    self, //
    GroComplete,
    GroPacket,
    GroVerdict,
};
use crate::net::inet::{
    Addr, //
    Family,
    Peer,
};
use crate::net::netns::Net;
use crate::net::rcu::{
    RcuOwned, //
    ReadSection,
};
use crate::net::skb::{
    DropReason, //
    RxSkb,
    Verdict,
};
use core::ptr::{
    null_mut, //
    NonNull,
};
use kernel::{
    error::to_result, //
    prelude::*,
};

/// The receive side of a tunnel socket: decapsulates one datagram, and
/// takes part in GRO, for the data of type [`Receiver::Port`] the socket
/// carries.
///
/// Implemented by a type of its own for each encapsulation, chosen when a
/// socket is opened: each socket gets callbacks made for its own, as C
/// gives FOU and GUE each their own `encap_rcv` and GRO steps, so the
/// receive path neither tests the encapsulation per packet nor carries the
/// other one's code (and its registers).
pub(crate) trait Receiver: 'static {
    /// What the socket carries.
    type Port: Send + Sync + 'static;

    /// The socket's address family.
    fn family(port: &Self::Port) -> Family;

    /// Decapsulates `skb`, whose data starts at its UDP header, received on
    /// `port`, and ends it with its verdict. Runs in softirq context under
    /// RCU.
    fn receive(port: &Self::Port, skb: RxSkb<'_>) -> Verdict;

    /// GRO's receive step: consumes the encapsulation header after UDP
    /// and names the inner protocol to aggregate under, or flushes.
    fn gro_receive(port: &Self::Port, gro: &mut GroPacket<'_>) -> GroVerdict;

    /// GRO's completion step: the inner protocol and the length of the
    /// encapsulation header after UDP of an aggregated packet.
    fn gro_complete(port: &Self::Port, gro: &GroComplete<'_>) -> Option<(u8, usize)>;
}

/// A kernel UDP socket of ours, released when dropped.
///
/// # Invariants
///
/// `0` is a live socket made by `udp_sock_create4`/`udp_sock_create6`,
/// owned by this value.
struct OwnedSock(NonNull<bindings::sock>);

// SAFETY: a kernel socket may be used and released from any thread.
unsafe impl Send for OwnedSock {}
// SAFETY: through `&self` the socket is only read where the kernel makes
// that safe from any thread (`sk_drops_read`).
unsafe impl Sync for OwnedSock {}

impl Drop for OwnedSock {
    fn drop(&mut self) {
        // SAFETY: the socket is ours (type invariant).
        // `udp_tunnel_sock_release` clears `sk_user_data` (RCU), if set up,
        // and releases the socket, set up or not (C's `fou_create` and
        // `fou_release` do both).
        unsafe { bindings::udp_tunnel_sock_release(self.0.as_ptr()) };
    }
}

/// An open UDP tunnel socket carrying data `T` for its receive path.
///
/// # Invariants
///
/// `sk` is set up by `setup_udp_tunnel_sock` with `sk_user_data` pointing
/// at `data`. It is released before `data` is dropped (field order), and a
/// receiver that read the pointer before it was cleared keeps a valid
/// object: `data` is freed only after a grace period.
pub(crate) struct TunnelSocket<T: Send + Sync + 'static> {
    sk: OwnedSock,
    data: RcuOwned<T>,
}

/// An address as the `in_addr`/`in6_addr` union of `udp_port_cfg` holds it.
enum CAddr {
    /// IPv4.
    V4(bindings::in_addr),
    /// IPv6 (a kernel without IPv6 has no field to write it to).
    V6(#[cfg_attr(not(CONFIG_IPV6), allow(dead_code))] bindings::in6_addr),
}

impl From<&Addr> for CAddr {
    fn from(a: &Addr) -> Self {
        match a {
            Addr::V4(b) => CAddr::V4(bindings::in_addr {
                s_addr: u32::from_ne_bytes(*b),
            }),
            Addr::V6(b) => CAddr::V6(bindings::in6_addr {
                in6_u: bindings::in6_addr__bindgen_ty_1 { u6_addr8: *b },
            }),
        }
    }
}

/// Where a tunnel socket is bound and what it is connected to (`struct
/// udp_port_cfg`). Ordered by family, then port, then the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct SocketAddrs {
    /// Address family; an IPv6 socket is v6only.
    pub(crate) family: Family,
    /// Local UDP port, host order.
    pub(crate) port: u16,
    /// Local address to bind to, if any (of `family`).
    pub(crate) local: Option<Addr>,
    /// Peer to connect to, if any (of `family`).
    pub(crate) peer: Option<Peer>,
    /// Device to bind to, 0 for none.
    pub(crate) ifindex: i32,
}

impl<T: Send + Sync + 'static> TunnelSocket<T> {
    /// Opens the socket `key` describes in `net`: bound to its port (and
    /// local address and device), connected to its peer, IPv6 ones v6only.
    /// `data` makes what the socket carries from the addresses it then has;
    /// `R` receives its packets.
    ///
    /// Errors are those of socket creation and bind: `EADDRINUSE` when the
    /// port is taken. On error nothing is left behind.
    pub(crate) fn open<R: Receiver<Port = T>>(
        net: &Net<'_>,
        key: &SocketAddrs,
        data: impl FnOnce(SocketAddrs) -> T,
    ) -> Result<Self> {

        let mut cfg = bindings::udp_port_cfg {
            family: key.family.af(),
            local_udp_port: key.port.to_be(),
            bind_ifindex: key.ifindex,
            ..Default::default()
        };
        // Writing a union field of plain data is safe; the one matching
        // `family` is the one C reads. A kernel without IPv6 has no IPv6
        // fields: there `udp_sock_create6` refuses (EPFNOSUPPORT, as for
        // the C module) before reading any.
        match key.local.as_ref().map(CAddr::from) {
            Some(CAddr::V4(a)) => cfg.__bindgen_anon_1.local_ip = a,
            #[cfg(CONFIG_IPV6)]
            Some(CAddr::V6(a)) => cfg.__bindgen_anon_1.local_ip6 = a,
            _ => {}
        }
        if let Some(peer) = &key.peer {
            match CAddr::from(&peer.addr) {
                CAddr::V4(a) => cfg.__bindgen_anon_2.peer_ip = a,
                #[cfg(CONFIG_IPV6)]
                CAddr::V6(a) => cfg.__bindgen_anon_2.peer_ip6 = a,
                #[cfg(not(CONFIG_IPV6))]
                CAddr::V6(_) => {}
            }
            cfg.peer_udp_port = peer.port.to_be();
        }
        if key.family == Family::Inet6 {
            cfg.set_ipv6_v6only(1);
        }

        let mut sock: *mut bindings::socket = null_mut();
        // SAFETY: `net` is live, `cfg` is complete, `sock` receives the new
        // socket; once made, its `sk` is a live UDP socket of `key.family`
        // whose fields the helpers read.
        let (sk, local, peer, dport, ifindex) = unsafe {
            to_result(match key.family {
                Family::Inet => bindings::udp_sock_create4(net.as_ptr(), &mut cfg, &mut sock),
                Family::Inet6 => bindings::udp_sock_create6(net.as_ptr(), &mut cfg, &mut sock),
            })?;
            let sk = (*sock).sk;
            let (local, peer) = match key.family {
                Family::Inet => (
                    Addr::V4(bindings::fou_rs_sk_rcv_saddr(sk).to_ne_bytes()),
                    Addr::V4(bindings::fou_rs_sk_daddr(sk).to_ne_bytes()),
                ),
                // Every bit pattern of the union is a valid byte array.
                #[cfg(CONFIG_IPV6)]
                Family::Inet6 => (
                    Addr::V6(bindings::fou_rs_sk_v6_rcv_saddr(sk).in6_u.u6_addr8),
                    Addr::V6(bindings::fou_rs_sk_v6_daddr(sk).in6_u.u6_addr8),
                ),
                // Not reached: `udp_sock_create6` made no socket.
                #[cfg(not(CONFIG_IPV6))]
                Family::Inet6 => return Err(EINVAL),
            };
            let dport = u16::from_be(bindings::fou_rs_sk_dport(sk));
            (sk, local, peer, dport, bindings::fou_rs_sk_bound_dev_if(sk))
        };
        // INVARIANT: made just now, and ours; released from here on.
        let sk = OwnedSock(NonNull::new(sk).ok_or(EINVAL)?);
        // What the socket has, as `fou_cfg_cmp` reads it: its bound address
        // (which a connect without one sets to the route's source), its peer
        // if connected (a connect to `0.0.0.0` or `::` reaches loopback),
        // its device.
        let data = RcuOwned::new(data(SocketAddrs {
            family: key.family,
            port: key.port,
            local: Some(local),
            peer: (dport != 0).then_some(Peer {
                addr: peer,
                port: dport,
            }),
            ifindex,
        }))?;

        let mut tcfg = bindings::udp_tunnel_sock_cfg {
            sk_user_data: data.as_ptr(),
            encap_type: 1,
            encap_rcv: Some(encap_rcv::<R>),
            gro_receive: Some(gro_receive::<R>),
            gro_complete: Some(gro_complete::<R>),
            ..Default::default()
        };
        // SAFETY: `sk` was just made and is ours; `tcfg` is complete; `data`
        // outlives the socket's use of it (type invariant, established
        // here).
        unsafe {
            bindings::setup_udp_tunnel_sock(net.as_ptr(), sk.0.as_ptr(), &mut tcfg);
            bindings::fou_rs_sk_alloc_atomic(sk.0.as_ptr());
        }
        // INVARIANT: set up with `sk_user_data` = `data`.
        Ok(TunnelSocket { sk, data })
    }

    /// The data the socket carries.
    pub(crate) fn data(&self) -> &T {
        &self.data
    }

    /// The socket's drop counter (`sk_drops_read`): the datagrams UDP
    /// dropped before `encap_rcv` (bad checksums, IPsec policy) and those
    /// the receiver dropped.
    pub(crate) fn drops(&self) -> u64 {
        // SAFETY: `sk` is live and ours until this is dropped (type
        // invariant of `OwnedSock`).
        let n = unsafe { bindings::sk_drops_read(self.sk.0.as_ptr()) };
        // CAST: a count, never negative.
        n as u64
    }
}

/// The socket's `encap_rcv` (`fou_udp_recv`): finds the port under RCU and
/// lets it decapsulate.
///
/// Returns `-proto` to resubmit the packet to IP protocol `proto`, or 0 when
/// the packet was dropped (freed and counted in the socket's drops). A
/// packet that races with the port's deletion (its `sk_user_data` already
/// cleared) is dropped, never handed to a freed port.
///
/// # Safety
///
/// `sk` is a socket set up by [`TunnelSocket::open`] with receiver `R`
/// and `skb` a packet UDP received on it, whose data starts at its UDP
/// header, given to us to resubmit or free, as UDP calls `encap_rcv`.
unsafe extern "C" fn encap_rcv<R: Receiver>(sk: *mut bindings::sock, skb: *mut bindings::sk_buff) -> c_int {
    // SAFETY: UDP's receive runs inside the IP layer's delivery to its
    // protocol handler, which holds `rcu_read_lock` around it
    // (`ip_local_deliver_finish`, `ip6_input_finish`), for the whole call;
    // C's `fou_udp_recv` relies on the same (`rcu_dereference_sk_user_data`).
    let rcu = unsafe { ReadSection::assume_held() };
    // SAFETY: UDP calls `encap_rcv` with a valid socket and a packet it
    // gives to us (never NULL: UDP has read its header): we return it for
    // resubmission or free it, by the verdict, after which nothing else
    // uses it. Its network header is the IP header it came in, which the IP
    // layer pulled whole into the linear area (`ip_rcv_core`, `ipv6_rcv`),
    // at least 20 bytes.
    let rx = unsafe { RxSkb::from_raw(skb) };
    // SAFETY: UDP calls `encap_rcv` with a socket set up by `open`; `rcu`
    // is held.
    let verdict = match unsafe { socket_data::<R::Port>(sk, rcu) } {
        Some(port) => R::receive(port, rx),
        None => rx.drop_for(DropReason::SocketClose),
    };
    match verdict.resubmit_to() {
        Some(ret) => ret,
        // SAFETY: `sk` is valid during the call; the packet is ours to free
        // since this returns 0 for it, and the verdict consumed its only
        // wrapper.
        None => unsafe { drop_received(sk, skb, verdict.drop_reason()) },
    }
}

/// Frees a received packet for `reason`, counted in the socket's drops
/// (where `ss -uam`, skmem `d`, and /proc/net/udp show them); returns what
/// `encap_rcv` returns for it. Out of line: the receive function keeps
/// only the registers its common path needs.
///
/// # Safety
///
/// `sk` is a valid socket and `skb` a packet received on it that is ours
/// to free, unused afterwards.
#[cold]
#[inline(never)]
unsafe fn drop_received(
    sk: *mut bindings::sock,
    skb: *mut bindings::sk_buff,
    reason: bindings::skb_drop_reason,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    unsafe {
        bindings::sk_drops_inc(sk);
        bindings::sk_skb_reason_drop(sk, skb, reason);
    }
    0
}

/// Reads the data a tunnel socket carries under RCU (`fou_from_sock`).
///
/// # Safety
///
/// `sk` is a socket set up by [`TunnelSocket::open`] carrying `T` (or
/// released since, then its `sk_user_data` is NULL). The data is borrowed
/// for as long as `rcu` is held.
unsafe fn socket_data<'a, T: Send + Sync + 'static>(sk: *mut bindings::sock, rcu: ReadSection<'a>) -> Option<&'a T> {
    // `rcu_dereference_sk_user_data`, without a call: the field's offset and
    // the mask of its flag bits come from C (GCC's layout).
    // CAST: `unsigned long` is pointer-sized in the kernel.
    // SAFETY: `sk` is valid during the callback, and a pointer-sized,
    // aligned `sk_user_data` lies at that offset in it, read once as
    // `rcu_dereference` reads it; the C constants are never written.
    let data = unsafe {
        let field = sk.byte_add(bindings::fou_rs_sk_user_data_offset as usize).cast::<*mut c_void>();
        let p = core::ptr::read_volatile(field);
        p.wrapping_byte_sub(p as usize & !(bindings::fou_rs_sk_user_data_ptrmask as usize))
    };
    if data.is_null() {
        return None;
    }
    // SAFETY: a non-NULL `sk_user_data` of this socket is the `RcuOwned<T>`
    // of its `TunnelSocket` (set in `open`), read under `rcu`, which began
    // before any retirement of it.
    Some(unsafe { RcuOwned::<T>::from_rcu_ptr(data, rcu) })
}

/// The socket's `gro_receive` (`fou_gro_receive`, `gue_gro_receive`). A
/// packet racing with the port's deletion (`sk_user_data` already NULL,
/// CVE-2024-46763 upstream) is flushed, not aggregated.
///
/// # Safety
///
/// `sk` is a socket set up by [`TunnelSocket::open`] with receiver `R`; `head` and
/// `skb` are the held packets and the new packet UDP's GRO passes to a
/// tunnel socket's `gro_receive`, with `skb`'s GRO offset at its
/// encapsulation header.
unsafe extern "C" fn gro_receive<R: Receiver>(
    sk: *mut bindings::sock,
    head: *mut bindings::list_head,
    skb: *mut bindings::sk_buff,
) -> *mut bindings::sk_buff {
    // SAFETY: GRO's receive step runs inside `rcu_read_lock`
    // (`dev_gro_receive`); UDP's GRO calls this with a socket set up by
    // `open`; `head` and `skb` are those it passes. Without its data,
    // the packet is flushed.
    unsafe {
        let rcu = ReadSection::assume_held();
        match socket_data::<R::Port>(sk, rcu) {
            Some(port) => gro::receive(head, skb, R::family(port), rcu, |g| R::gro_receive(port, g)),
            None => gro::receive(head, skb, Family::Inet, rcu, |_| GroVerdict::Flush),
        }
    }
}

/// The socket's `gro_complete` (`fou_gro_complete`, `gue_gro_complete`).
///
/// # Safety
///
/// `sk` is a socket set up by [`TunnelSocket::open`] with receiver `R`; `skb` and
/// `nhoff` are the aggregated packet and the offset of its encapsulation
/// header that UDP's GRO passes to a tunnel socket's `gro_complete`.
unsafe extern "C" fn gro_complete<R: Receiver>(
    sk: *mut bindings::sock,
    skb: *mut bindings::sk_buff,
    nhoff: c_int,
) -> c_int {
    // SAFETY: GRO's completion step runs inside `rcu_read_lock`
    // (`gro_complete`); UDP's GRO calls this with a socket set up by
    // `open`; `skb` and `nhoff` are those it passes.
    unsafe {
        let rcu = ReadSection::assume_held();
        match socket_data::<R::Port>(sk, rcu) {
            Some(port) => gro::complete(skb, nhoff, R::family(port), rcu, |g| R::gro_complete(port, g)),
            None => ENOENT.to_errno(),
        }
    }
}

#[kunit_tests(fou_rs_udp_tunnel)]
mod tests {
    use super::*;

    /// A receiver the test never reaches: its socket's `sk_user_data` is
    /// NULL, as while the port is being deleted.
    struct Gone;

    impl Receiver for Gone {
        type Port = ();
        fn family(_port: &()) -> Family {
            Family::Inet
        }
        fn receive(_port: &(), skb: RxSkb<'_>) -> Verdict {
            skb.drop_for(DropReason::SocketClose)
        }
        fn gro_receive(_port: &(), _gro: &mut GroPacket<'_>) -> GroVerdict {
            GroVerdict::Flush
        }
        fn gro_complete(_port: &(), _gro: &GroComplete<'_>) -> Option<(u8, usize)> {
            None
        }
    }

    /// A packet that reaches GRO in the window between a port's
    /// `sk_user_data` being cleared and its socket leaving UDP's table
    /// (CVE-2024-46763 upstream) is flushed as it is: no inner protocol's
    /// GRO sees it (which would mark it as FOU on the way).
    #[test]
    fn gro_flushes_a_packet_for_a_port_going_away() -> Result {
        let mut sk = KBox::new(core::mem::MaybeUninit::<bindings::sock>::zeroed(), GFP_KERNEL)?;
        let mut head = bindings::list_head {
            next: null_mut(),
            prev: null_mut(),
        };
        let headp: *mut bindings::list_head = &mut head;
        // SAFETY: `sk` is a zeroed `sock` of our own (`sk_user_data` NULL:
        // nothing else of it is read without a receiver); `headp` an empty
        // list; the packet is new, linear and ours, its 64 zero bytes (no
        // IPv4 header: an inner handler would flush it too) at GRO offset 0,
        // its control block zeroed by the allocation, and freed here after
        // the call, made inside an RCU read section as GRO's.
        let (pp, flush, is_fou) = unsafe {
            (*headp).next = headp;
            (*headp).prev = headp;
            let skb = bindings::__alloc_skb(128, kernel::bindings::GFP_KERNEL, 0, -1);
            assert!(!skb.is_null());
            core::ptr::write_bytes(bindings::skb_put(skb, 64).cast::<u8>(), 0, 64);
            let guard = kernel::sync::rcu::read_lock();
            let pp = gro_receive::<Gone>(sk.as_mut_ptr(), headp, skb);
            drop(guard);
            let cb = gro::gro_cb(skb);
            let out = (pp, (*cb).flush, (*cb).__bindgen_anon_2.__bindgen_anon_1.is_fou());
            bindings::kfree_skb(skb);
            out
        };
        assert!(pp.is_null());
        assert_eq!(flush, 1);
        assert_eq!(is_fou, 0);
        Ok(())
    }
}
