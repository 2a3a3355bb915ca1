//! A runtime's network: IP families and the node, pod and service ranges of each family,
//! resolved from user input with KEB's IPv4 defaults and provider-style IPv6 ranges.
//!
//! KEB accepts only IPv4 CIDRs; IPv6 ranges come from the cloud provider (see
//! shared/reference/kyma-and-gardener.md §1.5, §2.3, §2.4): AWS attaches an Amazon-provided /56 to
//! the VPC, each zone's subnet gets a /64 of it and services get `cidrSubnet(first subnet /64, 108, 1)`;
//! GCP gives the node subnet a /64 and services the first /108 of a separate services subnet.
//! twinstack derives those ranges deterministically from the runtime name, so a runtime keeps its
//! addresses across restarts and two runtimes do not share a range.

use crate::ipam::Family;
use ipnet::{IpNet, Ipv6Net};
use std::net::Ipv6Addr;

pub const DEFAULT_NODES_CIDR: &str = "10.250.0.0/16";
pub const DEFAULT_PODS_CIDR: &str = "10.96.0.0/13";
pub const DEFAULT_SERVICES_CIDR: &str = "10.104.0.0/13";

/// Gardener seed ranges no shoot range may overlap (KEB internal/networking/cidr.go).
pub const GARDENER_SEED_CIDRS: [&str; 8] = [
    "10.243.128.0/17",
    "10.242.0.0/16",
    "10.243.0.0/17",
    "10.64.0.0/11",
    "10.254.0.0/16",
    "10.243.0.0/16",
    "192.168.123.0/24",
    "240.0.0.0/8",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Aws,
    Gcp,
    Azure,
    Openstack,
    /// Alibaba Cloud (KEB plans `alicloud`, `build-runtime-alicloud`).
    Alicloud,
    /// Google Distributed Cloud Hosted (KEB plan `gdch`).
    Gdch,
}

impl Provider {
    pub fn parse(s: &str) -> Result<Provider, String> {
        match s {
            "aws" => Ok(Provider::Aws),
            "gcp" => Ok(Provider::Gcp),
            "azure" => Ok(Provider::Azure),
            "openstack" | "sap-converged-cloud" => Ok(Provider::Openstack),
            "alicloud" => Ok(Provider::Alicloud),
            "gdch" => Ok(Provider::Gdch),
            _ => Err(format!(
                "unknown provider {s:?}: must be one of aws, gcp, azure, openstack, alicloud, gdch"
            )),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Aws => "aws",
            Provider::Gcp => "gcp",
            Provider::Azure => "azure",
            Provider::Openstack => "openstack",
            Provider::Alicloud => "alicloud",
            Provider::Gdch => "gdch",
        }
    }
    /// Kyma offers dual stack only on AWS and Google Cloud.
    pub fn supports_ipv6(self) -> bool {
        matches!(self, Provider::Aws | Provider::Gcp)
    }
}

/// The resolved network of a runtime. Each list holds one CIDR per family, in `families` order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Network {
    pub families: Vec<Family>,
    pub nodes: Vec<IpNet>,
    pub pods: Vec<IpNet>,
    pub services: Vec<IpNet>,
    /// IPv6 only: one /64 per zone (AWS subnets, or the GCP node subnet).
    #[serde(default)]
    pub ipv6_zone_subnets: Vec<IpNet>,
}

/// What the user asked for; `None` means "use the default".
#[derive(Debug, Clone, Default)]
pub struct NetworkRequest<'a> {
    pub families: Option<&'a str>,
    pub services: Option<&'a str>,
    pub pods: Option<&'a str>,
    pub nodes: Option<&'a str>,
}

/// Parses `IPv4`, `IPv6`, `IPv4,IPv6` or `IPv6,IPv4`.
pub fn parse_families(s: &str) -> Result<Vec<Family>, String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let mut out = Vec::new();
    for p in &parts {
        let f: Family = p.parse().map_err(|_| {
            format!("invalid IP families {s:?}: must be one of IPv4, IPv6, IPv4,IPv6, IPv6,IPv4")
        })?;
        if out.contains(&f) {
            return Err(format!(
                "invalid IP families {s:?}: {} is listed twice",
                f.as_str()
            ));
        }
        out.push(f);
    }
    if out.is_empty() || out.len() > 2 {
        return Err(format!(
            "invalid IP families {s:?}: must be one of IPv4, IPv6, IPv4,IPv6, IPv6,IPv4"
        ));
    }
    Ok(out)
}

/// Parses a CIDR the way Go's `net.ParseCIDR` plus KEB's canonical check do.
pub fn parse_canonical_cidr(s: &str) -> Result<IpNet, String> {
    let net: IpNet = s
        .trim()
        .parse()
        .map_err(|_| format!("invalid CIDR address: {s}"))?;
    if net.addr() != net.network() {
        return Err(format!("{} must be valid canonical CIDR", net.addr()));
    }
    Ok(net)
}

fn family_of(net: &IpNet) -> Family {
    match net {
        IpNet::V4(_) => Family::IPv4,
        IpNet::V6(_) => Family::IPv6,
    }
}

/// The provider's public IPv6 pool a runtime's ranges are carved from.
fn ipv6_pool(provider: Provider, region: &str) -> Ipv6Net {
    let base = match (provider, region) {
        (Provider::Gcp, _) => "2600:1900::/28",
        (_, "eu-central-1") => "2a05:d014::/32",
        (_, "eu-west-1") => "2a05:d018::/32",
        (_, "eu-west-2") => "2a05:d01c::/32",
        (_, "us-east-1") => "2600:1f18::/32",
        (_, "us-west-2") => "2600:1f14::/32",
        (_, "ap-southeast-1") => "2406:da18::/32",
        (_, "ap-northeast-1") => "2406:da14::/32",
        _ => "2600:1f10::/32",
    };
    base.parse().expect("static pool")
}

/// Provider-style IPv6 layout of a runtime: (node range, pod range, service /108, zone /64s).
pub fn ipv6_layout(
    provider: Provider,
    region: &str,
    runtime: &str,
    zones: usize,
) -> (Ipv6Net, Ipv6Net, Ipv6Net, Vec<Ipv6Net>) {
    let pool = ipv6_pool(provider, region);
    let h = crate::hash::fnv1a64(&format!("{}/{}/{}", provider.as_str(), region, runtime));
    let zones = zones.max(1);
    match provider {
        Provider::Gcp => {
            // A /64 node subnet and a separate /64 services subnet, both taken from the pool.
            let slots = 1u128 << (64 - pool.prefix_len());
            let n = (h as u128 % (slots / 2)) * 2;
            let base = u128::from(pool.network());
            let node = Ipv6Net::new(Ipv6Addr::from(base + (n << 64)), 64).unwrap();
            let svc_subnet = Ipv6Net::new(Ipv6Addr::from(base + ((n + 1) << 64)), 64).unwrap();
            let services = Ipv6Net::new(svc_subnet.network(), 108).unwrap();
            (node, node, services, vec![node])
        }
        _ => {
            // Amazon-provided /56 for the VPC, one /64 per zone subnet.
            let slots = 1u128 << (56 - pool.prefix_len());
            let n = h as u128 % slots;
            let vpc =
                Ipv6Net::new(Ipv6Addr::from(u128::from(pool.network()) + (n << 72)), 56).unwrap();
            let subnets: Vec<Ipv6Net> = vpc.subnets(64).unwrap().take(zones).collect();
            // cidrSubnet(<first worker subnet /64>, 108, 1)
            let services = Ipv6Net::new(
                Ipv6Addr::from(u128::from(subnets[0].network()) + (1u128 << 20)),
                108,
            )
            .unwrap();
            (vpc, vpc, services, subnets)
        }
    }
}

fn parse_list(flag: &str, input: &str, families: &[Family]) -> Result<Vec<IpNet>, String> {
    let nets: Vec<IpNet> = input
        .split(',')
        .map(|s| parse_canonical_cidr(s).map_err(|e| format!("--{flag}: {e}")))
        .collect::<Result<_, _>>()?;
    let got: Vec<Family> = nets.iter().map(family_of).collect();
    if got != families {
        let want: Vec<&str> = families.iter().map(|f| f.as_str()).collect();
        return Err(format!(
            "--{flag} {input:?}: expected one CIDR per IP family in the order {}",
            want.join(",")
        ));
    }
    Ok(nets)
}

fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Resolves and validates a runtime's network. Errors are single lines meant for the user.
pub fn resolve_network(
    provider: Provider,
    region: &str,
    runtime: &str,
    zones: usize,
    req: &NetworkRequest<'_>,
) -> Result<Network, String> {
    let families = parse_families(req.families.unwrap_or("IPv4,IPv6"))?;
    if families.contains(&Family::IPv6) && !provider.supports_ipv6() {
        return Err(format!(
            "IPv6 is not available on {}: Kyma runtimes support dual stack only on aws and gcp",
            provider.as_str()
        ));
    }
    if provider == Provider::Gcp && families == [Family::IPv6] {
        // gardener-extension-provider-gcp pkg/apis/gcp/validation
        return Err("IPv6 single-stack networking is not supported".into());
    }
    let (v6_nodes, v6_pods, v6_services, zone_subnets) =
        ipv6_layout(provider, region, runtime, zones);
    let default_for = |f: &Family, v4: &str, v6: Ipv6Net| -> String {
        match f {
            Family::IPv4 => v4.to_string(),
            Family::IPv6 => v6.to_string(),
        }
    };
    let join = |v4: &str, v6: Ipv6Net| {
        families
            .iter()
            .map(|f| default_for(f, v4, v6))
            .collect::<Vec<_>>()
            .join(",")
    };
    let nodes = parse_list(
        "node-cidrs",
        req.nodes.unwrap_or(&join(DEFAULT_NODES_CIDR, v6_nodes)),
        &families,
    )?;
    let pods = parse_list(
        "pod-cidrs",
        req.pods.unwrap_or(&join(DEFAULT_PODS_CIDR, v6_pods)),
        &families,
    )?;
    let services = parse_list(
        "service-cidrs",
        req.services
            .unwrap_or(&join(DEFAULT_SERVICES_CIDR, v6_services)),
        &families,
    )?;
    crate::ipam::validate_service_cidrs(&services).map_err(|e| format!("--service-cidrs: {e}"))?;

    for n in nodes.iter().filter(|n| matches!(n, IpNet::V4(_))) {
        if n.prefix_len() > 23 {
            return Err("the suffix of the node CIDR must not be greater than 23".into());
        }
    }
    // KEB's order: seed overlaps for nodes, services, pods; then mutual overlaps.
    for seed in GARDENER_SEED_CIDRS {
        let seed: IpNet = seed.parse().unwrap();
        for (name, list) in [("nodes", &nodes), ("services", &services), ("pods", &pods)] {
            if list.iter().any(|c| overlaps(c, &seed)) {
                return Err(format!("{name} CIDR must not overlap {seed}"));
            }
        }
    }
    // KEB checks its (IPv4) ranges only. The provider's IPv6 ranges nest by design: pods take
    // prefixes of the node subnets and AWS carves the services /108 out of the first subnet.
    let v4 = |l: &Vec<IpNet>| {
        l.iter()
            .copied()
            .filter(|n| matches!(n, IpNet::V4(_)))
            .collect::<Vec<_>>()
    };
    let pairs = [
        (
            v4(&nodes),
            v4(&pods),
            "nodes CIDR must not overlap pods CIDR",
        ),
        (
            v4(&nodes),
            v4(&services),
            "nodes CIDR must not overlap serivces CIDR",
        ),
        (
            v4(&services),
            v4(&pods),
            "services CIDR must not overlap pods CIDR",
        ),
    ];
    for (a, b, msg) in pairs {
        if a.iter().any(|x| b.iter().any(|y| overlaps(x, y))) {
            // The typo "serivces" is KEB's own (internal/networking/validation.go).
            return Err(msg.into());
        }
    }
    let ipv6_zone_subnets = if families.contains(&Family::IPv6) {
        zone_subnets.into_iter().map(IpNet::V6).collect()
    } else {
        Vec::new()
    };
    Ok(Network {
        families,
        nodes,
        pods,
        services,
        ipv6_zone_subnets,
    })
}

/// Runtime names become URL path segments, kubeconfig contexts and store keys: a DNS-1123 label.
pub fn validate_runtime_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid runtime name {name:?}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(f: &'a str) -> NetworkRequest<'a> {
        NetworkRequest {
            families: Some(f),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_are_keb_and_provider_ranges() {
        let n = resolve_network(
            Provider::Aws,
            "eu-central-1",
            "local",
            3,
            &NetworkRequest::default(),
        )
        .unwrap();
        assert_eq!(n.families, vec![Family::IPv4, Family::IPv6]);
        assert_eq!(n.services[0].to_string(), "10.104.0.0/13");
        assert_eq!(n.pods[0].to_string(), "10.96.0.0/13");
        assert_eq!(n.nodes[0].to_string(), "10.250.0.0/16");
        let IpNet::V6(vpc) = n.nodes[1] else { panic!() };
        assert_eq!(vpc.prefix_len(), 56);
        assert!("2a05:d014::/32".parse::<Ipv6Net>().unwrap().contains(&vpc));
        let IpNet::V6(svc) = n.services[1] else {
            panic!()
        };
        assert_eq!(svc.prefix_len(), 108);
        assert!(vpc.contains(&svc));
        assert_eq!(n.ipv6_zone_subnets.len(), 3);
        // Deterministic per runtime, different between runtimes.
        let again = resolve_network(
            Provider::Aws,
            "eu-central-1",
            "local",
            3,
            &NetworkRequest::default(),
        )
        .unwrap();
        assert_eq!(again, n);
        let other = resolve_network(
            Provider::Aws,
            "eu-central-1",
            "other",
            3,
            &NetworkRequest::default(),
        )
        .unwrap();
        assert_ne!(other.nodes[1], n.nodes[1]);
    }

    #[test]
    fn family_orders_and_gcp_layout() {
        let n = resolve_network(Provider::Gcp, "europe-west3", "g", 3, &req("IPv6,IPv4")).unwrap();
        assert_eq!(n.families, vec![Family::IPv6, Family::IPv4]);
        assert_eq!(n.services[0].prefix_len(), 108);
        assert_eq!(n.nodes[0].prefix_len(), 64);
        assert!(matches!(n.services[1], IpNet::V4(_)));
        let n4 = resolve_network(Provider::Azure, "westeurope", "a", 3, &req("IPv4")).unwrap();
        assert_eq!(n4.services.len(), 1);
    }

    #[test]
    fn refusals() {
        let e =
            |p, f: NetworkRequest<'_>| resolve_network(p, "eu-central-1", "x", 3, &f).unwrap_err();
        assert!(e(Provider::Aws, req("IPv5")).contains("must be one of IPv4, IPv6"));
        assert!(e(Provider::Aws, req("IPv4,IPv4")).contains("listed twice"));
        assert!(e(Provider::Azure, req("IPv4,IPv6")).contains("only on aws and gcp"));
        assert_eq!(
            e(Provider::Gcp, req("IPv6")),
            "IPv6 single-stack networking is not supported"
        );
        let bad = NetworkRequest {
            families: Some("IPv4"),
            services: Some("10.104.0.0/33"),
            ..Default::default()
        };
        assert_eq!(
            e(Provider::Aws, bad),
            "--service-cidrs: invalid CIDR address: 10.104.0.0/33"
        );
        let nc = NetworkRequest {
            families: Some("IPv4"),
            services: Some("10.104.0.1/13"),
            ..Default::default()
        };
        assert_eq!(
            e(Provider::Aws, nc),
            "--service-cidrs: 10.104.0.1 must be valid canonical CIDR"
        );
        let order = NetworkRequest {
            families: Some("IPv4"),
            services: Some("fd00::/108"),
            ..Default::default()
        };
        assert!(
            e(Provider::Aws, order).contains("expected one CIDR per IP family in the order IPv4")
        );
        let small = NetworkRequest {
            families: Some("IPv4"),
            nodes: Some("10.250.0.0/24"),
            ..Default::default()
        };
        assert_eq!(
            e(Provider::Aws, small),
            "the suffix of the node CIDR must not be greater than 23"
        );
        let seed = NetworkRequest {
            families: Some("IPv4"),
            pods: Some("10.64.0.0/16"),
            ..Default::default()
        };
        assert_eq!(
            e(Provider::Aws, seed),
            "pods CIDR must not overlap 10.64.0.0/11"
        );
        let ov = NetworkRequest {
            families: Some("IPv4"),
            pods: Some("10.104.0.0/16"),
            ..Default::default()
        };
        assert_eq!(
            e(Provider::Aws, ov),
            "services CIDR must not overlap pods CIDR"
        );
    }
}
