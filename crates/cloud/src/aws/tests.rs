//! Table tests of the AWS controllers: a valid base Service and named tweaks, one case per
//! fidelity note (`docs/fidelity.md, "Cloud load balancers"`).

#![allow(clippy::type_complexity)] // case tables read best as tuples

use super::*;
use crate::inventory::Vpc;
use crate::EventType;
use ipnet::{Ipv4Net, Ipv6Net};
use k8s_openapi::api::core::v1::{ServicePort, ServiceSpec};
use proptest::prelude::*;

const A: &str = "service.beta.kubernetes.io/";

fn zones() -> Vec<String> {
    vec!["eu-central-1a".into(), "eu-central-1b".into()]
}

fn vpc(v6: bool) -> Vpc {
    let six: Option<Ipv6Net> = v6.then(|| "2a05:d014:abc:f00::/56".parse().unwrap());
    vpc::emulated(
        "rt1",
        "eu-central-1",
        "10.250.0.0/16".parse().unwrap(),
        &zones(),
        six,
    )
}

fn instances(v6: bool) -> Vec<Instance> {
    zones()
        .iter()
        .enumerate()
        .map(|(i, z)| Instance {
            node_name: format!("node-{i}"),
            instance_id: format!("i-0000000000000000{i}"),
            zone: z.clone(),
            private_ipv4: Some(format!("10.250.{}.10", i * 64).parse().unwrap()),
            primary_ipv6: v6.then(|| format!("2a05:d014:abc:f0{i}::10").parse().unwrap()),
            ready: true,
            labels: Default::default(),
        })
        .collect()
}

fn cluster<'a>(vpc: &'a Vpc, inst: &'a [Instance], lbc: bool) -> Cluster<'a> {
    Cluster {
        name: "rt1",
        region: "eu-central-1",
        account_id: "123456789012",
        vpc,
        instances: inst,
        load_balancer_controller: lbc,
        now: "2026-01-01T00:00:00Z",
    }
}

fn svc(ann: &[(&str, &str)]) -> Service {
    let mut s = Service::default();
    s.metadata.name = Some("web".into());
    s.metadata.namespace = Some("default".into());
    s.metadata.uid = Some("1b4e28ba-2fa1-11d2-883f-0016d3cca427".into());
    s.metadata.annotations = Some(
        ann.iter()
            .map(|(k, v)| (format!("{A}{k}"), v.to_string()))
            .collect(),
    );
    s.spec = Some(ServiceSpec {
        type_: Some("LoadBalancer".into()),
        ip_families: Some(vec!["IPv4".into()]),
        ports: Some(vec![ServicePort {
            name: Some("http".into()),
            port: 80,
            protocol: Some("TCP".into()),
            node_port: Some(30080),
            ..Default::default()
        }]),
        ..Default::default()
    });
    s
}

fn external() -> Vec<(&'static str, &'static str)> {
    vec![
        ("aws-load-balancer-type", "external"),
        ("aws-load-balancer-nlb-target-type", "instance"),
    ]
}

fn seed() -> Vec<(&'static str, &'static str)> {
    vec![
        ("aws-load-balancer-ip-address-type", "dualstack"),
        ("aws-load-balancer-scheme", "internet-facing"),
        ("aws-load-balancer-nlb-target-type", "instance"),
        ("aws-load-balancer-type", "external"),
    ]
}

fn events(r: &Reconciled<LoadBalancer>) -> Vec<(EventType, &str, &str, &str)> {
    r.events
        .iter()
        .map(|e| (e.type_, e.component, e.reason.as_str(), e.message.as_str()))
        .collect()
}

fn run(s: &Service, v6: bool, lbc: bool, existing: &[LoadBalancer]) -> Reconciled<LoadBalancer> {
    let v = vpc(v6);
    let i = instances(v6);
    reconcile(s, &cluster(&v, &i, lbc), existing, &[])
}

fn with_finalizers(mut s: Service, r: &Reconciled<LoadBalancer>) -> Service {
    let mut f = s.metadata.finalizers.take().unwrap_or_default();
    f.extend(r.add_finalizers.iter().cloned());
    f.retain(|x| !r.remove_finalizers.contains(x));
    s.metadata.finalizers = Some(f);
    s
}

#[test]
fn vpc_layout_ids_tags_and_ipv6() {
    let v = vpc(true);
    assert!(v.vpc_id.starts_with("vpc-") && v.vpc_id.len() == 21);
    assert_eq!(v.subnets.len(), 6);
    let names: Vec<_> = v.subnets.iter().map(|s| s.tags["Name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "rt1-nodes-z0",
            "rt1-public-utility-z0",
            "rt1-private-utility-z0",
            "rt1-nodes-z1",
            "rt1-public-utility-z1",
            "rt1-private-utility-z1"
        ]
    );
    let six: Ipv6Net = "2a05:d014:abc:f00::/56".parse().unwrap();
    let all: Vec<Ipv6Net> = six.subnets(64).unwrap().collect();
    // Workers take the first /64s in zone order (the runtime's ipv6_zone_subnets).
    assert_eq!(v.subnets[0].ipv6_cidr_block, Some(all[0]));
    assert_eq!(v.subnets[3].ipv6_cidr_block, Some(all[1]));
    assert_eq!(v.subnets[1].ipv6_cidr_block, Some(all[2]));
    assert_eq!(v.subnets[2].ipv6_cidr_block, Some(all[4]));
    for s in &v.subnets {
        assert!(s.subnet_id.starts_with("subnet-") && s.subnet_id.len() == 24);
        assert_eq!(s.tags["kubernetes.io/cluster/rt1"], "1");
        assert!(s.availability_zone_id.starts_with("euc1-az"));
        let size = 1u32 << (32 - s.cidr_block.prefix_len());
        assert_eq!(s.available_ip_address_count, size - 5);
    }
    assert_eq!(v.subnets[1].tags["kubernetes.io/role/elb"], "1");
    assert_eq!(v.subnets[2].tags["kubernetes.io/role/internal-elb"], "1");
    assert_ne!(
        v.subnets[0].availability_zone_id,
        v.subnets[3].availability_zone_id
    );
    assert!(vpc(false)
        .subnets
        .iter()
        .all(|s| s.ipv6_cidr_block.is_none()));
    let _: Ipv4Net = v.cidr_block;
}

/// §1.1 decision table.
#[test]
fn decision_table() {
    use EventType::*;
    let ensuring = (
        Normal,
        "service-controller",
        "EnsuringLoadBalancer",
        "Ensuring load balancer",
    );
    let ensured = (
        Normal,
        "service-controller",
        "EnsuredLoadBalancer",
        "Ensured load balancer",
    );
    let ok = (
        Normal,
        "service",
        "SuccessfullyReconciled",
        "Successfully reconciled",
    );
    let cases: Vec<(
        &str,
        Service,
        Vec<(EventType, &str, &str, &str)>,
        &[&str],
        Option<&str>,
    )> = vec![
        (
            "class nlb: LBC only",
            {
                let mut s = svc(&[]);
                s.spec.as_mut().unwrap().load_balancer_class = Some("service.k8s.aws/nlb".into());
                s
            },
            vec![ok],
            &["service.k8s.aws/resources"],
            Some("network"),
        ),
        (
            "foreign class: nobody",
            {
                let mut s = svc(&[]);
                s.spec.as_mut().unwrap().load_balancer_class = Some("example.com/lb".into());
                s
            },
            vec![],
            &[],
            None,
        ),
        (
            "nlb-ip: LBC",
            svc(&[("aws-load-balancer-type", "nlb-ip")]),
            vec![ensuring, ok],
            &[
                "service.kubernetes.io/load-balancer-cleanup",
                "service.k8s.aws/resources",
            ],
            Some("network"),
        ),
        (
            "external+instance: LBC",
            svc(&external()),
            vec![ensuring, ok],
            &[
                "service.kubernetes.io/load-balancer-cleanup",
                "service.k8s.aws/resources",
            ],
            Some("network"),
        ),
        (
            "external+ip: LBC",
            svc(&[
                ("aws-load-balancer-type", "external"),
                ("aws-load-balancer-nlb-target-type", "ip"),
            ]),
            vec![ensuring, ok],
            &[
                "service.kubernetes.io/load-balancer-cleanup",
                "service.k8s.aws/resources",
            ],
            Some("network"),
        ),
        (
            "external, no target type: nobody",
            svc(&[("aws-load-balancer-type", "external")]),
            vec![ensuring],
            &["service.kubernetes.io/load-balancer-cleanup"],
            None,
        ),
        (
            "external, target type IP: nobody",
            svc(&[
                ("aws-load-balancer-type", "external"),
                ("aws-load-balancer-nlb-target-type", "IP"),
            ]),
            vec![ensuring],
            &["service.kubernetes.io/load-balancer-cleanup"],
            None,
        ),
        (
            "nlb: in-tree NLB",
            svc(&[
                ("aws-load-balancer-type", "nlb"),
                ("aws-load-balancer-ip-address-type", "dualstack"),
            ]),
            vec![ensuring, ensured],
            &["service.kubernetes.io/load-balancer-cleanup"],
            Some("network"),
        ),
        (
            "no type: CLB",
            svc(&[]),
            vec![ensuring, ensured],
            &["service.kubernetes.io/load-balancer-cleanup"],
            Some("classic"),
        ),
    ];
    for (name, s, want_events, want_fin, kind) in cases {
        let r = run(&s, true, true, &[]);
        assert_eq!(events(&r), want_events, "{name}");
        assert_eq!(
            r.add_finalizers,
            want_fin.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "{name}"
        );
        assert_eq!(r.resources.first().map(|l| l.kind.as_str()), kind, "{name}");
        if kind.is_none() {
            assert_eq!(r.ingress, None, "{name}");
        }
    }
}

#[test]
fn ccm_defaults_names_and_hostnames() {
    let r = run(&svc(&[]), false, false, &[]);
    let lb = &r.resources[0];
    assert_eq!(lb.load_balancer_name, "a1b4e28ba2fa111d2883f0016d3cca42");
    assert_eq!(lb.scheme, "internet-facing");
    assert_eq!(lb.ip_address_type, "ipv4");
    let h = r.ingress.as_ref().unwrap()[0].hostname.clone().unwrap();
    assert!(
        h.starts_with("a1b4e28ba2fa111d2883f0016d3cca42-")
            && h.ends_with(".eu-central-1.elb.amazonaws.com"),
        "{h}"
    );
    assert!(r.ingress.as_ref().unwrap()[0].ports.is_none());
    // Only aws-load-balancer-internal counts; the LBC's scheme annotation is ignored.
    let r = run(
        &svc(&[("aws-load-balancer-scheme", "internal")]),
        false,
        false,
        &[],
    );
    assert_eq!(r.resources[0].scheme, "internet-facing");
    let r = run(
        &svc(&[("aws-load-balancer-internal", "0.0.0.0/0")]),
        false,
        false,
        &[],
    );
    assert_eq!(r.resources[0].scheme, "internal");
    let r = run(
        &svc(&[("aws-load-balancer-internal", "false")]),
        false,
        false,
        &[],
    );
    assert_eq!(r.resources[0].scheme, "internet-facing");
    let r = run(
        &svc(&[("aws-load-balancer-type", "nlb")]),
        false,
        false,
        &[],
    );
    let h = r.ingress.as_ref().unwrap()[0].hostname.clone().unwrap();
    let id = h
        .strip_prefix("a1b4e28ba2fa111d2883f0016d3cca42-")
        .unwrap()
        .strip_suffix(".elb.eu-central-1.amazonaws.com")
        .unwrap();
    assert_eq!(id.len(), 16);
}

#[test]
fn ccm_deletion_and_type_change() {
    let r = run(&svc(&[]), false, false, &[]);
    let s = with_finalizers(svc(&[]), &r);
    let mut gone = s.clone();
    gone.spec.as_mut().unwrap().type_ = Some("ClusterIP".into());
    let d = run(&gone, false, false, &r.resources);
    assert_eq!(
        events(&d),
        vec![
            (
                EventType::Normal,
                "service-controller",
                "DeletingLoadBalancer",
                "Deleting load balancer"
            ),
            (
                EventType::Normal,
                "service-controller",
                "DeletedLoadBalancer",
                "Deleted load balancer"
            ),
        ]
    );
    assert!(d.resources.is_empty());
    assert_eq!(d.remove_finalizers, vec![ccm::FINALIZER.to_string()]);
    assert_eq!(d.ingress, Some(vec![]));
}

/// The seed case: a dual-stack runtime, Gardener's four annotations, ipFamilies [IPv6, IPv4].
#[test]
fn seed_dual_stack_runtime() {
    let mut s = svc(&seed());
    s.spec.as_mut().unwrap().ip_families = Some(vec!["IPv6".into(), "IPv4".into()]);
    let r = run(&s, true, true, &[]);
    assert_eq!(
        events(&r),
        vec![
            (
                EventType::Normal,
                "service-controller",
                "EnsuringLoadBalancer",
                "Ensuring load balancer"
            ),
            (
                EventType::Normal,
                "service",
                "SuccessfullyReconciled",
                "Successfully reconciled"
            ),
        ]
    );
    assert_eq!(r.resources.len(), 1);
    let lb = &r.resources[0];
    assert_eq!(
        (
            lb.kind.as_str(),
            lb.scheme.as_str(),
            lb.ip_address_type.as_str()
        ),
        ("network", "internet-facing", "dualstack")
    );
    assert_eq!(lb.availability_zones.len(), 2);
    for z in &lb.availability_zones {
        assert!(z.ipv6_address.is_some() && z.ipv4_address.is_some());
    }
    let tg = &lb.target_groups[0];
    assert_eq!(
        (
            tg.target_type.as_str(),
            tg.ip_address_type.as_str(),
            tg.port
        ),
        ("instance", "ipv6", 30080)
    );
    assert_eq!(tg.targets.len(), 2);
    assert!(tg
        .targets
        .iter()
        .all(|t| t.ip.unwrap().is_ipv6() && t.state == "healthy"));
    assert_eq!(tg.attributes["preserve_client_ip.enabled"], "true");
    assert_eq!(tg.attributes["proxy_protocol_v2.enabled"], "false");
    assert_eq!(lb.source_ranges, vec!["0.0.0.0/0", "::/0"]);
    let ing = r.ingress.as_ref().unwrap();
    assert_eq!(ing.len(), 1);
    let h = ing[0].hostname.as_ref().unwrap();
    assert_eq!(h, &h.to_lowercase());
    assert!(h.starts_with("k8s-default-web-") && h.ends_with(".elb.eu-central-1.amazonaws.com"));
    assert_eq!(ing[0].ports.as_ref().unwrap()[0].port, 80);
    assert!(ing[0].ip.is_none());
    // Idempotent: the same pass over its own result changes nothing.
    let s2 = with_finalizers(s, &r);
    let r2 = run(&s2, true, true, &r.resources);
    assert_eq!(r2.resources, r.resources);
    assert!(r2.add_finalizers.is_empty());
}

#[test]
fn ipv4_runtime_dualstack_nlb_ipv4_tg() {
    let r = run(&svc(&seed()), true, true, &[]);
    let lb = &r.resources[0];
    assert_eq!(lb.ip_address_type, "dualstack");
    assert_eq!(lb.target_groups[0].ip_address_type, "ipv4");
    assert!(lb.target_groups[0]
        .targets
        .iter()
        .all(|t| t.ip.unwrap().is_ipv4()));
}

fn failed(r: &Reconciled<LoadBalancer>) -> String {
    let e = r
        .events
        .iter()
        .find(|e| e.reason == "FailedBuildModel" || e.reason == "FailedDeployModel")
        .expect("a failure event");
    assert_eq!(e.type_, EventType::Warning);
    e.message.clone()
}

/// §1.3: every reachable row, with the event text.
#[test]
fn build_errors() {
    let v4 = vpc(false);
    let v6 = vpc(true);
    let pub0 = v6.subnets[1].subnet_id.clone();
    let pub1 = v6.subnets[4].subnet_id.clone();
    let nodes0 = v4.subnets[0].subnet_id.clone();
    let mut sorted_pub = [pub0.clone(), pub1.clone()];
    sorted_pub.sort();
    let v4_pub: Vec<String> = {
        let mut v = vec![
            v4.subnets[1].subnet_id.clone(),
            v4.subnets[4].subnet_id.clone(),
        ];
        v.sort();
        v
    };
    let ext = |extra: &[(&'static str, &'static str)]| {
        let mut a = external();
        a.extend_from_slice(extra);
        a
    };
    let ds = |extra: &[(&'static str, &'static str)]| {
        let mut a = seed();
        a.extend_from_slice(extra);
        a
    };
    let cases: Vec<(&str, Vec<(&str, &str)>, bool, String)> = vec![
        ("1", ext(&[("aws-load-balancer-ip-address-type", "dualstack-without-public-ipv4")]), true, "unknown IPAddressType: dualstack-without-public-ipv4".into()),
        ("2", ext(&[("aws-load-balancer-scheme", "public")]), true, "unknown scheme: public".into()),
        ("2 before 1", ext(&[("aws-load-balancer-scheme", "x"), ("aws-load-balancer-ip-address-type", "y")]), true, "unknown scheme: x".into()),
        ("3", ext(&[("aws-load-balancer-ipv6-addresses", "2a05:d014:abc:f02::1")]), true, "IPv6 addresses can only be set for dualstack load balancers".into()),
        ("4", ds(&[("aws-load-balancer-ipv6-addresses", "2a05:d014:abc:f02::1")]), true, "count of IPv6 addresses (1) and subnets (2) must match".into()),
        ("5a", ds(&[("aws-load-balancer-ipv6-addresses", "x,y")]), true, "IPv6 addresses must be valid IP address: x".into()),
        ("5b", ds(&[("aws-load-balancer-ipv6-addresses", "10.0.0.1,y")]), true, "IPv6 addresses must be valid IPv6 address: 10.0.0.1".into()),
        ("6", ds(&[("aws-load-balancer-ipv6-addresses", "2001:db8::1,2001:db8::2")]), true, format!("expect one IPv6 address configured for subnet: {}", sorted_pub[0])),
        ("7", ext(&[("aws-load-balancer-eip-allocations", "eipalloc-1,eipalloc-2")]), true, "EIP allocations can only be set for internet facing load balancers".into()),
        ("8", ds(&[("aws-load-balancer-eip-allocations", "eipalloc-1")]), true, "count of EIP allocations (1) and subnets (2) must match".into()),
        ("9", ds(&[("aws-load-balancer-private-ipv4-addresses", "10.0.0.1")]), true, "private IPv4 addresses can only be set for internal load balancers".into()),
        ("10a", ext(&[("aws-load-balancer-private-ipv4-addresses", "10.0.0.1")]), true, "count of private IPv4 addresses (1) and subnets (2) must match".into()),
        ("10b", ext(&[("aws-load-balancer-private-ipv4-addresses", "a,b")]), true, "private IPv4 addresses must be valid IP address: a".into()),
        ("10c", ext(&[("aws-load-balancer-private-ipv4-addresses", "::1,b")]), true, "private IPv4 addresses must be valid IPv4 address: ::1".into()),
        ("12", ext(&[("load-balancer-source-ranges", "2001:db8::/32")]), true, "unsupported v6 cidr 2001:db8::/32 when lb is not dualstack".into()),
        ("13", ds(&[("aws-load-balancer-subnets", "rt1-nodes-z0")]), false, format!("subnets [{nodes0}] do not have an associated IPv6 CIDR block, which is required for dualstack load balancers")),
        ("14", seed(), false, "unable to resolve at least one subnet. Evaluated 2 subnets: 0 are tagged for other clusters, 0 have insufficient available IP addresses, and 2 don't have an associated IPv6 CIDR block, which is required for dualstack load balancers".into()),
        ("16 AZ", ext(&[("aws-load-balancer-subnets", "rt1-nodes-z0,rt1-private-utility-z0")]), false, format!("multiple subnets in same Availability Zone eu-central-1a: [{} {}]", v4.subnets[0].subnet_id, v4.subnets[2].subnet_id)),
        ("16 name", ext(&[("aws-load-balancer-subnets", "nope")]), false, "failed to list subnets by names or IDs: couldn't find all subnets, missing names: [nope]".into()),
        ("16 empty", ext(&[("aws-load-balancer-subnets", " , ")]), false, "unable to resolve at least one subnet".into()),
        ("17", ds(&[("aws-load-balancer-enable-prefix-for-ipv6-source-nat", "yes")]), true, "Invalid enable-prefix-for-ipv6-source-nat value: yes. Valid values are ['on', 'off'].".into()),
        ("18", ext(&[("aws-load-balancer-enable-prefix-for-ipv6-source-nat", "on")]), true, "enable-prefix-for-ipv6-source-nat annotation is only applicable to Network Load Balancers using Dualstack IP address type.".into()),
        ("20", ext(&[("aws-load-balancer-source-nat-ipv6-prefixes", "auto_assigned")]), true, "source-nat-ipv6-prefixes annotation can only be set for Network Load Balancers using Dualstack IP address type.".into()),
        ("21", ds(&[("aws-load-balancer-source-nat-ipv6-prefixes", "auto_assigned")]), true, "source-nat-ipv6-prefixes annotation is only applicable if enable-prefix-for-ipv6-source-nat annotation is set to on.".into()),
        ("22 count", ds(&[("aws-load-balancer-enable-prefix-for-ipv6-source-nat", "on"), ("aws-load-balancer-source-nat-ipv6-prefixes", "auto_assigned")]), true, "Number of values in source-nat-ipv6-prefixes (1) must match the number of subnets (2).".into()),
        ("22 len", ds(&[("aws-load-balancer-enable-prefix-for-ipv6-source-nat", "on"), ("aws-load-balancer-source-nat-ipv6-prefixes", "2001:db8::/64,auto_assigned")]), true, "Invalid value in source-nat-ipv6-prefixes: 2001:db8::/64. Prefix length must be 80, but 64 is specified.".into()),
        ("22 form", ds(&[("aws-load-balancer-enable-prefix-for-ipv6-source-nat", "on"), ("aws-load-balancer-source-nat-ipv6-prefixes", "x,auto_assigned")]), true, "Invalid value in source-nat-ipv6-prefixes: x.".into()),
        ("22 v6", ds(&[("aws-load-balancer-enable-prefix-for-ipv6-source-nat", "on"), ("aws-load-balancer-source-nat-ipv6-prefixes", "10.0.0.0/80,auto_assigned")]), true, "Invalid value in source-nat-ipv6-prefixes: 10.0.0.0/80. Value must be a valid IPv6 CIDR.".into()),
        ("27", ext(&[("aws-load-balancer-proxy-protocol", "true")]), true, "invalid value true for Load Balancer proxy protocol v2 annotation, only value currently supported is *".into()),
        ("28", ext(&[("aws-load-balancer-healthcheck-protocol", "udp")]), true, "unsupported health check protocol udp".into()),
        ("30", ext(&[("aws-load-balancer-name", "a-name-that-is-longer-than-32-chars")]), true, "load balancer name cannot be longer than 32 characters".into()),
        ("int", ext(&[("aws-load-balancer-healthcheck-interval", "ten")]), true, "failed to parse int32 annotation, service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval: ten: strconv.ParseInt: parsing \"ten\": invalid syntax".into()),
        ("bool", ext(&[("aws-load-balancer-internal", "yes")]), true, "failed to parse bool annotation, service.beta.kubernetes.io/aws-load-balancer-internal: yes: strconv.ParseBool: parsing \"yes\": invalid syntax".into()),
    ];
    let _ = v4_pub;
    for (row, ann, v6net, want) in cases {
        let r = run(&svc(&ann), v6net, true, &[]);
        assert_eq!(
            failed(&r),
            format!("Failed build model due to {want}"),
            "row {row}"
        );
        assert!(
            !r.add_finalizers
                .contains(&"service.k8s.aws/resources".to_string()),
            "row {row}"
        );
        assert!(r.resources.is_empty(), "row {row}");
    }
}

#[test]
fn build_errors_from_spec() {
    // Row 11: IPv6 in ipFamilies on an ipv4 LB.
    let mut s = svc(&external());
    s.spec.as_mut().unwrap().ip_families = Some(vec!["IPv4".into(), "IPv6".into()]);
    assert_eq!(
        failed(&run(&s, true, true, &[])),
        "Failed build model due to unsupported IPv6 configuration, lb not dual-stack"
    );
    // Row 24: instance targets on a ClusterIP Service (class-selected).
    let mut s = svc(&[]);
    s.spec.as_mut().unwrap().type_ = Some("ClusterIP".into());
    s.spec.as_mut().unwrap().load_balancer_class = Some("service.k8s.aws/nlb".into());
    assert_eq!(failed(&run(&s, true, true, &[])), "Failed build model due to unsupported service type \"ClusterIP\" for load balancer target type \"instance\"");
    // Row 25: no NodePort allocated.
    let mut s = svc(&external());
    s.spec.as_mut().unwrap().allocate_load_balancer_node_ports = Some(false);
    s.spec.as_mut().unwrap().ports.as_mut().unwrap()[0].node_port = None;
    assert_eq!(failed(&run(&s, true, true, &[])), "Failed build model due to unable to support instance target type with an unallocated NodePort");
    // Row 26: instance target, NodePort 0.
    let mut s = svc(&external());
    s.spec.as_mut().unwrap().ports.as_mut().unwrap()[0].node_port = None;
    assert_eq!(failed(&run(&s, true, true, &[])), "Failed build model due to TargetGroup port is empty. When using Instance targets, your service be must of type 'NodePort' or 'LoadBalancer'");
    // Row 26 (ip): targetPort 0.
    let mut s = svc(&[("aws-load-balancer-type", "nlb-ip")]);
    s.spec.as_mut().unwrap().ports.as_mut().unwrap()[0].target_port = Some(IntOrString::Int(0));
    assert_eq!(failed(&run(&s, true, true, &[])), "Failed build model due to TargetGroup port is empty. Are you using the correct service type?");
    // Row 29: named health-check port, ip targets, named targetPort.
    let mut s = svc(&[
        ("aws-load-balancer-type", "nlb-ip"),
        ("aws-load-balancer-healthcheck-port", "http"),
    ]);
    s.spec.as_mut().unwrap().ports.as_mut().unwrap()[0].target_port =
        Some(IntOrString::String("web".into()));
    assert_eq!(failed(&run(&s, true, true, &[])), "Failed build model due to cannot use named healthCheckPort for IP TargetType when service's targetPort is a named port");
    // Row 12 wins over row 3 (security groups precede subnet mappings).
    let mut a = external();
    a.push(("aws-load-balancer-ipv6-addresses", "::1"));
    let mut s = svc(&a);
    s.spec.as_mut().unwrap().load_balancer_source_ranges = Some(vec!["::/0".into()]);
    assert_eq!(
        failed(&run(&s, true, true, &[])),
        "Failed build model due to unsupported v6 cidr ::/0 when lb is not dualstack"
    );
}

#[test]
fn udp_on_dualstack_without_source_nat_fails_deploy() {
    let mut s = svc(&seed());
    s.spec.as_mut().unwrap().ports.as_mut().unwrap()[0].protocol = Some("UDP".into());
    let r = run(&s, true, true, &[]);
    let m = failed(&r);
    assert!(
        m.starts_with(
            "Failed deploy model due to operation error Elastic Load Balancing v2: CreateListener"
        ),
        "{m}"
    );
    assert!(m.contains("api error ValidationError: "), "{m}");
    assert_eq!(r.ingress, None);
    let mut a = seed();
    a.push(("aws-load-balancer-enable-prefix-for-ipv6-source-nat", "on"));
    let mut s = svc(&a);
    s.spec.as_mut().unwrap().ports.as_mut().unwrap()[0].protocol = Some("UDP".into());
    let r = run(&s, true, true, &[]);
    assert_eq!(r.events.last().unwrap().reason, "SuccessfullyReconciled");
    assert!(r.resources[0].availability_zones.iter().all(|z| z
        .source_nat_ipv6_prefix
        .as_deref()
        .is_some_and(|p| p.ends_with("/80"))));
}

#[test]
fn lbc_defaults() {
    // Scheme defaults to internal; ip targets keep preserve_client_ip off.
    let r = run(
        &svc(&[("aws-load-balancer-type", "nlb-ip")]),
        false,
        true,
        &[],
    );
    let lb = &r.resources[0];
    assert_eq!(lb.scheme, "internal");
    assert!(lb
        .availability_zones
        .iter()
        .all(|z| z.ipv4_address.is_none()));
    let tg = &lb.target_groups[0];
    assert_eq!(tg.target_type, "ip");
    assert_eq!(tg.attributes["preserve_client_ip.enabled"], "false");
    assert_eq!(tg.health_check.protocol, "TCP");
    assert_eq!(tg.health_check.port, "traffic-port");
    assert_eq!(
        (
            tg.health_check.interval_seconds,
            tg.health_check.timeout_seconds
        ),
        (10, 10)
    );
    assert_eq!(
        (
            tg.health_check.healthy_threshold_count,
            tg.health_check.unhealthy_threshold_count
        ),
        (3, 3)
    );
    // The existing LB's scheme is kept when the annotation is absent.
    let mut a = external();
    a.push(("aws-load-balancer-scheme", "internet-facing"));
    let first = run(&svc(&a), false, true, &[]);
    let s = with_finalizers(svc(&external()), &first);
    let again = run(&s, false, true, &first.resources);
    assert_eq!(again.resources[0].scheme, "internet-facing");
    assert_eq!(again.resources, first.resources);
    // ETP Local instance defaults.
    let mut s = svc(&external());
    s.spec.as_mut().unwrap().external_traffic_policy = Some("Local".into());
    s.spec.as_mut().unwrap().health_check_node_port = Some(32000);
    let v = vpc(false);
    let i = instances(false);
    let ep = Endpoint {
        ip: "100.64.0.5".parse().unwrap(),
        ready: true,
        zone: Some("eu-central-1a".into()),
        ports: vec![("http".into(), 8080)],
        node_name: Some("node-0".into()),
    };
    let r = reconcile(&s, &cluster(&v, &i, true), &[], &[ep]);
    let tg = &r.resources[0].target_groups[0];
    assert_eq!(tg.health_check.protocol, "HTTP");
    assert_eq!(tg.health_check.port, "32000");
    assert_eq!(tg.health_check.path.as_deref(), Some("/healthz"));
    assert_eq!(tg.health_check.matcher.as_deref(), Some("200-399"));
    assert_eq!(
        (
            tg.health_check.interval_seconds,
            tg.health_check.timeout_seconds
        ),
        (10, 6)
    );
    assert_eq!(
        (
            tg.health_check.healthy_threshold_count,
            tg.health_check.unhealthy_threshold_count
        ),
        (2, 2)
    );
    let states: Vec<_> = tg.targets.iter().map(|t| t.state.as_str()).collect();
    assert_eq!(states, ["healthy", "unhealthy"]);
    // Proxy protocol.
    let mut a = external();
    a.push(("aws-load-balancer-proxy-protocol", "*"));
    let r = run(&svc(&a), false, true, &[]);
    assert_eq!(
        r.resources[0].target_groups[0].attributes["proxy_protocol_v2.enabled"],
        "true"
    );
}

#[test]
fn lbc_cleanup_on_type_change() {
    let first = run(&svc(&external()), false, true, &[]);
    let mut s = with_finalizers(svc(&external()), &first);
    s.metadata
        .annotations
        .as_mut()
        .unwrap()
        .remove(&format!("{A}aws-load-balancer-nlb-target-type"));
    let r = run(&s, false, true, &first.resources);
    assert!(r.resources.is_empty());
    assert!(r
        .remove_finalizers
        .contains(&"service.k8s.aws/resources".to_string()));
    assert_eq!(r.ingress, Some(vec![]));
}

#[test]
fn leak_when_moving_to_the_lbc() {
    let clb = run(&svc(&[]), true, true, &[]);
    let s = with_finalizers(svc(&seed()), &clb);
    let r = run(&s, true, true, &clb.resources);
    let name = clb.resources[0].load_balancer_name.clone();
    assert_eq!(r.leaked, vec![name.clone()]);
    let leaked = r
        .resources
        .iter()
        .find(|l| l.load_balancer_name == name)
        .unwrap();
    assert!(leaked.leaked);
    let ev = r
        .events
        .iter()
        .find(|e| e.reason == "LoadBalancerLeaked")
        .unwrap();
    assert_eq!((ev.type_, ev.component), (EventType::Warning, "twinstack"));
    assert!(
        ev.message.contains(&name)
            && ev.message.contains(&leaked.dns_name)
            && ev.message.contains("by hand")
    );
    assert!(r
        .resources
        .iter()
        .any(|l| l.controller == Controller::AwsLoadBalancerController));
    // Later passes: still leaked, no new leak event.
    let s2 = with_finalizers(s, &r);
    let r2 = run(&s2, true, true, &r.resources);
    assert_eq!(r2.leaked, vec![name]);
    assert!(r2.events.iter().all(|e| e.reason != "LoadBalancerLeaked"));
    assert_eq!(r2.resources, r.resources);
}

#[test]
fn explicit_subnets_by_name_and_addresses() {
    let v = vpc(true);
    let mut a = seed();
    a.push(("aws-load-balancer-subnets", "rt1-public-utility-z1"));
    let r = run(&svc(&a), true, true, &[]);
    let lb = &r.resources[0];
    assert_eq!(lb.availability_zones.len(), 1);
    let z = &lb.availability_zones[0];
    assert_eq!(z.subnet_id, v.subnets[4].subnet_id);
    assert!(v.subnets[4].cidr_block.contains(&z.private_ipv4_address));
    assert!(v.subnets[4]
        .ipv6_cidr_block
        .unwrap()
        .contains(&z.ipv6_address.unwrap()));
    let pubv4 = z.ipv4_address.unwrap().octets();
    assert!(matches!(
        pubv4[..3],
        [192, 0, 2] | [198, 51, 100] | [203, 0, 113]
    ));
}

proptest! {
    #[test]
    fn never_panics(vals in proptest::collection::vec("[ -~]{0,24}", 24), fam6 in any::<bool>()) {
        let keys = [
            "aws-load-balancer-type", "aws-load-balancer-nlb-target-type", "aws-load-balancer-scheme",
            "aws-load-balancer-ip-address-type", "aws-load-balancer-subnets", "aws-load-balancer-eip-allocations",
            "aws-load-balancer-private-ipv4-addresses", "aws-load-balancer-ipv6-addresses",
            "aws-load-balancer-enable-prefix-for-ipv6-source-nat", "aws-load-balancer-source-nat-ipv6-prefixes",
            "aws-load-balancer-healthcheck-protocol", "aws-load-balancer-healthcheck-port", "aws-load-balancer-healthcheck-interval",
            "aws-load-balancer-target-group-attributes", "aws-load-balancer-proxy-protocol", "aws-load-balancer-name",
            "aws-load-balancer-internal", "load-balancer-source-ranges", "aws-load-balancer-attributes",
            "aws-load-balancer-target-node-labels", "aws-load-balancer-proxy-protocol-per-target-group",
            "aws-load-balancer-healthcheck-timeout", "aws-load-balancer-disable-nlb-sg", "aws-load-balancer-additional-resource-tags",
        ];
        let ann: Vec<(&str, &str)> = keys.iter().zip(vals.iter()).map(|(k, v)| (*k, v.as_str())).collect();
        let mut s = svc(&ann);
        if fam6 { s.spec.as_mut().unwrap().ip_families = Some(vec!["IPv6".into()]); }
        let _ = run(&s, fam6, true, &[]);
        let mut s2 = svc(&[("aws-load-balancer-type", "external"), ("aws-load-balancer-nlb-target-type", "instance")]);
        s2.metadata.annotations.as_mut().unwrap().extend(ann.iter().skip(2).map(|(k, v)| (format!("{A}{k}"), v.to_string())));
        let _ = run(&s2, !fam6, true, &[]);
    }
}

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// §1.3 row 14b: an IPv4 NLB whose role-tagged subnets all belong to another cluster.
#[test]
fn row_14b_no_subnet_of_this_cluster() {
    let mut v = vpc(false);
    for s in v.subnets.iter_mut() {
        if s.tags.contains_key("kubernetes.io/role/elb") {
            s.tags.remove("kubernetes.io/cluster/rt1");
            s.tags
                .insert("kubernetes.io/cluster/other".into(), "1".into());
        }
    }
    let i = instances(false);
    let mut ann = external();
    ann.push(("aws-load-balancer-scheme", "internet-facing"));
    let r = reconcile(&svc(&ann), &cluster(&v, &i, true), &[], &[]);
    assert_eq!(
        failed(&r),
        "Failed build model due to unable to resolve at least one subnet. Evaluated 2 subnets: 2 are tagged for other clusters, and 0 have insufficient available IP addresses"
    );
}

/// §1.3 row 22, last message: a source NAT prefix outside its subnet's IPv6 CIDR.
#[test]
fn row_22_prefix_outside_the_subnet() {
    let v = vpc(true);
    let i = instances(true);
    let mut ann = seed();
    ann.push(("aws-load-balancer-enable-prefix-for-ipv6-source-nat", "on"));
    ann.push((
        "aws-load-balancer-source-nat-ipv6-prefixes",
        "2001:db8::/80,auto_assigned",
    ));
    let r = reconcile(&svc(&ann), &cluster(&v, &i, true), &[], &[]);
    let first_public = v
        .subnets
        .iter()
        .filter(|s| s.tags.contains_key("kubernetes.io/role/elb"))
        .map(|s| s.ipv6_cidr_block.unwrap().to_string())
        .next()
        .unwrap();
    assert_eq!(
        failed(&r),
        format!("Failed build model due to Invalid value in source-nat-ipv6-prefixes: 2001:db8::/80. Value must be within subnet CIDR range: [{first_public}].")
    );
}
