//! Gardener's shoot Service webhooks (`gardener-extension-provider-aws` and `-gcp`,
//! `pkg/webhook/shootservice/mutator.go` `Mutate`, registered in `add.go`): on dual-stack
//! runtimes (the trigger is `kube-system/kube-dns` having IPv6 in `spec.ipFamilies`), new
//! non-internal LoadBalancer Services are handed to the dual-stack capable controller.
//!
//! Registration (`add.go`): webhook `shoot-service` with the object selector
//! `resources.gardener.cloud/managed-by` DoesNotExist; a second webhook
//! `shoot-service-nginx-ingress` selects the addon Service labelled `app: nginx-ingress`,
//! `component: controller`, `release: addons` with the same mutator. [`webhook_selects`] is
//! that pair of selectors.

use k8s_openapi::api::core::v1::Service;
use std::collections::BTreeMap;

pub const ANNOTATION_IGNORE_LOAD_BALANCER: &str = "extensions.gardener.cloud/ignore-load-balancer";
pub const ANNOTATION_OLD_LOAD_BALANCER_NAME: &str = "gardener.cloud/old-load-balancer-name";
pub const AWS_LB_IP_TYPE: &str = "service.beta.kubernetes.io/aws-load-balancer-ip-address-type";
pub const AWS_LB_SCHEME: &str = "service.beta.kubernetes.io/aws-load-balancer-scheme";
pub const AWS_LB_INTERNAL: &str = "service.beta.kubernetes.io/aws-load-balancer-internal";
pub const AWS_LB_NLB_TARGET_TYPE: &str =
    "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type";
pub const AWS_LB_TYPE: &str = "service.beta.kubernetes.io/aws-load-balancer-type";
pub const GCP_RBS: &str = "cloud.google.com/l4-rbs";
pub const LABEL_MANAGED_BY: &str = "resources.gardener.cloud/managed-by";

fn annotation<'a>(svc: &'a Service, key: &str) -> Option<&'a str> {
    svc.metadata
        .annotations
        .as_ref()?
        .get(key)
        .map(String::as_str)
}

fn set(svc: &mut Service, key: &str, value: &str) -> bool {
    let m = svc.metadata.annotations.get_or_insert_with(BTreeMap::new);
    m.insert(key.to_string(), value.to_string()).as_deref() != Some(value)
}

fn is_load_balancer(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer")
}

/// Whether one of the two webhooks' object selectors matches `svc` (`add.go`).
pub fn webhook_selects(svc: &Service) -> bool {
    let labels = svc.metadata.labels.clone().unwrap_or_default();
    let nginx = labels.get("app").map(String::as_str) == Some("nginx-ingress")
        && labels.get("component").map(String::as_str) == Some("controller")
        && labels.get("release").map(String::as_str) == Some("addons");
    !labels.contains_key(LABEL_MANAGED_BY) || nginx
}

/// The AWS webhook on CREATE (`old` is `None`) or UPDATE of `svc`; returns whether it changed.
/// Objects the webhooks do not select ([`webhook_selects`]) are left alone.
pub fn mutate_service_aws(
    svc: &mut Service,
    old: Option<&Service>,
    kube_dns_has_ipv6: bool,
) -> bool {
    if !webhook_selects(svc) || svc.metadata.deletion_timestamp.is_some() || !is_load_balancer(svc)
    {
        return false;
    }
    // "Early return if not dualstack (no IPv6)"
    if !kube_dns_has_ipv6 {
        return false;
    }
    if let Some(old) = old {
        let has_ignore = annotation(svc, ANNOTATION_IGNORE_LOAD_BALANCER) == Some("true");
        let had_ignore = annotation(old, ANNOTATION_IGNORE_LOAD_BALANCER) == Some("true");
        let has_dualstack = annotation(svc, AWS_LB_IP_TYPE) == Some("dualstack");
        if !has_ignore && !has_dualstack && !had_ignore {
            // Pre-existing Service: preserve its current load balancer.
            return set(svc, ANNOTATION_IGNORE_LOAD_BALANCER, "true");
        }
        // Old had it, new does not: the user opted in; mutate.
    }
    if annotation(svc, AWS_LB_SCHEME) == Some("internal")
        || annotation(svc, AWS_LB_INTERNAL) == Some("true")
        || annotation(svc, ANNOTATION_IGNORE_LOAD_BALANCER) == Some("true")
    {
        return false;
    }
    let mut changed = false;
    let hostname = svc
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .and_then(|i| i.first())
        .and_then(|i| i.hostname.clone())
        .filter(|h| !h.is_empty());
    if let Some(h) = hostname {
        changed |= set(svc, ANNOTATION_OLD_LOAD_BALANCER_NAME, &h);
    }
    changed |= set(svc, AWS_LB_IP_TYPE, "dualstack");
    changed |= set(svc, AWS_LB_SCHEME, "internet-facing");
    changed |= set(svc, AWS_LB_NLB_TARGET_TYPE, "instance");
    changed |= set(svc, AWS_LB_TYPE, "external");
    changed
}

/// The GCP webhook (CREATE only); returns whether it changed `svc`.
pub fn mutate_service_gcp(
    svc: &mut Service,
    old: Option<&Service>,
    kube_dns_has_ipv6: bool,
) -> bool {
    if !webhook_selects(svc)
        || svc.metadata.deletion_timestamp.is_some()
        || old.is_some()
        || !is_load_balancer(svc)
    {
        return false;
    }
    let internal = |k: &str| matches!(annotation(svc, k), Some("Internal" | "internal"));
    if internal("networking.gke.io/load-balancer-type")
        || internal("cloud.google.com/load-balancer-type")
    {
        return false;
    }
    if !kube_dns_has_ipv6 {
        return false;
    }
    set(svc, GCP_RBS, "enabled")
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        LoadBalancerIngress, LoadBalancerStatus, ServiceSpec, ServiceStatus,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn lb() -> Service {
        Service {
            spec: Some(ServiceSpec {
                type_: Some("LoadBalancer".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
    fn with(mut s: Service, k: &str, v: &str) -> Service {
        s.metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(k.into(), v.into());
        s
    }
    fn label(mut s: Service, k: &str, v: &str) -> Service {
        s.metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(k.into(), v.into());
        s
    }
    fn ann(s: &Service) -> BTreeMap<String, String> {
        s.metadata.annotations.clone().unwrap_or_default()
    }
    fn dual_stack_set() -> BTreeMap<String, String> {
        [
            (AWS_LB_IP_TYPE, "dualstack"),
            (AWS_LB_SCHEME, "internet-facing"),
            (AWS_LB_NLB_TARGET_TYPE, "instance"),
            (AWS_LB_TYPE, "external"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn aws_table() {
        struct Case {
            name: &'static str,
            svc: Service,
            old: Option<Service>,
            ipv6: bool,
            want: Option<BTreeMap<String, String>>,
        }
        let hostname = {
            let mut s = lb();
            s.status = Some(ServiceStatus {
                load_balancer: Some(LoadBalancerStatus {
                    ingress: Some(vec![LoadBalancerIngress {
                        hostname: Some("a1.elb.amazonaws.com".into()),
                        ..Default::default()
                    }]),
                }),
                ..Default::default()
            });
            s
        };
        let mut with_old_name = dual_stack_set();
        with_old_name.insert(
            ANNOTATION_OLD_LOAD_BALANCER_NAME.into(),
            "a1.elb.amazonaws.com".into(),
        );
        let mut deleting = lb();
        deleting.metadata.deletion_timestamp = Some(Time(Default::default()));
        let mut cluster_ip = lb();
        cluster_ip.spec.as_mut().unwrap().type_ = Some("ClusterIP".into());
        let ignore: BTreeMap<_, _> = [(
            ANNOTATION_IGNORE_LOAD_BALANCER.to_string(),
            "true".to_string(),
        )]
        .into();
        let mut opted_in = dual_stack_set();
        opted_in.insert("x".into(), "y".into());
        let cases = vec![
            Case {
                name: "create, dual-stack: four annotations",
                svc: lb(),
                old: None,
                ipv6: true,
                want: Some(dual_stack_set()),
            },
            Case {
                name: "create, IPv4 kube-dns: nothing",
                svc: lb(),
                old: None,
                ipv6: false,
                want: None,
            },
            Case {
                name: "not LoadBalancer",
                svc: cluster_ip,
                old: None,
                ipv6: true,
                want: None,
            },
            Case {
                name: "deleting",
                svc: deleting,
                old: None,
                ipv6: true,
                want: None,
            },
            Case {
                name: "scheme internal skipped",
                svc: with(lb(), AWS_LB_SCHEME, "internal"),
                old: None,
                ipv6: true,
                want: None,
            },
            Case {
                name: "internal true skipped",
                svc: with(lb(), AWS_LB_INTERNAL, "true"),
                old: None,
                ipv6: true,
                want: None,
            },
            Case {
                name: "ignore annotation skipped",
                svc: with(lb(), ANNOTATION_IGNORE_LOAD_BALANCER, "true"),
                old: None,
                ipv6: true,
                want: None,
            },
            Case {
                name: "target type ip overwritten",
                svc: with(lb(), AWS_LB_NLB_TARGET_TYPE, "ip"),
                old: None,
                ipv6: true,
                want: Some(dual_stack_set()),
            },
            Case {
                name: "old hostname recorded",
                svc: hostname,
                old: None,
                ipv6: true,
                want: Some(with_old_name),
            },
            Case {
                name: "update of pre-existing: ignore added",
                svc: lb(),
                old: Some(lb()),
                ipv6: true,
                want: Some(ignore.clone()),
            },
            Case {
                name: "update, user removed ignore: mutated",
                svc: with(lb(), "x", "y"),
                old: Some(with(lb(), ANNOTATION_IGNORE_LOAD_BALANCER, "true")),
                ipv6: true,
                want: Some(opted_in),
            },
            Case {
                name: "update of dualstack Service: mutated again",
                svc: with(lb(), AWS_LB_IP_TYPE, "dualstack"),
                old: Some(lb()),
                ipv6: true,
                want: Some(dual_stack_set()),
            },
            Case {
                name: "managed-by excluded",
                svc: label(lb(), LABEL_MANAGED_BY, "gardener"),
                old: None,
                ipv6: true,
                want: None,
            },
            Case {
                name: "nginx-ingress addon selected",
                svc: label(
                    label(
                        label(
                            label(lb(), LABEL_MANAGED_BY, "gardener"),
                            "app",
                            "nginx-ingress",
                        ),
                        "component",
                        "controller",
                    ),
                    "release",
                    "addons",
                ),
                old: None,
                ipv6: true,
                want: Some(dual_stack_set()),
            },
        ];
        for mut c in cases {
            let before = ann(&c.svc);
            let changed = mutate_service_aws(&mut c.svc, c.old.as_ref(), c.ipv6);
            match c.want {
                Some(w) => {
                    assert!(changed, "{}", c.name);
                    assert_eq!(ann(&c.svc), w, "{}", c.name);
                }
                None => {
                    assert!(!changed, "{}", c.name);
                    assert_eq!(ann(&c.svc), before, "{}", c.name);
                }
            }
        }
    }

    type GcpCase = (
        &'static str,
        Service,
        Option<Service>,
        bool,
        Option<BTreeMap<String, String>>,
    );

    #[test]
    fn gcp_table() {
        let rbs: BTreeMap<_, _> = [(GCP_RBS.to_string(), "enabled".to_string())].into();
        let cases: Vec<GcpCase> = vec![
            ("create, dual-stack: rbs", lb(), None, true, Some(rbs)),
            ("create, IPv4: nothing", lb(), None, false, None),
            ("update: nothing", lb(), Some(lb()), true, None),
            (
                "internal skipped",
                with(lb(), "networking.gke.io/load-balancer-type", "Internal"),
                None,
                true,
                None,
            ),
            (
                "internal lower case skipped",
                with(lb(), "networking.gke.io/load-balancer-type", "internal"),
                None,
                true,
                None,
            ),
            (
                "deprecated internal skipped",
                with(lb(), "cloud.google.com/load-balancer-type", "Internal"),
                None,
                true,
                None,
            ),
            (
                "managed-by excluded",
                label(lb(), LABEL_MANAGED_BY, "gardener"),
                None,
                true,
                None,
            ),
        ];
        for (name, mut svc, old, ipv6, want) in cases {
            let before = ann(&svc);
            let changed = mutate_service_gcp(&mut svc, old.as_ref(), ipv6);
            match want {
                Some(w) => {
                    assert!(changed, "{name}");
                    assert_eq!(ann(&svc), w, "{name}");
                }
                None => {
                    assert!(!changed, "{name}");
                    assert_eq!(ann(&svc), before, "{name}");
                }
            }
        }
    }
}
