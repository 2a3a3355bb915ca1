//! The cloud-controller-manager's service controller (`k8s.io/cloud-provider`
//! `controllers/service/controller.go` `syncLoadBalancerIfNeeded`, recorder component
//! `service-controller`) with the GCE provider (`cloud-provider-gcp` `providers/gce/`
//! `gce_loadbalancer.go` `EnsureLoadBalancer`/`EnsureLoadBalancerDeleted`,
//! `gce_loadbalancer_external.go` (target-pool NetLB), `gce_loadbalancer_internal.go`
//! (instance-group ILB), `gce_util.go` `shouldProcessNetLB`/`usesL4RBS`). IPv4 only.

use super::annotations::{self as a, has_finalizer};
use super::{address, ingress, namer, Cluster};
use crate::inventory::{Controller, ForwardingRule, Owner};
use crate::{Event, Reconciled};
use k8s_openapi::api::core::v1::Service;

/// The recorder's component.
pub const COMPONENT: &str = "service-controller";

/// `wantsLoadBalancer`: `type: LoadBalancer` and no `loadBalancerClass`.
fn wants_load_balancer(svc: &Service) -> bool {
    a::is_load_balancer(svc) && a::class(svc).is_none()
}

/// `needsCleanup`: the cleanup finalizer, and deleted or no longer `LoadBalancer`.
fn needs_cleanup(svc: &Service) -> bool {
    has_finalizer(svc, a::LB_CLEANUP_FINALIZER)
        && (a::is_deleting(svc) || !a::is_load_balancer(svc))
}

/// `usesL4RBS` (the existing rule: one with a backend service).
fn uses_l4_rbs(svc: &Service, fr: Option<&ForwardingRule>) -> bool {
    a::class(svc) == Some(a::CLASS_REGIONAL_EXTERNAL)
        || a::has_rbs_annotation(svc)
        || has_finalizer(svc, a::NETLB_FINALIZER_V2)
        || has_finalizer(svc, a::NETLB_FINALIZER_V3)
        || fr.is_some_and(|f| f.backend_service.is_some())
}

/// `shouldProcessNetLB` with `--enable-rbs-default-l4-netlb=false` (the default; Gardener does
/// not set it).
pub fn should_process_netlb(svc: &Service, fr: Option<&ForwardingRule>) -> bool {
    if let Some(c) = a::class(svc) {
        return c == a::CLASS_LEGACY_EXTERNAL;
    }
    if has_finalizer(svc, a::NETLB_FINALIZER_V1) {
        return true;
    }
    !uses_l4_rbs(svc, fr)
}

/// `cloudprovider.ImplementedElsewhere`.
struct ImplementedElsewhere;

fn owner(svc: &Service) -> Owner {
    Owner {
        namespace: svc
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into()),
        name: svc.metadata.name.clone().unwrap_or_default(),
        uid: svc.metadata.uid.clone().unwrap_or_default(),
    }
}

/// The service controller's pass over `svc` (only when the informer would enqueue it:
/// `wantsLoadBalancer || needsCleanup`).
pub fn sync(
    svc: &Service,
    cluster: &Cluster<'_>,
    existing: &[ForwardingRule],
) -> Reconciled<ForwardingRule> {
    let mut out = Reconciled::default();
    let mut own: Vec<ForwardingRule> = existing
        .iter()
        .filter(|r| r.controller == Controller::GceCloudProvider)
        .cloned()
        .collect();
    let wants = wants_load_balancer(svc);
    let cleanup = needs_cleanup(svc);
    if !wants && !cleanup {
        out.resources = own;
        return out;
    }
    let lb_name = namer::legacy_forwarding_rule_name(svc.metadata.uid.as_deref().unwrap_or(""));
    let existing_fr = existing.iter().find(|r| r.name == lb_name);

    if !wants || cleanup {
        // GetLoadBalancer: the forwarding rule `a<uid>` exists, or a v1 finalizer is left.
        let exists = existing_fr.is_some()
            || has_finalizer(svc, a::ILB_FINALIZER_V1)
            || has_finalizer(svc, a::NETLB_FINALIZER_V1);
        if exists {
            out.events.push(Event::normal(
                COMPONENT,
                "DeletingLoadBalancer",
                "Deleting load balancer",
            ));
            // EnsureLoadBalancerDeleted; ImplementedElsewhere is ignored on deletion.
            if a::is_internal(svc) {
                let _ = ensure_internal_deleted(svc, &mut own, &mut out);
            } else {
                let _ = ensure_external_deleted(svc, &mut own, &mut out);
            }
        }
        if has_finalizer(svc, a::LB_CLEANUP_FINALIZER) {
            out.remove_finalizers.push(a::LB_CLEANUP_FINALIZER.into());
        }
        out.events.push(Event::normal(
            COMPONENT,
            "DeletedLoadBalancer",
            "Deleted load balancer",
        ));
        out.ingress = Some(Vec::new());
        out.resources = own;
        return out;
    }

    out.events.push(Event::normal(
        COMPONENT,
        "EnsuringLoadBalancer",
        "Ensuring load balancer",
    ));
    if !has_finalizer(svc, a::LB_CLEANUP_FINALIZER) {
        out.add_finalizers.push(a::LB_CLEANUP_FINALIZER.into());
    }
    // ImplementedElsewhere: nothing more (no status, no EnsuredLoadBalancer).
    if let Ok(ip) = ensure(svc, cluster, existing_fr, &lb_name, &mut own, &mut out) {
        out.events.push(Event::normal(
            COMPONENT,
            "EnsuredLoadBalancer",
            "Ensured load balancer",
        ));
        out.ingress = Some(vec![ingress(ip)]);
    }
    out.resources = own;
    out
}

/// `EnsureLoadBalancer`: the address of the forwarding rule.
fn ensure(
    svc: &Service,
    cluster: &Cluster<'_>,
    existing_fr: Option<&ForwardingRule>,
    lb_name: &str,
    own: &mut Vec<ForwardingRule>,
    out: &mut Reconciled<ForwardingRule>,
) -> Result<String, ImplementedElsewhere> {
    let internal = a::is_internal(svc);
    let mut existing_fr = existing_fr;
    if let Some(fr) = existing_fr {
        // The scheme changed: delete the old load balancer first.
        if (fr.load_balancing_scheme == "INTERNAL") != internal {
            if fr.load_balancing_scheme == "INTERNAL" {
                ensure_internal_deleted(svc, own, out)?;
            } else {
                ensure_external_deleted(svc, own, out)?;
            }
            existing_fr = None;
        }
    }
    let fr = if internal {
        ensure_internal(svc, cluster, existing_fr, lb_name, out)?
    } else {
        ensure_external(svc, cluster, existing_fr, lb_name, out)?
    };
    let ip = fr.ip_address.clone();
    own.retain(|r| r.name != fr.name);
    own.push(fr);
    Ok(ip)
}

fn base_rule(
    svc: &Service,
    cluster: &Cluster<'_>,
    existing: Option<&ForwardingRule>,
    name: &str,
) -> ForwardingRule {
    ForwardingRule {
        name: name.to_string(),
        region: cluster.region.to_string(),
        ip_address: String::new(),
        ip_protocol: a::protocol(svc),
        ip_version: "IPV4".into(),
        port_range: None,
        ports: Vec::new(),
        load_balancing_scheme: "EXTERNAL".into(),
        network_tier: "PREMIUM".into(),
        backend_service: None,
        target: None,
        subnetwork: None,
        network: None,
        allow_global_access: false,
        description: format!(r#"{{"kubernetes.io/service-name":"{}"}}"#, a::key(svc)),
        creation_timestamp: existing
            .map(|e| e.creation_timestamp.clone())
            .unwrap_or_else(|| cluster.now.to_string()),
        controller: Controller::GceCloudProvider,
        owner: owner(svc),
        leaked: false,
    }
}

fn load_balancer_ip(svc: &Service) -> Option<String> {
    svc.spec
        .as_ref()
        .and_then(|s| s.load_balancer_ip.clone())
        .filter(|s| !s.is_empty())
}

/// `ensureExternalLoadBalancer`: a target pool and an IPv4 forwarding rule (`portRange`).
fn ensure_external(
    svc: &Service,
    cluster: &Cluster<'_>,
    existing_fr: Option<&ForwardingRule>,
    lb_name: &str,
    out: &mut Reconciled<ForwardingRule>,
) -> Result<ForwardingRule, ImplementedElsewhere> {
    if !should_process_netlb(svc, existing_fr) {
        return Err(ImplementedElsewhere);
    }
    if !has_finalizer(svc, a::NETLB_FINALIZER_V1) {
        out.add_finalizers.push(a::NETLB_FINALIZER_V1.into());
    }
    let mut fr = base_rule(svc, cluster, existing_fr, lb_name);
    fr.ip_address = load_balancer_ip(svc)
        .or_else(|| existing_fr.map(|e| e.ip_address.clone()))
        .unwrap_or_else(|| {
            address::external_ipv4(cluster.project, cluster.region, lb_name).to_string()
        });
    fr.port_range = a::port_range(svc);
    fr.network_tier = a::network_tier(svc).into();
    fr.target = Some(cluster.regional_url("targetPools", lb_name));
    Ok(fr)
}

/// `ensureInternalLoadBalancer`: an IPv4 forwarding rule from the CCM's subnet (the internal
/// subnet), backend service named as the rule (not shared).
fn ensure_internal(
    svc: &Service,
    cluster: &Cluster<'_>,
    existing_fr: Option<&ForwardingRule>,
    lb_name: &str,
    out: &mut Reconciled<ForwardingRule>,
) -> Result<ForwardingRule, ImplementedElsewhere> {
    if existing_fr.is_none()
        && !has_finalizer(svc, a::ILB_FINALIZER_V1)
        && a::class(svc) != Some(a::CLASS_LEGACY_INTERNAL)
        && (a::class(svc).is_some() || has_finalizer(svc, a::ILB_FINALIZER_V2))
    {
        return Err(ImplementedElsewhere);
    }
    if !has_finalizer(svc, a::ILB_FINALIZER_V1) {
        out.add_finalizers.push(a::ILB_FINALIZER_V1.into());
    }
    let subnet = a::annotation(svc, a::ILB_SUBNET)
        .and_then(|n| cluster.subnet(n))
        .or_else(|| cluster.ccm_subnet());
    let mut fr = base_rule(svc, cluster, existing_fr, lb_name);
    fr.load_balancing_scheme = "INTERNAL".into();
    fr.ip_address = existing_fr
        .map(|e| e.ip_address.clone())
        .or_else(|| load_balancer_ip(svc))
        .or_else(|| subnet.map(|s| address::internal_ipv4(s.ip_cidr_range, lb_name).to_string()))
        .unwrap_or_default();
    fr.ports = a::port_list(svc);
    if fr.ports.len() > 5 {
        fr.ports.clear();
    }
    fr.backend_service = Some(cluster.regional_url("backendServices", lb_name));
    fr.subnetwork = subnet.map(|s| cluster.regional_url("subnetworks", &s.name));
    fr.network = Some(cluster.network_url());
    fr.allow_global_access = a::annotation(svc, a::ILB_GLOBAL_ACCESS) == Some("true");
    Ok(fr)
}

/// `ensureExternalLoadBalancerDeleted`.
fn ensure_external_deleted(
    svc: &Service,
    own: &mut Vec<ForwardingRule>,
    out: &mut Reconciled<ForwardingRule>,
) -> Result<(), ImplementedElsewhere> {
    if !should_process_netlb(svc, None) {
        return Err(ImplementedElsewhere);
    }
    own.retain(|r| r.load_balancing_scheme != "EXTERNAL");
    if has_finalizer(svc, a::NETLB_FINALIZER_V1) {
        out.remove_finalizers.push(a::NETLB_FINALIZER_V1.into());
    }
    Ok(())
}

/// `ensureInternalLoadBalancerDeleted` (ILB subsetting is off on Gardener).
fn ensure_internal_deleted(
    svc: &Service,
    own: &mut Vec<ForwardingRule>,
    out: &mut Reconciled<ForwardingRule>,
) -> Result<(), ImplementedElsewhere> {
    if has_finalizer(svc, a::ILB_FINALIZER_V2) && !has_finalizer(svc, a::ILB_FINALIZER_V1) {
        return Err(ImplementedElsewhere);
    }
    own.retain(|r| r.load_balancing_scheme != "INTERNAL");
    if has_finalizer(svc, a::ILB_FINALIZER_V1) {
        out.remove_finalizers.push(a::ILB_FINALIZER_V1.into());
    }
    Ok(())
}
