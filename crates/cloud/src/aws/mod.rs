//! AWS: which controller takes a `type: LoadBalancer` Service, and what it builds.
//!
//! - The cloud-controller-manager's generic service controller with the AWS provider
//!   (`kubernetes/cloud-provider-aws`): Classic ELB or IPv4 NLB, internet-facing by default,
//!   `ImplementedElsewhere` for `aws-load-balancer-type: external|nlb-ip`.
//! - The AWS Load Balancer Controller v3.5.0 (`kubernetes-sigs/aws-load-balancer-controller`):
//!   `IsServiceSupported`, the model builder's checks in its order with its exact errors
//!   (`Failed build model due to <err>`), names, target groups, status.

pub mod vpc;

use crate::inventory::{LoadBalancer, Vpc};
use crate::Reconciled;
use k8s_openapi::api::core::v1::Service;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A node as EC2 sees it: an instance in a zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// The Kubernetes node name.
    pub node_name: String,
    /// `i-` + 17 hex digits.
    pub instance_id: String,
    pub zone: String,
    pub private_ipv4: Option<Ipv4Addr>,
    /// The primary IPv6 address (dual-stack runtimes only).
    pub primary_ipv6: Option<Ipv6Addr>,
    pub ready: bool,
    pub labels: std::collections::BTreeMap<String, String>,
}

/// A ready or not-ready endpoint of the Service (from its EndpointSlices), for `ip` targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub ip: IpAddr,
    pub ready: bool,
    pub zone: Option<String>,
    /// Port name → port number of this endpoint.
    pub ports: Vec<(String, i32)>,
}

/// What the AWS side of a runtime is.
#[derive(Debug, Clone)]
pub struct Cluster<'a> {
    /// The cluster name (the runtime name): in names' hashes and tags.
    pub name: &'a str,
    pub region: &'a str,
    /// The emulated AWS account ID (12 digits), in ARNs.
    pub account_id: &'a str,
    pub vpc: &'a Vpc,
    pub instances: &'a [Instance],
    /// Whether the AWS Load Balancer Controller runs in this runtime (Gardener deploys it for
    /// dual-stack runtimes and for IPv4 runtimes whose ControlPlaneConfig enables it).
    pub load_balancer_controller: bool,
    /// RFC 3339 time stamp for records created now.
    pub now: &'a str,
}

/// Reconciles `svc` as both AWS controllers would: `existing` are the inventory records owned
/// by this Service (by uid), `endpoints` its EndpointSlices' endpoints.
pub fn reconcile(
    svc: &Service,
    cluster: &Cluster<'_>,
    existing: &[LoadBalancer],
    endpoints: &[Endpoint],
) -> Reconciled<LoadBalancer> {
    let _ = (svc, cluster, existing, endpoints);
    Reconciled::default()
}
