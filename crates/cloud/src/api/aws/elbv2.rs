//! ELBv2 read actions (`aws elbv2 describe-*`). Errors carry the texts AWS answers
//! (`LoadBalancerNotFound` "Load balancers '[a, b]' not found" for names, "One or more load
//! balancers not found" for ARNs, ...). Paging (`Marker`, `PageSize`) is accepted and every
//! record answered on one page.

use super::{list, param, Answer, AwsError, AwsView};
use crate::api::xml::Xml;
use crate::inventory::{LoadBalancer, Target, TargetGroup};
use std::collections::BTreeMap;

pub(super) fn answer(action: &str, params: &[(String, String)], view: &AwsView<'_>) -> Answer {
    Some(match action {
        "DescribeLoadBalancers" => describe_load_balancers(params, view),
        "DescribeTargetGroups" => describe_target_groups(params, view),
        "DescribeTargetHealth" => describe_target_health(params, view),
        "DescribeListeners" => describe_listeners(params, view),
        "DescribeTags" => describe_tags(params, view),
        "DescribeLoadBalancerAttributes" => describe_load_balancer_attributes(params, view),
        "DescribeTargetGroupAttributes" => describe_target_group_attributes(params, view),
        _ => return None,
    })
}

/// The load balancers ELBv2 lists: not the Classic ELBs.
fn load_balancers<'a>(view: &'a AwsView<'_>) -> impl Iterator<Item = &'a LoadBalancer> {
    view.load_balancers.iter().filter(|lb| lb.kind != "classic")
}

fn target_groups<'a>(
    view: &'a AwsView<'_>,
) -> impl Iterator<Item = (&'a LoadBalancer, &'a TargetGroup)> {
    load_balancers(view).flat_map(|lb| lb.target_groups.iter().map(move |tg| (lb, tg)))
}

fn find_load_balancer<'a>(view: &'a AwsView<'_>, arn: &str) -> Result<&'a LoadBalancer, AwsError> {
    load_balancers(view)
        .find(|lb| lb.load_balancer_arn == arn)
        .ok_or_else(|| {
            AwsError::new(
                400,
                "LoadBalancerNotFound",
                format!("Load balancer '{arn}' not found"),
            )
        })
}

fn find_target_group<'a>(
    view: &'a AwsView<'_>,
    arn: &str,
) -> Result<(&'a LoadBalancer, &'a TargetGroup), AwsError> {
    target_groups(view)
        .find(|(_, tg)| tg.target_group_arn == arn)
        .ok_or_else(|| target_groups_not_found(&[]))
}

fn target_groups_not_found(names: &[&str]) -> AwsError {
    let message = if names.is_empty() {
        "One or more target groups not found".to_string()
    } else {
        format!("Target groups '[{}]' not found", names.join(", "))
    };
    AwsError::new(400, "TargetGroupNotFound", message)
}

fn required<'a>(
    params: &'a [(String, String)],
    name: &str,
    field: &str,
) -> Result<&'a str, AwsError> {
    param(params, name).filter(|v| !v.is_empty()).ok_or_else(|| {
        AwsError::new(
            400,
            "ValidationError",
            format!("1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"),
        )
    })
}

fn describe_load_balancers(
    params: &[(String, String)],
    view: &AwsView<'_>,
) -> Result<String, AwsError> {
    let names = list(params, "Names.member");
    let arns = list(params, "LoadBalancerArns.member");
    if !names.is_empty() && !arns.is_empty() {
        return Err(AwsError::new(
            400,
            "ValidationError",
            "Load balancer names and load balancer ARNs cannot be specified at the same time",
        ));
    }
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !load_balancers(view).any(|lb| lb.load_balancer_name == *n))
        .collect();
    if !missing.is_empty() {
        return Err(AwsError::new(
            400,
            "LoadBalancerNotFound",
            format!("Load balancers '[{}]' not found", missing.join(", ")),
        ));
    }
    if arns
        .iter()
        .any(|a| !load_balancers(view).any(|lb| lb.load_balancer_arn == *a))
    {
        return Err(AwsError::new(
            400,
            "LoadBalancerNotFound",
            "One or more load balancers not found",
        ));
    }
    let mut x = Xml::new();
    x.elem("LoadBalancers", |x| {
        for lb in load_balancers(view).filter(|lb| {
            (names.is_empty() || names.contains(&lb.load_balancer_name.as_str()))
                && (arns.is_empty() || arns.contains(&lb.load_balancer_arn.as_str()))
        }) {
            x.elem("member", |x| load_balancer(x, lb));
        }
    });
    Ok(x.finish())
}

fn load_balancer(x: &mut Xml, lb: &LoadBalancer) {
    x.leaf("LoadBalancerArn", &lb.load_balancer_arn);
    x.leaf("DNSName", &lb.dns_name);
    x.leaf("CanonicalHostedZoneId", &lb.canonical_hosted_zone_id);
    x.leaf("CreatedTime", &lb.created_time);
    x.leaf("LoadBalancerName", &lb.load_balancer_name);
    x.leaf("Scheme", &lb.scheme);
    x.leaf("VpcId", &lb.vpc_id);
    x.elem("State", |x| {
        x.leaf("Code", &lb.state);
    });
    x.leaf("Type", &lb.kind);
    x.elem("AvailabilityZones", |x| {
        for zone in &lb.availability_zones {
            x.elem("member", |x| {
                x.leaf("ZoneName", &zone.zone_name);
                x.leaf("SubnetId", &zone.subnet_id);
                x.elem("LoadBalancerAddresses", |x| {
                    x.elem("member", |x| {
                        x.opt("IpAddress", zone.ipv4_address);
                        x.opt("AllocationId", zone.allocation_id.as_ref());
                        x.leaf("PrivateIPv4Address", zone.private_ipv4_address);
                        x.opt("IPv6Address", zone.ipv6_address);
                    });
                });
                if let Some(prefix) = &zone.source_nat_ipv6_prefix {
                    x.elem("SourceNatIpv6Prefixes", |x| {
                        x.leaf("member", prefix);
                    });
                }
            });
        }
    });
    if !lb.security_groups.is_empty() {
        x.elem("SecurityGroups", |x| {
            for sg in &lb.security_groups {
                x.leaf("member", sg);
            }
        });
    }
    x.leaf("IpAddressType", &lb.ip_address_type);
    if lb.ip_address_type == "dualstack" {
        let on = lb
            .availability_zones
            .iter()
            .any(|z| z.source_nat_ipv6_prefix.is_some());
        x.leaf(
            "EnablePrefixForIpv6SourceNat",
            if on { "on" } else { "off" },
        );
    }
}

fn describe_target_groups(
    params: &[(String, String)],
    view: &AwsView<'_>,
) -> Result<String, AwsError> {
    let lb_arn = param(params, "LoadBalancerArn").filter(|a| !a.is_empty());
    let arns = list(params, "TargetGroupArns.member");
    let names = list(params, "Names.member");
    if let Some(arn) = lb_arn {
        find_load_balancer(view, arn)?;
    }
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !target_groups(view).any(|(_, tg)| tg.target_group_name == *n))
        .collect();
    if !missing.is_empty() {
        return Err(target_groups_not_found(&missing));
    }
    if arns
        .iter()
        .any(|a| !target_groups(view).any(|(_, tg)| tg.target_group_arn == *a))
    {
        return Err(target_groups_not_found(&[]));
    }
    let mut x = Xml::new();
    x.elem("TargetGroups", |x| {
        for (lb, tg) in target_groups(view).filter(|(lb, tg)| {
            lb_arn.is_none_or(|a| lb.load_balancer_arn == a)
                && (arns.is_empty() || arns.contains(&tg.target_group_arn.as_str()))
                && (names.is_empty() || names.contains(&tg.target_group_name.as_str()))
        }) {
            x.elem("member", |x| target_group(x, lb, tg));
        }
    });
    Ok(x.finish())
}

fn target_group(x: &mut Xml, lb: &LoadBalancer, tg: &TargetGroup) {
    let hc = &tg.health_check;
    x.leaf("TargetGroupArn", &tg.target_group_arn);
    x.leaf("TargetGroupName", &tg.target_group_name);
    x.leaf("Protocol", &tg.protocol);
    x.leaf("Port", tg.port);
    x.leaf("VpcId", &lb.vpc_id);
    x.leaf("HealthCheckProtocol", &hc.protocol);
    x.leaf("HealthCheckPort", &hc.port);
    x.leaf("HealthCheckEnabled", "true");
    x.leaf("HealthCheckIntervalSeconds", hc.interval_seconds);
    x.leaf("HealthCheckTimeoutSeconds", hc.timeout_seconds);
    x.leaf("HealthyThresholdCount", hc.healthy_threshold_count);
    x.leaf("UnhealthyThresholdCount", hc.unhealthy_threshold_count);
    x.opt("HealthCheckPath", hc.path.as_ref());
    if let Some(codes) = &hc.matcher {
        x.elem("Matcher", |x| {
            x.leaf("HttpCode", codes);
        });
    }
    x.elem("LoadBalancerArns", |x| {
        x.leaf("member", &lb.load_balancer_arn);
    });
    x.leaf("TargetType", &tg.target_type);
    x.leaf("IpAddressType", &tg.ip_address_type);
}

fn describe_target_health(
    params: &[(String, String)],
    view: &AwsView<'_>,
) -> Result<String, AwsError> {
    let arn = required(params, "TargetGroupArn", "targetGroupArn")?;
    let (_, tg) = find_target_group(view, arn)?;
    // `Targets.member.N.Id` / `.Port`: those targets only; one not registered is `unused`.
    let mut requested: BTreeMap<u32, (Option<&str>, Option<i32>)> = BTreeMap::new();
    for (name, value) in params {
        let Some(rest) = name.strip_prefix("Targets.member.") else {
            continue;
        };
        let Some((index, field)) = rest.split_once('.') else {
            continue;
        };
        let Ok(index) = index.parse::<u32>() else {
            continue;
        };
        let entry = requested.entry(index).or_default();
        match field {
            "Id" => entry.0 = Some(value.as_str()),
            "Port" => entry.1 = value.parse().ok(),
            _ => {}
        }
    }
    let mut x = Xml::new();
    x.elem("TargetHealthDescriptions", |x| {
        if requested.is_empty() {
            for target in &tg.targets {
                x.elem("member", |x| target_health(x, tg, target));
            }
            return;
        }
        for (id, port) in requested.values() {
            let id = id.unwrap_or_default();
            let port = port.unwrap_or(tg.port);
            match tg.targets.iter().find(|t| t.id == id && t.port == port) {
                Some(target) => x.elem("member", |x| target_health(x, tg, target)),
                None => x.elem("member", |x| {
                    x.elem("Target", |x| {
                        x.leaf("Id", id);
                        x.leaf("Port", port);
                    });
                    x.leaf("HealthCheckPort", health_check_port(tg, port));
                    x.elem("TargetHealth", |x| {
                        x.leaf("State", "unused");
                        x.leaf("Reason", "Target.NotRegistered");
                        x.leaf(
                            "Description",
                            "Target is not registered to the target group",
                        );
                    });
                }),
            };
        }
    });
    Ok(x.finish())
}

/// The port health checks go to: the target's own for `traffic-port`.
fn health_check_port(tg: &TargetGroup, target_port: i32) -> String {
    if tg.health_check.port == "traffic-port" {
        target_port.to_string()
    } else {
        tg.health_check.port.clone()
    }
}

fn target_health(x: &mut Xml, tg: &TargetGroup, target: &Target) {
    x.elem("Target", |x| {
        x.leaf("Id", &target.id);
        x.leaf("Port", target.port);
        x.leaf("AvailabilityZone", &target.availability_zone);
    });
    x.leaf("HealthCheckPort", health_check_port(tg, target.port));
    x.elem("TargetHealth", |x| {
        x.leaf("State", &target.state);
        x.opt("Reason", target.reason.as_ref());
        x.opt("Description", target.description.as_ref());
    });
}

fn describe_listeners(params: &[(String, String)], view: &AwsView<'_>) -> Result<String, AwsError> {
    let lb_arn = param(params, "LoadBalancerArn").filter(|a| !a.is_empty());
    let arns = list(params, "ListenerArns.member");
    if lb_arn.is_none() && arns.is_empty() {
        return Err(AwsError::new(
            400,
            "ValidationError",
            "You must specify either listener ARNs or a load balancer ARN",
        ));
    }
    if let Some(arn) = lb_arn {
        find_load_balancer(view, arn)?;
    }
    let listeners =
        || load_balancers(view).flat_map(|lb| lb.listeners.iter().map(move |l| (lb, l)));
    if arns
        .iter()
        .any(|a| !listeners().any(|(_, l)| l.listener_arn == *a))
    {
        return Err(AwsError::new(
            400,
            "ListenerNotFound",
            "One or more listeners not found",
        ));
    }
    let mut x = Xml::new();
    x.elem("Listeners", |x| {
        for (lb, listener) in listeners().filter(|(lb, l)| {
            lb_arn.is_none_or(|a| lb.load_balancer_arn == a)
                && (arns.is_empty() || arns.contains(&l.listener_arn.as_str()))
        }) {
            x.elem("member", |x| {
                x.leaf("ListenerArn", &listener.listener_arn);
                x.leaf("LoadBalancerArn", &lb.load_balancer_arn);
                x.leaf("Port", listener.port);
                x.leaf("Protocol", &listener.protocol);
                x.elem("DefaultActions", |x| {
                    x.elem("member", |x| {
                        x.leaf("Type", "forward");
                        x.leaf("TargetGroupArn", &listener.target_group_arn);
                        x.elem("ForwardConfig", |x| {
                            x.elem("TargetGroups", |x| {
                                x.elem("member", |x| {
                                    x.leaf("TargetGroupArn", &listener.target_group_arn);
                                    x.leaf("Weight", 1);
                                });
                            });
                            x.elem("TargetGroupStickinessConfig", |x| {
                                x.leaf("Enabled", "false");
                            });
                        });
                    });
                });
            });
        }
    });
    Ok(x.finish())
}

/// Tags of load balancers (their own), target groups and listeners (none in the inventory: an
/// empty list).
fn describe_tags(params: &[(String, String)], view: &AwsView<'_>) -> Result<String, AwsError> {
    let arns = list(params, "ResourceArns.member");
    if arns.is_empty() {
        return Err(AwsError::new(
            400,
            "ValidationError",
            "1 validation error detected: Value null at 'resourceArns' failed to satisfy constraint: Member must not be null",
        ));
    }
    let empty = BTreeMap::new();
    let mut found: Vec<(&str, &BTreeMap<String, String>)> = Vec::new();
    for arn in &arns {
        if let Some(lb) = load_balancers(view).find(|lb| lb.load_balancer_arn == *arn) {
            found.push((arn, &lb.tags));
        } else if target_groups(view).any(|(_, tg)| tg.target_group_arn == *arn)
            || load_balancers(view).any(|lb| lb.listeners.iter().any(|l| l.listener_arn == *arn))
        {
            found.push((arn, &empty));
        } else if arn.contains(":targetgroup/") {
            return Err(target_groups_not_found(&[]));
        } else if arn.contains(":listener/") {
            return Err(AwsError::new(
                400,
                "ListenerNotFound",
                "One or more listeners not found",
            ));
        } else {
            return Err(AwsError::new(
                400,
                "LoadBalancerNotFound",
                format!("Load balancer '{arn}' not found"),
            ));
        }
    }
    let mut x = Xml::new();
    x.elem("TagDescriptions", |x| {
        for (arn, tags) in &found {
            x.elem("member", |x| {
                x.leaf("ResourceArn", arn);
                x.elem("Tags", |x| key_values(x, tags));
            });
        }
    });
    Ok(x.finish())
}

fn key_values(x: &mut Xml, map: &BTreeMap<String, String>) {
    for (key, value) in map {
        x.elem("member", |x| {
            x.leaf("Key", key);
            x.leaf("Value", value);
        });
    }
}

fn describe_load_balancer_attributes(
    params: &[(String, String)],
    view: &AwsView<'_>,
) -> Result<String, AwsError> {
    let lb = find_load_balancer(
        view,
        required(params, "LoadBalancerArn", "loadBalancerArn")?,
    )?;
    let mut x = Xml::new();
    x.elem("Attributes", |x| key_values(x, &lb.attributes));
    Ok(x.finish())
}

fn describe_target_group_attributes(
    params: &[(String, String)],
    view: &AwsView<'_>,
) -> Result<String, AwsError> {
    let (_, tg) = find_target_group(view, required(params, "TargetGroupArn", "targetGroupArn")?)?;
    let mut x = Xml::new();
    x.elem("Attributes", |x| key_values(x, &tg.attributes));
    Ok(x.finish())
}
