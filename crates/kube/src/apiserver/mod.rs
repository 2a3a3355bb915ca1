//! What kube-apiserver keeps for itself in every cluster: the `default/kubernetes` Service's
//! ports (pkg/controlplane/controller/kubernetesservice, `CreateOrUpdateMasterServiceIfNeeded`)
//! and its Endpoints and EndpointSlice, as the endpoint reconciler writes them
//! (pkg/controlplane/reconcilers, `EndpointsAdapter` of 1.32: one subset with the API server's
//! address, port `https`, the Endpoints labelled `endpointslice.kubernetes.io/skip-mirror`, a
//! slice of the same name labelled with the Service, `IPv4` unless every address is IPv6).
//!
//! The address is the API server's as a pod sees it. On a Kyma (Gardener) runtime that is the
//! seed's Istio ingress-gateway load balancer, which twinstack does not have: it stands in with
//! a documentation address of the Service's family ([`advertise_address`]), on port 443 (the
//! port Gardener's load balancer exposes the API server on).

#[cfg(test)]
mod tests;

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort as CoreEndpointPort, EndpointSubset, Endpoints, ServicePort,
};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The Service kube-apiserver maintains.
pub const SERVICE_NAME: &str = "kubernetes";
pub const SERVICE_NAMESPACE: &str = "default";
/// Its port's name.
pub const PORT_NAME: &str = "https";
/// The Service's port.
pub const SERVICE_PORT: i32 = 443;
/// The API server's port behind it (Gardener's load balancer serves the API on 443).
pub const ENDPOINT_PORT: i32 = 443;
/// `discovery.LabelSkipMirror`.
pub const LABEL_SKIP_MIRROR: &str = "endpointslice.kubernetes.io/skip-mirror";
/// `discovery.LabelServiceName`.
pub const LABEL_SERVICE_NAME: &str = "kubernetes.io/service-name";

/// The API server address twinstack advertises for a family: a documentation address (RFC
/// 5737 TEST-NET-3, RFC 3849), so it is never mistaken for a reachable one.
pub fn advertise_address(ipv6: bool) -> IpAddr {
    if ipv6 {
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x443))
    } else {
        IpAddr::V4(Ipv4Addr::new(203, 0, 113, 10))
    }
}

/// The Service's ports as the kubernetesservice controller keeps them.
pub fn master_service_ports() -> Vec<ServicePort> {
    vec![ServicePort {
        name: Some(PORT_NAME.into()),
        port: SERVICE_PORT,
        protocol: Some("TCP".into()),
        target_port: Some(IntOrString::Int(ENDPOINT_PORT)),
        ..Default::default()
    }]
}

/// `checkServiceFormat`: whether the Service's ports are as the controller keeps them (name,
/// protocol, port and target port of each).
pub fn master_service_ports_correct(ports: &[ServicePort]) -> bool {
    let want = master_service_ports();
    ports.len() == want.len()
        && ports.iter().zip(&want).all(|(p, w)| {
            p.name == w.name
                && p.protocol == w.protocol
                && p.port == w.port
                && p.target_port == w.target_port
        })
}

fn endpoint_ports() -> Vec<CoreEndpointPort> {
    vec![CoreEndpointPort {
        name: Some(PORT_NAME.into()),
        port: ENDPOINT_PORT,
        protocol: Some("TCP".into()),
        app_protocol: None,
    }]
}

/// `updateEndpoints` from nothing: the Endpoints with the API server's address.
pub fn master_endpoints(ip: IpAddr) -> Endpoints {
    Endpoints {
        metadata: ObjectMeta {
            name: Some(SERVICE_NAME.into()),
            namespace: Some(SERVICE_NAMESPACE.into()),
            labels: Some(BTreeMap::from([(
                LABEL_SKIP_MIRROR.to_string(),
                "true".to_string(),
            )])),
            ..Default::default()
        },
        subsets: Some(vec![EndpointSubset {
            addresses: Some(vec![EndpointAddress {
                ip: ip.to_string(),
                ..Default::default()
            }]),
            ports: Some(endpoint_ports()),
            not_ready_addresses: None,
        }]),
    }
}

/// The reconciler on existing Endpoints: `None` when subsets and labels are already right,
/// else the Endpoints with them reset (other metadata kept).
pub fn endpoints_update(current: &Endpoints, ip: IpAddr) -> Option<Endpoints> {
    let want = master_endpoints(ip);
    if current.subsets == want.subsets && current.metadata.labels == want.metadata.labels {
        return None;
    }
    let mut next = current.clone();
    next.subsets = want.subsets;
    next.metadata.labels = want.metadata.labels;
    Some(next)
}

/// `endpointSliceFromEndpoints` of [`master_endpoints`].
pub fn master_endpoint_slice(ip: IpAddr) -> EndpointSlice {
    EndpointSlice {
        metadata: ObjectMeta {
            name: Some(SERVICE_NAME.into()),
            namespace: Some(SERVICE_NAMESPACE.into()),
            labels: Some(BTreeMap::from([(
                LABEL_SERVICE_NAME.to_string(),
                SERVICE_NAME.to_string(),
            )])),
            ..Default::default()
        },
        address_type: if ip.is_ipv6() { "IPv6" } else { "IPv4" }.into(),
        endpoints: vec![Endpoint {
            addresses: vec![ip.to_string()],
            conditions: Some(EndpointConditions {
                ready: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        }],
        ports: Some(
            endpoint_ports()
                .into_iter()
                .map(|p| EndpointPort {
                    name: p.name,
                    port: Some(p.port),
                    protocol: p.protocol,
                    app_protocol: None,
                })
                .collect(),
        ),
    }
}

/// What `EnsureEndpointSliceFromEndpoints` does to an existing slice.
#[derive(Debug, Clone, PartialEq)]
pub enum SliceChange {
    /// Endpoints, ports and labels already right.
    None,
    Update(EndpointSlice),
    /// The address type changed: delete it and create this one.
    Recreate(EndpointSlice),
}

pub fn endpoint_slice_update(current: &EndpointSlice, ip: IpAddr) -> SliceChange {
    let want = master_endpoint_slice(ip);
    if current.address_type != want.address_type {
        return SliceChange::Recreate(want);
    }
    if current.endpoints == want.endpoints
        && current.ports == want.ports
        && current.metadata.labels == want.metadata.labels
    {
        return SliceChange::None;
    }
    let mut next = current.clone();
    next.endpoints = want.endpoints;
    next.ports = want.ports;
    next.metadata.labels = want.metadata.labels;
    SliceChange::Update(next)
}
