//! Service dual-stack semantics of kube-apiserver 1.32: defaulting, cluster IP / node port
//! allocation, validation and warnings, mirroring upstream's request pipeline.
//!
//! Call order used by the registry (and assumed by the tests):
//! - create: [`set_defaults`] → [`begin_create`] (an error is returned alone) →
//!   [`prepare_for_create`] → metadata errors ++ [`validate`] → persist;
//! - update: [`set_defaults`]`(new)` → [`begin_update`] → [`prepare_for_update`] →
//!   [`validate_update`] → persist;
//! - delete: [`release`]; every object returned to a client goes through [`default_on_read`].
//!
//! Allocation is expected to run inside the registry's store transaction: when validation
//! fails after a successful `begin_*`, the caller aborts that transaction (with
//! [`twinstack_core::ipam::MemoryAllocator`], restore a clone taken before). When `begin_*` itself
//! fails it has already released everything it allocated. Releases that upstream defers to
//! commit (secondary IP on downgrade, all IPs on a change to ExternalName, dropped node ports)
//! are performed at the very end of a successful `begin_update`, so nothing released is handed
//! out again within the same request.
//!
//! Upstream sources: `pkg/registry/core/service/storage/{storage.go,alloc.go}`,
//! `pkg/registry/core/service/strategy.go`, `pkg/apis/core/validation/validation.go`,
//! `pkg/apis/core/v1/defaults.go`, `pkg/api/service/warnings.go`.

mod alloc;
mod defaults;
mod strategy;
mod validation;
mod warnings;

#[cfg(test)]
mod tests;

pub use alloc::{begin_create, begin_update, release};
pub use defaults::{default_on_read, set_defaults};
pub use strategy::{prepare_for_create, prepare_for_update};
pub use validation::{validate, validate_cluster_ips_related_fields, validate_update};
pub use warnings::warnings;

use ipnet::IpNet;
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use twinstack_core::field::ErrorList;
use twinstack_core::ipam::{validate_service_cidrs, Family, NodePortRange, ServiceRange};

/// Errors of the allocation hooks. `Invalid` is an HTTP 422 (`Service "<name>" is invalid:
/// ...`), `Internal` an HTTP 500 whose text lacks the `Internal error occurred: ` prefix.
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceError {
    Invalid(ErrorList),
    Internal(String),
}

impl std::fmt::Display for ServiceError {
    /// The aggregate field-error text, or the internal error text (both without the
    /// `Service "<name>" is invalid: ` / `Internal error occurred: ` envelopes).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServiceError::Invalid(l) => f.write_str(&twinstack_core::field::aggregate(l)),
            ServiceError::Internal(s) => f.write_str(s),
        }
    }
}

/// The cluster's service networking configuration: `--service-cluster-ip-range` (primary
/// first) and `--service-node-port-range`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    ranges: Vec<ServiceRange>,
    node_ports: NodePortRange,
}

impl ClusterConfig {
    /// From the service CIDR list (validated like the kube-apiserver flag) with the default
    /// node port range 30000-32767.
    pub fn new(service_cidrs: &[IpNet]) -> Result<ClusterConfig, String> {
        validate_service_cidrs(service_cidrs)?;
        Ok(ClusterConfig {
            ranges: service_cidrs
                .iter()
                .map(|c| ServiceRange::new(*c))
                .collect(),
            node_ports: NodePortRange::default(),
        })
    }

    pub fn with_node_port_range(mut self, range: NodePortRange) -> ClusterConfig {
        self.node_ports = range;
        self
    }

    /// Configured families, primary first.
    pub fn families(&self) -> Vec<Family> {
        self.ranges.iter().map(|r| r.family()).collect()
    }
    pub fn primary(&self) -> Family {
        self.ranges[0].family()
    }
    pub fn is_dual_stack(&self) -> bool {
        self.ranges.len() == 2
    }
    pub fn has_family(&self, f: Family) -> bool {
        self.ranges.iter().any(|r| r.family() == f)
    }
    pub fn range(&self, f: Family) -> Option<&ServiceRange> {
        self.ranges.iter().find(|r| r.family() == f)
    }
    pub fn ranges(&self) -> &[ServiceRange] {
        &self.ranges
    }
    pub fn node_ports(&self) -> NodePortRange {
        self.node_ports
    }
    fn has_family_str(&self, f: &str) -> bool {
        f.parse::<Family>()
            .map(|f| self.has_family(f))
            .unwrap_or(false)
    }
}

// ---- constants -------------------------------------------------------------------------------

pub(crate) const NONE: &str = "None";
pub(crate) const CLUSTER_IP: &str = "ClusterIP";
pub(crate) const NODE_PORT: &str = "NodePort";
pub(crate) const LOAD_BALANCER: &str = "LoadBalancer";
pub(crate) const EXTERNAL_NAME: &str = "ExternalName";
pub(crate) const SINGLE: &str = "SingleStack";
pub(crate) const PREFER: &str = "PreferDualStack";
pub(crate) const REQUIRE: &str = "RequireDualStack";
pub(crate) const LOCAL: &str = "Local";

// ---- Go-like field access (nil and empty are the same for lists, strings and numbers) -------

static EMPTY_SPEC: std::sync::OnceLock<ServiceSpec> = std::sync::OnceLock::new();

pub(crate) fn spec(svc: &Service) -> &ServiceSpec {
    svc.spec
        .as_ref()
        .unwrap_or_else(|| EMPTY_SPEC.get_or_init(ServiceSpec::default))
}
pub(crate) fn spec_mut(svc: &mut Service) -> &mut ServiceSpec {
    svc.spec.get_or_insert_with(ServiceSpec::default)
}
pub(crate) fn svc_type(svc: &Service) -> &str {
    spec(svc).type_.as_deref().unwrap_or("")
}
pub(crate) fn cluster_ip(svc: &Service) -> &str {
    spec(svc).cluster_ip.as_deref().unwrap_or("")
}
pub(crate) fn cluster_ips(svc: &Service) -> &[String] {
    spec(svc).cluster_ips.as_deref().unwrap_or(&[])
}
pub(crate) fn ip_families(svc: &Service) -> &[String] {
    spec(svc).ip_families.as_deref().unwrap_or(&[])
}
pub(crate) fn policy(svc: &Service) -> Option<&str> {
    spec(svc).ip_family_policy.as_deref()
}
pub(crate) fn ports(svc: &Service) -> &[ServicePort] {
    spec(svc).ports.as_deref().unwrap_or(&[])
}
pub(crate) fn selector_is_empty(svc: &Service) -> bool {
    spec(svc)
        .selector
        .as_ref()
        .map(|m| m.is_empty())
        .unwrap_or(true)
}
pub(crate) fn node_port_of(p: &ServicePort) -> i32 {
    p.node_port.unwrap_or(0)
}
pub(crate) fn protocol_of(p: &ServicePort) -> &str {
    p.protocol.as_deref().unwrap_or("")
}
pub(crate) fn hc_node_port(svc: &Service) -> i32 {
    spec(svc).health_check_node_port.unwrap_or(0)
}
pub(crate) fn external_traffic_policy(svc: &Service) -> &str {
    spec(svc).external_traffic_policy.as_deref().unwrap_or("")
}

pub(crate) fn set_cluster_ip(svc: &mut Service, v: &str) {
    spec_mut(svc).cluster_ip = if v.is_empty() {
        None
    } else {
        Some(v.to_string())
    };
}
pub(crate) fn set_cluster_ips(svc: &mut Service, v: Vec<String>) {
    spec_mut(svc).cluster_ips = if v.is_empty() { None } else { Some(v) };
}
pub(crate) fn set_ip_families(svc: &mut Service, v: Vec<String>) {
    spec_mut(svc).ip_families = if v.is_empty() { None } else { Some(v) };
}
pub(crate) fn set_policy(svc: &mut Service, v: Option<&str>) {
    spec_mut(svc).ip_family_policy = v.map(str::to_string);
}

/// `needsClusterIP`: every type but ExternalName.
pub(crate) fn needs_cluster_ip(svc: &Service) -> bool {
    svc_type(svc) != EXTERNAL_NAME
}
/// `needsNodePort`.
pub(crate) fn needs_node_port(svc: &Service) -> bool {
    matches!(svc_type(svc), NODE_PORT | LOAD_BALANCER)
}
/// `apiservice.NeedsHealthCheck` / `needsHCNodePort`: LoadBalancer with `Local` policy.
pub(crate) fn needs_health_check(svc: &Service) -> bool {
    svc_type(svc) == LOAD_BALANCER && external_traffic_policy(svc) == LOCAL
}
/// `apiservice.ExternallyAccessible`.
pub(crate) fn externally_accessible(svc: &Service) -> bool {
    match svc_type(svc) {
        LOAD_BALANCER | NODE_PORT => true,
        CLUSTER_IP => spec(svc)
            .external_ips
            .as_ref()
            .map(|v| !v.is_empty())
            .unwrap_or(false),
        _ => false,
    }
}
/// Validation's `isHeadlessService`: exactly one clusterIP and it is `None`.
pub(crate) fn is_headless_validation(svc: &Service) -> bool {
    let ips = cluster_ips(svc);
    ips.len() == 1 && ips[0] == NONE
}
/// Allocation's headless test: `clusterIPs[0] == "None"`.
pub(crate) fn is_headless_alloc(svc: &Service) -> bool {
    cluster_ips(svc).first().map(|s| s == NONE).unwrap_or(false)
}

/// alloc.go `familyOf`.
pub(crate) fn family_of_str(ip: &str) -> Option<Family> {
    twinstack_core::ipam::parse_ip_legacy(ip).map(|a| Family::of_ip(&a))
}
