//! The cloud-controller-manager's generic service controller (`k8s.io/cloud-provider`
//! `controllers/service/controller.go` `syncLoadBalancerIfNeeded`) with the AWS provider
//! (`kubernetes/cloud-provider-aws` `pkg/providers/v1/aws.go` `EnsureLoadBalancer`,
//! `aws_loadbalancer.go`): a Classic ELB, or an IPv4 NLB for `aws-load-balancer-type: nlb`;
//! `ImplementedElsewhere` for `external`/`nlb-ip`.

use super::lbc::annotations::key;
use super::{addresses, ids, Cluster};
use crate::inventory::{
    Controller, HealthCheck, Listener, LoadBalancer, Owner, Target, TargetGroup,
};
use crate::{Event, Reconciled};
use k8s_openapi::api::core::v1::{LoadBalancerIngress, Service};
use std::collections::BTreeMap;

pub const COMPONENT: &str = "service-controller";
pub const FINALIZER: &str = "service.kubernetes.io/load-balancer-cleanup";

/// `wantsLoadBalancer`.
pub fn wants_load_balancer(svc: &Service) -> bool {
    let spec = svc.spec.as_ref();
    spec.and_then(|s| s.type_.as_deref()) == Some("LoadBalancer")
        && spec.and_then(|s| s.load_balancer_class.as_ref()).is_none()
}

/// `isLBExternal`: the Service is the LBC's.
pub fn is_lb_external(svc: &Service) -> bool {
    matches!(
        annotation(svc, "aws-load-balancer-type").as_deref(),
        Some("nlb-ip") | Some("external")
    )
}

fn annotation(svc: &Service, suffix: &str) -> Option<String> {
    svc.metadata
        .annotations
        .as_ref()?
        .get(&key(suffix))
        .cloned()
}

/// `cloudprovider.DefaultLoadBalancerName`: `a` + the UID without dashes, cut to 32.
pub fn default_load_balancer_name(uid: &str) -> String {
    let mut n: String = format!("a{}", uid.replace('-', ""));
    n.truncate(32);
    n
}

/// What the CCM did: `Some(true)` when the provider deferred (`ImplementedElsewhere`).
pub(crate) fn reconcile(
    svc: &Service,
    cluster: &Cluster<'_>,
    existing: &[&LoadBalancer],
    has_finalizer: bool,
    out: &mut Reconciled<LoadBalancer>,
) -> bool {
    let deleting = svc.metadata.deletion_timestamp.is_some();
    if !wants_load_balancer(svc) || deleting {
        // deleteLoadBalancer: events only when `GetLoadBalancer` finds one (never for
        // external types: the provider reports "not exists" for them).
        if has_finalizer || !existing.is_empty() {
            if !existing.is_empty() && !is_lb_external(svc) {
                out.events.push(Event::normal(
                    COMPONENT,
                    "DeletingLoadBalancer",
                    "Deleting load balancer",
                ));
                out.events.push(Event::normal(
                    COMPONENT,
                    "DeletedLoadBalancer",
                    "Deleted load balancer",
                ));
            } else {
                out.resources.extend(existing.iter().map(|l| (*l).clone()));
            }
            if has_finalizer {
                out.remove_finalizers.push(FINALIZER.into());
            }
            out.ingress = Some(Vec::new());
        }
        return false;
    }
    out.events.push(Event::normal(
        COMPONENT,
        "EnsuringLoadBalancer",
        "Ensuring load balancer",
    ));
    if !has_finalizer {
        out.add_finalizers.push(FINALIZER.into());
    }
    if is_lb_external(svc) {
        // ImplementedElsewhere: logged only; `EnsureLoadBalancerDeleted` is never called, so
        // an existing in-tree load balancer stays (the caller marks it leaked).
        return true;
    }
    let (record, hostname) = build(svc, cluster, existing.first().copied());
    out.resources.push(record);
    out.ingress = Some(vec![LoadBalancerIngress {
        hostname: Some(hostname),
        ..Default::default()
    }]);
    out.events.push(Event::normal(
        COMPONENT,
        "EnsuredLoadBalancer",
        "Ensured load balancer",
    ));
    false
}

fn build(
    svc: &Service,
    c: &Cluster<'_>,
    existing: Option<&LoadBalancer>,
) -> (LoadBalancer, String) {
    let uid = svc.metadata.uid.clone().unwrap_or_default();
    let name = default_load_balancer_name(&uid);
    let nlb = annotation(svc, "aws-load-balancer-type").as_deref() == Some("nlb");
    // The provider reads only `aws-load-balancer-internal`: "false" or empty = internet-facing.
    let internal = annotation(svc, "aws-load-balancer-internal")
        .is_some_and(|v| !v.is_empty() && v != "false");
    let scheme = if internal {
        "internal"
    } else {
        "internet-facing"
    };
    let role = if internal {
        "kubernetes.io/role/internal-elb"
    } else {
        "kubernetes.io/role/elb"
    };
    let mut subnets: Vec<_> = c
        .vpc
        .subnets
        .iter()
        .filter(|s| s.tags.contains_key(role))
        .collect();
    subnets.sort_by(|a, b| {
        a.availability_zone
            .cmp(&b.availability_zone)
            .then(a.subnet_id.cmp(&b.subnet_id))
    });
    subnets.dedup_by(|a, b| a.availability_zone == b.availability_zone);
    let zones = subnets
        .iter()
        .map(|s| addresses::zone_mapping(&name, s, scheme, "ipv4", None, None, None, false, None))
        .collect();
    let spec = svc.spec.clone().unwrap_or_default();
    let ports = spec.ports.clone().unwrap_or_default();
    let local = spec.external_traffic_policy.as_deref() == Some("Local");
    let arn_prefix = format!("arn:aws:elasticloadbalancing:{}:{}", c.region, c.account_id);
    let (kind, arn, dns, zone_id) = if nlb {
        let id = ids::hex_id(&["nlb", c.account_id, c.region, &name], 16);
        (
            "network",
            format!("{arn_prefix}:loadbalancer/net/{name}/{id}"),
            format!("{name}-{id}.elb.{}.amazonaws.com", c.region),
            addresses::nlb_hosted_zone_id(c.region),
        )
    } else {
        let digits =
            ids::seed_u128(&["clb", c.account_id, c.region, &name]) % 9_000_000_000 + 1_000_000_000;
        let prefix = if internal { "internal-" } else { "" };
        (
            "classic",
            format!("{arn_prefix}:loadbalancer/{name}"),
            format!("{prefix}{name}-{digits}.{}.elb.amazonaws.com", c.region),
            addresses::clb_hosted_zone_id(c.region),
        )
    };
    let mut listeners = Vec::new();
    let mut target_groups = Vec::new();
    for p in &ports {
        let protocol = p.protocol.clone().unwrap_or_else(|| "TCP".into());
        let node_port = p.node_port.unwrap_or(0);
        let targets: Vec<Target> = c
            .instances
            .iter()
            .filter(|i| i.ready)
            .filter_map(|i| {
                Some(Target {
                    id: i.instance_id.clone(),
                    port: node_port,
                    availability_zone: i.zone.clone(),
                    ip: Some(std::net::IpAddr::V4(i.private_ipv4?)),
                    state: "healthy".into(),
                    reason: None,
                    description: None,
                })
            })
            .collect();
        let hc = health_check(
            nlb,
            local,
            spec.health_check_node_port.unwrap_or(0),
            node_port,
        );
        let tg_name = target_group_name(c.name, svc, p.port, node_port, &protocol, &hc);
        let tg_arn = if nlb {
            format!(
                "{arn_prefix}:targetgroup/{tg_name}/{}",
                ids::hex_id(&["tg", &tg_name], 16)
            )
        } else {
            String::new()
        };
        listeners.push(Listener {
            listener_arn: if nlb {
                format!(
                    "{arn}/{}",
                    ids::hex_id(&["listener", &arn, &p.port.to_string()], 16)
                )
                .replace(":loadbalancer/", ":listener/")
            } else {
                String::new()
            },
            port: p.port,
            protocol: protocol.clone(),
            target_group_arn: tg_arn.clone(),
        });
        target_groups.push(TargetGroup {
            target_group_arn: tg_arn,
            target_group_name: if nlb { tg_name } else { String::new() },
            protocol,
            port: node_port,
            target_type: "instance".into(),
            ip_address_type: "ipv4".into(),
            health_check: hc,
            attributes: BTreeMap::new(),
            targets,
        });
    }
    let mut tags = BTreeMap::new();
    tags.insert(format!("kubernetes.io/cluster/{}", c.name), "owned".into());
    tags.insert(
        "kubernetes.io/service-name".into(),
        format!(
            "{}/{}",
            svc.metadata.namespace.clone().unwrap_or_default(),
            svc.metadata.name.clone().unwrap_or_default()
        ),
    );
    let source_ranges = spec
        .load_balancer_source_ranges
        .clone()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| vec!["0.0.0.0/0".into()]);
    let created_time = existing
        .filter(|e| e.load_balancer_arn == arn)
        .map(|e| e.created_time.clone())
        .unwrap_or_else(|| c.now.into());
    let security_groups = if nlb {
        Vec::new()
    } else {
        vec![format!(
            "sg-{}",
            ids::hex_id(&["sg", c.account_id, &name], 17)
        )]
    };
    let record = LoadBalancer {
        load_balancer_arn: arn,
        load_balancer_name: name,
        dns_name: dns.clone(),
        canonical_hosted_zone_id: zone_id,
        kind: kind.into(),
        scheme: scheme.into(),
        ip_address_type: "ipv4".into(),
        vpc_id: c.vpc.vpc_id.clone(),
        availability_zones: zones,
        created_time,
        state: "active".into(),
        security_groups,
        listeners,
        target_groups,
        attributes: BTreeMap::new(),
        tags,
        source_ranges,
        controller: Controller::AwsCloudProvider,
        owner: Owner {
            namespace: svc.metadata.namespace.clone().unwrap_or_default(),
            name: svc.metadata.name.clone().unwrap_or_default(),
            uid,
        },
        leaked: false,
    };
    (record, dns)
}

/// The provider's health checks: Classic ELB `TCP:<nodePort>` 10s/5s/2/6; in-tree NLB TCP
/// traffic-port 30s/10s/3/3; with `externalTrafficPolicy: Local` HTTP `/healthz` on the
/// health check NodePort.
/// `buildTargetGroupName` (`aws_loadbalancer.go`): `k8s-{namespace:8}-{name:8}-{uuid:10}`, the
/// uuid the hex SHA-1 of the cluster ID, namespace, name, service port, node port, protocol,
/// target type, health check protocol and interval; namespace and name keep only alphanumerics.
fn target_group_name(
    cluster_id: &str,
    svc: &Service,
    port: i32,
    node_port: i32,
    protocol: &str,
    hc: &HealthCheck,
) -> String {
    let ns = svc.metadata.namespace.as_deref().unwrap_or("default");
    let name = svc.metadata.name.as_deref().unwrap_or_default();
    let input = [
        cluster_id,
        ns,
        name,
        &port.to_string(),
        &node_port.to_string(),
        protocol,
        "instance",
        &hc.protocol,
        &hc.interval_seconds.to_string(),
    ]
    .concat();
    let uuid = ids::hex(
        ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, input.as_bytes()).as_ref(),
    );
    let clean = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .take(8)
            .collect()
    };
    format!("k8s-{}-{}-{}", clean(ns), clean(name), &uuid[..10])
}

/// `buildNLBHealthCheckConfiguration` (`aws.go`: TCP on the traffic port, 30/10/3/3; with
/// `externalTrafficPolicy: Local` HTTP on the health check node port, 10/10/2/2) and the
/// Classic ELB's `defaultElbHC*` (10/5/2/6) in `aws_loadbalancer.go`.
fn health_check(nlb: bool, local: bool, hcnp: i32, node_port: i32) -> HealthCheck {
    let (interval, timeout, healthy, unhealthy) = match (nlb, local) {
        (true, false) => (30, 10, 3, 3),
        (true, true) => (10, 10, 2, 2),
        (false, _) => (10, 5, 2, 6),
    };
    if local {
        return HealthCheck {
            protocol: "HTTP".into(),
            port: hcnp.to_string(),
            path: Some("/healthz".into()),
            interval_seconds: interval,
            timeout_seconds: timeout,
            healthy_threshold_count: healthy,
            unhealthy_threshold_count: unhealthy,
            matcher: nlb.then(|| "200-399".into()),
        };
    }
    HealthCheck {
        protocol: "TCP".into(),
        port: if nlb {
            "traffic-port".into()
        } else {
            node_port.to_string()
        },
        path: None,
        interval_seconds: interval,
        timeout_seconds: timeout,
        healthy_threshold_count: healthy,
        unhealthy_threshold_count: unhealthy,
        matcher: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected names computed with Python's hashlib over the same concatenation.
    #[test]
    fn in_tree_target_group_names_follow_build_target_group_name() {
        let svc = |ns: &str, name: &str| {
            let mut s = Service::default();
            s.metadata.namespace = Some(ns.into());
            s.metadata.name = Some(name.into());
            s
        };
        let tcp = health_check(true, false, 0, 30080);
        assert_eq!(
            target_group_name(
                "shoot--kyma--c-1a2b3c",
                &svc("default", "web"),
                80,
                30080,
                "TCP",
                &tcp
            ),
            "k8s-default-web-89b918e45b"
        );
        let local = health_check(true, true, 31999, 31000);
        assert_eq!((local.interval_seconds, local.timeout_seconds), (10, 10));
        assert_eq!(
            target_group_name(
                "shoot--kyma--c-1a2b3c",
                &svc("my-namespace", "web.front-end"),
                443,
                31000,
                "UDP",
                &local
            ),
            "k8s-mynamesp-webfront-be43570cc8"
        );
    }
}
