//! What the LBC's stack deployer leaves in the cloud for a model (`pkg/deploy`): the NLB with
//! its zone mappings and addresses, a listener and a target group per port, the targets the
//! TargetGroupBinding controller registers, the DNS name AWS gives it. AWS's random parts are
//! derived from the names (see `ids`).

use super::model_build_target_group::preserve_client_ip;
use super::{LbSpec, Task, TgSpec};
use crate::aws::{addresses, ids, Endpoint};
use crate::inventory::{
    Controller, Listener, LoadBalancer, Owner, Target, TargetGroup, ZoneMapping,
};
use k8s_openapi::api::core::v1::{LoadBalancerIngress, PortStatus};
use std::net::IpAddr;

pub(super) struct Deployed {
    pub record: LoadBalancer,
    pub ingress: LoadBalancerIngress,
    /// An ELBv2 API error (the stack is partly deployed).
    pub error: Option<String>,
}

pub(super) fn deploy(
    task: &Task<'_>,
    lb: &LbSpec<'_>,
    tgs: &[TgSpec],
    endpoints: &[Endpoint],
) -> Deployed {
    let c = task.cluster;
    let arn_prefix = format!("arn:aws:elasticloadbalancing:{}:{}", c.region, c.account_id);
    let lb_id = ids::hex_id(&["nlb", c.account_id, c.region, &lb.name], 16);
    let lb_arn = format!("{arn_prefix}:loadbalancer/net/{}/{lb_id}", lb.name);
    let dns_name = format!("{}-{lb_id}.elb.{}.amazonaws.com", lb.name, c.region).to_lowercase();
    let zones: Vec<ZoneMapping> = lb
        .subnets
        .iter()
        .zip(&lb.mappings)
        .map(|(s, m)| {
            addresses::zone_mapping(
                &lb.name,
                s,
                &lb.scheme,
                &lb.ip_address_type,
                m.private_ipv4,
                m.allocation_id.clone(),
                m.ipv6,
                lb.source_nat,
                m.source_nat_prefix.clone(),
            )
        })
        .collect();
    let mut error = None;
    let mut listeners = Vec::new();
    let mut target_groups = Vec::new();
    for tg in tgs {
        let tg_id = ids::hex_id(
            &["tg", c.account_id, c.region, &tg.name, &tg.ip_address_type],
            16,
        );
        let tg_arn = format!("{arn_prefix}:targetgroup/{}/{tg_id}", tg.name);
        let mut attributes = tg.attributes.clone();
        attributes.insert(
            "preserve_client_ip.enabled".into(),
            preserve_client_ip(&tg.target_type, &tg.attributes).to_string(),
        );
        target_groups.push(TargetGroup {
            target_group_arn: tg_arn.clone(),
            target_group_name: tg.name.clone(),
            protocol: tg.protocol.clone(),
            port: tg.port,
            target_type: tg.target_type.clone(),
            ip_address_type: tg.ip_address_type.clone(),
            health_check: tg.health_check.clone(),
            attributes,
            targets: targets(task, tg, endpoints),
        });
        // UDP on a dualstack NLB needs source NAT for IPv6 (PR #3926, #4795): AWS rejects the
        // listener. The exact AWS text is unverified (fidelity doc).
        if error.is_none()
            && lb.ip_address_type == "dualstack"
            && !lb.source_nat
            && matches!(tg.protocol.as_str(), "UDP" | "TCP_UDP")
        {
            error = Some(format!(
                "operation error Elastic Load Balancing v2: CreateListener, https response error StatusCode: 400, RequestID: {}, api error ValidationError: Listeners with protocol '{}' are not supported for load balancers with IP address type 'dualstack' unless prefix for IPv6 source NAT is enabled",
                super::subnets::request_id(&["CreateListener", &lb.name, &tg.svc_port.port.to_string()]),
                tg.protocol
            ));
            continue;
        }
        listeners.push(Listener {
            listener_arn: format!(
                "{arn_prefix}:listener/net/{}/{lb_id}/{}",
                lb.name,
                ids::hex_id(
                    &[
                        "listener",
                        &lb_arn,
                        &tg.svc_port.port.to_string(),
                        &tg.protocol
                    ],
                    16
                )
            ),
            port: tg.svc_port.port,
            protocol: tg.protocol.clone(),
            target_group_arn: tg_arn,
        });
    }
    let security_groups = if lb.managed_sg {
        vec![format!(
            "sg-{}",
            ids::hex_id(&["sg", c.account_id, c.region, &lb.name], 17)
        )]
    } else {
        Vec::new()
    };
    let mut attributes = lb.attributes.clone();
    if lb.source_nat {
        attributes.insert("enable_prefix_for_ipv6_source_nat".into(), "on".into());
    }
    let created_time = task
        .existing
        .filter(|e| e.load_balancer_arn == lb_arn)
        .map(|e| e.created_time.clone())
        .unwrap_or_else(|| c.now.to_string());
    let record = LoadBalancer {
        load_balancer_arn: lb_arn,
        load_balancer_name: lb.name.clone(),
        dns_name: dns_name.clone(),
        canonical_hosted_zone_id: addresses::nlb_hosted_zone_id(c.region),
        kind: "network".into(),
        scheme: lb.scheme.clone(),
        ip_address_type: lb.ip_address_type.clone(),
        vpc_id: c.vpc.vpc_id.clone(),
        availability_zones: zones,
        created_time,
        state: "active".into(),
        security_groups,
        listeners,
        target_groups,
        attributes,
        tags: lb.tags.clone(),
        source_ranges: lb.source_ranges.clone(),
        controller: Controller::AwsLoadBalancerController,
        owner: Owner {
            namespace: task.namespace.into(),
            name: task.name.into(),
            uid: task.uid.into(),
        },
        leaked: false,
    };
    // `updateServiceStatus`: one lower-cased hostname with the Service's ports (≥ v2.17.0).
    let ports = task
        .svc
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .map(|ps| {
            ps.iter()
                .map(|p| PortStatus {
                    port: p.port,
                    protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                    error: None,
                })
                .collect()
        });
    let ingress = LoadBalancerIngress {
        hostname: Some(dns_name),
        ports,
        ..Default::default()
    };
    Deployed {
        record,
        ingress,
        error,
    }
}

/// The targets the TargetGroupBinding registers: ready nodes (matching the node selector) on
/// the NodePort for instance targets; ready endpoints of the group's family on the target
/// port for ip targets.
fn targets(task: &Task<'_>, tg: &TgSpec, endpoints: &[Endpoint]) -> Vec<Target> {
    let v6 = tg.ip_address_type == "ipv6";
    let local = task
        .svc
        .spec
        .as_ref()
        .and_then(|s| s.external_traffic_policy.as_deref())
        == Some("Local");
    if tg.target_type == "instance" {
        let mut out: Vec<Target> = task
            .cluster
            .instances
            .iter()
            .filter(|i| i.ready)
            .filter(|i| {
                tg.node_selector
                    .as_ref()
                    .is_none_or(|sel| sel.iter().all(|(k, v)| i.labels.get(k) == Some(v)))
            })
            .filter_map(|i| {
                // AWS refuses instances without a primary IPv6 in an IPv6 target group
                // (`InvalidTarget`, reported on the TargetGroupBinding): not registered.
                let ip: IpAddr = if v6 {
                    IpAddr::V6(i.primary_ipv6?)
                } else {
                    IpAddr::V4(i.private_ipv4?)
                };
                let serving = !local
                    || endpoints
                        .iter()
                        .any(|e| e.ready && e.node_name.as_deref() == Some(i.node_name.as_str()));
                Some(Target {
                    id: i.instance_id.clone(),
                    port: tg.port,
                    availability_zone: i.zone.clone(),
                    ip: Some(ip),
                    state: if serving { "healthy" } else { "unhealthy" }.into(),
                    reason: (!serving).then(|| "Target.FailedHealthChecks".to_string()),
                    description: (!serving).then(|| "Health checks failed".to_string()),
                })
            })
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        return out;
    }
    let port_name = tg.svc_port.name.clone().unwrap_or_default();
    let mut out: Vec<Target> = endpoints
        .iter()
        .filter(|e| e.ready && e.ip.is_ipv6() == v6)
        .filter_map(|e| {
            let port = e
                .ports
                .iter()
                .find(|(n, _)| *n == port_name)
                .map(|(_, p)| *p)?;
            Some(Target {
                id: e.ip.to_string(),
                port,
                availability_zone: e.zone.clone().unwrap_or_else(|| "all".into()),
                ip: Some(e.ip),
                state: "healthy".into(),
                reason: None,
                description: None,
            })
        })
        .collect();
    out.sort_by(|a, b| (a.id.as_str(), a.port).cmp(&(b.id.as_str(), b.port)));
    out
}
