//! The findings, one case per rule: a valid Service and a named tweak each.

use crate::observe::tests::{observed, runtime};
use crate::observe::*;
use crate::report::*;
use serde_json::{json, Value};
use twinstack_cloud::inventory::{Controller, LoadBalancer};

/// A LoadBalancer Service as stored after the controllers: dual-stack, with an address.
fn base() -> Value {
    json!({"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "web", "namespace": "default", "annotations": {}},
           "spec": {"type": "LoadBalancer", "ipFamilyPolicy": "RequireDualStack",
                    "ipFamilies": ["IPv4", "IPv6"], "clusterIPs": ["10.104.0.1", "fd00::1"]},
           "status": {"loadBalancer": {"ingress": [{"hostname": "k8s-default-web-x.elb.eu-central-1.amazonaws.com"}]}}})
}

fn annotate(v: &mut Value, key: &str, value: &str) {
    v["metadata"]["annotations"][key] = json!(value);
}

fn load_balancer(controller: Controller, ip_address_type: &str) -> LoadBalancer {
    serde_json::from_value(json!({
        "loadBalancerArn": "arn", "loadBalancerName": "k8s-default-web-x", "dnsName": "x",
        "canonicalHostedZoneId": "Z", "type": "network", "scheme": "internet-facing",
        "ipAddressType": ip_address_type, "vpcId": "vpc", "availabilityZones": [],
        "createdTime": "", "state": "active", "securityGroups": [], "listeners": [],
        "targetGroups": [], "attributes": {}, "tags": {}, "sourceRanges": [],
        "controller": controller, "owner": {"namespace": "default", "name": "web", "uid": "u"},
    }))
    .unwrap()
}

/// The rules of the findings for `object` (as stored, the input without annotations).
fn rules(
    object: Value,
    provider: &str,
    families: &[&str],
    events: Vec<EventReport>,
    lbs: Vec<LoadBalancer>,
    warnings: Vec<String>,
) -> Vec<(String, String)> {
    let mut input = object.clone();
    input["metadata"]["annotations"] = object["metadata"]["annotations"].clone();
    let mut o = observed(input, Applied::Accepted { object, warnings });
    o.events = events;
    o.load_balancers = lbs;
    object_report(o, &runtime(provider, families))
        .findings
        .into_iter()
        .map(|f| (f.rule, f.message))
        .collect()
}

#[test]
fn a_service_with_an_address_and_no_warnings_has_no_findings() {
    assert_eq!(
        rules(base(), "aws", &["IPv4", "IPv6"], vec![], vec![], vec![]),
        []
    );
}

#[test]
fn warning_events_are_errors_and_api_warnings_warnings() {
    let ev = EventReport {
        type_: "Warning".into(),
        reason: "FailedBuildModel".into(),
        message: "Failed build model due to unknown scheme: bogus".into(),
        source: "service".into(),
    };
    let normal = EventReport {
        type_: "Normal".into(),
        reason: "EnsuringLoadBalancer".into(),
        message: "Ensuring load balancer".into(),
        source: "service-controller".into(),
    };
    let mut o = observed(
        base(),
        Applied::Accepted {
            object: base(),
            warnings: vec!["IPv6 traffic won't be part of the mesh".into()],
        },
    );
    o.events = vec![normal, ev];
    let r = object_report(o, &runtime("aws", &["IPv4", "IPv6"]));
    assert_eq!(
        r.findings,
        [
            Finding::error(
                "event/FailedBuildModel",
                "Failed build model due to unknown scheme: bogus"
            ),
            Finding::warning("api-warning", "IPv6 traffic won't be part of the mesh"),
        ]
    );
}

#[test]
fn prefer_dual_stack_that_stayed_single() {
    let mut single = base();
    single["spec"]["ipFamilyPolicy"] = json!("PreferDualStack");
    single["spec"]["ipFamilies"] = json!(["IPv4"]);
    let got = rules(single.clone(), "aws", &["IPv4"], vec![], vec![], vec![]);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "prefer-dual-stack-single");
    assert_eq!(
        got[0].1,
        "ipFamilyPolicy PreferDualStack got only IPv4: the runtime is single-stack (IPv4)"
    );
    // The seed's AWS exception: a dualstack NLB in front of it, said so.
    let lb = load_balancer(Controller::AwsLoadBalancerController, "dualstack");
    let got = rules(single, "aws", &["IPv4"], vec![], vec![lb], vec![]);
    assert!(
        got[0].1.ends_with(
            "; its load balancer still answers IPv6 and IPv4 (dualstack, translating to IPv4)"
        ),
        "{got:?}"
    );
    // Two families: nothing to say.
    let mut dual = base();
    dual["spec"]["ipFamilyPolicy"] = json!("PreferDualStack");
    assert_eq!(
        rules(dual, "aws", &["IPv4", "IPv6"], vec![], vec![], vec![]),
        []
    );
}

#[test]
fn annotations_no_controller_reads() {
    let aws_on_gcp = {
        let mut s = base();
        annotate(
            &mut s,
            "service.beta.kubernetes.io/aws-load-balancer-type",
            "external",
        );
        s
    };
    let gcp_on_aws = {
        let mut s = base();
        annotate(&mut s, "networking.gke.io/load-balancer-type", "Internal");
        s
    };
    let on_cluster_ip = {
        let mut s = base();
        s["spec"]["type"] = json!("ClusterIP");
        annotate(
            &mut s,
            "service.beta.kubernetes.io/aws-load-balancer-scheme",
            "internet-facing",
        );
        s
    };
    let lbc_on_legacy = {
        let mut s = base();
        annotate(
            &mut s,
            "service.beta.kubernetes.io/aws-load-balancer-ip-address-type",
            "dualstack",
        );
        annotate(
            &mut s,
            "service.beta.kubernetes.io/aws-load-balancer-internal",
            "true",
        );
        s
    };
    let legacy = load_balancer(Controller::AwsCloudProvider, "ipv4");
    type Case<'a> = (&'a str, Value, &'a str, Vec<LoadBalancer>, &'a [&'a str]);
    let cases: Vec<Case> = vec![
        ("aws on gcp", aws_on_gcp.clone(), "gcp", vec![], &["annotation service.beta.kubernetes.io/aws-load-balancer-type is ignored: no AWS controller runs on a gcp runtime"]),
        ("aws on aws", aws_on_gcp, "aws", vec![], &[]),
        ("gcp on aws", gcp_on_aws, "aws", vec![], &["annotation networking.gke.io/load-balancer-type is ignored: no Google Cloud controller runs on a aws runtime"]),
        ("on a ClusterIP Service", on_cluster_ip, "aws", vec![], &["annotation service.beta.kubernetes.io/aws-load-balancer-scheme is ignored: only type LoadBalancer Services get a load balancer (this one is ClusterIP)"]),
        ("the LBC's on the legacy provider's", lbc_on_legacy, "aws", vec![legacy], &["annotation service.beta.kubernetes.io/aws-load-balancer-ip-address-type is ignored: the legacy AWS cloud provider builds this load balancer and does not read it (the AWS Load Balancer Controller does: aws-load-balancer-type: external)"]),
    ];
    for (name, svc, provider, lbs, want) in cases {
        let got: Vec<String> = rules(svc, provider, &["IPv4", "IPv6"], vec![], lbs, vec![])
            .into_iter()
            .filter(|(r, _)| r == "annotation-ignored")
            .map(|(_, m)| m)
            .collect();
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn a_load_balancer_without_address_or_reason() {
    let mut pending = base();
    pending["status"] = json!({"loadBalancer": {}});
    let got = rules(pending.clone(), "azure", &["IPv4"], vec![], vec![], vec![]);
    assert_eq!(
        got,
        [("load-balancer-pending".to_string(), "status.loadBalancer stays empty: twinstack runs no load balancer controller for azure runtimes".to_string())]
    );
    // A Warning event already says why: no second finding.
    let ev = EventReport {
        type_: "Warning".into(),
        reason: "FailedBuildModel".into(),
        message: "m".into(),
        source: "service".into(),
    };
    let got = rules(pending, "aws", &["IPv4"], vec![ev], vec![], vec![]);
    assert_eq!(got.len(), 1, "{got:?}");
}
