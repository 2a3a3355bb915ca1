//! The LBC's load balancer model (`pkg/service/model_builder.go` `buildModel`,
//! `pkg/service/model_build_load_balancer.go`, `model_build_managed_sg.go`,
//! `pkg/networking/utils.go`): scheme, IP address type, subnets, then the load balancer spec
//! in `buildLoadBalancerSpec`'s order (source NAT, attributes, security groups, tags, subnet
//! mappings, name). The first error wins; its text is upstream's.

use super::annotations::{self as a, go_list};
use super::subnets;
use super::{LbSpec, MappingSpec, Task};
use crate::inventory::Subnet;
use std::collections::BTreeMap;
use std::net::IpAddr;

impl<'a> Task<'a> {
    /// `buildLoadBalancerScheme`: annotation, else the legacy `internal` bool, else the existing
    /// load balancer's scheme, else `--default-load-balancer-scheme` (`internal`).
    pub(super) fn build_load_balancer_scheme(&self) -> Result<String, String> {
        if let Some(raw) = self.ann.string(a::SCHEME) {
            return match raw {
                "internet-facing" | "internal" => Ok(raw.to_string()),
                _ => Err(format!("unknown scheme: {raw}")),
            };
        }
        if let Some(internal) = self.ann.bool(a::INTERNAL)? {
            return Ok(if internal {
                "internal"
            } else {
                "internet-facing"
            }
            .into());
        }
        if let Some(lb) = self.existing {
            return match lb.scheme.as_str() {
                "internal" | "internet-facing" => Ok(lb.scheme.clone()),
                _ => Err("invalid load balancer scheme".into()),
            };
        }
        Ok("internal".into())
    }

    /// `buildLoadBalancerIPAddressType`: `ipv4` (default) or `dualstack`; the model's
    /// `dualstack-without-public-ipv4` is not accepted for Services.
    pub(super) fn build_load_balancer_ip_address_type(&self) -> Result<String, String> {
        match self.ann.string(a::IP_ADDRESS_TYPE) {
            None => Ok("ipv4".into()),
            Some(raw @ ("ipv4" | "dualstack")) => Ok(raw.to_string()),
            Some(raw) => Err(format!("unknown IPAddressType: {raw}")),
        }
    }

    /// `buildLoadBalancerSubnets`: the annotation, else the existing load balancer's subnets
    /// (same scheme), else discovery.
    pub(super) fn build_load_balancer_subnets(
        &self,
        scheme: &str,
        ip_type: &str,
    ) -> Result<Vec<&'a Subnet>, String> {
        let vpc = self.cluster.vpc;
        if let Some(list) = self.ann.slice(a::SUBNETS) {
            return subnets::resolve_via_name_or_id_slice(vpc, &list, ip_type);
        }
        if let Some(lb) = self.existing.filter(|lb| lb.scheme == scheme) {
            let ids: Vec<String> = lb
                .availability_zones
                .iter()
                .map(|z| z.subnet_id.clone())
                .collect();
            return subnets::resolve_via_name_or_id_slice(vpc, &ids, ip_type);
        }
        subnets::resolve_via_discovery(vpc, self.cluster.name, scheme, ip_type)
    }

    /// `buildLoadBalancerSpec`.
    pub(super) fn build_load_balancer_spec(
        &self,
        scheme: &str,
        ip_type: &str,
        subnets: Vec<&'a Subnet>,
    ) -> Result<LbSpec<'a>, String> {
        let source_nat = self.build_enable_prefix_for_ipv6_source_nat(ip_type, &subnets)?;
        let attributes = self.build_load_balancer_attributes()?;
        let (managed_sg, source_ranges) = self.build_load_balancer_security_groups(ip_type)?;
        let mut tags = self.ann.map(a::ADDITIONAL_TAGS)?.unwrap_or_default();
        tags.insert("elbv2.k8s.aws/cluster".into(), self.cluster.name.into());
        tags.insert(
            "service.k8s.aws/stack".into(),
            format!("{}/{}", self.namespace, self.name),
        );
        tags.insert("service.k8s.aws/resource".into(), "LoadBalancer".into());
        let mappings =
            self.build_load_balancer_subnet_mappings(ip_type, scheme, &subnets, source_nat)?;
        let name = self.build_load_balancer_name(scheme)?;
        Ok(LbSpec {
            name,
            scheme: scheme.into(),
            ip_address_type: ip_type.into(),
            source_nat,
            subnets,
            mappings,
            attributes,
            managed_sg,
            source_ranges,
            tags,
        })
    }

    /// `buildLoadBalancerEnablePrefixForIpv6SourceNat` + `ValidateEnablePrefixForIpv6SourceNat`.
    fn build_enable_prefix_for_ipv6_source_nat(
        &self,
        ip_type: &str,
        subnets: &[&Subnet],
    ) -> Result<bool, String> {
        let Some(raw) = self.ann.string(a::SOURCE_NAT) else {
            return Ok(false);
        };
        if raw != "on" && raw != "off" {
            return Err(format!("Invalid enable-prefix-for-ipv6-source-nat value: {raw}. Valid values are ['on', 'off']."));
        }
        if raw == "off" {
            return Ok(false);
        }
        if ip_type == "ipv4" {
            return Err("enable-prefix-for-ipv6-source-nat annotation is only applicable to Network Load Balancers using Dualstack IP address type.".into());
        }
        let without = subnets::without_ipv6(subnets);
        if !without.is_empty() {
            return Err(format!(
                "To enable prefix for source NAT, all associated subnets must have an IPv6 CIDR. Subnets without IPv6 CIDR: {}.",
                go_list(&without)
            ));
        }
        Ok(true)
    }

    /// `buildLoadBalancerAttributes`: `aws-load-balancer-attributes` over the specific
    /// annotations (access log, cross zone).
    fn build_load_balancer_attributes(&self) -> Result<BTreeMap<String, String>, String> {
        let attrs = self.ann.map(a::LB_ATTRIBUTES)?.unwrap_or_default();
        if let Some(p) = attrs.get("dns_record.client_routing_policy") {
            if !matches!(
                p.as_str(),
                "availability_zone_affinity"
                    | "partial_availability_zone_affinity"
                    | "any_availability_zone"
            ) {
                return Err(format!(
                    "invalid dns_record.client_routing_policy set in annotation {}: got '{p}' expected one of ['any_availability_zone', 'partial_availability_zone_affinity', 'availability_zone_affinity']",
                    a::LB_ATTRIBUTES
                ));
            }
        }
        let mut merged = BTreeMap::new();
        if self.ann.bool(a::ACCESS_LOG_ENABLED)? == Some(true) {
            merged.insert("access_logs.s3.enabled".to_string(), "true".to_string());
            if let Some(b) = self.ann.string(a::ACCESS_LOG_BUCKET) {
                merged.insert("access_logs.s3.bucket".into(), b.into());
            }
            if let Some(p) = self.ann.string(a::ACCESS_LOG_PREFIX) {
                merged.insert("access_logs.s3.prefix".into(), p.into());
            }
        }
        if let Some(c) = self.ann.bool(a::CROSS_ZONE)? {
            merged.insert("load_balancing.cross_zone.enabled".into(), c.to_string());
        }
        merged.extend(attrs);
        Ok(merged)
    }

    /// `buildLoadBalancerSecurityGroups` with the managed frontend SG's CIDRs
    /// (`buildCIDRsFromSourceRanges`). Returns (managed SG?, source ranges).
    fn build_load_balancer_security_groups(
        &self,
        ip_type: &str,
    ) -> Result<(bool, Vec<String>), String> {
        let disable = self.ann.bool(a::DISABLE_NLB_SG)?;
        if let Some(lb) = self.existing {
            if lb.security_groups.is_empty() {
                return Ok((false, Vec::new()));
            }
            if disable == Some(true) {
                return Err("conflicting security groups configuration".into());
            }
        }
        if disable == Some(true) {
            return Ok((false, Vec::new()));
        }
        if self
            .ann
            .slice(a::SECURITY_GROUPS)
            .is_some_and(|v| !v.is_empty())
        {
            // User-given frontend SGs: their rules are not ours to know.
            return Ok((false, Vec::new()));
        }
        let mut cidrs: Vec<String> = self.svc_spec_source_ranges();
        if cidrs.is_empty() {
            cidrs = self.ann.slice(a::SOURCE_RANGES).unwrap_or_default();
        }
        if let Some(c) = cidrs.iter().find(|c| c.contains(':')) {
            if ip_type != "dualstack" {
                return Err(format!("unsupported v6 cidr {c} when lb is not dualstack"));
            }
        }
        if cidrs.is_empty() {
            cidrs.push("0.0.0.0/0".into());
            if ip_type == "dualstack" {
                cidrs.push("::/0".into());
            }
        }
        Ok((true, cidrs))
    }

    /// `buildLoadBalancerSubnetMappings`: EIPs, private IPv4s, IPv6s, source NAT prefixes.
    fn build_load_balancer_subnet_mappings(
        &self,
        ip_type: &str,
        scheme: &str,
        subnets: &[&Subnet],
        source_nat: bool,
    ) -> Result<Vec<MappingSpec>, String> {
        let n = subnets.len();
        let eips = self.ann.slice(a::EIP_ALLOCATIONS);
        if let Some(e) = &eips {
            if scheme != "internet-facing" {
                return Err(
                    "EIP allocations can only be set for internet facing load balancers".into(),
                );
            }
            if e.len() != n {
                return Err(format!(
                    "count of EIP allocations ({}) and subnets ({n}) must match",
                    e.len()
                ));
            }
        }
        let v4 = match self.ann.slice(a::PRIVATE_IPV4) {
            None => None,
            Some(raw) => {
                if scheme != "internal" {
                    return Err(
                        "private IPv4 addresses can only be set for internal load balancers".into(),
                    );
                }
                if raw.len() != n {
                    return Err(format!(
                        "count of private IPv4 addresses ({}) and subnets ({n}) must match",
                        raw.len()
                    ));
                }
                let mut out = Vec::new();
                for r in &raw {
                    match r.parse::<IpAddr>() {
                        Err(_) => {
                            return Err(format!(
                                "private IPv4 addresses must be valid IP address: {r}"
                            ))
                        }
                        Ok(IpAddr::V6(_)) => {
                            return Err(format!(
                                "private IPv4 addresses must be valid IPv4 address: {r}"
                            ))
                        }
                        Ok(IpAddr::V4(ip)) => out.push(ip),
                    }
                }
                Some(out)
            }
        };
        let v6 = match self.ann.slice(a::IPV6_ADDRESSES) {
            None => None,
            Some(raw) => {
                if ip_type != "dualstack" {
                    return Err(
                        "IPv6 addresses can only be set for dualstack load balancers".into(),
                    );
                }
                if raw.len() != n {
                    return Err(format!(
                        "count of IPv6 addresses ({}) and subnets ({n}) must match",
                        raw.len()
                    ));
                }
                let mut out = Vec::new();
                for r in &raw {
                    match r.parse::<IpAddr>() {
                        Err(_) => {
                            return Err(format!("IPv6 addresses must be valid IP address: {r}"))
                        }
                        Ok(IpAddr::V4(_)) => {
                            return Err(format!("IPv6 addresses must be valid IPv6 address: {r}"))
                        }
                        Ok(IpAddr::V6(ip)) => out.push(ip),
                    }
                }
                Some(out)
            }
        };
        let nat_prefixes = self.ann.slice(a::SOURCE_NAT_PREFIXES);
        if let Some(p) = &nat_prefixes {
            validate_source_nat_prefixes(p, ip_type, source_nat, subnets)?;
        }
        let mut out = Vec::with_capacity(n);
        for (i, s) in subnets.iter().enumerate() {
            let mut m = MappingSpec {
                allocation_id: eips.as_ref().map(|e| e[i].clone()),
                ..Default::default()
            };
            if let Some(v4) = &v4 {
                let inside: Vec<_> = v4.iter().filter(|ip| s.cidr_block.contains(*ip)).collect();
                if inside.len() != 1 {
                    return Err(format!(
                        "expect one private IPv4 address configured for subnet: {}",
                        s.subnet_id
                    ));
                }
                m.private_ipv4 = Some(*inside[0]);
            }
            if source_nat {
                m.source_nat_prefix = nat_prefixes.as_ref().map(|p| p[i].clone());
            }
            if let Some(v6) = &v6 {
                let inside: Vec<_> = v6
                    .iter()
                    .filter(|ip| s.ipv6_cidr_block.is_some_and(|c| c.contains(*ip)))
                    .collect();
                if inside.len() != 1 {
                    return Err(format!(
                        "expect one IPv6 address configured for subnet: {}",
                        s.subnet_id
                    ));
                }
                m.ipv6 = Some(*inside[0]);
            }
            out.push(m);
        }
        Ok(out)
    }

    /// `buildLoadBalancerName`: the `aws-load-balancer-name` override (≤ 32) or the hash name.
    fn build_load_balancer_name(&self, scheme: &str) -> Result<String, String> {
        if let Some(n) = self.ann.string(a::NAME) {
            if n.len() > 32 {
                return Err("load balancer name cannot be longer than 32 characters".into());
            }
            return Ok(n.to_string());
        }
        Ok(super::names::load_balancer_name(
            self.cluster.name,
            self.namespace,
            self.name,
            self.uid,
            scheme,
        ))
    }
}

/// `ValidateSourceNatPrefixes` + `ValidateSourceNatPrefixForSubnetPair`.
fn validate_source_nat_prefixes(
    p: &[String],
    ip_type: &str,
    enabled: bool,
    subnets: &[&Subnet],
) -> Result<(), String> {
    if ip_type != "dualstack" {
        return Err("source-nat-ipv6-prefixes annotation can only be set for Network Load Balancers using Dualstack IP address type.".into());
    }
    if !enabled {
        return Err("source-nat-ipv6-prefixes annotation is only applicable if enable-prefix-for-ipv6-source-nat annotation is set to on.".into());
    }
    if p.len() != subnets.len() {
        return Err(format!(
            "Number of values in source-nat-ipv6-prefixes ({}) must match the number of subnets ({}).",
            p.len(),
            subnets.len()
        ));
    }
    for (v, s) in p.iter().zip(subnets) {
        if v == "auto_assigned" {
            continue;
        }
        let parts: Vec<&str> = v.split('/').collect();
        if parts.len() < 2 {
            return Err(format!("Invalid value in source-nat-ipv6-prefixes: {v}."));
        }
        if parts[1] != "80" {
            return Err(format!(
                "Invalid value in source-nat-ipv6-prefixes: {v}. Prefix length must be 80, but {} is specified.",
                parts[1]
            ));
        }
        let Ok(IpAddr::V6(ip)) = parts[0].parse::<IpAddr>() else {
            return Err(format!(
                "Invalid value in source-nat-ipv6-prefixes: {v}. Value must be a valid IPv6 CIDR."
            ));
        };
        let cidrs: Vec<String> = s.ipv6_cidr_block.iter().map(|c| c.to_string()).collect();
        if !s.ipv6_cidr_block.is_some_and(|c| c.contains(&ip)) {
            return Err(format!(
                "Invalid value in source-nat-ipv6-prefixes: {v}. Value must be within subnet CIDR range: {}.",
                go_list(&cidrs)
            ));
        }
    }
    Ok(())
}
