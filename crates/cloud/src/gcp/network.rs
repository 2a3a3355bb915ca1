//! The emulated VPC network of a runtime on Google Cloud, as Gardener's GCP infrastructure
//! builds it (`gardener-extension-provider-gcp` `pkg/controller/infrastructure/infraflow/`
//! `ensure.go` `ensureNodesSubnet`/`ensureInternalSubnet`/`ensureServicesSubnet`,
//! `ensure_utils.go` `targetSubnetState` and the `*NameFromConfig` names):
//!
//! - `<cluster>-nodes`: the nodes range; on dual-stack `stackType: IPV4_IPV6`,
//!   `ipv6AccessType: EXTERNAL`, the secondary range `ipv4-pod-cidr` (the pods) and the
//!   external /64;
//! - `<cluster>-services` (dual-stack only): primary range the Services CIDR, external IPv6 /64
//!   (Services get its first /108);
//! - `<cluster>-internal`: for the CCM's internal IPv4 load balancers. Gardener creates it only
//!   when `networks.internal` is set, and `targetSubnetState` makes it `IPV4_IPV6`/`EXTERNAL` on
//!   dual-stack too; internal load balancers still only get IPv4 (the CCM has no IPv6 code).

use crate::inventory::{Network, Subnetwork};
use ipnet::{Ipv4Net, Ipv6Net};

/// `DefaultSecondarySubnetName`.
pub const POD_SECONDARY_RANGE: &str = "ipv4-pod-cidr";

/// Everything [`emulated_from`] needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSpec<'a> {
    pub cluster: &'a str,
    pub region: &'a str,
    pub nodes: Ipv4Net,
    pub pods: Option<Ipv4Net>,
    /// The Services IPv4 CIDR (the services subnet's primary range).
    pub services: Ipv4Net,
    /// `networks.internal`; `None`: no internal subnet.
    pub internal: Option<Ipv4Net>,
    pub ipv6_nodes: Option<Ipv6Net>,
    pub ipv6_services: Option<Ipv6Net>,
}

/// The internal range twinstack gives every runtime (Gardener's `networks.internal` is optional;
/// the choice is recorded in `docs/fidelity.md, "Cloud load balancers"`).
pub const DEFAULT_INTERNAL_CIDR: &str = "10.251.0.0/16";

/// `nodes` is the IPv4 node range, `pods` the pod range (a secondary range), `ipv6_nodes` the
/// node subnet's /64 and `ipv6_services` the services subnet's range on dual-stack runtimes.
/// The services subnet takes twinstack's default Services CIDR and the internal subnet
/// [`DEFAULT_INTERNAL_CIDR`]; use [`emulated_from`] to choose them.
pub fn emulated(
    cluster: &str,
    region: &str,
    nodes: Ipv4Net,
    pods: Option<Ipv4Net>,
    ipv6_nodes: Option<Ipv6Net>,
    ipv6_services: Option<Ipv6Net>,
) -> Network {
    emulated_from(&NetworkSpec {
        cluster,
        region,
        nodes,
        pods,
        services: twinstack_core::runtime::DEFAULT_SERVICES_CIDR
            .parse()
            .expect("static CIDR"),
        internal: Some(DEFAULT_INTERNAL_CIDR.parse().expect("static CIDR")),
        ipv6_nodes,
        ipv6_services,
    })
}

/// The network for `spec`; dual-stack iff `ipv6_nodes` is given.
pub fn emulated_from(spec: &NetworkSpec<'_>) -> Network {
    let dual = spec.ipv6_nodes.is_some();
    let subnet = |name: String, cidr: Ipv4Net, v6: Option<Ipv6Net>| Subnetwork {
        name,
        region: spec.region.to_string(),
        ip_cidr_range: cidr,
        stack_type: if dual { "IPV4_IPV6" } else { "IPV4_ONLY" }.into(),
        ipv6_access_type: dual.then(|| "EXTERNAL".to_string()),
        external_ipv6_prefix: if dual { v6.map(to_64) } else { None },
        internal_ipv6_prefix: None,
        purpose: "PRIVATE".into(),
        secondary_ip_ranges: Vec::new(),
    };
    let mut nodes = subnet(
        format!("{}-nodes", spec.cluster),
        spec.nodes,
        spec.ipv6_nodes,
    );
    if dual {
        if let Some(pods) = spec.pods {
            nodes.secondary_ip_ranges = vec![(POD_SECONDARY_RANGE.to_string(), pods)];
        }
    }
    let mut subnetworks = vec![nodes];
    if let Some(internal) = spec.internal {
        // GCP gives every dual-stack subnet its own /64; derive one next to the nodes' /64.
        let v6 = spec.ipv6_nodes.map(|n| sibling_64(n, 0xff));
        subnetworks.push(subnet(format!("{}-internal", spec.cluster), internal, v6));
    }
    if dual {
        let v6 = spec
            .ipv6_services
            .or(spec.ipv6_nodes.map(|n| sibling_64(n, 1)));
        subnetworks.push(subnet(
            format!("{}-services", spec.cluster),
            spec.services,
            v6,
        ));
    }
    Network {
        name: spec.cluster.to_string(),
        subnetworks,
    }
}

/// The /64 containing `net` (GCP assigns subnets a /64).
fn to_64(net: Ipv6Net) -> Ipv6Net {
    Ipv6Net::new(net.network(), 64.min(net.prefix_len()))
        .expect("prefix")
        .trunc()
}

/// Another /64 in the same /56 as `net`, `index` apart.
fn sibling_64(net: Ipv6Net, index: u8) -> Ipv6Net {
    let base = u128::from(to_64(net).network());
    let bumped = base ^ ((index as u128) << 64);
    Ipv6Net::new(bumped.into(), 64).expect("prefix")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }
    fn v6(s: &str) -> Ipv6Net {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_only_runtime_has_nodes_and_internal_subnets_ipv4_only() {
        let n = emulated(
            "shoot",
            "europe-west3",
            v4("10.250.0.0/16"),
            Some(v4("10.96.0.0/13")),
            None,
            None,
        );
        assert_eq!(n.name, "shoot");
        let names: Vec<_> = n.subnetworks.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["shoot-nodes", "shoot-internal"]);
        for s in &n.subnetworks {
            assert_eq!(s.stack_type, "IPV4_ONLY");
            assert_eq!(s.ipv6_access_type, None);
            assert!(s.secondary_ip_ranges.is_empty());
        }
    }

    #[test]
    fn dual_stack_runtime_has_external_ipv6_and_a_services_subnet() {
        let n = emulated(
            "shoot",
            "europe-west3",
            v4("10.250.0.0/16"),
            Some(v4("10.96.0.0/13")),
            Some(v6("2600:1900:4000:1::/64")),
            Some(v6("2600:1900:4000:2::/108")),
        );
        let nodes = &n.subnetworks[0];
        assert_eq!(nodes.stack_type, "IPV4_IPV6");
        assert_eq!(nodes.ipv6_access_type.as_deref(), Some("EXTERNAL"));
        assert_eq!(
            nodes.external_ipv6_prefix,
            Some(v6("2600:1900:4000:1::/64"))
        );
        assert_eq!(
            nodes.secondary_ip_ranges,
            vec![("ipv4-pod-cidr".to_string(), v4("10.96.0.0/13"))]
        );
        let services = n
            .subnetworks
            .iter()
            .find(|s| s.name == "shoot-services")
            .unwrap();
        assert_eq!(
            services.external_ipv6_prefix,
            Some(v6("2600:1900:4000:2::/64"))
        );
        assert!(services
            .external_ipv6_prefix
            .unwrap()
            .contains(&v6("2600:1900:4000:2::/108")));
        let internal = n
            .subnetworks
            .iter()
            .find(|s| s.name == "shoot-internal")
            .unwrap();
        assert_eq!(internal.stack_type, "IPV4_IPV6");
    }
}
