//! EndpointSlices and legacy Endpoints for Services with a selector, following
//! kube-controller-manager 1.32 (`pkg/controller/endpointslice`,
//! `staging/src/k8s.io/endpointslice` reconciler and utils, `pkg/controller/endpoint`).
//!
//! - [`desired_slices`]: one slice set per address type of the Service (`spec.ipFamilies`;
//!   without it the ClusterIP's family, and both for a headless Service), endpoints grouped by
//!   their resolved ports (named target ports differ per pod), at most
//!   [`MAX_ENDPOINTS_PER_SLICE`] endpoints per slice, sorted by address; an address type with no
//!   endpoints gets upstream's placeholder slice (`ports: []`, `endpoints: []`). Services
//!   without a selector and ExternalName Services get none.
//! - [`reconcile`]: compares with the existing controller-managed slices and returns what to
//!   create, update and delete, keeping names of slices that still serve (see reconcile.rs).
//! - [`legacy_endpoints`]: the Endpoints object, primary family only.

mod legacy;
mod reconcile;

#[cfg(test)]
mod tests;

pub use legacy::legacy_endpoints;
pub use reconcile::{reconcile, SliceChanges};

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::{Node, ObjectReference, Pod, Service, ServicePort};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::pod::{is_ready, is_terminal};

/// `discovery.LabelServiceName`.
pub const LABEL_SERVICE_NAME: &str = "kubernetes.io/service-name";
/// `discovery.LabelManagedBy`.
pub const LABEL_MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
/// The EndpointSlice controller's name (value of the managed-by label).
pub const CONTROLLER_NAME: &str = "endpointslice-controller.k8s.io";
/// `v1.IsHeadlessService` label.
pub const LABEL_HEADLESS: &str = "service.kubernetes.io/headless";
/// kube-controller-manager's default `--max-endpoints-per-slice`.
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;

/// Address types the Service's slices carry (`getAddressTypesForService`), in `ipFamilies`
/// order.
pub fn address_types(svc: &Service) -> Vec<String> {
    let spec = svc.spec.as_ref();
    let fams: Vec<String> = spec
        .and_then(|s| s.ip_families.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f == "IPv4" || f == "IPv6")
        .collect();
    if !fams.is_empty() {
        return fams;
    }
    match spec.and_then(|s| s.cluster_ip.as_deref()) {
        Some(ip) if !ip.is_empty() && ip != "None" => {
            if ip.contains(':') {
                vec!["IPv6".into()]
            } else {
                vec!["IPv4".into()]
            }
        }
        _ => vec!["IPv4".into(), "IPv6".into()],
    }
}

/// `ShouldPodBeInEndpoints`: not terminal, has an IP, and (unless terminating pods are
/// included) not being deleted.
pub fn should_pod_be_in_endpoints(pod: &Pod, include_terminating: bool) -> bool {
    if is_terminal(pod) {
        return false;
    }
    let st = pod.status.as_ref();
    let has_ip = st
        .and_then(|s| s.pod_ip.as_deref())
        .is_some_and(|i| !i.is_empty())
        || st
            .and_then(|s| s.pod_ips.as_ref())
            .is_some_and(|v| !v.is_empty());
    if !has_ip {
        return false;
    }
    include_terminating || pod.metadata.deletion_timestamp.is_none()
}

/// The pod's IPs (`status.podIPs`, or `podIP` alone).
pub(crate) fn pod_ips(pod: &Pod) -> Vec<String> {
    let st = pod.status.as_ref();
    let ips: Vec<String> = st
        .and_then(|s| s.pod_ips.as_ref())
        .into_iter()
        .flatten()
        .map(|p| p.ip.clone())
        .collect();
    if !ips.is_empty() {
        return ips;
    }
    st.and_then(|s| s.pod_ip.clone()).into_iter().collect()
}

pub(crate) fn family_of(ip: &str) -> &'static str {
    if ip.contains(':') {
        "IPv6"
    } else {
        "IPv4"
    }
}

/// `podutil.FindPort`: a number is used as is; a name is looked up among the containers'
/// ports with the Service port's protocol.
pub fn find_port(pod: &Pod, sp: &ServicePort) -> Option<i32> {
    match sp.target_port.as_ref() {
        None => Some(sp.port),
        Some(IntOrString::Int(p)) => Some(*p),
        Some(IntOrString::String(name)) => {
            let proto = sp.protocol.as_deref().unwrap_or("TCP");
            pod.spec
                .as_ref()?
                .containers
                .iter()
                .flat_map(|c| c.ports.iter().flatten())
                .find(|p| {
                    p.name.as_deref() == Some(name.as_str())
                        && p.protocol.as_deref().unwrap_or("TCP") == proto
                })
                .map(|p| p.container_port)
        }
    }
}

/// `ShouldSetHostname`.
pub(crate) fn should_set_hostname(pod: &Pod, svc: &Service) -> bool {
    let spec = pod.spec.as_ref();
    let hostname = spec.and_then(|s| s.hostname.as_deref()).unwrap_or("");
    !hostname.is_empty()
        && spec.and_then(|s| s.subdomain.as_deref()) == svc.metadata.name.as_deref()
        && pod.metadata.namespace == svc.metadata.namespace
}

pub(crate) fn pod_ref(pod: &Pod) -> ObjectReference {
    ObjectReference {
        kind: Some("Pod".into()),
        namespace: pod.metadata.namespace.clone(),
        name: pod.metadata.name.clone(),
        uid: pod.metadata.uid.clone(),
        ..Default::default()
    }
}

/// Pods the Service selects: same namespace, labels match the selector. `None` when the
/// Service has no selector.
pub(crate) fn selected_pods<'a, P: Borrow<Pod>>(
    svc: &Service,
    pods: &'a [P],
) -> Option<Vec<&'a Pod>> {
    let selector = svc.spec.as_ref()?.selector.as_ref()?;
    let mut out: Vec<&Pod> = pods
        .iter()
        .map(Borrow::borrow)
        .filter(|p| p.metadata.namespace == svc.metadata.namespace)
        .filter(|p| {
            let labels = p.metadata.labels.as_ref();
            selector
                .iter()
                .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
        })
        .collect();
    out.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    Some(out)
}

/// `podToEndpoint` for one address type.
fn pod_to_endpoint(pod: &Pod, node: Option<&Node>, svc: &Service, address_type: &str) -> Endpoint {
    let serving = is_ready(pod);
    let terminating = pod.metadata.deletion_timestamp.is_some();
    let publish = svc
        .spec
        .as_ref()
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false);
    let ready = publish || (serving && !terminating);
    let node_name = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .filter(|n| !n.is_empty());
    let zone = node
        .and_then(|n| n.metadata.labels.as_ref())
        .and_then(|l| l.get("topology.kubernetes.io/zone"))
        .filter(|z| !z.is_empty())
        .cloned();
    Endpoint {
        addresses: pod_ips(pod)
            .into_iter()
            .filter(|ip| family_of(ip) == address_type)
            .collect(),
        conditions: Some(EndpointConditions {
            ready: Some(ready),
            serving: Some(serving),
            terminating: Some(terminating),
        }),
        hostname: should_set_hostname(pod, svc)
            .then(|| pod.spec.as_ref().and_then(|s| s.hostname.clone()))
            .flatten(),
        node_name,
        target_ref: Some(pod_ref(pod)),
        zone,
        ..Default::default()
    }
}

/// The metadata every slice of the Service carries (`newEndpointSlice`,
/// `setEndpointSliceLabels`): generateName `<svc>-`, the Service's labels plus
/// `kubernetes.io/service-name`, `endpointslice.kubernetes.io/managed-by` and, for headless
/// Services, `service.kubernetes.io/headless`; the Service as controller owner.
pub fn slice_meta(svc: &Service) -> ObjectMeta {
    let name = svc.metadata.name.clone().unwrap_or_default();
    let mut labels: BTreeMap<String, String> = svc
        .metadata
        .labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k != LABEL_SERVICE_NAME && k != LABEL_MANAGED_BY && k != LABEL_HEADLESS)
        .collect();
    labels.insert(LABEL_SERVICE_NAME.into(), name.clone());
    labels.insert(LABEL_MANAGED_BY.into(), CONTROLLER_NAME.into());
    // `!IsServiceIPSet`: no ClusterIP or "None".
    let ip = svc
        .spec
        .as_ref()
        .and_then(|s| s.cluster_ip.as_deref())
        .unwrap_or("");
    if ip.is_empty() || ip == "None" {
        labels.insert(LABEL_HEADLESS.into(), String::new());
    }
    ObjectMeta {
        generate_name: Some(slice_prefix(&name)),
        namespace: svc.metadata.namespace.clone(),
        labels: Some(labels),
        owner_references: Some(vec![OwnerReference {
            api_version: "v1".into(),
            kind: "Service".into(),
            name,
            uid: svc.metadata.uid.clone().unwrap_or_default(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }]),
        ..Default::default()
    }
}

/// `getEndpointSlicePrefix` + `SimpleNameGenerator`'s base truncation (58 characters, so the
/// generated name stays within 63).
pub fn slice_prefix(service: &str) -> String {
    let mut p = format!("{service}-");
    if p.len() > 58 {
        p.truncate(58);
    }
    p
}

/// Sort key of an address: numeric for IPs, text otherwise.
pub(crate) fn addr_key(a: &str) -> (u8, u128, String) {
    match a.parse::<IpAddr>() {
        Ok(IpAddr::V4(v)) => (0, u32::from(v) as u128, String::new()),
        Ok(IpAddr::V6(v)) => (1, u128::from(v), String::new()),
        Err(_) => (2, 0, a.to_string()),
    }
}

pub(crate) fn sort_endpoints(eps: &mut [Endpoint]) {
    eps.sort_by(|a, b| {
        addr_key(a.addresses.first().map(String::as_str).unwrap_or("")).cmp(&addr_key(
            b.addresses.first().map(String::as_str).unwrap_or(""),
        ))
    });
}

/// The slices the Service should have (names unset; [`reconcile`] assigns them). `pods` may
/// be pods or references to them (an informer's `Arc`s).
pub fn desired_slices<P: Borrow<Pod>>(
    svc: &Service,
    pods: &[P],
    nodes: &[Node],
) -> Vec<EndpointSlice> {
    if svc.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("ExternalName") {
        return vec![];
    }
    let Some(selected) = selected_pods(svc, pods) else {
        return vec![];
    };
    let meta = slice_meta(svc);
    let service_ports: Vec<ServicePort> = svc
        .spec
        .as_ref()
        .and_then(|s| s.ports.clone())
        .unwrap_or_default();
    let mut out = Vec::new();
    for at in address_types(svc) {
        // Ports (as JSON) → endpoints; a BTreeMap keeps the grouping deterministic.
        let mut groups: BTreeMap<String, (Vec<EndpointPort>, Vec<Endpoint>)> = BTreeMap::new();
        for pod in &selected {
            if !should_pod_be_in_endpoints(pod, true) {
                continue;
            }
            let node_name = pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .unwrap_or("");
            let node = nodes
                .iter()
                .find(|n| n.metadata.name.as_deref() == Some(node_name));
            if node.is_none() {
                // Upstream skips pods whose Node it cannot find (and retries later).
                continue;
            }
            let ep = pod_to_endpoint(pod, node, svc, &at);
            if ep.addresses.is_empty() {
                continue;
            }
            let ports: Vec<EndpointPort> = service_ports
                .iter()
                .filter_map(|sp| {
                    find_port(pod, sp).map(|p| EndpointPort {
                        name: Some(sp.name.clone().unwrap_or_default()),
                        port: Some(p),
                        protocol: Some(sp.protocol.clone().unwrap_or_else(|| "TCP".into())),
                        app_protocol: sp.app_protocol.clone(),
                    })
                })
                .collect();
            let key = serde_json::to_string(&ports).unwrap_or_default();
            groups
                .entry(key)
                .or_insert_with(|| (ports, vec![]))
                .1
                .push(ep);
        }
        if groups.is_empty() {
            out.push(EndpointSlice {
                metadata: meta.clone(),
                address_type: at.clone(),
                endpoints: vec![],
                ports: Some(vec![]),
            });
            continue;
        }
        for (_, (ports, mut eps)) in groups {
            sort_endpoints(&mut eps);
            for chunk in eps.chunks(MAX_ENDPOINTS_PER_SLICE) {
                out.push(EndpointSlice {
                    metadata: meta.clone(),
                    address_type: at.clone(),
                    endpoints: chunk.to_vec(),
                    ports: Some(ports.clone()),
                });
            }
        }
    }
    out
}
