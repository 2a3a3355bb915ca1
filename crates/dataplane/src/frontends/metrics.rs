//! Counters per frontend and family: connections, bytes, errors (refused or reset), flows the
//! load balancer translated between families, and flows that reached an injected pod over IPv6
//! (outside the Istio mesh). Labels come from published frontends only (authenticated writes),
//! so nothing unauthenticated adds a series.

use super::FrontendSpec;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// The labels of every data plane series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Labels {
    /// `namespace/name` of the Service (`pod` for direct pod connections).
    pub service: String,
    /// `nlb`, `classic-elb`, `forwarding-rule`, `clusterip`, `nodeport`, `pod`.
    pub kind: &'static str,
    /// `IPv4` or `IPv6` (the frontend's).
    pub family: &'static str,
}

impl Labels {
    /// A frontend's labels.
    pub fn of(spec: &FrontendSpec) -> Labels {
        Labels {
            service: spec.service.clone(),
            kind: spec.model.kind.as_str(),
            family: spec.model.family().as_str(),
        }
    }

    /// Connections straight to a pod (exec, port-forward).
    pub fn pod() -> Labels {
        Labels {
            service: String::new(),
            kind: "pod",
            family: "",
        }
    }
}

/// The data plane's counters. Register them with [`FrontendMetrics::register`].
#[derive(Debug, Default, Clone)]
pub struct FrontendMetrics {
    connections: Family<Labels, Counter>,
    bytes: Family<Labels, Counter>,
    errors: Family<Labels, Counter>,
    translated: Family<Labels, Counter>,
    outside_mesh: Family<Labels, Counter>,
}

impl FrontendMetrics {
    /// Adds the counters to `registry` under `twinstack_dataplane_*`.
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("twinstack_dataplane");
        r.register(
            "connections",
            "Connections accepted per frontend and family",
            self.connections.clone(),
        );
        r.register(
            "bytes",
            "Bytes carried both ways per frontend and family",
            self.bytes.clone(),
        );
        r.register(
            "errors",
            "Connections refused or reset (no target, nothing listening)",
            self.errors.clone(),
        );
        r.register(
            "translated_flows",
            "Flows the load balancer translated between IPv6 and IPv4",
            self.translated.clone(),
        );
        r.register(
            "outside_mesh_flows",
            "Flows that reached an Istio-injected pod over IPv6 (not captured by the sidecar)",
            self.outside_mesh.clone(),
        );
    }

    pub(super) fn connection(&self, l: &Labels) {
        self.connections.get_or_create(l).inc();
    }
    pub(super) fn bytes(&self, l: &Labels, n: u64) {
        self.bytes.get_or_create(l).inc_by(n);
    }
    pub(super) fn error(&self, l: &Labels) {
        self.errors.get_or_create(l).inc();
    }
    pub(super) fn translated(&self, l: &Labels) {
        self.translated.get_or_create(l).inc();
    }
    pub(super) fn outside_mesh(&self, l: &Labels) {
        self.outside_mesh.get_or_create(l).inc();
    }
}
