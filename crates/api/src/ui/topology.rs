//! The web view's picture of a runtime, as a value: load balancers and their frontends →
//! Services → EndpointSlices per family → pods on nodes, with the warnings a reader of the
//! picture must see (translation, IPv6 outside the mesh, failed and pending load balancers).
//!
//! Pure: [`build`] takes the objects the shell read from the store and the data plane's
//! frontends, and returns the [`Topology`] the page draws. No I/O, no clock. The rules it
//! leans on live where they belong: Istio's "IPv6 is outside the mesh" in
//! `twinstack_cloud::istio`, the NLB's translation in the path model (a frontend's family
//! against its target group's, `twinstack_cloud::path::Frontend::backend_family`).

use k8s_openapi::api::core::v1::{Event, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use twinstack_cloud::istio::{ipv6_outside_mesh_warning, is_injected, IPV6_OUTSIDE_MESH_REASON};
use twinstack_dataplane::frontends::FrontendView;

/// What the shell gathered: one namespace's (or every namespace's) objects, and the runtime's
/// frontends as the data plane serves them.
pub struct Inputs<'a> {
    pub services: &'a [Service],
    pub slices: &'a [EndpointSlice],
    pub pods: &'a [Pod],
    pub nodes: &'a [Node],
    pub events: &'a [Event],
    pub frontends: &'a [FrontendView],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Topology {
    pub services: Vec<ServiceView>,
    pub nodes: Vec<NodeView>,
    pub pods: Vec<PodView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceView {
    pub namespace: String,
    pub name: String,
    #[serde(rename = "type")]
    pub type_: String,
    /// `spec.ipFamilyPolicy`.
    pub policy: String,
    pub families: Vec<String>,
    /// `spec.clusterIPs`, in the order of `families` (`None` for a headless Service).
    pub cluster_ips: Vec<String>,
    pub ports: Vec<PortView>,
    pub external_traffic_policy: Option<String>,
    /// `type: LoadBalancer` only.
    pub load_balancer: Option<LoadBalancerView>,
    /// The data plane's frontends of this Service (load balancer, cluster IP, NodePort).
    pub frontends: Vec<FrontendView>,
    pub slices: Vec<SliceView>,
    /// `namespace/name` of every pod an EndpointSlice of this Service names.
    pub pods: Vec<String>,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortView {
    pub name: Option<String>,
    pub protocol: String,
    pub port: i32,
    pub target_port: Option<String>,
    pub node_port: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerView {
    /// `status.loadBalancer.ingress[].hostname` (AWS).
    pub hostnames: Vec<String>,
    /// `status.loadBalancer.ingress[].ip` (Google Cloud).
    pub ips: Vec<String>,
    /// No ingress yet: the controller has not built it (or failed to).
    pub pending: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SliceView {
    pub name: String,
    /// `addressType`: `IPv4`, `IPv6` or `FQDN`.
    pub family: String,
    pub endpoints: Vec<EndpointView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointView {
    pub addresses: Vec<String>,
    pub ready: bool,
    /// `namespace/name` of the targetRef pod.
    pub pod: Option<String>,
    pub node: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodView {
    pub namespace: String,
    pub name: String,
    pub node: Option<String>,
    /// `status.podIPs`, primary family first.
    pub ips: Vec<String>,
    pub phase: Option<String>,
    /// Carries Istio's sidecar.
    pub injected: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeView {
    pub name: String,
    /// `status.addresses` of type InternalIP (and ExternalIP), as `TYPE ADDRESS`.
    pub addresses: Vec<String>,
    pub pod_cidrs: Vec<String>,
}

/// What a warning on the picture is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WarningKind {
    /// A frontend whose target group is of the other family: the load balancer translates.
    Translation,
    /// IPv6 reaches pods with Istio's sidecar, which captures IPv4 only.
    OutsideMesh,
    /// A `type: LoadBalancer` Service without an address yet.
    Pending,
    /// A Warning event of the Service (the controller's message: `FailedBuildModel`, ...).
    Event,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Warning {
    pub kind: WarningKind,
    /// The family the warning is about, when it is about one.
    pub family: Option<String>,
    /// The event's reason, for [`WarningKind::Event`].
    pub reason: Option<String>,
    pub message: String,
}

fn key(ns: Option<&String>, name: Option<&String>) -> String {
    format!(
        "{}/{}",
        ns.map(String::as_str).unwrap_or("default"),
        name.map(String::as_str).unwrap_or_default()
    )
}

/// The picture of `inputs`: Services sorted by namespace and name, each with its frontends,
/// slices, pods and warnings; every node and pod given.
pub fn build(inputs: &Inputs) -> Topology {
    let pods_by_key: HashMap<String, &Pod> = inputs
        .pods
        .iter()
        .map(|p| {
            (
                key(p.metadata.namespace.as_ref(), p.metadata.name.as_ref()),
                p,
            )
        })
        .collect();
    let mut slices_by_service: HashMap<String, Vec<&EndpointSlice>> = HashMap::new();
    for s in inputs.slices {
        let owner = s
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("kubernetes.io/service-name"));
        if let Some(owner) = owner {
            slices_by_service
                .entry(key(s.metadata.namespace.as_ref(), Some(owner)))
                .or_default()
                .push(s);
        }
    }
    let mut frontends_by_service: HashMap<&str, Vec<FrontendView>> = HashMap::new();
    for f in inputs.frontends {
        frontends_by_service
            .entry(f.service.as_str())
            .or_default()
            .push(f.clone());
    }
    // The Warning events of each Service, latest per reason (events repeat with a count).
    let mut events_by_service: HashMap<String, BTreeMap<String, &Event>> = HashMap::new();
    for e in inputs.events {
        let o = &e.involved_object;
        if o.kind.as_deref() != Some("Service") || e.type_.as_deref() != Some("Warning") {
            continue;
        }
        let reason = e.reason.clone().unwrap_or_default();
        let by_reason = events_by_service
            .entry(key(o.namespace.as_ref(), o.name.as_ref()))
            .or_default();
        let newer = by_reason
            .get(&reason)
            .is_none_or(|old| last_seen(old) <= last_seen(e));
        if newer {
            by_reason.insert(reason, e);
        }
    }

    let mut services: Vec<ServiceView> = inputs
        .services
        .iter()
        .map(|svc| {
            let k = key(svc.metadata.namespace.as_ref(), svc.metadata.name.as_ref());
            let slices = slices_by_service.remove(&k).unwrap_or_default();
            let frontends = frontends_by_service.remove(k.as_str()).unwrap_or_default();
            let events = events_by_service.remove(&k).unwrap_or_default();
            service_view(svc, &slices, frontends, &events, &pods_by_key)
        })
        .collect();
    services.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));

    let mut nodes: Vec<NodeView> = inputs.nodes.iter().map(node_view).collect();
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    let mut pods: Vec<PodView> = inputs.pods.iter().map(pod_view).collect();
    pods.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    Topology {
        services,
        nodes,
        pods,
    }
}

fn last_seen(e: &Event) -> String {
    e.last_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        .or_else(|| e.event_time.as_ref().map(|t| t.0.to_string()))
        .unwrap_or_default()
}

fn service_view(
    svc: &Service,
    slices: &[&EndpointSlice],
    frontends: Vec<FrontendView>,
    events: &BTreeMap<String, &Event>,
    pods: &HashMap<String, &Pod>,
) -> ServiceView {
    let spec = svc.spec.clone().unwrap_or_default();
    let type_ = spec.type_.clone().unwrap_or_else(|| "ClusterIP".into());
    let ns = svc
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    let mut slice_views: Vec<SliceView> = slices
        .iter()
        .map(|s| SliceView {
            name: s.metadata.name.clone().unwrap_or_default(),
            family: s.address_type.clone(),
            endpoints: s
                .endpoints
                .iter()
                .map(|e| EndpointView {
                    addresses: e.addresses.clone(),
                    ready: e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true),
                    pod: e
                        .target_ref
                        .as_ref()
                        .filter(|r| r.kind.as_deref() == Some("Pod"))
                        .map(|r| key(r.namespace.as_ref().or(Some(&ns)), r.name.as_ref())),
                    node: e.node_name.clone(),
                })
                .collect(),
        })
        .collect();
    slice_views.sort_by(|a, b| (&a.family, &a.name).cmp(&(&b.family, &b.name)));
    let mut seen = HashSet::new();
    let pod_keys: Vec<String> = slice_views
        .iter()
        .flat_map(|s| s.endpoints.iter().filter_map(|e| e.pod.clone()))
        .filter(|p| seen.insert(p.clone()))
        .collect();

    let mut warnings = Vec::new();
    for f in &frontends {
        if f.family != f.backend_family {
            warnings.push(Warning {
                kind: WarningKind::Translation,
                family: Some(f.family.to_string()),
                reason: None,
                message: format!(
                    "{} clients of {}:{} reach the pods over {}: the load balancer translates the family, so the pod sees the load balancer's private {} address, not the client",
                    f.family,
                    bracket(&f.address.to_string()),
                    f.port,
                    f.backend_family,
                    f.backend_family
                ),
            });
        }
    }
    let selects_injected = pod_keys
        .iter()
        .filter_map(|p| pods.get(p))
        .any(|p| is_injected(p));
    if let Some(m) = ipv6_outside_mesh_warning(svc, selects_injected) {
        warnings.push(Warning {
            kind: WarningKind::OutsideMesh,
            family: Some("IPv6".into()),
            reason: None,
            message: m,
        });
    }
    let load_balancer = (type_ == "LoadBalancer").then(|| {
        let ingress = svc
            .status
            .as_ref()
            .and_then(|s| s.load_balancer.as_ref())
            .and_then(|l| l.ingress.clone())
            .unwrap_or_default();
        LoadBalancerView {
            hostnames: ingress.iter().filter_map(|i| i.hostname.clone()).collect(),
            ips: ingress.iter().filter_map(|i| i.ip.clone()).collect(),
            pending: ingress.is_empty(),
        }
    });
    if load_balancer.as_ref().is_some_and(|l| l.pending) {
        warnings.push(Warning {
            kind: WarningKind::Pending,
            family: None,
            reason: None,
            message: "the load balancer is pending: the controller has not given it an address"
                .into(),
        });
    }
    for (reason, e) in events {
        // Computed above from the objects themselves.
        if reason == IPV6_OUTSIDE_MESH_REASON {
            continue;
        }
        warnings.push(Warning {
            kind: WarningKind::Event,
            family: None,
            reason: Some(reason.clone()),
            message: e.message.clone().unwrap_or_default(),
        });
    }

    ServiceView {
        namespace: ns,
        name: svc.metadata.name.clone().unwrap_or_default(),
        type_,
        policy: spec
            .ip_family_policy
            .clone()
            .unwrap_or_else(|| "SingleStack".into()),
        families: spec.ip_families.clone().unwrap_or_default(),
        cluster_ips: spec
            .cluster_ips
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|ip| ip != "None")
            .collect(),
        ports: spec
            .ports
            .unwrap_or_default()
            .into_iter()
            .map(|p| PortView {
                name: p.name,
                protocol: p.protocol.unwrap_or_else(|| "TCP".into()),
                port: p.port,
                target_port: p.target_port.map(|t| match t {
                    k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(i) => {
                        i.to_string()
                    }
                    k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s,
                }),
                node_port: p.node_port,
            })
            .collect(),
        external_traffic_policy: spec.external_traffic_policy,
        load_balancer,
        frontends,
        slices: slice_views,
        pods: pod_keys,
        warnings,
    }
}

fn bracket(ip: &str) -> String {
    if ip.contains(':') {
        format!("[{ip}]")
    } else {
        ip.to_string()
    }
}

fn pod_view(p: &Pod) -> PodView {
    let status = p.status.as_ref();
    let mut ips: Vec<String> = status
        .and_then(|s| s.pod_ips.as_ref())
        .map(|ips| ips.iter().map(|i| i.ip.clone()).collect())
        .unwrap_or_default();
    if ips.is_empty() {
        ips.extend(status.and_then(|s| s.pod_ip.clone()));
    }
    PodView {
        namespace: p
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into()),
        name: p.metadata.name.clone().unwrap_or_default(),
        node: p.spec.as_ref().and_then(|s| s.node_name.clone()),
        ips,
        phase: status.and_then(|s| s.phase.clone()),
        injected: is_injected(p),
    }
}

fn node_view(n: &Node) -> NodeView {
    NodeView {
        name: n.metadata.name.clone().unwrap_or_default(),
        addresses: n
            .status
            .as_ref()
            .and_then(|s| s.addresses.as_ref())
            .map(|a| {
                a.iter()
                    .filter(|a| a.type_ == "InternalIP" || a.type_ == "ExternalIP")
                    .map(|a| format!("{} {}", a.type_, a.address))
                    .collect()
            })
            .unwrap_or_default(),
        pod_cidrs: n
            .spec
            .as_ref()
            .and_then(|s| s.pod_cidrs.clone())
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests;
