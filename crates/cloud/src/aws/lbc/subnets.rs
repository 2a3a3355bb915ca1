//! The LBC's subnet resolver for NLBs (`pkg/networking/subnet_resolver.go`, v3.5.0):
//! explicit subnets by ID or `Name` tag (`ResolveViaNameOrIDSlice` + `validateSpecifiedSubnets`)
//! or discovery by role tag (`ResolveViaDiscovery` + `chooseAndValidateSubnetsPerAZ`); for
//! dualstack both drop or reject subnets without an IPv6 CIDR (PR #4865).

use super::annotations::go_list;
use crate::aws::ids;
use crate::inventory::{Subnet, Vpc};
use std::collections::BTreeMap;

const TAG_INTERNAL_ELB: &str = "kubernetes.io/role/internal-elb";
const TAG_PUBLIC_ELB: &str = "kubernetes.io/role/elb";
/// `defaultMinimalAvailableIPAddressCount`.
const MINIMAL_AVAILABLE_IPS: u32 = 8;

/// The IDs of the subnets that have no IPv6 CIDR.
pub(crate) fn without_ipv6(subnets: &[&Subnet]) -> Vec<String> {
    subnets
        .iter()
        .filter(|s| s.ipv6_cidr_block.is_none())
        .map(|s| s.subnet_id.clone())
        .collect()
}

fn ids_of(subnets: &[&Subnet]) -> Vec<String> {
    subnets.iter().map(|s| s.subnet_id.clone()).collect()
}

/// `ResolveViaNameOrIDSlice`: the subnets in the requested order, validated.
pub fn resolve_via_name_or_id_slice<'v>(
    vpc: &'v Vpc,
    name_or_ids: &[String],
    ip_address_type: &str,
) -> Result<Vec<&'v Subnet>, String> {
    let wrap = |e: String| format!("failed to list subnets by names or IDs: {e}");
    let (ids, names): (Vec<&String>, Vec<&String>) =
        name_or_ids.iter().partition(|s| s.starts_with("subnet-"));
    // `listSubnetsByIDs`: EC2 DescribeSubnets rejects an unknown ID outright. The SDK error
    // text (request ID included) is our rendering of the AWS SDK for Go v2 error; see the
    // fidelity doc.
    for id in &ids {
        if !vpc.subnets.iter().any(|s| &&s.subnet_id == id) {
            let request_id = request_id(&["DescribeSubnets", id]);
            return Err(wrap(format!(
                "operation error EC2: DescribeSubnets, https response error StatusCode: 400, RequestID: {request_id}, api error InvalidSubnetID.NotFound: The subnet ID '{id}' does not exist"
            )));
        }
    }
    // `listSubnetsByNames`: a filter on tag:Name within the VPC; Go lists the missing names
    // in map order, we sort them.
    let mut missing: Vec<&str> = names
        .iter()
        .filter(|n| !vpc.subnets.iter().any(|s| s.tags.get("Name") == Some(n)))
        .map(|n| n.as_str())
        .collect();
    missing.sort();
    missing.dedup();
    if !missing.is_empty() {
        return Err(wrap(format!(
            "couldn't find all subnets, missing names: {}",
            go_list(&missing)
        )));
    }
    let mut by_name: BTreeMap<&str, Vec<&Subnet>> = BTreeMap::new();
    let mut sorted: Vec<&Subnet> = vpc.subnets.iter().collect();
    sorted.sort_by(|a, b| a.subnet_id.cmp(&b.subnet_id));
    for s in sorted {
        if let Some(n) = s.tags.get("Name") {
            by_name.entry(n.as_str()).or_default().push(s);
        }
    }
    let mut used: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(name_or_ids.len());
    for n in name_or_ids {
        if n.starts_with("subnet-") {
            match vpc.subnets.iter().find(|s| &s.subnet_id == n) {
                Some(s) => out.push(s),
                None => return Err(wrap(format!("subnet ID not found: {n}"))),
            }
        } else {
            let list = by_name.get(n.as_str()).cloned().unwrap_or_default();
            let k = used.entry(n.as_str()).or_insert(0);
            if list.is_empty() {
                return Err(wrap(format!("subnet with Name tag not found: {n}")));
            }
            if *k >= list.len() {
                return Err(wrap(format!(
                    "subnet with Name tag {} requested {} times but only {} subnet(s) found with that name",
                    super::annotations::go_quote(n),
                    *k + 1,
                    list.len()
                )));
            }
            out.push(list[*k]);
            *k += 1;
        }
    }
    validate_specified_subnets(&out, ip_address_type)?;
    Ok(out)
}

/// `validateSpecifiedSubnets` for an NLB in availability zones (minimal count 1).
fn validate_specified_subnets(subnets: &[&Subnet], ip_address_type: &str) -> Result<(), String> {
    if subnets.is_empty() {
        return Err("unable to resolve at least one subnet".into());
    }
    // `validateSubnetsAZExclusivity` walks a Go map (random order); we report the first zone
    // by name.
    let mut by_az: BTreeMap<&str, Vec<&Subnet>> = BTreeMap::new();
    for s in subnets {
        by_az
            .entry(s.availability_zone.as_str())
            .or_default()
            .push(s);
    }
    for (az, list) in &by_az {
        if list.len() > 1 {
            return Err(format!(
                "multiple subnets in same Availability Zone {az}: {}",
                go_list(&ids_of(list))
            ));
        }
    }
    if ip_address_type == "dualstack" {
        let without = without_ipv6(subnets);
        if !without.is_empty() {
            return Err(format!(
                "subnets {} do not have an associated IPv6 CIDR block, which is required for {ip_address_type} load balancers",
                go_list(&without)
            ));
        }
    }
    Ok(())
}

/// `ResolveViaDiscovery`: subnets of the VPC tagged with the scheme's role tag (value `""` or
/// `1`), one per zone, sorted by ID. The fallback to route-table reachability (no role-tagged
/// subnets at all) is not emulated: the emulated VPC always carries role tags.
pub fn resolve_via_discovery<'v>(
    vpc: &'v Vpc,
    cluster: &str,
    scheme: &str,
    ip_address_type: &str,
) -> Result<Vec<&'v Subnet>, String> {
    let role = if scheme == "internal" {
        TAG_INTERNAL_ELB
    } else {
        TAG_PUBLIC_ELB
    };
    let candidates: Vec<&Subnet> = vpc
        .subnets
        .iter()
        .filter(|s| matches!(s.tags.get(role).map(String::as_str), Some("") | Some("1")))
        .collect();
    let cluster_key = format!("kubernetes.io/cluster/{cluster}");
    let requires_ipv6 = ip_address_type == "dualstack";
    let (mut other_cluster, mut insufficient, mut missing_v6) = (0, 0, 0);
    let mut eligible: Vec<&Subnet> = Vec::new();
    for s in &candidates {
        let has_own = s.tags.contains_key(&cluster_key);
        let has_other = s
            .tags
            .keys()
            .any(|k| k.starts_with("kubernetes.io/cluster"));
        if !has_own && has_other {
            other_cluster += 1;
        } else if s.available_ip_address_count < MINIMAL_AVAILABLE_IPS {
            insufficient += 1;
        } else if requires_ipv6 && s.ipv6_cidr_block.is_none() {
            missing_v6 += 1;
        } else {
            eligible.push(s);
        }
    }
    // `chooseSubnetsPerAZ`: per zone, prefer the current cluster's tag, then the lower ID.
    let mut by_az: BTreeMap<&str, Vec<&Subnet>> = BTreeMap::new();
    for s in eligible {
        by_az
            .entry(s.availability_zone.as_str())
            .or_default()
            .push(s);
    }
    let mut chosen: Vec<&Subnet> = by_az
        .into_values()
        .map(|mut list| {
            list.sort_by(|a, b| {
                let ta = a.tags.contains_key(&cluster_key);
                let tb = b.tags.contains_key(&cluster_key);
                tb.cmp(&ta).then(a.subnet_id.cmp(&b.subnet_id))
            });
            list[0]
        })
        .collect();
    chosen.sort_by(|a, b| a.subnet_id.cmp(&b.subnet_id));
    if chosen.is_empty() {
        let n = candidates.len();
        return Err(if requires_ipv6 {
            format!(
                "unable to resolve at least one subnet. Evaluated {n} subnets: {other_cluster} are tagged for other clusters, {insufficient} have insufficient available IP addresses, and {missing_v6} don't have an associated IPv6 CIDR block, which is required for {ip_address_type} load balancers"
            )
        } else {
            format!(
                "unable to resolve at least one subnet. Evaluated {n} subnets: {other_cluster} are tagged for other clusters, and {insufficient} have insufficient available IP addresses"
            )
        });
    }
    Ok(chosen)
}

/// An AWS request ID (a UUID) derived from the request.
pub(crate) fn request_id(parts: &[&str]) -> String {
    let h = ids::hex_id(parts, 32);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
