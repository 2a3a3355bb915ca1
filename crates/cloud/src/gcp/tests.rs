//! One case per fidelity note of `docs/fidelity.md, "Cloud load balancers"` (GCP rows).

use super::annotations as a;
use super::*;
use crate::inventory::Controller;
use crate::EventType;
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

const UID: &str = "0a1b2c3d-4e5f-6789-abcd-ef0123456789";
const FR: &str = "a0a1b2c3d4e5f6789abcdef012345678";

fn dual_network() -> Network {
    network::emulated(
        "shoot",
        "europe-west3",
        "10.250.0.0/16".parse().unwrap(),
        Some("10.96.0.0/13".parse().unwrap()),
        Some("2600:1900:4000:1::/64".parse().unwrap()),
        Some("2600:1900:4000:2::/108".parse().unwrap()),
    )
}

fn cluster(network: &Network, ingress_gce: bool) -> Cluster<'_> {
    Cluster {
        name: "shoot",
        project: "shoot",
        region: "europe-west3",
        network,
        kube_system_uid: "ks-uid",
        ingress_gce,
        instances: &[],
        now: "2026-12-03T05:00:00Z",
    }
}

fn svc() -> Service {
    Service {
        metadata: ObjectMeta {
            name: Some("web".into()),
            namespace: Some("default".into()),
            uid: Some(UID.into()),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            type_: Some("LoadBalancer".into()),
            ip_families: Some(vec!["IPv6".into(), "IPv4".into()]),
            ip_family_policy: Some("RequireDualStack".into()),
            ports: Some(vec![ServicePort {
                port: 80,
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn annotate(mut s: Service, k: &str, v: &str) -> Service {
    s.metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(k.into(), v.into());
    s
}

fn finalize(mut s: Service, f: &str) -> Service {
    s.metadata
        .finalizers
        .get_or_insert_with(Vec::new)
        .push(f.into());
    s
}

fn rbs() -> Service {
    annotate(svc(), a::RBS, a::RBS_ENABLED)
}

fn reasons(r: &Reconciled<ForwardingRule>) -> Vec<(&'static str, String)> {
    r.events
        .iter()
        .map(|e| (e.component, e.reason.clone()))
        .collect()
}

/// Applies what a pass asked for (finalizers, annotations) to `s`.
fn apply(mut s: Service, r: &Reconciled<ForwardingRule>) -> Service {
    for f in &r.add_finalizers {
        s = finalize(s, f);
    }
    if let Some(fs) = s.metadata.finalizers.as_mut() {
        fs.retain(|f| !r.remove_finalizers.contains(f));
    }
    for (k, v) in &r.annotations {
        let m = s.metadata.annotations.get_or_insert_with(Default::default);
        match v {
            Some(v) => m.insert(k.clone(), v.clone()),
            None => m.remove(k),
        };
    }
    s
}

#[test]
fn rbs_dual_stack_gets_two_rules_status_ipv4_first_and_annotations() {
    let n = dual_network();
    let c = cluster(&n, true);
    let r = reconcile(&rbs(), &c, &[]);
    assert_eq!(
        reasons(&r),
        [
            ("service-controller", "EnsuringLoadBalancer".to_string()),
            ("loadbalancer-controller", "ADD".to_string()),
            (
                "loadbalancer-controller",
                "SyncLoadBalancerSuccessful".to_string()
            ),
        ]
    );
    assert_eq!(r.events[1].message, "default/web");
    assert_eq!(
        r.events[2].message,
        "Successfully ensured IPv6 IPv4 External LoadBalancer resources"
    );
    assert_eq!(
        r.add_finalizers,
        [a::LB_CLEANUP_FINALIZER, a::NETLB_FINALIZER_V2]
    );
    let names: Vec<_> = r.resources.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, [FR.to_string(), format!("{FR}-ipv6")]);
    let v6 = &r.resources[1];
    assert_eq!(v6.ip_version, "IPV6");
    assert!(v6.ip_address.ends_with("/96"));
    assert_eq!(v6.network_tier, "PREMIUM");
    assert!(v6
        .subnetwork
        .as_deref()
        .unwrap()
        .ends_with("/subnetworks/shoot-nodes"));
    let st = r.ingress.clone().unwrap();
    assert_eq!(st.len(), 2);
    assert_eq!(
        st[0].ip.as_deref(),
        Some(r.resources[0].ip_address.as_str())
    );
    assert_eq!(st[1].ip.as_deref(), v6.ip_address.strip_suffix("/96"));
    assert!(st.iter().all(|i| i.ip_mode.as_deref() == Some("VIP")));
    assert_eq!(r.annotations[a::TCP_FORWARDING_RULE].as_deref(), Some(FR));
    assert_eq!(
        r.annotations[a::TCP_FORWARDING_RULE_IPV6].as_deref(),
        Some(format!("{FR}-ipv6").as_str())
    );
    let bs = r.annotations[a::BACKEND_SERVICE].clone().unwrap();
    assert!(bs.starts_with("k8s2-") && bs.contains("-default-web-"));
    assert_eq!(
        r.annotations[a::FIREWALL_RULE].as_deref(),
        Some(bs.as_str())
    );
    assert_eq!(
        r.annotations[a::FIREWALL_RULE_IPV6].as_deref(),
        Some(format!("{bs}-ipv6").as_str())
    );
    assert!(r.annotations[a::HEALTHCHECK]
        .as_deref()
        .unwrap()
        .ends_with("-l4-shared-hc"));
    assert!(r.leaked.is_empty());
}

#[test]
fn rbs_pass_is_idempotent() {
    let n = dual_network();
    let c = cluster(&n, true);
    let first = reconcile(&rbs(), &c, &[]);
    let s = apply(rbs(), &first);
    let second = reconcile(&s, &c, &first.resources);
    assert_eq!(second.resources, first.resources);
    assert_eq!(second.ingress, first.ingress);
    assert!(second.add_finalizers.is_empty());
    assert!(second.annotations.is_empty());
    assert!(!reasons(&second).iter().any(|(_, r)| r == "ADD"));
}

#[test]
fn ccm_defers_rbs_services_but_keeps_its_event_and_finalizer() {
    let n = dual_network();
    let c = cluster(&n, true);
    let r = ccm::sync(&rbs(), &c, &[]);
    assert_eq!(
        reasons(&r),
        [("service-controller", "EnsuringLoadBalancer".to_string())]
    );
    assert_eq!(r.add_finalizers, [a::LB_CLEANUP_FINALIZER]);
    assert_eq!(r.ingress, None);
}

#[test]
fn legacy_netlb_is_ipv4_only_target_pool() {
    let n = dual_network();
    let c = cluster(&n, true);
    let r = reconcile(&svc(), &c, &[]);
    assert_eq!(
        reasons(&r),
        [
            ("service-controller", "EnsuringLoadBalancer".to_string()),
            ("service-controller", "EnsuredLoadBalancer".to_string()),
        ]
    );
    assert_eq!(
        r.add_finalizers,
        [a::LB_CLEANUP_FINALIZER, a::NETLB_FINALIZER_V1]
    );
    assert_eq!(r.resources.len(), 1);
    let fr = &r.resources[0];
    assert_eq!(fr.name, FR);
    assert_eq!(fr.port_range.as_deref(), Some("80-80"));
    assert!(fr
        .target
        .as_deref()
        .unwrap()
        .ends_with(&format!("/targetPools/{FR}")));
    assert_eq!(fr.controller, Controller::GceCloudProvider);
    assert_eq!(r.ingress.unwrap().len(), 1);
}

#[test]
fn internal_dual_stack_service_gets_an_ipv4_ilb_from_the_internal_subnet() {
    let n = dual_network();
    let c = cluster(&n, true);
    let s = annotate(svc(), a::LB_TYPE, "Internal");
    let r = reconcile(&s, &c, &[]);
    assert_eq!(r.resources.len(), 1);
    let fr = &r.resources[0];
    assert_eq!(fr.load_balancing_scheme, "INTERNAL");
    assert!(fr.ip_address.starts_with("10.251."));
    assert!(fr
        .subnetwork
        .as_deref()
        .unwrap()
        .ends_with("/subnetworks/shoot-internal"));
    assert!(r.add_finalizers.contains(&a::ILB_FINALIZER_V1.to_string()));
    assert_eq!(r.ingress.unwrap().len(), 1);
    let w: Vec<_> = r
        .events
        .iter()
        .filter(|e| e.type_ == EventType::Warning)
        .collect();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].reason, INTERNAL_IPV6_REASON);
    assert_eq!(w[0].component, "twinstack");
    assert!(w[0]
        .message
        .contains("internal IPv6 load balancers are not supported"));
}

#[test]
fn internal_ipv6_warning_needs_an_internal_load_balancer_with_ipv6() {
    let internal = annotate(svc(), a::LB_TYPE, "Internal");
    assert!(internal_ipv6_warning(&internal).is_some());
    assert!(internal_ipv6_warning(&annotate(svc(), a::LB_TYPE_DEPRECATED, "internal")).is_some());
    // External, or IPv4 only, or not a load balancer: nothing to warn about.
    assert!(internal_ipv6_warning(&svc()).is_none());
    let mut v4 = internal.clone();
    v4.spec.as_mut().unwrap().ip_families = Some(vec!["IPv4".into()]);
    assert!(internal_ipv6_warning(&v4).is_none());
    let mut cluster_ip = internal.clone();
    cluster_ip.spec.as_mut().unwrap().type_ = Some("ClusterIP".into());
    assert!(internal_ipv6_warning(&cluster_ip).is_none());
}

#[test]
fn subnet_without_external_ipv6_is_a_user_error() {
    let n = network::emulated(
        "shoot",
        "europe-west3",
        "10.250.0.0/16".parse().unwrap(),
        None,
        None,
        None,
    );
    let c = cluster(&n, true);
    let r = reconcile(&rbs(), &c, &[]);
    let w = r
        .events
        .iter()
        .find(|e| e.type_ == EventType::Warning)
        .unwrap();
    assert_eq!(w.reason, "SyncExternalLoadBalancerFailed");
    assert_eq!(
        w.message,
        "Error ensuring Resource for L4 External LoadBalancer, err: subnet shoot-nodes does not have external IPv6 ranges, required for an external IPv6 Service. You can specify an external IPv6 subnet using the \"networking.gke.io/load-balancer-subnet\" annotation on the Service"
    );
    assert!(r.resources.is_empty());
    assert_eq!(r.ingress, None);
}

#[test]
fn standard_tier_fails_ipv6_after_the_ipv4_rule() {
    let n = dual_network();
    let c = cluster(&n, true);
    let r = reconcile(&annotate(rbs(), a::NETWORK_TIER, "Standard"), &c, &[]);
    let w = r
        .events
        .iter()
        .find(|e| e.type_ == EventType::Warning)
        .unwrap();
    assert_eq!(
        w.message,
        "Error ensuring Resource for L4 External LoadBalancer, err: Network tier Standard is not supported for IPv6 External Load Balancer"
    );
    assert_eq!(r.resources.len(), 1);
    assert_eq!(r.resources[0].network_tier, "STANDARD");
    assert_eq!(r.ingress, None);
}

#[test]
fn class_with_internal_annotation_is_conflicting_configuration() {
    let n = dual_network();
    let c = cluster(&n, true);
    let mut s = annotate(svc(), a::LB_TYPE, "Internal");
    s.spec.as_mut().unwrap().load_balancer_class = Some(a::CLASS_REGIONAL_EXTERNAL.into());
    let r = reconcile(&s, &c, &[]);
    let w = &r.events[0];
    assert_eq!(
        (w.component, w.reason.as_str()),
        ("loadbalancer-controller", "ConflictingConfiguration")
    );
    assert_eq!(
        w.message,
        "loadBalancerClass conflicts with networking.gke.io/load-balancer-type: \"Internal\" annotation. External LoadBalancer Service provisioned."
    );
    // The CCM leaves class Services alone.
    assert!(!r.events.iter().any(|e| e.component == "service-controller"));
    assert_eq!(r.resources.len(), 2);
}

#[test]
fn deleting_an_rbs_service_cleans_up_both_controllers() {
    let n = dual_network();
    let c = cluster(&n, true);
    let first = reconcile(&rbs(), &c, &[]);
    let mut s = apply(rbs(), &first);
    s.metadata.deletion_timestamp = Some(Time(Default::default()));
    let r = reconcile(&s, &c, &first.resources);
    assert_eq!(
        reasons(&r),
        [
            ("service-controller", "DeletingLoadBalancer".to_string()),
            ("service-controller", "DeletedLoadBalancer".to_string()),
            (
                "loadbalancer-controller",
                "DeletingLoadBalancer".to_string()
            ),
            ("loadbalancer-controller", "DeletedLoadBalancer".to_string()),
        ]
    );
    assert_eq!(
        r.events[2].message,
        "Deleting L4 External LoadBalancer for default/web"
    );
    assert!(r.resources.is_empty());
    assert!(r.leaked.is_empty());
    assert_eq!(r.ingress, Some(vec![]));
    assert_eq!(
        r.remove_finalizers,
        [a::LB_CLEANUP_FINALIZER, a::NETLB_FINALIZER_V2]
    );
    assert!(r.annotations.values().all(Option::is_none));
}

#[test]
fn rbs_annotation_on_a_legacy_service_is_removed() {
    let n = dual_network();
    let c = cluster(&n, true);
    let first = reconcile(&svc(), &c, &[]);
    let s = annotate(apply(svc(), &first), a::RBS, a::RBS_ENABLED);
    let r = reconcile(&s, &c, &first.resources);
    let w = r
        .events
        .iter()
        .find(|e| e.type_ == EventType::Warning)
        .unwrap();
    assert_eq!(w.reason, "CanNotMigrateTargetPoolToRBS");
    assert_eq!(r.annotations[a::RBS], None);
    assert_eq!(r.resources, first.resources);
}

#[test]
fn ipv4_only_runtime_without_ingress_gce_leaves_rbs_services_pending() {
    let n = network::emulated(
        "shoot",
        "europe-west3",
        "10.250.0.0/16".parse().unwrap(),
        None,
        None,
        None,
    );
    let c = cluster(&n, false);
    let r = reconcile(&rbs(), &c, &[]);
    assert_eq!(
        reasons(&r),
        [("service-controller", "EnsuringLoadBalancer".to_string())]
    );
    assert!(r.resources.is_empty());
    assert_eq!(r.ingress, None);
}

#[test]
fn type_change_to_cluster_ip_deletes_the_rbs_rules() {
    let n = dual_network();
    let c = cluster(&n, true);
    let first = reconcile(&rbs(), &c, &[]);
    let mut s = apply(rbs(), &first);
    s.spec.as_mut().unwrap().type_ = Some("ClusterIP".into());
    let r = reconcile(&s, &c, &first.resources);
    assert!(r.resources.is_empty());
    assert!(r
        .remove_finalizers
        .contains(&a::NETLB_FINALIZER_V2.to_string()));
    assert!(r
        .remove_finalizers
        .contains(&a::LB_CLEANUP_FINALIZER.to_string()));
}
