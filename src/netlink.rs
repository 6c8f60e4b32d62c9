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
    Dump, //
    Family,
    Message,
    Op,
    Policy,
    Request,
};
use crate::port::FouNet;
use kernel::prelude::*;

/// `FOU_CMD_ADD`.
const CMD_ADD: u8 = 1;
/// `FOU_CMD_DEL`.
const CMD_DEL: u8 = 2;
/// `FOU_CMD_GET`.
const CMD_GET: u8 = 3;

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
        Policy::u8_min(1),     // IPPROTO
        Policy::u8(),          // TYPE
        Policy::flag(),        // REMCSUM_NOPARTIAL
        Policy::u32(),         // LOCAL_V4
        Policy::exact_len(16), // LOCAL_V6
        Policy::u32(),         // PEER_V4
        Policy::exact_len(16), // PEER_V6
        Policy::be16(),        // PEER_PORT
        Policy::s32(),         // IFINDEX
    ];

    const OPS: &'static [Op] = &[
        Op::new::<Fou>(CMD_ADD, true, true, false),
        Op::new::<Fou>(CMD_DEL, true, true, false),
        Op::new::<Fou>(CMD_GET, false, true, true),
    ];

    fn doit(cmd: u8, req: &Request<'_>) -> Result {
        match cmd {
            CMD_ADD => add(req),
            CMD_DEL => del(req),
            CMD_GET => get(req),
            _ => Err(EINVAL),
        }
    }

    fn dumpit(_cmd: u8, dump: &mut Dump<'_>) -> Result {
        dump_ports(dump)
    }
}

/// ADD: creates a port (`fou_nl_add_doit`).
fn add(req: &Request<'_>) -> Result {
    let cfg = parse_add(&req.attrs()).inspect_err(|_| req.set_err_msg(c"invalid FOU port configuration"))?;
    if cfg.key.port == 0 {
        req.set_err_msg(c"FOU port 0 is not a port");
        return Err(EINVAL);
    }
    let net = req.net()?;
    net.state::<FouNet>()?.add(&net, cfg)
}

/// DEL: deletes a port (`fou_nl_del_doit`); `EINVAL` when there is none,
/// as in C.
fn del(req: &Request<'_>) -> Result {
    let key = parse_key(&req.attrs())?;
    if req.net()?.state::<FouNet>()?.del(&key) {
        Ok(())
    } else {
        req.set_err_msg(c"no such FOU port");
        Err(EINVAL)
    }
}

/// GET: replies with one port (`fou_nl_get_doit`); `ESRCH` when there is
/// none, as in C.
fn get(req: &Request<'_>) -> Result {
    let key = parse_key(&req.attrs())?;
    if key.port == 0 {
        return Err(EINVAL);
    }
    let Some(cfg) = req.net()?.state::<FouNet>()?.get(&key) else {
        req.set_err_msg(c"no such FOU port");
        return Err(ESRCH);
    };
    req.reply(CMD_GET, |msg| fill(msg, &cfg))
}

/// GET dump: every port of the namespace, resuming after the last key sent
/// (kept in the cursor: a byte 1, then the encoded key).
fn dump_ports(dump: &mut Dump<'_>) -> Result {
    let cursor = *dump.cursor();
    let after = match cursor[0] {
        0 => None,
        _ => Some(crate::config::PortKey::decode(&cursor[1..]).ok_or(EINVAL)?),
    };
    let fnet = dump.net()?.state::<FouNet>()?;
    let mut last = None;
    let mut result = Ok(());
    fnet.for_each_after(after.as_ref(), |cfg| match dump.add(CMD_GET, |msg| fill(msg, cfg)) {
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
/// zero where unset.
fn fill(msg: &mut Message<'_>, cfg: &PortConfig) -> Result {
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
    Ok(())
}
