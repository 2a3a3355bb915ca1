//! The emulated VPC of a runtime on AWS, as Gardener's AWS infrastructure builds it from KIM's
//! zone layout (`twinstack_keb::shoot::aws_zone_layout`): per zone a workers (`nodes`), a
//! public-utility and a private-utility subnet (`gardener-extension-provider-aws`,
//! `pkg/controller/infrastructure/infraflow`: `<cluster>-nodes-z<i>`, `-public-utility-z<i>`,
//! `-private-utility-z<i>`), tagged for the cloud provider and the LBC's subnet discovery.

use super::ids;
use crate::inventory::{Subnet, Vpc};
use ipnet::{Ipv4Net, Ipv6Net};
use std::collections::BTreeMap;

/// AWS reserves five addresses in every subnet (network, router, DNS, future use, broadcast).
pub const AWS_RESERVED_ADDRESSES: u32 = 5;

/// The VPC of runtime `cluster` in `region`: `nodes` is the IPv4 node range (the VPC CIDR),
/// `zones` the zone names, `ipv6` the VPC's /56 when the VPC has IPv6 (dual-stack runtimes and
/// IPv4 runtimes with `dualStack.enabled` on the InfrastructureConfig).
///
/// With IPv6 every subnet gets a /64 (Gardener: "All subnets will receive a /64 block"): the
/// workers subnet of zone `i` the /56's `i`-th /64 (so it equals the runtime's
/// `ipv6_zone_subnets`), the public ones the next `n`, the internal ones the `n` after.
pub fn emulated(
    cluster: &str,
    region: &str,
    nodes: Ipv4Net,
    zones: &[String],
    ipv6: Option<Ipv6Net>,
) -> Vpc {
    let vpc_id = format!("vpc-{}", ids::hex_id(&["vpc", cluster, region], 17));
    let layout = twinstack_keb::shoot::aws_zone_layout(nodes, zones);
    let n = zones.len();
    let six = |k: usize| -> Option<Ipv6Net> {
        let net = ipv6?;
        if net.prefix_len() > 64 {
            return None;
        }
        net.subnets(64).ok()?.nth(k)
    };
    let mut subnets = Vec::with_capacity(3 * n);
    for (i, z) in layout.iter().enumerate() {
        let az_id = availability_zone_id(region, &z.name);
        let kinds = [
            ("nodes", z.workers, six(i), None),
            (
                "public-utility",
                z.public,
                six(n + i),
                Some("kubernetes.io/role/elb"),
            ),
            (
                "private-utility",
                z.internal,
                six(2 * n + i),
                Some("kubernetes.io/role/internal-elb"),
            ),
        ];
        for (kind, cidr, v6, role) in kinds {
            let name = format!("{cluster}-{kind}-z{i}");
            let mut tags = BTreeMap::new();
            tags.insert("Name".to_string(), name.clone());
            tags.insert(format!("kubernetes.io/cluster/{cluster}"), "1".to_string());
            if let Some(role) = role {
                tags.insert(role.to_string(), "1".to_string());
            }
            subnets.push(Subnet {
                subnet_id: format!(
                    "subnet-{}",
                    ids::hex_id(&["subnet", cluster, region, &name], 17)
                ),
                vpc_id: vpc_id.clone(),
                availability_zone: z.name.clone(),
                availability_zone_id: az_id.clone(),
                cidr_block: cidr,
                ipv6_cidr_block: v6,
                available_ip_address_count: available_addresses(cidr),
                map_public_ip_on_launch: false,
                tags,
            });
        }
    }
    let mut tags = BTreeMap::new();
    tags.insert("Name".to_string(), cluster.to_string());
    tags.insert(format!("kubernetes.io/cluster/{cluster}"), "1".to_string());
    Vpc {
        vpc_id,
        cidr_block: nodes,
        ipv6_cidr_block: ipv6,
        subnets,
        tags,
    }
}

/// Free addresses of a fresh subnet: its size less the five AWS reserves.
pub fn available_addresses(cidr: Ipv4Net) -> u32 {
    let size = 1u64 << (32 - u32::from(cidr.prefix_len()));
    size.saturating_sub(u64::from(AWS_RESERVED_ADDRESSES)) as u32
}

/// The zone ID of `zone` (`eu-central-1b` → `euc1-az3`). AWS maps zone names to IDs per
/// account; the number here is a stable shuffle derived from the region, the prefix is AWS's
/// region short form (`use1`, `euc1`, `apse1`).
pub fn availability_zone_id(region: &str, zone: &str) -> String {
    let mut parts = region.split('-');
    let geo = parts.next().unwrap_or("");
    let dir = parts.next().unwrap_or("");
    let num = parts.next().unwrap_or("1");
    let short = match dir {
        "northeast" => "ne",
        "southeast" => "se",
        "northwest" => "nw",
        "southwest" => "sw",
        d => &d[..d.len().min(1)],
    };
    let letter = zone
        .strip_prefix(region)
        .and_then(|s| s.bytes().next())
        .unwrap_or(b'a');
    let idx = u32::from(letter.saturating_sub(b'a'));
    let shift = (ids::seed_u128(&["az-shuffle", region]) % 3) as u32;
    let az = if idx < 3 {
        (idx + shift) % 3 + 1
    } else {
        idx + 1
    };
    format!("{geo}{short}{num}-az{az}")
}
