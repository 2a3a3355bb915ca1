//! The legacy Endpoints object (`pkg/controller/endpoint/endpoints_controller.go`
//! `syncService`, `podToEndpointAddressForService`, `addEndpointSubset`,
//! `pkg/api/v1/endpoints` `RepackSubsets`). Endpoints hold one address family: the
//! Service's primary (`ipFamilies[0]`; without it the ClusterIP's family, and for a headless
//! Service the pod's first IP). Subsets group addresses by identical port sets; addresses are
//! sorted by IP, ports by name, port and protocol (upstream sorts ports by a hash, an order
//! users cannot rely on).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Pod, Service,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{
    addr_key, family_of, find_port, pod_ips, pod_ref, selected_pods, should_pod_be_in_endpoints,
    should_set_hostname, LABEL_HEADLESS,
};
use crate::pod::is_ready;

/// The Endpoints object for `svc`, or `None` for Services the controller leaves alone (no
/// selector, ExternalName).
pub fn legacy_endpoints<P: std::borrow::Borrow<Pod>>(
    svc: &Service,
    pods: &[P],
) -> Option<Endpoints> {
    let spec = svc.spec.as_ref()?;
    if spec.type_.as_deref() == Some("ExternalName") {
        return None;
    }
    let selected = selected_pods(svc, pods)?;
    let publish = spec.publish_not_ready_addresses.unwrap_or(false);
    let primary: Option<&str> = spec
        .ip_families
        .as_ref()
        .and_then(|f| f.first())
        .map(String::as_str)
        .or_else(|| {
            spec.cluster_ip
                .as_deref()
                .filter(|ip| !ip.is_empty() && *ip != "None")
                .map(family_of)
        });
    let ports = spec.ports.clone().unwrap_or_default();
    let headless = spec.cluster_ip.as_deref() == Some("None");
    // address IP → (address, ready, ports)
    let mut by_addr: BTreeMap<String, (EndpointAddress, bool, Vec<EndpointPort>)> = BTreeMap::new();
    for pod in selected {
        if !should_pod_be_in_endpoints(pod, publish) {
            continue;
        }
        let ips = pod_ips(pod);
        let ip = match primary {
            Some(f) => ips.iter().find(|i| family_of(i) == f),
            None => ips.first(),
        };
        let Some(ip) = ip else { continue };
        let addr = EndpointAddress {
            ip: ip.clone(),
            hostname: should_set_hostname(pod, svc)
                .then(|| pod.spec.as_ref().and_then(|s| s.hostname.clone()))
                .flatten(),
            node_name: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
            target_ref: Some(pod_ref(pod)),
        };
        let ready = publish || is_ready(pod);
        let mut eps = Vec::new();
        if ports.is_empty() {
            if !headless {
                continue;
            }
        } else {
            for sp in &ports {
                if let Some(p) = find_port(pod, sp) {
                    eps.push(EndpointPort {
                        name: sp.name.clone().filter(|n| !n.is_empty()),
                        port: p,
                        protocol: Some(sp.protocol.clone().unwrap_or_else(|| "TCP".into())),
                        app_protocol: sp.app_protocol.clone(),
                    });
                }
            }
            if eps.is_empty() {
                continue;
            }
        }
        eps.sort_by(|a, b| (&a.name, a.port, &a.protocol).cmp(&(&b.name, b.port, &b.protocol)));
        by_addr.insert(ip.clone(), (addr, ready, eps));
    }
    // RepackSubsets: one subset per distinct port set.
    let mut subsets: BTreeMap<String, EndpointSubset> = BTreeMap::new();
    for (_, (addr, ready, eps)) in by_addr {
        let key = serde_json::to_string(&eps).unwrap_or_default();
        let ss = subsets.entry(key).or_insert_with(|| EndpointSubset {
            ports: (!eps.is_empty()).then(|| eps.clone()),
            ..Default::default()
        });
        let list = if ready {
            ss.addresses.get_or_insert_with(Vec::new)
        } else {
            ss.not_ready_addresses.get_or_insert_with(Vec::new)
        };
        list.push(addr);
    }
    let mut subsets: Vec<EndpointSubset> = subsets.into_values().collect();
    for ss in subsets.iter_mut() {
        for l in [ss.addresses.as_mut(), ss.not_ready_addresses.as_mut()]
            .into_iter()
            .flatten()
        {
            l.sort_by_key(|a| addr_key(&a.ip));
        }
    }
    let mut labels: BTreeMap<String, String> = svc.metadata.labels.clone().unwrap_or_default();
    // `!IsServiceIPSet`: no ClusterIP or "None".
    let ip_set = !matches!(spec.cluster_ip.as_deref(), None | Some("") | Some("None"));
    if !ip_set {
        labels.insert(LABEL_HEADLESS.into(), String::new());
    } else {
        labels.remove(LABEL_HEADLESS);
    }
    Some(Endpoints {
        metadata: ObjectMeta {
            name: svc.metadata.name.clone(),
            namespace: svc.metadata.namespace.clone(),
            labels: (!labels.is_empty()).then_some(labels),
            ..Default::default()
        },
        subsets: (!subsets.is_empty()).then_some(subsets),
    })
}
