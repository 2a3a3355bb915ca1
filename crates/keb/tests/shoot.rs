mod common;
use common::*;
use ipnet::{IpNet, Ipv6Net};
use serde_json::json;
use twinstack_core::ipam::Family;
use twinstack_core::runtime::{resolve_network, NetworkRequest, Provider};
use twinstack_keb::shoot::{aws_zone_layout, provisioning_info_details, to_yaml};
use twinstack_keb::{
    kube_dns_service, provisioning_info_configmap, shoot_networking, ProvisioningInfo,
};

fn v6(n: &IpNet) -> Ipv6Net {
    match n {
        IpNet::V6(x) => *x,
        _ => panic!("not IPv6: {n}"),
    }
}

#[test]
fn aws_dual_stack_shoot() {
    let plan = ok(
        AWS,
        with_networking(AWS, json!({"nodes": "10.250.0.0/20", "dualStack": true})),
    );
    let s = shoot_networking(&plan, "rt-a");
    assert_eq!(
        s.spec_json(),
        json!({"type": "calico", "nodes": "10.250.0.0/20", "pods": "10.96.0.0/13", "services": "10.104.0.0/13",
               "ipFamilies": ["IPv4", "IPv6"],
               "providerConfig": {"apiVersion": "calico.networking.extensions.gardener.cloud/v1alpha1", "kind": "NetworkConfig", "overlay": {"enabled": false}}})
    );
    assert_eq!(s.status.nodes.len(), 2);
    assert_eq!(s.status.nodes[0].to_string(), "10.250.0.0/20");
    let vpc = v6(&s.status.nodes[1]);
    assert_eq!(vpc.prefix_len(), 56);
    assert_eq!(v6(&s.status.pods[1]), vpc);
    let svc = v6(&s.status.services[1]);
    assert_eq!(svc.prefix_len(), 108);
    assert_eq!(s.ipv6_zone_subnets.len(), 3);
    for z in &s.ipv6_zone_subnets {
        assert_eq!(z.prefix_len(), 64);
        assert!(vpc.contains(z));
    }
    assert!(
        s.ipv6_zone_subnets[0].contains(&svc),
        "services /108 = cidrSubnet(first subnet, 108, 1)"
    );
    let n0 = s.node_ipv6(0, 0).unwrap();
    let n1 = s.node_ipv6(1, 7).unwrap();
    assert_eq!(n0.pods.prefix_len(), 80);
    assert!(s.ipv6_zone_subnets[0].contains(&n0.pods) && s.ipv6_zone_subnets[1].contains(&n1.pods));
    assert!(!n0.pods.contains(&svc.network()) && !svc.contains(&n0.pods.network()));
    assert!(s.ipv6_zone_subnets[0].contains(&n0.node_address) && !svc.contains(&n0.node_address));
    assert!(
        s.aws_infrastructure_dual_stack
            && s.aws_load_balancer_controller
            && !s.aws_ipv4_runtime_dual_stack_nlb
    );
    assert_eq!(s.aws_zones.len(), 3);
    assert_eq!(s.aws_zones[0].ipv6, Some(s.ipv6_zone_subnets[0]));
    // Two runtimes never share IPv6 ranges.
    let t = shoot_networking(&plan, "rt-b");
    let vpc_b = v6(&t.status.nodes[1]);
    assert!(!vpc.contains(&vpc_b.network()) && !vpc_b.contains(&vpc.network()));
    // Same runtime, same answer.
    assert_eq!(shoot_networking(&plan, "rt-a"), s);
    // Core's shape, and core agrees with the default layout.
    let net = s.to_network();
    let core = resolve_network(
        Provider::Aws,
        "eu-central-1",
        "rt-a",
        3,
        &NetworkRequest {
            families: Some("IPv4,IPv6"),
            nodes: Some(&format!("10.250.0.0/20,{vpc}")),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(net, core);
}

#[test]
fn gcp_dual_stack_shoot() {
    let plan = ok(
        GCP,
        with_networking(GCP, json!({"nodes": "10.250.0.0/20", "dualStack": true})),
    );
    let s = shoot_networking(&plan, "g1");
    assert_eq!(s.spec.ip_families, Some(vec![Family::IPv4, Family::IPv6]));
    let node = v6(&s.status.nodes[1]);
    assert_eq!(node.prefix_len(), 64);
    assert_eq!(v6(&s.status.pods[1]), node);
    let svc = v6(&s.status.services[1]);
    assert_eq!(svc.prefix_len(), 108);
    assert!(
        !node.contains(&svc.network()),
        "services live in a separate subnet"
    );
    let n = s.node_ipv6(0, 3).unwrap();
    assert_eq!((n.node_range.prefix_len(), n.pods.prefix_len()), (96, 112));
    assert!(node.contains(&n.node_range) && n.node_range.contains(&n.pods));
    assert!(!s.aws_ipv4_runtime_dual_stack_nlb && !s.aws_infrastructure_dual_stack);
    let other = shoot_networking(&plan, "g2");
    let node2 = v6(&other.status.nodes[1]);
    assert!(!node.contains(&node2.network()) && !node2.contains(&node.network()));
    let core = resolve_network(
        Provider::Gcp,
        "europe-west3",
        "g1",
        3,
        &NetworkRequest {
            families: Some("IPv4,IPv6"),
            nodes: Some(&format!("10.250.0.0/20,{node}")),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(s.to_network(), core);
}

#[test]
fn single_stack_shoots_and_the_aws_exception() {
    for plan_id in [AWS, GCP] {
        let plan = ok(plan_id, json!({"name": "x", "region": region_of(plan_id)}));
        let s = shoot_networking(&plan, "one");
        assert_eq!(
            s.spec_json(),
            json!({"type": "calico", "nodes": "10.250.0.0/16", "pods": "10.96.0.0/13", "services": "10.104.0.0/13"})
        );
        assert_eq!(
            s.status_json(),
            json!({"nodes": ["10.250.0.0/16"], "pods": ["10.96.0.0/13"], "services": ["10.104.0.0/13"]})
        );
        assert!(s.node_ipv6(0, 0).is_none());
        assert_eq!(s.aws_ipv4_runtime_dual_stack_nlb, plan_id == AWS);
        assert_eq!(plan.aws_ipv6_ingress_exception(), plan_id == AWS);
    }
    // IPv6-primary and IPv6-only (twinstack object).
    let p = ok(
        AWS,
        json!({"name": "x", "region": "eu-central-1", "twinstack": {"ipFamilies": ["IPv6", "IPv4"]}}),
    );
    let s = shoot_networking(&p, "v6first");
    assert!(matches!(s.spec.services, IpNet::V6(_)));
    assert_eq!(s.status.services[1].to_string(), "10.104.0.0/13");
    let p = ok(
        AWS,
        json!({"name": "x", "region": "eu-central-1", "twinstack": {"ipFamilies": ["IPv6"]}}),
    );
    let s = shoot_networking(&p, "v6only");
    assert_eq!(s.status.nodes.len(), 1);
    assert!(s.aws_zones.is_empty());
    assert_eq!(s.spec.ip_families, Some(vec![Family::IPv6]));
    // Explicit IPv6 ranges are used as given.
    let p = ok(
        AWS,
        json!({"name": "x", "region": "eu-central-1", "twinstack": {"ipFamilies": ["IPv4", "IPv6"], "ipv6": {"nodes": "2600:1f18:aa:100::/56"}}}),
    );
    let s = shoot_networking(&p, "explicit");
    assert_eq!(s.status.nodes[1].to_string(), "2600:1f18:aa:100::/56");
    assert_eq!(
        s.status.services[1].to_string(),
        "2600:1f18:aa:100::10:0/108"
    );
}

#[test]
fn kim_zone_layout() {
    let z = aws_zone_layout("10.250.0.0/16".parse().unwrap(), &["a".into(), "b".into()]);
    assert_eq!(
        (
            z[0].workers.to_string(),
            z[0].public.to_string(),
            z[0].internal.to_string()
        ),
        (
            "10.250.0.0/19".into(),
            "10.250.32.0/20".into(),
            "10.250.48.0/20".into()
        )
    );
    assert_eq!(z[1].workers.to_string(), "10.250.64.0/19");
}

#[test]
fn provisioning_info_matches_kim() {
    let mut plan = ok(AWS, with_networking(AWS, json!({"nodes": "10.250.0.0/22"})));
    plan.zones = vec!["europe-west1-d".into()];
    plan.machine_type = Some("m5.xlarge".into());
    plan.auto_scaler_min = Some(1);
    plan.auto_scaler_max = Some(1);
    let s = shoot_networking(&plan, "kim");
    let info = ProvisioningInfo {
        global_account_id: "global-account-id".into(),
        subaccount_id: "subaccount-id".into(),
        instance_id: "instance-id".into(),
        instance_name: "kyma-name".into(),
    };
    // KIM's test (fsm sFnConfigureSKR), with Kyma's worker pool name.
    let want = "environmentInstanceID: instance-id\nglobalAccountID: global-account-id\ninfrastructureConfig:\n  apiVersion: aws.provider.extensions.gardener.cloud/v1alpha1\n  kind: InfrastructureConfig\n  networks:\n    vpc:\n      cidr: 10.250.0.0/22\n    zones:\n    - internal: 10.250.0.192/26\n      name: europe-west1-d\n      public: 10.250.0.128/26\n      workers: 10.250.0.0/25\ninstanceName: kyma-name\nnetworkDetails:\n  dualStackIPEnabled: false\nsubaccountID: subaccount-id\nworkerPools:\n  kyma:\n    autoScalerMax: 1\n    autoScalerMin: 1\n    haZones: false\n    machineType: m5.xlarge\n    name: cpu-worker-0\n";
    assert_eq!(to_yaml(&provisioning_info_details(&plan, &s, &info)), want);
    let cm = provisioning_info_configmap(&plan, &s, &info);
    assert_eq!(cm["metadata"]["namespace"], "kyma-system");
    assert_eq!(cm["metadata"]["name"], "kyma-provisioning-info");
    assert_eq!(
        cm["metadata"]["labels"]["reconciler.kyma-project.io/managed-by"],
        "infrastructure-manager"
    );
    assert_eq!(cm["data"]["details"], want);

    let ds = ok(
        GCP,
        with_networking(GCP, json!({"nodes": "10.250.0.0/20", "dualStack": true})),
    );
    let cm = provisioning_info_configmap(
        &ds,
        &shoot_networking(&ds, "g"),
        &ProvisioningInfo::default(),
    );
    let details = cm["data"]["details"].as_str().unwrap();
    assert!(
        details.contains("networkDetails:\n  dualStackIPEnabled: true\n"),
        "{details}"
    );
    assert!(details.contains("  apiVersion: gcp.provider.extensions.gardener.cloud/v1alpha1\n"));
    let aws_ds = ok(
        AWS,
        with_networking(AWS, json!({"nodes": "10.250.0.0/20", "dualStack": true})),
    );
    let d = provisioning_info_configmap(
        &aws_ds,
        &shoot_networking(&aws_ds, "a"),
        &ProvisioningInfo::default(),
    );
    assert!(d["data"]["details"]
        .as_str()
        .unwrap()
        .contains("  dualStack:\n    enabled: true\n"));
}

#[test]
fn kube_dns_follows_families() {
    let ds = ok(
        AWS,
        with_networking(AWS, json!({"nodes": "10.250.0.0/20", "dualStack": true})),
    );
    let s = shoot_networking(&ds, "dns");
    let svc = kube_dns_service(&s);
    assert_eq!(
        svc["metadata"],
        json!({"name": "kube-dns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"}})
    );
    assert_eq!(svc["spec"]["ipFamilies"], json!(["IPv4", "IPv6"]));
    assert_eq!(svc["spec"]["ipFamilyPolicy"], "PreferDualStack");
    assert_eq!(svc["spec"]["clusterIP"], "10.104.0.10");
    let v6ip: std::net::Ipv6Addr = svc["spec"]["clusterIPs"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(v6(&s.status.services[1]).contains(&v6ip));
    let v4 = ok(GCP, json!({"name": "x", "region": "europe-west3"}));
    let svc = kube_dns_service(&shoot_networking(&v4, "dns"));
    assert_eq!(svc["spec"]["ipFamilies"], json!(["IPv4"]));
    assert_eq!(svc["spec"]["clusterIPs"], json!(["10.104.0.10"]));
    assert_eq!(svc["spec"]["ipFamilyPolicy"], "SingleStack");
}
