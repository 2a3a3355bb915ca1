//! kube-apiserver's own controllers for `default/kubernetes`: the kubernetesservice controller
//! keeps the Service's ports, the endpoint reconciler its Endpoints and EndpointSlice with the
//! API server's address in the Service's family (`twinstack_kube::apiserver`).

use super::{name_of, Ctl, World};
use k8s_openapi::api::core::v1::{Endpoints, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use twinstack_kube::apiserver::{self as api, SliceChange};

pub async fn sync(ctl: &Ctl, w: &World) {
    let is_master = |m: &ObjectMeta| {
        name_of(&m.namespace) == api::SERVICE_NAMESPACE && name_of(&m.name) == api::SERVICE_NAME
    };
    let Some(service) = w.lists.services.iter().find(|s| is_master(&s.metadata)) else {
        return;
    };
    service_ports(ctl, service).await;
    let ipv6 = service
        .spec
        .as_ref()
        .and_then(|s| s.cluster_ip.as_deref())
        .is_some_and(|ip| ip.contains(':'));
    let ip = api::advertise_address(ipv6);
    let current = w.lists.endpoints.iter().find(|e| is_master(&e.metadata));
    endpoints(ctl, current.map(|e| &e.metadata), ip).await;
    let slice = w
        .lists
        .slices
        .iter()
        .find(|s| is_master(&s.metadata))
        .and_then(|s| {
            ctl.full_typed::<EndpointSlice>("discovery.k8s.io", "endpointslices", &s.metadata)
        });
    endpoint_slice(ctl, slice, ip).await;
}

/// `getMasterServiceUpdateIfNeeded`: the ports reset when they are not the controller's.
async fn service_ports(ctl: &Ctl, service: &Service) {
    let ports = service
        .spec
        .as_ref()
        .and_then(|s| s.ports.clone())
        .unwrap_or_default();
    if api::master_service_ports_correct(&ports) {
        return;
    }
    let Some(mut whole) = ctl.full("", "services", &service.metadata) else {
        return;
    };
    let Ok(want) = serde_json::to_value(api::master_service_ports()) else {
        return;
    };
    whole["spec"]["ports"] = want;
    ctl.write("", "services", whole).await;
}

async fn endpoints(ctl: &Ctl, current: Option<&ObjectMeta>, ip: std::net::IpAddr) {
    let current = current.and_then(|e| ctl.full("", "endpoints", e));
    match current {
        None => {
            if let Ok(v) = serde_json::to_value(api::master_endpoints(ip)) {
                let _ = ctl
                    .create("", "endpoints", Some(api::SERVICE_NAMESPACE), v)
                    .await;
            }
        }
        Some(cur) => {
            let Ok(typed) = serde_json::from_value::<Endpoints>(cur) else {
                return;
            };
            if let Some(next) = api::endpoints_update(&typed, ip) {
                ctl.write_typed("", "endpoints", next).await;
            }
        }
    }
}

async fn endpoint_slice(ctl: &Ctl, current: Option<EndpointSlice>, ip: std::net::IpAddr) {
    let create = |s: EndpointSlice| async move {
        if let Ok(v) = serde_json::to_value(s) {
            let _ = ctl
                .create(
                    "discovery.k8s.io",
                    "endpointslices",
                    Some(api::SERVICE_NAMESPACE),
                    v,
                )
                .await;
        }
    };
    match current {
        None => create(api::master_endpoint_slice(ip)).await,
        Some(cur) => match api::endpoint_slice_update(&cur, ip) {
            SliceChange::None => {}
            SliceChange::Update(next) => {
                ctl.write_typed("discovery.k8s.io", "endpointslices", next)
                    .await;
            }
            SliceChange::Recreate(next) => {
                if ctl
                    .delete("discovery.k8s.io", "endpointslices", &cur.metadata)
                    .await
                    .is_ok()
                {
                    create(next).await;
                }
            }
        },
    }
}
