//! AWS: which controller takes a `type: LoadBalancer` Service, and what it builds.
//!
//! - The cloud-controller-manager's generic service controller with the AWS provider
//!   (`kubernetes/cloud-provider-aws`): Classic ELB or IPv4 NLB, internet-facing by default,
//!   `ImplementedElsewhere` for `aws-load-balancer-type: external|nlb-ip`.
//! - The AWS Load Balancer Controller v3.5.0 (`kubernetes-sigs/aws-load-balancer-controller`):
//!   `IsServiceSupported`, the model builder's checks in its order with its exact errors
//!   (`Failed build model due to <err>`), names, target groups, status.

mod addresses;
pub mod ccm;
mod ids;
pub mod lbc;
pub mod vpc;

#[cfg(test)]
mod tests;

use crate::inventory::{Controller, LoadBalancer, Vpc};
use crate::{Event, Reconciled};
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
    /// The node the endpoint runs on (`nodeName`): instance targets of an
    /// `externalTrafficPolicy: Local` Service pass health checks only on such nodes.
    pub node_name: Option<String>,
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

/// The event recorder's component of twinstack's own warnings.
pub const TWINSTACK_COMPONENT: &str = "twinstack";

/// Reconciles `svc` as both AWS controllers would: `existing` are the inventory records owned
/// by this Service (by uid), `endpoints` its EndpointSlices' endpoints. The CCM runs first
/// (its `EnsuringLoadBalancer` precedes the LBC's events), then the LBC when it is deployed.
pub fn reconcile(
    svc: &Service,
    cluster: &Cluster<'_>,
    existing: &[LoadBalancer],
    endpoints: &[Endpoint],
) -> Reconciled<LoadBalancer> {
    let finalizers = svc.metadata.finalizers.clone().unwrap_or_default();
    let has = |f: &str| finalizers.iter().any(|x| x == f);
    let live = |c: Controller| -> Vec<&LoadBalancer> {
        existing
            .iter()
            .filter(|l| l.controller == c && !l.leaked)
            .collect()
    };
    let ccm_existing = live(Controller::AwsCloudProvider);
    let lbc_existing = live(Controller::AwsLoadBalancerController);
    let mut out = Reconciled::default();
    let deferred = ccm::reconcile(svc, cluster, &ccm_existing, has(ccm::FINALIZER), &mut out);
    if deferred {
        // `EnsureLoadBalancerDeleted` returns nil for external types: the in-tree load
        // balancer stays in the cloud, owned by nobody.
        for lb in &ccm_existing {
            let mut l = (*lb).clone();
            l.leaked = true;
            out.events.push(Event::warning(
                TWINSTACK_COMPONENT,
                "LoadBalancerLeaked",
                format!(
                    "Load balancer {} ({}) built by the AWS cloud provider is left behind: the cloud provider does not delete it when a Service moves to the AWS Load Balancer Controller (as Gardener's docs warn); delete it by hand",
                    l.load_balancer_name, l.dns_name
                ),
            ));
            out.leaked.push(l.load_balancer_name.clone());
            out.resources.push(l);
        }
    }
    for l in existing.iter().filter(|l| l.leaked) {
        out.leaked.push(l.load_balancer_name.clone());
        out.resources.push(l.clone());
    }
    if cluster.load_balancer_controller {
        let mut lbc_out = Reconciled::default();
        lbc::reconcile(
            svc,
            cluster,
            &lbc_existing,
            endpoints,
            has(lbc::FINALIZER),
            &mut lbc_out,
        );
        out.events.extend(lbc_out.events);
        out.add_finalizers.extend(lbc_out.add_finalizers);
        out.remove_finalizers.extend(lbc_out.remove_finalizers);
        out.resources.extend(lbc_out.resources);
        let ccm_wrote = out.ingress.as_ref().is_some_and(|v| !v.is_empty());
        if lbc_out.ingress.is_some() && !ccm_wrote {
            out.ingress = lbc_out.ingress;
        }
    } else {
        // Nobody runs to delete what an earlier LBC built.
        out.resources.extend(lbc_existing.into_iter().cloned());
    }
    out
}

/// The emulated AWS account ID of a runtime: 12 digits, stable for its name.
pub fn account_id(runtime: &str) -> String {
    let d = ring::digest::digest(
        &ring::digest::SHA256,
        format!("aws-account/{runtime}").as_bytes(),
    );
    let mut n = 0u64;
    for b in &d.as_ref()[..8] {
        n = (n << 8) | u64::from(*b);
    }
    format!("{:012}", n % 1_000_000_000_000)
}
