// SPDX-License-Identifier: GPL-2.0

//! FOU receive: decapsulation on a port's socket.
//!
//! Mirrors `fou_udp_recv` and `fou_recv_pull` in net/ipv4/fou_core.c.

use crate::config::{
    Encap, //
    PortConfig,
};
use crate::fou_tx::UDP_HLEN;
use crate::net::skb::SkBuff;
use crate::net::udp_tunnel::{
    Receiver, //
    Verdict,
};

impl Receiver for PortConfig {
    fn receive(&self, skb: &mut SkBuff<'_>) -> Verdict {
        match self.encap {
            // FOU direct: the UDP payload is the inner packet. Strip the UDP
            // header and let the IP layer hand the rest to `ipproto`, which
            // validates it like any packet of that protocol.
            Encap::Direct { ipproto } => {
                // CAST: `UDP_HLEN` is 8.
                match skb.pull_encap(self.key.family, UDP_HLEN as u16) {
                    Ok(()) => Verdict::Resubmit(ipproto),
                    Err(_) => Verdict::Drop,
                }
            }
            // GUE decapsulation is not implemented yet: its packets are
            // dropped rather than handed to UDP.
            Encap::Gue => Verdict::Drop,
        }
    }
}
