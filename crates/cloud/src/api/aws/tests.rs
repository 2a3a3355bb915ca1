use super::*;
use crate::inventory::*;
use std::collections::BTreeMap;

pub(crate) const ACCOUNT: &str = "123456789012";
pub(crate) const REGION: &str = "eu-central-1";

fn tags(v: &[(&str, &str)]) -> BTreeMap<String, String> {
    v.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn subnet(id: &str, zone: &str, cidr: &str, ipv6: Option<&str>, role: &str) -> Subnet {
    Subnet {
        subnet_id: id.into(),
        vpc_id: "vpc-0a1b2c3d".into(),
        availability_zone: format!("eu-central-1{zone}"),
        availability_zone_id: format!("euc1-az{}", if zone == "a" { 2 } else { 3 }),
        cidr_block: cidr.parse().unwrap(),
        ipv6_cidr_block: ipv6.map(|c| c.parse().unwrap()),
        available_ip_address_count: 4091,
        map_public_ip_on_launch: role == "elb",
        tags: tags(&[
            ("Name", &format!("shoot--p--rt1-{role}-{zone}")),
            ("kubernetes.io/cluster/shoot--p--rt1", "1"),
            (&format!("kubernetes.io/role/{role}"), "1"),
        ]),
    }
}

pub(crate) fn vpc() -> Vpc {
    Vpc {
        vpc_id: "vpc-0a1b2c3d".into(),
        cidr_block: "10.250.0.0/16".parse().unwrap(),
        ipv6_cidr_block: Some("2a05:d014:1:100::/56".parse().unwrap()),
        subnets: vec![
            subnet(
                "subnet-public-a",
                "a",
                "10.250.96.0/22",
                Some("2a05:d014:1:101::/64"),
                "elb",
            ),
            subnet("subnet-public-b", "b", "10.250.100.0/22", None, "elb"),
            subnet(
                "subnet-internal-a",
                "a",
                "10.250.112.0/22",
                None,
                "internal-elb",
            ),
        ],
        tags: tags(&[("Name", "shoot--p--rt1")]),
    }
}

fn arn(kind: &str, rest: &str) -> String {
    format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:{kind}/{rest}")
}

fn owner(name: &str) -> Owner {
    Owner {
        namespace: "default".into(),
        name: name.into(),
        uid: format!("uid-{name}"),
    }
}

fn nlb(name: &str, scheme: &str, ip_type: &str) -> LoadBalancer {
    let lb_arn = arn("loadbalancer", &format!("net/{name}/0123456789abcdef"));
    let tg_arn = arn("targetgroup", &format!("k8s-{name}-tcp80/fedcba9876543210"));
    let public = scheme == "internet-facing";
    LoadBalancer {
        load_balancer_arn: lb_arn.clone(),
        load_balancer_name: name.into(),
        dns_name: format!("{name}-0123456789abcdef.elb.{REGION}.amazonaws.com"),
        canonical_hosted_zone_id: "Z3F0SRJ5LGBH90".into(),
        kind: "network".into(),
        scheme: scheme.into(),
        ip_address_type: ip_type.into(),
        vpc_id: "vpc-0a1b2c3d".into(),
        availability_zones: vec![ZoneMapping {
            zone_name: "eu-central-1a".into(),
            subnet_id: if public {
                "subnet-public-a"
            } else {
                "subnet-internal-a"
            }
            .into(),
            private_ipv4_address: "10.250.96.10".parse().unwrap(),
            ipv4_address: public.then(|| "198.51.100.7".parse().unwrap()),
            allocation_id: public.then(|| "eipalloc-0123".to_string()),
            ipv6_address: (ip_type == "dualstack").then(|| "2a05:d014:1:101::1a".parse().unwrap()),
            source_nat_ipv6_prefix: (ip_type == "dualstack")
                .then(|| "2a05:d014:1:101:1::/80".to_string()),
        }],
        created_time: "2026-12-01T10:00:00.000Z".into(),
        state: "active".into(),
        security_groups: vec!["sg-0f00".into()],
        listeners: vec![Listener {
            listener_arn: arn("listener", &format!("net/{name}/0123456789abcdef/aaaa")),
            port: 80,
            protocol: "TCP".into(),
            target_group_arn: tg_arn.clone(),
        }],
        target_groups: vec![TargetGroup {
            target_group_arn: tg_arn,
            target_group_name: format!("k8s-{name}-tcp80"),
            protocol: "TCP".into(),
            port: 30080,
            target_type: "instance".into(),
            ip_address_type: "ipv4".into(),
            health_check: HealthCheck {
                protocol: "HTTP".into(),
                port: "traffic-port".into(),
                path: Some("/healthz".into()),
                interval_seconds: 10,
                timeout_seconds: 6,
                healthy_threshold_count: 2,
                unhealthy_threshold_count: 2,
                matcher: Some("200-399".into()),
            },
            attributes: tags(&[("deregistration_delay.timeout_seconds", "300")]),
            targets: vec![
                Target {
                    id: "i-0aaa".into(),
                    port: 30080,
                    availability_zone: "eu-central-1a".into(),
                    ip: Some("10.250.0.5".parse().unwrap()),
                    state: "healthy".into(),
                    reason: None,
                    description: None,
                },
                Target {
                    id: "i-0bbb".into(),
                    port: 30080,
                    availability_zone: "eu-central-1b".into(),
                    ip: None,
                    state: "unhealthy".into(),
                    reason: Some("Target.FailedHealthChecks".into()),
                    description: Some("Health checks failed".into()),
                },
            ],
        }],
        attributes: tags(&[("load_balancing.cross_zone.enabled", "false")]),
        tags: tags(&[
            ("service.k8s.aws/stack", &format!("default/{name}")),
            ("elbv2.k8s.aws/cluster", "shoot--p--rt1"),
        ]),
        source_ranges: vec!["0.0.0.0/0".into()],
        controller: Controller::AwsLoadBalancerController,
        owner: owner(name),
        leaked: false,
    }
}

pub(crate) fn load_balancers() -> Vec<LoadBalancer> {
    let mut classic = nlb("a1b2c3classic", "internet-facing", "ipv4");
    classic.kind = "classic".into();
    classic.load_balancer_arn = "classic-has-no-arn".into();
    let mut leaked = nlb("k8s-default-old", "internal", "ipv4");
    leaked.leaked = true;
    vec![
        nlb("k8s-default-web", "internet-facing", "dualstack"),
        nlb("k8s-default-int", "internal", "ipv4"),
        classic,
        leaked,
    ]
}

pub(crate) fn run(service: AwsService, params: &[(&str, &str)]) -> (u16, String) {
    let vpc = vpc();
    let lbs = load_balancers();
    let view = AwsView {
        vpc: &vpc,
        load_balancers: &lbs,
        region: REGION,
        account_id: ACCOUNT,
    };
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    handle(service, &params, &view, "req-1")
}

/// The texts between `<tag>` and `</tag>`, in order.
fn all(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(&open)
        .skip(1)
        .filter_map(|s| s.split_once(&close).map(|(v, _)| v.to_string()))
        .collect()
}

const WEB: &str = "arn:aws:elasticloadbalancing:eu-central-1:123456789012:loadbalancer/net/k8s-default-web/0123456789abcdef";
const WEB_TG: &str = "arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/k8s-k8s-default-web-tcp80/fedcba9876543210";
const WEB_LISTENER: &str = "arn:aws:elasticloadbalancing:eu-central-1:123456789012:listener/net/k8s-default-web/0123456789abcdef/aaaa";

/// `(name, service, params, status, tag, values of that tag)`.
type Case = (
    &'static str,
    AwsService,
    Vec<(&'static str, &'static str)>,
    u16,
    &'static str,
    Vec<&'static str>,
);

fn elb(
    action: &'static str,
    extra: &[(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str)> {
    let mut p = vec![("Action", action), ("Version", "2015-12-01")];
    p.extend_from_slice(extra);
    p
}

fn ec2(
    action: &'static str,
    extra: &[(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str)> {
    let mut p = vec![("Action", action), ("Version", "2016-11-15")];
    p.extend_from_slice(extra);
    p
}

#[test]
fn actions() {
    use AwsService::{Ec2, Elbv2};
    let cases: Vec<Case> = vec![
        ("all ELBv2 load balancers: no classic, leaked listed", Elbv2, elb("DescribeLoadBalancers", &[]), 200, "LoadBalancerName", vec!["k8s-default-web", "k8s-default-int", "k8s-default-old"]),
        ("by name", Elbv2, elb("DescribeLoadBalancers", &[("Names.member.1", "k8s-default-int")]), 200, "LoadBalancerName", vec!["k8s-default-int"]),
        ("by ARN", Elbv2, elb("DescribeLoadBalancers", &[("LoadBalancerArns.member.1", WEB)]), 200, "IPv6Address", vec!["2a05:d014:1:101::1a"]),
        ("unknown names", Elbv2, elb("DescribeLoadBalancers", &[("Names.member.1", "nope"), ("Names.member.2", "a1b2c3classic"), ("Names.member.3", "k8s-default-web")]), 400, "Message", vec!["Load balancers &apos;[nope, a1b2c3classic]&apos; not found"]),
        ("unknown ARN", Elbv2, elb("DescribeLoadBalancers", &[("LoadBalancerArns.member.1", "arn:x")]), 400, "Code", vec!["LoadBalancerNotFound"]),
        ("names and ARNs", Elbv2, elb("DescribeLoadBalancers", &[("LoadBalancerArns.member.1", WEB), ("Names.member.1", "x")]), 400, "Code", vec!["ValidationError"]),
        ("addresses", Elbv2, elb("DescribeLoadBalancers", &[("Names.member.1", "k8s-default-web")]), 200, "IpAddress", vec!["198.51.100.7"]),
        ("allocation", Elbv2, elb("DescribeLoadBalancers", &[("Names.member.1", "k8s-default-web")]), 200, "AllocationId", vec!["eipalloc-0123"]),
        ("private IPv4", Elbv2, elb("DescribeLoadBalancers", &[("Names.member.1", "k8s-default-int")]), 200, "PrivateIPv4Address", vec!["10.250.96.10"]),
        ("source NAT prefix", Elbv2, elb("DescribeLoadBalancers", &[("Names.member.1", "k8s-default-web")]), 200, "SourceNatIpv6Prefixes", vec!["<member>2a05:d014:1:101:1::/80</member>"]),
        ("state", Elbv2, elb("DescribeLoadBalancers", &[("Names.member.1", "k8s-default-web")]), 200, "State", vec!["<Code>active</Code>"]),
        ("target groups", Elbv2, elb("DescribeTargetGroups", &[]), 200, "TargetGroupName", vec!["k8s-k8s-default-web-tcp80", "k8s-k8s-default-int-tcp80", "k8s-k8s-default-old-tcp80"]),
        ("target groups of a load balancer", Elbv2, elb("DescribeTargetGroups", &[("LoadBalancerArn", WEB)]), 200, "LoadBalancerArns", vec!["<member>arn:aws:elasticloadbalancing:eu-central-1:123456789012:loadbalancer/net/k8s-default-web/0123456789abcdef</member>"]),
        ("target group by ARN", Elbv2, elb("DescribeTargetGroups", &[("TargetGroupArns.member.1", WEB_TG)]), 200, "HealthCheckPath", vec!["/healthz"]),
        ("target group by name", Elbv2, elb("DescribeTargetGroups", &[("Names.member.1", "k8s-k8s-default-int-tcp80")]), 200, "Matcher", vec!["<HttpCode>200-399</HttpCode>"]),
        ("unknown target group name", Elbv2, elb("DescribeTargetGroups", &[("Names.member.1", "x")]), 400, "Message", vec!["Target groups &apos;[x]&apos; not found"]),
        ("unknown target group ARN", Elbv2, elb("DescribeTargetGroups", &[("TargetGroupArns.member.1", "x")]), 400, "Message", vec!["One or more target groups not found"]),
        ("target groups of an unknown load balancer", Elbv2, elb("DescribeTargetGroups", &[("LoadBalancerArn", "arn:x")]), 400, "Message", vec!["Load balancer &apos;arn:x&apos; not found"]),
        ("target health", Elbv2, elb("DescribeTargetHealth", &[("TargetGroupArn", WEB_TG)]), 200, "State", vec!["healthy", "unhealthy"]),
        ("target health reason", Elbv2, elb("DescribeTargetHealth", &[("TargetGroupArn", WEB_TG)]), 200, "Reason", vec!["Target.FailedHealthChecks"]),
        ("traffic-port health check port", Elbv2, elb("DescribeTargetHealth", &[("TargetGroupArn", WEB_TG)]), 200, "HealthCheckPort", vec!["30080", "30080"]),
        ("asked targets", Elbv2, elb("DescribeTargetHealth", &[("TargetGroupArn", WEB_TG), ("Targets.member.1.Id", "i-0bbb"), ("Targets.member.2.Id", "i-0ccc"), ("Targets.member.2.Port", "1")]), 200, "Reason", vec!["Target.FailedHealthChecks", "Target.NotRegistered"]),
        ("target health without ARN", Elbv2, elb("DescribeTargetHealth", &[]), 400, "Code", vec!["ValidationError"]),
        ("target health of an unknown group", Elbv2, elb("DescribeTargetHealth", &[("TargetGroupArn", "x")]), 400, "Code", vec!["TargetGroupNotFound"]),
        ("listeners", Elbv2, elb("DescribeListeners", &[("LoadBalancerArn", WEB)]), 200, "ListenerArn", vec![WEB_LISTENER]),
        ("listener by ARN", Elbv2, elb("DescribeListeners", &[("ListenerArns.member.1", WEB_LISTENER)]), 200, "Type", vec!["forward"]),
        ("listeners need an ARN", Elbv2, elb("DescribeListeners", &[]), 400, "Code", vec!["ValidationError"]),
        ("unknown listener", Elbv2, elb("DescribeListeners", &[("ListenerArns.member.1", "x")]), 400, "Code", vec!["ListenerNotFound"]),
        ("tags", Elbv2, elb("DescribeTags", &[("ResourceArns.member.1", WEB), ("ResourceArns.member.2", WEB_TG)]), 200, "ResourceArn", vec![WEB, WEB_TG]),
        ("tag keys", Elbv2, elb("DescribeTags", &[("ResourceArns.member.1", WEB)]), 200, "Key", vec!["elbv2.k8s.aws/cluster", "service.k8s.aws/stack"]),
        ("tags of an unknown target group", Elbv2, elb("DescribeTags", &[("ResourceArns.member.1", "arn:aws:elasticloadbalancing:x:1:targetgroup/x/1")]), 400, "Code", vec!["TargetGroupNotFound"]),
        ("load balancer attributes", Elbv2, elb("DescribeLoadBalancerAttributes", &[("LoadBalancerArn", WEB)]), 200, "Key", vec!["load_balancing.cross_zone.enabled"]),
        ("target group attributes", Elbv2, elb("DescribeTargetGroupAttributes", &[("TargetGroupArn", WEB_TG)]), 200, "Value", vec!["300"]),
        ("unknown ELBv2 action", Elbv2, elb("DescribeNothing", &[]), 400, "Message", vec!["Could not find operation DescribeNothing for version 2015-12-01"]),
        ("ELBv2 write", Elbv2, elb("CreateLoadBalancer", &[]), 403, "Code", vec!["AccessDenied"]),
        ("ELBv2 register", Elbv2, elb("RegisterTargets", &[]), 403, "Code", vec!["AccessDenied"]),
        ("VPC", Ec2, ec2("DescribeVpcs", &[]), 200, "vpcId", vec!["vpc-0a1b2c3d"]),
        ("VPC IPv6", Ec2, ec2("DescribeVpcs", &[("VpcId.1", "vpc-0a1b2c3d")]), 200, "ipv6CidrBlock", vec!["2a05:d014:1:100::/56"]),
        ("VPC by tag", Ec2, ec2("DescribeVpcs", &[("Filter.1.Name", "tag:Name"), ("Filter.1.Value.1", "shoot--*")]), 200, "vpcId", vec!["vpc-0a1b2c3d"]),
        ("VPC filtered out", Ec2, ec2("DescribeVpcs", &[("Filter.1.Name", "vpc-id"), ("Filter.1.Value.1", "vpc-other")]), 200, "vpcId", vec![]),
        ("unknown VPC", Ec2, ec2("DescribeVpcs", &[("VpcId.1", "vpc-x")]), 400, "Message", vec!["The vpc ID &apos;vpc-x&apos; does not exist"]),
        ("subnets", Ec2, ec2("DescribeSubnets", &[]), 200, "subnetId", vec!["subnet-public-a", "subnet-public-b", "subnet-internal-a"]),
        ("subnets by id", Ec2, ec2("DescribeSubnets", &[("SubnetId.1", "subnet-public-b")]), 200, "availabilityZone", vec!["eu-central-1b"]),
        ("unknown subnet", Ec2, ec2("DescribeSubnets", &[("SubnetId.1", "subnet-x")]), 400, "Message", vec!["The subnet ID &apos;subnet-x&apos; does not exist"]),
        ("unknown subnets", Ec2, ec2("DescribeSubnets", &[("SubnetId.1", "subnet-x"), ("SubnetId.2", "subnet-y")]), 400, "Code", vec!["InvalidSubnetID.NotFound"]),
        ("filter vpc-id", Ec2, ec2("DescribeSubnets", &[("Filter.1.Name", "vpc-id"), ("Filter.1.Value.1", "vpc-0a1b2c3d")]), 200, "subnetId", vec!["subnet-public-a", "subnet-public-b", "subnet-internal-a"]),
        ("filter vpc-id other", Ec2, ec2("DescribeSubnets", &[("Filter.1.Name", "vpc-id"), ("Filter.1.Value.1", "vpc-x")]), 200, "subnetId", vec![]),
        ("filter tag", Ec2, ec2("DescribeSubnets", &[("Filter.1.Name", "tag:kubernetes.io/role/elb"), ("Filter.1.Value.1", "1")]), 200, "subnetId", vec!["subnet-public-a", "subnet-public-b"]),
        ("filter tag-key", Ec2, ec2("DescribeSubnets", &[("Filter.1.Name", "tag-key"), ("Filter.1.Value.1", "kubernetes.io/role/internal-elb")]), 200, "subnetId", vec!["subnet-internal-a"]),
        ("filters AND, values OR", Ec2, ec2("DescribeSubnets", &[("Filter.1.Name", "availability-zone"), ("Filter.1.Value.1", "eu-central-1a"), ("Filter.1.Value.2", "eu-central-1c"), ("Filter.2.Name", "tag:kubernetes.io/role/elb"), ("Filter.2.Value.1", "*")]), 200, "subnetId", vec!["subnet-public-a"]),
        ("filter subnet-id wildcard", Ec2, ec2("DescribeSubnets", &[("Filter.1.Name", "subnet-id"), ("Filter.1.Value.1", "subnet-public-?")]), 200, "subnetId", vec!["subnet-public-a", "subnet-public-b"]),
        ("ids and filters", Ec2, ec2("DescribeSubnets", &[("SubnetId.1", "subnet-internal-a"), ("Filter.1.Name", "availability-zone"), ("Filter.1.Value.1", "eu-central-1a")]), 200, "subnetId", vec!["subnet-internal-a"]),
        ("subnet IPv6 association", Ec2, ec2("DescribeSubnets", &[("SubnetId.1", "subnet-public-a")]), 200, "ipv6CidrBlock", vec!["2a05:d014:1:101::/64"]),
        ("unknown filter", Ec2, ec2("DescribeSubnets", &[("Filter.1.Name", "color"), ("Filter.1.Value.1", "red")]), 400, "Message", vec!["The filter &apos;color&apos; is invalid"]),
        ("zones", Ec2, ec2("DescribeAvailabilityZones", &[]), 200, "zoneName", vec!["eu-central-1a", "eu-central-1b"]),
        ("zone filter", Ec2, ec2("DescribeAvailabilityZones", &[("Filter.1.Name", "zone-id"), ("Filter.1.Value.1", "euc1-az3")]), 200, "zoneName", vec!["eu-central-1b"]),
        ("unknown EC2 action", Ec2, ec2("DescribeInstances", &[]), 400, "Message", vec!["The action DescribeInstances is not valid for this web service."]),
        ("EC2 write", Ec2, ec2("CreateSubnet", &[]), 403, "Code", vec!["UnauthorizedOperation"]),
    ];
    for (name, service, params, status, tag, want) in cases {
        let (got_status, xml) = run(service, &params);
        assert_eq!(got_status, status, "{name}: {xml}");
        assert_eq!(all(&xml, tag), want, "{name}: {xml}");
    }
}

#[test]
fn wrappers() {
    let (_, xml) = run(AwsService::Elbv2, &elb("DescribeLoadBalancers", &[]));
    assert!(xml.starts_with("<DescribeLoadBalancersResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\"><DescribeLoadBalancersResult><LoadBalancers><member>"), "{xml}");
    assert!(xml.ends_with("</DescribeLoadBalancersResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></DescribeLoadBalancersResponse>"), "{xml}");
    let (_, xml) = run(AwsService::Ec2, &ec2("DescribeSubnets", &[]));
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeSubnetsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>req-1</requestId><subnetSet><item>"), "{xml}");
    let (_, xml) = run(
        AwsService::Elbv2,
        &elb("DescribeLoadBalancers", &[("Names.member.1", "x")]),
    );
    assert_eq!(xml, "<ErrorResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\"><Error><Type>Sender</Type><Code>LoadBalancerNotFound</Code><Message>Load balancers &apos;[x]&apos; not found</Message></Error><RequestId>req-1</RequestId></ErrorResponse>");
    let (_, xml) = run(
        AwsService::Ec2,
        &ec2("DescribeSubnets", &[("SubnetId.1", "subnet-x")]),
    );
    assert_eq!(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>InvalidSubnetID.NotFound</Code><Message>The subnet ID &apos;subnet-x&apos; does not exist</Message></Error></Errors><RequestID>req-1</RequestID></Response>");
}

#[test]
fn auth_errors_per_service() {
    use crate::api::sigv4::SigV4Error;
    assert_eq!(
        auth_error(AwsService::Elbv2, &SigV4Error::InvalidClientTokenId).code,
        "InvalidClientTokenId"
    );
    assert_eq!(
        auth_error(AwsService::Elbv2, &SigV4Error::SignatureDoesNotMatch).status,
        403
    );
    let ec2 = auth_error(AwsService::Ec2, &SigV4Error::SignatureDoesNotMatch);
    assert_eq!((ec2.status, ec2.code.as_str()), (401, "AuthFailure"));
    assert_eq!(AwsService::from_signing_name("ec2"), Some(AwsService::Ec2));
    assert_eq!(AwsService::from_signing_name("s3"), None);
}

#[test]
fn globs() {
    let cases = [
        ("*", "", true),
        ("a*c", "abbc", true),
        ("a?c", "abc", true),
        ("a?c", "ac", false),
        ("a\\*", "a*", true),
        ("a\\*", "ab", false),
        ("*b*", "abc", true),
        ("abc", "abcd", false),
    ];
    for (p, t, want) in cases {
        assert_eq!(ec2::glob_for_tests(p, t), want, "{p} {t}");
    }
}

/// A sample answer: file name, service, parameters.
type Sample = (&'static str, AwsService, Vec<(&'static str, &'static str)>);

/// Writes one answer per action into `$TWINSTACK_DUMP_XML` for
/// `crates/cloud/tests/botocore_parse.py` (nothing when unset).
#[test]
fn dump_samples_for_botocore() {
    let Ok(dir) = std::env::var("TWINSTACK_DUMP_XML") else {
        return;
    };
    let samples: Vec<Sample> = vec![
        (
            "elbv2-DescribeLoadBalancers",
            AwsService::Elbv2,
            elb("DescribeLoadBalancers", &[]),
        ),
        (
            "elbv2-DescribeTargetGroups",
            AwsService::Elbv2,
            elb("DescribeTargetGroups", &[]),
        ),
        (
            "elbv2-DescribeTargetHealth",
            AwsService::Elbv2,
            elb(
                "DescribeTargetHealth",
                &[
                    ("TargetGroupArn", WEB_TG),
                    ("Targets.member.1.Id", "i-0bbb"),
                    ("Targets.member.2.Id", "i-0ccc"),
                ],
            ),
        ),
        (
            "elbv2-DescribeListeners",
            AwsService::Elbv2,
            elb("DescribeListeners", &[("LoadBalancerArn", WEB)]),
        ),
        (
            "elbv2-DescribeTags",
            AwsService::Elbv2,
            elb(
                "DescribeTags",
                &[
                    ("ResourceArns.member.1", WEB),
                    ("ResourceArns.member.2", WEB_TG),
                ],
            ),
        ),
        (
            "elbv2-DescribeLoadBalancerAttributes",
            AwsService::Elbv2,
            elb(
                "DescribeLoadBalancerAttributes",
                &[("LoadBalancerArn", WEB)],
            ),
        ),
        (
            "elbv2-DescribeTargetGroupAttributes",
            AwsService::Elbv2,
            elb(
                "DescribeTargetGroupAttributes",
                &[("TargetGroupArn", WEB_TG)],
            ),
        ),
        (
            "elbv2-error-DescribeLoadBalancers",
            AwsService::Elbv2,
            elb("DescribeLoadBalancers", &[("Names.member.1", "x")]),
        ),
        (
            "ec2-DescribeVpcs",
            AwsService::Ec2,
            ec2("DescribeVpcs", &[]),
        ),
        (
            "ec2-DescribeSubnets",
            AwsService::Ec2,
            ec2("DescribeSubnets", &[]),
        ),
        (
            "ec2-DescribeAvailabilityZones",
            AwsService::Ec2,
            ec2("DescribeAvailabilityZones", &[]),
        ),
        (
            "ec2-error-DescribeSubnets",
            AwsService::Ec2,
            ec2("DescribeSubnets", &[("SubnetId.1", "subnet-x")]),
        ),
    ];
    for (name, service, params) in samples {
        let (status, xml) = run(service, &params);
        std::fs::write(format!("{dir}/{name}.{status}.xml"), xml).unwrap();
    }
}

proptest::proptest! {
    /// Any parameters (known actions, indexes, filters) answer without a panic.
    #[test]
    fn arbitrary_params_never_panic(
        action in proptest::sample::select(vec!["DescribeLoadBalancers", "DescribeTargetGroups", "DescribeTargetHealth", "DescribeListeners", "DescribeTags", "DescribeLoadBalancerAttributes", "DescribeTargetGroupAttributes", "DescribeVpcs", "DescribeSubnets", "DescribeAvailabilityZones", "Create", "", "Deletex"]),
        pairs in proptest::collection::vec(("(Names|Filter|SubnetId|Targets|ResourceArns)\\.[0-9a-zA-Z.]{0,12}", "[ -~]{0,16}"), 0..8),
        ec2 in proptest::bool::ANY,
    ) {
        let service = if ec2 { AwsService::Ec2 } else { AwsService::Elbv2 };
        let mut params: Vec<(&str, &str)> = vec![("Action", action)];
        params.extend(pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())));
        let (status, xml) = run(service, &params);
        proptest::prop_assert!(matches!(status, 200 | 400 | 401 | 403), "{status} {xml}");
    }
}
