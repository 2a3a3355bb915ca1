//! ingress-gce's L4 NetLB controller (RBS: backend-service based external passthrough NLB), as
//! Gardener runs it on dual-stack runtimes (`--run-l4-netlb-controller=true`,
//! `--enable-l4netlb-dual-stack=true`, NEGs off so finalizer v2): `pkg/l4/controllers/
//! l4netlbcontroller.go` (`shouldProcessService`, `isRBSBasedService`, `sync`, `syncInternal`,
//! `garbageCollectRBSNetLB`, `preventLegacyServiceHandling`), `pkg/l4/resources/l4netlb.go`
//! (`EnsureFrontend`, `ensureDualStackResources`), `l4netlbipv6.go`,
//! `forwarding_rules_ipv6.go`. Recorder component `loadbalancer-controller`
//! (`pkg/recorders/manager.go`).

use super::annotations::{self as a, has_finalizer};
use super::namer::{self, L4Namer};
use super::{address, ingress, Cluster};
use crate::inventory::{Controller, ForwardingRule, Owner};
use crate::{Event, Reconciled};
use k8s_openapi::api::core::v1::Service;

/// The recorder's component.
pub const COMPONENT: &str = "loadbalancer-controller";

fn wants_l4_netlb(svc: &Service) -> bool {
    if !a::is_load_balancer(svc) {
        return false;
    }
    match a::class(svc) {
        Some(c) => c == a::CLASS_REGIONAL_EXTERNAL,
        None => !a::is_internal(svc),
    }
}

fn has_rbs_finalizer(svc: &Service) -> bool {
    has_finalizer(svc, a::NETLB_FINALIZER_V2) || has_finalizer(svc, a::NETLB_FINALIZER_V3)
}

/// The pass of the L4 NetLB controller over `svc`.
pub fn sync(
    svc: &Service,
    cluster: &Cluster<'_>,
    existing: &[ForwardingRule],
) -> Reconciled<ForwardingRule> {
    let mut out = Reconciled::default();
    let own: Vec<ForwardingRule> = existing
        .iter()
        .filter(|r| r.controller == Controller::GceL4NetLb)
        .cloned()
        .collect();
    let uid = svc.metadata.uid.as_deref().unwrap_or("");
    let fr_name = namer::legacy_forwarding_rule_name(uid);
    let annotated = [a::TCP_FORWARDING_RULE, a::UDP_FORWARDING_RULE]
        .iter()
        .any(|k| a::annotation(svc, k) == Some(fr_name.as_str()));
    // hasRBSForwardingRule / hasTargetPoolForwardingRule
    let rbs_fr = annotated
        || existing.iter().any(|r| {
            r.name == fr_name
                && r.load_balancing_scheme == "EXTERNAL"
                && r.backend_service.is_some()
        });
    let tp_fr = !annotated
        && existing
            .iter()
            .any(|r| r.name == fr_name && r.target.is_some());
    let legacy = has_finalizer(svc, a::NETLB_FINALIZER_V1) || tp_fr;

    // shouldProcessService
    if let Some(c) = a::class(svc) {
        if c != a::CLASS_REGIONAL_EXTERNAL {
            out.resources = own;
            return out;
        }
        if a::annotation(svc, a::LB_TYPE) == Some("Internal") {
            out.events.push(Event::warning(
                COMPONENT,
                "ConflictingConfiguration",
                format!(
                    "loadBalancerClass conflicts with {}: {:?} annotation. External LoadBalancer Service provisioned.",
                    a::LB_TYPE,
                    "Internal"
                ),
            ));
        }
    }
    let is_rbs = a::is_load_balancer(svc)
        && (a::class(svc).is_some()
            || has_rbs_finalizer(svc)
            || a::has_rbs_annotation(svc)
            || (!legacy && rbs_fr));
    let needs_deletion =
        (has_rbs_finalizer(svc) || rbs_fr || a::class(svc) == Some(a::CLASS_REGIONAL_EXTERNAL))
            && (a::is_deleting(svc) || !wants_l4_netlb(svc));
    if !is_rbs && !needs_deletion {
        out.resources = own;
        return out;
    }
    if !has_rbs_finalizer(svc) && own.is_empty() && !a::is_deleting(svc) {
        // The informer's AddFunc.
        out.events
            .push(Event::normal(COMPONENT, "ADD", a::key(svc)));
    }

    // preventLegacyServiceHandling
    if legacy {
        if has_rbs_finalizer(svc) {
            out.events.push(Event::warning(
                COMPONENT,
                "TargetPoolRaceWithRBS",
                "Target Pool found on provisioned RBS service. Deleting RBS resources",
            ));
            garbage_collect(svc, &mut out);
            out.annotations.insert(a::RBS.into(), None);
        } else if a::has_rbs_annotation(svc) {
            out.events.push(Event::warning(
                COMPONENT,
                "CanNotMigrateTargetPoolToRBS",
                "RBS annotation was attached to the Legacy Target Pool service. Migration is not supported. Removing annotation",
            ));
            out.annotations.insert(a::RBS.into(), None);
            out.resources = own;
        } else {
            out.resources = own;
        }
        return out;
    }
    if needs_deletion {
        garbage_collect(svc, &mut out);
        return out;
    }
    if wants_l4_netlb(svc) {
        sync_internal(svc, cluster, own, &fr_name, &mut out);
    } else {
        out.resources = own;
    }
    out
}

/// `garbageCollectRBSNetLB`: every record goes, status and annotations are cleared, then the
/// finalizers.
fn garbage_collect(svc: &Service, out: &mut Reconciled<ForwardingRule>) {
    out.events.push(Event::normal(
        COMPONENT,
        "DeletingLoadBalancer",
        format!("Deleting L4 External LoadBalancer for {}", a::key(svc)),
    ));
    out.ingress = Some(Vec::new());
    for k in a::RESOURCE_KEYS {
        if a::annotation(svc, k).is_some() {
            out.annotations.insert(k.into(), None);
        }
    }
    for f in [a::NETLB_FINALIZER_V2, a::NETLB_FINALIZER_V3] {
        if has_finalizer(svc, f) {
            out.remove_finalizers.push(f.into());
        }
    }
    out.events.push(Event::normal(
        COMPONENT,
        "DeletedLoadBalancer",
        "Deleted L4 External LoadBalancer",
    ));
}

fn failed(out: &mut Reconciled<ForwardingRule>, err: &str) {
    out.events.push(Event::warning(
        COMPONENT,
        "SyncExternalLoadBalancerFailed",
        format!("Error ensuring Resource for L4 External LoadBalancer, err: {err}"),
    ));
}

/// `syncInternal` + `EnsureFrontend` with dual-stack on.
fn sync_internal(
    svc: &Service,
    cluster: &Cluster<'_>,
    own: Vec<ForwardingRule>,
    fr_name: &str,
    out: &mut Reconciled<ForwardingRule>,
) {
    if !has_rbs_finalizer(svc) {
        out.add_finalizers.push(a::NETLB_FINALIZER_V2.into());
    }
    let ns = svc.metadata.namespace.as_deref().unwrap_or("default");
    let name = svc.metadata.name.as_deref().unwrap_or_default();
    let ipv6_name = namer::suffixed(fr_name, "-ipv6");

    // serviceSubnetHasExternalIPv6Range
    let subnet_name = a::annotation(svc, a::CUSTOM_SUBNET)
        .map(str::to_string)
        .unwrap_or_else(|| cluster.nodes_subnet_name());
    let subnet = cluster.subnet(&subnet_name);
    if a::needs_ipv6(svc) {
        let err = match subnet {
            None => Some(format!(
                "googleapi: Error 404: The resource 'projects/{}/regions/{}/subnetworks/{subnet_name}' was not found, notFound",
                cluster.project, cluster.region
            )),
            Some(s) if s.ipv6_access_type.as_deref() != Some("EXTERNAL")
                || !matches!(s.stack_type.as_str(), "IPV4_IPV6" | "IPV6_ONLY")
                || s.external_ipv6_prefix.is_none() =>
            {
                Some(format!(
                    "subnet {subnet_name} does not have external IPv6 ranges, required for an external IPv6 Service. You can specify an external IPv6 subnet using the \"{}\" annotation on the Service",
                    a::CUSTOM_SUBNET
                ))
            }
            Some(_) => None,
        };
        if let Some(e) = err {
            failed(out, &e);
            out.resources = own;
            return;
        }
    }

    let l4 = L4Namer::new(cluster.kube_system_uid);
    let shared_hc = !a::only_local_traffic(svc);
    let backend = l4.backend(ns, name);
    let mut ann: Vec<(&str, String)> = vec![(a::HEALTHCHECK, l4.health_check(ns, name, shared_hc))];
    if a::needs_ipv4(svc) {
        ann.push((
            a::FIREWALL_RULE_FOR_HC,
            l4.health_check_firewall(ns, name, shared_hc),
        ));
    }
    if a::needs_ipv6(svc) {
        ann.push((
            a::FIREWALL_RULE_FOR_HC_IPV6,
            l4.ipv6_health_check_firewall(ns, name, shared_hc),
        ));
    }
    ann.push((a::BACKEND_SERVICE, backend.clone()));
    let bs_link = cluster.regional_url("backendServices", &backend);
    let protocol = a::protocol(svc);
    let owner = Owner {
        namespace: ns.into(),
        name: name.into(),
        uid: svc.metadata.uid.clone().unwrap_or_default(),
    };
    let find = |n: &str| own.iter().find(|r| r.name == n);
    let mut resources: Vec<ForwardingRule> = Vec::new();
    let mut status = Vec::new();

    // ensureDualStackResources: IPv4 first, then IPv6.
    if a::needs_ipv4(svc) {
        let prev = find(fr_name);
        let ip = svc
            .spec
            .as_ref()
            .and_then(|s| s.load_balancer_ip.clone())
            .filter(|s| !s.is_empty())
            .or_else(|| prev.map(|p| p.ip_address.clone()))
            .unwrap_or_else(|| {
                address::external_ipv4(cluster.project, cluster.region, fr_name).to_string()
            });
        resources.push(ForwardingRule {
            name: fr_name.into(),
            region: cluster.region.into(),
            ip_address: ip.clone(),
            ip_protocol: protocol.clone(),
            ip_version: "IPV4".into(),
            port_range: a::port_range(svc),
            ports: Vec::new(),
            load_balancing_scheme: "EXTERNAL".into(),
            network_tier: a::network_tier(svc).into(),
            backend_service: Some(bs_link.clone()),
            target: None,
            subnetwork: None,
            network: None,
            allow_global_access: false,
            description: format!(
                r#"{{"networking.gke.io/service-name":"{}","networking.gke.io/api-version":"ga","networking.gke.io/service-ip":"{ip}"}}"#,
                a::key(svc)
            ),
            creation_timestamp: prev.map_or_else(|| cluster.now.to_string(), |p| p.creation_timestamp.clone()),
            controller: Controller::GceL4NetLb,
            owner: owner.clone(),
            leaked: false,
        });
        let key = if protocol == "UDP" {
            a::UDP_FORWARDING_RULE
        } else {
            a::TCP_FORWARDING_RULE
        };
        ann.push((key, fr_name.into()));
        ann.push((a::FIREWALL_RULE, l4.firewall(ns, name)));
        status.push(ingress(ip));
    }
    if a::needs_ipv6(svc) {
        if a::network_tier(svc) == "STANDARD" {
            failed(
                out,
                "Network tier Standard is not supported for IPv6 External Load Balancer",
            );
            // What was ensured before (the IPv4 rule) stays; status and annotations are not written.
            resources.extend(own.iter().filter(|r| r.name == ipv6_name).cloned());
            out.resources = resources;
            return;
        }
        let prev = find(&ipv6_name);
        let subnet = subnet.expect("checked above");
        let range = prev.map(|p| p.ip_address.clone()).unwrap_or_else(|| {
            address::ipv6_range(
                subnet.external_ipv6_prefix.expect("checked above"),
                &ipv6_name,
            )
            .to_string()
        });
        let mut ports = a::port_list(svc);
        if ports.len() > 5 {
            ports.clear(); // allPorts
        }
        resources.push(ForwardingRule {
            name: ipv6_name.clone(),
            region: cluster.region.into(),
            ip_address: range.clone(),
            ip_protocol: protocol.clone(),
            ip_version: "IPV6".into(),
            port_range: None,
            ports,
            load_balancing_scheme: "EXTERNAL".into(),
            network_tier: "PREMIUM".into(),
            backend_service: Some(bs_link.clone()),
            target: None,
            subnetwork: Some(cluster.regional_url("subnetworks", &subnet.name)),
            network: None,
            allow_global_access: false,
            description: format!(r#"{{"networking.gke.io/service-name":"{}"}}"#, a::key(svc)),
            creation_timestamp: prev
                .map_or_else(|| cluster.now.to_string(), |p| p.creation_timestamp.clone()),
            controller: Controller::GceL4NetLb,
            owner,
            leaked: false,
        });
        let key = if protocol == "UDP" {
            a::UDP_FORWARDING_RULE_IPV6
        } else {
            a::TCP_FORWARDING_RULE_IPV6
        };
        ann.push((key, ipv6_name.clone()));
        ann.push((a::FIREWALL_RULE_IPV6, l4.ipv6_firewall(ns, name)));
        status.push(ingress(
            range.split('/').next().unwrap_or_default().to_string(),
        ));
    }
    out.resources = resources;
    out.ingress = Some(status);
    out.events.push(Event::normal(
        COMPONENT,
        "SyncLoadBalancerSuccessful",
        format!(
            "Successfully ensured {} External LoadBalancer resources",
            a::ip_families(svc).join(" ")
        ),
    ));
    // updateL4DualStackResourcesAnnotations: the whole set is replaced.
    for k in a::RESOURCE_KEYS {
        let new = ann
            .iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.clone());
        if new.as_deref() != a::annotation(svc, k) {
            out.annotations.insert(k.into(), new);
        }
    }
}
