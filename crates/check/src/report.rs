//! The report of a check: per object what the twin did with it (built by
//! [`crate::observe::object_report`]), the summary, and the exit code ([`exit_code`]).
//!
//! Severities: a refusal and a `Warning` event are errors (the issue's "exit 1 on any refusal
//! or Warning event"); admission warnings and [`crate::findings`]' advice are warnings.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

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
