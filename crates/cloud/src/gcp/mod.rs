//! Google Cloud: the legacy GCE provider (IPv4 only) vs ingress-gce's L4 NetLB and ILB
//! controllers; one forwarding rule per family; status IPv4 then IPv6 with `ipMode: VIP`.
//!
//! [`reconcile`] runs, on one snapshot, every controller of a Gardener GCP runtime that would
//! act on the Service: the cloud-controller-manager's service controller with the GCE provider
//! ([`ccm`]), and on dual-stack runtimes ingress-gce's L4 NetLB controller ([`l4netlb`]).
//! ingress-gce's L4 ILB controller is not run (Gardener: `--run-l4-controller=false`), so
//! internal Services get the CCM's IPv4 ILB whatever their `ipFamilies`.

pub mod address;
pub mod annotations;
pub mod ccm;
pub mod l4netlb;
pub mod namer;
pub mod network;

#[cfg(test)]
mod tests;

use crate::inventory::{Controller, ForwardingRule, Network, Subnetwork};
use crate::Reconciled;
use k8s_openapi::api::core::v1::{LoadBalancerIngress, Service};

/// What the Google Cloud side of a runtime is.
#[derive(Debug, Clone)]
pub struct Cluster<'a> {
    /// The cluster name (the runtime name).
    pub name: &'a str,
    /// The project (the runtime name, as the Compute API is addressed).
    pub project: &'a str,
    pub region: &'a str,
    pub network: &'a Network,
    /// The `kube-system` namespace's uid (hashed into ingress-gce's names).
    pub kube_system_uid: &'a str,
    /// Whether ingress-gce runs (Gardener deploys it for dual-stack runtimes only).
    pub ingress_gce: bool,
    /// Instance names (the nodes), for target pools.
    pub instances: &'a [String],
    pub now: &'a str,
}

impl Cluster<'_> {
    fn subnet(&self, name: &str) -> Option<&Subnetwork> {
        self.network.subnetworks.iter().find(|s| s.name == name)
    }
    /// ingress-gce's cluster subnet (`subnetwork-name` = the nodes subnet in Gardener's
    /// `cloud-provider-config-ingress-gce.yaml`).
    fn nodes_subnet_name(&self) -> String {
        format!("{}-nodes", self.name)
    }
    /// The CCM's subnet: `<cluster>-internal` when it exists (Gardener's
    /// `cloud-provider-config.yaml` `subnetwork-name`), else the nodes subnet.
    fn ccm_subnet(&self) -> Option<&Subnetwork> {
        self.subnet(&format!("{}-internal", self.name))
            .or_else(|| self.subnet(&self.nodes_subnet_name()))
    }
    fn base(&self) -> String {
        format!(
            "https://www.googleapis.com/compute/v1/projects/{}",
            self.project
        )
    }
    fn regional_url(&self, kind: &str, name: &str) -> String {
        format!("{}/regions/{}/{kind}/{name}", self.base(), self.region)
    }
    fn network_url(&self) -> String {
        format!("{}/global/networks/{}", self.base(), self.network.name)
    }
}

/// The reason of twinstack's event for [`internal_ipv6_warning`].
pub const INTERNAL_IPV6_REASON: &str = "InternalIPv6LoadBalancerNotSupported";

/// twinstack's warning for an internal LoadBalancer Service with IPv6 in `spec.ipFamilies`:
/// Gardener's GCP extension says "Internal IPv6 LoadBalancers are currently not supported"
/// (`docs/usage/ipv6.md`). No component refuses the Service: ingress-gce's L4 ILB controller,
/// the only one with IPv6 code, is off (`--run-l4-controller=false`), and the
/// cloud-controller-manager builds an IPv4 ILB whatever the families. Used as a kubectl
/// `Warning:` header on apply and as a Warning event (component `twinstack`).
pub fn internal_ipv6_warning(svc: &Service) -> Option<String> {
    let ipv6 = svc
        .spec
        .as_ref()
        .and_then(|s| s.ip_families.as_ref())
        .is_some_and(|f| f.iter().any(|f| f == "IPv6"));
    if !annotations::is_load_balancer(svc) || !annotations::is_internal(svc) || !ipv6 {
        return None;
    }
    let name = svc.metadata.name.as_deref().unwrap_or_default();
    let ns = svc.metadata.namespace.as_deref().unwrap_or("default");
    Some(format!(
        "Service {ns}/{name} is an internal LoadBalancer with IPv6 in spec.ipFamilies: internal IPv6 load balancers are not supported on Google Cloud runtimes (Gardener runs ingress-gce without its L4 ILB controller); the cloud-controller-manager provisions an internal IPv4 load balancer only, and the IPv6 family gets no load balancer address"
    ))
}

/// A status entry as stored (the apiserver defaults `ipMode: VIP` for an `ip`).
pub(crate) fn ingress(ip: String) -> LoadBalancerIngress {
    LoadBalancerIngress {
        ip: Some(ip),
        ip_mode: Some("VIP".into()),
        ..Default::default()
    }
}

/// Reconciles `svc` as the GCE controllers would; `existing` are the forwarding rules owned by
/// this Service (by uid).
pub fn reconcile(
    svc: &Service,
    cluster: &Cluster<'_>,
    existing: &[ForwardingRule],
) -> Reconciled<ForwardingRule> {
    let ccm = ccm::sync(svc, cluster, existing);
    let netlb = if cluster.ingress_gce {
        l4netlb::sync(svc, cluster, existing)
    } else {
        keep(existing, Controller::GceL4NetLb)
    };
    let mut out = merge(ccm, netlb);
    if !annotations::is_deleting(svc) {
        if let Some(msg) = internal_ipv6_warning(svc) {
            out.events.push(crate::Event::warning(
                "twinstack",
                INTERNAL_IPV6_REASON,
                msg,
            ));
        }
    }
    // Nobody runs ingress-gce's L4 ILB controller on Gardener: its records stay as they are.
    out.resources
        .extend(keep(existing, Controller::GceL4Ilb).resources);
    out
}

/// The records of `controller` left untouched.
pub(crate) fn keep(
    existing: &[ForwardingRule],
    controller: Controller,
) -> Reconciled<ForwardingRule> {
    Reconciled {
        resources: existing
            .iter()
            .filter(|r| r.controller == controller)
            .cloned()
            .collect(),
        ..Default::default()
    }
}

fn merge(
    mut a: Reconciled<ForwardingRule>,
    b: Reconciled<ForwardingRule>,
) -> Reconciled<ForwardingRule> {
    a.events.extend(b.events);
    for f in b.add_finalizers {
        if !a.add_finalizers.contains(&f) {
            a.add_finalizers.push(f);
        }
    }
    for f in b.remove_finalizers {
        if !a.remove_finalizers.contains(&f) {
            a.remove_finalizers.push(f);
        }
    }
    if b.ingress.is_some() {
        a.ingress = b.ingress;
    }
    a.annotations.extend(b.annotations);
    a.resources.extend(b.resources);
    a.leaked.extend(b.leaked);
    a
}
