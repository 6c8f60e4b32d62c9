// SPDX-License-Identifier: GPL-2.0

//! The BPF kfuncs of fou.ko (net/ipv4/fou_bpf.c): `bpf_skb_set_fou_encap`
//! and `bpf_skb_get_fou_encap`. A TC program on a collect_md (`external`)
//! ipip or sit device chooses FOU or GUE encapsulation and its UDP ports
//! per packet, after `bpf_skb_set_tunnel_key` set the addresses, and reads
//! the ports a packet was received with. Same results as C for every input.

use crate::net::tunnel::{
    EncapKfuncs,
    EncapPorts,
    EncapType,
    TunnelInfo, //
};
use kernel::prelude::*;

/// `FOU_BPF_ENCAP_FOU` of `enum bpf_fou_encap_type`.
const BPF_ENCAP_FOU: c_int = 0;
/// `FOU_BPF_ENCAP_GUE`.
const BPF_ENCAP_GUE: c_int = 1;

/// fou-rs's implementation of the two kfuncs.
pub(crate) struct FouKfuncs;

impl EncapKfuncs for FouKfuncs {
    fn set_encap(info: Option<TunnelInfo<'_>>, ports: Option<EncapPorts>, ty: c_int) -> Result {
        let ports = ports.ok_or(EINVAL)?;
        // Only metadata for transmit: what a received packet carries is not
        // the program's to change.
        let mut info = info.filter(TunnelInfo::is_tx).ok_or(EINVAL)?;
        info.set_encap_type(match ty {
            BPF_ENCAP_FOU => EncapType::Fou,
            BPF_ENCAP_GUE => EncapType::Gue,
            // Unknown types mean no encapsulation, and succeed, as in C.
            _ => EncapType::None,
        });
        if info.csum() {
            info.add_encap_csum();
        }
        info.set_encap_ports(ports);
        Ok(())
    }

    fn get_encap(info: Option<TunnelInfo<'_>>) -> Result<EncapPorts> {
        Ok(info.ok_or(EINVAL)?.encap_ports())
    }
}

#[kunit_tests(fou_rs_bpf)]
mod tests {
    use super::*;

    /// The C values of `enum bpf_fou_encap_type` are the ones programs use.
    #[test]
    fn encap_type_values_match_c() {
        assert_eq!(
            u32::try_from(BPF_ENCAP_FOU),
            Ok(crate::bindings::bpf_fou_encap_type_FOU_BPF_ENCAP_FOU)
        );
        assert_eq!(
            u32::try_from(BPF_ENCAP_GUE),
            Ok(crate::bindings::bpf_fou_encap_type_FOU_BPF_ENCAP_GUE)
        );
    }

    use crate::bindings::{
        ip_tunnel_info,
        tunnel_encap_types_TUNNEL_ENCAP_FOU,
        tunnel_encap_types_TUNNEL_ENCAP_GUE,
        tunnel_encap_types_TUNNEL_ENCAP_NONE,
        IP_TUNNEL_CSUM_BIT,
        IP_TUNNEL_INFO_TX,
        TUNNEL_ENCAP_FLAG_CSUM,
        TUNNEL_ENCAP_FLAG_REMCSUM, //
    };

    /// Metadata as `bpf_skb_set_tunnel_key` leaves it: for transmit, with
    /// the key's checksum flag as given.
    fn tx_info(csum: bool) -> Result<KBox<ip_tunnel_info>> {
        let mut info = KBox::new(ip_tunnel_info::default(), GFP_KERNEL)?;
        // CAST: IP_TUNNEL_INFO_TX is 1.
        info.mode = IP_TUNNEL_INFO_TX as u8;
        if csum {
            info.key.tun_flags[0] |= 1 << IP_TUNNEL_CSUM_BIT;
        }
        Ok(info)
    }

    const PORTS: EncapPorts = EncapPorts {
        sport: 0,
        dport: 5555u16.to_be(),
    };

    /// FOU with a checksummed key: type, the checksum flag and the ports set.
    #[test]
    fn set_fou_with_csum() -> Result {
        let mut info = tx_info(true)?;
        FouKfuncs::set_encap(Some(TunnelInfo::from_mut(&mut info)), Some(PORTS), BPF_ENCAP_FOU)?;
        assert_eq!(u32::from(info.encap.type_), tunnel_encap_types_TUNNEL_ENCAP_FOU);
        assert_eq!(u32::from(info.encap.flags), TUNNEL_ENCAP_FLAG_CSUM);
        assert_eq!((info.encap.sport, info.encap.dport), (0, 5555u16.to_be()));
        let got = FouKfuncs::get_encap(Some(TunnelInfo::from_mut(&mut info)))?;
        assert_eq!(got, PORTS);
        Ok(())
    }

    /// GUE without a checksum: the flags set before are kept, none added.
    #[test]
    fn set_gue_keeps_flags() -> Result {
        let mut info = tx_info(false)?;
        // CAST: the flag is 4.
        info.encap.flags = TUNNEL_ENCAP_FLAG_REMCSUM as u16;
        FouKfuncs::set_encap(Some(TunnelInfo::from_mut(&mut info)), Some(PORTS), BPF_ENCAP_GUE)?;
        assert_eq!(u32::from(info.encap.type_), tunnel_encap_types_TUNNEL_ENCAP_GUE);
        assert_eq!(u32::from(info.encap.flags), TUNNEL_ENCAP_FLAG_REMCSUM);
        Ok(())
    }

    /// An unknown type means no encapsulation, and succeeds.
    #[test]
    fn unknown_type_is_none() -> Result {
        let mut info = tx_info(false)?;
        info.encap.type_ = 1;
        FouKfuncs::set_encap(Some(TunnelInfo::from_mut(&mut info)), Some(PORTS), 7)?;
        assert_eq!(u32::from(info.encap.type_), tunnel_encap_types_TUNNEL_ENCAP_NONE);
        Ok(())
    }

    /// Metadata a packet was received with is refused and left as it was.
    #[test]
    fn receive_metadata_is_einval() -> Result {
        let mut info = tx_info(true)?;
        info.mode = 0;
        let r = FouKfuncs::set_encap(Some(TunnelInfo::from_mut(&mut info)), Some(PORTS), BPF_ENCAP_FOU);
        assert_eq!(r, Err(EINVAL));
        assert_eq!((info.encap.type_, info.encap.flags, info.encap.dport), (0, 0, 0));
        Ok(())
    }

    /// Without tunnel metadata both kfuncs fail with EINVAL, as in C.
    #[test]
    fn no_tunnel_info_is_einval() {
        assert_eq!(FouKfuncs::set_encap(None, Some(PORTS), BPF_ENCAP_FOU), Err(EINVAL));
        assert_eq!(FouKfuncs::get_encap(None), Err(EINVAL));
        assert_eq!(FouKfuncs::set_encap(None, None, BPF_ENCAP_GUE), Err(EINVAL));
    }
}
