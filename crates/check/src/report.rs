//! The report of a check: per object what the twin did with it, built from what the shell
//! observed ([`Observed`]) by [`object_report`], and the exit code ([`exit_code`]).
//!
//! Severities: a refusal and a `Warning` event are errors (the issue's "exit 1 on any refusal
//! or Warning event"); admission warnings and [`crate::findings`]' advice are warnings.

use crate::findings;
use crate::manifest::Origin;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use twinstack_cloud::inventory::{Controller, ForwardingRule, LoadBalancer};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One thing worth telling about an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// A stable identifier (`refused`, `event/FailedBuildModel`, `prefer-dual-stack-single`, ...).
    pub rule: String,
    pub message: String,
}

impl Finding {
    pub fn error(rule: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Error,
            rule: rule.into(),
            message: message.into(),
        }
    }
    pub fn warning(rule: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Warning,
            rule: rule.into(),
            message: message.into(),
        }
    }
}

/// What became of an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Accepted,
    Refused,
    /// A kind the twin does not serve (kubectl: `no matches for kind`).
    Unsupported,
}

/// The API server's refusal (its `Status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub code: u16,
    pub reason: String,
    pub message: String,
}

/// The runtime the objects were checked against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeReport {
    pub name: String,
    /// KEB plan (`aws`, `gcp`, ...), empty for a runtime described by provider and families.
    pub plan: String,
    pub provider: String,
    pub region: String,
    pub families: Vec<String>,
}

/// An event about the object, as `kubectl describe` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventReport {
    #[serde(rename = "type")]
    pub type_: String,
    pub reason: String,
    pub message: String,
    /// The reporting component (`service-controller`, `service`, ...).
    pub source: String,
}

/// A Service's networking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceReport {
    #[serde(rename = "type")]
    pub type_: String,
    pub ip_family_policy: Option<String>,
    pub ip_families: Vec<String>,
    #[serde(rename = "clusterIPs")]
    pub cluster_ips: Vec<String>,
    /// Annotations the twin added on admission or later (Gardener's webhooks, the
    /// controllers), which the manifest did not carry.
    pub annotations_added: BTreeMap<String, String>,
}

/// A cloud resource built for a Service, as the cloud's API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudResource {
    /// `NLB`, `Classic ELB` or `forwarding rule` (as `twinstack runtime show` lists them).
    pub kind: String,
    pub name: String,
    pub scheme: String,
    /// ELBv2 `IpAddressType` (`ipv4`, `dualstack`) or a forwarding rule's `IPV4`/`IPV6`.
    pub ip_address_type: String,
    /// Each target group's `IpAddressType` (`ipv4`, `ipv6`).
    pub target_group_families: Vec<String>,
    pub leaked: bool,
}

/// A `type: LoadBalancer` Service's load balancer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerReport {
    /// The controller that built it (`aws-load-balancer-controller`, `aws-cloud-provider`,
    /// `gce-l4-net-lb`, ...); absent when none did.
    pub controller: Option<String>,
    pub resources: Vec<CloudResource>,
    /// `status.loadBalancer.ingress` as the controller wrote it.
    pub ingress: Vec<Value>,
}

/// A workload's replicas as its controller reports them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadReport {
    pub replicas: i64,
    pub ready_replicas: i64,
    /// The families of its pods' `podIPs` (all pods alike on a twin).
    #[serde(rename = "podIPFamilies")]
    pub pod_ip_families: Vec<String>,
}

/// One object of the input and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReport {
    pub api_version: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    pub file: String,
    pub line: usize,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Refusal>,
    /// The API server's `Warning:` headers on apply (admission and the strategy).
    pub warnings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<LoadBalancerReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<WorkloadReport>,
    pub events: Vec<EventReport>,
    pub findings: Vec<Finding>,
}

impl ObjectReport {
    /// `Kind namespace/name` (or `Kind name`), as messages name objects.
    pub fn title(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }

    /// The worst finding's severity.
    pub fn severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// Counts over the objects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub objects: usize,
    pub accepted: usize,
    pub refused: usize,
    pub unsupported: usize,
    pub errors: usize,
    pub warnings: usize,
}

/// A whole check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub runtime: RuntimeReport,
    /// Whether the controllers reached a fixpoint within the time allowed.
    pub converged: bool,
    pub summary: Summary,
    pub objects: Vec<ObjectReport>,
}

impl Report {
    pub fn new(runtime: RuntimeReport, converged: bool, objects: Vec<ObjectReport>) -> Report {
        let mut s = Summary {
            objects: objects.len(),
            ..Default::default()
        };
        for o in &objects {
            match o.outcome {
                Outcome::Accepted => s.accepted += 1,
                Outcome::Refused => s.refused += 1,
                Outcome::Unsupported => s.unsupported += 1,
            }
            for f in &o.findings {
                match f.severity {
                    Severity::Error => s.errors += 1,
                    Severity::Warning => s.warnings += 1,
                }
            }
        }
        Report {
            runtime,
            converged,
            summary: s,
            objects,
        }
    }
}

/// `--fail-on`: the least severity that fails the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Error,
    Warning,
    Never,
}

impl FailOn {
    pub fn parse(s: &str) -> Result<FailOn, String> {
        match s {
            "error" => Ok(FailOn::Error),
            "warning" => Ok(FailOn::Warning),
            "never" => Ok(FailOn::Never),
            _ => Err(format!(
                "invalid --fail-on {s:?}: expected error, warning or never"
            )),
        }
    }
}

/// 1 when a finding reaches `fail_on` (or the controllers did not converge, for `warning`),
/// else 0. Malformed input (2) never gets this far.
pub fn exit_code(r: &Report, fail_on: FailOn) -> u8 {
    let worst = r.objects.iter().filter_map(ObjectReport::severity).max();
    let failed = match fail_on {
        FailOn::Never => false,
        FailOn::Error => worst == Some(Severity::Error),
        FailOn::Warning => worst.is_some() || !r.converged,
    };
    u8::from(failed)
}

/// What the shell observed of one object after the controllers were done.
#[derive(Debug, Clone)]
pub struct Observed {
    pub origin: Origin,
    /// The object as written in the manifest.
    pub input: Value,
    pub result: Applied,
    /// The events whose `involvedObject` is this object, oldest first.
    pub events: Vec<EventReport>,
    /// The cloud records this object owns.
    pub load_balancers: Vec<LoadBalancer>,
    pub forwarding_rules: Vec<ForwardingRule>,
    /// For a workload: its pods' `podIPs`.
    pub pod_ips: Vec<String>,
}

/// What applying an object gave.
#[derive(Debug, Clone)]
pub enum Applied {
    /// Stored: the object as it is now, and the API's warnings on the write.
    Accepted {
        object: Value,
        warnings: Vec<String>,
    },
    Refused(Refusal),
    Unsupported(String),
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn strings_at(v: &Value, pointer: &str) -> Vec<String> {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// The kebab-case name the inventory gives a controller.
fn controller_name(c: Controller) -> String {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

fn service_report(input: &Value, object: &Value) -> ServiceReport {
    let had = input.pointer("/metadata/annotations");
    let annotations_added = object
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(k, _)| had.and_then(|h| h.get(k.as_str())).is_none())
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect();
    ServiceReport {
        type_: str_at(object, "/spec/type")
            .unwrap_or("ClusterIP")
            .to_string(),
        ip_family_policy: str_at(object, "/spec/ipFamilyPolicy").map(String::from),
        ip_families: strings_at(object, "/spec/ipFamilies"),
        cluster_ips: strings_at(object, "/spec/clusterIPs"),
        annotations_added,
    }
}

fn load_balancer_report(o: &Observed, object: &Value) -> LoadBalancerReport {
    let mut resources: Vec<CloudResource> = o
        .load_balancers
        .iter()
        .map(|lb| CloudResource {
            kind: if lb.kind == "classic" {
                "Classic ELB".into()
            } else {
                "NLB".into()
            },
            name: lb.load_balancer_name.clone(),
            scheme: lb.scheme.clone(),
            ip_address_type: lb.ip_address_type.clone(),
            target_group_families: lb
                .target_groups
                .iter()
                .map(|t| t.ip_address_type.clone())
                .collect(),
            leaked: lb.leaked,
        })
        .collect();
    resources.extend(o.forwarding_rules.iter().map(|fr| CloudResource {
        kind: "forwarding rule".into(),
        name: fr.name.clone(),
        scheme: fr.load_balancing_scheme.clone(),
        ip_address_type: fr.ip_version.clone(),
        target_group_families: vec![],
        leaked: fr.leaked,
    }));
    // The controller of the records it still owns (a leaked one belongs to nobody).
    let controller = o
        .load_balancers
        .iter()
        .filter(|lb| !lb.leaked)
        .map(|lb| lb.controller)
        .chain(
            o.forwarding_rules
                .iter()
                .filter(|f| !f.leaked)
                .map(|f| f.controller),
        )
        .next()
        .map(controller_name);
    LoadBalancerReport {
        controller,
        resources,
        ingress: object
            .pointer("/status/loadBalancer/ingress")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
    }
}

const WORKLOADS: &[&str] = &[
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "ReplicationController",
];

fn workload_report(kind: &str, object: &Value, pod_ips: &[String]) -> WorkloadReport {
    let int = |p: &str| object.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    let mut families: Vec<String> = pod_ips
        .iter()
        .filter_map(|ip| ip.parse::<std::net::IpAddr>().ok())
        .map(|ip| if ip.is_ipv4() { "IPv4" } else { "IPv6" }.to_string())
        .collect();
    families.dedup();
    WorkloadReport {
        replicas: if kind == "DaemonSet" {
            int("/status/desiredNumberScheduled")
        } else {
            int("/spec/replicas")
        },
        ready_replicas: if kind == "DaemonSet" {
            int("/status/numberReady")
        } else {
            int("/status/readyReplicas")
        },
        pod_ip_families: families,
    }
}

/// The report of one object.
pub fn object_report(o: Observed, runtime: &RuntimeReport) -> ObjectReport {
    let s = |p: &str| str_at(&o.input, p).unwrap_or("").to_string();
    let kind = s("/kind");
    let mut r = ObjectReport {
        api_version: s("/apiVersion"),
        kind: kind.clone(),
        namespace: None,
        name: s("/metadata/name"),
        file: o.origin.file.clone(),
        line: o.origin.line,
        outcome: Outcome::Accepted,
        refusal: None,
        warnings: vec![],
        service: None,
        load_balancer: None,
        workload: None,
        events: o.events.clone(),
        findings: vec![],
    };
    match &o.result {
        Applied::Accepted { object, warnings } => {
            r.namespace = str_at(object, "/metadata/namespace").map(String::from);
            r.name = str_at(object, "/metadata/name")
                .unwrap_or(&r.name)
                .to_string();
            r.warnings = warnings.clone();
            if kind == "Service" {
                let svc = service_report(&o.input, object);
                if svc.type_ == "LoadBalancer" || !o.load_balancers.is_empty() {
                    r.load_balancer = Some(load_balancer_report(&o, object));
                }
                r.service = Some(svc);
            }
            if WORKLOADS.contains(&kind.as_str()) {
                r.workload = Some(workload_report(&kind, object, &o.pod_ips));
            }
            r.findings = findings::of_accepted(&r, object, runtime);
        }
        Applied::Refused(refusal) => {
            r.namespace = str_at(&o.input, "/metadata/namespace").map(String::from);
            r.outcome = Outcome::Refused;
            r.refusal = Some(refusal.clone());
            r.findings = vec![Finding::error("refused", refusal.message.clone())];
        }
        Applied::Unsupported(message) => {
            r.namespace = str_at(&o.input, "/metadata/namespace").map(String::from);
            r.outcome = Outcome::Unsupported;
            r.findings = vec![Finding::warning("unsupported-kind", message.clone())];
        }
    }
    r
}

#[cfg(test)]
pub(crate) mod tests;
