//! The addresses AWS gives a load balancer in each subnet, derived from the load balancer's
//! name and the subnet (AWS picks them at random): a private IPv4 in the subnet (never the
//! network, the first four or the broadcast address), a public IPv4 from the RFC 5737
//! documentation ranges (internet-facing), an IPv6 in the subnet's /64 (dualstack), a /80
//! source NAT prefix.

use super::ids;
use crate::inventory::{Subnet, ZoneMapping};
use std::net::{Ipv4Addr, Ipv6Addr};

#[allow(clippy::too_many_arguments)]
pub(crate) fn zone_mapping(
    lb_name: &str,
    s: &Subnet,
    scheme: &str,
    ip_type: &str,
    private_ipv4: Option<Ipv4Addr>,
    allocation_id: Option<String>,
    ipv6: Option<Ipv6Addr>,
    source_nat: bool,
    source_nat_prefix: Option<String>,
) -> ZoneMapping {
    let h = ids::seed_u128(&["lb-address", lb_name, &s.subnet_id]);
    let base = u32::from(s.cidr_block.network());
    let size = 1u64 << (32 - u32::from(s.cidr_block.prefix_len()));
    let private = private_ipv4.unwrap_or_else(|| {
        let usable = size.saturating_sub(5).max(1);
        Ipv4Addr::from(base.wrapping_add(4 + (h as u64 % usable) as u32))
    });
    let public = (scheme == "internet-facing").then(|| {
        let seed = allocation_id.as_deref().unwrap_or(lb_name);
        let p = ids::seed_u128(&["public-ipv4", seed, &s.subnet_id]);
        let nets = [[192, 0, 2], [198, 51, 100], [203, 0, 113]];
        let n = nets[(p % 3) as usize];
        Ipv4Addr::new(n[0], n[1], n[2], 1 + ((p >> 8) % 254) as u8)
    });
    let v6 = (ip_type == "dualstack").then_some(()).and_then(|_| {
        ipv6.or_else(|| {
            let net = s.ipv6_cidr_block?;
            let host = (h >> 64).max(4) as u64;
            Some(Ipv6Addr::from(u128::from(net.network()) | u128::from(host)))
        })
    });
    let nat = (source_nat && ip_type == "dualstack")
        .then_some(())
        .and_then(|_| match source_nat_prefix {
            Some(p) if p != "auto_assigned" => Some(p),
            _ => {
                let net = s.ipv6_cidr_block?;
                let mid = ((h >> 32) as u16).max(1);
                let ip = Ipv6Addr::from(u128::from(net.network()) | (u128::from(mid) << 48));
                Some(format!("{ip}/80"))
            }
        });
    ZoneMapping {
        zone_name: s.availability_zone.clone(),
        subnet_id: s.subnet_id.clone(),
        private_ipv4_address: private,
        ipv4_address: public,
        allocation_id,
        ipv6_address: v6,
        source_nat_ipv6_prefix: nat,
    }
}

/// ELBv2's canonical hosted zone of NLBs in `region` (AWS "Elastic Load Balancing endpoints
/// and quotas"); a derived stand-in for regions not listed.
pub(crate) fn nlb_hosted_zone_id(region: &str) -> String {
    match region {
        "us-east-1" => "Z26RNL4JYFTOTI".into(),
        "us-west-2" => "Z18D5FSROUN65G".into(),
        "eu-central-1" => "Z3F0SRJ5LGBH90".into(),
        "eu-west-1" => "Z2IFOLAFXWLO4F".into(),
        _ => format!("Z{}", ids::hex_id(&["nlb-zone", region], 13).to_uppercase()),
    }
}

/// Classic ELB's canonical hosted zone in `region`.
pub(crate) fn clb_hosted_zone_id(region: &str) -> String {
    match region {
        "us-east-1" => "Z35SXDOTRQ7X7K".into(),
        "us-west-2" => "Z1H1FL5HABSF5".into(),
        "eu-central-1" => "Z215JYRZR1TBD5".into(),
        "eu-west-1" => "Z32O12XQLNTSW2".into(),
        _ => format!("Z{}", ids::hex_id(&["clb-zone", region], 13).to_uppercase()),
    }
}
