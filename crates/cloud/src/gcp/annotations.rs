//! The Service annotations, classes and finalizers the GCE controllers read and write
//! (ingress-gce `pkg/l4/annotations/service.go`, `pkg/utils/common/finalizer.go`;
//! cloud-provider-gcp `providers/gce/gce_annotations.go`, `gce_util.go`).

use k8s_openapi::api::core::v1::Service;

pub const LB_TYPE: &str = "networking.gke.io/load-balancer-type";
pub const LB_TYPE_DEPRECATED: &str = "cloud.google.com/load-balancer-type";
pub const RBS: &str = "cloud.google.com/l4-rbs";
pub const RBS_ENABLED: &str = "enabled";
pub const NETWORK_TIER: &str = "cloud.google.com/network-tier";
pub const CUSTOM_SUBNET: &str = "networking.gke.io/load-balancer-subnet";
pub const ILB_SUBNET: &str = "networking.gke.io/internal-load-balancer-subnet";
pub const ILB_GLOBAL_ACCESS: &str = "networking.gke.io/internal-load-balancer-allow-global-access";

pub const CLASS_REGIONAL_EXTERNAL: &str = "networking.gke.io/l4-regional-external";
pub const CLASS_REGIONAL_INTERNAL: &str = "networking.gke.io/l4-regional-internal";
pub const CLASS_LEGACY_EXTERNAL: &str = "networking.gke.io/l4-regional-external-legacy";
pub const CLASS_LEGACY_INTERNAL: &str = "networking.gke.io/l4-regional-internal-legacy";

/// `k8s.io/cloud-provider` `servicehelper.LoadBalancerCleanupFinalizer`.
pub const LB_CLEANUP_FINALIZER: &str = "service.kubernetes.io/load-balancer-cleanup";
pub const NETLB_FINALIZER_V1: &str = "gke.networking.io/l4-netlb-v1";
pub const NETLB_FINALIZER_V2: &str = "gke.networking.io/l4-netlb-v2";
pub const NETLB_FINALIZER_V3: &str = "gke.networking.io/l4-netlb-v3";
pub const ILB_FINALIZER_V1: &str = "gke.networking.io/l4-ilb-v1";
pub const ILB_FINALIZER_V2: &str = "gke.networking.io/l4-ilb-v2";

/// Keys ingress-gce writes back (`service.kubernetes.io/...`).
pub const TCP_FORWARDING_RULE: &str = "service.kubernetes.io/tcp-forwarding-rule";
pub const UDP_FORWARDING_RULE: &str = "service.kubernetes.io/udp-forwarding-rule";
pub const L3_FORWARDING_RULE: &str = "service.kubernetes.io/l3-forwarding-rule";
pub const TCP_FORWARDING_RULE_IPV6: &str = "service.kubernetes.io/tcp-forwarding-rule-ipv6";
pub const UDP_FORWARDING_RULE_IPV6: &str = "service.kubernetes.io/udp-forwarding-rule-ipv6";
pub const L3_FORWARDING_RULE_IPV6: &str = "service.kubernetes.io/l3-forwarding-rule-ipv6";
pub const BACKEND_SERVICE: &str = "service.kubernetes.io/backend-service";
pub const FIREWALL_RULE: &str = "service.kubernetes.io/firewall-rule";
pub const FIREWALL_RULE_IPV6: &str = "service.kubernetes.io/firewall-rule-ipv6";
pub const FIREWALL_RULE_DENY: &str = "service.kubernetes.io/firewall-rule-deny";
pub const FIREWALL_RULE_DENY_IPV6: &str = "service.kubernetes.io/firewall-rule-deny-ipv6";
pub const HEALTHCHECK: &str = "service.kubernetes.io/healthcheck";
pub const FIREWALL_RULE_FOR_HC: &str = "service.kubernetes.io/firewall-rule-for-hc";
pub const FIREWALL_RULE_FOR_HC_IPV6: &str = "service.kubernetes.io/firewall-rule-for-hc-ipv6";

/// Every resource key (`updateL4DualStackResourcesAnnotations` replaces the whole set).
pub const RESOURCE_KEYS: [&str; 15] = [
    TCP_FORWARDING_RULE,
    UDP_FORWARDING_RULE,
    L3_FORWARDING_RULE,
    TCP_FORWARDING_RULE_IPV6,
    UDP_FORWARDING_RULE_IPV6,
    L3_FORWARDING_RULE_IPV6,
    BACKEND_SERVICE,
    FIREWALL_RULE,
    FIREWALL_RULE_IPV6,
    FIREWALL_RULE_DENY,
    FIREWALL_RULE_DENY_IPV6,
    HEALTHCHECK,
    FIREWALL_RULE_FOR_HC,
    FIREWALL_RULE_FOR_HC_IPV6,
    "service.kubernetes.io/address",
];

pub fn annotation<'a>(svc: &'a Service, key: &str) -> Option<&'a str> {
    svc.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .map(String::as_str)
}

pub fn has_finalizer(svc: &Service, f: &str) -> bool {
    svc.metadata
        .finalizers
        .as_ref()
        .is_some_and(|fs| fs.iter().any(|x| x == f))
}

pub fn is_load_balancer(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer")
}

pub fn class(svc: &Service) -> Option<&str> {
    svc.spec
        .as_ref()
        .and_then(|s| s.load_balancer_class.as_deref())
}

pub fn is_deleting(svc: &Service) -> bool {
    svc.metadata.deletion_timestamp.is_some()
}

/// `GetLoadBalancerAnnotationType` (`pkg/l4/annotations/gce_annotations.go`) is `Internal`: the
/// class `l4-regional-internal` (external for `l4-regional-external`), else the first present of
/// `networking.gke.io/load-balancer-type` and the deprecated `cloud.google.com/load-balancer-type`
/// is `Internal` or `internal`.
pub fn is_internal(svc: &Service) -> bool {
    match class(svc) {
        Some(CLASS_REGIONAL_INTERNAL) => return true,
        Some(CLASS_REGIONAL_EXTERNAL) => return false,
        _ => {}
    }
    let v = annotation(svc, LB_TYPE).or_else(|| annotation(svc, LB_TYPE_DEPRECATED));
    matches!(v, Some("Internal" | "internal"))
}

/// `annotations.HasRBSAnnotation`.
pub fn has_rbs_annotation(svc: &Service) -> bool {
    annotation(svc, RBS) == Some(RBS_ENABLED)
}

/// `spec.ipFamilies` as written (apiserver order).
pub fn ip_families(svc: &Service) -> Vec<String> {
    svc.spec
        .as_ref()
        .and_then(|s| s.ip_families.clone())
        .unwrap_or_else(|| vec!["IPv4".into()])
}

pub fn needs_ipv4(svc: &Service) -> bool {
    ip_families(svc).iter().any(|f| f == "IPv4")
}

pub fn needs_ipv6(svc: &Service) -> bool {
    ip_families(svc).iter().any(|f| f == "IPv6")
}

/// `helpers.RequestsOnlyLocalTraffic`: `externalTrafficPolicy: Local`.
pub fn only_local_traffic(svc: &Service) -> bool {
    svc.spec
        .as_ref()
        .and_then(|s| s.external_traffic_policy.as_deref())
        == Some("Local")
}

/// The network tier (`cloud.google.com/network-tier`, default Premium) as the GCE value.
pub fn network_tier(svc: &Service) -> &'static str {
    match annotation(svc, NETWORK_TIER) {
        Some(v) if v.eq_ignore_ascii_case("standard") => "STANDARD",
        _ => "PREMIUM",
    }
}

/// The Service's ports (`port`, `protocol`), protocol defaulted to TCP.
pub fn ports(svc: &Service) -> Vec<(i32, String)> {
    svc.spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .map(|ps| {
            ps.iter()
                .map(|p| (p.port, p.protocol.clone().unwrap_or_else(|| "TCP".into())))
                .collect()
        })
        .unwrap_or_default()
}

/// `utils.GetProtocol`: the first port's protocol.
pub fn protocol(svc: &Service) -> String {
    ports(svc)
        .first()
        .map(|(_, p)| p.clone())
        .unwrap_or_else(|| "TCP".into())
}

/// `MinMaxPortRange` / `loadBalancerPortRange`: `min-max`.
pub fn port_range(svc: &Service) -> Option<String> {
    let ps = ports(svc);
    let min = ps.iter().map(|p| p.0).min()?;
    let max = ps.iter().map(|p| p.0).max()?;
    Some(format!("{min}-{max}"))
}

/// `utils.GetPorts`: the port numbers as strings.
pub fn port_list(svc: &Service) -> Vec<String> {
    ports(svc).iter().map(|p| p.0.to_string()).collect()
}

pub fn key(svc: &Service) -> String {
    format!(
        "{}/{}",
        svc.metadata.namespace.as_deref().unwrap_or("default"),
        svc.metadata.name.as_deref().unwrap_or_default()
    )
}
