//! From what the shell observed of an object once the controllers were done ([`Observed`]) to
//! its [`ObjectReport`]: the sections of its kind (Service, load balancer, workload) and the
//! findings ([`crate::findings`]).

use crate::findings;
use crate::manifest::Origin;
use crate::report::*;
use serde_json::Value;
use twinstack_cloud::inventory::{Controller, ForwardingRule, LoadBalancer};

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
