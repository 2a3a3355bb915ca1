//! What is worth telling about an accepted object once the controllers are done. The twin
//! already said most of it (a `Warning` event: `FailedBuildModel`, `IPv6OutsideMesh`,
//! `LoadBalancerLeaked`; a `Warning:` header on apply); these rules add what no component
//! says aloud:
//!
//! - `prefer-dual-stack-single`: `PreferDualStack` that got one family (the runtime is
//!   single-stack), said with what its load balancer still answers on;
//! - `annotation-ignored`: load balancer annotations nobody reads: another cloud's, on a
//!   Service that is not `type: LoadBalancer`, or the AWS Load Balancer Controller's on a
//!   Service the legacy AWS provider builds (its annotations:
//!   `cloud-provider-aws/pkg/providers/v1/aws.go`, `ServiceAnnotationLoadBalancer*`);
//! - `load-balancer-pending`: a LoadBalancer Service that got no address and no event saying
//!   why (no controller for the runtime's provider).

use crate::report::{Finding, ObjectReport, RuntimeReport, ServiceReport};
use serde_json::Value;
use twinstack_cloud::gcp::annotations as gce;

const AWS_PREFIX: &str = "service.beta.kubernetes.io/aws-load-balancer-";

/// Google Cloud's load balancer annotations (ingress-gce and the GCE provider).
const GCP_ANNOTATIONS: &[&str] = &[
    gce::LB_TYPE,
    gce::LB_TYPE_DEPRECATED,
    gce::RBS,
    gce::NETWORK_TIER,
    gce::CUSTOM_SUBNET,
    gce::ILB_SUBNET,
    gce::ILB_GLOBAL_ACCESS,
];

/// Annotations only the AWS Load Balancer Controller reads (the legacy provider has no
/// dual stack, no target type, no scheme annotation: it reads `aws-load-balancer-internal`).
const LBC_ONLY: &[&str] = &[
    "aws-load-balancer-ip-address-type",
    "aws-load-balancer-nlb-target-type",
    "aws-load-balancer-scheme",
    "aws-load-balancer-name",
    "aws-load-balancer-ipv6-addresses",
    "aws-load-balancer-enable-prefix-for-ipv6-source-nat",
    "aws-load-balancer-source-nat-ipv6-prefixes",
    "aws-load-balancer-attributes",
    "aws-load-balancer-target-group-attributes",
];

/// The findings about an accepted object (`object`: as stored after the controllers).
pub fn of_accepted(r: &ObjectReport, object: &Value, runtime: &RuntimeReport) -> Vec<Finding> {
    let mut out: Vec<Finding> = r
        .events
        .iter()
        .filter(|e| e.type_ == "Warning")
        .map(|e| Finding::error(format!("event/{}", e.reason), e.message.clone()))
        .collect();
    out.extend(
        r.warnings
            .iter()
            .map(|w| Finding::warning("api-warning", w.clone())),
    );
    if let Some(svc) = &r.service {
        out.extend(prefer_dual_stack_single(svc, r, runtime));
        out.extend(ignored_annotations(svc, object, r, runtime));
        out.extend(load_balancer_pending(svc, r, runtime));
    }
    out
}

fn prefer_dual_stack_single(
    svc: &ServiceReport,
    r: &ObjectReport,
    runtime: &RuntimeReport,
) -> Option<Finding> {
    if svc.ip_family_policy.as_deref() != Some("PreferDualStack") || svc.ip_families.len() != 1 {
        return None;
    }
    let family = &svc.ip_families[0];
    let mut msg = format!(
        "ipFamilyPolicy PreferDualStack got only {family}: the runtime is single-stack ({})",
        runtime.families.join(",")
    );
    let dualstack = r
        .load_balancer
        .iter()
        .flat_map(|lb| &lb.resources)
        .any(|res| !res.leaked && res.ip_address_type == "dualstack");
    if dualstack {
        msg.push_str(&format!(
            "; its load balancer still answers IPv6 and IPv4 (dualstack, translating to {family})"
        ));
    }
    Some(Finding::warning("prefer-dual-stack-single", msg))
}

/// The annotations the manifest set (not those the twin added).
fn user_annotations<'a>(
    svc: &'a ServiceReport,
    object: &'a Value,
) -> impl Iterator<Item = &'a str> + 'a {
    object
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, _)| k.as_str())
        .filter(move |k| !svc.annotations_added.contains_key(*k))
}

fn ignored_annotations(
    svc: &ServiceReport,
    object: &Value,
    r: &ObjectReport,
    runtime: &RuntimeReport,
) -> Vec<Finding> {
    let controller = r
        .load_balancer
        .as_ref()
        .and_then(|l| l.controller.as_deref());
    let mut out = Vec::new();
    for key in user_annotations(svc, object) {
        let aws = key.starts_with(AWS_PREFIX);
        let gcp = GCP_ANNOTATIONS.contains(&key);
        if !aws && !gcp {
            continue;
        }
        let why = if aws && runtime.provider != "aws" {
            format!("no AWS controller runs on a {} runtime", runtime.provider)
        } else if gcp && runtime.provider != "gcp" {
            format!(
                "no Google Cloud controller runs on a {} runtime",
                runtime.provider
            )
        } else if svc.type_ != "LoadBalancer" {
            format!(
                "only type LoadBalancer Services get a load balancer (this one is {})",
                svc.type_
            )
        } else if controller == Some("aws-cloud-provider")
            && LBC_ONLY.contains(&key.trim_start_matches("service.beta.kubernetes.io/"))
        {
            "the legacy AWS cloud provider builds this load balancer and does not read it \
             (the AWS Load Balancer Controller does: aws-load-balancer-type: external)"
                .to_string()
        } else {
            continue;
        };
        out.push(Finding::warning(
            "annotation-ignored",
            format!("annotation {key} is ignored: {why}"),
        ));
    }
    out
}

fn load_balancer_pending(
    svc: &ServiceReport,
    r: &ObjectReport,
    runtime: &RuntimeReport,
) -> Option<Finding> {
    let lb = r.load_balancer.as_ref()?;
    if svc.type_ != "LoadBalancer"
        || !lb.ingress.is_empty()
        || r.events.iter().any(|e| e.type_ == "Warning")
    {
        return None;
    }
    let why = match runtime.provider.as_str() {
        "aws" | "gcp" => "no controller gave it an address".to_string(),
        p => format!("twinstack runs no load balancer controller for {p} runtimes"),
    };
    Some(Finding::warning(
        "load-balancer-pending",
        format!("status.loadBalancer stays empty: {why}"),
    ))
}

#[cfg(test)]
mod tests;
