//! Google Cloud: the legacy GCE provider (IPv4 only) vs ingress-gce's L4 NetLB and ILB
//! controllers; one forwarding rule per family; status IPv4 then IPv6 with `ipMode: VIP`.

pub mod network;

use crate::inventory::{ForwardingRule, Network};
use crate::Reconciled;
use k8s_openapi::api::core::v1::Service;

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

/// Reconciles `svc` as the GCE controllers would; `existing` are the forwarding rules owned by
/// this Service (by uid).
pub fn reconcile(
    svc: &Service,
    cluster: &Cluster<'_>,
    existing: &[ForwardingRule],
) -> Reconciled<ForwardingRule> {
    let _ = (svc, cluster, existing);
    Reconciled::default()
}
