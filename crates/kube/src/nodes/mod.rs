//! The worker nodes of a runtime, as Gardener, the cloud controller manager, kubelet and
//! kube-controller-manager's node IPAM leave them (see
//! shared/reference/kyma-and-gardener.md §2.3/§2.4 and the KIM zone layout in §1.6).
//!
//! - Names: AWS uses the EC2 private DNS name (`ip-10-250-0-10.eu-central-1.compute.internal`,
//!   `ec2.internal` in us-east-1); other providers use the Gardener machine name
//!   `shoot--<project>--<shoot>-<pool>-z<zone>-<machineset hash>-<machine hash>`.
//! - IPv4 node IPs: AWS zone `k` gets the workers subnet `nodes + k * /(p+2)` of size
//!   `/(p+3)` (KIM: nodes 10.250.0.0/16 → zone 1 workers 10.250.0.0/19, zone 2 10.250.64.0/19);
//!   AWS reserves the first four addresses of a subnet, so hosts start at `.4` and are spread
//!   by a hash of the runtime and index. GCP's node subnet is regional: VMs get addresses in
//!   order from `.2` (`.1` is the gateway).
//! - IPv4 pod CIDRs: kube-controller-manager's range allocator, node mask /24, in order.
//! - IPv6: AWS gives each node an address in its zone's /64 and a prefix-delegated /80 for
//!   pods; GCP gives each VM a /96 of the node subnet /64 (the node address is the /96's first
//!   address) and the cloud allocator a /112 pod range from that /96.
//! - Addresses list InternalIP per family in the runtime's family order, then InternalDNS (AWS
//!   only) and Hostname. Pod CIDRs list the primary family first.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv6Net};
use k8s_openapi::api::core::v1::{
    DaemonEndpoint, Node, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeSpec, NodeStatus,
    NodeSystemInfo,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use twinstack_core::ipam::Family;
use twinstack_core::runtime::{Network, Provider};

/// kubelet version every node reports (matches the API server's `/version`).
pub const KUBELET_VERSION: &str = "v1.32.4";
/// Garden Linux, the image Gardener workers boot (Kyma's default).
pub const OS_IMAGE: &str = "Garden Linux 1592.9";
pub const KERNEL_VERSION: &str = "6.6.84-cloud-amd64";
pub const CONTAINER_RUNTIME_VERSION: &str = "containerd://1.7.24";
/// Kyma's default worker pool name.
pub const WORKER_POOL: &str = "cpu-worker-0";
/// Gardener project of Kyma runtimes.
pub const GARDENER_PROJECT: &str = "kyma";
/// `maxPods` of a Gardener worker.
pub const MAX_PODS: u32 = 110;

/// Zones of a region, as the provider names them (Kyma spreads workers over three).
pub fn zones(provider: Provider, region: &str, count: usize) -> Vec<String> {
    let letters = ["a", "b", "c", "d"];
    letters
        .iter()
        .take(count.clamp(1, 4))
        .map(|l| match provider {
            Provider::Gcp => format!("{region}-{l}"),
            Provider::Azure => format!(
                "{region}-{}",
                letters.iter().position(|x| x == l).unwrap() + 1
            ),
            _ => format!("{region}{l}"),
        })
        .collect()
}

/// Default machine type of the Kyma plan on each provider.
pub fn machine_type(provider: Provider) -> &'static str {
    match provider {
        Provider::Aws => "m6i.large",
        Provider::Gcp => "n2-standard-2",
        Provider::Azure => "Standard_D2s_v5",
        Provider::Openstack => "g_c2_m8",
        Provider::Alicloud => "ecs.g9i.large",
        Provider::Gdch => "n3-standard-2-gdc",
    }
}

/// The nodes of a runtime. `now` stamps the conditions' heartbeat and transition times.
pub fn plan_nodes(
    runtime: &str,
    provider: Provider,
    region: &str,
    network: &Network,
    count: usize,
    now: jiff::Timestamp,
) -> Vec<Node> {
    let zone_count = if provider == Provider::Aws && !network.ipv6_zone_subnets.is_empty() {
        network.ipv6_zone_subnets.len().clamp(1, 4)
    } else {
        3
    };
    let zone_names = zones(provider, region, zone_count);
    let mut taken: Vec<Ipv4Addr> = Vec::new();
    (0..count)
        .map(|i| {
            let zone = i % zone_count;
            let in_zone = i / zone_count;
            let v4 = net_of(network, Family::IPv4)
                .map(|n| node_ipv4(provider, runtime, n, zone, i, &mut taken));
            let v6 = network
                .families
                .contains(&Family::IPv6)
                .then(|| node_ipv6(provider, network, runtime, zone, i, in_zone));
            build_node(
                runtime,
                provider,
                region,
                network,
                &zone_names[zone],
                zone,
                i,
                v4,
                v6,
                now,
            )
        })
        .collect()
}

fn net_of(network: &Network, family: Family) -> Option<IpNet> {
    network
        .families
        .iter()
        .position(|f| *f == family)
        .and_then(|i| network.nodes.get(i).copied())
}

fn node_ipv4(
    provider: Provider,
    runtime: &str,
    nodes: IpNet,
    zone: usize,
    index: usize,
    taken: &mut Vec<Ipv4Addr>,
) -> Ipv4Addr {
    let IpNet::V4(nodes) = nodes else {
        return Ipv4Addr::UNSPECIFIED;
    };
    let base = u32::from(nodes.network());
    let ip = if provider == Provider::Aws {
        let p = nodes.prefix_len();
        let (zone_step, worker_bits) = (1u32 << (32 - (p + 2).min(32)), 32 - (p + 3).min(32));
        let subnet = base.wrapping_add(zone_step.wrapping_mul(zone as u32));
        let hosts = (1u32 << worker_bits).saturating_sub(5).max(1);
        let mut off =
            (twinstack_core::hash::fnv1a64(&format!("{runtime}/{index}")) % hosts as u64) as u32;
        let mut tries = 0;
        loop {
            let cand = Ipv4Addr::from(subnet.wrapping_add(4 + off));
            // A full subnet (more nodes than addresses) repeats rather than loops forever.
            if !taken.contains(&cand) || tries >= hosts {
                break cand;
            }
            off = (off + 1) % hosts;
            tries += 1;
        }
    } else {
        Ipv4Addr::from(base.wrapping_add(2).wrapping_add(index as u32))
    };
    taken.push(ip);
    ip
}

/// (node IPv6 address, IPv6 pod CIDR).
fn node_ipv6(
    provider: Provider,
    network: &Network,
    runtime: &str,
    zone: usize,
    index: usize,
    in_zone: usize,
) -> (Ipv6Addr, Ipv6Net) {
    let subnet = match provider {
        Provider::Aws => network.ipv6_zone_subnets.get(zone),
        _ => network.ipv6_zone_subnets.first(),
    }
    .copied()
    .or_else(|| net_of(network, Family::IPv6));
    let base = match subnet {
        Some(IpNet::V6(n)) => u128::from(n.network()),
        _ => 0,
    };
    if provider == Provider::Aws {
        // Interface IDs with the top bit set never fall into the /80 pod prefixes below.
        let iid =
            (twinstack_core::hash::fnv1a64(&format!("{runtime}/v6/{index}")) | (1 << 63)) as u128;
        let pods = base + (((in_zone as u128) + 1) << 48);
        (
            Ipv6Addr::from(base + iid),
            Ipv6Net::new(Ipv6Addr::from(pods), 80).unwrap(),
        )
    } else {
        let vm = base + (((index as u128) + 1) << 32);
        (
            Ipv6Addr::from(vm),
            Ipv6Net::new(Ipv6Addr::from(vm + (1 << 16)), 112).unwrap(),
        )
    }
}

fn short_hash(s: &str) -> String {
    // Gardener's machine hashes use lower-case alphanumerics.
    const ALPHA: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut h = twinstack_core::hash::fnv1a64(s);
    (0..5)
        .map(|_| {
            let c = ALPHA[(h % ALPHA.len() as u64) as usize] as char;
            h /= ALPHA.len() as u64;
            c
        })
        .collect()
}

/// The node name the provider gives machine `index` in `zone`.
pub fn node_name(
    runtime: &str,
    provider: Provider,
    region: &str,
    zone: usize,
    index: usize,
    ipv4: Option<Ipv4Addr>,
) -> String {
    match (provider, ipv4) {
        (Provider::Aws, Some(ip)) => {
            let o = ip.octets();
            format!(
                "ip-{}-{}-{}-{}.{}",
                o[0],
                o[1],
                o[2],
                o[3],
                aws_domain(region)
            )
        }
        (Provider::Aws, None) => {
            let id = format!(
                "{:016x}",
                twinstack_core::hash::fnv1a64(&format!("{runtime}/i/{index}"))
            );
            format!("i-0{}.{}", &id[..16], aws_domain(region))
        }
        _ => format!(
            "shoot--{GARDENER_PROJECT}--{runtime}-{WORKER_POOL}-z{}-{}-{}",
            zone + 1,
            short_hash(&format!("{runtime}/z{zone}")),
            short_hash(&format!("{runtime}/m{index}"))
        ),
    }
}

fn aws_domain(region: &str) -> String {
    if region == "us-east-1" {
        "ec2.internal".into()
    } else {
        format!("{region}.compute.internal")
    }
}

/// Where a node sits and which addresses it was given: the inputs of [`build_node`].
struct Placement<'a> {
    zone_name: &'a str,
    index: usize,
    v4: Option<Ipv4Addr>,
    v6: Option<(Ipv6Addr, Ipv6Net)>,
}

#[allow(clippy::too_many_arguments)]
fn build_node(
    runtime: &str,
    provider: Provider,
    region: &str,
    network: &Network,
    zone_name: &str,
    zone: usize,
    index: usize,
    v4: Option<Ipv4Addr>,
    v6: Option<(Ipv6Addr, Ipv6Net)>,
    now: jiff::Timestamp,
) -> Node {
    let at = Placement {
        zone_name,
        index,
        v4,
        v6,
    };
    let name = node_name(runtime, provider, region, zone, index, v4);
    let (pod_cidrs, addresses) = pod_cidrs_and_addresses(provider, network, &at, &name);
    Node {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            labels: Some(node_labels(provider, region, zone_name, &name)),
            annotations: Some(strings(&[
                ("node.alpha.kubernetes.io/ttl", "0"),
                (
                    "volumes.kubernetes.io/controller-managed-attach-detach",
                    "true",
                ),
            ])),
            ..Default::default()
        },
        spec: Some(NodeSpec {
            pod_cidr: pod_cidrs.first().cloned(),
            pod_cidrs: Some(pod_cidrs),
            provider_id: Some(provider_id(runtime, provider, &at, &name)),
            ..Default::default()
        }),
        status: Some(NodeStatus {
            addresses: Some(addresses),
            capacity: Some(quantities(&[
                ("cpu", "2"),
                ("ephemeral-storage", "50620216Ki"),
                ("hugepages-1Gi", "0"),
                ("hugepages-2Mi", "0"),
                ("memory", "7936556Ki"),
                ("pods", "110"),
            ])),
            allocatable: Some(quantities(&[
                ("cpu", "1920m"),
                ("ephemeral-storage", "48294789041"),
                ("hugepages-1Gi", "0"),
                ("hugepages-2Mi", "0"),
                ("memory", "6633772Ki"),
                ("pods", "110"),
            ])),
            conditions: Some(healthy_conditions(now)),
            daemon_endpoints: Some(NodeDaemonEndpoints {
                kubelet_endpoint: Some(DaemonEndpoint { port: 10250 }),
            }),
            node_info: Some(system_info(provider, &name)),
            ..Default::default()
        }),
    }
}

/// `spec.podCIDRs` (a /24 of the IPv4 pod range per node, the node's own IPv6 prefix) and
/// `status.addresses`, in the runtime's family order, then the names.
fn pod_cidrs_and_addresses(
    provider: Provider,
    network: &Network,
    at: &Placement,
    name: &str,
) -> (Vec<String>, Vec<NodeAddress>) {
    let mut pod_cidrs: Vec<String> = Vec::new();
    let mut addresses: Vec<NodeAddress> = Vec::new();
    for f in &network.families {
        match f {
            Family::IPv4 => {
                if let Some(IpNet::V4(pods)) = net_of_pods(network, Family::IPv4) {
                    if let Some(c) = pods
                        .subnets(24.max(pods.prefix_len()))
                        .ok()
                        .and_then(|mut s| s.nth(at.index))
                    {
                        pod_cidrs.push(c.to_string());
                    }
                }
                if let Some(ip) = at.v4 {
                    addresses.push(address("InternalIP", &ip.to_string()));
                }
            }
            Family::IPv6 => {
                if let Some((ip, pods)) = at.v6 {
                    pod_cidrs.push(pods.to_string());
                    addresses.push(address("InternalIP", &ip.to_string()));
                }
            }
        }
    }
    if provider == Provider::Aws {
        addresses.push(address("InternalDNS", name));
    }
    addresses.push(address("Hostname", name));
    (pod_cidrs, addresses)
}

/// The labels kubelet, the cloud provider and Gardener's worker pool put on a node.
fn node_labels(
    provider: Provider,
    region: &str,
    zone_name: &str,
    name: &str,
) -> BTreeMap<String, String> {
    let ty = machine_type(provider);
    strings(&[
        ("beta.kubernetes.io/arch", "amd64"),
        ("beta.kubernetes.io/instance-type", ty),
        ("beta.kubernetes.io/os", "linux"),
        ("failure-domain.beta.kubernetes.io/region", region),
        ("failure-domain.beta.kubernetes.io/zone", zone_name),
        ("kubernetes.io/arch", "amd64"),
        ("kubernetes.io/hostname", name),
        ("kubernetes.io/os", "linux"),
        ("networking.gardener.cloud/node-local-dns-enabled", "false"),
        ("node.kubernetes.io/instance-type", ty),
        ("node.kubernetes.io/role", "node"),
        ("topology.kubernetes.io/region", region),
        ("topology.kubernetes.io/zone", zone_name),
        ("worker.garden.sapcloud.io/group", WORKER_POOL),
        ("worker.gardener.cloud/cri-name", "containerd"),
        ("worker.gardener.cloud/image-name", "gardenlinux"),
        ("worker.gardener.cloud/image-version", "1592.9.0"),
        (
            "worker.gardener.cloud/kubernetes-version",
            &KUBELET_VERSION[1..],
        ),
        ("worker.gardener.cloud/pool", WORKER_POOL),
        ("worker.gardener.cloud/system-components", "true"),
    ])
}

fn strings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn quantities(pairs: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
        .collect()
}

/// The conditions of a healthy Gardener node (Calico's `NetworkUnavailable`, kubelet's).
fn healthy_conditions(now: jiff::Timestamp) -> Vec<NodeCondition> {
    [
        (
            "NetworkUnavailable",
            "False",
            "CalicoIsUp",
            "Calico is running on this node",
        ),
        (
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        ),
        (
            "DiskPressure",
            "False",
            "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure",
        ),
        (
            "PIDPressure",
            "False",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available",
        ),
        (
            "Ready",
            "True",
            "KubeletReady",
            "kubelet is posting ready status",
        ),
    ]
    .into_iter()
    .map(|(ty, status, reason, message)| NodeCondition {
        type_: ty.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_heartbeat_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    })
    .collect()
}

/// `spec.providerID` as each cloud provider's node controller writes it.
fn provider_id(runtime: &str, provider: Provider, at: &Placement, name: &str) -> String {
    let zone_name = at.zone_name;
    match provider {
        Provider::Aws => format!(
            "aws:///{zone_name}/i-0{}",
            &format!(
                "{:016x}",
                twinstack_core::hash::fnv1a64(&format!("{runtime}/i/{}", at.index))
            )[..16]
        ),
        Provider::Gcp => format!("gce://sap-kyma-prod/{zone_name}/{name}"),
        Provider::Azure => format!("azure:///subscriptions/kyma/resourceGroups/shoot--{GARDENER_PROJECT}--{runtime}/providers/Microsoft.Compute/virtualMachines/{name}"),
        Provider::Openstack => format!(
            "openstack:///{:032x}",
            twinstack_core::hash::fnv1a64(name) as u128
        ),
        // Alibaba's cloud-controller-manager: `<region or zone>.<instance id>`.
        Provider::Alicloud => format!(
            "{zone_name}.i-{:016x}",
            twinstack_core::hash::fnv1a64(name)
        ),
        Provider::Gdch => format!("gdch:///{zone_name}/{name}"),
    }
}

/// `status.nodeInfo`: versions of the Gardener image, and IDs derived from the name.
fn system_info(provider: Provider, name: &str) -> NodeSystemInfo {
    let id = format!(
        "{:016x}{:016x}",
        twinstack_core::hash::fnv1a64(name),
        twinstack_core::hash::fnv1a64(&format!("{name}/boot"))
    );
    let uuid = |head: &str| {
        format!(
            "{head}-{}-{}-{}-{}",
            &id[8..12],
            &id[12..16],
            &id[16..20],
            &id[20..32]
        )
    };
    NodeSystemInfo {
        architecture: "amd64".into(),
        boot_id: uuid(&id[0..8]),
        container_runtime_version: CONTAINER_RUNTIME_VERSION.into(),
        kernel_version: KERNEL_VERSION.into(),
        kube_proxy_version: KUBELET_VERSION.into(),
        kubelet_version: KUBELET_VERSION.into(),
        machine_id: format!(
            "{:016x}{:016x}",
            twinstack_core::hash::fnv1a64(&format!("{name}/machine")),
            twinstack_core::hash::fnv1a64(name)
        ),
        operating_system: "linux".into(),
        os_image: OS_IMAGE.into(),
        // EC2 instances report a system UUID starting with "ec2".
        system_uuid: if provider == Provider::Aws {
            uuid(&format!("ec2{}", &id[3..8]))
        } else {
            uuid(&id[0..8])
        },
    }
}

fn net_of_pods(network: &Network, family: Family) -> Option<IpNet> {
    network
        .families
        .iter()
        .position(|f| *f == family)
        .and_then(|i| network.pods.get(i).copied())
}

fn address(ty: &str, addr: &str) -> NodeAddress {
    NodeAddress {
        type_: ty.into(),
        address: addr.into(),
    }
}

/// The node's pod CIDRs (`spec.podCIDRs`, primary first), parsed.
pub fn pod_cidrs(node: &Node) -> Vec<IpNet> {
    node.spec
        .as_ref()
        .and_then(|s| s.pod_cidrs.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|c| c.parse().ok())
        .collect()
}

/// The node's InternalIP addresses (its `hostIPs`), in its order.
pub fn internal_ips(node: &Node) -> Vec<IpAddr> {
    crate::pod::node_internal_ips(node)
}

#[cfg(test)]
mod tests;
