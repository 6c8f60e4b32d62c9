// SPDX-License-Identifier: GPL-2.0

//! The generic netlink family `fou`: ADD, DEL and GET of FOU ports.
//!
//! Mirrors net/ipv4/fou_nl.c (family, policy, ops, generated from
//! Documentation/netlink/specs/fou.yaml) and the `fou_nl_*` handlers of
//! net/ipv4/fou_core.c. Stock iproute2 (`ip fou`) and the YNL CLI talk to it.

use crate::config::{
    parse_add, //
    parse_key,
    Addr,
    Attr,
    Encap,
    Family as AddrFamily,
    PortConfig,
    KEY_BYTES,
};
use crate::net::genl::{
    Command, //
    Dump,
    Family,
    McGroup,
    Message,
    Op,
    Policy,
    Registration,
    Request,
};
use crate::net::netns;
use crate::port::FouNet;
use crate::stats::Snapshot;
use kernel::prelude::*;

/// `FOU_CMD_ADD`.
const CMD_ADD: u8 = 1;
/// `FOU_CMD_DEL`.
const CMD_DEL: u8 = 2;
/// `FOU_CMD_GET`.
const CMD_GET: u8 = 3;
/// A port was added: the notification's command, after the C module's
/// last one.
const CMD_ADD_NTF: u8 = 4;
/// A port was deleted: the notification's command.
const CMD_DEL_NTF: u8 = 5;

/// The multicast group `ports`: a notification, with the attributes of a
/// GET reply, for every port added or deleted.
const GROUP_PORTS: u32 = 0;

/// The `fou` family.
pub(crate) struct Fou;

impl Family for Fou {
    const NAME: &'static CStr = c"fou";
    const VERSION: u32 = 1;
    const RESV_START_OP: u8 = CMD_GET + 1;

    // The policy of fou_nl.c, entry for entry.
    const POLICY: &'static [Policy] = &[
        Policy::unspec(),
        Policy::be16(),        // PORT
        Policy::u8(),          // AF
        Policy::u8(),          // IPPROTO: 0 is ERANGE for a direct port only
                               // (parse_add): GUE ignores it, and old
                               // clients send 0 there
        Policy::u8(),          // TYPE
        Policy::flag(),        // REMCSUM_NOPARTIAL
        Policy::u32(),         // LOCAL_V4
        Policy::exact_len(16), // LOCAL_V6
        Policy::u32(),         // PEER_V4
        Policy::exact_len(16), // PEER_V6
        Policy::be16(),        // PEER_PORT
        Policy::s32(),         // IFINDEX
        Policy::nested(),      // STATS (requests: empty, "send them")
    ];

    const MCGRPS: &'static [McGroup] = &[McGroup::new(c"ports")];

    const OPS: &'static [Op] = &[Op::new::<Add>(), Op::new::<Del>(), Op::new::<Get>()];
}

/// `FOU_CMD_ADD`, for CAP_NET_ADMIN.
struct Add;

#[vtable]
impl Command for Add {
    const CMD: u8 = CMD_ADD;
    const ADMIN: bool = true;

    fn doit(req: &Request<'_>) -> Result {
        add(req)
    }
}

/// `FOU_CMD_DEL`, for CAP_NET_ADMIN.
struct Del;

#[vtable]
impl Command for Del {
    const CMD: u8 = CMD_DEL;
    const ADMIN: bool = true;

    fn doit(req: &Request<'_>) -> Result {
        del(req)
    }
}

/// `FOU_CMD_GET`: one port, or a dump of them all; for anyone.
struct Get;

#[vtable]
impl Command for Get {
    const CMD: u8 = CMD_GET;

    fn doit(req: &Request<'_>) -> Result {
        get(req)
    }

    fn dumpit(dump: &mut Dump<'_>) -> Result {
        dump_ports(dump)
    }
}

// The policy has an entry for every attribute, the last being STATS.
const _: () = assert!(<Fou as Family>::POLICY.len() == Attr::Stats as usize + 1);

/// ADD: creates a port (`fou_nl_add_doit`), and announces it.
fn add(req: &Request<'_>) -> Result {
    let cfg = parse_add(&req.attrs()).inspect_err(|_| req.set_err_msg(c"invalid FOU port configuration"))?;
    if cfg.key.port == 0 {
        req.set_err_msg(c"FOU port 0 is not a port");
        return Err(EINVAL);
    }
    let net = req.net()?;
    let cfg = net.state::<FouNet>()?.add(&net, cfg)?;
    // The port exists whether or not the notification goes out: a listener
    // whose buffer is full gets ENOBUFS from netlink; one that cannot be
    // allocated is lost.
    let _ = req.notify(GROUP_PORTS, CMD_ADD_NTF, |m| fill(m, &cfg, None));
    Ok(())
}

/// DEL: deletes a port (`fou_nl_del_doit`), and announces it; `EINVAL` when
/// there is none, as in C.
fn del(req: &Request<'_>) -> Result {
    let key = parse_key(&req.attrs())?;
    match req.net()?.state::<FouNet>()?.del(&key) {
        Some(cfg) => {
            let _ = req.notify(GROUP_PORTS, CMD_DEL_NTF, |m| fill(m, &cfg, None));
            Ok(())
        }
        None => {
            req.set_err_msg(c"no such FOU port");
            Err(EINVAL)
        }
    }
}

/// Module unload: deletes the ports of every namespace, announcing each,
/// while `family` is still registered (its unregistration comes first in
/// the module's teardown, as in C, and would silence them).
///
/// Ports that a namespace's exit deletes are not announced: a namespace
/// exits only once no socket is left in it, and the listeners of other
/// namespaces have lost its id by then (`cleanup_net` unhashes it before
/// the pernet exits run), so no socket could receive the notification.
pub(crate) fn close_all(family: &Registration<Fou>) {
    netns::for_each_net(|net| {
        let Ok(fnet) = net.state::<FouNet>() else {
            return;
        };
        for cfg in fnet.close().iter() {
            let _ = family.notify(net, GROUP_PORTS, CMD_DEL_NTF, |m| fill(m, cfg, None));
        }
    });
}

/// GET: replies with one port (`fou_nl_get_doit`); `ESRCH` when there is
/// none, as in C.
///
/// A request carrying the (empty) STATS attribute gets the port's counters
/// in the reply's STATS.
fn get(req: &Request<'_>) -> Result {
    let attrs = req.attrs();
    let key = parse_key(&attrs)?;
    if key.port == 0 {
        return Err(EINVAL);
    }
    let stats = attrs.get(Attr::Stats).is_some();
    let Some((cfg, snapshot)) = req.net()?.state::<FouNet>()?.get(&key, stats) else {
        req.set_err_msg(c"no such FOU port");
        return Err(ESRCH);
    };
    req.reply(CMD_GET, |msg| fill(msg, &cfg, snapshot.as_ref()))
}

/// GET dump: every port of the namespace, resuming after the last key sent
/// (kept in the cursor: a byte 1, then the encoded key), with their
/// counters when the request carried STATS.
fn dump_ports(dump: &mut Dump<'_>) -> Result {
    let stats = dump.attrs().get(Attr::Stats).is_some();
    let cursor = *dump.cursor();
    let after = match cursor[0] {
        0 => None,
        _ => Some(crate::config::PortKey::decode(&cursor[1..]).ok_or(EINVAL)?),
    };
    let fnet = dump.net()?.state::<FouNet>()?;
    let mut last = None;
    let mut result = Ok(());
    fnet.for_each_after(after.as_ref(), stats, |cfg, snapshot| match dump.add(CMD_GET, |msg| {
        fill(msg, cfg, snapshot.as_ref())
    }) {
        Ok(true) => {
            last = Some(cfg.key);
            true
        }
        Ok(false) => false,
        Err(e) => {
            result = Err(e);
            false
        }
    });
    if let Some(key) = last {
        let c = dump.cursor();
        c[0] = 1;
        c[1..1 + KEY_BYTES].copy_from_slice(&key.encode());
    }
    result
}

/// Writes a port's attributes as `fou_fill_info` does: every attribute,
/// zero where unset; then its counters, when given.
fn fill(msg: &mut Message<'_>, cfg: &PortConfig, stats: Option<&Snapshot>) -> Result {
    let key = &cfg.key;
    let (ipproto, ty) = match cfg.encap {
        Encap::Direct { ipproto } => (ipproto, 1),
        Encap::Gue => (0, 2),
    };
    msg.put_u8(Attr::Af, key.family.af())?;
    msg.put_be16(Attr::Port, key.port)?;
    msg.put_be16(Attr::PeerPort, key.peer.map_or(0, |p| p.port))?;
    msg.put_u8(Attr::Ipproto, ipproto)?;
    msg.put_u8(Attr::Type, ty)?;
    msg.put_s32(Attr::Ifindex, key.ifindex)?;
    if cfg.remcsum_nopartial {
        msg.put_flag(Attr::RemcsumNopartial)?;
    }
    let local = key.local;
    let peer = key.peer.map(|p| p.addr);
    match key.family {
        AddrFamily::Inet => {
            let v4 = |a: Option<Addr>| match a {
                Some(Addr::V4(b)) => b,
                _ => [0; 4],
            };
            msg.put(Attr::LocalV4, &v4(local))?;
            msg.put(Attr::PeerV4, &v4(peer))?;
        }
        AddrFamily::Inet6 => {
            let v6 = |a: Option<Addr>| match a {
                Some(Addr::V6(b)) => b,
                _ => [0; 16],
            };
            msg.put(Attr::LocalV6, &v6(local))?;
            msg.put(Attr::PeerV6, &v6(peer))?;
        }
    }
    if let Some(s) = stats {
        msg.put_nest(Attr::Stats, |nest| {
            for (ty, v) in s.attrs() {
                nest.put_uint(ty, v)?;
            }
            Ok(())
        })?;
    }
    Ok(())
}
