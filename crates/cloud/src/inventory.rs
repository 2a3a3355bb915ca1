//! What the emulated clouds hold for a runtime, stored per record by the shell and described by
//! the cloud APIs ([`crate::api`]). Field names follow the cloud APIs (ELBv2 `LoadBalancer`,
//! `TargetGroup`, EC2 `Subnet`, Compute Engine `ForwardingRule`, `Subnetwork`).

use ipnet::{Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The Service a record was built for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

/// Which controller built (and would delete) a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Controller {
    /// The AWS Load Balancer Controller (`service.k8s.aws/resources`).
    AwsLoadBalancerController,
    /// The cloud-controller-manager's AWS provider (Classic ELB, IPv4 NLB).
    AwsCloudProvider,
    /// ingress-gce's L4 NetLB controller (backend-service based).
    GceL4NetLb,
    /// ingress-gce's L4 ILB controller (GCE_VM_IP NEGs).
    GceL4Ilb,
    /// The cloud-controller-manager's GCE provider (target pools, instance-group ILB).
    GceCloudProvider,
}

// ---------------------------------------------------------------------------------------------
// AWS

/// The runtime's VPC (Gardener's AWS infrastructure: per zone a workers, a public and an
/// internal subnet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vpc {
    pub vpc_id: String,
    pub cidr_block: Ipv4Net,
    /// The Amazon-provided /56, when the VPC has IPv6.
    pub ipv6_cidr_block: Option<Ipv6Net>,
    pub subnets: Vec<Subnet>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subnet {
    pub subnet_id: String,
    pub vpc_id: String,
    pub availability_zone: String,
    pub availability_zone_id: String,
    pub cidr_block: Ipv4Net,
    /// The subnet's associated /64, when it has one.
    pub ipv6_cidr_block: Option<Ipv6Net>,
    pub available_ip_address_count: u32,
    pub map_public_ip_on_launch: bool,
    /// `Name`, `kubernetes.io/cluster/<name>`, `kubernetes.io/role/elb` or
    /// `kubernetes.io/role/internal-elb`.
    pub tags: BTreeMap<String, String>,
}

/// `ipv4` or `dualstack` (ELBv2 `IpAddressType`).
pub type IpAddressType = String;

/// An ELBv2 load balancer (NLB) or a Classic ELB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancer {
    pub load_balancer_arn: String,
    pub load_balancer_name: String,
    /// Lower case, `<name>-<16 hex>.elb.<region>.amazonaws.com` (NLB).
    pub dns_name: String,
    pub canonical_hosted_zone_id: String,
    /// `network`, or `classic` for a Classic ELB (not listed by the ELBv2 API).
    #[serde(rename = "type")]
    pub kind: String,
    /// `internet-facing` or `internal`.
    pub scheme: String,
    pub ip_address_type: IpAddressType,
    pub vpc_id: String,
    pub availability_zones: Vec<ZoneMapping>,
    /// RFC 3339.
    pub created_time: String,
    /// `active` (ELBv2 `State.Code`).
    pub state: String,
    pub security_groups: Vec<String>,
    pub listeners: Vec<Listener>,
    pub target_groups: Vec<TargetGroup>,
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    /// The CIDRs allowed to reach it (the frontend security group's rules).
    pub source_ranges: Vec<String>,
    pub controller: Controller,
    pub owner: Owner,
    /// Left behind: no controller owns it any more and nobody will delete it.
    #[serde(default)]
    pub leaked: bool,
}

/// One subnet of a load balancer with the addresses it holds there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ZoneMapping {
    pub zone_name: String,
    pub subnet_id: String,
    /// The node-facing private IPv4 in the subnet (the source targets see after translation).
    pub private_ipv4_address: Ipv4Addr,
    /// The public IPv4 (internet-facing only): documentation range (RFC 5737).
    pub ipv4_address: Option<Ipv4Addr>,
    /// The EIP allocation, when one was given.
    pub allocation_id: Option<String>,
    /// The IPv6 address in the subnet's /64 (dualstack only).
    pub ipv6_address: Option<Ipv6Addr>,
    /// The `/80` source NAT prefix (source NAT on).
    pub source_nat_ipv6_prefix: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Listener {
    pub listener_arn: String,
    pub port: i32,
    /// `TCP`, `UDP`, `TCP_UDP`, `TLS`.
    pub protocol: String,
    pub target_group_arn: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetGroup {
    pub target_group_arn: String,
    pub target_group_name: String,
    pub protocol: String,
    pub port: i32,
    /// `instance` or `ip`.
    pub target_type: String,
    /// `ipv4` or `ipv6`.
    pub ip_address_type: String,
    pub health_check: HealthCheck,
    pub attributes: BTreeMap<String, String>,
    pub targets: Vec<Target>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheck {
    /// `TCP`, `HTTP`, `HTTPS`.
    pub protocol: String,
    /// A port number or `traffic-port`.
    pub port: String,
    pub path: Option<String>,
    pub interval_seconds: i32,
    pub timeout_seconds: i32,
    pub healthy_threshold_count: i32,
    pub unhealthy_threshold_count: i32,
    /// HTTP(S) success codes (`200-399`).
    pub matcher: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// An instance ID (`i-...`) or an IP address.
    pub id: String,
    pub port: i32,
    pub availability_zone: String,
    /// The address traffic reaches: the instance's address of the target group's family, or
    /// the pod IP.
    pub ip: Option<IpAddr>,
    /// `healthy`, `unhealthy`, `initial`, `unused`.
    pub state: String,
    /// `Target.ResponseCodeMismatch`, `Target.NotRegistered`, ... (absent when healthy).
    pub reason: Option<String>,
    pub description: Option<String>,
}

impl Target {
    /// Takes a state the data plane's health checks measured (`healthy`, `unhealthy`,
    /// `initial`), with the reason and description ELBv2's `DescribeTargetHealth` gives for it
    /// (AWS "Target health status": `Elb.RegistrationInProgress`, `Target.FailedHealthChecks`).
    pub fn observe(&mut self, state: &str) {
        let (reason, description) = match state {
            "healthy" => (None, None),
            "unhealthy" => (
                Some("Target.FailedHealthChecks"),
                Some("Health checks failed"),
            ),
            "initial" => (
                Some("Elb.RegistrationInProgress"),
                Some("Target registration is in progress"),
            ),
            _ => return,
        };
        self.state = state.to_string();
        self.reason = reason.map(str::to_string);
        self.description = description.map(str::to_string);
    }
}

// ---------------------------------------------------------------------------------------------
// Google Cloud

/// The runtime's VPC network and its subnetworks (Gardener's GCP infrastructure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Network {
    pub name: String,
    pub subnetworks: Vec<Subnetwork>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subnetwork {
    pub name: String,
    pub region: String,
    pub ip_cidr_range: Ipv4Net,
    /// `IPV4_ONLY`, `IPV4_IPV6`, `IPV6_ONLY`.
    pub stack_type: String,
    /// `EXTERNAL` or `INTERNAL` (with IPv6).
    pub ipv6_access_type: Option<String>,
    pub external_ipv6_prefix: Option<Ipv6Net>,
    pub internal_ipv6_prefix: Option<Ipv6Net>,
    /// `PRIVATE` (or `INTERNAL_HTTPS_LOAD_BALANCER`, ...).
    pub purpose: String,
    pub secondary_ip_ranges: Vec<(String, Ipv4Net)>,
}

/// A Compute Engine forwarding rule (one per family of a Service).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForwardingRule {
    pub name: String,
    pub region: String,
    /// IPv4 address, or the IPv6 `/96` range as GCP stores it (`2600:...::/96`).
    pub ip_address: String,
    /// `TCP`, `UDP`, `L3_DEFAULT`.
    pub ip_protocol: String,
    /// `IPV4` or `IPV6`.
    pub ip_version: String,
    /// `80-80` (legacy target pools) or empty when `ports` is used.
    pub port_range: Option<String>,
    pub ports: Vec<String>,
    /// `EXTERNAL` or `INTERNAL`.
    pub load_balancing_scheme: String,
    /// `PREMIUM` or `STANDARD`.
    pub network_tier: String,
    pub backend_service: Option<String>,
    /// Legacy NetLB: the target pool.
    pub target: Option<String>,
    pub subnetwork: Option<String>,
    pub network: Option<String>,
    pub allow_global_access: bool,
    /// `{"kubernetes.io/service-name":"ns/name"}` and friends, as the controllers write it.
    pub description: String,
    /// RFC 3339.
    pub creation_timestamp: String,
    pub controller: Controller,
    pub owner: Owner,
    #[serde(default)]
    pub leaked: bool,
}

/// A reserved Compute Engine address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub name: String,
    pub region: String,
    pub address: String,
    /// `EXTERNAL` or `INTERNAL`.
    pub address_type: String,
    pub ip_version: String,
    /// `IN_USE` or `RESERVED`.
    pub status: String,
    pub network_tier: String,
    pub users: Vec<String>,
    pub prefix_length: Option<u8>,
    pub subnetwork: Option<String>,
    pub creation_timestamp: String,
}
