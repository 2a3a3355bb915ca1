//! The report built from observations: outcomes, the Service and load balancer sections, and
//! the exit code per `--fail-on`.

use super::*;
use crate::manifest::Origin;
use serde_json::json;

pub fn runtime(provider: &str, families: &[&str]) -> RuntimeReport {
    RuntimeReport {
        name: "check".into(),
        plan: provider.into(),
        provider: provider.into(),
        region: "eu-central-1".into(),
        families: families.iter().map(|f| f.to_string()).collect(),
    }
}

pub fn observed(input: Value, result: Applied) -> Observed {
    Observed {
        origin: Origin {
            file: "app.yaml".into(),
            line: 3,
        },
        input,
        result,
        events: vec![],
        load_balancers: vec![],
        forwarding_rules: vec![],
        pod_ips: vec![],
    }
}

fn service_input() -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
           "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}})
}

fn stored_service() -> Value {
    json!({"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "web", "namespace": "default",
                        "annotations": {"cloud.google.com/l4-rbs": "enabled"}},
           "spec": {"type": "LoadBalancer", "ipFamilyPolicy": "RequireDualStack",
                    "ipFamilies": ["IPv6", "IPv4"], "clusterIPs": ["fd00::1", "10.104.0.1"]},
           "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1", "ipMode": "VIP"}]}}})
}

#[test]
fn an_accepted_service_reports_families_addresses_and_what_the_twin_added() {
    let o = observed(
        service_input(),
        Applied::Accepted {
            object: stored_service(),
            warnings: vec![],
        },
    );
    let r = object_report(o, &runtime("gcp", &["IPv4", "IPv6"]));
    assert_eq!(r.outcome, Outcome::Accepted);
    assert_eq!(r.namespace.as_deref(), Some("default"));
    let svc = r.service.as_ref().unwrap();
    assert_eq!(svc.ip_families, ["IPv6", "IPv4"]);
    assert_eq!(svc.cluster_ips, ["fd00::1", "10.104.0.1"]);
    assert_eq!(
        svc.annotations_added
            .get("cloud.google.com/l4-rbs")
            .map(String::as_str),
        Some("enabled")
    );
    let lb = r.load_balancer.as_ref().unwrap();
    assert_eq!(lb.ingress.len(), 1);
    assert!(r.findings.is_empty(), "{:?}", r.findings);
}

#[test]
fn a_refusal_is_an_error_with_the_api_servers_message() {
    let refusal = Refusal {
        code: 422,
        reason: "Invalid".into(),
        message: "Service \"web\" is invalid: spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services".into(),
    };
    let r = object_report(
        observed(service_input(), Applied::Refused(refusal.clone())),
        &runtime("aws", &["IPv4"]),
    );
    assert_eq!(r.outcome, Outcome::Refused);
    assert_eq!(
        r.findings,
        [Finding::error("refused", refusal.message.clone())]
    );
    assert_eq!(r.refusal, Some(refusal));
}

#[test]
fn exit_codes_follow_fail_on() {
    let rt = runtime("aws", &["IPv4"]);
    let ok = object_report(
        observed(
            service_input(),
            Applied::Accepted {
                object: stored_service(),
                warnings: vec![],
            },
        ),
        &rt,
    );
    let warned = object_report(
        observed(
            service_input(),
            Applied::Accepted {
                object: stored_service(),
                warnings: vec!["careful".into()],
            },
        ),
        &rt,
    );
    let refused = object_report(
        observed(
            service_input(),
            Applied::Refused(Refusal {
                code: 422,
                reason: "Invalid".into(),
                message: "no".into(),
            }),
        ),
        &rt,
    );
    let cases = [
        (vec![ok.clone()], true, [0, 0, 0]),
        (vec![ok.clone(), warned.clone()], true, [0, 1, 0]),
        (vec![ok.clone(), refused.clone()], true, [1, 1, 0]),
        // Not settled: a warning-level failure only.
        (vec![ok.clone()], false, [0, 1, 0]),
    ];
    for (objs, converged, [error, warning, never]) in cases {
        let r = Report::new(rt.clone(), converged, objs);
        assert_eq!(exit_code(&r, FailOn::Error), error);
        assert_eq!(exit_code(&r, FailOn::Warning), warning);
        assert_eq!(exit_code(&r, FailOn::Never), never);
    }
    let r = Report::new(rt, true, vec![ok, warned, refused]);
    assert_eq!(
        (
            r.summary.accepted,
            r.summary.refused,
            r.summary.errors,
            r.summary.warnings
        ),
        (2, 1, 1, 1)
    );
}

#[test]
fn fail_on_parses_its_three_words() {
    assert_eq!(FailOn::parse("error"), Ok(FailOn::Error));
    assert_eq!(FailOn::parse("warning"), Ok(FailOn::Warning));
    assert_eq!(FailOn::parse("never"), Ok(FailOn::Never));
    assert!(FailOn::parse("sometimes").is_err());
}
