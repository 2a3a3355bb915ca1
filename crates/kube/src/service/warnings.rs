//! `GetWarningsForService` (`pkg/api/service/warnings.go`) as of 1.32, with apimachinery's
//! `GetWarningsForIP` / `GetWarningsForCIDR` (`util/validation/ip.go`). Not included: the
//! headless-service warnings and the externalIPs / PreferClose deprecations, which are newer
//! than 1.32.

use super::*;
use std::net::IpAddr;
use twinstack_core::field::{go_quote, Path};
use twinstack_core::ipam::{go_ip_string, parse_ip_legacy};

/// `utilvalidation.GetWarningsForIP`: legacy-parsable but non-canonical IPs.
pub(crate) fn warnings_for_ip(path: &Path, value: &str) -> Vec<String> {
    let Some(ip) = parse_ip_legacy(value) else {
        return vec![];
    };
    // netip.ParseAddr is strict: no leading zeros in IPv4 octets.
    let strict: Option<IpAddr> = value.parse().ok();
    let mapped = matches!(strict, Some(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_some());
    match strict {
        None => vec![non_standard(path, value, &go_ip_string(ip))],
        Some(_) if mapped => vec![non_standard(path, value, &go_ip_string(ip))],
        Some(IpAddr::V6(v6)) if v6.to_string() != value => vec![format!(
            "{path}: IPv6 address {} should be in RFC 5952 canonical format ({})",
            go_quote(value),
            go_quote(&v6.to_string())
        )],
        Some(_) => vec![],
    }
}

/// Go's `net.IPNet.String()` of a legacy-parsed CIDR (IPv4-mapped networks print as IPv4).
fn go_net_string(net: &ipnet::IpNet) -> String {
    match net {
        ipnet::IpNet::V6(v6) => match v6.network().to_ipv4_mapped() {
            Some(v4) => format!("{v4}/{}", v6.prefix_len().saturating_sub(96)),
            None => net.to_string(),
        },
        _ => net.to_string(),
    }
}

/// `utilvalidation.GetWarningsForCIDR`.
pub(crate) fn warnings_for_cidr(path: &Path, value: &str) -> Vec<String> {
    let Some((ip, net)) = twinstack_core::ipam::parse_cidr_legacy(value) else {
        return vec![];
    };
    let mut w = Vec::new();
    let canonical_net = go_net_string(&net);
    let ip_is_network =
        twinstack_core::ipam::canonical_ip(ip) == twinstack_core::ipam::canonical_ip(net.network());
    if !ip_is_network {
        let addrlen = net.max_prefix_len();
        w.push(format!(
            "{path}: CIDR value {} is ambiguous in this context (should be {} or {}?)",
            go_quote(value),
            go_quote(&canonical_net),
            go_quote(&format!("{}/{addrlen}", go_ip_string(ip)))
        ));
    }
    // netip.ParsePrefix is strict (no leading zeros) and keeps the host bits.
    let strict = strict_prefix(value);
    let mapped = matches!(strict, Some(ipnet::IpNet::V6(n)) if n.addr().to_ipv4_mapped().is_some());
    if strict.is_none() || mapped {
        w.push(format!(
            "{path}: non-standard CIDR value {} will be considered invalid in a future Kubernetes release: use {}",
            go_quote(value),
            go_quote(&canonical_net)
        ));
    }
    if let Some(ipnet::IpNet::V6(p)) = strict {
        if w.is_empty() && p.to_string() != value {
            w.push(format!(
                "{path}: IPv6 CIDR value {} should be in RFC 5952 canonical format ({})",
                go_quote(value),
                go_quote(&p.to_string())
            ));
        }
    }
    w
}

/// `netip.ParsePrefix`: strict address syntax, decimal prefix length without leading zeros.
fn strict_prefix(value: &str) -> Option<ipnet::IpNet> {
    let (addr, bits) = value.split_once('/')?;
    if bits.is_empty()
        || (bits.len() > 1 && bits.starts_with('0'))
        || !bits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let addr: IpAddr = addr.parse().ok()?;
    ipnet::IpNet::new(addr, bits.parse().ok()?).ok()
}

fn non_standard(path: &Path, value: &str, canonical: &str) -> String {
    format!(
        "{path}: non-standard IP address {} will be considered invalid in a future Kubernetes release: use {}",
        go_quote(value),
        go_quote(canonical)
    )
}

/// Warnings for a create (`old = None`) or an update. `old` is unused upstream.
pub fn warnings(new: &Service, _old: Option<&Service>) -> Vec<String> {
    let mut w = Vec::new();
    let sp = spec(new);
    if new
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key("service.kubernetes.io/topology-aware-hints"))
    {
        w.push(
            "annotation service.kubernetes.io/topology-aware-hints is deprecated, please use service.kubernetes.io/topology-mode instead"
                .to_string(),
        );
    }
    let ci = cluster_ip(new);
    if ci != NONE && !ci.is_empty() {
        for (i, ip) in cluster_ips(new).iter().enumerate() {
            w.extend(warnings_for_ip(
                &Path::new("spec").child("clusterIPs").index(i),
                ip,
            ));
        }
    }
    for (i, ip) in sp.external_ips.as_deref().unwrap_or(&[]).iter().enumerate() {
        w.extend(warnings_for_ip(
            &Path::new("spec").child("externalIPs").index(i),
            ip,
        ));
    }
    if let Some(lb) = sp.load_balancer_ip.as_deref().filter(|s| !s.is_empty()) {
        w.extend(warnings_for_ip(
            &Path::new("spec").child("loadBalancerIP"),
            lb,
        ));
    }
    for (i, cidr) in sp
        .load_balancer_source_ranges
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        w.extend(warnings_for_cidr(
            &Path::new("spec").child("loadBalancerSourceRanges").index(i),
            cidr,
        ));
    }
    let ty = svc_type(new);
    if ty == EXTERNAL_NAME && sp.external_ips.as_ref().is_some_and(|v| !v.is_empty()) {
        w.push("spec.externalIPs is ignored when spec.type is \"ExternalName\"".to_string());
    }
    if ty != EXTERNAL_NAME && !sp.external_name.as_deref().unwrap_or("").is_empty() {
        w.push("spec.externalName is ignored when spec.type is not \"ExternalName\"".to_string());
    }
    w
}
