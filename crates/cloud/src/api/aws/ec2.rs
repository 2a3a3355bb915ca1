//! EC2 read actions (`aws ec2 describe-vpcs|describe-subnets|describe-availability-zones`)
//! over the runtime's VPC. Filters (`Filter.N.Name`, `Filter.N.Value.M`) as EC2 applies them:
//! values of one filter OR-ed, filters AND-ed, `*` and `?` wildcards; an unknown filter name is
//! `InvalidParameterValue`. Paging (`MaxResults`, `NextToken`) is accepted and everything
//! answered on one page.

use super::{list, param, Answer, AwsError, AwsView};
use crate::api::short_hash;
use crate::api::xml::Xml;
use crate::inventory::Subnet;
use std::collections::BTreeMap;

pub(super) fn answer(action: &str, params: &[(String, String)], view: &AwsView<'_>) -> Answer {
    Some(match action {
        "DescribeVpcs" => describe_vpcs(params, view),
        "DescribeSubnets" => describe_subnets(params, view),
        "DescribeAvailabilityZones" => describe_availability_zones(params, view),
        _ => return None,
    })
}

/// One `Filter.N`: a name and the values any of which may match.
struct Filter<'a> {
    name: &'a str,
    values: Vec<&'a str>,
}

fn filters(params: &[(String, String)]) -> Vec<Filter<'_>> {
    let mut indexes: Vec<u32> = params
        .iter()
        .filter_map(|(n, _)| {
            n.strip_prefix("Filter.")?
                .strip_suffix(".Name")?
                .parse()
                .ok()
        })
        .collect();
    indexes.sort_unstable();
    indexes.dedup();
    indexes
        .into_iter()
        .filter_map(|i| {
            let name = param(params, &format!("Filter.{i}.Name"))?;
            Some(Filter {
                name,
                values: list(params, &format!("Filter.{i}.Value")),
            })
        })
        .collect()
}

/// EC2's filter wildcards: `*` any run, `?` one character, `\` escapes.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matching with backtracking to the last `*` (linear in practice, no recursion).
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        let (literal, width) = match p.get(pi) {
            Some('\\') => (p.get(pi + 1).copied(), 2),
            Some(&c) => (Some(c), 1),
            None => (None, 1),
        };
        if width == 1 && literal == Some('*') {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if (width == 1 && literal == Some('?')) || literal.is_some_and(|c| c == t[ti]) {
            pi += width;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while p.get(pi) == Some(&'*') {
        pi += 1;
    }
    pi == p.len()
}

/// Whether one of `filter`'s values matches one of `candidates`.
fn any_match(filter: &Filter<'_>, candidates: &[&str]) -> bool {
    filter
        .values
        .iter()
        .any(|v| candidates.iter().any(|c| glob(v, c)))
}

fn invalid_filter(name: &str) -> AwsError {
    AwsError::new(
        400,
        "InvalidParameterValue",
        format!("The filter '{name}' is invalid"),
    )
}

/// Matches the filters every resource has: `tag:<key>`, `tag-key`, `tag-value`, `owner-id`.
fn common_filter(
    filter: &Filter<'_>,
    tags: &BTreeMap<String, String>,
    owner: &str,
) -> Option<bool> {
    if let Some(key) = filter.name.strip_prefix("tag:") {
        return Some(tags.get(key).is_some_and(|v| any_match(filter, &[v])));
    }
    Some(match filter.name {
        "tag-key" => tags.keys().any(|k| any_match(filter, &[k])),
        "tag-value" => tags.values().any(|v| any_match(filter, &[v])),
        "owner-id" => any_match(filter, &[owner]),
        _ => return None,
    })
}

fn describe_vpcs(params: &[(String, String)], view: &AwsView<'_>) -> Result<String, AwsError> {
    let vpc = view.vpc;
    let ids = list(params, "VpcId");
    if let Some(id) = ids.iter().find(|id| **id != vpc.vpc_id) {
        return Err(AwsError::new(
            400,
            "InvalidVpcID.NotFound",
            format!("The vpc ID '{id}' does not exist"),
        ));
    }
    let cidr = vpc.cidr_block.to_string();
    let ipv6 = vpc.ipv6_cidr_block.map(|c| c.to_string());
    let mut keep = true;
    for f in filters(params) {
        keep &= match f.name {
            "vpc-id" => any_match(&f, &[&vpc.vpc_id]),
            "cidr" | "cidr-block-association.cidr-block" => any_match(&f, &[&cidr]),
            "ipv6-cidr-block-association.ipv6-cidr-block" => {
                ipv6.as_deref().is_some_and(|c| any_match(&f, &[c]))
            }
            "state" => any_match(&f, &["available"]),
            "is-default" => any_match(&f, &["false"]),
            _ => common_filter(&f, &vpc.tags, view.account_id)
                .ok_or_else(|| invalid_filter(f.name))?,
        };
    }
    let mut x = Xml::new();
    x.elem("vpcSet", |x| {
        if !keep {
            return;
        }
        x.elem("item", |x| {
            x.leaf("vpcId", &vpc.vpc_id);
            x.leaf("ownerId", view.account_id);
            x.leaf("state", "available");
            x.leaf("cidrBlock", &cidr);
            x.elem("cidrBlockAssociationSet", |x| {
                x.elem("item", |x| {
                    x.leaf("cidrBlock", &cidr);
                    x.leaf(
                        "associationId",
                        format!(
                            "vpc-cidr-assoc-{}",
                            short_hash(&format!("{}/{cidr}", vpc.vpc_id), 17)
                        ),
                    );
                    x.elem("cidrBlockState", |x| {
                        x.leaf("state", "associated");
                    });
                });
            });
            if let Some(ipv6) = &ipv6 {
                x.elem("ipv6CidrBlockAssociationSet", |x| {
                    x.elem("item", |x| {
                        x.leaf("ipv6CidrBlock", ipv6);
                        x.leaf(
                            "associationId",
                            format!(
                                "vpc-cidr-assoc-{}",
                                short_hash(&format!("{}/{ipv6}", vpc.vpc_id), 17)
                            ),
                        );
                        x.elem("ipv6CidrBlockState", |x| {
                            x.leaf("state", "associated");
                        });
                        x.leaf("networkBorderGroup", view.region);
                        x.leaf("ipv6Pool", "Amazon");
                        x.leaf("ipv6AddressAttribute", "public");
                        x.leaf("ipSource", "amazon");
                    });
                });
            }
            x.leaf("instanceTenancy", "default");
            x.leaf("isDefault", "false");
            tag_set(x, &vpc.tags);
        });
    });
    Ok(x.finish())
}

fn tag_set(x: &mut Xml, tags: &BTreeMap<String, String>) {
    if tags.is_empty() {
        return;
    }
    x.elem("tagSet", |x| {
        for (key, value) in tags {
            x.elem("item", |x| {
                x.leaf("key", key);
                x.leaf("value", value);
            });
        }
    });
}

fn subnet_matches(f: &Filter<'_>, s: &Subnet, view: &AwsView<'_>) -> Result<bool, AwsError> {
    let cidr = s.cidr_block.to_string();
    let ipv6 = s.ipv6_cidr_block.map(|c| c.to_string());
    Ok(match f.name {
        "vpc-id" => any_match(f, &[&s.vpc_id]),
        "subnet-id" => any_match(f, &[&s.subnet_id]),
        "availability-zone" | "availabilityZone" => any_match(f, &[&s.availability_zone]),
        "availability-zone-id" | "availabilityZoneId" => any_match(f, &[&s.availability_zone_id]),
        "cidr" | "cidr-block" | "cidrBlock" | "cidr-block-association.cidr-block" => {
            any_match(f, &[&cidr])
        }
        "ipv6-cidr-block-association.ipv6-cidr-block" => {
            ipv6.as_deref().is_some_and(|c| any_match(f, &[c]))
        }
        "ipv6-native" => any_match(f, &["false"]),
        "default-for-az" | "defaultForAz" => any_match(f, &["false"]),
        "map-public-ip-on-launch" => any_match(
            f,
            &[if s.map_public_ip_on_launch {
                "true"
            } else {
                "false"
            }],
        ),
        "state" => any_match(f, &["available"]),
        "available-ip-address-count" => any_match(f, &[&s.available_ip_address_count.to_string()]),
        "subnet-arn" => any_match(f, &[&subnet_arn(s, view)]),
        _ => common_filter(f, &s.tags, view.account_id).ok_or_else(|| invalid_filter(f.name))?,
    })
}

fn subnet_arn(s: &Subnet, view: &AwsView<'_>) -> String {
    format!(
        "arn:aws:ec2:{}:{}:subnet/{}",
        view.region, view.account_id, s.subnet_id
    )
}

fn describe_subnets(params: &[(String, String)], view: &AwsView<'_>) -> Result<String, AwsError> {
    let ids = list(params, "SubnetId");
    let subnets = &view.vpc.subnets;
    let missing: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| !subnets.iter().any(|s| s.subnet_id == *id))
        .collect();
    match missing[..] {
        [] => {}
        [id] => {
            return Err(AwsError::new(
                400,
                "InvalidSubnetID.NotFound",
                format!("The subnet ID '{id}' does not exist"),
            ))
        }
        _ => {
            let quoted: Vec<String> = missing.iter().map(|id| format!("'{id}'")).collect();
            return Err(AwsError::new(
                400,
                "InvalidSubnetID.NotFound",
                format!("The subnet IDs {} do not exist", quoted.join(", ")),
            ));
        }
    }
    let filters = filters(params);
    let mut chosen = Vec::new();
    for s in subnets
        .iter()
        .filter(|s| ids.is_empty() || ids.contains(&s.subnet_id.as_str()))
    {
        let mut keep = true;
        for f in &filters {
            keep &= subnet_matches(f, s, view)?;
        }
        if keep {
            chosen.push(s);
        }
    }
    let mut x = Xml::new();
    x.elem("subnetSet", |x| {
        for s in chosen {
            x.elem("item", |x| subnet(x, s, view));
        }
    });
    Ok(x.finish())
}

fn subnet(x: &mut Xml, s: &Subnet, view: &AwsView<'_>) {
    x.leaf("subnetId", &s.subnet_id);
    x.leaf("subnetArn", subnet_arn(s, view));
    x.leaf("state", "available");
    x.leaf("vpcId", &s.vpc_id);
    x.leaf("ownerId", view.account_id);
    x.leaf("cidrBlock", s.cidr_block);
    if let Some(ipv6) = s.ipv6_cidr_block {
        x.elem("ipv6CidrBlockAssociationSet", |x| {
            x.elem("item", |x| {
                x.leaf("ipv6CidrBlock", ipv6);
                x.leaf(
                    "associationId",
                    format!(
                        "subnet-cidr-assoc-{}",
                        short_hash(&format!("{}/{ipv6}", s.subnet_id), 17)
                    ),
                );
                x.elem("ipv6CidrBlockState", |x| {
                    x.leaf("state", "associated");
                });
                x.leaf("ipv6AddressAttribute", "public");
                x.leaf("ipSource", "amazon");
            });
        });
    }
    x.leaf("availableIpAddressCount", s.available_ip_address_count);
    x.leaf("availabilityZone", &s.availability_zone);
    x.leaf("availabilityZoneId", &s.availability_zone_id);
    x.leaf("defaultForAz", "false");
    x.leaf("mapPublicIpOnLaunch", s.map_public_ip_on_launch);
    x.leaf("mapCustomerOwnedIpOnLaunch", "false");
    x.leaf("assignIpv6AddressOnCreation", "false");
    x.leaf("enableDns64", "false");
    x.leaf("ipv6Native", "false");
    x.elem("privateDnsNameOptionsOnLaunch", |x| {
        x.leaf("hostnameType", "ip-name");
        x.leaf("enableResourceNameDnsARecord", "false");
        x.leaf("enableResourceNameDnsAAAARecord", "false");
    });
    x.elem("blockPublicAccessStates", |x| {
        x.leaf("internetGatewayBlockMode", "off");
    });
    tag_set(x, &s.tags);
}

/// The zones the VPC has subnets in (EC2 lists the region's; the runtime only knows these).
fn describe_availability_zones(
    params: &[(String, String)],
    view: &AwsView<'_>,
) -> Result<String, AwsError> {
    let mut zones: Vec<(&str, &str)> = view
        .vpc
        .subnets
        .iter()
        .map(|s| {
            (
                s.availability_zone.as_str(),
                s.availability_zone_id.as_str(),
            )
        })
        .collect();
    zones.sort_unstable();
    zones.dedup();
    let names = list(params, "ZoneName");
    let ids = list(params, "ZoneId");
    if let Some(name) = names.iter().find(|n| !zones.iter().any(|(z, _)| z == *n)) {
        return Err(AwsError::new(
            400,
            "InvalidParameterValue",
            format!(
                "The zone '{name}' does not exist in the region {}",
                view.region
            ),
        ));
    }
    let filters = filters(params);
    let mut chosen = Vec::new();
    for (name, id) in zones {
        if (!names.is_empty() && !names.contains(&name)) || (!ids.is_empty() && !ids.contains(&id))
        {
            continue;
        }
        let mut keep = true;
        for f in &filters {
            keep &= match f.name {
                "zone-name" => any_match(f, &[name]),
                "zone-id" => any_match(f, &[id]),
                "region-name" => any_match(f, &[view.region]),
                "state" => any_match(f, &["available"]),
                "zone-type" => any_match(f, &["availability-zone"]),
                "opt-in-status" => any_match(f, &["opt-in-not-required"]),
                "group-name" | "network-border-group" => any_match(f, &[view.region]),
                _ => return Err(invalid_filter(f.name)),
            };
        }
        if keep {
            chosen.push((name, id));
        }
    }
    let mut x = Xml::new();
    x.elem("availabilityZoneInfo", |x| {
        for (name, id) in chosen {
            x.elem("item", |x| {
                x.leaf("zoneName", name);
                x.leaf("zoneState", "available");
                x.leaf("regionName", view.region);
                x.leaf("zoneId", id);
                x.leaf("groupName", view.region);
                x.leaf("networkBorderGroup", view.region);
                x.leaf("zoneType", "availability-zone");
                x.leaf("optInStatus", "opt-in-not-required");
                x.elem("messageSet", |_| {});
            });
        }
    });
    Ok(x.finish())
}

#[cfg(test)]
pub(super) fn glob_for_tests(pattern: &str, text: &str) -> bool {
    glob(pattern, text)
}
