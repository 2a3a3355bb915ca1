//! What a provisioned runtime looks like to Gardener and inside the cluster: the Shoot's
//! `spec.networking`/`status.networking`, KIM's AWS zone layout and `kyma-provisioning-info`
//! ConfigMap, and the `kube-system/kube-dns` Service.

use crate::provision::ProvisionPlan;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde_json::{json, Map, Value};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use twinstack_core::ipam::Family;
use twinstack_core::runtime::{ipv6_layout, Network, Provider};

/// One AWS zone of KIM's InfrastructureConfig (`pkg/gardener/shoot/hyperscaler/aws/zones.go`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AwsZone {
    pub name: String,
    pub workers: Ipv4Net,
    pub public: Ipv4Net,
    pub internal: Ipv4Net,
    /// The zone subnet's Amazon-provided /64 (dual stack only).
    pub ipv6: Option<Ipv6Net>,
}

/// Gardener `spec.networking` of the Shoot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShootSpecNetworking {
    /// Always `calico` (KEB sends `type: calico`).
    #[serde(rename = "type")]
    pub kind: String,
    pub nodes: IpNet,
    pub pods: IpNet,
    pub services: IpNet,
    /// Unset for IPv4-only runtimes (KIM leaves it; Gardener defaults to `[IPv4]`).
    pub ip_families: Option<Vec<Family>>,
}

/// Gardener `status.networking`: lists, one entry per family in family order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShootStatusNetworking {
    pub nodes: Vec<IpNet>,
    pub pods: Vec<IpNet>,
    pub services: Vec<IpNet>,
}

/// The networking of a provisioned runtime.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShootNetworking {
    pub provider: Provider,
    pub region: String,
    pub families: Vec<Family>,
    pub spec: ShootSpecNetworking,
    pub status: ShootStatusNetworking,
    /// IPv6 node range (AWS: the VPC /56; GCP: the node subnet /64), when IPv6 is on.
    pub ipv6_nodes: Option<Ipv6Net>,
    /// IPv6 pod range (AWS: the VPC /56, /80 per node; GCP: the node subnet, /112 per node).
    pub ipv6_pods: Option<Ipv6Net>,
    /// IPv6 service range (/108).
    pub ipv6_services: Option<Ipv6Net>,
    /// One /64 per zone (AWS subnets) or the GCP node subnet.
    pub ipv6_zone_subnets: Vec<Ipv6Net>,
    /// AWS only: KIM's zone layout of the IPv4 node range.
    pub aws_zones: Vec<AwsZone>,
    /// AWS InfrastructureConfig `dualStack.enabled` (KIM sets it for dual-stack runtimes).
    pub aws_infrastructure_dual_stack: bool,
    /// AWS ControlPlaneConfig `loadBalancerController.enabled` (dual-stack runtimes).
    pub aws_load_balancer_controller: bool,
    /// The AWS exception: an IPv4-only AWS runtime may still get a dual-stack NLB that serves
    /// public IPv6 and translates to IPv4 targets. Read by the load-balancer work.
    pub aws_ipv4_runtime_dual_stack_nlb: bool,
    /// Calico overlay; Gardener's provider mutators switch it off when IPv6 is on.
    pub overlay_enabled: bool,
}

/// Per-node IPv6 ranges: AWS prefix delegation (/80) or GCP VM range (/96) with a /112 for pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeIpv6 {
    pub node_address: Ipv6Addr,
    /// AWS: the /80 delegated prefix; GCP: the VM's /96.
    pub node_range: Ipv6Net,
    /// AWS: the same /80; GCP: a /112 of the /96.
    pub pods: Ipv6Net,
}

fn add6(net: Ipv6Net, offset: u128, prefix: u8) -> Ipv6Net {
    Ipv6Net::new(
        Ipv6Addr::from(u128::from(net.network()).wrapping_add(offset)),
        prefix,
    )
    .expect("prefix")
    .trunc()
}

/// KIM's AWS zone generator: workers `prefix+3`, public and internal `prefix+4`, zones spaced
/// by `prefix+2` (nodes `10.250.0.0/16` → workers `10.250.0.0/19`, public `10.250.32.0/20`,
/// internal `10.250.48.0/20`, next zone at `10.250.64.0`). Works for prefixes 16..=24 and up to 4 zones.
pub fn aws_zone_layout(nodes: Ipv4Net, zone_names: &[String]) -> Vec<AwsZone> {
    let p = u32::from(nodes.prefix_len());
    let base = u32::from(nodes.network());
    let size = |bits: u32| if bits >= 32 { 1 } else { 1u32 << (32 - bits) };
    zone_names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let zb = base.wrapping_add(size(p + 2).wrapping_mul(i as u32));
            let net = |off: u32, bits: u32| {
                Ipv4Net::new(Ipv4Addr::from(zb.wrapping_add(off)), bits.min(32) as u8)
                    .expect("bits")
                    .trunc()
            };
            AwsZone {
                name: name.clone(),
                workers: net(0, p + 3),
                public: net(size(p + 3), p + 4),
                internal: net(size(p + 3) + size(p + 4), p + 4),
                ipv6: None,
            }
        })
        .collect()
}

/// The networking Gardener gives the runtime `runtime_name` provisioned as `plan`. IPv6 ranges
/// are the explicit `parameters.twinstack.ipv6` ones, else core's provider layout
/// ([`twinstack_core::runtime::ipv6_layout`]), derived from the runtime name.
pub fn shoot_networking(plan: &ProvisionPlan, runtime_name: &str) -> ShootNetworking {
    let fams = plan.ip_families.clone();
    let has6 = fams.contains(&Family::IPv6);
    let has4 = fams.contains(&Family::IPv4);
    let (mut n6, mut p6, mut s6, mut zones6) =
        ipv6_layout(plan.provider, &plan.region, runtime_name, plan.zones.len());
    if let Some(n) = plan.ipv6.nodes {
        n6 = n;
        p6 = n;
        if n.prefix_len() <= 64 {
            zones6 = n
                .subnets(64)
                .map(|s| s.take(plan.zones.len().max(1)).collect())
                .unwrap_or_default();
            if plan.provider != Provider::Gcp {
                s6 = add6(zones6[0], 1u128 << 20, 108);
            }
        }
    }
    if let Some(p) = plan.ipv6.pods {
        p6 = p;
    }
    if let Some(s) = plan.ipv6.services {
        s6 = s;
    }
    let v4 = &plan.networking;
    let pick = |f: Family, a: IpNet, b: Ipv6Net| -> IpNet {
        match f {
            Family::IPv4 => a,
            Family::IPv6 => IpNet::V6(b),
        }
    };
    let list = |a: IpNet, b: Ipv6Net| fams.iter().map(|f| pick(*f, a, b)).collect::<Vec<_>>();
    let primary = fams[0];
    let spec = ShootSpecNetworking {
        kind: "calico".into(),
        nodes: pick(primary, v4.nodes, n6),
        pods: pick(primary, v4.pods, p6),
        services: pick(primary, v4.services, s6),
        ip_families: if fams.as_slice() == [Family::IPv4] {
            None
        } else {
            Some(fams.clone())
        },
    };
    let status = ShootStatusNetworking {
        nodes: list(v4.nodes, n6),
        pods: list(v4.pods, p6),
        services: list(v4.services, s6),
    };
    let aws = plan.provider == Provider::Aws;
    let mut aws_zones = match (aws && has4, v4.nodes) {
        (true, IpNet::V4(n)) => aws_zone_layout(n, &plan.zones),
        _ => Vec::new(),
    };
    if has6 {
        for (z, s) in aws_zones.iter_mut().zip(zones6.iter()) {
            z.ipv6 = Some(*s);
        }
    }
    ShootNetworking {
        provider: plan.provider,
        region: plan.region.clone(),
        families: fams.clone(),
        spec,
        status,
        ipv6_nodes: has6.then_some(n6),
        ipv6_pods: has6.then_some(p6),
        ipv6_services: has6.then_some(s6),
        ipv6_zone_subnets: if has6 { zones6 } else { Vec::new() },
        aws_zones,
        aws_infrastructure_dual_stack: aws && has6,
        aws_load_balancer_controller: aws && has6,
        aws_ipv4_runtime_dual_stack_nlb: aws && !has6,
        overlay_enabled: !has6,
    }
}

fn nth_ip(net: &IpNet, n: u128) -> IpAddr {
    match net {
        IpNet::V4(v) => IpAddr::V4(Ipv4Addr::from(
            u32::from(v.network()).wrapping_add(n as u32),
        )),
        IpNet::V6(v) => IpAddr::V6(Ipv6Addr::from(u128::from(v.network()).wrapping_add(n))),
    }
}

impl ShootNetworking {
    pub fn is_dual_stack(&self) -> bool {
        self.families.len() == 2
    }

    /// `spec.networking` as Gardener JSON.
    pub fn spec_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), json!(self.spec.kind));
        m.insert("nodes".into(), json!(self.spec.nodes.to_string()));
        m.insert("pods".into(), json!(self.spec.pods.to_string()));
        m.insert("services".into(), json!(self.spec.services.to_string()));
        if let Some(f) = &self.spec.ip_families {
            m.insert(
                "ipFamilies".into(),
                json!(f.iter().map(|x| x.as_str()).collect::<Vec<_>>()),
            );
        }
        if !self.overlay_enabled {
            m.insert(
                "providerConfig".into(),
                json!({"apiVersion": "calico.networking.extensions.gardener.cloud/v1alpha1", "kind": "NetworkConfig", "overlay": {"enabled": false}}),
            );
        }
        Value::Object(m)
    }

    /// `status.networking` as Gardener JSON.
    pub fn status_json(&self) -> Value {
        let s = |l: &Vec<IpNet>| l.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        json!({"nodes": s(&self.status.nodes), "pods": s(&self.status.pods), "services": s(&self.status.services)})
    }

    /// The runtime network in core's shape.
    pub fn to_network(&self) -> Network {
        Network {
            families: self.families.clone(),
            nodes: self.status.nodes.clone(),
            pods: self.status.pods.clone(),
            services: self.status.services.clone(),
            ipv6_zone_subnets: self
                .ipv6_zone_subnets
                .iter()
                .copied()
                .map(IpNet::V6)
                .collect(),
        }
    }

    /// The `kube-dns` ClusterIP of each family: the tenth address of the service range.
    pub fn kube_dns_ips(&self) -> Vec<IpAddr> {
        self.status.services.iter().map(|n| nth_ip(n, 10)).collect()
    }

    /// IPv6 ranges of node `index` in zone `zone` (`None` without IPv6).
    pub fn node_ipv6(&self, zone: usize, index: u32) -> Option<NodeIpv6> {
        if !self.families.contains(&Family::IPv6) {
            return None;
        }
        let subnet = *self
            .ipv6_zone_subnets
            .get(zone % self.ipv6_zone_subnets.len().max(1))?;
        let i = u128::from(index);
        Some(match self.provider {
            Provider::Gcp => {
                let vm = add6(subnet, (i + 1) << 32, 96);
                NodeIpv6 {
                    node_address: vm.network(),
                    node_range: vm,
                    pods: add6(vm, 1 << 16, 112),
                }
            }
            _ => {
                let prefix = add6(subnet, (i + 1) << 48, 80);
                let addr =
                    Ipv6Addr::from(u128::from(subnet.network()).wrapping_add((1u128 << 32) + i));
                NodeIpv6 {
                    node_address: addr,
                    node_range: prefix,
                    pods: prefix,
                }
            }
        })
    }
}

/// Labels KIM puts into `kyma-provisioning-info` (`runtime.Labels`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProvisioningInfo {
    pub global_account_id: String,
    pub subaccount_id: String,
    /// `environmentInstanceID` (the KEB instance ID).
    pub instance_id: String,
    pub instance_name: String,
}

fn infrastructure_config(plan: &ProvisionPlan, shoot: &ShootNetworking) -> Value {
    let nodes = plan.networking.nodes.to_string();
    match plan.provider {
        Provider::Aws => {
            let zones: Vec<Value> = shoot
                .aws_zones
                .iter()
                .map(|z| json!({"internal": z.internal.to_string(), "name": z.name, "public": z.public.to_string(), "workers": z.workers.to_string()}))
                .collect();
            let mut m = json!({
                "apiVersion": "aws.provider.extensions.gardener.cloud/v1alpha1",
                "kind": "InfrastructureConfig",
                "networks": {"vpc": {"cidr": nodes}, "zones": zones}
            });
            if shoot.aws_infrastructure_dual_stack {
                m["dualStack"] = json!({"enabled": true});
            }
            m
        }
        Provider::Gcp => {
            json!({"apiVersion": "gcp.provider.extensions.gardener.cloud/v1alpha1", "kind": "InfrastructureConfig", "networks": {"workers": nodes}})
        }
        Provider::Azure => {
            json!({"apiVersion": "azure.provider.extensions.gardener.cloud/v1alpha1", "kind": "InfrastructureConfig", "networks": {"vnet": {"cidr": nodes}, "workers": nodes}, "zoned": plan.zones.len() > 1})
        }
        Provider::Openstack => {
            json!({"apiVersion": "openstack.provider.extensions.gardener.cloud/v1alpha1", "kind": "InfrastructureConfig", "networks": {"workers": nodes}})
        }
        // gardener-extension-provider-alicloud: one VPC, a workers range per zone (here the
        // whole nodes range; KIM's zone split for Alicloud is not reproduced).
        Provider::Alicloud => {
            let zones: Vec<Value> = plan
                .zones
                .iter()
                .map(|z| json!({"name": z, "workers": nodes}))
                .collect();
            json!({"apiVersion": "alicloud.provider.extensions.gardener.cloud/v1alpha1", "kind": "InfrastructureConfig", "networks": {"vpc": {"cidr": nodes}, "zones": zones}})
        }
        // No public Gardener extension for GDCH: the shape of the GCP one (unverified).
        Provider::Gdch => {
            json!({"apiVersion": "gdch.provider.extensions.gardener.cloud/v1alpha1", "kind": "InfrastructureConfig", "networks": {"workers": nodes}})
        }
    }
}

/// KIM `skrdetails.ToKymaProvisioningInfo`, keys as `sigs.k8s.io/yaml` writes them.
pub fn provisioning_info_details(
    plan: &ProvisionPlan,
    shoot: &ShootNetworking,
    info: &ProvisioningInfo,
) -> Value {
    let mut m = Map::new();
    if !info.instance_id.is_empty() {
        m.insert("environmentInstanceID".into(), json!(info.instance_id));
    }
    if !info.global_account_id.is_empty() {
        m.insert("globalAccountID".into(), json!(info.global_account_id));
    }
    m.insert(
        "infrastructureConfig".into(),
        infrastructure_config(plan, shoot),
    );
    if !info.instance_name.is_empty() {
        m.insert("instanceName".into(), json!(info.instance_name));
    }
    let dual = shoot.families.len() == 2
        && shoot.families.contains(&Family::IPv4)
        && shoot.families.contains(&Family::IPv6);
    m.insert("networkDetails".into(), json!({"dualStackIPEnabled": dual}));
    if !info.subaccount_id.is_empty() {
        m.insert("subaccountID".into(), json!(info.subaccount_id));
    }
    let machine = plan
        .machine_type
        .clone()
        .or_else(|| {
            crate::plans::PLANS
                .iter()
                .find(|p| p.provider == plan.provider)
                .and_then(|p| p.default_machine_type.map(str::to_string))
        })
        .unwrap_or_default();
    m.insert(
        "workerPools".into(),
        json!({"kyma": {
            "autoScalerMax": plan.auto_scaler_max.unwrap_or(1),
            "autoScalerMin": plan.auto_scaler_min.unwrap_or(1),
            "haZones": plan.zones.len() >= 3,
            "machineType": machine,
            "name": "cpu-worker-0"
        }}),
    );
    Value::Object(m)
}

/// The `kyma-system/kyma-provisioning-info` ConfigMap KIM writes into the runtime: key `details`
/// holds YAML with `networkDetails.dualStackIPEnabled` (true iff the Shoot's families are exactly
/// IPv4 and IPv6), which the Kyma Istio module reads.
pub fn provisioning_info_configmap(
    plan: &ProvisionPlan,
    shoot: &ShootNetworking,
    info: &ProvisioningInfo,
) -> Value {
    let details = to_yaml(&provisioning_info_details(plan, shoot, info));
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "kyma-provisioning-info",
            "namespace": "kyma-system",
            "labels": {"reconciler.kyma-project.io/managed-by": "infrastructure-manager"}
        },
        "data": {"details": details}
    })
}

/// The `kube-system/kube-dns` Service of the runtime: Gardener's webhooks read its
/// `spec.ipFamilies` to decide whether the shoot is dual-stack.
pub fn kube_dns_service(shoot: &ShootNetworking) -> Value {
    let ips: Vec<String> = shoot.kube_dns_ips().iter().map(|i| i.to_string()).collect();
    let fams: Vec<&str> = shoot.families.iter().map(|f| f.as_str()).collect();
    let policy = if shoot.is_dual_stack() {
        "PreferDualStack"
    } else {
        "SingleStack"
    };
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "kube-dns",
            "namespace": "kube-system",
            "labels": {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"}
        },
        "spec": {
            "type": "ClusterIP",
            "clusterIP": ips[0],
            "clusterIPs": ips,
            "ipFamilies": fams,
            "ipFamilyPolicy": policy,
            "internalTrafficPolicy": "Cluster",
            "selector": {"k8s-app": "kube-dns"},
            "sessionAffinity": "None",
            "ports": [
                {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 8053},
                {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 8053},
                {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}
            ]
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Minimal YAML writer with go-yaml v2 conventions (sorted keys, lists at the key's indentation).

fn yaml_scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let lower = s.to_ascii_lowercase();
            let ambiguous = s.is_empty()
                || [
                    "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
                ]
                .contains(&lower.as_str())
                || s.parse::<f64>().is_ok()
                || s.starts_with(|c: char| " -?:,[]{}#&*!|>'\"%@`".contains(c))
                || s.ends_with(' ')
                || s.contains(": ")
                || s.contains(" #")
                || s.contains('\n');
            if ambiguous {
                serde_json::to_string(s).expect("string")
            } else {
                s.clone()
            }
        }
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(o) if o.is_empty() => "{}".into(),
        _ => unreachable!("not a scalar"),
    }
}

fn is_scalar(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => true,
    }
}

fn yaml_map(m: &Map<String, Value>, ind: usize, out: &mut String) {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    let pad = " ".repeat(ind);
    for k in keys {
        let v = &m[k];
        if is_scalar(v) {
            out.push_str(&format!("{pad}{k}: {}\n", yaml_scalar(v)));
            continue;
        }
        out.push_str(&format!("{pad}{k}:\n"));
        match v {
            Value::Object(o) => yaml_map(o, ind + 2, out),
            Value::Array(a) => yaml_list(a, ind, out),
            _ => {}
        }
    }
}

fn yaml_list(a: &[Value], ind: usize, out: &mut String) {
    let pad = " ".repeat(ind);
    for item in a {
        match item {
            Value::Object(o) if !o.is_empty() => {
                let mut s = String::new();
                yaml_map(o, ind + 2, &mut s);
                out.push_str(&pad);
                out.push_str("- ");
                out.push_str(&s[ind + 2..]);
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push_str(&format!("{pad}-\n"));
                yaml_list(inner, ind + 2, out);
            }
            other => out.push_str(&format!("{pad}- {}\n", yaml_scalar(other))),
        }
    }
}

/// Serializes a JSON object as YAML the way `sigs.k8s.io/yaml.Marshal` lays it out.
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) => yaml_map(m, 0, &mut out),
        Value::Array(a) => yaml_list(a, 0, &mut out),
        other => {
            out.push_str(&yaml_scalar(other));
            out.push('\n');
        }
    }
    out
}

impl From<&ShootNetworking> for Network {
    fn from(s: &ShootNetworking) -> Network {
        s.to_network()
    }
}
