//! v1 defaulting (`pkg/apis/core/v1/defaults.go` `SetDefaults_Service`) and the read-path
//! decorator (`storage.go` `defaultOnRead`).

use super::*;
use k8s_openapi::api::core::v1::{ClientIPConfig, SessionAffinityConfig};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// `v1.DefaultClientIPServiceAffinitySeconds`.
pub const DEFAULT_CLIENT_IP_AFFINITY_SECONDS: i32 = 10800;

/// `SetDefaults_Service` (1.32, LoadBalancerIPMode on by default). Sets nothing related to
/// dual-stack.
pub fn set_defaults(svc: &mut Service) {
    let external_ips_set = spec(svc)
        .external_ips
        .as_ref()
        .map(|v| !v.is_empty())
        .unwrap_or(false);
    let s = spec_mut(svc);
    if s.session_affinity.as_deref().unwrap_or("").is_empty() {
        s.session_affinity = Some("None".into());
    }
    match s.session_affinity.as_deref() {
        Some("None") => s.session_affinity_config = None,
        Some("ClientIP") => {
            let has_timeout = s
                .session_affinity_config
                .as_ref()
                .and_then(|c| c.client_ip.as_ref())
                .and_then(|c| c.timeout_seconds)
                .is_some();
            if !has_timeout {
                s.session_affinity_config = Some(SessionAffinityConfig {
                    client_ip: Some(ClientIPConfig {
                        timeout_seconds: Some(DEFAULT_CLIENT_IP_AFFINITY_SECONDS),
                    }),
                });
            }
        }
        _ => {}
    }
    if s.type_.as_deref().unwrap_or("").is_empty() {
        s.type_ = Some(CLUSTER_IP.into());
    }
    if let Some(ports) = s.ports.as_mut() {
        for p in ports.iter_mut() {
            if p.protocol.as_deref().unwrap_or("").is_empty() {
                p.protocol = Some("TCP".into());
            }
            let unset = match &p.target_port {
                None => true,
                Some(IntOrString::Int(0)) => true,
                Some(IntOrString::String(v)) => v.is_empty(),
                _ => false,
            };
            if unset {
                p.target_port = Some(IntOrString::Int(p.port));
            }
        }
    }
    let ty = s.type_.clone().unwrap_or_default();
    let accessible =
        ty == LOAD_BALANCER || ty == NODE_PORT || (ty == CLUSTER_IP && external_ips_set);
    if accessible
        && s.external_traffic_policy
            .as_deref()
            .unwrap_or("")
            .is_empty()
    {
        s.external_traffic_policy = Some("Cluster".into());
    }
    if s.internal_traffic_policy.is_none()
        && matches!(ty.as_str(), NODE_PORT | LOAD_BALANCER | CLUSTER_IP)
    {
        s.internal_traffic_policy = Some("Cluster".into());
    }
    if ty == LOAD_BALANCER && s.allocate_load_balancer_node_ports.is_none() {
        s.allocate_load_balancer_node_ports = Some(true);
    }
    if ty == LOAD_BALANCER {
        if let Some(ing) = svc
            .status
            .as_mut()
            .and_then(|st| st.load_balancer.as_mut())
            .and_then(|lb| lb.ingress.as_mut())
        {
            for i in ing.iter_mut() {
                if !i.ip.as_deref().unwrap_or("").is_empty() && i.ip_mode.is_none() {
                    i.ip_mode = Some("VIP".into());
                }
            }
        }
    }
}

/// `normalizeClusterIPs(obj, nil)` for create and read.
pub(crate) fn normalize_create(svc: &mut Service) {
    if !cluster_ip(svc).is_empty() && cluster_ips(svc).is_empty() {
        let ip = cluster_ip(svc).to_string();
        set_cluster_ips(svc, vec![ip]);
    }
}

/// `defaultOnReadService`: fills `clusterIPs`, `ipFamilies` and `ipFamilyPolicy` on objects
/// stored before those fields existed, and drops `internalTrafficPolicy` of ExternalName.
pub fn default_on_read(svc: &mut Service, cfg: &ClusterConfig) {
    normalize_create(svc);
    if needs_cluster_ip(svc) && ip_families(svc).is_empty() {
        let p = cfg.primary();
        if cluster_ip(svc) == NONE {
            if selector_is_empty(svc) {
                set_policy(svc, Some(REQUIRE));
                set_ip_families(svc, vec![p.as_str().into(), p.other().as_str().into()]);
            } else {
                set_policy(svc, Some(SINGLE));
                set_ip_families(svc, vec![p.as_str().into()]);
            }
        } else {
            let fams: Vec<String> = cluster_ips(svc)
                .iter()
                .map(|ip| {
                    if twinstack_core::ipam::is_ipv6_string(ip) {
                        "IPv6"
                    } else {
                        "IPv4"
                    }
                    .to_string()
                })
                .collect();
            match fams.len() {
                1 => set_policy(svc, Some(SINGLE)),
                2 => set_policy(svc, Some(REQUIRE)),
                _ => {}
            }
            set_ip_families(svc, fams);
        }
    }
    if svc_type(svc) == EXTERNAL_NAME {
        spec_mut(svc).internal_traffic_policy = None;
    }
}
