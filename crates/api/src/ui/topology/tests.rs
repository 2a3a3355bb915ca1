//! The picture of a base case (the seed's dual-stack NLB Service, two pods, two slices) and
//! named tweaks, one per warning the picture carries.

use super::*;
use serde_json::json;

fn svc() -> Service {
    serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "type": "LoadBalancer",
            "ipFamilyPolicy": "RequireDualStack",
            "ipFamilies": ["IPv6", "IPv4"],
            "clusterIPs": ["fd00:10:96::a", "10.96.0.10"],
            "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080, "protocol": "TCP"}]
        },
        "status": {"loadBalancer": {"ingress": [{"hostname": "k8s-default-web-1234.elb.eu-central-1.amazonaws.com"}]}}
    }))
    .unwrap()
}

fn pod(name: &str, v4: &str, v6: &str, injected: bool) -> Pod {
    let mut p: Pod = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
        "spec": {"nodeName": "node-1", "containers": [{"name": "c"}]},
        "status": {"phase": "Running", "podIP": v4, "podIPs": [{"ip": v4}, {"ip": v6}]}
    }))
    .unwrap();
    if injected {
        p.metadata.annotations = Some(
            [("sidecar.istio.io/status".to_string(), "{}".to_string())]
                .into_iter()
                .collect(),
        );
    }
    p
}

fn slice(family: &str, addrs: &[(&str, &str)]) -> EndpointSlice {
    serde_json::from_value(json!({
        "metadata": {"name": format!("web-{}", family.to_lowercase()), "namespace": "default",
                     "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": family,
        "endpoints": addrs.iter().map(|(pod, ip)| json!({
            "addresses": [ip], "conditions": {"ready": true}, "nodeName": "node-1",
            "targetRef": {"kind": "Pod", "name": pod, "namespace": "default"}
        })).collect::<Vec<_>>()
    }))
    .unwrap()
}

fn node() -> Node {
    serde_json::from_value(json!({
        "metadata": {"name": "node-1"},
        "spec": {"podCIDRs": ["100.64.0.0/24", "2600:1f14::/80"]},
        "status": {"addresses": [
            {"type": "InternalIP", "address": "10.250.0.10"},
            {"type": "InternalIP", "address": "2600:1f14::10"},
            {"type": "Hostname", "address": "node-1"}
        ]}
    }))
    .unwrap()
}

fn frontend(family: &'static str, backend: &'static str, address: &str) -> FrontendView {
    FrontendView {
        service: "default/web".into(),
        kind: "nlb",
        family,
        backend_family: backend,
        address: address.parse().unwrap(),
        port: 80,
        protocol: "TCP",
        listen: "127.0.0.1:40000".into(),
        hostname: Some("k8s-default-web-1234.elb.eu-central-1.amazonaws.com".into()),
        targets: Vec::new(),
    }
}

fn event(type_: &str, reason: &str, message: &str, at: &str) -> Event {
    serde_json::from_value(json!({
        "metadata": {"name": format!("web.{reason}"), "namespace": "default"},
        "involvedObject": {"kind": "Service", "name": "web", "namespace": "default"},
        "type": type_, "reason": reason, "message": message, "lastTimestamp": at
    }))
    .unwrap()
}

struct Case {
    services: Vec<Service>,
    slices: Vec<EndpointSlice>,
    pods: Vec<Pod>,
    events: Vec<Event>,
    frontends: Vec<FrontendView>,
}

/// The seed's Service on a dual-stack runtime: its NLB's target groups are IPv6, so its IPv4
/// frontend translates.
fn base() -> Case {
    Case {
        services: vec![svc()],
        slices: vec![
            slice("IPv4", &[("web-a", "100.64.0.5"), ("web-b", "100.64.0.6")]),
            slice(
                "IPv6",
                &[("web-a", "2600:1f14::5"), ("web-b", "2600:1f14::6")],
            ),
        ],
        pods: vec![
            pod("web-a", "100.64.0.5", "2600:1f14::5", false),
            pod("web-b", "100.64.0.6", "2600:1f14::6", false),
        ],
        events: vec![],
        frontends: vec![
            frontend("IPv4", "IPv6", "3.120.0.10"),
            frontend("IPv6", "IPv6", "2a05:d014::10"),
        ],
    }
}

fn run(c: &Case) -> Topology {
    build(&Inputs {
        services: &c.services,
        slices: &c.slices,
        pods: &c.pods,
        nodes: &[node()],
        events: &c.events,
        frontends: &c.frontends,
    })
}

fn kinds(t: &Topology) -> Vec<(WarningKind, Option<String>)> {
    t.services[0]
        .warnings
        .iter()
        .map(|w| (w.kind, w.family.clone()))
        .collect()
}

#[test]
fn the_seed_service_is_drawn_with_both_families_and_its_translating_frontend() {
    let t = run(&base());
    let s = &t.services[0];
    assert_eq!(s.families, ["IPv6", "IPv4"]);
    assert_eq!(s.cluster_ips, ["fd00:10:96::a", "10.96.0.10"]);
    assert_eq!(
        s.load_balancer,
        Some(LoadBalancerView {
            hostnames: vec!["k8s-default-web-1234.elb.eu-central-1.amazonaws.com".into()],
            ips: vec![],
            pending: false
        })
    );
    assert_eq!(s.frontends.len(), 2);
    assert_eq!(
        s.slices
            .iter()
            .map(|s| s.family.as_str())
            .collect::<Vec<_>>(),
        ["IPv4", "IPv6"]
    );
    // Each pod once, though both slices name it.
    assert_eq!(s.pods, ["default/web-a", "default/web-b"]);
    assert_eq!(t.pods[0].ips, ["100.64.0.5", "2600:1f14::5"]);
    assert_eq!(t.nodes[0].pod_cidrs, ["100.64.0.0/24", "2600:1f14::/80"]);
    assert_eq!(
        t.nodes[0].addresses,
        ["InternalIP 10.250.0.10", "InternalIP 2600:1f14::10"]
    );
    assert_eq!(
        kinds(&t),
        [(WarningKind::Translation, Some("IPv4".into()))],
        "{:#?}",
        s.warnings
    );
    assert!(s.warnings[0].message.contains("reach the pods over IPv6"));
}

#[test]
fn warnings_table() {
    type Tweak = fn(&mut Case);
    type Want = &'static [(WarningKind, Option<&'static str>)];
    let cases: &[(&str, Tweak, Want)] = &[
        (
            "no frontend translates: no translation warning",
            |c| {
                c.frontends = vec![
                    frontend("IPv4", "IPv4", "3.120.0.10"),
                    frontend("IPv6", "IPv6", "2a05:d014::10"),
                ]
            },
            &[],
        ),
        (
            "an IPv4-only runtime's NLB translates its IPv6 clients",
            |c| {
                c.frontends = vec![
                    frontend("IPv4", "IPv4", "3.120.0.10"),
                    frontend("IPv6", "IPv4", "2a05:d014::10"),
                ]
            },
            &[(WarningKind::Translation, Some("IPv6"))],
        ),
        (
            "a pod with Istio's sidecar behind an IPv6 Service: IPv6 is outside the mesh",
            |c| {
                c.frontends.clear();
                c.pods[1] = pod("web-b", "100.64.0.6", "2600:1f14::6", true);
            },
            &[(WarningKind::OutsideMesh, Some("IPv6"))],
        ),
        (
            "the controller's own outside-the-mesh event is not shown twice",
            |c| {
                c.frontends.clear();
                c.pods[0] = pod("web-a", "100.64.0.5", "2600:1f14::5", true);
                c.events = vec![event(
                    "Warning",
                    IPV6_OUTSIDE_MESH_REASON,
                    "…",
                    "2026-01-01T00:00:00Z",
                )];
            },
            &[(WarningKind::OutsideMesh, Some("IPv6"))],
        ),
        (
            "no ingress yet: pending, and the controller's failure with its message",
            |c| {
                c.frontends.clear();
                c.services[0].status = None;
                c.events = vec![
                    event("Warning", "FailedBuildModel", "old", "2026-01-01T00:00:00Z"),
                    event(
                        "Warning",
                        "FailedBuildModel",
                        "Failed build model due to unsupported",
                        "2026-01-01T00:01:00Z",
                    ),
                    event(
                        "Normal",
                        "SuccessfullyReconciled",
                        "fine",
                        "2026-01-01T00:02:00Z",
                    ),
                ];
            },
            &[(WarningKind::Pending, None), (WarningKind::Event, None)],
        ),
        (
            "a ClusterIP Service has no load balancer to wait for",
            |c| {
                c.frontends.clear();
                c.services[0].spec.as_mut().unwrap().type_ = Some("ClusterIP".into());
                c.services[0].status = None;
            },
            &[],
        ),
    ];
    for (name, tweak, want) in cases {
        let mut c = base();
        tweak(&mut c);
        let t = run(&c);
        let got = kinds(&t);
        let want: Vec<(WarningKind, Option<String>)> = want
            .iter()
            .map(|(k, f)| (*k, f.map(String::from)))
            .collect();
        assert_eq!(got, want, "{name}: {:#?}", t.services[0].warnings);
    }
    // The newest event of a reason carries the controller's message.
    let mut c = base();
    c.services[0].status = None;
    c.events = vec![
        event(
            "Warning",
            "FailedBuildModel",
            "Failed build model due to unsupported",
            "2026-01-01T00:01:00Z",
        ),
        event("Warning", "FailedBuildModel", "old", "2026-01-01T00:00:00Z"),
    ];
    let t = run(&c);
    let w = t.services[0]
        .warnings
        .iter()
        .find(|w| w.kind == WarningKind::Event)
        .unwrap();
    assert_eq!(w.reason.as_deref(), Some("FailedBuildModel"));
    assert_eq!(w.message, "Failed build model due to unsupported");
}

#[test]
fn slices_of_other_services_and_pods_without_a_slice_stay_apart() {
    let mut c = base();
    let mut other = slice("IPv4", &[("db-0", "100.64.0.9")]);
    other
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("kubernetes.io/service-name".into(), "db".into());
    c.slices.push(other);
    c.pods
        .push(pod("db-0", "100.64.0.9", "2600:1f14::9", false));
    let t = run(&c);
    assert_eq!(t.services.len(), 1);
    assert_eq!(t.services[0].pods, ["default/web-a", "default/web-b"]);
    assert_eq!(t.pods.len(), 3, "every pod is on the picture of its node");
}
