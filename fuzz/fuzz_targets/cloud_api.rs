//! The cloud APIs never panic on what a client sends: the AWS Query form body and the ELBv2 and
//! EC2 actions it names, Signature Version 4 verification of any headers, path and query, and
//! the Compute Engine router for any method, path and query.
//!
//! Input: one selector byte (0: AWS Query body for ELBv2, 1: for EC2, 2: SigV4, 3: Compute
//! Engine), then the rest. For SigV4 the rest is `METHOD PATH?QUERY\n` followed by header lines
//! `name: value` up to an empty line, then the body. For Compute Engine it is
//! `METHOD PATH?QUERY`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use twinstack_cloud::api::{aws, form, gcp, sigv4};
use twinstack_cloud::inventory::{LoadBalancer, Network, Vpc};

/// A dual-stack AWS VPC with the seed's NLB in it, and a dual-stack GCP network.
fn world() -> &'static (Vpc, Vec<LoadBalancer>, Network) {
    static W: OnceLock<(Vpc, Vec<LoadBalancer>, Network)> = OnceLock::new();
    W.get_or_init(|| {
        let zones: Vec<String> = ["eu-central-1a", "eu-central-1b"].map(String::from).to_vec();
        let vpc = twinstack_cloud::aws::vpc::emulated(
            "fuzz",
            "eu-central-1",
            "10.250.0.0/16".parse().unwrap(),
            &zones,
            Some("2a05:d014:abc:f00::/56".parse().unwrap()),
        );
        let svc: k8s_openapi::api::core::v1::Service = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "6f1c2a8e-0000-4000-8000-000000000001",
                "annotations": {
                    "service.beta.kubernetes.io/aws-load-balancer-ip-address-type": "dualstack",
                    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
                    "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "instance",
                    "service.beta.kubernetes.io/aws-load-balancer-type": "external"}},
            "spec": {"type": "LoadBalancer", "ipFamilies": ["IPv6", "IPv4"],
                "ipFamilyPolicy": "RequireDualStack",
                "ports": [{"port": 80, "protocol": "TCP", "nodePort": 30080}]}
        }))
        .unwrap();
        let cluster = twinstack_cloud::aws::Cluster {
            name: "fuzz",
            region: "eu-central-1",
            account_id: "123456789012",
            vpc: &vpc,
            instances: &[],
            load_balancer_controller: true,
            now: "2026-01-01T00:00:00Z",
        };
        let lbs = twinstack_cloud::aws::reconcile(&svc, &cluster, &[], &[]).resources;
        let network = twinstack_cloud::gcp::network::emulated(
            "fuzz",
            "europe-west3",
            "10.250.0.0/16".parse().unwrap(),
            Some("100.64.0.0/12".parse().unwrap()),
            Some("2600:1900:4000:1::/64".parse().unwrap()),
            Some("2600:1900:4000:2::/64".parse().unwrap()),
        );
        (vpc, lbs, network)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((sel, rest)) = data.split_first() else {
        return;
    };
    let (vpc, lbs, network) = world();
    match sel % 4 {
        s @ (0 | 1) => {
            let params = form::parse(rest);
            let view = aws::AwsView {
                vpc,
                load_balancers: lbs,
                region: "eu-central-1",
                account_id: "123456789012",
            };
            let service = if s == 0 { aws::AwsService::Elbv2 } else { aws::AwsService::Ec2 };
            let (status, body) = aws::handle(service, &params, &view, "req");
            assert!((200..600).contains(&status));
            assert!(body.starts_with("<?xml") || body.starts_with('<'), "{body}");
        }
        2 => {
            let text = String::from_utf8_lossy(rest);
            let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
            let mut lines = head.lines();
            let first = lines.next().unwrap_or_default();
            let (method, target) = first.split_once(' ').unwrap_or((first, "/"));
            let (path, query) = target.split_once('?').unwrap_or((target, ""));
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect();
            let req = sigv4::Request { method, path, query, headers: &headers, body: body.as_bytes() };
            // Whatever is sent, a signature made without the secret never verifies.
            let r = sigv4::verify(&req, |_| Some("secret".into()), 1_767_225_600);
            if let Ok(v) = r {
                assert!(!v.access_key_id.is_empty());
            }
        }
        _ => {
            let text = String::from_utf8_lossy(rest);
            let (method, target) = text.split_once(' ').unwrap_or(("GET", &text));
            let (path, query) = target.split_once('?').unwrap_or((target, ""));
            let query = form::parse(query.as_bytes());
            let view = gcp::GcpView { network, forwarding_rules: &[], addresses: &[], region: "europe-west3" };
            let (status, body) = gcp::handle(method, path, &query, &view, "fuzz");
            assert!((200..600).contains(&status));
            assert!(body.is_object(), "{body}");
        }
    }
});
