//! Istio: the sidecar injector (namespaces labelled `istio-injection=enabled`) and the warning
//! the seed gives: IPv6 traffic is not part of the mesh (no mutual TLS, no authorization
//! policies), because the sidecar's capture is IPv4 only.
//!
//! Injection follows istio/istio `pkg/kube/inject/webhook.go` (`injectRequired`) and
//! `inject.go` (`SidecarInjectionStatus`), with Kyma's Istio module (kyma-project/istio):
//! image `europe-docker.pkg.dev/kyma-project/prod/external/istio/proxyv2:1.30.2-distroless`
//! (`config/manager/env-images.yaml`), istio-cni on by default so the init container is
//! `istio-validation` (`internal/restarter/predicates/cni.go`).

use k8s_openapi::api::core::v1::{Container, ContainerPort, Pod, Service};
use std::collections::BTreeMap;

pub const PROXY_IMAGE: &str =
    "europe-docker.pkg.dev/kyma-project/prod/external/istio/proxyv2:1.30.2-distroless";
pub const STATUS_ANNOTATION: &str = "sidecar.istio.io/status";
pub const INJECT: &str = "sidecar.istio.io/inject";
/// The reason of the Warning event twinstack records on the Service.
pub const IPV6_OUTSIDE_MESH_REASON: &str = "IPv6OutsideMesh";

/// The volumes the injection template adds (as listed in the status annotation).
const VOLUMES: [&str; 8] = [
    "workload-socket",
    "credential-socket",
    "workload-certs",
    "istio-envoy",
    "istio-data",
    "istio-podinfo",
    "istio-token",
    "istiod-ca-cert",
];

/// `injectRequired`: hostNetwork pods never; the pod's `sidecar.istio.io/inject` label (or the
/// deprecated annotation) decides when set; else the namespace's `istio-injection=enabled` or
/// `istio.io/rev`.
fn inject_required(pod: &Pod, ns: &BTreeMap<String, String>) -> bool {
    if pod.spec.as_ref().and_then(|s| s.host_network) == Some(true) {
        return false;
    }
    if ns.get("istio-injection").map(String::as_str) == Some("disabled") {
        return false;
    }
    let pod_says = pod
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(INJECT))
        .or_else(|| {
            pod.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(INJECT))
        });
    let ns_enabled = ns.get("istio-injection").map(String::as_str) == Some("enabled")
        || ns.contains_key("istio.io/rev");
    match pod_says.map(String::as_str) {
        Some("false") | Some("n") | Some("no") | Some("off") => false,
        Some("true") | Some("y") | Some("yes") | Some("on") => true,
        _ => ns_enabled,
    }
}

/// The workload name as Istio derives it (a ReplicaSet pod's generateName without the
/// pod-template-hash).
fn workload_name(pod: &Pod) -> String {
    let m = &pod.metadata;
    let owner_rs = m
        .owner_references
        .as_ref()
        .and_then(|o| o.first())
        .filter(|o| o.kind == "ReplicaSet")
        .map(|o| o.name.clone());
    if let Some(rs) = owner_rs {
        return match rs.rsplit_once('-') {
            Some((base, _)) => base.to_string(),
            None => rs,
        };
    }
    m.name.clone().unwrap_or_default()
}

/// Injects the `istio-proxy` sidecar (and `sidecar.istio.io/status`) into `pod` when its
/// namespace has `namespace_labels` that enable injection; returns whether it changed.
pub fn inject(pod: &mut Pod, namespace_labels: &BTreeMap<String, String>) -> bool {
    let already = pod
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(STATUS_ANNOTATION));
    if already || !inject_required(pod, namespace_labels) {
        return false;
    }
    let revision = namespace_labels
        .get("istio.io/rev")
        .cloned()
        .unwrap_or_else(|| "default".into());
    let labels = pod.metadata.labels.clone().unwrap_or_default();
    let canonical_name = [
        "service.istio.io/canonical-name",
        "app.kubernetes.io/name",
        "app",
    ]
    .iter()
    .find_map(|k| labels.get(*k).cloned())
    .unwrap_or_else(|| workload_name(pod));
    let canonical_revision = [
        "service.istio.io/canonical-revision",
        "app.kubernetes.io/version",
        "version",
    ]
    .iter()
    .find_map(|k| labels.get(*k).cloned())
    .unwrap_or_else(|| "latest".into());

    let spec = pod.spec.get_or_insert_with(Default::default);
    spec.init_containers
        .get_or_insert_with(Vec::new)
        .push(Container {
            name: "istio-validation".into(),
            image: Some(PROXY_IMAGE.into()),
            args: Some(
                ["istio-iptables", "--run-validation", "--skip-rule-apply"]
                    .map(String::from)
                    .to_vec(),
            ),
            ..Default::default()
        });
    spec.containers.push(Container {
        name: "istio-proxy".into(),
        image: Some(PROXY_IMAGE.into()),
        args: Some(["proxy", "sidecar"].map(String::from).to_vec()),
        ports: Some(vec![ContainerPort {
            container_port: 15090,
            name: Some("http-envoy-prom".into()),
            protocol: Some("TCP".into()),
            ..Default::default()
        }]),
        ..Default::default()
    });
    let status = serde_json::json!({
        "initContainers": ["istio-validation"],
        "containers": ["istio-proxy"],
        "volumes": VOLUMES,
        "imagePullSecrets": null,
        "revision": revision,
    });
    pod.metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(STATUS_ANNOTATION.into(), status.to_string());
    let l = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
    l.insert("security.istio.io/tlsMode".into(), "istio".into());
    l.insert("service.istio.io/canonical-name".into(), canonical_name);
    l.insert(
        "service.istio.io/canonical-revision".into(),
        canonical_revision,
    );
    true
}

/// Whether `pod` carries an injected sidecar.
pub fn is_injected(pod: &Pod) -> bool {
    pod.metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(STATUS_ANNOTATION))
}

/// The warning for a Service that serves IPv6 to sidecar-injected pods (Kyma's Istio module is
/// IPv4 only): used as a kubectl `Warning:` header on apply and as a Warning event with reason
/// [`IPV6_OUTSIDE_MESH_REASON`]. Modelled on the product page's WARNING; not an Istio message.
pub fn ipv6_outside_mesh_warning(svc: &Service, selects_injected_pods: bool) -> Option<String> {
    let families = svc
        .spec
        .as_ref()
        .and_then(|s| s.ip_families.clone())
        .unwrap_or_default();
    if !selects_injected_pods || !families.iter().any(|f| f == "IPv6") {
        return None;
    }
    let name = svc.metadata.name.as_deref().unwrap_or_default();
    let ns = svc.metadata.namespace.as_deref().unwrap_or("default");
    Some(format!(
        "Service {ns}/{name} has IPv6 in spec.ipFamilies and selects Pods with an Istio sidecar: the Kyma Istio module does not support the dual stack mode. Any traffic sent or received through the IPv6 network won't be part of the Istio service mesh. Consequently, Istio won't protect any IPv6 traffic, neither by transparent encryption nor by offering additional security mechanisms (for example, authentication)."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodSpec, ServiceSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

    fn pod() -> Pod {
        let mut p = Pod {
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "app".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        p.metadata.name = Some("web-7d9f8b-abcde".into());
        p.metadata.owner_references = Some(vec![OwnerReference {
            kind: "ReplicaSet".into(),
            name: "web-7d9f8b".into(),
            ..Default::default()
        }]);
        p
    }
    fn ns(k: &str, v: &str) -> BTreeMap<String, String> {
        [(k.to_string(), v.to_string())].into()
    }

    #[test]
    fn enabled_namespace_injects_once() {
        let mut p = pod();
        assert!(inject(&mut p, &ns("istio-injection", "enabled")));
        let spec = p.spec.as_ref().unwrap();
        assert_eq!(spec.containers[1].name, "istio-proxy");
        assert_eq!(
            spec.containers[1].ports.as_ref().unwrap()[0]
                .name
                .as_deref(),
            Some("http-envoy-prom")
        );
        assert_eq!(
            spec.init_containers.as_ref().unwrap()[0].name,
            "istio-validation"
        );
        let l = p.metadata.labels.as_ref().unwrap();
        assert_eq!(l["security.istio.io/tlsMode"], "istio");
        assert_eq!(l["service.istio.io/canonical-name"], "web");
        assert_eq!(l["service.istio.io/canonical-revision"], "latest");
        let st: serde_json::Value =
            serde_json::from_str(&p.metadata.annotations.as_ref().unwrap()[STATUS_ANNOTATION])
                .unwrap();
        assert_eq!(st["containers"], serde_json::json!(["istio-proxy"]));
        assert_eq!(st["revision"], "default");
        assert!(!inject(&mut p, &ns("istio-injection", "enabled")));
        assert_eq!(p.spec.unwrap().containers.len(), 2);
    }

    #[test]
    fn opt_outs_and_plain_namespaces_are_left_alone() {
        let mut p = pod();
        assert!(!inject(&mut p, &BTreeMap::new()));
        let mut p = pod();
        p.metadata.labels = Some(ns(INJECT, "false"));
        assert!(!inject(&mut p, &ns("istio-injection", "enabled")));
        let mut p = pod();
        p.metadata.annotations = Some(ns(INJECT, "false"));
        assert!(!inject(&mut p, &ns("istio-injection", "enabled")));
        let mut p = pod();
        assert!(inject(&mut p, &ns("istio.io/rev", "default")));
    }

    #[test]
    fn warning_only_for_ipv6_services_in_front_of_sidecars() {
        let mut s = Service {
            spec: Some(ServiceSpec {
                ip_families: Some(vec!["IPv4".into(), "IPv6".into()]),
                ..Default::default()
            }),
            ..Default::default()
        };
        s.metadata.name = Some("web".into());
        let w = ipv6_outside_mesh_warning(&s, true).unwrap();
        assert!(w.starts_with("Service default/web has IPv6"));
        assert!(w.contains("won't be part of the Istio service mesh"));
        assert_eq!(ipv6_outside_mesh_warning(&s, false), None);
        s.spec.as_mut().unwrap().ip_families = Some(vec!["IPv4".into()]);
        assert_eq!(ipv6_outside_mesh_warning(&s, true), None);
    }
}
