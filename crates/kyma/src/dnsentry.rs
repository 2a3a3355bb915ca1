//! The `kyma-system/kyma-gateway` DNSEntry: the api-gateway keeps its targets on the ingress
//! gateway's load balancer, and Gardener's `dns.gardener.cloud/ip-stack` annotation says which
//! address records the entry gets (SAP's Kyma Gateway page, `kyma-gateway-f515bd7.md`):
//! `dual-stack` when the `istio-ingressgateway` Service has two entries in `spec.ipFamilies`,
//! `ipv6` for IPv6 alone, none for IPv4. The dns-controller-manager then reports the entry
//! `Ready` with its targets, or `Invalid` with `no target or text specified` while the load
//! balancer has no address yet.

use k8s_openapi::api::core::v1::Service;
use serde_json::{json, Value};

pub const IP_STACK: &str = "dns.gardener.cloud/ip-stack";

/// The `ip-stack` annotation for a Service with `families`.
pub fn ip_stack(families: &[String]) -> Option<&'static str> {
    match families {
        [_, _] => Some("dual-stack"),
        [f] if f == "IPv6" => Some("ipv6"),
        _ => None,
    }
}

/// The targets of the load balancer: its hostnames, else its IPs.
pub fn targets(svc: &Service) -> Vec<String> {
    let ingress = svc
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|l| l.ingress.clone())
        .unwrap_or_default();
    let hostnames: Vec<String> = ingress.iter().filter_map(|i| i.hostname.clone()).collect();
    if !hostnames.is_empty() {
        return hostnames;
    }
    ingress.iter().filter_map(|i| i.ip.clone()).collect()
}

/// The entry as the api-gateway and the dns-controller-manager leave it for the gateway
/// Service `svc`; `None` when it already is.
pub fn desired(entry: &Value, svc: &Service, provider_type: &str) -> Option<Value> {
    let mut e = entry.clone();
    let families = svc
        .spec
        .as_ref()
        .and_then(|s| s.ip_families.clone())
        .unwrap_or_default();
    let annotations = e["metadata"]
        .as_object_mut()
        .map(|m| m.entry("annotations").or_insert_with(|| json!({})));
    if let Some(Value::Object(a)) = annotations {
        match ip_stack(&families) {
            Some(s) => {
                a.insert(IP_STACK.into(), json!(s));
            }
            None => {
                a.remove(IP_STACK);
            }
        }
    }
    let targets = targets(svc);
    e["spec"]["targets"] = json!(targets);
    e["status"] = if targets.is_empty() {
        json!({"state": "Invalid", "message": "no target or text specified", "providerType": provider_type})
    } else {
        json!({"state": "Ready", "message": "dns entry active", "targets": targets,
               "ttl": e["spec"]["ttl"], "providerType": provider_type})
    };
    if let Some(g) = e["metadata"].get("generation").cloned() {
        e["status"]["observedGeneration"] = g;
    }
    (e != *entry).then_some(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        LoadBalancerIngress, LoadBalancerStatus, ServiceSpec, ServiceStatus,
    };

    fn svc(families: &[&str], ingress: Vec<LoadBalancerIngress>) -> Service {
        Service {
            spec: Some(ServiceSpec {
                ip_families: Some(families.iter().map(|s| s.to_string()).collect()),
                ..Default::default()
            }),
            status: Some(ServiceStatus {
                load_balancer: Some(LoadBalancerStatus {
                    ingress: Some(ingress),
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn ip_stack_follows_the_gateway_service_families() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(ip_stack(&s(&["IPv4"])), None);
        assert_eq!(ip_stack(&s(&["IPv6"])), Some("ipv6"));
        assert_eq!(ip_stack(&s(&["IPv4", "IPv6"])), Some("dual-stack"));
        assert_eq!(ip_stack(&s(&["IPv6", "IPv4"])), Some("dual-stack"));
    }

    #[test]
    fn targets_come_from_the_load_balancer_and_the_entry_settles() {
        let entry = json!({"metadata": {"name": "kyma-gateway", "generation": 1},
                           "spec": {"dnsName": "*.x", "ttl": 600, "targets": []}});
        let pending = svc(&["IPv4"], vec![]);
        let e = desired(&entry, &pending, "aws-route53").unwrap();
        assert_eq!(e["status"]["state"], "Invalid");
        let lb = svc(
            &["IPv4", "IPv6"],
            vec![LoadBalancerIngress {
                hostname: Some("k8s-x.elb.eu-central-1.amazonaws.com".into()),
                ..Default::default()
            }],
        );
        let e = desired(&e, &lb, "aws-route53").unwrap();
        assert_eq!(e["status"]["state"], "Ready");
        assert_eq!(
            e["spec"]["targets"][0],
            "k8s-x.elb.eu-central-1.amazonaws.com"
        );
        assert_eq!(e["metadata"]["annotations"][IP_STACK], "dual-stack");
        assert_eq!(desired(&e, &lb, "aws-route53"), None, "settled");
    }
}
